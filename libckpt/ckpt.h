/*
 * ckpt.h - the checkpoint engine's internal interface.
 *
 * The engine runs inside the checkpoint signal handler of the thread that
 * received the trigger.  Everything it calls is async-signal-safe: raw
 * system calls, ckpt_fmt, and the image writer.  It allocates nothing from
 * the heap; its working memory is one anonymous mapping (the scratch),
 * made at the start of a checkpoint, left out of the image and unmapped at
 * the end.
 *
 * Sequence (ckpt_run):
 *   1. park every other thread (ckpt_park.c); validate: no children, no
 *      armed timers, every fd and every mapping of a kind the image can
 *      hold.  A refusal stops here,
 *      before a byte is written, with c->err naming the resource.
 *      With dirty tracking on (ckpt_incr.h), the tracked memory is
 *      scanned and write-protected again here, still before a byte.
 *   2. write: header, PROC, [PARENT], FILEs, FDs, LOCKs, THREAD, VMAs,
 *      PAGES, END.
 * State invariants: the process is not modified by a checkpoint except for
 * the scratch mapping (gone afterwards) and the fds the engine opens on
 * /proc (closed afterwards); errno is restored by the caller.  With dirty
 * tracking on, libckpt's userfaultfd stays open and the tracked mappings
 * stay registered and write-protected (async: the application sees only
 * a minor fault on its first write to each page).
 */
#ifndef CKPT_ENGINE_H
#define CKPT_ENGINE_H

#include <signal.h>
#include <stdint.h>
#include <ucontext.h>
#include "libckpt/img.h"

#define CKPT_ERR_LEN	512
#define CKPT_PATH_MAX	4096		/* a mapping's path, as the image allows */

struct ckpt_dirty_run;
struct page_region;

/* Pages per mincore() of the walk without PAGEMAP_SCAN: 4 GiB (ckpt_pmscan.c). */
#define CKPT_MCVEC_LEN	(1u << 20)

struct ckpt_vma {
	uint64_t start, end, pgoff, dev, ino;
	int64_t size, mtime_ns;
	uint32_t prot, flags;		/* PROT_*, IMG_VMA_* */
	const char *path;		/* into the maps buffer, not NUL-terminated */
	uint32_t path_len;
	/*
	 * Mapped from the mappable image this process was restored from:
	 * saved as private anonymous memory, every page read (pagemap's
	 * "not present" only means "still in the image file").
	 */
	int backed;
	/*
	 * A mapping of a FILE record's file rather than of a path
	 * (img_vma.file): CKPT_BYID_FILE a deleted file, memfd or POSIX
	 * shm object (IMG_VMA_FILE), CKPT_BYID_HUGETLB anonymous huge pages
	 * (IMG_VMA_ANON).
	 * file is the FILE's id, set by ckpt_fmapped_write (ckpt_fmapped.c).
	 */
	int byid;
	uint32_t file;
	uint32_t huge_shift;		/* CKPT_BYID_HUGETLB: log2 of its page size */
	uint32_t attrs;			/* IMG_VMA_ATTR_* (ckpt_memattr.c) */
	uint32_t smaps;			/* CKPT_SM_*: what smaps said, if read */
};
/*
 * What /proc/self/smaps said of a mapping when ckpt_memattr_read read it
 * (0: not read).  The walk of its pages without PAGEMAP_SCAN uses them
 * (ckpt_pmscan.c), the guard scan without it CKPT_SM_GUARD.
 */
enum {
	CKPT_SM_SEEN = 1 << 0,		/* smaps was read: the bits below are known */
	CKPT_SM_EMPTY = 1 << 1,		/* "Rss: 0 kB" and "Swap: 0 kB" */
	CKPT_SM_GUARD = 1 << 2,		/* VmFlags "gu": may hold guard regions (6.18) */
};
/* CKPT_BYID_SYSV: an attach of SysV segment `ino` (ckpt_sysv.c), file 0 */
enum { CKPT_BYID_NONE, CKPT_BYID_FILE, CKPT_BYID_HUGETLB, CKPT_BYID_SYSV };

/*
 * Filled by the restorer in a restarted process, read (and cleared) by the
 * post-restore handler: the restorer's own mapping, which only the
 * restored process can unmap once it runs on its own stack.
 */
