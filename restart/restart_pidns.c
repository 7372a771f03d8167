/*
 * restart_pidns.c - restarting an IMG_F_PIDNS image (one taken under
 * `ckpt-run --pidns`) in a new user+pid namespace, where restoring its
 * pid needs no privilege: the namespace's owner has every capability
 * over it, clone3 set_tid included.
 *
 *   ckpt-restart (outside)          pid 1 (inside)            pid N (inside)
 *   unshare USER|PID, map ids  ->   unshare NS, private   ->  the usual
 *   wait, forward signals,          mounts, mount proc;       restart
 *   exit with its status            check the pid, fork;
 *                                   forward, reap, exit with
 *                                   N's status
 *
 * The namespace is the one ckpt-run made: our uid and gid mapped to
 * themselves and nothing else, setgroups denied, the namespace's own
 * /proc.  So the restarted program sees the ids, pid, parent (1) and
 * /proc it had.  The image fd and the reader's state cross both forks.
 * kernel-assist/assist_ns.c builds it, here and in ckpt-run.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kernel-assist/assist.h"
#include "restart/rst.h"

/*
 * Root restarting a user's image becomes that user first: the namespace
 * is then the user's, as ckpt-run made it, and they can checkpoint the
 * restarted copy again.  Which user (restart_trust.c): the one the image
 * records when it is trusted, else its file's owner, refused when the
 * image records other ids.  Its groups come along (the namespace denies
 * setgroups, but keeps those it is made with: they show as 65534 inside).
 * (A map of several ids would have to be written from outside the
 * namespace; one's own id needs no helper.)
 */
static int ns_become_owner(struct rst_state *s)
{
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int n, r;

	if ((r = rst_trust_ns_ids(s, &uid, &gid, &groups, &n)))
		return r;
	if (geteuid() == 0) {
		if (setgroups(n, groups) < 0 || setresgid(gid, gid, gid) < 0)
			goto fail;
		if (uid != 0 && setresuid(uid, uid, uid) < 0)
			goto fail;
		/* Changing ids made us undumpable: /proc/self/uid_map would be root's. */
		prctl(PR_SET_DUMPABLE, 1);
		return 0;
	}
	if (geteuid() != uid)
		return rst_problem(s, RST_EXIT_ENV, "the image belongs to uid %u; restart it as "
				   "that user or as root", uid);
	/* Only our own gid can be mapped, and the restorer cannot switch to another. */
	if (getegid() != gid)
		return rst_problem(s, RST_EXIT_ENV, "the image's gid is %u, ours %u: restart it "
				   "with that group (sg, newgrp) or as root", gid, getegid());
	return 0;
fail:
	return rst_problem(s, RST_EXIT_ENV, "cannot become uid %u gid %u to make the image's "
			   "namespace: %s", uid, gid, strerror(errno));
}

pid_t rst_pidns_enter(struct rst_state *s)
{
	pid_t init;
	int r;
	uid_t uid;
	gid_t gid;

	if (ns_become_owner(s))
		return -EPERM;
	uid = geteuid();
	gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0) {
		int e = errno;

		rst_problem(s, RST_EXIT_ENV, "the image ran in a pid namespace of its own "
			    "(ckpt-run --pidns), and a user and pid namespace cannot be made "
			    "here: %s%s", strerror(e), e == EPERM || e == ENOSPC ?
			    " (unprivileged user namespaces are off: see sysctl "
			    "user.max_user_namespaces)" : "");
		return -e;
	}
	if ((r = assist_ns_map_ids(uid, gid)) < 0) {
		rst_problem(s, RST_EXIT_ENV, "cannot map uid %u and gid %u into the new user "
			    "namespace: %s", (unsigned)uid, (unsigned)gid, strerror(-r));
		return r;
	}
	fflush(NULL);
	init = fork();
	if (init < 0) {
		int e = errno;

		rst_error(s, "cannot start the new pid namespace: fork: %s", strerror(e));
		return -e;
	}
	if (init > 0)
		return init;
	/* Outlive ckpt-restart, and the process would run on with no one to wait for it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((r = assist_ns_mount_proc()) < 0) {
		rst_problem(s, RST_EXIT_ENV, "cannot mount /proc for the new pid namespace: %s",
			    strerror(-r));
		_exit(RST_EXIT_ENV);
	}
	return 0;
}

int rst_pidns_init(pid_t child)
{
	int r = assist_ns_init_wait(child);

	if (r < 0) {
		fprintf(stderr, "ckpt-restart: waitpid: %s\n", strerror(-r));
		return RST_EXIT_ENV;
	}
	return r;
}
