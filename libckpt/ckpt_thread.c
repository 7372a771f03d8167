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
 * scheduling policy.
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

#define RSEQ_SIG_X86		0x53053053
#define RSEQ_LEN_REGISTERED	32	/* what glibc passes, whatever __rseq_size says */

struct ckpt_restore_info ckpt_restore_info;
long ckpt_rseq_offset;
unsigned ckpt_rseq_size;

/*
 * Pending signals, the thread's own and the process's apart (rt_sigpending
 * gives their union: restored as is, a process-wide signal would come back
 * once per thread).  From /proc/thread-self/status: SigPnd and ShdPnd.
 */
static void pending_sets(struct ckpt_thread_state *t)
{
	char buf[2048];
	const char *s;

	t->sigpending = t->shdpending = 0;
	if (ckpt_read_file("/proc/thread-self/status", buf, sizeof(buf)) < 0)
		return;
	if ((s = __builtin_strstr(buf, "\nSigPnd:\t"))) {
		s += 9;
		t->sigpending = ckpt_parse_hex(&s);
	}
	if ((s = __builtin_strstr(buf, "\nShdPnd:\t"))) {
		s += 9;
		t->shdpending = ckpt_parse_hex(&s);
	}
}

void ckpt_thread_capture(struct ckpt_thread_state *t, siginfo_t *info, ucontext_t *uc)
{
	uint64_t head = 0, len = 0, tidaddr = 0, mask = 0;
	stack_t ss;

	t->tid = arch_sys0(SYS_gettid);
	t->sig = info->si_signo;
	t->info = info;
	t->uc = uc;
	arch_sys2(SYS_arch_prctl, ARCH_GET_FS, &t->fs_base);
	arch_sys2(SYS_arch_prctl, ARCH_GET_GS, &t->gs_base);
	arch_sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8);
	t->handler_mask = mask;
	pending_sets(t);
	t->ss_sp = t->ss_size = t->ss_flags = 0;
	if (arch_sys2(SYS_sigaltstack, NULL, &ss) == 0) {
		t->ss_sp = (uintptr_t)ss.ss_sp;
		t->ss_size = ss.ss_size;
		t->ss_flags = ss.ss_flags & ~SS_ONSTACK;
	}
	t->rseq_addr = t->rseq_len = t->rseq_sig = 0;
	if (ckpt_rseq_size) {
		/* glibc's area sits at a fixed offset from the thread pointer. */
		const int32_t *area = (const int32_t *)(t->fs_base + ckpt_rseq_offset);

		if (area[1] >= 0) {		/* cpu_id: registered */
			t->rseq_addr = (uintptr_t)area;
			t->rseq_len = RSEQ_LEN_REGISTERED;
			t->rseq_sig = RSEQ_SIG_X86;
		}
	}
	t->robust_head = t->robust_len = 0;
	if (arch_sys3(SYS_get_robust_list, 0, &head, &len) == 0) {
		t->robust_head = head;
		t->robust_len = len;
	}
	t->clear_tid = 0;
	if (arch_sys2(SYS_prctl, PR_GET_TID_ADDRESS, &tidaddr) == 0)
		t->clear_tid = tidaddr;
	for (int i = 0; i < 16; i++)
		t->comm[i] = 0;
	arch_sys2(SYS_prctl, PR_GET_NAME, t->comm);

	struct __user_cap_header_struct ch = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct cd[2] = { { 0 } };

	arch_sys2(SYS_capget, &ch, cd);

	struct arch_sched_attr sa = { .size = sizeof(sa) };

	t->sched_policy = t->sched_priority = t->sched_flags = 0;
	t->sched_nice = 0;
	if (arch_sys4(SYS_sched_getattr, 0, &sa, sizeof(sa), 0) == 0) {
		t->sched_policy = sa.policy;
		t->sched_nice = sa.nice;
		t->sched_priority = sa.priority;
		t->sched_flags = sa.flags;
	}
	t->cap_eff = cd[0].effective | (uint64_t)cd[1].effective << 32;
	t->cap_prm = cd[0].permitted | (uint64_t)cd[1].permitted << 32;
	t->cap_inh = cd[0].inheritable | (uint64_t)cd[1].inheritable << 32;
}

static int write_one(struct ckpt_ctx *c, const struct ckpt_thread_state *s, uint32_t flags)
{
	struct img_thread t = { 0 };
	const mcontext_t *mc = &s->uc->uc_mcontext;

	t.tid = s->tid;
	t.flags = flags;
	for (int i = 0; i < IMG_NGREG; i++)
		t.gregs[i] = mc->gregs[i];
	t.fs_base = s->fs_base;
	t.gs_base = s->gs_base;
	t.uc_flags = s->uc->uc_flags;
	t.sigmask = *(const uint64_t *)&s->uc->uc_sigmask;
	/*
	 * Kept as is, libckpt's own signal too: a thread parked with its own
	 * ckpt_save() request still pending makes that request again after a
	 * restart (stale park requests are ignored there).
	 */
	t.sigpending = s->sigpending;
	t.ss_sp = s->ss_sp;
	t.ss_size = s->ss_size;
	t.ss_flags = s->ss_flags;
	t.rseq_addr = s->rseq_addr;
	t.rseq_len = s->rseq_len;
	t.rseq_sig = s->rseq_sig;
	t.robust_head = s->robust_head;
	t.robust_len = s->robust_len;
	t.clear_tid = s->clear_tid;
	t.xfeatures = arch_xgetbv0();
	t.entry_rip = c->entry_rip;
	t.entry_rsp = (uintptr_t)s->uc - 8;	/* &frame->pretcode */
	t.entry_args[0] = s->sig;
	t.entry_args[1] = (uintptr_t)s->info;
	t.entry_args[2] = (uintptr_t)s->uc;
	t.entry_sigmask = s->handler_mask;
	t.restore_info = (uintptr_t)&ckpt_restore_info;
	for (int i = 0; i < 16; i++)
		t.comm[i] = s->comm[i];
	t.cap_effective = s->cap_eff;
	t.cap_permitted = s->cap_prm;
	t.cap_inheritable = s->cap_inh;
	t.sched_policy = s->sched_policy;
	t.sched_nice = s->sched_nice;
	t.sched_priority = s->sched_priority;
	t.sched_flags = s->sched_flags;
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