struct ckpt_restore_info {
	uint64_t blob, blob_len;
	uint64_t threads_left;		/* threads still to leave the blob */
	uint64_t lazy;			/* restored by ckpt-restart --lazy (ckpt_lazy.c) */
	/*
	 * The image file this process was restored from (st_dev, st_ino),
	 * 0 if none: mappings of it are the process's anonymous memory,
	 * mapped from a mappable image (ckpt_mpages.c).  Kept for the
	 * process's life; every restart rewrites it.
	 */
	uint64_t img_dev, img_ino;
};
extern struct ckpt_restore_info ckpt_restore_info;

/* What a thread captures of itself in its handler (ckpt_thread.c). */
struct ckpt_thread_state {
	/*
	 * What the thread itself captured, in the image's own record: tid,
	 * FS/GS base, pending (SigPnd), sigaltstack, rseq, robust list,
	 * clear_tid, name, capabilities, scheduling.  ckpt_thread_write()
	 * adds what comes from the frame and the checkpoint (registers,
	 * masks, the re-entry point).
	 */
	struct img_thread img;
	int sig;			/* the signal whose handler it is in */
	volatile int ready;		/* published: the leader may read it */
	siginfo_t *info;
	ucontext_t *uc;			/* the interrupted context's frame */
	uint64_t handler_mask;
	uint64_t shdpending;		/* the process's (ShdPnd) */
	int sig_owed;			/* must put back its queued signals (ckpt_signal.c) */
	int kstopped;			/* stopped by the kernel-assist module (ckpt_kstop.c) */
	/* ckpt_attr.c: what makes this thread impossible to restore (CKPT_TA_*) */
	uint32_t attr_refuse;
	int sc_filters;			/* the kernel's Seccomp_filters, -1: unknown */
	int sc_depth;			/* filters libckpt recorded on its chain */
};

/* ckpt_thread_state.attr_refuse: each one fails the checkpoint, by name */
#define CKPT_TA_SC_STRICT	0x001	/* seccomp strict mode */
#define CKPT_TA_SC_UNSEEN	0x002	/* a filter installed behind libc's back */
#define CKPT_TA_SC_LISTENER	0x004	/* a filter with a user-notification fd */
#define CKPT_TA_SC_PRIV		0x008	/* filters need CAP_SYS_ADMIN it dropped */
#define CKPT_TA_SECUREBITS	0x010	/* securebits without CAP_SETPCAP */
#define CKPT_TA_RSEQ		0x020	/* an rseq area libckpt does not know */
#define CKPT_TA_SHSTK		0x040	/* CET shadow stack */
#define CKPT_TA_CORE		0x080	/* core scheduling cookie */
#define CKPT_TA_CPUS		0x100	/* affinity beyond the image's 1024 CPUs */
#define CKPT_TA_NODES		0x200	/* NUMA policy unreadable */

/* The rseq length glibc registers, whatever __rseq_size says. */
#define CKPT_RSEQ_LEN_REGISTERED	32

#define CKPT_MAX_THREADS	4096

/* An fd saved so far (ckpt_fds.c): its file's identity and FILE id. */
struct ckpt_fdid {
	int fd;
	uint64_t dev, ino;
	uint32_t file;			/* the FILE record's id */
	uint32_t fdflags;		/* F_GETFD */
	uint32_t locks;			/* the first fd of its FILE, which holds
					 * locks (LOCK records: fds/fd_lock.c) */
};
#define CKPT_MAX_FDS	65536

