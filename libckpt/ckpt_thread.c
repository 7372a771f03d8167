/*
 * ckpt_thread.c - the THREAD record of the thread running the checkpoint.
 *
 * The registers saved are those of the interrupted context (the ucontext
 * the kernel gave the handler).  The restorer does not load them itself:
 * it re-enters the thread as a new delivery of the checkpoint signal to
 * libckpt's post-restore handler, on the stack just below the frame the
 * kernel built at checkpoint time (still in the saved memory).  When that
 * handler returns, rt_sigreturn loads the interrupted registers, xsave
 * state, mask and altstack from that frame — exactly as the kernel would
 * have on the original's return from the handler.
 *
 * What sigreturn does not restore is recorded here: FS/GS base, rseq,
 * robust list, clear_child_tid.
 */
#include <asm/prctl.h>
#include <errno.h>
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

int ckpt_thread_write(struct ckpt_ctx *c)
{
	struct img_thread t = { 0 };
	const mcontext_t *mc = &c->uc->uc_mcontext;
	uint64_t head = 0, len = 0, tidaddr = 0, mask = 0;
	stack_t ss;

	t.tid = arch_sys0(SYS_gettid);
	t.flags = IMG_THREAD_LEADER;
	for (int i = 0; i < IMG_NGREG; i++)
		t.gregs[i] = mc->gregs[i];
	arch_sys2(SYS_arch_prctl, ARCH_GET_FS, &t.fs_base);
	arch_sys2(SYS_arch_prctl, ARCH_GET_GS, &t.gs_base);
	t.uc_flags = c->uc->uc_flags;
	t.sigmask = *(const uint64_t *)&c->uc->uc_sigmask;
	arch_sys2(SYS_rt_sigpending, &t.sigpending, 8);
	t.sigpending &= ~(1ULL << (c->sig - 1));
	if (sigaltstack(NULL, &ss) == 0) {
		t.ss_sp = (uintptr_t)ss.ss_sp;
		t.ss_size = ss.ss_size;
		t.ss_flags = ss.ss_flags & ~SS_ONSTACK;
	}
	if (ckpt_rseq_size) {
		/* glibc's area sits at a fixed offset from the thread pointer. */
		const int32_t *area = (const int32_t *)(t.fs_base + ckpt_rseq_offset);

		if (area[1] >= 0) {		/* cpu_id: registered */
			t.rseq_addr = (uintptr_t)area;
			t.rseq_len = RSEQ_LEN_REGISTERED;
			t.rseq_sig = RSEQ_SIG_X86;
		}
	}
	if (arch_sys3(SYS_get_robust_list, 0, &head, &len) == 0) {
		t.robust_head = head;
		t.robust_len = len;
	}
	if (arch_sys2(SYS_prctl, PR_GET_TID_ADDRESS, &tidaddr) == 0)
		t.clear_tid = tidaddr;
	t.xfeatures = arch_xgetbv0();

	t.entry_rip = c->entry_rip;
	t.entry_rsp = (uintptr_t)c->uc - 8;	/* &frame->pretcode */
	t.entry_args[0] = c->sig;
	t.entry_args[1] = (uintptr_t)c->info;
	t.entry_args[2] = (uintptr_t)c->uc;
	arch_sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8);
	t.entry_sigmask = mask;
	t.restore_info = (uintptr_t)&ckpt_restore_info;
	return img_write_record(&c->w, IMG_REC_THREAD, &t, sizeof(t), NULL, 0);
}
