/*
 * assist_ns.c - the user+pid namespace of `ckpt-run --pidns`, made the
 * same way by ckpt-run (first start) and ckpt-restart (every restart), so
 * the restarted process finds what it left: pid 2 under an init, its own
 * uid and gid mapped to themselves, the namespace's own /proc.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kernel-assist/assist.h"

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

int assist_ns_map_ids(uid_t uid, gid_t gid)
{
	char map[64];
	int r;

	/* The kernel insists: a mapped group could otherwise be dropped. */
	if ((r = ns_write_proc("setgroups", "deny")) < 0 && r != -ENOENT)
		return r;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if ((r = ns_write_proc("uid_map", map)) < 0)
		return r;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return ns_write_proc("gid_map", map);
}

int assist_ns_mount_proc(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

/* What an init of ours passes on to the program. */
static const int ns_fwd_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
static pid_t ns_fwd_to;

static void ns_forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* A terminal's signal (SI_KERNEL) reached the program already. */
	if (si->si_code != SI_KERNEL && ns_fwd_to > 0)
		kill(ns_fwd_to, sig);
}

void assist_ns_forward_to(pid_t pid)
{
	struct sigaction sa = { .sa_sigaction = ns_forward, .sa_flags = SA_SIGINFO | SA_RESTART };

	ns_fwd_to = pid;
	for (size_t i = 0; i < sizeof(ns_fwd_sigs) / sizeof(ns_fwd_sigs[0]); i++)
		sigaction(ns_fwd_sigs[i], &sa, NULL);
}

int assist_ns_init_wait(pid_t child)
{
	int status;
	pid_t p;

	/*
	 * A signal before this is lost, not fatal: the kernel drops the
	 * default action for a namespace's init.  Orphans are ours to reap.
	 */
	assist_ns_forward_to(child);
	for (;;) {
		p = waitpid(-1, &status, 0);
		if (p == child)
			return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
		if (p < 0 && errno != EINTR)
			return -errno;
	}
}
