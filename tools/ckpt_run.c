/*
 * ckpt_run.c - `ckpt-run [--] PROGRAM [ARGS...]`: run a program with
 * libckpt preloaded.
 *
 * It finds libckpt.so relative to its own executable, so a build tree and
 * an installed tree both work without configuration:
 *   build/bin/ckpt-run    -> build/libckpt.so       (<dir>/../libckpt.so)
 *   PREFIX/bin/ckpt-run   -> PREFIX/lib/libckpt.so  (<dir>/../lib/libckpt.so)
 * then puts its absolute path first in LD_PRELOAD (keeping what was
 * there) and execs the program.  The library path is absolute because the
 * program may change directory before it execs children, which inherit
 * LD_PRELOAD.
 *
 * --pidns: the program runs as pid 2 of a new user+pid namespace that
 * maps only our own uid and gid (to themselves, so files keep their
 * owners and the program sees its real ids), under a minimal init (pid
 * 1), with the namespace's own /proc.  An unprivileged ckpt-restart can
 * then recreate both the namespace and the pid (docs/USAGE.md).
 *
 *   ckpt-run (outside)           pid 1: init               pid 2
 *   unshare USER|PID, map ids -> unshare NS, private   -> exec PROGRAM,
 *   wait, forward signals,       mounts, mount proc,      CKPT_PIDNS=1
 *   exit with its status         fork, forward, reap
 *
 * --ipcns: the same, with an IPC namespace of its own too (unshare
 * USER|PID|IPC; --ipcns implies --pidns: an unprivileged user needs the
 * user namespace to make one, and the pid namespace comes with it).  Its
 * SysV objects and POSIX message queues are then the program's (and its
 * children's) alone: every id in it is theirs, a checkpoint saves every
 * object of it, and ckpt-restart makes a new one where it recreates each
 * object with its id, without privilege.  The program gets CKPT_IPCNS=1.
 *
 * Exit status: the program's own (128+N when signal N ended it under
 * --pidns); 1 for a usage error or when libckpt.so cannot be found; 127
 * when the program cannot be executed or the namespace cannot be made.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kernel-assist/assist.h"

#define RUN_EXIT_START	127	/* the program could not be started */

static const char *const run_candidates[] = {
	"/../libckpt.so",
	"/../lib/libckpt.so",
};

/* --help: on stdout, exit 0; a usage error: on stderr, exit 1. */
static void run_usage_to(FILE *out, int code)
{
	fprintf(out, "usage: ckpt-run [--help] [--pidns] [--ipcns] [--] PROGRAM [ARGS...]\n"
		"  --pidns  run PROGRAM as pid 2 of its own user+pid namespace, so that\n"
		"           ckpt-restart needs no privilege to restore its pid\n"
		"  --ipcns  --pidns, and an IPC namespace of its own: its SysV IPC ids and\n"
		"           POSIX message queues are its alone, and ckpt-restart makes them\n"
		"           again with their ids without privilege\n");
	exit(code);
}

static void run_usage(void)
{
	run_usage_to(stderr, 1);
}