struct ckpt_ctx {
	/* inputs */
	int img_fd;			/* where the image goes */
	/*
	 * Its final absolute path once complete (the fd has no name yet, or
	 * a temporary one), NULL when it is not a file: what the next
	 * incremental image names as its parent (ckpt_parent.c).
	 */
	const char *img_path;
	/*
	 * libckpt's other fd of this save, not the app's (left out of the
	 * image like img_fd): ckpt-save's connection, or for a save to a
	 * path the image's directory (ckpt_tmpfile.h); -1 if none.
	 */
	int ctl_fd;
	int sig;			/* the signal that triggered this checkpoint */
	int ctl_sig_no;			/* libckpt's own signal: park requests, its timer */
	siginfo_t *info;
	ucontext_t *uc;			/* the interrupted context */
	uint64_t entry_rip;		/* post-restore handler */
	/*
	 * A thread stopped through the kernel-assist module (fs_base: its
	 * thread pointer) never ran the handler: what the handler would have
	 * saved in its thread variables (errno) is saved for it (shim).
	 * Returns 1, saving nothing, if the thread is inside the handler.
	 */
	int (*kstop_tls)(uint64_t fs_base);
	unsigned hdr_flags;		/* IMG_F_* */
	int no_compress;		/* CKPT_COMPRESS=none: pages stored raw */
	int threads;			/* CKPT_THREADS: threads for page data, 0 = every CPU */
	int fork_ok;			/* may write the pages from a forked copy */
	/*
	 * The process ends after a successful checkpoint (ckpt-save --exit,
	 * CKPT_ON_TERM): a tree's coordinator ends its members rather than
	 * letting them run on (ckpt_tree_coord.c, tree_coord_end).
	 */
	int exit_after;
	/*
	 * What the wrappers saw (wrappers/wrap_mem.c): an attribute given
	 * through libc (read smaps), the mlockall() flags (-1: never asked);
	 * smaps_always: CKPT_SMAPS=1, read the VmFlags whatever the signs.
	 */
	int mem_advised;
	int mem_mcl;
	int smaps_always;
	int mappable;			/* IMG_F_MAPPABLE in hdr_flags: MPAGES records */
	int forked;			/* out: CKPT_FORKED_* */
	int incremental;		/* CKPT_OPT_INCREMENTAL asked for (ckpt_incr.h) */
	uint64_t fdata_limit;		/* CKPT_GHOST_LIMIT: data bytes of one deleted file
					 * or memfd kept in the image; 0: the default */
	struct ckpt_dirty_run *dirty;	/* this checkpoint's dirty pages (scratch) */
	/* ckpt_memattr.c: the VmFlags were read; the mlockall state (IMG_MCL_*) */
	int vmflags;
	uint32_t mcl;
	struct img_header hdr;		/* the header as written */
	/* part of a process tree's checkpoint (ckpt_tree.h), NULL if not */
	struct ckpt_tree *tree;

	/* scratch: one mapping, left out of the image */
	unsigned char *scratch;
	size_t scratch_len;
	char *maps;			/* /proc/self/maps text */
	size_t maps_len;
	struct ckpt_vma *vmas;
	int nvmas;
	unsigned char *wbuf;		/* image writer buffer */
	unsigned char *ztab;		/* the leader's snappy encoder scratch */
	unsigned char *bounce;		/* pages of unreadable mappings */
	uint64_t *pagemap;		/* one chunk of pagemap entries */
	struct page_region *pmvec;	/* PAGEMAP_SCAN results (ckpt_mem.c) */
	struct page_region *gvec;	/* ... of the guard scan (ckpt_memattr.c) */
	unsigned char *mcvec;		/* mincore's answer, CKPT_MCVEC_LEN pages (ckpt_pmscan.c) */
	unsigned char *vmatail;		/* a VMA record's path and guard regions */
	uint64_t gscan_next;		/* guard scan: walked up to here */
	long gscan_n, gscan_i;		/* ... gvec[gscan_i .. gscan_n) not used yet */
	/*
	 * One MPAGES run, copied (ckpt_mpages.c); before the pages, each
	 * record's work in turn: FILE_DATA, a queue's messages, a
	 * /proc/sysvipc file (ckpt_fdata.c, fd_mqueue.c, ckpt_sysv.c).
	 */
	unsigned char *mbuf;
	/*
	 * The unix sockets' table (fds/fd_unix.c), live from the fds' check
	 * to their last record: its own, so that no record's work above
	 * overwrites it (a queue's messages once did).
	 */
	unsigned char *usk;
	struct ckpt_fdid *fdids;	/* fds seen so far, to find shared ones */
	/*
	 * The pipes and FIFOs the image holds, which ends, and who else
	 * holds them (libckpt/ckpt_pipe.c): NULL until an fd needs it.
	 */
	struct ckpt_pipes *pipes;
	uint8_t *asked;			/* tids asked to park (bitmap) */
	int nfdids;
	uint32_t nfiles;		/* FILE records written (the last id) */
	int cpus_known;			/* cpus_online read (ckpt_attr.c) */
	/* fds/fd_pshm.c: st_dev of the tmpfs on /dev/shm (shm_known 1), none (-1), not looked (0) */
	int shm_known;
	uint64_t shm_dev;
	uint64_t cpus_online[IMG_CPU_WORDS];

