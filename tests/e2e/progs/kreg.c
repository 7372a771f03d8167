/*
 * kreg.c - kernel registrations: membarrier and an rseq area of the
 * program's own (run with GLIBC_TUNABLES=glibc.pthread.rseq=0, so glibc
 * registers none).
 *
 *   kreg MODE GOFILE
 * MODE "own": registers membarrier PRIVATE_EXPEDITED, its SYNC_CORE and
 * RSEQ flavours, and in the main thread and a worker an rseq area of its
 * own through syscall(SYS_rseq) (librseq's way); "raw": the main thread's
 * area is registered by a raw system call instead.  Each thread prints
 * what it finds before the checkpoint and after GOFILE appears:
 *   T<n> <when> rseq=R cpu=C
 * R: what registering the same area again returns (EBUSY: it is
 * registered, with this length and signature; 0: it was not), C: whether
 * the kernel keeps the area's cpu_id current (1: it wrote a CPU number
 * over a -1 we put there).  And once:
 *   M <when> private=E sync_core=E rseq=E
 * each the errno of that membarrier command (0 when registered; EPERM if
 * not).  "READY pid" between, "DONE" at the end.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/membarrier.h>

#define RSEQ_SIG 0x53053053

struct rseq_area {
	uint32_t cpu_id_start;
	int32_t cpu_id;
	uint64_t rseq_cs;
	uint32_t flags, node_id, mm_cid, pad;
} __attribute__((aligned(32)));

static __thread struct rseq_area area;
static pthread_barrier_t bar;
static const char *mode;

static long reg_raw(void *a)
{
	register long sig __asm__("r10") = RSEQ_SIG;
	long r;

	__asm__ volatile("syscall" : "=a"(r)
			 : "a"(SYS_rseq), "D"(a), "S"(32), "d"(0), "r"(sig)
			 : "rcx", "r11", "memory");
	return r;
}

static void reg(int n)
{
	long r = !n && !strcmp(mode, "raw") ? reg_raw(&area) :
		 syscall(SYS_rseq, &area, 32, 0, RSEQ_SIG);

	if (r != 0 && r != -1)
		r = -1;
	if (r)
		printf("SETUP FAILED rseq T%d: %s\n", n, strerror(r == -1 ? errno : (int)-r));
}

static void report(int n, const char *when)
{
	int again, cpu;

	errno = 0;
	again = syscall(SYS_rseq, &area, 32, 0, RSEQ_SIG) == 0 ? 0 : errno;
	if (!again)		/* it was not registered: leave it as it was */
		syscall(SYS_rseq, &area, 32, 1, RSEQ_SIG);
	area.cpu_id = -1;
	syscall(SYS_getppid);	/* the kernel updates the area on its way back */
	usleep(1000);
	cpu = area.cpu_id >= 0;
	printf("T%d %s rseq=%s cpu=%d\n", n, when, again == EBUSY ? "EBUSY" : again ? strerror(again) : "0",
	       cpu);
}

static void membarriers(const char *when)
{
	int e[3];
	static const int cmd[3] = { MEMBARRIER_CMD_PRIVATE_EXPEDITED,
				    MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
				    MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ };

	for (int i = 0; i < 3; i++) {
		errno = 0;
		e[i] = syscall(SYS_membarrier, cmd[i], 0, 0) == 0 ? 0 : errno;
	}
	printf("M %s private=%d sync_core=%d rseq=%d\n", when, e[0], e[1], e[2]);
}

static void *worker(void *arg)
{
	reg(1);
	pthread_barrier_wait(&bar);
	report(1, "before");
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);	/* through the checkpoint */
	report(1, "after");
	pthread_barrier_wait(&bar);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	if (argc != 3)
		return 2;
	mode = argv[1];
	setvbuf(stdout, NULL, _IONBF, 0);
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0))
		printf("SETUP FAILED membarrier: %s\n", strerror(errno));
	pthread_barrier_init(&bar, NULL, 2);
	reg(0);
	pthread_create(&th, NULL, worker, NULL);
	membarriers("before");
	report(0, "before");
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);	/* T1 reported */
	printf("READY %d\n", (int)getpid());
	while (access(argv[2], F_OK) != 0)
		usleep(10000);
	membarriers("after");
	report(0, "after");
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	printf("DONE\n");
	return 0;
}
