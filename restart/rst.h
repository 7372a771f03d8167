/*
 * rst.h - ckpt-restart's internal state and steps.
 *
 * Order (restart_main.c):
 *   parent:  refuse a set-id run; decide whether the image is trusted
 *            from its open file (restart_trust.c); read header + PROC;
 *            root restarting an untrusted image becomes its file's owner
 *            here, before anything the image names is touched; for an
 *            IMG_F_PIDNS image (which becomes the owner itself), go on in
 *            pid 1 of a new user+pid namespace (restart_pidns.c), which
 *            then waits like the parent here; check the pid is free and
 *            may be taken;
 *            fork a child with that pid (kernel-assist); wait for it and
 *            exit with its status.
 *   child:   read the rest, staging page data in anonymous memory
 *            (restart_load.c); verify the END record; check the
 *            environment (restart_env.c); restore fds (restart_fds.c),
 *            file locks (fds/fd_lock.c), cwd, umask, rlimits; build the
 *            restorer's argument block and jump (restart_jump.c).
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
#include "fds/fd_kind.h"
#include "libckpt/img.h"

#ifndef FD_RESTORE
#error "restart/ is built with -DFD_RESTORE (Makefile): it needs the restore half of fds/"
#endif

/* Exit codes (docs/USAGE.md "Commands", ckpt-restart(1) EXIT STATUS). */
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
	int filled;		/* staging registered with the fill's userfaultfd (restart_fill.c) */
};

/* --inherit-fd N[=M]: the process's fd N is ckpt-restart's fd M. */
struct rst_inherit {
	int fd, from;
};
#define RST_INHERIT_MAX	64

/* restart_trust.c: what the image file lets ckpt-restart believe */
enum rst_trust {
	RST_TRUST_NONE = 0,	/* no owner to trust or act as (pipe, FUSE, others may write) */
	RST_TRUST_OWNER,	/* a regular file of owner_uid, not root: not trusted */
	RST_TRUST_ROOT,		/* root's, and nobody else may write it: trusted */
	RST_TRUST_GIVEN,	/* --trust-image: trusted */
};