	int pagemap_fd, mem_fd;		/* /proc/self/{pagemap,mem} */
	struct ckpt_pool *pool;		/* while page data is written (ckpt_pool.c) */
	struct img_writer w;
	struct ckpt_thread_state leader;	/* this thread, captured once */

	/* results */
	uint64_t mem_bytes;		/* bytes of memory pages saved (raw) */
	/*
	 * ckpt-save on a terminal asked for progress (CTL_F_PROGRESS):
	 * ckpt_progress() sends ctl_progress on ctl_fd (ckpt_progress.c).
	 */
	int progress;
	uint64_t progress_next_ns, progress_total;
	uint64_t zero_pages;
	int error;			/* -errno */
	char err[CKPT_ERR_LEN];		/* why, for the user */
	char notes[CKPT_ERR_LEN];	/* what the user should know ("fd 1 (pipe:[7])
					 * will be ckpt-restart's own fd 1"), or "" */
};

/*
 * Checkpoint the calling process into c->img_fd.  0, or -errno with c->err.
 *
 * With c->fork_ok, and when the process allows it (no shared anonymous
 * memory, nothing MADV_DONTFORK or MADV_WIPEONFORK), the threads are
 * released as soon as everything but the page data is written: a copy
 * made with fork (copy-on-write: the memory as it was) writes the pages.
 * ckpt_run then returns twice: in the process with c->forked =
 * CKPT_FORKED_PARENT and no result yet (the copy owns the image fd from
 * now on), and in the copy with c->forked = CKPT_FORKED_CHILD and the
 * result, where the caller finishes (reply, rename) and _exits.
 */
int ckpt_run(struct ckpt_ctx *c);

enum { CKPT_FORKED_NO = 0, CKPT_FORKED_PARENT, CKPT_FORKED_CHILD };

/*
 * One save at a time per process, whatever its trigger.  The shim takes
 * the slot before it creates any file, and gives it back when the save is
 * over in this process (its forked writer, if any, is tracked apart:
 * ckpt_save_begin refuses while it runs).  begin: 0, or -EBUSY with why
 * in err; wait_ms: how long a forked writer still running may take to end
 * (0: not at all, -1: as long as it takes).  reset: in a restarted copy,
 * whose memory shows the slot taken by the save that made its image.
 */
int ckpt_save_begin(int wait_ms, char *err, size_t errlen);
void ckpt_save_end(void);
void ckpt_save_reset(void);

/*
 * For ckpt_tree.c: a header as ckpt_run writes one (pid, time, kernel);
 * whether a fork would see the memory as it is; the forked copy that
 * writes the pages: >0 in the process (the copy's pid), 0 in the copy
 * (its own session, named CKPT_WRITER_COMM, c->forked and its /proc fds
 * set), <0 if it failed.  released: the pipe the copy waits on.
 */
#define CKPT_WRITER_COMM	"ckpt-writer"
void ckpt_header_fill(struct ckpt_ctx *c, struct img_header *h, unsigned flags);
int ckpt_fork_faithful(struct ckpt_ctx *c);
long ckpt_fork_copy(struct ckpt_ctx *c, int released[2]);

/* Records c->err (first failure wins) and returns -err. */
int ckpt_fail(struct ckpt_ctx *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Scratch and /proc fds for a checkpoint (ckpt_core.c; the tests use them). */
int ckpt_scratch_map(struct ckpt_ctx *c);
int ckpt_open_proc(struct ckpt_ctx *c);

/*
 * ckpt_scratch_map's way to map anonymous memory for the checkpoint: never
 * locked, whatever mlockall(MCL_FUTURE) says (locking would populate it,
 * and RLIMIT_MEMLOCK may refuse it).  MAP_NORESERVE, MAP_FAILED/errno.
 */
void *ckpt_map_anon(size_t len, int prot);

/* Steps, one file each. */
int ckpt_maps_read(struct ckpt_ctx *c);		/* ckpt_maps.c */
/* Refuses a mapping a restart would have no room to stage (ckpt_maps.c). */
int ckpt_maps_stageable(struct ckpt_ctx *c);
/* Parses maps text (the format of /proc/PID/maps) into c->vmas. */
int ckpt_maps_parse(struct ckpt_ctx *c, const char *text, size_t len);
int ckpt_maps_write(struct ckpt_ctx *c);
/*
 * ckpt_memattr.c: each mapping's attributes (v->attrs: madvise flags,
 * locks, NORESERVE from smaps VmFlags when the process may have any; the
 * maximum protection of shared file mappings) and the mlockall state
 * (c->mcl), after ckpt_maps_read; the MLOCK record; the guard regions of
 * one mapping (called in address order, by ckpt_maps_write), into out:
 * their number, or -1 with c->err.
 */
int ckpt_memattr_read(struct ckpt_ctx *c);
int ckpt_memattr_write(struct ckpt_ctx *c);
int ckpt_memattr_guards(struct ckpt_ctx *c, const struct ckpt_vma *v, struct img_range *out);
/* The kernel's struct sysinfo (a raw SYS_sysinfo: libc's is interposable). */
struct ckpt_sysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char rest[8];
};


