/*
 * ckpt_kstop.c - threads libckpt's signal cannot reach, stopped through the
 * kernel-assist module (/dev/ckpt-assist, THREAD_STOP and THREAD_RESUME).
 *
 * A thread that blocks every signal (glibc's helper thread for SIGEV_THREAD
 * timers and mq_notify, a thread that blocked them with a raw
 * rt_sigprocmask) never runs libckpt's handler, so it cannot park itself
 * (ckpt_park.c).  When the module is there, the leader asks the kernel to
 * stop it instead: it stays in the kernel, on its way back to user mode,
 * until the release; the module hands out its user registers (an
 * interrupted system call turned into what a handler with SA_RESTART would
 * return to), XSAVE state, blocked mask, set_tid_address pointer and
 * altstack.
 *
 * Its THREAD record is then like a parked thread's, so the restart needs
 * nothing new: the leader writes, on the thread's own stack below its red
 * zone, the signal frame the kernel would have built had libckpt's signal
 * interrupted it there (siginfo, ucontext with those registers and mask,
 * the XSAVE area with its FP_XSTATE_MAGIC2), and the record points at it.
 * The restarted thread re-enters through that frame as every parked thread
 * does.  Writing below the red zone of a thread that is stopped changes
 * nothing it may rely on (any signal may write there); the write goes
 * through process_vm_writev, so a stack too small fails the checkpoint by
 * name instead of faulting in the handler.
 *
 * What only the thread itself can ask the kernel for, and the module does
 * not hand out (timer slack, parent-death signal, securebits, speculation
 * and mempolicy settings...), is taken as the leader's: glibc's helper
 * threads inherit them from the thread that made them (docs/SUPPORT.md).
 * Its affinity, scheduling, capabilities, seccomp mode, name, robust list,
 * pending signals and CPU time are its own, read by tid.
 *
 * Signal context: raw system calls only.  One fd per checkpoint, libckpt's
 * own (ckpt_fds_own): closing it, or the process dying, resumes every
 * thread stopped through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "kernel-assist/module/ckpt_assist_uapi.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/reg_attr.h"

#define KST_XSAVE_MAX	(64 * 1024)	/* c->bounce: the module's XSAVE area */
#define KST_FRAME_AT	(64 * 1024)	/* c->bounce: the frame, as written */
#define KST_MAGIC2	0x46505845u	/* FP_XSTATE_MAGIC2 */
#define KST_REDZONE	128

static int kst_fd = -1;
static int kst_probed;			/* 1 usable, -1 not, 0 not asked yet */

int ckpt_kstop_own_fd(int fd)
{
	return fd >= 0 && fd == kst_fd;
}

