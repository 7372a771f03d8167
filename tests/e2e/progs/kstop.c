/*
 * kstop - the kernel-assist module's THREAD_STOP and THREAD_RESUME, from
 * userspace, without libckpt: what they return for threads in a blocking
 * read, a futex wait, a sleep and a busy loop that block every signal,
 * that a stopped thread really stays stopped and goes on after a resume
 * or the close of the fd that stopped it, and every bad input (another
 * process's tid, the caller, a dead tid, wrong sizes, flags, pointers, a
 * resume of a thread not stopped), then that a process exits cleanly
 * with a thread stopped.  Prints "ok N name" per check, "FAIL ..." and
 * exits 1 at the first failure, "kstop: all passed" at the end.
 * Exit 77 when /dev/ckpt-assist is missing or lacks the calls.
 *   kstop
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../../../kernel-assist/module/ckpt_assist_uapi.h"

static int dev, npass;
static int pipefd[2];
static volatile long reads, spins;
static int fword;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("FAIL: ");                                  \
			printf(__VA_ARGS__);                               \
			printf(" (errno %s)\n", strerror(errno));          \
			exit(1);                                           \
		}                                                          \
	} while (0)
#define OK(name) printf("ok %d %s\n", ++npass, name)

static void block_all(void)
{
	uint64_t all = ~0ull;

	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
}

static void *reader(void *arg)
{
	char c;

	(void)arg;
	block_all();
	for (;;)
		if (read(pipefd[0], &c, 1) == 1)
			__atomic_add_fetch(&reads, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *spinner(void *arg)
{
	(void)arg;
	block_all();
	for (;;)
		__atomic_add_fetch(&spins, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *futexer(void *arg)
{
	(void)arg;
	block_all();
	for (;;)
		syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL);
	return NULL;
}

static void *sleeper(void *arg)
{
	struct timespec ts = { 1000, 0 };

	(void)arg;
	block_all();
	for (;;)
		syscall(SYS_nanosleep, &ts, NULL);
	return NULL;
}

static void *quitter(void *arg)
{
	return arg;
}

static pid_t started_tid;
struct start { void *(*fn)(void *); };

static void *trampoline(void *arg)
{
	struct start *s = arg;

	__atomic_store_n(&started_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	return s->fn(NULL);
}

static pid_t start(void *(*fn)(void *))
{
	static struct start s;
	pthread_t t;
	pid_t tid;

	__atomic_store_n(&started_tid, 0, __ATOMIC_SEQ_CST);
	s.fn = fn;
	CHECK(pthread_create(&t, NULL, trampoline, &s) == 0, "pthread_create");
	while (!(tid = __atomic_load_n(&started_tid, __ATOMIC_SEQ_CST)))
		sched_yield();
	return tid;
}

/* The thread's state letter in /proc/self/task/TID/stat. */
static char state_of(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (!(f = fopen(path, "r")))
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : '?';
}

/* Waits (deadline 10 s) until the thread is asleep in state c. */
static int wait_state(pid_t tid, const char *states)
{
	for (int i = 0; i < 10000; i++) {
		if (strchr(states, state_of(tid)))
			return 1;
		usleep(1000);
	}
	return 0;
}

static int wait_reads(long n)
{
	for (int i = 0; i < 10000; i++) {
		if (__atomic_load_n(&reads, __ATOMIC_SEQ_CST) >= n)
			return 1;
		usleep(1000);
	}
	return 0;
}

static struct user_regs_struct regs;
static unsigned char xsave[64 * 1024] __attribute__((aligned(64)));

static long stop_fd(int fd, pid_t tid, struct ckpt_assist_thread_stop *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->tid = tid;
	a->regs = (uintptr_t)&regs;
	a->xsave = (uintptr_t)xsave;
	a->xsave_size = sizeof(xsave);
	return ioctl(fd, CKPT_ASSIST_IOC_THREAD_STOP, a);
}

static long resume_fd(int fd, pid_t tid)
{
	struct ckpt_assist_thread_resume r = { sizeof(r), (uint32_t)tid, 0 };

	return ioctl(fd, CKPT_ASSIST_IOC_THREAD_RESUME, &r);
}