int ckpt_mem_write(struct ckpt_ctx *c);		/* ckpt_mem.c */
int ckpt_mem_write_vma(struct ckpt_ctx *c, const struct ckpt_vma *v);
/* pagemap entries of npages pages from addr into c->pagemap (<= 512). */
int ckpt_mem_pagemap(struct ckpt_ctx *c, uint64_t addr, size_t npages);
/*
 * Whether a pagemap entry holds a page (present or swapped; a PTE marker
 * does not), and whether it is a guard region, which must never be read.
 */
int ckpt_pm_has_page(uint64_t pm);
int ckpt_pm_guard(uint64_t pm);
/*
 * The runs of v's pages that may hold data, and its guard regions, in
 * address order: fn(c, v, addr, npages, kind, arg) for each, kind one of
 * CKPT_RUN_*; a nonzero return stops the walk and is returned.  With
 * PAGEMAP_SCAN (Linux 6.7) the cost is one ioctl per 512 runs, whatever
 * the size of the mapping (a 2 TiB reservation with 5 pages: 5 runs);
 * without it, one mincore() per 4 GiB and pagemap where pages are
 * resident (no swap on), else one pagemap read per 512 pages; guard
 * regions are then in no run (ckpt_memattr_guards finds them).
 * Untouched pages are in no run.  [vdso] and image-backed mappings
 * (v->backed) are one PAGE run less their guards: every page is read.
 */
enum {
	CKPT_RUN_PAGE = 1,		/* present or swapped: read it */
	CKPT_RUN_FILE,			/* present, the file's own page (page cache) */
	CKPT_RUN_ZERO,			/* the shared zero page: reads as zeros */
	CKPT_RUN_GUARD,			/* a guard region: never read */
	CKPT_RUN_EXCL,			/* excluded by the program (ckpt_exclude): never
					 * read, nor written as a hole of a run */
};
typedef int (*ckpt_run_fn)(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr,
			   uint64_t npages, int kind, void *arg);
int ckpt_mem_each_run(struct ckpt_ctx *c, const struct ckpt_vma *v, ckpt_run_fn fn, void *arg);

/*
 * Memory the program excluded (ckpt_exclude, libckpt/ckpt_excl.c).  set:
 * add (add 1) or take away page-aligned [start, start + len); 0, -EINVAL,
 * -ENOSPC (CKPT_EXCL_MAX ranges); normal context.  ranges: the set as
 * published (sorted, disjoint).  applies: whether v's pages can be left
 * out (private anonymous memory).  each: fn on each part of [start, end),
 * in order, excluded 1 for the parts in the set; the first nonzero
 * return.  forked: the
 * pthread_atfork child's reset of the lock.
 */
#define CKPT_EXCL_MAX	64
int ckpt_excl_set(uint64_t start, uint64_t len, int add);
const struct img_range *ckpt_excl_ranges(uint32_t *n);
int ckpt_excl_applies(const struct ckpt_vma *v);
int ckpt_excl_each(uint64_t start, uint64_t end,
		   int (*fn)(uint64_t s, uint64_t e, int excluded, void *arg), void *arg);
