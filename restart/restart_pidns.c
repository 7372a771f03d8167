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
 * tools/ckpt_run.c builds the same namespace for the first run.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "restart/rst.h"

/* What ckpt-run --pidns forwards too (tools/ckpt_run.c). */
static const int ns_fwd_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
static pid_t ns_fwd_to;

static void ns_forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* A terminal's signal (SI_KERNEL) reached the program already. */
	if (si->si_code != SI_KERNEL && ns_fwd_to > 0)
		kill(ns_fwd_to, sig);
}

/* "VALUE" into /proc/self/NAME; 0 or -errno. */
static int ns_write_proc(const char *name, const char *val)
{
	char path[64];
	ssize_t n, len = strlen(val);
	int fd, e;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	e = n == len ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return e;
}

/*
 * Root restarting a user's image becomes that user first: the namespace
 * is then the user's, as ckpt-run made it, and they can checkpoint the
 * restarted copy again.  (A map of several ids would have to be written
 * from outside the namespace; one's own id needs no helper.)
 */
static int ns_become_owner(struct rst_state *s)
{
	uid_t uid = s->proc.uid;
	gid_t gid = s->proc.gid;

	if (geteuid() == 0) {
		if ((uid != 0 || gid != getegid()) &&
		    (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0))
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

/*
 * Our ids (from before the unshare: inside they read 65534 until mapped)
 * mapped to themselves, setgroups denied (the kernel insists).
 */
static int ns_map_ids(struct rst_state *s, uid_t uid, gid_t gid)
{
	char map[64];
	int r;

	if ((r = ns_write_proc("setgroups", "deny")) < 0 && r != -ENOENT)
		goto fail;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if ((r = ns_write_proc("uid_map", map)) < 0)
		goto fail;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if ((r = ns_write_proc("gid_map", map)) < 0)
		goto fail;
	return 0;
fail:
	return rst_problem(s, RST_EXIT_ENV, "cannot map uid %u and gid %u into the new user "
			   "namespace: %s", (unsigned)uid, (unsigned)gid, strerror(-r));
}

/* pid 1's own mount namespace, mounts private, the new namespace's /proc. */
static int ns_mount_proc(struct rst_state *s)
{
	if (unshare(CLONE_NEWNS) < 0)
		return rst_problem(s, RST_EXIT_ENV, "cannot make a mount namespace: %s",
				   strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return rst_problem(s, RST_EXIT_ENV, "cannot mount /proc for the new pid "
				   "namespace: %s", strerror(errno));
	return 0;
}

pid_t rst_pidns_enter(struct rst_state *s)
{
	pid_t init;
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
	if (ns_map_ids(s, uid, gid))
		return -EPERM;
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
	if (ns_mount_proc(s))
		_exit(RST_EXIT_ENV);
	return 0;
}

int rst_pidns_init(pid_t child)
{
	struct sigaction sa = { .sa_sigaction = ns_forward, .sa_flags = SA_SIGINFO | SA_RESTART };
	int status;
	pid_t p;

	/*
	 * A signal before this is lost, not fatal: the kernel drops the
	 * default action for a namespace's init.
	 */
	ns_fwd_to = child;
	for (size_t i = 0; i < sizeof(ns_fwd_sigs) / sizeof(ns_fwd_sigs[0]); i++)
		sigaction(ns_fwd_sigs[i], &sa, NULL);
	/* Orphans of the restarted process are ours to reap too. */
	for (;;) {
		p = waitpid(-1, &status, 0);
		if (p == child)
			return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
		if (p < 0 && errno != EINTR) {
			perror("ckpt-restart: waitpid");
			return RST_EXIT_ENV;
		}
	}
}
