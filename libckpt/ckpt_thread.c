/*
 * ckpt_thread.c - THREAD records: each thread captures its own state in
 * its handler (some of it — FS base, robust list, tid address, altstack —
 * only the thread itself can ask the kernel for), the leader writes one
 * record per thread.
 *
 * The registers saved are those of the interrupted context (the ucontext
 * the kernel gave the handler).  The restorer does not load them itself:
 * it re-enters each thread as a new delivery of the checkpoint signal to
 * libckpt's post-restore handler, on the stack just below the frame the
 * kernel built at checkpoint time (still in the saved memory).  When that
 * handler returns, rt_sigreturn loads the interrupted registers, xsave
 * state, mask and altstack from that frame — exactly as the kernel would
 * have on the original's return from the handler.
 *
 * What sigreturn does not restore is recorded here: FS/GS base, rseq,
 * robust list, clear_child_tid, the thread's name, capabilities and
 * scheduling policy; and by ckpt_attr.c its other attributes (affinity,
 * personality, seccomp, rseq...) and reg_cpuclock.c its CPU time.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/reg_attr.h"

struct ckpt_restore_info ckpt_restore_info;
long ckpt_rseq_offset;
unsigned ckpt_rseq_size;

/*
 * Pending signals, the thread's own and the process's apart (rt_sigpending
 * gives their union: restored as is, a process-wide signal would come back
 * once per thread).  From /proc/thread-self/status: SigPnd and ShdPnd.
 */
static void pending_sets(struct ckpt_thread_state *t, char *buf, size_t cap)
{
	const char *s;

	t->img.sigpending = t->shdpending = 0;
	buf[0] = '\0';
	if (ckpt_read_file("/proc/thread-self/status", buf, cap) < 0) {
		buf[0] = '\0';
		return;
	}
	if ((s = __builtin_strstr(buf, "\nSigPnd:\t"))) {
		s += 9;
		t->img.sigpending = ckpt_parse_hex(&s);
	}
	if ((s = __builtin_strstr(buf, "\nShdPnd:\t"))) {
		s += 9;
		t->shdpending = ckpt_parse_hex(&s);
	}
}

void ckpt_thread_capture(struct ckpt_thread_state *t, siginfo_t *info, ucontext_t *uc)
{
	struct img_thread *m = &t->img;
	uint64_t head = 0, len = 0, tidaddr = 0, mask = 0;
	char status[2048];
	stack_t ss;

	__builtin_memset(m, 0, sizeof(*m));
	m->tid = arch_sys0(SYS_gettid);
	t->sig = info->si_signo;
	t->info = info;
	t->uc = uc;
	arch_sys2(SYS_arch_prctl, ARCH_GET_FS, &m->fs_base);
	arch_sys2(SYS_arch_prctl, ARCH_GET_GS, &m->gs_base);
	arch_sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8);
	t->handler_mask = mask;
	pending_sets(t, status, sizeof(status));
	if (arch_sys2(SYS_sigaltstack, NULL, &ss) == 0) {
		m->ss_sp = (uintptr_t)ss.ss_sp;
		m->ss_size = ss.ss_size;
		m->ss_flags = ss.ss_flags & ~SS_ONSTACK;
	}
	if (arch_sys3(SYS_get_robust_list, 0, &head, &len) == 0) {
		m->robust_head = head;
		m->robust_len = len;
	}
	if (arch_sys2(SYS_prctl, PR_GET_TID_ADDRESS, &tidaddr) == 0)
		m->clear_tid = tidaddr;
	arch_sys2(SYS_prctl, PR_GET_NAME, m->comm);

	struct __user_cap_header_struct ch = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct cd[2] = { { 0 } };

	arch_sys2(SYS_capget, &ch, cd);
	m->cap_effective = cd[0].effective | (uint64_t)cd[1].effective << 32;
	m->cap_permitted = cd[0].permitted | (uint64_t)cd[1].permitted << 32;
	m->cap_inheritable = cd[0].inheritable | (uint64_t)cd[1].inheritable << 32;

	struct arch_sched_attr sa = { .size = sizeof(sa) };

	if (arch_sys4(SYS_sched_getattr, 0, &sa, sizeof(sa), 0) == 0) {
		m->sched_policy = sa.policy;
		m->sched_nice = sa.nice;
		m->sched_priority = sa.priority;
		m->sched_flags = sa.flags;
	}
	/* personality, affinity, seccomp, rseq... (ckpt_attr.c), CPU time */
	ckpt_attr_thread(t, status[0] ? status : NULL);
	ckpt_cpuclock_capture_thread(&m->cpu_ns);
}

/* The thread's record: what it captured, and what its frame holds. */
static int write_one(struct ckpt_ctx *c, const struct ckpt_thread_state *s, uint32_t flags)
{
	struct img_thread t = s->img;
	const mcontext_t *mc = &s->uc->uc_mcontext;

	t.flags = flags;
	for (int i = 0; i < IMG_NGREG; i++)
		t.gregs[i] = mc->gregs[i];
	t.uc_flags = s->uc->uc_flags;
	t.sigmask = *(const uint64_t *)&s->uc->uc_sigmask;
	/*
	 * sigpending is kept as is, libckpt's own signal too: a thread parked
	 * with its own ckpt_save() request still pending makes that request
	 * again after a restart (stale park requests are ignored there).
	 */
	t.xfeatures = arch_xgetbv0();
	t.entry_rip = c->entry_rip;
	t.entry_rsp = (uintptr_t)s->uc - 8;	/* &frame->pretcode */
	t.entry_args[0] = s->sig;
	t.entry_args[1] = (uintptr_t)s->info;
	t.entry_args[2] = (uintptr_t)s->uc;
	t.entry_sigmask = s->handler_mask;
	t.restore_info = (uintptr_t)&ckpt_restore_info;
	ckpt_attr_thread_write(c, &t);
	return img_write_record(&c->w, IMG_REC_THREAD, &t, sizeof(t), NULL, 0);
}

/* The leader first, then every parked thread. */
int ckpt_thread_write(struct ckpt_ctx *c)
{
	write_one(c, &c->leader, IMG_THREAD_LEADER);
	for (int i = 0; i < ckpt_nparked; i++)
		write_one(c, &ckpt_parked[i], 0);
	return c->w.error;
}
