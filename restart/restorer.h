/*
 * restorer.h - what ckpt-restart hands the restorer.
 *
 * The restorer (restorer.c) is the code that runs after the restarter's
 * own memory is gone.  It is copied, with this argument block and its own
 * stack, into one mapping ("the blob") that no image region touches.  It
 * uses no libc and no data outside the blob; everything it needs is here,
 * prepared by the restarter where it could still report errors clearly.
 *
 * Its sequence:
 *   1. unmap everything but the blob, the staging areas and the vdso/vvar;
 *   2. move vdso/vvar to the image's addresses (through a parking spot in
 *      the blob, so overlapping old and new places cannot collide);
 *   3. build each image mapping: move its staged pages into place, or map
 *      fresh anonymous memory, or map the file and copy in the pages the
 *      process had modified; then set its protection; then its
 *      attributes (rst_attrs: guard regions, madvise flags, mlock, in that
 *      order: a locked mapping takes no new guard);
 *      (--lazy: register the lazy ranges with a userfaultfd, send it to
 *      the page server);
 *      mlockall(MCL_FUTURE) and mseal() last, once nothing more is mapped
 *      or changed;
 *   4. the capabilities pids need made effective (cap_raise); PR_SET_MM_MAP
 *      (mm fields, auxv, exe link), close the restarter's fds, take again
 *      the POSIX locks those closes dropped (struct rst_relock), signal
 *      dispositions, process-wide pending signals; the timers and other
 *      threads' pidfds once every thread exists (a POSIX timer may signal
 *      one, a pidfd names one);
 *   5. every other thread: clone3 with its tid (or the kernel-assist
 *      module's CLONE: rst_args.thread_module), onto a small stack in the
 *      blob; each thread sets its tid address, robust list, FS base,
 *      name, scheduling, its attributes (affinity, personality...),
 *      credentials, then rseq (after the credentials: an rseq area the
 *      image chose could redirect a privileged thread), and its pending
 *      signals (queued ones with their siginfo: each thread its own, the
 *      main one the process's too, as only they may); then, last of all,
 *      what restricts it (death signal, securebits, no_new_privs, its
 *      seccomp filters, syscall user dispatch; the main thread first
 *      dumpable and MDWE).  Once every other thread is done, the main
 *      thread arms the timers (a POSIX timer may signal any thread), does
 *      its own, and lets every thread rt_sigreturn into the post-restore
 *      handler (see img_thread): none runs the application before all
 *      hold their final credentials and restrictions.  The last thread to
 *      get there unmaps the blob (struct ckpt_restore_info).
 * A failure after step 1 cannot be undone: it writes one line to fd 2 and
 * exits with status RST_EXIT_FAILED.
 */
#ifndef CKPT_RESTORER_H
#define CKPT_RESTORER_H

#include <stdint.h>
#include <sys/prctl.h>
#include "libckpt/img_format.h"

/*
 * The restarter may be built with another libc than the restorer's object
 * (musl, Makefile): both must see the kernel's layout of PR_SET_MM_MAP's
 * argument, which sits inside struct rst_args.
 */
_Static_assert(sizeof(struct prctl_mm_map) == 104, "struct prctl_mm_map is not the kernel's");

#define RST_EXIT_FAILED	125

/* prctl(2) of Linux 6.16, not in every libc's headers yet */
#define RST_PR_TIMER_CREATE_RESTORE_IDS	77
#define RST_PR_TIMER_IDS_OFF		0
#define RST_PR_TIMER_IDS_ON		1
#define RST_PR_TIMER_IDS_GET		2

/* rst_args.timer_mode: assist_timer_mode()'s answer (kernel-assist/assist.h) */
#define RST_TIMERS_PRCTL	0	/* PR_TIMER_CREATE_RESTORE_IDS */
#define RST_TIMERS_MODULE	1	/* the module's TIMER_ID before each timer_create */
#define RST_TIMERS_CYCLE	2	/* create and delete until the kernel gives the id */
#define RST_TIMER_CYCLE_MAX	(1 << 20)	/* = ASSIST_TIMER_CYCLE_MAX */

enum rst_op_kind {
	RST_MOVE = 1,		/* staged anonymous pages: mremap into place */
	RST_ANON,		/* no saved pages: fresh anonymous mapping */
	RST_FILE,		/* file mapping, plus copied runs of pages */
	RST_SHM,		/* SysV attach: fd is the segment's id, staging its mapped
				 * size, mmap_flags the shmat flags (SHM_RDONLY, SHM_EXEC) */
};

