/*
 * modioctl.c - the kernel-assist module (/dev/ckpt-assist) on its own,
 * for the VM tests (tests/kernel/t_mod_*.sh).  Static: nothing preloaded.
 *   modioctl bad listed|unlisted   every call with wrong arguments gets its
 *                                  error, as a caller the policy lists or not
 *   modioctl clone PID             a process with pid PID and a thread
 *                                  with tid PID+1 (its stack, its TLS); none
 *                                  keeps a capability the caller lacks
 *   modioctl timer                 TIMER_ID: the next timer_create gets the id
 * One line per check ("ok ..." or "FAIL ..."); exit 0 when every check
 * passed, 1 otherwise, 77 when there is no module.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <asm/prctl.h>
#include "kernel-assist/module/ckpt_assist_uapi.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

static int fd, failed;

static void check(const char *what, long r, int want_errno)
{
	int e = r < 0 ? errno : 0;

	if (e == want_errno) {
		printf("ok   %s: %s\n", what, want_errno ? strerror(e) : "0");
	} else {
		printf("FAIL %s: got %s, want %s\n", what, e ? strerror(e) : "success",
		       want_errno ? strerror(want_errno) : "success");
		failed = 1;
	}
}

static long ioc(unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg);
}

/* The raw ioctl: the child returns here with 0, on the stack it was given. */
static long ioc_clone(struct ckpt_assist_clone *c)
{
	return syscall(SYS_ioctl, fd, CKPT_ASSIST_IOC_CLONE, c);
}

static int has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

static void bad_version(void)
{
	struct { struct ckpt_assist_version v; uint64_t tail[4]; } big;
	struct ckpt_assist_version v;

	memset(&v, 0, sizeof(v));
	check("VERSION size 0", ioc(CKPT_ASSIST_IOC_VERSION, &v), EINVAL);
	v.size = 16;
	check("VERSION size 16", ioc(CKPT_ASSIST_IOC_VERSION, &v), EINVAL);
	v.size = sizeof(v);
	check("VERSION", ioc(CKPT_ASSIST_IOC_VERSION, &v), 0);
	if (v.abi != CKPT_ASSIST_ABI || !(v.ops & CKPT_ASSIST_OP_CLONE)) {
		printf("FAIL VERSION: abi %u ops 0x%llx\n", v.abi, (unsigned long long)v.ops);
		failed = 1;
	}
	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	check("VERSION larger, zero tail", ioc(CKPT_ASSIST_IOC_VERSION, &big), 0);
	big.tail[3] = 1;
	check("VERSION larger, nonzero tail", ioc(CKPT_ASSIST_IOC_VERSION, &big), E2BIG);
	big.v.size = 1 << 20;
	check("VERSION size 1 MiB", ioc(CKPT_ASSIST_IOC_VERSION, &big), E2BIG);
	check("VERSION NULL", ioc(CKPT_ASSIST_IOC_VERSION, NULL), EFAULT);
	check("VERSION kernel address", ioc(CKPT_ASSIST_IOC_VERSION, (void *)0xffffffff81000000ul), EFAULT);
	check("unknown ioctl", ioc(_IO(CKPT_ASSIST_MAGIC, 99), &v), ENOTTY);
	check("other magic", ioc(_IO('T', 1), &v), ENOTTY);
}

static void clone_init(struct ckpt_assist_clone *c, pid_t pid)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->pid = pid;
	c->exit_signal = SIGCHLD;
}

/* A CLONE that must fail; a child it made by mistake exits at once. */
static void clone_bad(const char *what, struct ckpt_assist_clone *c, int want)
{
	long r = ioc_clone(c);

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid(r, NULL, __WALL);
	check(what, r, want);
}

/* The policy's pid range as the module has it now (root: any pid). */
static int in_range(pid_t p)
{
	long lo = 300, hi = 4194304;
	FILE *f;

	if (geteuid() == 0)
		return 1;
	if ((f = fopen("/sys/module/ckpt_assist/parameters/pid_min", "r"))) {
		if (fscanf(f, "%ld", &lo) != 1)
			lo = 300;
		fclose(f);
	}
	if ((f = fopen("/sys/module/ckpt_assist/parameters/pid_max", "r"))) {
		if (fscanf(f, "%ld", &hi) != 1)
			hi = 4194304;
		fclose(f);
	}
	return p >= lo && p <= hi;
}