void ckpt_excl_forked(void);
/* Moved on by every ckpt_include(): pages came back into the images. */
unsigned ckpt_excl_gen(void);
/* PAGEMAP_SCAN works here (1), and knows guard regions (2|1); 0: neither. */
int ckpt_pm_scan_level(void);
/*
 * 1 if v holds memory the checkpoint itself writes while it reads it (the
 * leader's stack and TLS, libckpt's .data and .bss): a run of it must be
 * copied before it is checksummed, compressed or written.  The rest of a
 * parked (or forked) process does not change meanwhile.
 */
int ckpt_mem_hot(const struct ckpt_ctx *c, const struct ckpt_vma *v);
/* The same less the TLS (ckpt_softdirty.c treats the TLS pages apart). */
int ckpt_mem_hot_notls(const struct ckpt_ctx *c, const struct ckpt_vma *v);
/* One PAGES record: npages from addr, as data or as a ZERO run. */
int ckpt_mem_write_run(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr,
		       uint32_t npages, int zero);
/*
 * ckpt_mpages.c: mappable images.  check refuses a mappable image to a
 * pipe; eligible says whether v's pages go into MPAGES records; write_vma
 * writes them; backed says whether a maps entry is the image file this
 * process was restored from.
 */
#define CKPT_MPAGES_RUN	16384u	/* pages in one MPAGES run: 64 MiB of scratch */
#define CKPT_USK_SCRATCH	(60u << 20)	/* the unix sockets' table and queued bytes */
int ckpt_mpages_check(struct ckpt_ctx *c);
int ckpt_mpages_eligible(struct ckpt_ctx *c, const struct ckpt_vma *v);
int ckpt_mpages_write_vma(struct ckpt_ctx *c, const struct ckpt_vma *v);
int ckpt_mpages_backed(const struct ckpt_vma *v, int shared);
/*
 * ckpt_pool.c: page runs compressed and checksummed by worker threads
 * (c->threads in all, the leader included), written in post order.
 * start: 0 or -errno (c->err); post: c->w.error; finish writes every
 * posted run, waits for the workers to be gone, returns c->w.error.
 * next_buf: the next run's slot buffer (IMG_PAGES_MAX pages), for pages
 * that must be copied before they are posted (unreadable mappings).
 * stable: src cannot change until the run is written (the forked copy's
 * private memory), so raw pages are written from it without a copy.
 */
#define CKPT_POOL_MAX_THREADS	64
int ckpt_pool_start(struct ckpt_ctx *c);
void *ckpt_pool_next_buf(struct ckpt_ctx *c);
int ckpt_pool_post(struct ckpt_ctx *c, uint64_t addr, uint32_t npages, int zero, const void *src,
		   int stable);
int ckpt_pool_finish(struct ckpt_ctx *c);
int ckpt_pool_ncpus(void);			/* CPUs this thread may run on */
/* ckpt_proc.c: 1 if the process has children (a tree: ckpt_tree.h), else 0. */
int ckpt_proc_check(struct ckpt_ctx *c);
int ckpt_proc_write(struct ckpt_ctx *c);
/* ckpt_lazy.c: after a lazy restart, wait until every page has arrived. */
int ckpt_lazy_settle(struct ckpt_ctx *c);
int ckpt_fds_check(struct ckpt_ctx *c);		/* ckpt_fds.c */
int ckpt_fds_write(struct ckpt_ctx *c);
/*
 * ckpt_fmapped.c: the FILE records of what mappings name by id (deleted
 * files and memfds no fd holds, anonymous huge pages): check after the
 * fds' check, write after the fds' FILE records (sets each v->file).
 */
int ckpt_fmapped_check(struct ckpt_ctx *c);
int ckpt_fmapped_write(struct ckpt_ctx *c);
/*
 * fds/fd_pshm.c: whether a file on device dev is a POSIX shared memory
 * object: a file of the tmpfs mounted on /dev/shm in the process's mount
 * namespace (ckpt_maps.c asks it of every file mapping on a device of
 * major 0; its mappings then name the object's FILE).
 */
int ckpt_pshm_is(struct ckpt_ctx *c, uint64_t dev);
/*
 * A POSIX shm object whose path (an fd's link, a mapping's name) ends in
 * " (deleted)" although it has a name now (sem_open() links its temporary
 * file under the semaphore's name and removes the first): that name, found
 * by its inode in /dev/shm, into path (len bytes).  1 if found, else 0
 * (path unchanged).  One read of /dev/shm.
 */