struct rst_op {
	uint64_t start, end, pgoff;
	uint64_t staging;	/* MOVE, FILE with runs: where the pages are */
	uint32_t kind;		/* enum rst_op_kind */
	uint32_t prot;
	uint32_t mmap_flags;	/* MAP_PRIVATE/SHARED [| MAP_GROWSDOWN] */
	int32_t  fd;		/* FILE */
	uint32_t run_first;	/* FILE: runs[run_first .. +run_count] */
	uint32_t run_count;
	/* the mapping's IMG_VMA_ATTR_* and guards[guard_first .. +guard_count];
	 * 0 for the ops that map a mappable image's runs over it */
	uint32_t attrs;
	uint32_t guard_first, guard_count;
	uint32_t pad;
};

struct rst_run {
	uint64_t off, len;	/* bytes from the op's start */
};

struct rst_range {
	uint64_t start, end;
};

struct rst_move {		/* vdso/vvar: current place, image place */
	uint64_t from, len, to;
};

/*
 * A POSIX lock the restorer takes again (fds/fd_lock.c, rst_relocks).
 * ckpt-restart took every lock before the jump; but closing ANY fd of a
 * file drops all the POSIX locks the process holds on it, and the
 * restorer then closes ckpt-restart's own fds (mapped files, the image,
 * the exe, its stderr copy): the locks on those files are taken again
 * right after, before any thread runs.  One taken meanwhile by another
 * process ends the restart with RST_EXIT_LOCKED and msg, completed with
 * the holder's pid and comm.
 */
#define RST_RELOCK_MSG	512
#define RST_EXIT_LOCKED	4	/* = RST_EXIT_ENV (rst.h) */

struct rst_relock {
	int32_t fd;			/* the process's fd it is taken through */
	int16_t type;			/* F_RDLCK, F_WRLCK */
	int16_t pad;
	int64_t start, len;		/* SEEK_SET; len 0: to EOF */
	char msg[RST_RELOCK_MSG];	/* "ckpt-restart: IMG: fd 5: PATH: ...: pid " */
};

/* The kernel's struct flock on x86_64. */
struct rst_flock {
	int16_t type, whence;
	int32_t pad;
	int64_t start, len;
	int32_t pid, pad2;
};

struct rst_thread {
	struct img_thread img;		/* as the image has it */
	uint64_t stack;			/* top of its stack in the blob (threads > 0) */
};

/* A seccomp filter to install again (an IMG_REC_SECCOMP record). */
struct rst_filter {
	int32_t  parent;		/* an earlier filter, -1: none */
	uint32_t how;			/* IMG_SECCOMP_PRCTL or _SYSCALL */
	uint32_t flags;			/* IMG_SECCOMP_FLAGS bits */
	uint32_t ninsns;
	uint64_t insns;			/* its program, in the blob */
};

/*
 * An fd that is a pidfd of a thread other than the main one: made once
 * every thread exists (restart_fds.c leaves its number free).  Entries of
 * one open file description (same file) are adjacent and share it.
 */
struct rst_pidfd {
	int32_t  fd;			/* the process's fd number */
	int32_t  tid;			/* the thread (pidfd_open with PIDFD_THREAD) */
	uint32_t flags;			/* PIDFD_THREAD [| PIDFD_NONBLOCK] */
	uint32_t cloexec;		/* FD_CLOEXEC */
	uint32_t file;			/* the FILE id: one description per file */
	uint32_t reserved;
};

/*
 * A process tree's barriers (restart_tree.c), on one page every process
 * of the tree shares: counters of processes past each stage (futex
 * words, shared: not private futexes), and the abort flag any failure
 * sets.  The restorer of every process waits at `ready` before any of
 * its threads returns to the program.
 */
struct rst_tree_sync {
	uint32_t created;		/* made, in their sessions */
	uint32_t joined;		/* in their process groups */
	uint32_t ready;			/* restorers at the last barrier */
	uint32_t abort;			/* 1: everyone exits */
	int32_t outer_pgid, outer_sid;	/* ckpt-restart's: the root's, if they were outside */
};

struct rst_args {
	/* where the blob itself is, and what else must survive step 1 */
	uint32_t nkeep;
	uint32_t nops, nruns, nclose, nmoves;
	struct rst_range *keep;		/* sorted, non-overlapping */
	struct rst_op *ops;
	struct rst_run *runs;
	int32_t *close_fds;
	struct rst_move moves[3];
	uint64_t park;			/* spare room in the blob for moves */
	struct rst_range *guards;	/* guard regions (rst_op.guard_first) */
	/* ckpt-restart's attaches of SysV segments (in keep): unmapped once
	 * every RST_SHM op has made its own attach */
	uint32_t nshm_drop;
	struct rst_range *shm_drop;
	uint32_t mcl;			/* IMG_MCL_*: mlockall(MCL_FUTURE) at the end of step 3 */