struct rst_state {
	const char *image;	/* as given; "-" is stdin */
	int check_only;
	/* credentials (restart_trust.c) */
	int trust_opt;		/* --trust-image */
	int want_lazy;		/* --lazy asked: keep what userfaultfd needs too */
	enum rst_trust trust;
	char trust_why[160];	/* the reason, for messages */
	uid_t owner_uid;	/* RST_TRUST_OWNER: the file's owner */
	gid_t owner_gid;	/* and its primary gid (user database) */
	gid_t *run_groups;	/* and its groups, as initgroups sets them */
	int run_ngroups;
	int as_owner;		/* root became (or, --pidns, becomes) the owner */
	int foreign;		/* root restarts a process that runs as another user */
	uint64_t caps_held;	/* permitted when started; 0 if a setcap gave them */
	uint64_t cap_keep;	/* kept in permitted for pids, effective only in the restorer */
	gid_t *img_groups;	/* supplementary groups the image records */
	int img_ngroups;
	int pidns;		/* IMG_F_PIDNS: we are pid 1 of a new namespace */
	int timer_mode;		/* ASSIST_TIMERS_*: how timers get their ids (check_timers) */
	char timer_why[256];
	int img_fd;
	struct img_reader r;
	struct img_proc proc;
	char *cwd, *exe;
	struct img_thread *threads;	/* [0]: the main thread (tid == pid) */
	int nthreads;
	int have_proc;
	struct rst_file *files;		/* FILE records (fds/fd_kind.h) */
	int nfiles;
	struct img_fd *fds;		/* FD records */
	int nfds;
	struct rst_inherit inherit[RST_INHERIT_MAX];
	int ninherit;
	unsigned std_closed;	/* fds 0-2 ckpt-restart was started without (bit fd) */
	const char *key_path;	/* --key FILE (restart_seal.c) */
	uint8_t key[IMG_SEAL_KEY_BYTES];
	int sealed;		/* the seal was verified with the key */
	struct img_seal seal;	/* ... and says this */
	int verify;		/* --verify: a mappable image's page data is checked first */
	struct rst_vma *vmas;
	int nvmas;
	struct img_siginfo *sigs;	/* queued signals, in image order */
	int nsigs;
	struct img_timer *timers;	/* interval and POSIX timers */
	int ntimers;
	struct img_lock *locks;		/* file locks (fds/fd_lock.c) */
	int nlocks;
	struct img_proc_attr pattr;	/* process attributes (restart_attr.c) */
	int have_pattr;
	struct rst_seccomp *filters;	/* seccomp filters, install order */
	int nfilters;
	size_t filters_cap;
	uint32_t fdata_file;	/* the FILE record just read, while only FILE_DATA
				 * records follow it (restart_fdata.c), else 0 */
	struct rst_ipc *ipc;	/* SysV objects, POSIX queue messages (restart_ipc.c) */
	int ipc_shm;		/* the SYSV_SHM just read (index + 1), while only its
				 * FILE_DATA records follow it, else 0 */
	uint64_t huge_need[2];	/* huge pages the image needs: 2 MiB, 1 GiB (rst_hugetlb_check) */
	uint32_t mcl;		/* MLOCK record: IMG_MCL_*, 0 if none */
	int have_mlock;
	size_t files_cap, fds_cap, vmas_cap, threads_cap, mpages_cap, sigs_cap, timers_cap,
	       locks_cap;		/* rst_grow */
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
	struct rst_usk *usk;	/* unix sockets being made (fds/fd_unix_make.c) */
	struct rst_pool *pool;	/* page decoding threads (restart_pool.c) */
	int pool_off;		/* one thread decodes: no pool */
	int pool_inline;	/* records decoded before the pool started */
	struct rst_fill *fill;	/* userfaultfd filling of the staging (restart_fill.c) */
	int own_read;		/* own[] filled (rst_own_special) */
	struct { uint64_t start, end; } own[3];	/* RST_OWN_*; end 0: none */
	/*
	 * A process tree (restart_tree.c): tree is its plan; a section's
	 * state has the section's offset (section_off), files shared by the
	 * whole tree and opened before any process was made (tree_files:
	 * its FILE records are skipped), and plan_only while ckpt-restart
	 * reads its metadata alone (no page data).
	 */
	struct rst_tree *tree;
	int tree_index;			/* a member's section, -1 if none */
	int64_t section_off;
	int tree_files;
	int plan_only;
};

/* rst_load_proc's answer for a tree's image: its directory's header is read. */
#define RST_IS_TREE	100

