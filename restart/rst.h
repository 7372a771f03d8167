/*
 * rst.h - ckpt-restart's internal state and steps.
 *
 * Order (restart_main.c):
 *   parent:  read header + PROC; for an IMG_F_PIDNS image, go on in
 *            pid 1 of a new user+pid namespace (restart_pidns.c), which
 *            then waits like the parent here; check the pid is free and
 *            may be taken;
 *            fork a child with that pid (kernel-assist); wait for it and
 *            exit with its status.
 *   child:   read the rest, staging page data in anonymous memory
 *            (restart_load.c); verify the END record; check the
 *            environment (restart_env.c); restore fds, cwd, umask,
 *            rlimits (restart_fds.c); build the restorer's argument block
 *            and jump (restart_jump.c).
 * Nothing of the target process is created before the whole image has
 * been read and verified: a corrupt image never yields a half process.
 * Except with --lazy (restart_lazy.c): the parent reads the metadata
 * before forking, the child restores without the lazy page data, and the
 * parent serves it (verifying each record first) before it waits; a
 * corrupt page record then kills the running process.
 */
#ifndef CKPT_RST_H
#define CKPT_RST_H

#include <stdint.h>
#include <sys/types.h>
#include "libckpt/img.h"

/* Exit codes (docs/ERRORS.md). */
enum rst_exit {
	RST_EXIT_OK = 0,
	RST_EXIT_USAGE = 1,
	RST_EXIT_IMAGE = 2,	/* missing, truncated, corrupt */
	RST_EXIT_INCOMPAT = 3,	/* other arch, newer format, other kernel/CPU */
	RST_EXIT_ENV = 4,	/* pid taken, no privilege, file changed */
};

struct rst_vma {
	struct img_vma v;
	char *path;		/* NUL-terminated copy */
	void *staging;		/* pages read so far, NULL if none */
	uint8_t *dirty;		/* FILE: bitmap of pages in staging */
	int fd;			/* FILE: open file, -1 otherwise; consecutive
				 * mappings of one file share it */
	int acc;		/* FILE: fd's access mode (O_RDONLY/O_RDWR) */
	uint8_t *have;		/* incremental: pages filled so far (restart_chain.c) */
	struct img_range *guards;	/* v.nguards guard regions to install again */
};

struct rst_fd {
	struct img_fd f;
	char *path;
};

struct rst_state {
	const char *image;	/* as given; "-" is stdin */
	int check_only;
	int pidns;		/* IMG_F_PIDNS: we are pid 1 of a new namespace */
	int img_fd;
	struct img_reader r;
	struct img_proc proc;
	char *cwd, *exe;
	struct img_thread *threads;	/* [0]: the main thread (tid == pid) */
	int nthreads;
	int have_proc;
	struct rst_fd *fds;
	int nfds;
	struct rst_vma *vmas;
	int nvmas;
	struct img_siginfo *sigs;	/* queued signals, in image order */
	int nsigs;
	struct img_timer *timers;	/* interval and POSIX timers */
	int ntimers;
	uint32_t mcl;		/* MLOCK record: IMG_MCL_*, 0 if none */
	int have_mlock;
	size_t fds_cap, vmas_cap, threads_cap, mpages_cap, sigs_cap, timers_cap;	/* rst_grow */
	int reserved;		/* target ranges reserved */
	int exe_fd;
	int nproblems;		/* --check: problems found */
	int loaded;		/* rst_load_rest() done (by the parent, for --lazy) */
	int lazy;		/* --lazy in effect (restart_lazy.c) */
	int lazy_fd;		/* the restorer's end of the page server's socket, or -1 */
	struct rst_lazy *lz;
	struct rst_chain *chain;	/* incremental: the PARENT record */
	/* mappable image (restart_mpages.c): runs mapped from img_fd */
	struct img_mpages *mpages;	/* in address order */
	int nmpages;
	struct rst_pool *pool;	/* page decoding threads (restart_pool.c) */
	int pool_off;		/* one thread decodes: no pool */
	int pool_inline;	/* records decoded before the pool started */
	int own_read;		/* own[] filled (rst_own_special) */
	struct { uint64_t start, end; } own[3];	/* RST_OWN_*; end 0: none */
};