	struct prctl_mm_map mm;
	uint64_t auxv[IMG_AUXV_MAX];
	struct img_sigaction sigact[IMG_NSIG];
	uint64_t pending;		/* process-wide signals to re-raise */
	uint32_t nsigs;
	struct img_siginfo *sigs;	/* queued in this order, siginfo and all */
	uint32_t ntimers;
	struct img_timer *timers;	/* armed with their time left */
	uint32_t npidfds;
	int32_t pidfd_base;		/* above every fd number of the image */
	struct rst_pidfd *pidfds;	/* made once every thread exists (step 28) */
	/*
	 * Credentials (restart_trust.c has the rules).  Each thread sets
	 * its own, the main one last, after making the others: uid, gid
	 * and groups when root restarts a trusted image; then its
	 * capability sets; the process is made dumpable only once every
	 * thread holds nothing more than it will keep.
	 */
	int32_t uid, gid;		/* -1: keep ckpt-restart's */
	int32_t set_groups;		/* 1: setgroups(ngroups, groups) first */
	uint32_t ngroups;
	uint32_t *groups;		/* in the blob */
	int32_t caps_image;		/* 1: each thread's image sets; 0: none, no ambient */
	uint64_t cap_raise;		/* made effective after step 3: clone3 set_tid,
					 * the exe link, userfaultfd; 0: nothing to raise */

	/* process attributes (restart/restart_attr.c); none without a PROC_ATTR record */
	uint32_t attrs;
	uint32_t dumpable;		/* PR_SET_DUMPABLE, once every thread's ids changed */
	uint32_t mdwe;			/* PR_SET_MDWE (0: none), once memory is mapped */
	/*
	 * /proc/self/oom_score_adj and coredump_filter: written by the main
	 * thread with its final ids, after the process is made dumpable (a
	 * process changing uid is not, and its /proc files are root's then)
	 * and before the image's own dumpable: the kernel applies the limits
	 * of whom the process now runs as.  Paths and values as text.
	 */
	char oom_path[32], oom_val[16];
	char cdf_path[32], cdf_val[16];
	uint32_t timer_ids;		/* PR_TIMER_CREATE_RESTORE_IDS left as the process had it */
	uint32_t timer_mode;		/* RST_TIMERS_*: how POSIX timers get their ids */
	/*
	 * The kernel-assist module's fd (kernel-assist/assist.h), or -1:
	 * threads made through its CLONE (thread_module) and timer ids
	 * through its TIMER_ID; closed once both are done.
	 */
	int32_t assist_fd;
	uint32_t thread_module;
	int32_t exe_link_fd;		/* >= 0: the exe link through the module's EXE_LINK
					 * (mm.exe_fd is -1 then) */
	uint32_t nfilters;
	struct rst_filter *filters;	/* seccomp, install order */

	/* threads: [0] is the main one (tid == pid), the one running this */
	uint32_t nthreads;
	int32_t pid;
	struct rst_thread *threads;
	int32_t go;			/* futex: every thread exists, run */
	uint32_t signalled;		/* futex: threads > 0 whose signals are back */
	uint32_t finalized;		/* futex: threads whose attributes are all set */
	uint64_t restore_info;		/* struct ckpt_restore_info in the image */
	uint64_t blob, blob_len;	/* written there */
	uint64_t img_dev, img_ino;	/* mappable image mapped, else 0: written there */

	/*
	 * --lazy (restart/restart_lazy.c): after step 3, register these
	 * (empty) ranges with a new userfaultfd and send it over lazy_fd to
	 * the page server (steps 20-23).
	 */
	int32_t lazy_fd;		/* -1: no lazy restore */
	uint32_t nlazy;
	struct rst_range *lazy;
	uint64_t uffd_features;

	/* POSIX locks to take again after the closes of step 4 */
	uint32_t nrelocks;
	struct rst_relock *relocks;
	int32_t err_locked;		/* err_fd is a locked file: close it before */
	char lk_text[5][64];		/* " (", "); ...", "unknown (an OFD lock)",
					 * "/proc/", "/comm": relock messages */

	/* a process tree: its barrier page (kept in step 1, unmapped after), its size */
	uint64_t tree_sync;		/* struct rst_tree_sync, 0: not a tree */
	uint32_t tree_n;		/* processes that reach `ready` */
	int32_t stop;			/* 1: stopped when saved: SIGSTOP before it runs */

	int32_t err_fd;			/* ckpt-restart's stderr (fd 2 may be the process's) */
	uint32_t entered;		/* threads past every step that can fail */
	char msg[104];			/* "ckpt-restart: restorer failed at step " */
	char msg_errno[24];		/* ", errno " */
};

/* The restorer's entry point; never returns.  Called on the blob's stack. */
void rst_main(struct rst_args *a) __attribute__((noreturn));

#endif
