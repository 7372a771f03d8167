/*
 * execprobe.c - a program NOT linked with libckpt (Makefile), executed by
 * tests/e2e/progs/execer.c in every way a program can be: it says whether
 * libckpt reached it (t_exec.sh).  Also built static (execprobe-static),
 * which no LD_PRELOAD can reach.
 *
 *   execprobe report TAG
 *	prints one line and exits 0:
 *	"PROBE tag=TAG pid=P lib=L api=A ctl=C root=R extra=X mask=M preload=LD"
 *	L: 1 when libckpt.so is mapped (/proc/self/maps); A: 1 when
 *	libckpt's exported ckpt_last_error_v1, found with dlsym, answers
 *	"no error"; C, R, X, LD: CKPT_CTL_SIGNAL, CKPT_TREE_ROOT, EXEC_TEST
 *	and LD_PRELOAD, "-" when unset; M: the blocked signals as
 *	sigprocmask() shows them (hex, signal n is bit n-1).
 *   execprobe wait TAG GOFILE
 *	the same line, then waits until GOFILE exists (polled, 120 s at
 *	most), prints "PROBE-DONE tag=TAG pid=P" and exits 0.  SIGUSR1 has
 *	a handler that prints "APP SIGUSR1 pid=P" (the application's own,
 *	which libckpt takes over where CKPT_SIGNAL=USR1 is a trigger).
 *   execprobe errors DIR
 *	calls each exec function on DIR/missing (no such file) and
 *	DIR/noexec (made here, mode 0644) and prints "NAME rc=R errno=E",
 *	one a line: t_exec.sh compares them with and without libckpt.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifndef PROBE_STATIC
#include <dlfcn.h>
#endif

static int mapped(const char *name)
{
	char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY), found = 0;
	ssize_t n, have = 0;

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += n;
	close(fd);
	buf[have] = '\0';
	found = strstr(buf, name) != NULL;
	return found;
}

static int api_answers(void)
{
#ifdef PROBE_STATIC
	return 0;
#else
	const char *(*last)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "ckpt_last_error_v1");

	return last && !strcmp(last(), "no error");
#endif
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "-";
}

static void report(const char *tag)
{
	unsigned long mask = 0;
	sigset_t view;

	sigprocmask(SIG_BLOCK, NULL, &view);
	for (int sig = 1; sig <= 64; sig++)
		if (sigismember(&view, sig) == 1)
			mask |= 1ul << (sig - 1);
	dprintf(1, "PROBE tag=%s pid=%d lib=%d api=%d ctl=%s root=%s extra=%s mask=%lx preload=%s\n",
		tag, (int)getpid(), mapped("/libckpt.so"), api_answers(), env("CKPT_CTL_SIGNAL"),
		env("CKPT_TREE_ROOT"), env("EXEC_TEST"), mask, env("LD_PRELOAD"));
}

static void on_usr1(int sig)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "APP SIGUSR1 pid=%d\n", (int)getpid());

	(void)sig;
	if (write(1, line, n) < 0)
		_exit(3);
}

static int wait_go(const char *tag, const char *go)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	report(tag);
	for (int i = 0; i < 12000 && access(go, F_OK) < 0; i++)
		nanosleep(&tick, NULL);
	dprintf(1, "PROBE-DONE tag=%s pid=%d\n", tag, (int)getpid());
	return 0;
}

/* ---- errors (not in the static build: musl has no execveat) ---- */
#ifndef PROBE_STATIC

static void said(const char *name, int rc, int err)
{
	dprintf(1, "%s rc=%d errno=%s\n", name, rc, err ? strerror(err) : "0");
}

#define TRY(name, call)								\
	do {									\
		int rc_;							\
		errno = 0;							\
		rc_ = (call);							\
		said(name, rc_, errno);						\
	} while (0)

static int errors(const char *dir)
{
	char missing[4096], noexec[4096], path[4200];
	char *argv[] = { "x", NULL }, *envp[] = { "A=1", NULL };
	char *big = malloc(200 * 1024 + 1);
	char *bigv[] = { "x", big, NULL };
	pid_t pid;
	int fd;

	snprintf(missing, sizeof(missing), "%s/missing", dir);
	snprintf(noexec, sizeof(noexec), "%s/noexec", dir);
	fd = open(noexec, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || !big)
		return 2;
	close(fd);
	/* the PATH searches look in DIR only */
	snprintf(path, sizeof(path), "PATH=%s", dir);
	putenv(path);
	TRY("execve-missing", execve(missing, argv, envp));
	TRY("execve-noexec", execve(noexec, argv, envp));
	TRY("execve-null-env", execve(missing, argv, NULL));
	TRY("execve-dir", execve(dir, argv, envp));
	TRY("execv-noexec", execv(noexec, argv));
	TRY("execvp-missing", execvp("missing", argv));
	TRY("execvp-noexec", execvp("noexec", argv));
	TRY("execvpe-noexec", execvpe("noexec", argv, envp));
	TRY("execl-missing", execl(missing, "x", "y", (char *)NULL));
	TRY("execle-noexec", execle(noexec, "x", (char *)NULL, envp));
	TRY("execlp-missing", execlp("missing", "x", (char *)NULL));
	fd = open(noexec, O_RDONLY);
	TRY("fexecve-noexec", fexecve(fd, argv, envp));
	TRY("fexecve-null-env", fexecve(fd, argv, NULL));
	close(fd);
	TRY("fexecve-badfd", fexecve(-1, argv, envp));
	TRY("execveat-missing", execveat(AT_FDCWD, missing, argv, envp, 0));
	TRY("execveat-badflags", execveat(AT_FDCWD, noexec, argv, envp, 0x7fff0000));
	/*
	 * an argument longer than the kernel takes (MAX_ARG_STRLEN, 128 KiB),
	 * to a program that exists (the kernel looks for the file first)
	 */
	memset(big, 'a', 200 * 1024);
	big[200 * 1024] = '\0';
	TRY("execve-e2big", execve("/bin/true", bigv, envp));
	TRY("execve-e2big-null-env", execve("/bin/true", bigv, NULL));
	/* posix_spawn: the error is its result (errno as glibc leaves it) */
	TRY("posix_spawn-missing", posix_spawn(&pid, missing, NULL, NULL, argv, envp));
	TRY("posix_spawn-noexec", posix_spawn(&pid, noexec, NULL, NULL, argv, NULL));
	TRY("posix_spawnp-missing", posix_spawnp(&pid, "missing", NULL, NULL, argv, envp));
	TRY("posix_spawnp-noexec", posix_spawnp(&pid, "noexec", NULL, NULL, argv, envp));
	unlink(noexec);
	return 0;
}
#else
static int errors(const char *dir)
{
	(void)dir;
	return 1;
}
#endif

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "report")) {
		report(argv[2]);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "wait"))
		return wait_go(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "errors"))
		return errors(argv[2]);
	fprintf(stderr, "usage: execprobe report TAG | wait TAG GOFILE | errors DIR\n");
	return 1;
}
