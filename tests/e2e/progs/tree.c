/*
 * tree.c - process trees that prove their state after a restart
 * (tests/e2e/t_tree*.sh).  Every scenario prints READY once its whole
 * tree is set up, then runs until DIR/go exists, checks everything it
 * can and prints "DONE ok" (or "BAD <why>") from the root.
 *
 *   tree basic DIR N   the root (a subreaper) and N workers (worker 1 with
 *                      a grandchild), each stepping its own hash chain
 *                      and logging it in its own file; all add to an
 *                      anonymous shared counter and write to one file
 *                      description the root opened (a shared offset) and
 *                      to one each opened itself (its own); two zombies
 *                      (exit 7, SIGTERM) and one that used CPU (exit 5,
 *                      its own rusage in DIR/z3.ru) the root reaps only
 *                      at the end: wait4 gives the status and the rusage;
 *                      an orphan re-parented to the root.
 *   tree session DIR   a job-control layout: A leads a session of its own
 *                      with B (a group of its own) and C (in B's group);
 *                      D leads a group in the root's session, E joins it.
 *   tree stopped DIR   a worker that stopped itself (SIGSTOP) before the
 *                      checkpoint; the root continues it at the end.
 *   tree exec DIR      a child that execs /bin/sh, which runs a loop that
 *                      forks and execs (sleep) all the time.
 *   tree fg DIR        (stdin a terminal) a child J in a group of its own, to
 *                      which the root gives the terminal (tcsetpgrp, as a
 *                      shell gives it to a job); J checks at the end that
 *                      its group still has it.
 *   tree ipc DIR KEY   the root makes a SysV shared memory segment, a
 *                      semaphore set and a message queue (keys KEY..KEY+2),
 *                      a POSIX shm object and message queue, a memfd; forks
 *                      two children.  All three add to a counter in each
 *                      shared memory under the semaphore (SEM_UNDO); the
 *                      root left 5 SysV and 5 POSIX messages in flight.  At
 *                      the end child 1 takes them (types, priorities, order)
 *                      and every counter equals the sum of everyone's adds.
 *                      Prints "ids SHM SEM MSG" before READY.
 *   tree selfsave DIR IMAGE
 *                      a child C with a child G of its own calls
 *                      ckpt_save(IMAGE): C and G are saved, not the root.
 *                      C prints "SAVED C G" (the root then waits for go
 *                      and reaps C); restarted, C prints "RESTORED" and,
 *                      at go, checks G stepped on and prints "DONE ok".
 * Each process checks, at the end, that its ids (ppid, pgid, sid) are
 * what they were, and its chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

static const char *dir;
static volatile uint64_t *shared;	/* [0]: steps of everyone, [1]: workers ready */

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad(const char *fmt, ...)
{
	va_list ap;

	printf("BAD pid %d: ", getpid());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

static uint64_t mix(uint64_t h, uint64_t k)
{
	h ^= k + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 31);
}

static int go(void)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/go", dir);
	return access(p, F_OK) == 0;
}

static void ms(int n)
{
	struct timespec t = { 0, n * 1000000L };

	nanosleep(&t, NULL);
}

static int path_open(const char *name, int flags)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return open(p, flags | O_CLOEXEC, 0600);
}

struct ids {
	pid_t ppid, pgid, sid;
};

static struct ids ids_now(void)
{
	return (struct ids){ getppid(), getpgid(0), getsid(0) };
}

/* The root's parent is ckpt-restart after a restart: its ppid is not compared. */
static void ids_same(const struct ids *a, const char *who)
{
	struct ids b = ids_now();

	if ((a->ppid != b.ppid && strcmp(who, "the root")) || a->pgid != b.pgid || a->sid != b.sid)
		bad("%s: ppid/pgid/sid %d/%d/%d, were %d/%d/%d", who, b.ppid, b.pgid, b.sid,
		    a->ppid, a->pgid, a->sid);
}

static void wait_status(pid_t pid, int want, const char *what)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		bad("%s (pid %d): waitpid: %s", what, pid, strerror(errno));
	if (st != want)
		bad("%s (pid %d): status 0x%x, want 0x%x", what, pid, st, want);
}