/* What a well-formed CLONE of pid p gets: the policy's answer, else the kernel's. */
static int expect(int listed, pid_t p, int kernel)
{
	return !listed || !in_range(p) ? EPERM : kernel;
}

/* A free pid near ours. */
static pid_t free_pid(void)
{
	for (pid_t p = getpid() + 1000; p < getpid() + 100000; p++)
		if (kill(p, 0) < 0 && errno == ESRCH)
			return p;
	return 0;
}

static void bad_clone(int listed)
{
	struct ckpt_assist_clone c;
	pid_t p = free_pid();
	clone_init(&c, p);
	c.size = CKPT_ASSIST_CLONE_SIZE0 - 1;
	clone_bad("CLONE size 71", &c, EINVAL);
	clone_init(&c, p);
	c.reserved = 1;
	clone_bad("CLONE reserved", &c, EINVAL);
	clone_init(&c, p);
	c.flags = CLONE_NEWPID;
	clone_bad("CLONE CLONE_NEWPID", &c, EINVAL);
	c.flags = CLONE_PIDFD;
	clone_bad("CLONE CLONE_PIDFD", &c, EINVAL);
	c.flags = CLONE_VFORK;
	clone_bad("CLONE CLONE_VFORK", &c, EINVAL);
	c.flags = 1ull << 40;
	clone_bad("CLONE flag bit 40", &c, EINVAL);
	c.flags = SIGCHLD;
	clone_bad("CLONE signal in flags", &c, EINVAL);
	clone_init(&c, p);
	c.exit_signal = 100;
	clone_bad("CLONE exit_signal 100", &c, EINVAL);
	clone_init(&c, p);
	c.flags = CLONE_THREAD | CLONE_VM;
	c.exit_signal = 0;
	clone_bad("CLONE THREAD without SIGHAND", &c, EINVAL);
	c.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	c.exit_signal = SIGCHLD;
	clone_bad("CLONE THREAD with exit_signal", &c, EINVAL);
	clone_init(&c, 0);
	clone_bad("CLONE pid 0", &c, EINVAL);
	clone_init(&c, -1);
	clone_bad("CLONE pid -1", &c, EINVAL);
	clone_init(&c, 1ll << 31);
	clone_bad("CLONE pid 2^31", &c, EINVAL);
	clone_init(&c, 4194304 + 1);
	clone_bad("CLONE pid above pid_max", &c, expect(listed, 4194304 + 1, EINVAL));
	clone_init(&c, p);
	c.stack = 0x10000;
	clone_bad("CLONE stack without size", &c, EINVAL);
	c.stack = 0;
	c.stack_size = 4096;
	clone_bad("CLONE size without stack", &c, EINVAL);
	c.stack = 0xffffffff81000000ull;
	c.stack_size = 4096;
	clone_bad("CLONE kernel stack", &c, EINVAL);
	c.stack = ~0ull - 100;
	clone_bad("CLONE stack wraps", &c, EINVAL);
	clone_init(&c, p);
	c.flags = CLONE_SETTLS;
	c.tls = 0xffffffff81000000ull;
	clone_bad("CLONE kernel TLS", &c, EPERM);
	clone_init(&c, getpid());
	clone_bad("CLONE pid in use (ours)", &c, expect(listed, getpid(), EEXIST));
	clone_init(&c, 1);
	clone_bad("CLONE pid 1", &c, expect(listed, 1, EEXIST));
	clone_init(&c, p);
	clone_bad("CLONE a free pid", &c, expect(listed, p, 0));
	check("CLONE NULL", ioc(CKPT_ASSIST_IOC_CLONE, NULL), EFAULT);

	/* under a seccomp filter: refused whatever the policy (the filter allows all) */
	pid_t k = fork();

	if (k == 0) {
		struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		struct sock_fprog prog = { 1, &allow };

		failed = 0;
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
			printf("FAIL seccomp: %s\n", strerror(errno));
			_exit(1);
		}
		clone_init(&c, p);
		clone_bad("CLONE under seccomp", &c, EPERM);
		fflush(stdout);
		_exit(failed);
	}
	int st;

	waitpid(k, &st, 0);
	failed |= !WIFEXITED(st) || WEXITSTATUS(st);
}