int ckpt_kstop_available(void)
{
	struct ckpt_assist_version v = { .size = sizeof(v) };
	int fd;

	if (kst_probed)
		return kst_probed > 0;
	kst_probed = -1;
	fd = (int)arch_sys3(SYS_open, CKPT_ASSIST_DEV, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (arch_sys3(SYS_ioctl, fd, CKPT_ASSIST_IOC_VERSION, &v) < 0 || v.abi != CKPT_ASSIST_ABI ||
	    !(v.ops & CKPT_ASSIST_OP_THREAD_STOP) || !(v.ops & CKPT_ASSIST_OP_THREAD_RESUME)) {
		arch_sys1(SYS_close, fd);
		return 0;
	}
	kst_fd = fd;
	kst_probed = 1;
	return 1;
}

/* sa_restorer of libckpt's signal: where a handler's `ret` goes (pretcode). */
static uint64_t restorer_of(int sig)
{
	struct { uint64_t handler, flags, restorer, mask; } sa = { 0 };

	arch_sys4(SYS_rt_sigaction, sig, NULL, &sa, 8);
	return sa.restorer;
}

/*
 * The frame the kernel would build (x86 get_sigframe, no altstack switch):
 * below the red zone the XSAVE area (64-byte aligned, FP_XSTATE_MAGIC2
 * after it), below it the rt_sigframe, its pretcode at 16n - 8.  Returns
 * the frame's address in the thread's stack, or 0 if it cannot be written.
 */
static uint64_t write_frame(struct ckpt_ctx *c, const struct user_regs_struct *r,
			    const struct ckpt_assist_thread_stop *a)
{
	const unsigned char *xs = c->bounce;
	unsigned char *img = c->bounce + KST_FRAME_AT;
	uint64_t fp = (r->rsp - KST_REDZONE - a->xsave_size - 4) & ~63ull;
	uint64_t at = ((fp - sizeof(struct arch_rt_sigframe) + 8) & ~15ull) - 8;
	uint64_t len = fp + a->xsave_size + 4 - at;
	struct arch_rt_sigframe *f = (struct arch_rt_sigframe *)img;
	struct arch_sigcontext *m = &f->uc.uc_mcontext;
	uint32_t magic2 = KST_MAGIC2;
	int xstate = a->xsave_size > 512;

	if (len > IMG_PAGES_MAX * IMG_PAGE_SIZE - KST_FRAME_AT)
		return 0;
	__builtin_memset(img, 0, len);
	f->pretcode = restorer_of(c->ctl_sig_no);
	f->uc.uc_flags = (xstate ? ARCH_UC_FP_XSTATE : 0) | ARCH_UC_SIGCONTEXT_SS |
			 ARCH_UC_STRICT_RESTORE_SS;
	f->uc.uc_stack.ss_sp = a->ss_sp;
	f->uc.uc_stack.ss_size = a->ss_size;
	f->uc.uc_stack.ss_flags = (int32_t)(a->ss_flags & ~SS_ONSTACK);
	m->r8 = r->r8, m->r9 = r->r9, m->r10 = r->r10, m->r11 = r->r11;
	m->r12 = r->r12, m->r13 = r->r13, m->r14 = r->r14, m->r15 = r->r15;
	m->rdi = r->rdi, m->rsi = r->rsi, m->rbp = r->rbp, m->rbx = r->rbx;
	m->rdx = r->rdx, m->rax = r->rax, m->rcx = r->rcx, m->rsp = r->rsp;
	m->rip = r->rip, m->eflags = r->eflags;
	m->cs = (uint16_t)r->cs, m->ss = (uint16_t)r->ss;
	m->oldmask = a->sigmask;
	m->fpstate = fp;
	f->uc.uc_sigmask = a->sigmask;
	((int32_t *)f->info)[0] = c->ctl_sig_no;	/* si_signo; si_code 0 (SI_USER) */
	__builtin_memcpy(img + (fp - at), xs, a->xsave_size);
	if (xstate)
		__builtin_memcpy(img + (fp - at) + a->xsave_size, &magic2, 4);

	struct iovec local = { img, len }, remote = { (void *)at, len };

	if (arch_sys6(SYS_process_vm_writev, arch_sys0(SYS_getpid), &local, 1, &remote, 1, 0) !=
	    (long)len)
		return 0;
	return at;
}

/* "Name:\t..." of the thread's status into the slot: pending signals, seccomp. */
static void by_tid(struct ckpt_ctx *c, int tid, struct ckpt_thread_state *t)
{
	struct img_thread *m = &t->img;
	char path[64], *status = (char *)c->bounce + KST_FRAME_AT;
	const char *s;
	uint64_t head = 0, len = 0;
	int n;

	ckpt_fmt(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (ckpt_read_file(path, status, 4096) < 0)
		status[0] = '\0';
	if ((s = __builtin_strstr(status, "\nSigPnd:\t"))) {
		s += 9;
		m->sigpending = ckpt_parse_hex(&s);
	}
	if ((s = __builtin_strstr(status, "\nShdPnd:\t"))) {
		s += 9;
		t->shdpending = ckpt_parse_hex(&s);
	}
	/* seccomp from its own status; the rest as the leader's (see the top) */
	ckpt_attr_thread(t, status[0] ? status : NULL);
	arch_sys3(SYS_sched_getaffinity, tid, sizeof(m->affinity), m->affinity);
	m->ioprio = (uint32_t)arch_sys2(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, tid);
	if (arch_sys3(SYS_get_robust_list, tid, &head, &len) == 0) {
		m->robust_head = head;
		m->robust_len = len;
	}
	ckpt_fmt(path, sizeof(path), "/proc/self/task/%d/comm", tid);
	n = (int)ckpt_read_file(path, m->comm, sizeof(m->comm));
	if (n > 0 && n <= (int)sizeof(m->comm) && m->comm[n - 1] == '\n')
		m->comm[n - 1] = '\0';
	m->comm[sizeof(m->comm) - 1] = '\0';

	struct __user_cap_header_struct { uint32_t version; int pid; } ch = { 0x20080522, tid };
	struct { uint32_t effective, permitted, inheritable; } cd[2] = { { 0 } };

	arch_sys2(SYS_capget, &ch, cd);
	m->cap_effective = cd[0].effective | (uint64_t)cd[1].effective << 32;
	m->cap_permitted = cd[0].permitted | (uint64_t)cd[1].permitted << 32;
	m->cap_inheritable = cd[0].inheritable | (uint64_t)cd[1].inheritable << 32;

	struct arch_sched_attr sa = { .size = sizeof(sa) };

	if (arch_sys4(SYS_sched_getattr, tid, &sa, sizeof(sa), 0) == 0) {
		m->sched_policy = sa.policy;
		m->sched_nice = sa.nice;
		m->sched_priority = sa.priority;
		m->sched_flags = sa.flags;
	}
	ckpt_cpuclock_capture_tid(tid, m->fs_base, &m->cpu_ns);
}

int ckpt_kstop_thread(struct ckpt_ctx *c, int tid, struct ckpt_thread_state *t)
{
	struct user_regs_struct r;
	struct ckpt_assist_thread_stop a = { .size = sizeof(a), .tid = (uint32_t)tid };
	uint64_t frame;
	long e;

	a.regs = (uintptr_t)&r;
	a.xsave = (uintptr_t)c->bounce;		/* page aligned */
	a.xsave_size = KST_XSAVE_MAX;
	if ((e = arch_sys3(SYS_ioctl, kst_fd, CKPT_ASSIST_IOC_THREAD_STOP, &a)) < 0) {
		if (e == -ESRCH)
			return -ESRCH;		/* exited meanwhile */
		return ckpt_fail(c, (int)e, "thread %d blocks libckpt's signal, and the kernel-"
				 "assist module could not stop it: %s%s", tid, ckpt_strerror((int)-e),
				 e == -EAGAIN ? " (it did not stop within 2 s: in an "
				 "uninterruptible wait, or stopped by a signal or a tracer)" : "");
	}
	if (c->kstop_tls && c->kstop_tls(r.fs_base)) {
		/* inside libckpt's handler: it is asked to park once out */
		struct ckpt_assist_thread_resume rs = { sizeof(rs), (uint32_t)tid, 0 };

		arch_sys3(SYS_ioctl, kst_fd, CKPT_ASSIST_IOC_THREAD_RESUME, &rs);
		return -EINPROGRESS;
	}
	/* from here on the release resumes it, whatever fails (ckpt_kstop_release) */
	__builtin_memset(&t->img, 0, sizeof(t->img));
	t->img.tid = tid;
	t->kstopped = 1;
	t->sig_owed = 0;
	t->img.fs_base = r.fs_base;
	t->img.gs_base = r.gs_base;
	t->img.ss_sp = a.ss_sp;
	t->img.ss_size = a.ss_size;
	t->img.ss_flags = a.ss_flags & ~SS_ONSTACK;
	t->img.clear_tid = a.clear_child_tid;
	/*
	 * The post-restore handler runs with the mask the kernel would give
	 * libckpt's handler in this thread: its own and the handler's (the
	 * leader's now holds the handler's sa_mask).  Its own matters: a
	 * signal it blocks (glibc's SIGTIMER, whose default kills) may come
	 * as soon as the restorer arms the timers.
	 */
	arch_sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &t->handler_mask, 8);
	t->handler_mask |= a.sigmask;
	t->sig = c->ctl_sig_no;
	if (!(frame = write_frame(c, &r, &a)))
		return ckpt_fail(c, -EFAULT, "thread %d blocks libckpt's signal and was stopped by "
				 "the kernel-assist module, but its stack has no room below "
				 "%#llx for the %u bytes of its saved context", tid,
				 (unsigned long long)r.rsp, a.xsave_size + 1024);
	t->uc = (ucontext_t *)(uintptr_t)(frame + 8);
	t->info = (siginfo_t *)(uintptr_t)(frame + 8 + sizeof(struct arch_ucontext));
	by_tid(c, tid, t);
	if (c->kstop_tls)
		c->kstop_tls(t->img.fs_base);
	return 0;
}

void ckpt_kstop_release(int nslots)
{
	int n = nslots < CKPT_MAX_THREADS ? nslots : CKPT_MAX_THREADS;

	if (kst_fd < 0) {
		kst_probed = 0;
		return;
	}
	for (int i = 0; i < n; i++) {
		struct ckpt_thread_state *t = &ckpt_parked[i];
		struct ckpt_assist_thread_resume r = { sizeof(r), (uint32_t)t->img.tid, 0 };

		if (t->kstopped) {
			arch_sys3(SYS_ioctl, kst_fd, CKPT_ASSIST_IOC_THREAD_RESUME, &r);
			t->kstopped = 0;
		}
	}
	arch_sys1(SYS_close, kst_fd);		/* resumes any other it stopped */
	kst_fd = -1;
	kst_probed = 0;
}

/* In a restarted copy: the fd was the original's, the module may be gone. */
void ckpt_kstop_reset(void)
{
	kst_fd = -1;
	kst_probed = 0;
}
