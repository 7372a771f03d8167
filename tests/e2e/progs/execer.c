/*
 * execer.c - runs a program (tests/e2e/progs/execprobe.c) in one of the
 * ways a process can, with one kind of environment, for t_exec.sh.  Runs
 * under the shim: it is the tree's root.
 *
 *   execer HOW ENV PROG ARGS...
 * HOW, each in a child made by fork() unless said:
 *   execve execv execvp execvpe execl execle execlp fexecve execveat
 *		that exec function (the p ones search PATH for PROG's file
 *		name: PROG's directory is put first in PATH)
 *   posix_spawn posix_spawnp   from the process itself
 *   spawnmask  posix_spawn with POSIX_SPAWN_SETSIGMASK: every signal blocked
 *   system popen               from the process itself ("PROG ARGS" to
 *		/bin/sh; popen's output is copied to stdout)
 *   vfork clone daemon         that call makes the child (clone: without
 *		CLONE_VM; daemon: in a child, which daemon() leaves), which
 *		execve's PROG
 *   clone-noexec   clone() without CLONE_VM makes a child that does not
 *		exec, and behaves as orphan-noexec's grandchild (but is a child)
 *   self       this process execve's PROG (no child: the root execs)
 *   orphan     a child forks a grandchild and exits, the grandchild
 *		execve's PROG: a member of the tree that is not a child of the
 *		root (whose checkpoint a child would still refuse until trees
 *		can be saved)
 *   orphan-noexec   the same grandchild does not exec: it prints
 *		"CHILD pid=P", then waits as `execprobe wait` does (ARGS: wait
 *		TAG GOFILE), with this program's SIGUSR1 handler
 * ENV, what the exec gets:
 *   inherit    environ as it is (the functions without envp always get it)
 *   custom     PATH, EXEC_TEST=1 and nothing else (no LD_PRELOAD, no CKPT_*)
 *   clearenv   clearenv(), then PATH and EXEC_TEST=1 set again, then environ
 *   null       a NULL envp
 *   explicit   custom plus LD_PRELOAD=libm.so.6 and CKPT_CTL_SIGNAL=SIGRTMIN+3
 * Prints "EXECER pid=P" first, "EXECER-DONE how=HOW status=S" when its
 * child ended (S: the wait status, or the function's error), "APP SIGUSR1
 * pid=P" when its own SIGUSR1 handler runs.  With PROG's ARGS "wait TAG
 * GOFILE" it stays until GOFILE exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *const *exec_env;
static char *prog, **pargv;	/* PROG and its argv (argv[0] = PROG) */

static void on_usr1(int sig)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "APP SIGUSR1 pid=%d\n", (int)getpid());

	(void)sig;
	if (write(1, line, n) < 0)
		_exit(3);
}

static void wait_file(const char *path)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 12000 && access(path, F_OK) < 0; i++)
		nanosleep(&tick, NULL);
}

static void failed(const char *how, int err)
{
	dprintf(1, "EXEC-FAILED how=%s errno=%s\n", how, strerror(err));
	_exit(127);
}

/* The exec function HOW, in the calling process; returns only on failure. */
static void do_exec(const char *how)
{
	const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	char *a[4] = { NULL, NULL, NULL, NULL };

	for (int i = 0; i < 3 && pargv[i + 1]; i++)
		a[i] = pargv[i + 1];
	if (!strcmp(how, "execve"))
		execve(prog, pargv, exec_env);
	else if (!strcmp(how, "execv"))
		execv(prog, pargv);
	else if (!strcmp(how, "execvp"))
		execvp(base, pargv);
	else if (!strcmp(how, "execvpe"))
		execvpe(base, pargv, exec_env);
	else if (!strcmp(how, "execl"))
		execl(prog, prog, a[0], a[1], a[2], (char *)NULL);
	else if (!strcmp(how, "execle") && !a[2])	/* envp right after the NULL */
		execle(prog, prog, a[0], a[1], (char *)NULL, exec_env);
	else if (!strcmp(how, "execle"))
		execle(prog, prog, a[0], a[1], a[2], (char *)NULL, exec_env);
	else if (!strcmp(how, "execlp"))
		execlp(base, prog, a[0], a[1], a[2], (char *)NULL);
	else if (!strcmp(how, "fexecve")) {
		int fd = open(prog, O_RDONLY | O_CLOEXEC);

		fexecve(fd, pargv, exec_env);
	} else if (!strcmp(how, "execveat"))
		execveat(AT_FDCWD, prog, pargv, exec_env, 0);
	else
		execve(prog, pargv, exec_env);
	failed(how, errno);
}

static const char *volatile go;	/* PROG's GOFILE ("wait TAG GOFILE"), or NULL */

static int clone_child(void *how)
{
	if (!strcmp(how, "noexec")) {
		dprintf(1, "CHILD pid=%d\n", (int)getpid());
		wait_file(go ? go : "/");
		return 0;
	}
	do_exec(how);
	return 127;
}

