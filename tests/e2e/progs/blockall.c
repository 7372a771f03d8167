/*
 * blockall - threads that block every signal, which libckpt's signal
 * cannot park (the kernel-assist module stops them: libckpt/ckpt_kstop.c).
 *   blockall timer GOFILE   a SIGEV_THREAD POSIX timer every 5 ms (glibc's
 *                           helper thread blocks every signal, sits in
 *                           sigwaitinfo); after GO it must fire again
 *   blockall mq NAME GOFILE mq_notify with SIGEV_THREAD on /NAME, fired once
 *                           before the checkpoint (glibc's helper thread,
 *                           its netlink socket); after GO, registered and
 *                           fired again
 *   blockall mq-pending NAME GOFILE  the same, registered at the checkpoint
 *   blockall raw GOFILE     three threads that blocked every signal with a
 *                           raw rt_sigprocmask: one in a blocking read, one
 *                           in a futex wait, one in a busy loop; after GO
 *                           each must go on, its mask still full
 * Prints "READY" once set up, then waits for GOFILE (polled, 60 s at most)
 * and prints "OK ..." or "FAIL ..." (exit 1).  The number of threads that
 * block every signal is printed with READY and checked after GO: the same
 * for raw, at least glibc's helper for the others (a notification thread
 * starts with every signal blocked too, for a moment).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile long fired, reads, wakes, spins;
static int pipefd[2];
static int fword;
static mqd_t mq;
static char mqname[256];

static char masks[1024];		/* every thread's SigBlk, for a FAIL line */

static void fail(const char *what)
{
	printf("FAIL %s (%s)%s\n", what, strerror(errno), masks);
	exit(1);
}

