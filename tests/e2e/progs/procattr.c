/*
 * procattr.c - every process and thread attribute libckpt restores, set
 * to values no process starts with, printed before a checkpoint and after
 * a restart (tests/e2e/t_procattr.sh compares the two).
 *
 *   procattr root|user|secbits GOFILE
 * Sets the process's oom_score_adj, coredump_filter, THP disable, child
 * subreaper, MDWE, KSM, membarrier registrations, the timer-id flag and
 * (root) dumpable 0; then, differently in the main thread (T0) and a
 * worker (T1): personality, timer slack, CPU affinity (when there are two
 * CPUs), I/O priority, parent-death signal, securebits, MCE policy, NUMA
 * policy, (T1) TSC mode SIGSEGV, no_new_privs and syscall user dispatch.
 * Prints "P before ...", "T0 before ...", "T1 before ...", "READY pid",
 * waits for GOFILE (through a checkpoint, a kill and a restart), prints
 * the same lines with "after", then "DONE".  A setting that fails prints
 * "SETUP FAILED what: why" (the test fails on it).
 *
 * "secbits" (root) only sets SECBIT_NO_SETUID_FIXUP and then drops
 * CAP_SETPCAP from its effective set, prints "READY pid" and waits: a
 * state no restart could make again (the checkpoint must refuse it).
 *
 * Syscall user dispatch is shown by what it does: "sud=N" is the number of
 * SIGSYS one blocked getppid() raised (1 while it is on, 0 when off).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/membarrier.h>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
#define PR_SET_MDWE_ 65
#define PR_GET_MDWE_ 66
#define PR_SET_MEMORY_MERGE_ 67
#define PR_GET_MEMORY_MERGE_ 68
#define PR_TIMER_IDS_ 77
#define PR_FUTEX_HASH_ 78
#define MEMBARRIER_GET_REGISTRATIONS_ (1 << 9)

static int root, ncpus;
static pthread_barrier_t bar;
static volatile char sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile int sud_hits;

static void setup_fail(const char *what)
{
	printf("SETUP FAILED %s: %s\n", what, strerror(errno));
}

/* A prctl newer than some kernels: EINVAL there is a NOTE (the attribute reads -1 throughout). */
static void setup_optional(const char *what, const char *since)
{
	if (errno == EINVAL)
		printf("NOTE: %s: this kernel lacks it (Linux %s)\n", what, since);
	else
		setup_fail(what);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = fd < 0 ? -1 : (int)write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return r < 0 ? -1 : 0;
}

static void read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k = fd < 0 ? -1 : read(fd, buf, n - 1);

	if (fd >= 0)
		close(fd);
	buf[k > 0 ? k : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static void print_proc(const char *when)
{
	char oom[32], cdf[32];
	int sub = -1;

	read_file("/proc/self/oom_score_adj", oom, sizeof(oom));
	read_file("/proc/self/coredump_filter", cdf, sizeof(cdf));
	prctl(PR_GET_CHILD_SUBREAPER, &sub, 0, 0, 0);
	printf("P %s oom=%s coredump=%s thp=%d subreaper=%d dumpable=%d mdwe=%d ksm=%d "
	       "membarrier=0x%lx timer_ids=%d futex_slots=%d\n", when, oom, cdf,
	       prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0),
	       sub, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), prctl(PR_GET_MDWE_, 0, 0, 0, 0),
	       prctl(PR_GET_MEMORY_MERGE_, 0, 0, 0, 0),
	       syscall(SYS_membarrier, MEMBARRIER_GET_REGISTRATIONS_, 0, 0),
	       prctl(PR_TIMER_IDS_, 2, 0, 0, 0), prctl(PR_FUTEX_HASH_, 2, 0, 0, 0));
}

static void set_proc(void)
{
	if (write_file("/proc/self/oom_score_adj", "345") < 0)
		setup_fail("oom_score_adj");
	if (write_file("/proc/self/coredump_filter", "0x5d") < 0)
		setup_fail("coredump_filter");
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		setup_fail("PR_SET_THP_DISABLE");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		setup_fail("PR_SET_CHILD_SUBREAPER");
	if (prctl(PR_SET_MDWE_, 1, 0, 0, 0) < 0)
		setup_optional("PR_SET_MDWE", "6.3");
	if (prctl(PR_SET_MEMORY_MERGE_, 1, 0, 0, 0) < 0)
		setup_optional("PR_SET_MEMORY_MERGE", "6.4");
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) < 0 ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) < 0 ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) < 0)
		setup_fail("membarrier");
	if (prctl(PR_TIMER_IDS_, 1, 0, 0, 0) < 0)
		setup_optional("PR_TIMER_CREATE_RESTORE_IDS", "6.16");
	if (prctl(PR_FUTEX_HASH_, 1, 64, 0, 0) < 0)
		setup_optional("PR_FUTEX_HASH", "6.16");
	if (root && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		setup_fail("PR_SET_DUMPABLE");
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;	/* before any system call */
	sud_hits++;
}