/* The absolute path of libckpt.so into buf, or -1 (message printed). */
static int run_find_lib(char *buf, size_t len)
{
	char exe[PATH_MAX], cand[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n < 0) {
		fprintf(stderr, "ckpt-run: cannot read /proc/self/exe: %s\n",
			strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	for (size_t i = 0; i < sizeof(run_candidates) / sizeof(run_candidates[0]); i++) {
		struct stat st;

		if (snprintf(cand, sizeof(cand), "%s%s", exe, run_candidates[i]) >=
		    (int)sizeof(cand))
			continue;
		if (stat(cand, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!realpath(cand, buf) || strlen(buf) >= len)
			continue;
		/* LD_PRELOAD splits on both; such a path cannot be preloaded. */
		if (strpbrk(buf, ": ")) {
			fprintf(stderr, "ckpt-run: cannot preload %s: the path "
				"contains ':' or ' '\n", buf);
			return -1;
		}
		return 0;
	}
	fprintf(stderr, "ckpt-run: cannot find libckpt.so (looked in %s/.. and "
		"%s/../lib)\n", exe, exe);
	return -1;
}

/* LD_PRELOAD with lib first; the old value follows unless lib leads it. */
static int run_set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	size_t llen = strlen(lib);
	char *val;
	int rc;

	if (!old || !*old)
		return setenv("LD_PRELOAD", lib, 1);
	if (!strncmp(old, lib, llen) && (old[llen] == '\0' || old[llen] == ':' ||
					 old[llen] == ' '))
		return 0;
	val = malloc(llen + 1 + strlen(old) + 1);
	if (!val)
		return -1;
	sprintf(val, "%s:%s", lib, old);
	rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	return rc;
}

/* ---- --pidns ---- */

/*
 * The signals a user sends to a job to stop or poke it.  Both waiting
 * processes (ckpt-run outside, init inside) pass them on, so `kill PID`
 * of either reaches the program.  restart/restart_pidns.c has the same
 * rules for a restarted program.
 */
/* A wait status as an exit status: 128+N for signal N. */
static int run_status(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* pid 1 of the namespace: starts the program as pid 2 and waits for it. */
static int run_init(char **argv, int ipcns)
{
	pid_t prog;
	int r;

	/* Outlive ckpt-run, and the job would run on with no one to wait for it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((r = assist_ns_mount_proc()) < 0) {
		fprintf(stderr, "ckpt-run: --pidns: cannot mount /proc for the new pid "
			"namespace: %s\n", strerror(-r));
		return RUN_EXIT_START;
	}
	prog = fork();
	if (prog < 0) {
		fprintf(stderr, "ckpt-run: --pidns: fork: %s\n", strerror(errno));
		return RUN_EXIT_START;
	}
	if (prog == 0) {
		setenv("CKPT_PIDNS", "1", 1);
		if (ipcns)
			setenv("CKPT_IPCNS", "1", 1);
		execvp(argv[0], argv);
		fprintf(stderr, "ckpt-run: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(RUN_EXIT_START);
	}
	if ((r = assist_ns_init_wait(prog)) < 0) {
		fprintf(stderr, "ckpt-run: --pidns: waitpid: %s\n", strerror(-r));
		return RUN_EXIT_START;
	}
	return r;
}

static int run_pidns(char **argv, int ipcns)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t init;
	int status, r;

	if (unshare(CLONE_NEWUSER | CLONE_NEWPID | (ipcns ? CLONE_NEWIPC : 0)) < 0) {
		fprintf(stderr, "ckpt-run: %s: cannot create a %s namespace: %s%s\n",
			ipcns ? "--ipcns" : "--pidns", ipcns ? "user, pid and IPC" : "user and pid",
			strerror(errno), errno == EPERM || errno == ENOSPC ?
			" (unprivileged user namespaces are off here: see sysctl "
			"user.max_user_namespaces)" : "");
		return RUN_EXIT_START;
	}
	if ((r = assist_ns_map_ids(uid, gid)) < 0) {
		fprintf(stderr, "ckpt-run: --pidns: cannot map uid %u and gid %u into the "
			"namespace: %s\n", (unsigned)uid, (unsigned)gid, strerror(-r));
		return RUN_EXIT_START;
	}
	fflush(NULL);
	init = fork();
	if (init < 0) {
		fprintf(stderr, "ckpt-run: --pidns: fork: %s\n", strerror(errno));
		return RUN_EXIT_START;
	}
	if (init == 0)
		_exit(run_init(argv, ipcns));
	assist_ns_forward_to(init);
	while (waitpid(init, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("ckpt-run: --pidns: waitpid");
			return RUN_EXIT_START;
		}
	}
	return run_status(status);
}

int main(int argc, char **argv)
{
	char lib[PATH_MAX];
	int i = 1, pidns = 0, ipcns = 0;

	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--pidns"))
			pidns = 1;
		else if (!strcmp(argv[i], "--ipcns"))
			pidns = ipcns = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			run_usage_to(stdout, 0);
		else
			break;
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	else if (i < argc && argv[i][0] == '-')
		run_usage();
	if (i >= argc)
		run_usage();

	if (run_find_lib(lib, sizeof(lib)) < 0)
		return 1;
	if (run_set_preload(lib) < 0) {
		fprintf(stderr, "ckpt-run: cannot set LD_PRELOAD: %s\n", strerror(errno));
		return 1;
	}
	if (pidns)
		return run_pidns(argv + i, ipcns);
	execvp(argv[i], argv + i);
	fprintf(stderr, "ckpt-run: cannot run %s: %s\n", argv[i], strerror(errno));
	return RUN_EXIT_START;
}