/*
 * A worker: steps its chain until DIR/go, logging "k h" lines to its own
 * log, 8 bytes to the shared description (shared_fd) and to its own
 * description of sep.<i>; writes its step count to res.<i>.  child: one
 * of its own to reap at the end (0: none).
 */
static void worker(int i, int shared_fd, pid_t child)
{
	char name[64], line[64];
	struct ids me = ids_now();
	uint64_t h = (uint64_t)i, k = 0;
	int log, sep, res;
	FILE *f;

	snprintf(name, sizeof(name), "log.%d", i);
	log = path_open(name, O_WRONLY | O_CREAT | O_TRUNC);
	snprintf(name, sizeof(name), "sep.%d", i);
	sep = path_open(name, O_WRONLY | O_CREAT | O_TRUNC);
	if (log < 0 || sep < 0)
		bad("worker %d: open: %s", i, strerror(errno));
	__atomic_add_fetch(&shared[1], 1, __ATOMIC_SEQ_CST);
	while (!go()) {
		int n;

		h = mix(h, k);
		n = snprintf(line, sizeof(line), "%llu %016llx\n", (unsigned long long)k,
			     (unsigned long long)h);
		if (write(log, line, n) != n || write(shared_fd, &h, 8) != 8 || write(sep, &h, 8) != 8)
			bad("worker %d: write: %s", i, strerror(errno));
		k++;
		__atomic_add_fetch(&shared[0], 1, __ATOMIC_SEQ_CST);
		ms(1);
	}
	if (child > 0)
		wait_status(child, 0, "a worker's child");
	/* its own description's offset is its own steps; the log is its chain */
	if (lseek(sep, 0, SEEK_CUR) != (off_t)(8 * k))
		bad("worker %d: own offset %lld after %llu steps", i, (long long)lseek(sep, 0, SEEK_CUR),
		    (unsigned long long)k);
	snprintf(name, sizeof(name), "%s/log.%d", dir, i);
	if (!(f = fopen(name, "r")))
		bad("worker %d: %s", i, strerror(errno));
	h = (uint64_t)i;
	for (uint64_t j = 0; j < k; j++) {
		unsigned long long kk, hh;

		h = mix(h, j);
		if (fscanf(f, "%llu %llx", &kk, &hh) != 2 || kk != j || hh != h)
			bad("worker %d: its log breaks at step %llu of %llu", i, (unsigned long long)j,
			    (unsigned long long)k);
	}
	fclose(f);
	snprintf(name, sizeof(name), "worker %d", i);
	ids_same(&me, name);
	snprintf(name, sizeof(name), "res.%d", i);
	res = path_open(name, O_WRONLY | O_CREAT | O_TRUNC);
	snprintf(line, sizeof(line), "%llu\n", (unsigned long long)k);
	if (res < 0 || write(res, line, strlen(line)) < 0)
		bad("worker %d: res", i);
	close(res);
	exit(0);
}

static uint64_t result(int i)
{
	char name[4096];
	unsigned long long k = 0;
	FILE *f;

	snprintf(name, sizeof(name), "%s/res.%d", dir, i);
	if (!(f = fopen(name, "r")) || fscanf(f, "%llu", &k) != 1)
		bad("no result from worker %d", i);
	fclose(f);
	return k;
}

static void wait_ready(int n)
{
	for (int i = 0; __atomic_load_n(&shared[1], __ATOMIC_SEQ_CST) < (uint64_t)n; i++) {
		if (i > 20000)
			bad("the workers did not start");
		ms(1);
	}
	/* and some steps done by everyone */
	while (__atomic_load_n(&shared[0], __ATOMIC_SEQ_CST) < (uint64_t)(5 * n))
		ms(1);
}