/* until *v >= want, at most 10 s */
static int reach(volatile long *v, long want)
{
	for (int i = 0; i < 10000; i++) {
		if (__atomic_load_n(v, __ATOMIC_SEQ_CST) >= want)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void wait_go(const char *go)
{
	struct stat st;

	for (int i = 0; i < 60000 && stat(go, &st) < 0; i++)
		usleep(1000);
}

/* Threads of this process whose SigBlk is every signal (all but KILL, STOP). */
static int full_blockers(void)
{
	char path[300], buf[4096];
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	snprintf(masks, sizeof(masks), "; masks:");
	while (d && (e = readdir(d))) {
		FILE *f;
		size_t len;
		char *s;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = 0;
		if ((s = strstr(buf, "\nSigBlk:\t")) && strlen(masks) + 40 < sizeof(masks))
			snprintf(masks + strlen(masks), sizeof(masks) - strlen(masks), " %s:%.16s",
				 e->d_name, s + 9);
		/* glibc's sigfillset leaves out its own 32 and 33; a raw mask does not */
		if ((s = strstr(buf, "\nSigBlk:\t")) && (!strncmp(s + 9, "fffffffe7ffbfeff", 16) ||
							  !strncmp(s + 9, "fffffffffffbfeff", 16)))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void block_all(void)
{
	uint64_t all = ~0ull;

	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
}

static void on_timer(union sigval v)
{
	(void)v;
	__atomic_add_fetch(&fired, 1, __ATOMIC_SEQ_CST);
}

static void on_mq(union sigval v)
{
	char msg[64];

	(void)v;
	while (mq_receive(mq, msg, sizeof(msg), NULL) >= 0)
		;
	__atomic_add_fetch(&fired, 1, __ATOMIC_SEQ_CST);
}

static void *reader(void *a)
{
	char c;

	(void)a;
	block_all();
	for (;;)
		if (read(pipefd[0], &c, 1) == 1)
			__atomic_add_fetch(&reads, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *waiter(void *a)
{
	(void)a;
	block_all();
	for (;;) {
		int w = __atomic_load_n(&fword, __ATOMIC_SEQ_CST);

		syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, w, NULL);
		if (__atomic_load_n(&fword, __ATOMIC_SEQ_CST) != w)
			__atomic_add_fetch(&wakes, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void *spinner(void *a)
{
	(void)a;
	block_all();
	for (;;)
		__atomic_add_fetch(&spins, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void mq_register(void)
{
	struct sigevent ev = { .sigev_notify = SIGEV_THREAD };

	ev.sigev_notify_function = on_mq;
	if (mq_notify(mq, &ev) < 0)
		fail("mq_notify");
}

static void mq_fire(long want)
{
	if (mq_send(mq, "m", 1, 0) < 0)
		fail("mq_send");
	if (!reach(&fired, want))
		fail("the mq_notify SIGEV_THREAD notification did not come");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *go = argv[argc - 1];
	int blockers;
	long n;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && !strcmp(mode, "timer")) {
		struct sigevent ev = { .sigev_notify = SIGEV_THREAD };
		struct itimerspec its = { { 0, 5000000 }, { 0, 5000000 } };
		timer_t t;

		ev.sigev_notify_function = on_timer;
		if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0 || timer_settime(t, 0, &its, NULL) < 0)
			fail("timer_create");
		if (!reach(&fired, 3))
			fail("the SIGEV_THREAD timer does not fire");
		blockers = full_blockers();
		printf("READY blockers %d\n", blockers);
		wait_go(go);
		n = __atomic_load_n(&fired, __ATOMIC_SEQ_CST);
		if (!reach(&fired, n + 5))
			fail("the SIGEV_THREAD timer stopped firing");
		if (full_blockers() < 1)	/* glibc's helper; new threads start so too, a moment */
			fail("the helper thread's mask changed");
		printf("OK timer fired %ld times\n", __atomic_load_n(&fired, __ATOMIC_SEQ_CST));
		return 0;
	}
	if (argc == 4 && (!strcmp(mode, "mq") || !strcmp(mode, "mq-pending"))) {
		struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 16 };

		snprintf(mqname, sizeof(mqname), "/%s", argv[2]);
		mq_unlink(mqname);
		mq = mq_open(mqname, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK, 0600, &attr);
		if (mq == (mqd_t)-1)
			fail("mq_open");
		mq_register();
		mq_fire(1);
		if (!strcmp(mode, "mq-pending"))
			mq_register();
		blockers = full_blockers();
		printf("READY blockers %d\n", blockers);
		wait_go(go);
		if (strcmp(mode, "mq-pending"))
			mq_register();
		mq_fire(2);
		if (full_blockers() < 1)
			fail("the helper thread's mask changed");
		mq_unlink(mqname);
		printf("OK notified %ld times\n", __atomic_load_n(&fired, __ATOMIC_SEQ_CST));
		return 0;
	}
	if (argc == 3 && !strcmp(mode, "raw")) {
		pthread_t t;

		if (pipe(pipefd) < 0)
			fail("pipe");
		if (pthread_create(&t, NULL, reader, NULL) || pthread_create(&t, NULL, waiter, NULL) ||
		    pthread_create(&t, NULL, spinner, NULL))
			fail("pthread_create");
		if (write(pipefd[1], "a", 1) != 1 || !reach(&reads, 1) || !reach(&spins, 1000))
			fail("the threads do not run");
		for (int i = 0; i < 10000 && full_blockers() < 3; i++)
			usleep(1000);
		blockers = full_blockers();
		if (blockers != 3)
			fail("not three threads blocking every signal");
		printf("READY blockers %d\n", blockers);
		wait_go(go);
		if (write(pipefd[1], "b", 1) != 1 || !reach(&reads, 2))
			fail("the reader does not read after GO");
		for (int i = 0; i < 10000 && !__atomic_load_n(&wakes, __ATOMIC_SEQ_CST); i++) {
			__atomic_add_fetch(&fword, 1, __ATOMIC_SEQ_CST);
			syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1);
			usleep(1000);
		}
		if (!__atomic_load_n(&wakes, __ATOMIC_SEQ_CST))
			fail("the futex waiter does not wake after GO");
		n = __atomic_load_n(&spins, __ATOMIC_SEQ_CST);
		if (!reach(&spins, n + 1000))
			fail("the spinner does not spin after GO");
		if (full_blockers() != blockers)
			fail("a thread's mask changed");
		printf("OK reads %ld wakes %ld\n", reads, wakes);
		return 0;
	}
	fprintf(stderr, "usage: blockall timer|raw GOFILE | blockall mq|mq-pending NAME GOFILE\n");
	return 2;
}