/* Prints "ckpt-restart: IMAGE: <msg>" to stderr. */
void rst_error(struct rst_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ckpt-restart --assist= (restart_main.c sets it): enum assist_backend. */
extern int rst_assist_want;

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

/*
 * Frees what loading the image made (arrays, paths, staging memory, the
 * reader) and zeroes s.  ckpt-restart itself never needs it (it becomes
 * the process or exits); the restart fuzz target loads image after image.
 */
void rst_state_free(struct rst_state *s);

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
void rst_chain_free(struct rst_state *s);
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
 * drop: release the pages afterwards (--check).  0, or an exit code once
 * a job has failed.  piece and window: a record (a 2 MiB window of
 * records, the pieces owned by the job from then on) into staging that
 * restart_fill.c registered.  finish joins every thread, ends the
 * userfaultfd filling (rst_fill_done) and reports a failure: 0 or an exit
 * code.  It must run before anything of the target exists.
 */
struct rst_piece {
	struct img_pages p;
	const void *data;	/* the record's page data */
	size_t len;
	uint64_t offset;	/* of the record, for messages */
};
int rst_pool_decode(struct rst_state *s, const struct img_rec *rec, const struct img_pages *p,
		    void *dst, int drop);
int rst_pool_piece(struct rst_state *s, const struct rst_piece *q, void *dst);
int rst_pool_window(struct rst_state *s, struct rst_piece *pc, int npc, void *dst);
int rst_pool_finish(struct rst_state *s);

/*
 * restart_fill.c: private anonymous staging filled with userfaultfd
 * (UFFDIO_COPY, whole 2 MiB windows as huge pages with UFFDIO_MOVE).
 *   rst_fill_eligible  whether v's staging may be filled so
 *   rst_fill_stage     its staging, registered; NULL: stage it as before
 *   rst_fill_record    a PAGES record of such a v (main thread): gathered
 *                      into a window or handed to the pool at once
 *   rst_fill_flush     a window left incomplete, to the pool record by record
 *   rst_fill_one/_window  a job's work (any thread, with its own runner)
 *   rst_fill_done      every staging unregistered, the fd closed; nothing
 *                      is registered after it
 */
#define RST_FILL_WINDOW	(2u << 20)
struct rst_runner {		/* one decoding thread's buffers */
	void *map;
	unsigned char *huge;	/* RST_FILL_WINDOW, advised MADV_HUGEPAGE */
	unsigned char *bounce;	/* one record's pages */
};
int rst_fill_eligible(struct rst_state *s, const struct rst_vma *v);
void *rst_fill_stage(struct rst_state *s, struct rst_vma *v, size_t len, int flags);
int rst_fill_record(struct rst_state *s, struct rst_vma *v, const struct img_rec *rec,
		    const struct img_pages *p);
int rst_fill_flush(struct rst_state *s);
int rst_fill_one(int uffd, struct rst_runner *rn, const struct img_pages *p, const void *data,
		 size_t len, void *dst, char *err, size_t errlen);
int rst_fill_window(struct rst_fill *f, struct rst_runner *rn, const struct rst_piece *pc,
		    int npc, void *dst, char *err, size_t errlen);
int rst_fill_uffd(const struct rst_state *s);
struct rst_fill *rst_fill_of(struct rst_state *s);
struct rst_runner *rst_fill_main_runner(struct rst_state *s);
void rst_runner_free(struct rst_runner *rn);
void rst_fill_done(struct rst_state *s);
void rst_fill_free(struct rst_state *s);

/*
 * restart_trust.c (the rules are at the top of that file):
 *   rst_creds_init   first of all: refuses a set-id run (exit code),
 *                    notes the capabilities held, lowers a non-root
 *                    restarter's effective set;
 *   rst_trust_decide from the open image file: s->trust and why;
 *   rst_trust_apply  after PROC, without --pidns: root restarting an
 *                    untrusted image checks its ids and becomes its
 *                    owner; 0 or exit code (with --check: problems);
 *   rst_trust_ns_ids the same for --pidns: the uid, gid and groups its
 *                    namespace is made as (restart_pidns.c);
 *   rst_caps_raise/lower   cap_keep effective, around what needs it;
 *   rst_caps_release       and out of the permitted set (the parent);
 *   rst_caps_restored      whether threads get the image's capabilities;
 *   rst_caps_note          says when the image had some and gets none;
 *   rst_trust_report       --check's line: the decision, and as whom;
 *   rst_trust_check_fds    an untrusted image may not inherit fds above 2;
 *   rst_trust_child        in the child: drop root's controlling tty
 *                          when the process runs as another user;
 *   rst_trust_hint         after a failed restore as the owner, why.
 */
int rst_creds_init(struct rst_state *s);
void rst_trust_decide(struct rst_state *s);
int rst_trusted(const struct rst_state *s);
/* An incremental image's parent, open as fd: 0, or exit code when the chain breaks trust. */
int rst_trust_parent(struct rst_state *s, int fd, const char *name);
int rst_trust_apply(struct rst_state *s);
int rst_trust_ns_ids(struct rst_state *s, uid_t *uid, gid_t *gid, const gid_t **groups, int *n);
void rst_caps_raise(struct rst_state *s);
void rst_caps_lower(struct rst_state *s);
void rst_caps_release(struct rst_state *s);	/* cap_keep gone for good */
int rst_caps_restored(const struct rst_state *s);
uint64_t rst_image_caps(const struct rst_state *s);
void rst_caps_note(struct rst_state *s);
void rst_trust_report(struct rst_state *s);
int rst_trust_check_fds(struct rst_state *s);	/* with the environment: 0 or exit code */
void rst_trust_child(struct rst_state *s);
void rst_trust_hint(struct rst_state *s, int r);

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

/*
 * restart_attr.c: process attributes.  note: a PROC_ATTR or SECCOMP
 * record, checked against what came before; loaded: every thread's
 * filters exist once the image is read; check: what this machine and
 * this ckpt-restart can give back (--check lists it, a restart refuses
 * before anything is built); restore: the process-wide ones the restarter
 * sets itself, in the process that becomes the restored one; blob_size
 * and args: the filters (and the rest the restorer sets) for the restorer.
 * 0 or an exit code.
 */
struct rst_seccomp {
	struct img_seccomp f;
	uint64_t *insns;
};
int rst_attr_note(struct rst_state *s, const struct img_rec *rec);
int rst_attr_loaded(struct rst_state *s);
int rst_check_attrs(struct rst_state *s);
int rst_restore_attrs(struct rst_state *s);
struct rst_args;
uint64_t rst_attr_blob_size(const struct rst_state *s);
void rst_attr_args(const struct rst_state *s, struct rst_args *a, char *where);

/*
 * restart_fds.c: the mapped files and exe (open_files), the fd table
 * (check_fds with the environment, restore_fds), cwd, umask, rlimits.
 * rst_fd_reopen opens f's path with its saved flags (never O_CREAT,
 * O_TRUNC, O_EXCL) | extra, at its offset if seek: the fd, or -1
 * reported.  rst_err_fd: where messages go (fd 2 until the fds are
 * placed, then a copy of it).
 */
int rst_open_files(struct rst_state *s);
int rst_check_fds(struct rst_state *s);
int rst_restore_fds(struct rst_state *s);
int rst_restore_misc(struct rst_state *s);
int rst_fd_reopen(struct rst_state *s, const struct rst_file *f, int extra, int seek);
struct rst_file *rst_file_by_id(struct rst_state *s, uint32_t id);
extern int rst_err_fd;
/*
 * Files made again (GHOST, MEMFD, PSHM): rst_obj is the O_RDWR fd of the file f
 * is a description of (its first FILE's, made by its kind's make on the
 * first call, kept until the fds are placed); rst_obj_open is the open of
 * those kinds: a reopen of it through /proc/self/fd with f's own flags,
 * at f's offset.  rst_file_what names f in messages ("fd 7", "the mapping
 * at 7f..."), rst_fs_owner(s, 1) makes files as the image's user when
 * root restarts another user's image, (s, 0) as ourselves again.
 */
int rst_obj(struct rst_state *s, struct rst_file *f);
/*
 * The open of kinds whose object is one description made once (a unix or
 * TCP socket: its make builds it): a dup of rst_obj, every fd sharing it.
 */
int rst_obj_dup(struct rst_state *s, const struct rst_file *f);
/* The FILE that makes f's file: itself, its same_as, a POSIX shm object's first FILE. */
struct rst_file *rst_obj_owner(struct rst_state *s, const struct rst_file *f);
/* One past the highest fd number the image uses (at least 10). */
int rst_fd_base(struct rst_state *s);
/* Whether fd d is made by the restorer (a pidfd of a thread but the main one). */
int rst_fd_late(struct rst_state *s, const struct img_fd *d);
int rst_obj_open(struct rst_state *s, const struct rst_file *f);
const char *rst_file_what(const struct rst_file *f);
void rst_fs_owner(struct rst_state *s, int on);
/*
 * restart_fdata.c: a FILE_DATA record (checked against the FILE before
 * it, decoded into that FILE's staging), the contents written into fd,
 * the file made again (hugetlb_shift: through a mapping of that page
 * size), and the staging dropped.  0, or an exit code / -1 reported.
 */
int rst_fdata_load(struct rst_state *s, const struct img_rec *rec);
int rst_fdata_write(struct rst_state *s, struct rst_file *f, int fd, uint32_t hugetlb_shift);
void rst_fdata_free(struct rst_file *f);
/* Whether fd's file holds exactly f's saved size and contents: 1, 0, or -1 reported. */
int rst_fdata_same(struct rst_state *s, struct rst_file *f, int fd);
/*
 * fds/fd_pshm.c: the POSIX shm objects this restart made (they were
 * gone) removed again, by a restart that fails before the process runs.
 */
void rst_pshm_unmake(struct rst_state *s);
/*
 * restart_pipe.c: pipes and FIFOs (fds/fd_pipe.c, fd_fifo.c).
 *   data_load  a PIPE_DATA record (after its pipe's first FILE: s->fdata_file),
 *              checked and kept; data_end: that FILE's run of them is over
 *              (all its bytes there?); 0 or an exit code;
 *   verify     the kinds' verify: the pipe's capacity can be had here;
 *   fill       the capacity and the bytes in flight of o's pipe, written
 *              through wfd (a write end of the new pipe);
 *   descs      every description of o's pipe (each FILE naming it) whose
 *              IMG_PIPE_NOHUP is `nohup`: ends[0], ends[1] are pipe()'s own
 *              read and write ends (-1: none), the others are reopens of
 *              via; kept for each FILE's open (open: the kinds' open);
 *   has_nohup  some FILE of o's pipe has IMG_PIPE_NOHUP;
 *   reopen     a new description of the pipe `via` has open, end acc
 *              (O_RDONLY...), non-blocking;
 *   finish     the kinds' finish: what no FILE took closed, o's state freed;
 *   free       the state of a FILE, whatever is left of it.
 * -1 reported, or as said.
 */
int rst_pipe_data_load(struct rst_state *s, const struct img_rec *rec);
int rst_pipe_data_end(struct rst_state *s);
int rst_pipe_verify(struct rst_state *s, const struct rst_file *f);
int rst_pipe_fill(struct rst_state *s, struct rst_file *o, int wfd);
int rst_pipe_descs(struct rst_state *s, struct rst_file *o, const int ends[2], int via, int nohup);
int rst_pipe_has_nohup(struct rst_state *s, const struct rst_file *o);
int rst_pipe_reopen(struct rst_state *s, const struct rst_file *f, int via, int acc);
int rst_pipe_open(struct rst_state *s, const struct rst_file *f);
int rst_pipe_finish(struct rst_state *s, struct rst_file *o);
void rst_pipe_free(struct rst_file *f);
/*
 * fds/fd_unix_queue.c, fd_unix_make.c: a UNIX_MSG record (checked against
 * the FILEs before it, kept with its socket's FILE; the FILEs it carries
 * marked in flight), and what loading and making unix sockets holds, freed.
 */
int rst_usk_msg_load(struct rst_state *s, const struct img_rec *rec);
void rst_usk_free(struct rst_file *f);
void rst_usk_state_free(struct rst_state *s);
/*
 * Whether this machine has `pages` more free huge pages of 1 << shift
 * bytes than the image's earlier needs: 0, or rst_problem's code naming
 * what (a mapping, a memfd) and how to reserve them.  restart_fdata.c.
 */
int rst_hugetlb_check(struct rst_state *s, uint32_t shift, uint64_t pages, const char *what);
/* MAP_HUGETLB and its size for a mapping of anonymous huge pages, else 0. */
int rst_vma_hugetlb(struct rst_state *s, const struct rst_vma *v);

/*
 * fds/fd_lock.c: file locks.  check (with the environment, before
 * anything is built; --check lists it): every lock is free to take, or a
 * problem names the file, the range and the holder.  restore (once the
 * fds are placed and the strays closed): takes every lock through the
 * process's own fd of its FILE; 0 or RST_EXIT_ENV, reported.  relocks:
 * the POSIX locks the restorer must take again, on files of which one of
 * the fds in closing[0..n) or err_fd is closed after the jump (any close
 * drops them); fills out unless NULL, returns their number, sets
 * *err_locked when err_fd is such a file.
 */
struct rst_relock;
int rst_check_locks(struct rst_state *s);
int rst_restore_locks(struct rst_state *s);
int rst_relocks(struct rst_state *s, const int *closing, int nclosing, int err_fd,
		struct rst_relock *out, int *err_locked);

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

/*
 * restart_seal.c (--key): open verifies the image's seal before anything
 * is read (an image from a pipe is held in memory first); check_proc
 * compares the ids the seal names with the image's; parent verifies a
 * parent of a chain (same key, same ids).  0 or an exit code.
 */
int rst_seal_open(struct rst_state *s);
int rst_seal_check_proc(struct rst_state *s);
int rst_seal_parent(struct rst_state *s, int fd, const char *name);

/*
 * restart_tree.c: a tree's image (docs/INTERNALS.md, "Process trees").
 * load: the directory and every section's metadata, s->proc the root's
 * (after rst_load_proc said RST_IS_TREE); check_pids: every pid and tid
 * free; check: --check's verdict for the whole tree; start: opens every
 * FILE, forks the tree's root with its pid, which makes the rest, and
 * watches until every process is back (the root's pid) or one failed
 * (-1, the tree gone, reported).  0 or an exit code otherwise.
 */
int rst_tree_load(struct rst_state *s);
int rst_tree_check_pids(struct rst_state *s);
int rst_tree_check(struct rst_state *s);
pid_t rst_tree_start(struct rst_state *s);
/*
 * Where a tree's FILE comes from when ckpt-restart's own fd stands for it:
 * that fd, or -1 (made from the image).  Decided by the root's fds: its
 * --inherit-fd N[=M] and its inherited fds 0-2 (INHERIT) give their
 * descriptions; every process's fds on them get the same fd.
 */
int rst_tree_inherit(const struct rst_state *s, uint32_t file);
/* Whether a record type belongs to a FILE (skipped by a tree's member: restart_load.c). */
int rst_tree_file_record(uint32_t type);
/* A mapping of a member: shared anonymous memory of the tree is staged already (its object). */
void rst_tree_vma(struct rst_state *s, struct rst_vma *v);
/* For rst_jump: the barrier page, the processes at it, whether s's was stopped. */
void *rst_tree_sync_page(const struct rst_state *s);
int rst_tree_live(const struct rst_state *s);
int rst_tree_stopped(const struct rst_state *s);
/* A member that cannot go on: says so to the whole tree, exits with code. */
__attribute__((noreturn)) void rst_tree_fail(struct rst_state *s, int code);
/* The restore of one process, in the process (restart_main.c): an exit code if it failed. */
int rst_restore(struct rst_state *s);

/*
 * restart_ipc.c: SysV IPC objects and POSIX queue messages.
 *   rst_ipc_note      a SYSV_SHM, SYSV_SEM, SYSV_MSG or MQ_MSGS record, or a
 *                     FILE_DATA of the SYSV_SHM right before (s->ipc_shm),
 *                     checked against what came before; 0 or exit code
 *   rst_ipc_file      a FILE just loaded: an MQUEUE's namespace flag agrees
 *   rst_ipc_vma       a VMA record: a SysV attach names a saved segment
 *   rst_ipc_is_attach whether a mapping attaches a SysV segment (its ino)
 *   rst_check_ipc     with the environment (--check too): enters a new IPC
 *                     namespace for an image of ckpt-run --ipcns, decides
 *                     for each object: reuse, make again, or a problem
 *   rst_restore_ipc   in the child: makes (or puts back) every object and
 *                     the process's SEM_UNDO adjustments; 0 or exit code
 *   rst_ipc_op        the restorer's op for a SysV attach
 *   rst_ipc_keep      ckpt-restart's own attaches the restorer keeps until
 *                     its attaches are made (out NULL: how many)
 *   rst_ipc_mq_msgs   the MQ_MSGS record of MQUEUE FILE file, or NULL
 */
struct rst_op;
struct rst_range;
int rst_ipc_note(struct rst_state *s, const struct img_rec *rec);
int rst_ipc_file(struct rst_state *s, const struct rst_file *f, const struct img_rec *rec);
int rst_ipc_vma(struct rst_state *s, const struct img_vma *v, const struct img_rec *rec);
int rst_ipc_is_attach(const struct rst_vma *v);
int rst_check_ipc(struct rst_state *s);
int rst_restore_ipc(struct rst_state *s);
void rst_ipc_op(const struct rst_state *s, const struct rst_vma *v, struct rst_op *op);
int rst_ipc_keep(const struct rst_state *s, struct rst_range *out);
const struct img_mq_msgs *rst_ipc_mq_msgs(struct rst_state *s, uint32_t file);
void rst_ipc_free(struct rst_state *s);
/* A tree: every section's objects into the top's state, once each; the top's attaches let go. */
void rst_ipc_merge(struct rst_state *into, struct rst_state *from);
void rst_ipc_release(struct rst_state *s);
/*
 * What this restart made, removed again (a tree that failed after
 * ckpt-restart made them): SysV objects, and POSIX shm objects (rst_pshm_unmake).
 */
void rst_ipc_unmake(struct rst_state *s);
/*
 * fds/fd_mqueue.c: the process's mq_notify registrations, once its fds
 * are placed and ckpt-restart's closed (a close of any fd of a queue by
 * the registered process removes its registration).  0 or exit code.
 */
int rst_mq_notify(struct rst_state *s);

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


/*
 * Terminals (fds/fd_tty.c, fds/fd_tty_job.c).  One restart has one
 * terminal, ckpt-restart's: what was decided about it before the process
 * (or tree) was forked, inherited by it.
 */
struct rst_tty {
	int handover;		/* ckpt-restart led its session on the terminal and gave
				 * it up (TIOCNOTTY): the restarted session leader takes it */
	int shell_job;		/* the process led its session with the terminal, and
				 * ckpt-restart's session keeps it: it joins that session */
	int outer_fg;		/* ckpt-restart's group was the terminal's foreground group */
	int settled;		/* the saved termios is set on the terminal */
	int resized;		/* its size is not the saved one: SIGWINCH once it runs */
};
extern struct rst_tty rst_tty;
/* ckpt-restart's terminal: the first of its fds 0-2 that is a terminal, or -1. */
int rst_tty_outer(void);
/*
 * In ckpt-restart, before it forks the process or the tree's root:
 * ctty_leader says the image's process led its session on its terminal
 * (IMG_F_CTTY).  Decides handover or shell_job (and gives the terminal
 * up for a handover), notes the foreground.
 */
void rst_tty_prepare(struct rst_state *s, int ctty_leader);
/*
 * One process (not a tree: rst_tree's member_main does it for each), once
 * its fds are placed: its session and group as they were, the terminal
 * as its controlling terminal and its group foreground where they were,
 * SIGWINCH pending if the size changed.  0, or an exit code (reported).
 */
int rst_tty_job(struct rst_state *s);
/* A tree's root after setsid() (handover): the terminal, from the tree's TTY FILEs. 0 or -1. */
int rst_tty_take(struct rst_state *s, const struct rst_file *files, int nfiles);
/* The fd of an open TTY FILE of files (the terminal), or -1. */
int rst_tty_fd(const struct rst_file *files, int nfiles);
/*
 * A tree's member that leads its session: the slave of a pty the image
 * made that was its session's controlling terminal (one of sec's fds is
 * on it, IMG_TTY_CTTY), from the tree's opened files; or NULL.
 */
const struct rst_file *rst_tty_pty_ctty(const struct rst_state *sec, const struct rst_file *files,
					int nfiles);

#endif