static int basic(int n)
{
	pid_t w[64], z1, z2, z3, mid, gc = 0;
	struct ids me = ids_now();
	uint64_t total = 0;
	int shared_fd;
	siginfo_t si;

	if (n < 1 || n > 60)
		return 2;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	shared_fd = path_open("shared.log", O_WRONLY | O_CREAT | O_TRUNC);
	if (shared_fd < 0)
		bad("open: %s", strerror(errno));
	/* two zombies, reaped only at the end */
	if ((z1 = fork()) == 0)
		_exit(7);
	if ((z2 = fork()) == 0) {
		raise(SIGTERM);
		_exit(99);
	}
	if ((z3 = fork()) == 0) {
		struct rusage ru;
		struct timespec t0, t1;
		char line[64];
		int f;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		do
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		while ((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec < 30000000L);
		getrusage(RUSAGE_SELF, &ru);
		snprintf(line, sizeof(line), "%ld\n", ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
			 ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
		f = path_open("z3.ru", O_WRONLY | O_CREAT | O_TRUNC);
		if (f < 0 || write(f, line, strlen(line)) < 0)
			_exit(98);
		_exit(5);
	}
	/* an orphan: its parent exits, the root (a subreaper) adopts it */
	if ((mid = fork()) == 0) {
		pid_t was = getpid();

		if (fork() == 0) {
			while (getppid() == was)
				ms(1);
			worker(n + 2, shared_fd, 0);
		}
		_exit(0);
	}
	wait_status(mid, 0, "the orphan's parent");
	for (int i = 1; i <= n; i++) {
		if ((w[i] = fork()) == 0) {
			if (i == 1 && (gc = fork()) == 0)
				worker(n + 1, shared_fd, 0);
			worker(i, shared_fd, gc);
		}
	}
	wait_ready(n + 2);
	/* the zombies are zombies */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, z1, &si, WEXITED | WNOWAIT) < 0 || si.si_pid != z1)
		bad("zombie 1 is not a zombie");
	if (waitid(P_PID, z2, &si, WEXITED | WNOWAIT) < 0 || si.si_pid != z2)
		bad("zombie 2 is not a zombie");
	if (waitid(P_PID, z3, &si, WEXITED | WNOWAIT) < 0 || si.si_pid != z3)
		bad("zombie 3 is not a zombie");
	printf("READY %d\n", getpid());
	fflush(stdout);
	while (!go())
		ms(5);
	for (int i = 1; i <= n; i++)
		wait_status(w[i], 0, "a worker");
	{
		int st;
		pid_t p;

		struct rusage ru;
		long used = 0;
		FILE *f;
		char name[4096];

		/* the one that used CPU: its status, and its rusage as it saw it */
		if (wait4(z3, &st, 0, &ru) != z3 || !WIFEXITED(st) || WEXITSTATUS(st) != 5)
			bad("zombie 3: status 0x%x, want exit 5", st);
		snprintf(name, sizeof(name), "%s/z3.ru", dir);
		if (!(f = fopen(name, "r")) || fscanf(f, "%ld", &used) != 1)
			bad("zombie 3 left no rusage");
		fclose(f);
		if (ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000 +
		    ru.ru_stime.tv_usec < used)
			bad("zombie 3's rusage: %ld us of CPU, it used %ld", (long)(ru.ru_utime.tv_sec *
			    1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000 +
			    ru.ru_stime.tv_usec), used);
		/* the orphan is the one child left besides the zombies */
		while ((p = waitpid(-1, &st, 0)) > 0) {
			if (p == z1) {
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
					bad("zombie 1: status 0x%x, want exit 7", st);
				z1 = 0;
			} else if (p == z2) {
				if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
					bad("zombie 2: status 0x%x, want SIGTERM", st);
				z2 = 0;
			} else if (st != 0) {
				bad("child %d: status 0x%x", p, st);
			}
		}
		if (z1 || z2)
			bad("a zombie was lost");
	}
	for (int i = 1; i <= n + 2; i++)
		total += result(i);
	if (shared[0] != total)
		bad("shared counter %llu, the workers' steps %llu", (unsigned long long)shared[0],
		    (unsigned long long)total);
	if (lseek(shared_fd, 0, SEEK_CUR) != (off_t)(8 * total))
		bad("shared offset %lld, want %llu", (long long)lseek(shared_fd, 0, SEEK_CUR),
		    (unsigned long long)(8 * total));
	ids_same(&me, "the root");
	printf("DONE ok %llu steps\n", (unsigned long long)total);
	return 0;
}

