/*
 * identity.c - who the process is survives checkpoint and restart.
 *
 *   identity IMAGE
 * Names itself with PR_SET_NAME, sets an environment variable, pins
 * itself to CPU 0, records pid, tid, /proc/self/{cmdline,comm,environ,
 * auxv}, the exe link, the environment ($ID_VAR and its own), the clocks,
 * then ckpt_save(IMAGE).  The original prints "SAVED" and exits.  The
 * restarted copy compares everything, proves the vdso clocks work and do
 * not go backwards, pins itself to another CPU and checks that
 * sched_getcpu() (glibc reads it from the rseq area) agrees with the
 * getcpu system call, and that malloc/free still work.
 * Prints "RESTORED ok" and exits 0 when all is equal; "BAD ..." lines else.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

struct blob {
	char d[8192];
	ssize_t n;
};

static int bad;

static void slurp(const char *path, struct blob *b)
{
	int fd = open(path, O_RDONLY);

	b->n = -1;
	if (fd < 0)
		return;
	b->n = 0;
	for (;;) {
		ssize_t r = read(fd, b->d + b->n, sizeof(b->d) - b->n);

		if (r <= 0)
			break;
		b->n += r;
	}
	close(fd);
}

static void same_blob(const char *what, const struct blob *a, const struct blob *b)
{
	if (a->n != b->n || memcmp(a->d, b->d, a->n > 0 ? a->n : 0)) {
		printf("BAD %s differs (%zd bytes then, %zd now): now \"%.*s\"\n", what, a->n, b->n,
		       (int)(b->n > 100 ? 100 : b->n > 0 ? b->n : 0), b->d);
		bad++;
	}
}

static void same_str(const char *what, const char *a, const char *b)
{
	if (!a || !b || strcmp(a, b)) {
		printf("BAD %s: \"%s\" then, \"%s\" now\n", what, a ? a : "(null)", b ? b : "(null)");
		bad++;
	}
}

static int pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return sched_setaffinity(0, sizeof(s), &s);
}

static long ns(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts))
		return -1;
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static struct blob cmdline[2], comm[2], environ_[2], auxv[2];
	static char exe[2][4096], var[2][256], own[2][256];
	pid_t pid[2], tid[2];
	long mono0, real0;
	int r;

	if (argc != 2)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	prctl(PR_SET_NAME, "ckpt-ident", 0, 0, 0);
	setenv("ID_OWN", "set by the program before the checkpoint", 1);
	pin(0);
	sched_yield();

	pid[0] = getpid();
	tid[0] = syscall(SYS_gettid);
	slurp("/proc/self/cmdline", &cmdline[0]);
	slurp("/proc/self/comm", &comm[0]);
	slurp("/proc/self/environ", &environ_[0]);
	slurp("/proc/self/auxv", &auxv[0]);
	if (readlink("/proc/self/exe", exe[0], sizeof(exe[0]) - 1) < 0)
		return 3;
	snprintf(var[0], sizeof(var[0]), "%s", getenv("ID_VAR") ? getenv("ID_VAR") : "(unset)");
	snprintf(own[0], sizeof(own[0]), "%s", getenv("ID_OWN"));
	mono0 = ns(CLOCK_MONOTONIC);
	real0 = ns(CLOCK_REALTIME);

	r = ckpt_save(argv[1]);
	if (r == CKPT_SAVED) {
		printf("SAVED pid %d\n", (int)pid[0]);
		return 0;
	}
	if (r != CKPT_RESTORED) {
		printf("ckpt_save failed: %s\n", ckpt_last_error());
		return 1;
	}

	pid[1] = getpid();
	tid[1] = syscall(SYS_gettid);
	if (pid[1] != pid[0] || tid[1] != tid[0]) {
		printf("BAD pid/tid %d/%d then, %d/%d now\n", pid[0], tid[0], pid[1], tid[1]);
		bad++;
	}
	/* the raw system call, not glibc's cached value */
	if (syscall(SYS_getpid) != pid[0]) {
		printf("BAD SYS_getpid %ld, want %d\n", syscall(SYS_getpid), pid[0]);
		bad++;
	}
	slurp("/proc/self/cmdline", &cmdline[1]);
	slurp("/proc/self/comm", &comm[1]);
	slurp("/proc/self/environ", &environ_[1]);
	slurp("/proc/self/auxv", &auxv[1]);
	same_blob("/proc/self/cmdline", &cmdline[0], &cmdline[1]);
	same_blob("/proc/self/comm", &comm[0], &comm[1]);
	same_blob("/proc/self/environ", &environ_[0], &environ_[1]);
	same_blob("/proc/self/auxv", &auxv[0], &auxv[1]);
	if (readlink("/proc/self/exe", exe[1], sizeof(exe[1]) - 1) < 0)
		snprintf(exe[1], sizeof(exe[1]), "(readlink failed)");
	same_str("/proc/self/exe", exe[0], exe[1]);
	snprintf(var[1], sizeof(var[1]), "%s", getenv("ID_VAR") ? getenv("ID_VAR") : "(unset)");
	snprintf(own[1], sizeof(own[1]), "%s", getenv("ID_OWN") ? getenv("ID_OWN") : "(unset)");
	same_str("getenv(ID_VAR)", var[0], var[1]);
	same_str("getenv(ID_OWN)", own[0], own[1]);

	/* clocks (vdso): sane, and the monotonic clock did not go back */
	long mono1 = ns(CLOCK_MONOTONIC), real1 = ns(CLOCK_REALTIME);
	struct timeval tv;

	if (mono1 <= 0 || mono1 < mono0) {
		printf("BAD CLOCK_MONOTONIC %ld now, %ld at the checkpoint\n", mono1, mono0);
		bad++;
	}
	if (real1 <= 0 || real1 < real0 || real1 - real0 > 3600L * 1000000000L) {
		printf("BAD CLOCK_REALTIME %ld now, %ld at the checkpoint\n", real1, real0);
		bad++;
	}
	if (gettimeofday(&tv, NULL) || tv.tv_sec < real0 / 1000000000L || time(NULL) < real0 / 1000000000L) {
		printf("BAD gettimeofday/time\n");
		bad++;
	}
	long m2 = ns(CLOCK_MONOTONIC);
	if (m2 < mono1) {
		printf("BAD CLOCK_MONOTONIC went back: %ld then %ld\n", mono1, m2);
		bad++;
	}

	/* rseq: glibc's sched_getcpu() must follow the real CPU */
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	for (int i = 0; i < (ncpu > 1 ? 2 : 1); i++) {
		int want = ncpu > 1 ? 1 - i : 0;
		unsigned cpu = 12345;

		if (pin(want)) {
			printf("note: cannot pin to cpu %d\n", want);
			continue;
		}
		sched_yield();
		int g = sched_getcpu();
		syscall(SYS_getcpu, &cpu, NULL, NULL);
		if (g != (int)cpu || g != want) {
			printf("BAD sched_getcpu() %d, getcpu syscall %u, pinned to %d\n", g, cpu, want);
			bad++;
		}
	}

	/* the allocator still works */
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(i * 7919 % 300000) + 1;
		char *p = malloc(n);

		if (!p) {
			printf("BAD malloc(%zu) failed\n", n);
			bad++;
			break;
		}
		p[0] = p[n - 1] = (char)i;
		free(p);
	}
	printf("RESTORED %s\n", bad ? "BAD" : "ok");
	return bad ? 1 : 0;
}
