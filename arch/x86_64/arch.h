/*
 * arch.h - everything in libckpt that knows an x86_64 register.
 *
 * Raw system calls (for code that runs where libc may not: the restorer,
 * and the signal handler where errno must stay untouched), the kernel's
 * own signal-frame layout (not glibc's ucontext_t, whose sigmask is 128
 * bytes and which carries a private fpregs copy), and XCR0.
 */
#ifndef CKPT_ARCH_H
#define CKPT_ARCH_H

#include <stdint.h>

/* ---- raw system calls: return -errno on failure, never touch errno ---- */

static inline long arch_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define arch_sys0(n)			arch_syscall6((n), 0, 0, 0, 0, 0, 0)
#define arch_sys1(n, a)			arch_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define arch_sys2(n, a, b)		arch_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define arch_sys3(n, a, b, c)		arch_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define arch_sys4(n, a, b, c, d)	arch_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define arch_sys5(n, a, b, c, d, e)	arch_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define arch_sys6(n, a, b, c, d, e, f)	arch_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* ---- the kernel's rt_sigframe (arch/x86/include/asm/sigframe.h) ---- */

struct arch_sigcontext {		/* == struct sigcontext (64-bit) */
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;		/* 0: reset the FPU to its init state */
	uint64_t reserved1[8];
};

struct arch_stack {			/* == stack_t */
	uint64_t ss_sp;
	int32_t  ss_flags;
	int32_t  pad;
	uint64_t ss_size;
};

struct arch_ucontext {			/* == the kernel's struct ucontext */
	uint64_t uc_flags;
	uint64_t uc_link;
	struct arch_stack uc_stack;
	struct arch_sigcontext uc_mcontext;
	uint64_t uc_sigmask;		/* the kernel's 64-bit sigset */
};

struct arch_rt_sigframe {
	uint64_t pretcode;		/* sa_restorer: the handler returns here */
	struct arch_ucontext uc;
	uint8_t info[128];		/* siginfo_t */
};

_Static_assert(sizeof(struct arch_sigcontext) == 256, "sigcontext");
_Static_assert(sizeof(struct arch_ucontext) == 304, "ucontext");

#define ARCH_UC_FP_XSTATE		0x1
#define ARCH_UC_SIGCONTEXT_SS		0x2
#define ARCH_UC_STRICT_RESTORE_SS	0x4

/* glibc's mcontext gregs index of the registers libckpt reads */
#define ARCH_REG_RSP	15
#define ARCH_REG_RIP	16

/*
 * XCR0: the xsave features this CPU and kernel enabled.  Without OSXSAVE
 * (CPUID.1:ECX bit 27: a CPU or VM without XSAVE, qemu's default model)
 * xgetbv is an invalid opcode, and the state is FXSAVE's: x87 and SSE.
 */
static inline uint64_t arch_xgetbv0(void)
{
	uint32_t a = 1, b, c = 0, d, lo, hi;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (!(c & (1u << 27)))
		return 0x3;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * struct sched_attr, first version (48 bytes): libc has no declaration of
 * its own, and the restorer may include no libc header.
 */
struct arch_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};
_Static_assert(sizeof(struct arch_sched_attr) == 48, "sched_attr version 0 is 48 bytes");

#endif