/* A process of the session scenario: notes it is set, waits for go, checks its ids. */
static void member(void)
{
	struct ids me = ids_now();

	__atomic_add_fetch(&shared[1], 1, __ATOMIC_SEQ_CST);
	while (!go())
		ms(2);
	ids_same(&me, "a member");
	exit(0);
}

static int session(void)
{
	pid_t a, d, e;
	struct ids me = ids_now();
	int st;

	if ((a = fork()) == 0) {
		pid_t b, c;

		setsid();
		if ((b = fork()) == 0) {
			setpgid(0, 0);
			member();
		}
		setpgid(b, b);
		if ((c = fork()) == 0) {
			setpgid(0, b);
			member();
		}
		setpgid(c, b);
		__atomic_add_fetch(&shared[1], 1, __ATOMIC_SEQ_CST);
		while (!go())
			ms(2);
		wait_status(b, 0, "B");
		wait_status(c, 0, "C");
		exit(getsid(0) == getpid() ? 0 : 3);
	}
	if ((d = fork()) == 0) {
		setpgid(0, 0);
		member();
	}
	setpgid(d, d);
	if ((e = fork()) == 0) {
		setpgid(0, d);
		member();
	}
	setpgid(e, d);
	wait_ready(0);
	while (__atomic_load_n(&shared[1], __ATOMIC_SEQ_CST) < 5)
		ms(1);
	printf("READY %d\n", getpid());
	fflush(stdout);
	while (!go())
		ms(5);
	wait_status(a, 0, "A");
	wait_status(d, 0, "D");
	wait_status(e, 0, "E");
	ids_same(&me, "the root");
	(void)st;
	printf("DONE ok\n");
	return 0;
}

static int stopped(void)
{
	pid_t w;
	int st;

	if ((w = fork()) == 0) {
		uint64_t k = 0;

		raise(SIGSTOP);
		/* continued only by the root, after the restart */
		while (!go())
			k++, ms(1);
		exit(0);
	}
	if (waitpid(w, &st, WUNTRACED) != w || !WIFSTOPPED(st))
		bad("the worker did not stop");
	printf("READY %d %d\n", getpid(), w);
	fflush(stdout);
	while (!go())
		ms(5);
	/* still stopped: nothing continued it */
	{
		char p[64], s[512], *q;
		FILE *f;

		snprintf(p, sizeof(p), "/proc/%d/stat", w);
		if (!(f = fopen(p, "r")) || !fgets(s, sizeof(s), f))
			bad("no worker");
		fclose(f);
		q = strrchr(s, ')');
		if (!q || q[2] != 'T')
			bad("the worker is not stopped: %s", s);
	}
	kill(w, SIGCONT);
	wait_status(w, 0, "the stopped worker");
	printf("DONE ok\n");
	return 0;
}

static int exec_child(void)
{
	pid_t c;
	char script[8192];

	snprintf(script, sizeof(script),
		 "i=0; while [ ! -e %s/go ]; do i=$((i+1)); echo $i > %s/sh.count; "
		 "sleep 0.005; done; echo $i > %s/sh.final", dir, dir, dir);
	if ((c = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 20000; i++) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/sh.count", dir);
		if (access(p, F_OK) == 0)
			break;
		ms(1);
	}
	printf("READY %d\n", getpid());
	fflush(stdout);
	while (!go())
		ms(5);
	wait_status(c, 0, "the shell");
	printf("DONE ok\n");
	return 0;
}

static int foreground(void)
{
	int tty = 0;		/* stdin, the terminal (an fd on /dev/tty itself: issue #12) */
	pid_t j;

	if (!isatty(tty))
		bad("stdin is not a terminal");
	if ((j = fork()) == 0) {
		setpgid(0, 0);
		__atomic_add_fetch(&shared[1], 1, __ATOMIC_SEQ_CST);
		while (!go())
			ms(2);
		if (tcgetpgrp(tty) != getpgrp())
			bad("the terminal's foreground group is %d, not ours (%d)", tcgetpgrp(tty),
			    getpgrp());
		exit(0);
	}
	setpgid(j, j);
	signal(SIGTTOU, SIG_IGN);
	if (tcsetpgrp(tty, j) < 0)
		bad("tcsetpgrp: %s", strerror(errno));
	while (__atomic_load_n(&shared[1], __ATOMIC_SEQ_CST) < 1)
		ms(1);
	printf("READY %d\n", getpid());
	fflush(stdout);
	while (!go())
		ms(5);
	wait_status(j, 0, "J");
	tcsetpgrp(tty, getpgrp());
	printf("DONE ok\n");
	return 0;
}