/* Prints "ckpt-restart: IMAGE: <msg>" to stderr. */
void rst_error(struct rst_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records a problem: fatal normally, listed and counted with --check. */
int rst_problem(struct rst_state *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * restart_main.c: r (an image or a parent) is read from a mapping of its
 * file from here on, when it is a regular file (img_reader_map); a file
 * cut short meanwhile is then reported and ends ckpt-restart (exit 2).
 */
void rst_map(struct rst_state *s, struct img_reader *r);

/* restart_load.c: read records until `stop_after_proc` or END. 0 or exit code. */
int rst_load_proc(struct rst_state *s);
int rst_load_rest(struct rst_state *s);

/* p, an array of n elements of size bytes and *cap room, with room for one
 * more: doubled when full (aborts when out of memory, like every small
 * allocation of the restarter). */
void *rst_grow(void *p, size_t *cap, size_t n, size_t size);

/* Stages a mapping: anonymous memory of its size for its pages (restart_load.c). */
int rst_stage(struct rst_state *s, struct rst_vma *v);

/*
 * restart_chain.c: an incremental image's PARENT record (note), the pages
 * its own records filled (mark), and, once the image is read, the pages
 * its parents give (load).  0 or exit code.
 */
int rst_chain_note(struct rst_state *s, const struct img_rec *rec);
void rst_chain_mark(struct rst_state *s, struct rst_vma *v, uint64_t addr, uint32_t npages);
int rst_chain_load(struct rst_state *s);
/*
 * restart_mpages.c: an MPAGES record (checked, remembered; with --check
 * its data verified), and the restorer ops that map the runs of v.
 */
int rst_load_mpages(struct rst_state *s, const struct img_rec *rec);
struct rst_op;
int rst_mpages_ops(struct rst_state *s, const struct rst_vma *v, struct rst_op *ops);
/*
 * restart_pool.c: decodes a PAGES record (rec, its checked struct p) into
 * dst on a worker thread, taking the payload buffer from the reader;
 * drop: release the pages afterwards (--check).  0, or RST_EXIT_IMAGE once
 * a job has failed.  finish joins every thread and reports a failure:
 * 0 or RST_EXIT_IMAGE.  It must run before anything of the target exists.
 */
int rst_pool_decode(struct rst_state *s, const struct img_rec *rec, const struct img_pages *p,
		    void *dst, int drop);
int rst_pool_finish(struct rst_state *s);

/* restart_env.c */
int rst_check_pid(struct rst_state *s);
/*
 * This process's own [vdso], [vvar] and [vvar_vclock] (RST_OWN_*), read
 * from /proc/self/maps on the first call and remembered: the restarter
 * never moves them before the restorer does.  1 and the range, or 0.
 */
enum { RST_OWN_VDSO, RST_OWN_VVAR, RST_OWN_VVAR_VCLOCK, RST_OWN_N };
int rst_own_special(struct rst_state *s, int which, uint64_t *start, uint64_t *end);
int rst_check_env(struct rst_state *s);

/* restart_fds.c */
int rst_open_files(struct rst_state *s);	/* mapping fds, exe fd */
int rst_restore_fds(struct rst_state *s);
int rst_restore_misc(struct rst_state *s);	/* cwd, umask, rlimits */

/*
 * restart_lazy.c (--lazy): setup in the parent before the image's
 * metadata is read (a clear error, 0 with s->lazy set, or 0 with a note
 * and an eager restore); which mappings are lazy; each of their PAGES
 * records, noted instead of loaded; the child's and the parent's part.
 */
int rst_lazy_setup(struct rst_state *s);
int rst_lazy_vma(const struct rst_vma *v);
int rst_lazy_note(struct rst_state *s, const struct img_pages *p, const struct img_rec *rec);
uint64_t rst_lazy_features(void);
void rst_lazy_child(struct rst_state *s);
/* Serves the child's pages until all are in or it ends: 0, or an exit code. */
int rst_lazy_serve(struct rst_state *s, pid_t child);

/* restart_jump.c: never returns on success. */
int rst_jump(struct rst_state *s);

/* Reserves every target range not already mapped (restart_jump.c). */
void rst_reserve(struct rst_state *s);
/*
 * mmap(NULL, len, prot, flags, -1, 0) at a place outside every
 * mapping of the image, for memory the restorer keeps (restart_jump.c):
 * the mapping, or MAP_FAILED with errno set.
 */
void *rst_mmap_outside(struct rst_state *s, size_t len, int prot, int flags);

/*
 * restart_pidns.c: for an IMG_F_PIDNS image, a new user+pid+mount
 * namespace like the one ckpt-run --pidns made.  Like fork(): 0 in its
 * pid 1 (which goes on with the restart), pid 1's pid in the caller
 * (which waits for it), or -errno with the problem reported.
 */
pid_t rst_pidns_enter(struct rst_state *s);
/* pid 1's life after forking the restarted process: its exit status. */
int rst_pidns_init(pid_t child);

#endif