int ckpt_pshm_rename(struct ckpt_ctx *c, uint64_t dev, uint64_t ino, char *path, size_t len);
#define CKPT_FDATA_LIMIT	(256ull << 20)	/* default of ckpt_ctx.fdata_limit */
/*
 * ckpt_sysv.c: SysV IPC objects (the attached segments, the ids the
 * wrappers saw, or every object of an --ipcns namespace): check refuses
 * what cannot be saved before a byte is written; write puts SYSV_SHM
 * (+ FILE_DATA), SYSV_SEM and SYSV_MSG records after the LOCKs.
 * ckpt_ipc_ns_flag: IMG_IPC_NS when the process runs in the IPC
 * namespace `ckpt-run --ipcns` (or a restart of it) made, else 0.
 * ckpt_semadj.c: after set id's SYSV_SEM record (vals: its nsems values,
 * from GETALL), the process's SEM_UNDO adjustments of it, measured, as a
 * SYSV_SEM UNDO record when any is not 0.
 */
int ckpt_sysv_check(struct ckpt_ctx *c);
int ckpt_sysv_write(struct ckpt_ctx *c);
uint32_t ckpt_ipc_ns_flag(void);
int ckpt_semadj_write(struct ckpt_ctx *c, int id, uint32_t nsems);
int ckpt_thread_write(struct ckpt_ctx *c);	/* ckpt_thread.c */
/* Called by a thread in its own handler: its state, for a THREAD record. */
void ckpt_thread_capture(struct ckpt_thread_state *t, siginfo_t *info, ucontext_t *uc);

/*
 * ckpt_attr.c: process attributes.  ckpt_attr_thread() is called by each
 * thread in its handler (status: the text of its /proc/thread-self/status,
 * or NULL if it could not be read); ckpt_attr_check() refuses, before anything is
 * written, what cannot be restored; ckpt_attr_write() writes PROC_ATTR and
 * the SECCOMP records, and ckpt_attr_thread_write() adjusts each THREAD
 * record to them.  The two parsers are the unit tests'.
 */
void ckpt_attr_thread(struct ckpt_thread_state *t, const char *status);
int ckpt_attr_check(struct ckpt_ctx *c);
int ckpt_attr_write(struct ckpt_ctx *c);
void ckpt_attr_thread_write(const struct ckpt_ctx *c, struct img_thread *t);
/* "Name:\tvalue" of a /proc status text: 0 and *v, or -1. */
int ckpt_status_field(const char *status, const char *name, int64_t *v);
/* "0-3,8,10-11" into a bitmask of words * 64 bits: 0, or -1 if malformed or too large. */
int ckpt_parse_cpulist(const char *s, uint64_t *mask, int words);

/* ckpt_timer.c: TIMER records (interval and POSIX timers, time left). */
int ckpt_timer_write(struct ckpt_ctx *c);

/*
 * ckpt_signal.c: pending signals with their siginfo.  ckpt_sig_take() is
 * called by each thread after its capture (the leader last, leader = 1:
 * it takes the process's queue too) and leaves `keep` (libckpt's own
 * signal) pending; ckpt_sig_write() writes SIGINFO records.  Before the
 * release the leader (tid self) calls ckpt_sig_release() with the number
 * of park slots handed out: it puts back what is its to put back and
 * returns how many parked threads owe
 * theirs; each of those calls ckpt_sig_put_own() when asked, and
 * ckpt_sig_wait_back() waits until all have.  ckpt_sig_reset() forgets
 * them (a restarted copy's memory still lists what the restorer queued).
 */
void ckpt_sig_take(struct ckpt_thread_state *t, int keep, int leader);
int ckpt_sig_write(struct ckpt_ctx *c);
int ckpt_sig_release(int self, int nslots);
void ckpt_sig_put_own(struct ckpt_thread_state *t);
void ckpt_sig_wait_back(void);
void ckpt_sig_reset(void);

/*
 * ckpt_park.c: every thread but the leader waits in its handler while the
 * leader checkpoints.  ckpt_park_all() and ckpt_release_all() are the
 * leader's; ckpt_park_request() tells a handler it is asked to park, and
 * ckpt_park_self() parks the calling thread until the release.
 */