struct ipc_set {
	int shm, sem, msg, mfd;
	mqd_t mq;
	volatile uint64_t *c[3];	/* SysV shm, POSIX shm, memfd counters */
};

/* A process of the ipc scenario: adds under the semaphore until go; its adds to res.I. */
static void ipc_worker(struct ipc_set *x, int i)
{
	struct sembuf down = { 0, -1, SEM_UNDO }, up = { 0, 1, SEM_UNDO };
	uint64_t adds = 0;
	char name[32], line[32];
	int f;

	__atomic_add_fetch(&shared[1], 1, __ATOMIC_SEQ_CST);
	while (!go()) {
		if (semop(x->sem, &down, 1) < 0)
			bad("semop: %s", strerror(errno));
		for (int k = 0; k < 3; k++)
			x->c[k][0]++;	/* the semaphore, not atomics, keeps them right */
		adds++;
		if (semop(x->sem, &up, 1) < 0)
			bad("semop: %s", strerror(errno));
		ms(1);
	}
	if (i == 1) {
		struct { long type; char text[32]; } m;
		char buf[64];
		unsigned prio;

		for (int k = 0; k < 5; k++) {
			if (msgrcv(x->msg, &m, sizeof(m.text), 0, IPC_NOWAIT) < 0)
				bad("SysV message %d: %s", k, strerror(errno));
			snprintf(buf, sizeof(buf), "sysv %d", k);
			if (m.type != k + 1 || strcmp(m.text, buf))
				bad("SysV message %d: type %ld \"%s\"", k, m.type, m.text);
			ssize_t n = mq_receive(x->mq, buf, sizeof(buf), &prio);

			if (n < 0)
				bad("POSIX message %d: %s", k, strerror(errno));
			/* sent with priorities 0..4: they come highest first */
			snprintf(line, sizeof(line), "posix %d", 4 - k);
			if (prio != (unsigned)(4 - k) || strcmp(buf, line))
				bad("POSIX message %d: prio %u \"%s\"", k, prio, buf);
		}
	}
	snprintf(name, sizeof(name), "res.%d", i);
	f = path_open(name, O_WRONLY | O_CREAT | O_TRUNC);
	snprintf(line, sizeof(line), "%llu\n", (unsigned long long)adds);
	if (f < 0 || write(f, line, strlen(line)) < 0)
		bad("res");
	close(f);
	if (i)
		exit(0);
}