static long raw_stop(void *arg)
{
	return ioctl(dev, CKPT_ASSIST_IOC_THREAD_STOP, arg);
}

static void expect_err(long r, int err, const char *what)
{
	CHECK(r == -1 && errno == err, "%s: want %s, got %ld", what, strerror(err), r);
	OK(what);
}

/* A child that stops a thread, then dies (exit or SIGKILL): it must go. */
static void die_stopped(int how)
{
	int st;
	pid_t c = fork();

	if (c == 0) {
		struct ckpt_assist_thread_stop a;
		pid_t t = start(spinner);

		if (stop_fd(dev, t, &a) < 0)
			_exit(3);
		if (how == 0)
			_exit(0);
		for (;;)
			pause();
	}
	if (how == SIGKILL) {
		/* the child reports nothing: kill it once one of its threads is stopped */
		int found = 0;

		for (int i = 0; i < 10000 && !found; i++) {
			char dir[64], p2[384], buf[512];
			struct dirent *e;
			DIR *d;

			snprintf(dir, sizeof(dir), "/proc/%d/task", c);
			if (!(d = opendir(dir)))
				break;
			while (!found && (e = readdir(d))) {
				FILE *f;

				if (e->d_name[0] == '.')
					continue;
				snprintf(p2, sizeof(p2), "%s/%s/stat", dir, e->d_name);
				if ((f = fopen(p2, "r"))) {
					size_t n = fread(buf, 1, sizeof(buf) - 1, f);
					char *q;

					fclose(f);
					buf[n] = 0;
					q = strrchr(buf, ')');
					found = q && q[2] == 'D';
				}
			}
			closedir(d);
			if (!found)
				usleep(1000);
		}
		CHECK(found, "child %d: its thread never showed stopped", c);
		kill(c, SIGKILL);
	}
	for (int i = 0; i < 10000; i++) {
		pid_t w = waitpid(c, &st, WNOHANG);

		if (w == c) {
			if (how == 0)
				CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %x", st);
			else
				CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %x", st);
			OK(how == 0 ? "exit with a thread stopped" : "SIGKILL with a thread stopped");
			return;
		}
		usleep(1000);
	}
	CHECK(0, "child %d did not end within 10 s with a thread stopped", c);
}