/* SIGSYS raised by one getppid() while the selector blocks system calls. */
static int sud_probe(void)
{
	sud_hits = 0;
	sud_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	syscall(SYS_getppid);
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	return sud_hits;
}

static void print_thread(int n, const char *when)
{
	cpu_set_t cpus;
	int pdeath = 0, tsc = 0, mode = -1;
	unsigned long nodes[16] = { 0 }, mask = 0;

	CPU_ZERO(&cpus);
	sched_getaffinity(0, sizeof(cpus), &cpus);
	for (int c = 0; c < 64; c++)
		if (CPU_ISSET(c, &cpus))
			mask |= 1ul << c;
	prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
	prctl(PR_GET_TSC, &tsc, 0, 0, 0);
	syscall(SYS_get_mempolicy, &mode, nodes, 1025, 0, 0);
	printf("T%d %s personality=0x%x slack=%d cpus=0x%lx ioprio=0x%lx pdeath=%d securebits=0x%x "
	       "mce=%d tsc=%d nnp=%d mempolicy=%d/0x%lx spec=%d/%d sud=%d\n", n, when,
	       personality(0xffffffff), prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), mask,
	       syscall(SYS_ioprio_get, 1, 0), pdeath, prctl(PR_GET_SECUREBITS, 0, 0, 0, 0),
	       prctl(PR_MCE_KILL_GET, 0, 0, 0, 0), tsc, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
	       mode, nodes[0], prctl(PR_GET_SPECULATION_CTRL, 0, 0, 0, 0),
	       prctl(PR_GET_SPECULATION_CTRL, 1, 0, 0, 0), n ? sud_probe() : 0);
}

/* n = 0 (main) or 1 (worker): different values, so the threads cannot be swapped. */
static void set_thread(int n)
{
	cpu_set_t cpus;
	unsigned long node0 = 1;

	if (personality(n ? ADDR_NO_RANDOMIZE : UNAME26) < 0)
		setup_fail("personality");
	if (prctl(PR_SET_TIMERSLACK, n ? 654321 : 123456, 0, 0, 0) < 0)
		setup_fail("PR_SET_TIMERSLACK");
	if (ncpus >= 2) {
		CPU_ZERO(&cpus);
		CPU_SET(n ? 0 : 1, &cpus);
		if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0)
			setup_fail("sched_setaffinity");
	}
	/* best-effort level 6; idle */
	if (syscall(SYS_ioprio_set, 1, 0, n ? 3 << 13 : (2 << 13) | 6) < 0)
		setup_fail("ioprio_set");
	if (prctl(PR_SET_PDEATHSIG, n ? SIGURG : SIGWINCH, 0, 0, 0) < 0)
		setup_fail("PR_SET_PDEATHSIG");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		setup_fail("PR_SET_KEEPCAPS");
	/* SECBIT_NO_SETUID_FIXUP | KEEP_CAPS (needs CAP_SETPCAP) */
	if (root && !n && prctl(PR_SET_SECUREBITS, 0x4 | 0x10, 0, 0, 0) < 0)
		setup_fail("PR_SET_SECUREBITS");
	if (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, n ? PR_MCE_KILL_LATE : PR_MCE_KILL_EARLY, 0, 0) < 0)
		setup_fail("PR_MCE_KILL");
	/* MPOL_INTERLEAVE, MPOL_BIND on node 0 */
	if (syscall(SYS_set_mempolicy, n ? 2 : 3, &node0, 2) < 0)
		setup_fail("set_mempolicy");
	if (n) {
		struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

		if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) < 0)
			setup_fail("PR_SET_TSC");
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			setup_fail("PR_SET_NO_NEW_PRIVS");
		sigaction(SIGSYS, &sa, NULL);
		if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &sud_selector) < 0)
			setup_fail("PR_SET_SYSCALL_USER_DISPATCH");
	}
}

static void *worker(void *arg)
{
	set_thread(1);
	pthread_barrier_wait(&bar);		/* main printed P and T0 */
	print_thread(1, "before");
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);		/* through the checkpoint; main printed again */
	print_thread(1, "after");
	pthread_barrier_wait(&bar);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	if (argc != 3)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(argv[1], "secbits")) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];

		if (prctl(PR_SET_SECUREBITS, 0x4, 0, 0, 0) < 0 || syscall(SYS_capget, &h, d) < 0)
			setup_fail("securebits");
		d[0].effective &= ~(1u << CAP_SETPCAP);
		if (syscall(SYS_capset, &h, d) < 0)
			setup_fail("capset");
		printf("READY %d\n", (int)getpid());
		while (access(argv[2], F_OK) != 0)
			usleep(10000);
		printf("DONE\n");
		return 0;
	}
	root = !strcmp(argv[1], "root");
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	pthread_barrier_init(&bar, NULL, 2);
	set_proc();
	set_thread(0);
	pthread_create(&th, NULL, worker, NULL);
	print_proc("before");
	print_thread(0, "before");
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);		/* T1 printed */
	printf("READY %d\n", (int)getpid());
	while (access(argv[2], F_OK) != 0)
		usleep(10000);
	print_proc("after");
	print_thread(0, "after");
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	printf("DONE\n");
	return 0;
}