static int ipc(int key)
{
	struct ipc_set x;
	struct mq_attr a = { .mq_maxmsg = 10, .mq_msgsize = 64 };
	char pname[64];
	pid_t kids[2];
	uint64_t total = 0;
	union { int val; } u = { 1 };
	void *p;

	snprintf(pname, sizeof(pname), "/ckpt-tree-%d", key);
	x.shm = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	x.sem = semget(key + 1, 1, IPC_CREAT | IPC_EXCL | 0600);
	x.msg = msgget(key + 2, IPC_CREAT | IPC_EXCL | 0600);
	if (x.shm < 0 || x.sem < 0 || x.msg < 0)
		bad("SysV objects: %s", strerror(errno));
	if (semctl(x.sem, 0, SETVAL, u) < 0)
		bad("SETVAL: %s", strerror(errno));
	if ((p = shmat(x.shm, NULL, 0)) == (void *)-1)
		bad("shmat: %s", strerror(errno));
	x.c[0] = p;
	{
		int f = shm_open(pname, O_RDWR | O_CREAT | O_EXCL, 0600);

		if (f < 0 || ftruncate(f, 4096) < 0 ||
		    (p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0)) == MAP_FAILED)
			bad("POSIX shm: %s", strerror(errno));
		close(f);
		x.c[1] = p;
	}
	x.mfd = memfd_create("tree-ipc", 0);
	if (x.mfd < 0 || ftruncate(x.mfd, 4096) < 0 ||
	    (p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, x.mfd, 0)) == MAP_FAILED)
		bad("memfd: %s", strerror(errno));
	x.c[2] = p;
	x.mq = mq_open(pname, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	if (x.mq < 0)
		bad("mq_open: %s", strerror(errno));
	for (int k = 0; k < 5; k++) {
		struct { long type; char text[32]; } m = { k + 1, "" };
		char buf[32];

		snprintf(m.text, sizeof(m.text), "sysv %d", k);
		snprintf(buf, sizeof(buf), "posix %d", k);
		if (msgsnd(x.msg, &m, sizeof(m.text), 0) < 0 ||
		    mq_send(x.mq, buf, strlen(buf) + 1, (unsigned)k) < 0)
			bad("send: %s", strerror(errno));
	}
	for (int i = 1; i <= 2; i++)
		if ((kids[i - 1] = fork()) == 0)
			ipc_worker(&x, i);
	printf("ids %d %d %d\n", x.shm, x.sem, x.msg);
	while (__atomic_load_n(&shared[1], __ATOMIC_SEQ_CST) < 2)
		ms(1);
	printf("READY %d\n", getpid());
	fflush(stdout);
	ipc_worker(&x, 0);
	for (int i = 1; i <= 2; i++)
		wait_status(kids[i - 1], 0, "an ipc worker");
	for (int i = 0; i <= 2; i++)
		total += result(i);
	/*
	 * (k 1, the POSIX shm object: its saved contents are put back, so the
	 * killed original's adds after the checkpoint are undone, as in SysV
	 * shared memory)
	 */
	for (int k = 0; k < 3; k++)
		if (x.c[k][0] != total)
			bad("counter %d is %llu, the three added %llu", k,
			    (unsigned long long)x.c[k][0], (unsigned long long)total);
	shmctl(x.shm, IPC_RMID, NULL);
	semctl(x.sem, 0, IPC_RMID);
	msgctl(x.msg, IPC_RMID, NULL);
	mq_unlink(pname);
	shm_unlink(pname);
	printf("DONE ok %llu adds\n", (unsigned long long)total);
	return 0;
}

static int selfsave(const char *img)
{
	pid_t c;

	if ((c = fork()) == 0) {
		pid_t g;
		int r;

		if ((g = fork()) == 0) {
			while (!go())
				__atomic_add_fetch(&shared[0], 1, __ATOMIC_SEQ_CST), ms(1);
			exit(0);
		}
		while (__atomic_load_n(&shared[0], __ATOMIC_SEQ_CST) < 5)
			ms(1);
		r = ckpt_save(img);
		if (r == CKPT_SAVED) {
			printf("SAVED %d %d\n", getpid(), g);
			fflush(stdout);
			for (;;)
				pause();	/* the test kills it and its child */
		}
		if (r != CKPT_RESTORED)
			bad("ckpt_save: %s", ckpt_last_error());
		uint64_t at = __atomic_load_n(&shared[0], __ATOMIC_SEQ_CST);

		printf("RESTORED %d %d\n", getpid(), g);
		fflush(stdout);
		while (!go())
			ms(2);
		if (__atomic_load_n(&shared[0], __ATOMIC_SEQ_CST) <= at)
			bad("the grandchild did not step on in the shared memory");
		wait_status(g, 0, "the grandchild");
		printf("DONE ok\n");
		exit(0);
	}
	printf("READY %d\n", getpid());
	fflush(stdout);
	while (!go())
		ms(5);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	dir = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 2;
	if (!strcmp(argv[1], "basic") && argc == 4)
		return basic(atoi(argv[3]));
	if (!strcmp(argv[1], "session"))
		return session();
	if (!strcmp(argv[1], "stopped"))
		return stopped();
	if (!strcmp(argv[1], "exec"))
		return exec_child();
	if (!strcmp(argv[1], "fg"))
		return foreground();
	if (!strcmp(argv[1], "ipc") && argc == 4)
		return ipc((int)strtol(argv[3], NULL, 0));
	if (!strcmp(argv[1], "selfsave") && argc == 4)
		return selfsave(argv[3]);
	return 2;
}