static void done(const char *how, int status)
{
	dprintf(1, "EXECER-DONE how=%s status=%d\n", how, status);
}

static void reap(const char *how, pid_t pid)
{
	int st = -1;

	if (pid < 0) {
		dprintf(1, "EXECER-DONE how=%s error=%s\n", how, strerror(errno));
		return;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	done(how, st);
}

/* "PROG ARGS..." for /bin/sh (the tests' paths and arguments need no quoting). */
static void command(char *buf, size_t len)
{
	size_t n = 0;

	for (int i = 0; pargv[i]; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? " " : "", pargv[i]);
}

static void set_env(const char *mode, const char *dir)
{
	static char path[4200];
	static char *custom[] = { path, "EXEC_TEST=1", NULL, NULL, NULL };

	snprintf(path, sizeof(path), "PATH=%s:/usr/bin:/bin", dir);
	putenv(strdup(path));		/* the PATH the p functions search */
	exec_env = environ;
	if (!strcmp(mode, "custom")) {
		exec_env = custom;
	} else if (!strcmp(mode, "explicit")) {
		custom[2] = "LD_PRELOAD=libm.so.6";
		custom[3] = "CKPT_CTL_SIGNAL=SIGRTMIN+3";
		exec_env = custom;
	} else if (!strcmp(mode, "null")) {
		exec_env = NULL;
	} else if (!strcmp(mode, "clearenv")) {
		clearenv();
		putenv(path);
		putenv("EXEC_TEST=1");
		exec_env = environ;
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	const char *how;
	char dir[4096], cmd[8192];
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: execer HOW ENV PROG ARGS...\n");
		return 1;
	}
	how = argv[1];
	prog = argv[3];
	pargv = argv + 3;
	if (argc == 7 && !strcmp(argv[4], "wait"))
		go = argv[6];
	snprintf(dir, sizeof(dir), "%s", prog);
	*(strrchr(dir, '/') ? strrchr(dir, '/') : dir) = '\0';
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	dprintf(1, "EXECER pid=%d\n", (int)getpid());
	set_env(argv[2], dir);

	if (!strcmp(how, "self")) {
		do_exec("execve");
	} else if (!strcmp(how, "spawnmask")) {
		posix_spawnattr_t attr;
		sigset_t all;
		int r;

		sigfillset(&all);
		posix_spawnattr_init(&attr);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
		posix_spawnattr_setsigmask(&attr, &all);
		r = posix_spawn(&pid, prog, NULL, &attr, pargv, exec_env);
		if (r)
			dprintf(1, "EXECER-DONE how=%s error=%s\n", how, strerror(r));
		else
			reap(how, pid);
	} else if (!strcmp(how, "posix_spawn") || !strcmp(how, "posix_spawnp")) {
		const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
		int r = how[11] == 'p' ? posix_spawnp(&pid, base, NULL, NULL, pargv, exec_env)
				       : posix_spawn(&pid, prog, NULL, NULL, pargv, exec_env);

		if (r)
			dprintf(1, "EXECER-DONE how=%s error=%s\n", how, strerror(r));
		else
			reap(how, pid);
	} else if (!strcmp(how, "system")) {
		command(cmd, sizeof(cmd));
		done(how, system(cmd));
	} else if (!strcmp(how, "popen")) {
		char line[4096];
		FILE *f;

		command(cmd, sizeof(cmd));
		f = popen(cmd, "r");
		if (!f) {
			dprintf(1, "EXECER-DONE how=popen error=%s\n", strerror(errno));
		} else {
			while (fgets(line, sizeof(line), f))
				dprintf(1, "%s", line);
			done(how, pclose(f));
		}
	} else if (!strcmp(how, "vfork")) {
		pid = vfork();
		if (pid == 0) {
			execve(prog, pargv, exec_env);
			_exit(127);
		}
		reap(how, pid);
	} else if (!strcmp(how, "clone")) {
		static char stack[256 * 1024] __attribute__((aligned(16)));

		reap(how, clone(clone_child, stack + sizeof(stack), SIGCHLD, "execve"));
	} else if (!strcmp(how, "clone-noexec")) {
		static char stack[256 * 1024] __attribute__((aligned(16)));

		reap(how, clone(clone_child, stack + sizeof(stack), SIGCHLD, "noexec"));
	} else if (!strcmp(how, "daemon") || !strncmp(how, "orphan", 6)) {
		pid = fork();
		if (pid == 0) {
			if (!strcmp(how, "daemon")) {
				if (daemon(1, 1) < 0)
					failed(how, errno);
			} else if (fork() != 0) {
				_exit(0);		/* the grandchild is an orphan */
			}
			if (!strcmp(how, "orphan-noexec")) {
				dprintf(1, "CHILD pid=%d\n", (int)getpid());
				wait_file(go ? go : "/");
				_exit(0);
			}
			do_exec("execve");
		}
		reap(how, pid);
	} else {
		pid = fork();
		if (pid == 0)
			do_exec(how);
		reap(how, pid);
	}
	if (go)
		wait_file(go);
	return 0;
}