static void bad_timer(void)
{
	struct ckpt_assist_timer_id t = { sizeof(t), 0, 5 };
	struct sigevent ev = { .sigev_notify = SIGEV_NONE };
	int32_t id;

	t.size = 8;
	check("TIMER_ID size 8", ioc(CKPT_ASSIST_IOC_TIMER_ID, &t), EINVAL);
	t.size = sizeof(t);
	t.reserved = 1;
	check("TIMER_ID reserved", ioc(CKPT_ASSIST_IOC_TIMER_ID, &t), EINVAL);
	t.reserved = 0;
	t.id = -1;
	check("TIMER_ID id -1", ioc(CKPT_ASSIST_IOC_TIMER_ID, &t), EINVAL);
	t.id = 1ll << 31;
	check("TIMER_ID id 2^31", ioc(CKPT_ASSIST_IOC_TIMER_ID, &t), EINVAL);
	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) < 0) {
		printf("FAIL timer_create: %s\n", strerror(errno));
		failed = 1;
		return;
	}
	t.id = id;
	check("TIMER_ID id in use", ioc(CKPT_ASSIST_IOC_TIMER_ID, &t), EEXIST);
	check("TIMER_ID NULL", ioc(CKPT_ASSIST_IOC_TIMER_ID, NULL), EFAULT);
	syscall(SYS_timer_delete, id);
}

static void bad_exe(int listed)
{
	struct ckpt_assist_exe_link e = { sizeof(e), -1, 0 };
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	e.size = 8;
	check("EXE_LINK size 8", ioc(CKPT_ASSIST_IOC_EXE_LINK, &e), EINVAL);
	e.size = sizeof(e);
	e.flags = 1;
	check("EXE_LINK flags", ioc(CKPT_ASSIST_IOC_EXE_LINK, &e), EINVAL);
	e.flags = 0;
	check("EXE_LINK fd -1", ioc(CKPT_ASSIST_IOC_EXE_LINK, &e), listed ? EBADF : EPERM);
	e.fd = dir;
	check("EXE_LINK a directory", ioc(CKPT_ASSIST_IOC_EXE_LINK, &e), listed ? EACCES : EPERM);
	/* our own executable is mapped: the kernel refuses to replace it */
	e.fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	check("EXE_LINK while mapped", ioc(CKPT_ASSIST_IOC_EXE_LINK, &e), listed ? EBUSY : EPERM);
	close(e.fd);
	close(dir);
}

static void bad_thread(void)
{
	struct { uint32_t size, tid; uint64_t flags; } r = { 16, (uint32_t)getpid(), 0 };
	struct ckpt_assist_version v = { .size = sizeof(v) };

	ioc(CKPT_ASSIST_IOC_VERSION, &v);
	if (v.ops & CKPT_ASSIST_OP_THREAD_RESUME) {
		r.size = 4;
		check("THREAD_RESUME size 4", ioc(CKPT_ASSIST_IOC_THREAD_RESUME, &r), EINVAL);
		r.size = 16;
		r.flags = 1;
		check("THREAD_RESUME flags", ioc(CKPT_ASSIST_IOC_THREAD_RESUME, &r), EINVAL);
	} else {
		check("THREAD_RESUME (not built)", ioc(CKPT_ASSIST_IOC_THREAD_RESUME, &r), ENOTTY);
	}
}

/* ---- modioctl clone PID ---- */

static volatile int thread_done;
static uint64_t thread_fs;
static pid_t thread_tid;

void thread_main(void);
void thread_main(void)
{
	syscall(SYS_arch_prctl, ARCH_GET_FS, &thread_fs);
	thread_tid = (pid_t)syscall(SYS_gettid);
	__atomic_store_n(&thread_done, has_cap(CAP_CHECKPOINT_RESTORE) + 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &thread_done, 1 /* FUTEX_WAKE */, 1, 0, 0, 0);
	syscall(SYS_exit, 0);
}

/* The thread's start: on its own stack, no libc state (its TLS is a dummy). */
__asm__(".text\n.type thread_entry,@function\nthread_entry:\n"
	"	and $-16, %rsp\n	call thread_main\n	hlt\n");
