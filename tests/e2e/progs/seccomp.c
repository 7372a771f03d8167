/*
 * seccomp.c - a sandboxed program: seccomp filters that deny system calls
 * the program can observe, before a checkpoint and after a restart.
 *
 *   seccomp MODE GOFILE
 * Filter A denies getppid() with EXFULL (54), filter B denies
 * sched_yield() with ENOANO (55); everything else is allowed.  Modes:
 *   prctl    one thread; no_new_privs; A with prctl(PR_SET_SECCOMP), B
 *            stacked with syscall(SYS_seccomp, ..., SECCOMP_FILTER_FLAG_LOG)
 *   threads  A in the main thread before two workers start (they inherit
 *            it), then B in worker 1 only
 *   tsync    a worker starts, then the main thread installs A with
 *            SECCOMP_FILTER_FLAG_TSYNC: both have it
 *   raw      A installed by a raw system call (no libc): libckpt cannot
 *            see it, so a checkpoint must be refused
 *   strict   a worker enters strict mode (SECCOMP_MODE_STRICT) and waits
 *            in read() on a pipe; GOFILE makes the main thread write to
 *            it, and the worker exits (both allowed in strict mode)
 * Each thread prints "T<n> <when> getppid=R/E yield=R/E filters=N" (R the
 * call's result, E its errno, N Seccomp_filters of its status) before
 * ("before") and after GOFILE appears ("after"), with "READY pid" between
 * and "DONE" at the end.  "SETUP FAILED ..." if a filter is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_barrier_t bar;
static int nthreads = 1;

/* nr == deny: ERRNO(err); else ALLOW */
static struct sock_fprog filter(int deny, int err, struct sock_filter *f)
{
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)deny, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	memcpy(f, prog, sizeof(prog));
	return (struct sock_fprog){ .len = 4, .filter = f };
}

static void install(const char *how, int deny, int err, unsigned flags)
{
	struct sock_filter f[4];
	struct sock_fprog p = filter(deny, err, f);
	long r;

	if (!strcmp(how, "prctl")) {
		r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p, 0, 0);
	} else if (!strcmp(how, "raw")) {
		__asm__ volatile("syscall" : "=a"(r)
				 : "a"(SYS_seccomp), "D"(SECCOMP_SET_MODE_FILTER), "S"(flags), "d"(&p)
				 : "rcx", "r11", "memory");
		if (r < 0) {
			errno = (int)-r;
			r = -1;
		}
	} else {
		r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
	}
	if (r < 0)
		printf("SETUP FAILED %s filter for %d: %s\n", how, deny, strerror(errno));
}

static int filters(void)
{
	char buf[4096], *p;
	int fd = open("/proc/thread-self/status", O_RDONLY), n;

	n = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strstr(buf, "Seccomp_filters:");
	return p ? atoi(p + 16) : -1;
}

static void report(int n, const char *when)
{
	long a, b;
	int ea, eb;

	errno = 0;
	a = syscall(SYS_getppid);
	ea = errno;
	errno = 0;
	b = syscall(SYS_sched_yield);
	eb = errno;
	printf("T%d %s getppid=%ld/%d yield=%ld/%d filters=%d\n", n, when, a > 0 ? 1 : a, ea, b, eb,
	       filters());
}

static const char *mode;
static int strict_go[2], strict_in[2];

/* Only read, write and exit from strict mode on: anything else kills the process. */
static void *strict_worker(void *arg)
{
	char c = 's';

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) < 0)
		printf("SETUP FAILED strict: %s\n", strerror(errno));
	if (write(strict_in[1], &c, 1) != 1 || read(strict_go[0], &c, 1) != 1)
		c = 0;
	syscall(SYS_exit, 0);
	return NULL;
}

static void *worker(void *arg)
{
	int n = (int)(long)arg;

	pthread_barrier_wait(&bar);		/* A installed (tsync: not yet) */
	if (n == 1 && !strcmp(mode, "threads"))
		install("seccomp", SYS_sched_yield, 55, 0);
	pthread_barrier_wait(&bar);		/* tsync: now */
	for (int i = 1; i < nthreads; i++) {	/* one at a time, in order */
		pthread_barrier_wait(&bar);
		if (i == n)
			report(n, "before");
	}
	pthread_barrier_wait(&bar);		/* every thread reported */
	pthread_barrier_wait(&bar);		/* through the checkpoint */
	for (int i = 1; i < nthreads; i++) {
		pthread_barrier_wait(&bar);
		if (i == n)
			report(n, "after");
	}
	pthread_barrier_wait(&bar);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[2];

	if (argc != 3)
		return 2;
	mode = argv[1];
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(mode, "strict")) {
		char c;

		if (pipe(strict_go) || pipe(strict_in) ||
		    pthread_create(&th[0], NULL, strict_worker, NULL) || read(strict_in[0], &c, 1) != 1)
			printf("SETUP FAILED strict worker\n");
		printf("READY %d\n", (int)getpid());
		while (access(argv[2], F_OK) != 0)
			usleep(10000);
		if (write(strict_go[1], &c, 1) != 1)
			printf("cannot wake the worker\n");
		pthread_join(th[0], NULL);
		printf("DONE\n");
		return 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		printf("SETUP FAILED no_new_privs: %s\n", strerror(errno));
	nthreads = !strcmp(mode, "threads") ? 3 : !strcmp(mode, "tsync") ? 2 : 1;
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	if (!strcmp(mode, "prctl")) {
		install("prctl", SYS_getppid, 54, 0);
		install("seccomp", SYS_sched_yield, 55, SECCOMP_FILTER_FLAG_LOG);
	} else if (!strcmp(mode, "threads")) {
		install("seccomp", SYS_getppid, 54, 0);
	} else if (!strcmp(mode, "raw")) {
		install("raw", SYS_getppid, 54, 0);
	}
	for (long i = 1; i < nthreads; i++)
		pthread_create(&th[i - 1], NULL, worker, (void *)i);
	if (nthreads > 1)
		pthread_barrier_wait(&bar);
	if (!strcmp(mode, "tsync"))
		install("seccomp", SYS_getppid, 54, SECCOMP_FILTER_FLAG_TSYNC);
	if (nthreads > 1)
		pthread_barrier_wait(&bar);
	report(0, "before");
	for (int i = 1; i < nthreads; i++)
		pthread_barrier_wait(&bar);
	if (nthreads > 1)
		pthread_barrier_wait(&bar);
	printf("READY %d\n", (int)getpid());
	while (access(argv[2], F_OK) != 0)
		usleep(10000);
	report(0, "after");
	if (nthreads > 1)
		pthread_barrier_wait(&bar);
	for (int i = 1; i < nthreads; i++)
		pthread_barrier_wait(&bar);
	if (nthreads > 1)
		pthread_barrier_wait(&bar);
	for (int i = 1; i < nthreads; i++)
		pthread_join(th[i - 1], NULL);
	printf("DONE\n");
	return 0;
}
