/*
 * wrap_prctl.c - prctl() and syscall(): record what the kernel will not
 * let the checkpoint read back (libckpt/reg_attr.h).
 *
 *   prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)     a seccomp filter
 *   syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f, p)  (libseccomp's way)
 *   prctl(PR_SET_SYSCALL_USER_DISPATCH, ...)             syscall user dispatch
 *   prctl(PR_SET_IO_FLUSHER, on)                         IO_FLUSHER
 *   prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, n)     a futex hash size the
 *                                                        program chose (the
 *                                                        kernel's own cannot
 *                                                        be told from it)
 *   syscall(SYS_rseq, area, len, flags, sig)             an rseq area of the
 *                                                        program's own
 *   syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_*)   registrations (for
 *                                                        kernels that cannot
 *                                                        list them)
 * Each is recorded after the kernel accepted it (reg_attr.c).  A raw
 * system call bypasses these: the checkpoint then finds more filters or an
 * rseq area it did not see and refuses, by name (libckpt/ckpt_attr.c).
 *
 * syscall() is assembly, like glibc's: the calls it does not record go
 * straight to the kernel with the caller's stack untouched, so
 * syscall(SYS_clone or SYS_vfork, ...) behaves exactly as with glibc (a C
 * frame of ours, shared with a vfork child, would be overwritten by it).
 * Both keep the real call's result and errno (-1 and errno on failure).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/membarrier.h>
#include <linux/seccomp.h>
#include "arch/x86_64/arch.h"
#include "libckpt/img_format.h"
#include "libckpt/reg_attr.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

#define PR_SET_SECCOMP_			22
#define PR_SET_IO_FLUSHER_		57
#define PR_SET_SYSCALL_USER_DISPATCH_	59
#define PR_FUTEX_HASH_			78
#define RSEQ_FLAG_UNREGISTER_		1

/* What a successful prctl() did, if it is one of ours. */
static void wrap_prctl_seen(long option, unsigned long a2, unsigned long a3,
			    unsigned long a4, unsigned long a5)
{
	if (option == PR_SET_SECCOMP_ && a2 == SECCOMP_MODE_FILTER && a3) {
		const struct sock_fprog *p = (const struct sock_fprog *)a3;

		reg_seccomp_installed(IMG_SECCOMP_PRCTL, 0, p->filter, p->len);
	} else if (option == PR_SET_SECCOMP_ && a2 == SECCOMP_MODE_STRICT) {
		reg_seccomp_strict();	/* no system call: strict mode allows none of ours */
	} else if (option == PR_SET_SYSCALL_USER_DISPATCH_) {
		struct reg_sud s = { (uint32_t)a2, a3, a4, a5 };

		if (a2 == 0)
			s = (struct reg_sud){ 0 };
		reg_sud_set(&s);
	} else if (option == PR_SET_IO_FLUSHER_) {
		reg_io_flusher_set(a2 != 0);
	} else if (option == PR_FUTEX_HASH_ && a2 == 1 /* PR_FUTEX_HASH_SET_SLOTS */) {
		reg_futex_hash_set((unsigned)a3);
	}
}

WRAP_EXPORT int prctl(int option, ...)
{
	unsigned long a2, a3, a4, a5;
	va_list ap;
	long r;

	va_start(ap, option);
	a2 = va_arg(ap, unsigned long);
	a3 = va_arg(ap, unsigned long);
	a4 = va_arg(ap, unsigned long);
	a5 = va_arg(ap, unsigned long);
	va_end(ap);
	r = arch_sys5(SYS_prctl, option, a2, a3, a4, a5);
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	wrap_prctl_seen(option, a2, a3, a4, a5);
	return (int)r;
}

/* syscall()'s error path: glibc's convention. */
__attribute__((visibility("hidden"))) long wrap_syscall_error(long r);
long wrap_syscall_error(long r)
{
	errno = (int)-r;
	return -1;
}

/*
 * The numbers syscall() records: the call, then the record.  Same
 * arguments as syscall() itself (the assembly jumps here unchanged).
 */
__attribute__((visibility("hidden"))) long wrap_syscall_rec(long n, long a1, long a2, long a3,
							   long a4, long a5, long a6);
long wrap_syscall_rec(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long r = arch_sys6(n, a1, a2, a3, a4, a5, a6);

	if (r < 0 && r > -4096)
		return wrap_syscall_error(r);
	if (n == SYS_seccomp && a1 == SECCOMP_SET_MODE_FILTER && a3) {
		const struct sock_fprog *p = (const struct sock_fprog *)a3;

		reg_seccomp_installed(IMG_SECCOMP_SYSCALL, (unsigned)a2, p->filter, p->len);
	} else if (n == SYS_seccomp && a1 == SECCOMP_SET_MODE_STRICT) {
		reg_seccomp_strict();
	} else if (n == SYS_prctl) {
		wrap_prctl_seen(a1, a2, a3, a4, a5);
	} else if (n == SYS_rseq) {
		if (a3 & RSEQ_FLAG_UNREGISTER_)
			reg_rseq_set(0, 0, 0);
		else
			reg_rseq_set((uint64_t)a1, (uint32_t)a2, (uint32_t)a4);
	} else if (n == SYS_membarrier) {
		switch (a1) {
		case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
		case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
		case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
		case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
			reg_membarrier_registered((unsigned)a1);
			break;
		}
	}
	return r;
}

#define WRAP_STR_(x) #x
#define WRAP_STR(x) WRAP_STR_(x)

__asm__(".text\n"
	".globl syscall\n"
	".type syscall,@function\n"
	"syscall:\n"
	"	cmp $" WRAP_STR(__NR_seccomp) ", %rdi\n"
	"	je wrap_syscall_rec\n"
	"	cmp $" WRAP_STR(__NR_prctl) ", %rdi\n"
	"	je wrap_syscall_rec\n"
	"	cmp $" WRAP_STR(__NR_rseq) ", %rdi\n"
	"	je wrap_syscall_rec\n"
	"	cmp $" WRAP_STR(__NR_membarrier) ", %rdi\n"
	"	je wrap_syscall_rec\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsi\n"
	"	mov %rcx, %rdx\n"
	"	mov %r8, %r10\n"
	"	mov %r9, %r8\n"
	"	mov 8(%rsp), %r9\n"
	"	syscall\n"
	"	cmp $-4095, %rax\n"
	"	jae 1f\n"
	"	ret\n"
	"1:	mov %rax, %rdi\n"
	"	jmp wrap_syscall_error\n"
	".size syscall, .-syscall\n");