long thread_clone(int fd_, struct ckpt_assist_clone *c);
__asm__(".text\n.globl thread_clone\n.type thread_clone,@function\nthread_clone:\n"
	"	mov %rsi, %rdx\n	mov $0xc701, %esi\n	mov $16, %eax\n	syscall\n"
	"	test %rax, %rax\n	jz thread_entry\n	ret\n");

static int do_clone(pid_t pid)
{
	struct ckpt_assist_clone c;
	static char stack[64 * 1024] __attribute__((aligned(16)));
	static uint64_t tls_block[8];
	int st, had = has_cap(CAP_CHECKPOINT_RESTORE);

	clone_init(&c, pid);
	long r = ioc_clone(&c);

	if (r == 0) {
		/* the child: its pid, and no capability its parent lacked */
		if (getpid() != pid)
			_exit(3);
		_exit(has_cap(CAP_CHECKPOINT_RESTORE) > had ? 4 : 0);
	}
	check("CLONE process", r, 0);
	if (r > 0) {
		if (r != pid) {
			printf("FAIL CLONE process: pid %ld, want %d\n", r, pid);
			failed = 1;
		}
		waitpid(r, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("FAIL CLONE process child: status 0x%x (3: wrong pid, 4: kept the capability)\n", st);
			failed = 1;
		} else {
			printf("ok   CLONE process: pid %d, no capability kept\n", pid);
		}
	}
	/* the same pid again, while no one holds it, then while a process does */
	pid_t k = fork();

	if (k == 0) {
		pause();
		_exit(0);
	}
	clone_init(&c, k);
	clone_bad("CLONE pid of a live process", &c, expect(1, k, EEXIST));
	kill(k, SIGKILL);
	waitpid(k, NULL, 0);

	/* a thread with tid pid+1, its own stack and TLS */
	clone_init(&c, pid + 1);
	c.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		  CLONE_SYSVSEM | CLONE_SETTLS;
	c.exit_signal = 0;
	c.stack = (uintptr_t)stack;
	c.stack_size = sizeof(stack);
	c.tls = (uintptr_t)tls_block;
	r = thread_clone(fd, &c);
	if (r < 0) {
		check("CLONE thread", -1, 0);
		return failed;
	}
	while (!__atomic_load_n(&thread_done, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &thread_done, 0 /* FUTEX_WAIT */, 0, 0, 0, 0);
	if (r != pid + 1 || thread_tid != pid + 1 || thread_fs != (uintptr_t)tls_block ||
	    thread_done - 1 > had) {
		printf("FAIL CLONE thread: tid %ld/%d want %d, fs 0x%llx want %p, capability %s\n",
		       r, thread_tid, pid + 1, (unsigned long long)thread_fs, (void *)tls_block,
		       thread_done - 1 > had ? "kept" : "as the caller's");
		failed = 1;
	} else {
		printf("ok   CLONE thread: tid %d, its stack and TLS, no capability kept\n", pid + 1);
	}
	return failed;
}

static int do_timer(void)
{
	struct sigevent ev = { .sigev_notify = SIGEV_NONE };
	int want[] = { 7, 3, 1000, 123456 };
	int32_t id;		/* the kernel's timer_t (glibc's is a pointer) */

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct ckpt_assist_timer_id t = { sizeof(t), 0, want[i] };

		check("TIMER_ID", ioc(CKPT_ASSIST_IOC_TIMER_ID, &t), 0);
		if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) < 0 ||
		    id != want[i]) {
			printf("FAIL timer_create after TIMER_ID %d: %d\n", want[i], id);
			failed = 1;
		} else {
			printf("ok   timer_create gave id %d\n", want[i]);
		}
	}
	return failed;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open(CKPT_ASSIST_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("SKIP: %s: %s\n", CKPT_ASSIST_DEV, strerror(errno));
		return 77;
	}
	if (argc == 3 && !strcmp(argv[1], "bad")) {
		bad_version();
		bad_clone(!strcmp(argv[2], "listed"));
		bad_timer();
		bad_exe(!strcmp(argv[2], "listed"));
		bad_thread();
		return failed;
	}
	if (argc == 3 && !strcmp(argv[1], "clone"))
		return do_clone(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "timer"))
		return do_timer();
	fprintf(stderr, "usage: modioctl bad listed|unlisted | clone PID | timer\n");
	return 2;
}