int main(void)
{
	struct ckpt_assist_version v = { .size = sizeof(v) };
	struct ckpt_assist_thread_stop a;
	unsigned char big[4200];
	pid_t rt, st, ft, nt, dead;
	pthread_t qt;
	int left = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	if ((dev = open(CKPT_ASSIST_DEV, O_RDWR | O_CLOEXEC)) < 0) {
		printf("SKIP: no %s: %s\n", CKPT_ASSIST_DEV, strerror(errno));
		return 77;
	}
	CHECK(ioctl(dev, CKPT_ASSIST_IOC_VERSION, &v) == 0, "VERSION");
	if (v.abi != CKPT_ASSIST_ABI || !(v.ops & CKPT_ASSIST_OP_THREAD_STOP) ||
	    !(v.ops & CKPT_ASSIST_OP_THREAD_RESUME)) {
		printf("SKIP: module abi %u ops %#llx: no THREAD_STOP/RESUME\n", v.abi,
		       (unsigned long long)v.ops);
		return 77;
	}
	CHECK(pipe(pipefd) == 0, "pipe");

	/* a blocking read: restarted, as SA_RESTART would */
	rt = start(reader);
	CHECK(wait_state(rt, "S"), "reader %d never slept", rt);
	CHECK(stop_fd(dev, rt, &a) == 0, "THREAD_STOP of a thread in read()");
	CHECK(regs.orig_rax == SYS_read && regs.rax == SYS_read, "read: orig_ax %lld ax %lld",
	      (long long)regs.orig_rax, (long long)regs.rax);
	CHECK(((unsigned char *)regs.rip)[0] == 0x0f && ((unsigned char *)regs.rip)[1] == 0x05,
	      "read: ip %#llx is not at its syscall instruction", (unsigned long long)regs.rip);
	CHECK((a.sigmask | (1ull << 8) | (1ull << 18)) == ~0ull, "sigmask %#llx",
	      (unsigned long long)a.sigmask);
	CHECK(a.xsave_size >= 512 && *(uint32_t *)(xsave + 24) != 0, "xsave %u bytes, mxcsr %#x",
	      a.xsave_size, *(uint32_t *)(xsave + 24));
	CHECK(regs.fs_base != 0 && a.clear_child_tid != 0, "fs_base %#llx clear_child_tid %#llx",
	      (unsigned long long)regs.fs_base, (unsigned long long)a.clear_child_tid);
	OK("stop in read(): restart registers, full mask, xsave, fs_base, clear_child_tid");
	CHECK(write(pipefd[1], "x", 1) == 1, "write");
	CHECK(wait_state(rt, "D"), "stopped reader %d is not in D", rt);
	CHECK(ioctl(pipefd[0], FIONREAD, &left) == 0 && left == 1, "the stopped reader read (%d left)",
	      left);
	OK("a stopped thread stays stopped");
	expect_err(stop_fd(dev, rt, &a), EBUSY, "stop twice through one fd: EBUSY");
	CHECK(resume_fd(dev, rt) == 0, "THREAD_RESUME");
	CHECK(wait_reads(1), "the resumed reader did not read");
	OK("resume: the reader goes on");
	expect_err(resume_fd(dev, rt), ESRCH, "resume of a thread not stopped: ESRCH");

	/* close of the fd that stopped it */
	{
		int fd2 = open(CKPT_ASSIST_DEV, O_RDWR | O_CLOEXEC);

		CHECK(fd2 >= 0, "second open");
		CHECK(wait_state(rt, "S"), "reader asleep again");
		CHECK(stop_fd(fd2, rt, &a) == 0, "stop through a second fd");
		expect_err(resume_fd(dev, rt), ESRCH, "resume through another fd: ESRCH");
		CHECK(write(pipefd[1], "y", 1) == 1, "write");
		close(fd2);
		CHECK(wait_reads(2), "closing the fd did not resume the reader");
		OK("close of the fd resumes its threads");
	}

	/* futex wait (restarted) and a sleep (-EINTR, its restart block is the kernel's) */
	ft = start(futexer);
	CHECK(wait_state(ft, "S"), "futexer asleep");
	CHECK(stop_fd(dev, ft, &a) == 0, "stop in futex");
	CHECK(regs.orig_rax == SYS_futex && regs.rax == SYS_futex, "futex: ax %lld",
	      (long long)regs.rax);
	CHECK(resume_fd(dev, ft) == 0, "resume futexer");
	OK("stop in futex_wait: restarted");
	nt = start(sleeper);
	CHECK(wait_state(nt, "S"), "sleeper asleep");
	CHECK(stop_fd(dev, nt, &a) == 0, "stop in nanosleep");
	CHECK(regs.orig_rax == SYS_nanosleep && (long long)regs.rax == -EINTR, "nanosleep: ax %lld",
	      (long long)regs.rax);
	CHECK(resume_fd(dev, nt) == 0, "resume sleeper");
	OK("stop in nanosleep: -EINTR, as SA_RESTART would");

	/* a busy loop: no system call to restart */
	st = start(spinner);
	CHECK(stop_fd(dev, st, &a) == 0, "stop a busy loop");
	CHECK((long long)regs.orig_rax == -1, "spinner orig_ax %lld", (long long)regs.orig_rax);
	CHECK(wait_state(st, "D"), "stopped spinner is not in D");
	{
		long s0 = __atomic_load_n(&spins, __ATOMIC_SEQ_CST), s1;

		usleep(20000);
		s1 = __atomic_load_n(&spins, __ATOMIC_SEQ_CST);
		CHECK(s0 == s1, "the stopped spinner still counts (%ld -> %ld)", s0, s1);
	}
	CHECK(resume_fd(dev, st) == 0, "resume spinner");
	OK("stop a busy loop: not in a system call, does not run");

	/* bad input */
	expect_err(stop_fd(dev, (pid_t)syscall(SYS_gettid), &a), ESRCH, "stop the caller: ESRCH");
	expect_err(stop_fd(dev, 1, &a), ESRCH, "stop pid 1 (another process): ESRCH");
	expect_err(stop_fd(dev, getppid(), &a), ESRCH, "stop the parent: ESRCH");
	__atomic_store_n(&started_tid, 0, __ATOMIC_SEQ_CST);
	CHECK(pthread_create(&qt, NULL, trampoline, &(struct start){ quitter }) == 0, "create");
	while (!(dead = __atomic_load_n(&started_tid, __ATOMIC_SEQ_CST)))
		sched_yield();
	pthread_join(qt, NULL);
	expect_err(stop_fd(dev, dead, &a), ESRCH, "stop a dead tid: ESRCH");
	expect_err(stop_fd(dev, 0, &a), ESRCH, "stop tid 0: ESRCH");
	expect_err(stop_fd(dev, -5, &a), ESRCH, "stop tid -5: ESRCH");
	stop_fd(dev, st, &a);			/* fills a, stops the spinner */
	resume_fd(dev, st);
	a.size = 8;
	expect_err(raw_stop(&a), EINVAL, "stop with size 8: EINVAL");
	a.size = 47;
	expect_err(raw_stop(&a), EINVAL, "stop with size 47: EINVAL");
	a.size = 5000;
	expect_err(raw_stop(&a), E2BIG, "stop with size 5000: E2BIG");
	memset(big, 0, sizeof(big));
	memcpy(big, &a, sizeof(a));
	((struct ckpt_assist_thread_stop *)big)->size = sizeof(big);
	big[sizeof(big) - 1] = 1;
	expect_err(raw_stop(big), E2BIG, "stop with a nonzero unknown tail: E2BIG");
	stop_fd(dev, st, &a);
	resume_fd(dev, st);
	a.flags = 1;
	expect_err(raw_stop(&a), EINVAL, "stop with flags 1: EINVAL");
	a.flags = 0;
	a.reserved = 1;
	expect_err(raw_stop(&a), EINVAL, "stop with reserved 1: EINVAL");
	a.reserved = 0;
	a.regs = 0;
	expect_err(raw_stop(&a), EFAULT, "stop with regs 0: EFAULT");
	a.regs = 4096;
	expect_err(raw_stop(&a), EFAULT, "stop with an unmapped regs: EFAULT");
	expect_err(resume_fd(dev, st), ESRCH, "...and the thread is not left stopped");
	a.regs = (uintptr_t)&regs;
	a.xsave_size = 0;
	expect_err(raw_stop(&a), ENOSPC, "stop with xsave_size 0: ENOSPC");
	CHECK(a.xsave_size >= 512, "ENOSPC did not say the size needed (%u)", a.xsave_size);
	OK("ENOSPC sets xsave_size");
	expect_err(resume_fd(dev, st), ESRCH, "...and nothing was stopped");
	expect_err(ioctl(dev, CKPT_ASSIST_IOC_THREAD_STOP, (void *)8), EFAULT,
		   "stop with an unmapped struct: EFAULT");
	{
		struct ckpt_assist_thread_resume r = { 8, (uint32_t)st, 0 };

		expect_err(ioctl(dev, CKPT_ASSIST_IOC_THREAD_RESUME, &r), EINVAL,
			   "resume with size 8: EINVAL");
		r.size = sizeof(r);
		r.flags = 2;
		expect_err(ioctl(dev, CKPT_ASSIST_IOC_THREAD_RESUME, &r), EINVAL,
			   "resume with flags 2: EINVAL");
		r.flags = 0;
		r.tid = 1;
		expect_err(ioctl(dev, CKPT_ASSIST_IOC_THREAD_RESUME, &r), ESRCH,
			   "resume of pid 1: ESRCH");
	}
	expect_err(ioctl(dev, _IO(CKPT_ASSIST_MAGIC, 99), &a), ENOTTY, "unknown ioctl: ENOTTY");

	/* a process that ends with one of its threads stopped */
	die_stopped(0);
	die_stopped(SIGKILL);
	printf("kstop: all passed (%d)\n", npass);
	return 0;
}