int ckpt_leader_enter(struct ckpt_ctx *c);
int ckpt_park_all(struct ckpt_ctx *c);
void ckpt_release_all(struct ckpt_ctx *c);
int ckpt_park_request(const siginfo_t *info);
/* In a restarted process: no checkpoint is running, whatever memory says. */
void ckpt_park_reset(void);
void ckpt_park_self(siginfo_t *info, ucontext_t *uc);
/* The parked threads' states (valid between park_all and release_all). */
extern struct ckpt_thread_state ckpt_parked[CKPT_MAX_THREADS];
extern int ckpt_nparked;

/*
 * ckpt_kstop.c: a thread that blocks libckpt's signal, stopped through the
 * kernel-assist module instead of parking.  ckpt_kstop_available() opens
 * the module once per checkpoint (1 if it has THREAD_STOP); ckpt_kstop_thread()
 * stops tid and fills its slot as if it had parked (its signal frame
 * written on its stack): 0, -ESRCH gone meanwhile, -EINPROGRESS inside
 * libckpt's handler (resumed at once), or -errno with c->err;
 * ckpt_kstop_release() resumes every one of the first nslots slots it
 * stopped and closes the module; ckpt_kstop_reset() forgets, in a restarted
 * copy.  ckpt_kstop_own_fd: whether fd is libckpt's open of the module.
 */
int ckpt_kstop_available(void);
int ckpt_kstop_thread(struct ckpt_ctx *c, int tid, struct ckpt_thread_state *t);
void ckpt_kstop_release(int nslots);
void ckpt_kstop_reset(void);
int ckpt_kstop_own_fd(int fd);

/*
 * fd calls of the checkpoint path.  Raw system calls, not libc: inside
 * libckpt.so, open() and close() would reach libckpt's own wrappers,
 * whose registry must not run in the signal handler.  -1 with errno.
 */
int ckpt_open(const char *path, int flags, int mode);
int ckpt_close(int fd);

/*
 * Calls fn(n, dirfd, arg) for every numeric entry n of a /proc directory
 * (/proc/self/fd, /proc/self/task), in the kernel's order; stops at the
 * first negative return and returns it.  0, or -errno if it cannot read.
 */
int ckpt_proc_each(const char *dir, int (*fn)(int n, int dirfd, void *arg), void *arg);

/*
 * ckpt_smaps.c: fn(start, end, flags) for every mapping of /proc/self/smaps,
 * flags being its "VmFlags:" text (" rd wr mr ...").  Stops at the first
 * nonzero return and returns it; 0 after the last; -errno if smaps cannot
 * be read.  Uses c->bounce.  ckpt_vmflag: whether flags has a two-letter
 * flag ("dc", "um").
 */
int ckpt_smaps_each(struct ckpt_ctx *c,
		    int (*fn)(uint64_t start, uint64_t end, const char *flags, void *arg),
		    void *arg);
int ckpt_vmflag(const char *flags, const char *flag);
/* Inside fn: that mapping's "Rss:" and "Swap:" in kB (~0 if smaps did not say). */
void ckpt_smaps_sizes(uint64_t *rss_kb, uint64_t *swap_kb);

/* waitid(2), libckpt's own (ckpt_libc.c): waitid is the application's wrapper. */
int ckpt_waitid(int type, int id, siginfo_t *info, int options);

/*
 * ckpt_progress.c: after mem_bytes grew, a progress message to ckpt-save
 * if it asked and CTL_PROGRESS_MS passed since the last one; never blocks,
 * never fails the checkpoint.
 */
void ckpt_progress(struct ckpt_ctx *c);

/* Small async-signal-safe helpers (ckpt_util.c). */
ssize_t ckpt_read_file(const char *path, char *buf, size_t cap);
int ckpt_memeq(const void *a, const void *b, size_t n);
int ckpt_is_zero(const void *p, size_t n);
uint64_t ckpt_parse_hex(const char **s);
int64_t ckpt_parse_dec(const char **s);
size_t ckpt_strlen(const char *s);
/* Where `addr` lies, as "path+0xoff" (or the bare address) into buf. */
void ckpt_describe_addr(struct ckpt_ctx *c, uintptr_t addr, char *buf, size_t len);

/* rseq of the calling thread, as glibc registered it (shim resolves it). */
extern long ckpt_rseq_offset;		/* __rseq_offset, or 0 */
extern unsigned ckpt_rseq_size;		/* __rseq_size, 0 if none */

#endif
