/*
 * ckpt_assist_uapi.h - the interface between libckpt and the kernel-assist
 * module (ckpt_assist.ko, /dev/ckpt-assist).  Shared by the module and by
 * userspace (kernel-assist/assist_module.c, libckpt's checkpoint path);
 * nothing else of the module is visible to userspace.
 *
 * Versioning (the rules that keep an older libckpt working with a newer
 * module and refuse the reverse cleanly):
 *  - CKPT_ASSIST_ABI is the major version.  A module answers VERSION with
 *    its abi; userspace uses the module only when abi matches exactly.
 *    It changes only if an existing call changes meaning (never so far).
 *  - Every call's argument struct begins with `size` (bytes the caller
 *    passes).  Structs only grow, at the end.  The module accepts a
 *    smaller size from an older caller (missing fields read as zero), and
 *    a larger one only when every byte it does not know is zero (else
 *    -E2BIG), as clone3 and openat2 do.  A size below the first version's
 *    is -EINVAL.
 *  - `ops` in VERSION is a bitmask of the calls this module has: a caller
 *    tests its bit before using a call; an ioctl number is never reused.
 *  - Every `flags` or `reserved` field the module does not know must be
 *    zero (-EINVAL otherwise).
 * The ioctl numbers carry no size (_IO): the size is the struct's own
 * first field, so a grown struct keeps its number.
 * Every call returns 0 (CLONE: the child's pid, 0 in the child) or
 * -1 with errno.
 */
#ifndef CKPT_ASSIST_UAPI_H
#define CKPT_ASSIST_UAPI_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/ioctl.h>
#else
#include <linux/types.h>
#include <sys/ioctl.h>
#endif

#define CKPT_ASSIST_DEV		"/dev/ckpt-assist"
#define CKPT_ASSIST_ABI		1
#define CKPT_ASSIST_MAGIC	0xC7

/* VERSION: what this module is and has.  Never fails (size 24 at least). */
struct ckpt_assist_version {
	__u32 size;		/* in: sizeof the caller's struct */
	__u32 abi;		/* out: CKPT_ASSIST_ABI of the module */
	__u64 ops;		/* out: CKPT_ASSIST_OP_* bits */
	__u32 policy;		/* out: CKPT_ASSIST_POL_* the caller passes now */
	__u32 reserved;		/* out: 0 */
};
#define CKPT_ASSIST_VERSION_SIZE0	24

#define CKPT_ASSIST_OP_CLONE		(1ull << 0)
#define CKPT_ASSIST_OP_TIMER_ID		(1ull << 1)
#define CKPT_ASSIST_OP_THREAD_STOP	(1ull << 2)
#define CKPT_ASSIST_OP_THREAD_RESUME	(1ull << 3)
#define CKPT_ASSIST_OP_EXE_LINK		(1ull << 4)

/* policy bits: what the module's policy lets this caller do today */
#define CKPT_ASSIST_POL_CLONE		0x1	/* CLONE with a chosen pid */

/*
 * CLONE: clone3() with one set_tid entry for a caller the administrator's
 * policy lists (module parameters, see docs/SUPPORT.md "The module"), in
 * the caller's own pid namespace.  Returns the child's pid in the parent
 * and 0 in the child, which returns from the ioctl like a fork/clone
 * child (new stack if `stack` is set).  Errors: EPERM policy denies the
 * caller or the pid is outside the allowed range, EEXIST pid in use,
 * EINVAL flags the module does not take (namespaces, CLONE_PIDFD ...).
 * Taken flags: CLONE_VM CLONE_FS CLONE_FILES CLONE_SIGHAND CLONE_THREAD
 * CLONE_SYSVSEM CLONE_SETTLS CLONE_PARENT_SETTID CLONE_CHILD_SETTID
 * CLONE_CHILD_CLEARTID CLONE_PARENT.
 */
struct ckpt_assist_clone {
	__u32 size;
	__u32 reserved;
	__u64 flags;		/* clone flags, as clone3's */
	__u64 pid;		/* the pid (tid) the child gets */
	__u64 exit_signal;
	__u64 stack;		/* lowest address of the child's stack, or 0 */
	__u64 stack_size;
	__u64 tls;
	__u64 parent_tid;	/* user pointers, as clone3's */
	__u64 child_tid;
};
#define CKPT_ASSIST_CLONE_SIZE0		72

/*
 * TIMER_ID: the next timer_create() of the calling process returns `id`
 * (kernels before 6.16 have no PR_TIMER_CREATE_RESTORE_IDS).  EEXIST the
 * process has a timer with that id; EINVAL id < 0.
 */
