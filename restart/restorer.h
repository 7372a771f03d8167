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
 *   4. PR_SET_MM_MAP (mm fields, auxv, exe link), close the restarter's
 *      fds, signal dispositions, uid/gid, process-wide pending signals;
 *      the timers once every thread exists (a POSIX timer may signal one);
 *   5. every other thread: clone3 with its tid, onto a small stack in the
 *      blob; each thread, the main one last, sets its tid address, robust
 *      list, rseq, FS base, name and pending signals (queued ones with
 *      their siginfo: each thread its own, the main one the process's
 *      too, as only they may), and rt_sigreturns
 *      into the post-restore handler (see img_thread).  The last thread to
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

enum rst_op_kind {
	RST_MOVE = 1,		/* staged anonymous pages: mremap into place */
	RST_ANON,		/* no saved pages: fresh anonymous mapping */
	RST_FILE,		/* file mapping, plus copied runs of pages */
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

struct rst_thread {
	struct img_thread img;		/* as the image has it */
	uint64_t stack;			/* top of its stack in the blob (threads > 0) */
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
	uint32_t mcl;			/* IMG_MCL_*: mlockall(MCL_FUTURE) at the end of step 3 */

	struct prctl_mm_map mm;
	uint64_t auxv[IMG_AUXV_MAX];
	struct img_sigaction sigact[IMG_NSIG];
	uint64_t pending;		/* process-wide signals to re-raise */
	uint32_t nsigs;
	struct img_siginfo *sigs;	/* queued in this order, siginfo and all */
	uint32_t ntimers;
	struct img_timer *timers;	/* armed with their time left */
	int32_t uid, gid;		/* -1: keep ckpt-restart's */

	/* threads: [0] is the main one (tid == pid), the one running this */
	uint32_t nthreads;
	int32_t pid;
	struct rst_thread *threads;
	int32_t go;			/* futex: every thread exists, run */
	uint32_t signalled;		/* futex: threads > 0 whose signals are back */
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

	char msg[104];			/* "ckpt-restart: restorer failed at step " */
	char msg_errno[24];		/* ", errno " */
};

/* The restorer's entry point; never returns.  Called on the blob's stack. */
void rst_main(struct rst_args *a) __attribute__((noreturn));

#endif