struct ckpt_assist_timer_id {
	__u32 size;
	__u32 reserved;
	__s64 id;
};
#define CKPT_ASSIST_TIMER_ID_SIZE0	16

/*
 * THREAD_STOP: stop a thread of the caller's own thread group that
 * libckpt's signal cannot reach (it blocks every signal) and return the
 * registers and extended FPU state it will resume with; it stays stopped,
 * in the kernel, until THREAD_RESUME, or until the fd that stopped it is
 * closed (a checkpoint that dies never leaves a thread stopped).  A
 * thread inside an interruptible system call is taken out of it, and the
 * returned registers are those a handler with SA_RESTART would return
 * to: -ERESTARTSYS/-ERESTARTNOINTR restart the call, -ERESTARTNOHAND and
 * -ERESTART_RESTARTBLOCK (sleeps, poll) return -EINTR.  The thread itself,
 * once resumed, goes on as if never stopped (the kernel restarts its call).
 * regs: struct user_regs_struct (<sys/user.h>) as PTRACE_GETREGS gives it;
 * xsave: what PTRACE_GETREGSET NT_X86_XSTATE gives (the 512-byte FXSAVE
 * area alone, NT_PRFPREG's, on a CPU without XSAVE), xsave_size set to the
 * bytes written; sigmask: the mask the thread returns to user mode with
 * (inside sigsuspend/ppoll, the one saved, not the temporary one).
 * From size 80 on (a caller passing 48 does not get them): the thread's
 * set_tid_address pointer and sigaltstack, which only it can ask for.
 * ESRCH tid is not in the caller's thread group (or is the caller, or
 * exited); EINVAL an io_uring worker (no user context), nonzero flags or
 * reserved; EBUSY already stopped through this fd; EAGAIN the thread did
 * not stop within 2 s (in an uninterruptible wait that lasts, stopped by
 * SIGSTOP or a tracer); EINTR the caller got a signal meanwhile; EFAULT
 * regs or xsave 0 or not writable (the thread is resumed); ENOSPC
 * xsave_size too small (xsave_size is set to the size needed, nothing is
 * stopped: xsave_size 0 asks for it).
 */
struct ckpt_assist_thread_stop {
	__u32 size;
	__u32 tid;
	__u64 flags;		/* 0 */
	__u64 regs;		/* out: user pointer to a struct user_regs_struct */
	__u64 xsave;		/* out: user pointer, XSAVE layout (64-byte aligned) */
	__u32 xsave_size;	/* in: bytes at xsave; out: bytes written */
	__u32 reserved;
	__u64 sigmask;		/* out: the thread's blocked signals */
	__u64 clear_child_tid;	/* out: its set_tid_address() pointer */
	__u64 ss_sp;		/* out: its sigaltstack */
	__u64 ss_size;
	__u32 ss_flags;
	__u32 reserved2;
};
#define CKPT_ASSIST_THREAD_STOP_SIZE0	48

/*
 * THREAD_RESUME: the thread stopped through this fd goes on.  ESRCH it is
 * not stopped through this fd; EINVAL nonzero flags.
 */
struct ckpt_assist_thread_resume {
	__u32 size;
	__u32 tid;
	__u64 flags;		/* 0 */
};
#define CKPT_ASSIST_THREAD_RESUME_SIZE0	16

/*
 * EXE_LINK: the calling process's executable link (/proc/self/exe)
 * becomes the file open at `fd`: what PR_SET_MM_MAP's exe_fd does, which
 * needs CAP_CHECKPOINT_RESTORE, for a caller the CLONE policy allows (a
 * process it restarts must keep its executable).  EPERM policy; EACCES
 * not a regular file the caller may execute; EBUSY the old executable is
 * still mapped; EBADF fd.  (Added in abi 1: test CKPT_ASSIST_OP_EXE_LINK.)
 */
struct ckpt_assist_exe_link {
	__u32 size;
	__s32 fd;
	__u64 flags;		/* 0 */
};
#define CKPT_ASSIST_EXE_LINK_SIZE0	16

#define CKPT_ASSIST_IOC_VERSION	_IO(CKPT_ASSIST_MAGIC, 0)
#define CKPT_ASSIST_IOC_CLONE	_IO(CKPT_ASSIST_MAGIC, 1)
#define CKPT_ASSIST_IOC_TIMER_ID	_IO(CKPT_ASSIST_MAGIC, 2)
#define CKPT_ASSIST_IOC_THREAD_STOP	_IO(CKPT_ASSIST_MAGIC, 3)
#define CKPT_ASSIST_IOC_THREAD_RESUME	_IO(CKPT_ASSIST_MAGIC, 4)
#define CKPT_ASSIST_IOC_EXE_LINK	_IO(CKPT_ASSIST_MAGIC, 5)

#endif
