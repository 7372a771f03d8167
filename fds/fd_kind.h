/*
 * fd_kind.h - one table of open-file kinds, the shape every kind of fd
 * takes (after CRIU's struct fdtype_ops).
 *
 * Where is everything about one kind?  In fds/fd_<kind>.c: how it is
 * recognised and saved (in the checkpoint signal handler, libckpt.so),
 * how its image record is checked (every reader: ckpt-restart, ckpt-info,
 * the fuzzers), and how a restart checks the machine for it and makes it
 * again (ckpt-restart).  The same file is compiled three ways:
 *
 *   FD_SAVE     libckpt.so and the unit tests:   info + save half
 *   FD_RESTORE  ckpt-restart:                    info + restore half
 *   neither     ckpt-info, fuzz targets:         info only
 *
 * so each program carries only its half, and the two halves of a kind sit
 * side by side in one file.  fds/fd_table.c lists the kinds.
 *
 * The drivers do everything that is the same for every kind:
 * libckpt/ckpt_fds.c walks /proc/self/fd, probes each fd once (fstat,
 * link, fdinfo), finds its kind, gives every open file description one
 * id (kcmp: dup'ed fds share it) and writes one FILE record per
 * description and one FD record per fd (libckpt/img_format_files.h); restart/restart_fds.c
 * opens each FILE through its kind, then places the fds.
 *
 * A file with no path to reopen (a deleted file, a memfd) is made again:
 * its save half writes its contents after its FILE record (`contents`),
 * its restore half makes the file once (`make`), opens each description
 * as a reopen of it (rst_obj_open), and does what must come last once
 * every fd and mapping is open (`finish`: mode, seals).  Mappings name
 * such a FILE (img_vma.file, libckpt/ckpt_fmapped.c).  fd_ghost.c is the
 * example.
 *
 * Adding a kind: a value in enum img_file_kind (libckpt/img_format_files.h) and its
 * kind-data struct there if it has one; fds/fd_<kind>.c with its
 * fd_<kind>_info, _save, _restore; three lines in fd_table.c; a row in
 * docs/SUPPORT.md and an e2e test.
 */
#ifndef CKPT_FD_KIND_H
#define CKPT_FD_KIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "libckpt/img_format.h"

/* --- every program: what a kind is called, how its record is checked ---- */

struct fd_kind_info {
	uint32_t kind;			/* enum img_file_kind */
	const char *name;		/* "regular file": messages, ckpt-info */
	/*
	 * Checks what the generic reader cannot: the kind's own fields,
	 * path and data (data_len bytes right after the struct, aligned;
	 * path_len bytes of path after them, both already bounded).  0, or
	 * -1 with a reason ("flags 0x..., not O_PATH") in err.  NULL:
	 * nothing more to check.
	 */
	int (*valid)(const struct img_file *f, const char *path, const void *data, char *err,
		     size_t errlen);
};

/* The kind's info, or NULL for a kind this build does not know. */
const struct fd_kind_info *fd_kind_info(uint32_t kind);

/*
 * The kinds whose first FILE of an object carries it (GHOST, MEMFD: the
 * file's contents; PIPE, FIFO: the pipe) name that FILE in the first
 * field of their data: its id, 0 for the first FILE itself and for every
 * other kind (fd_table.c).
 */
uint32_t fd_same_as(const struct img_file *f, const void *data);

/* PIPE and FIFO records (fds/fd_pipe.c): their `valid`. */
int fd_pipe_valid(const struct img_file *f, const char *path, const void *data, char *err,
		  size_t len);

#ifdef FD_SAVE
/* --- libckpt.so: the save half (signal context: async-signal-safe) ------ */

struct ckpt_ctx;

/* What the driver learned of one fd, once, before asking the kinds. */
struct fd_probe {
	int fd;
	struct stat st;
	const char *path;		/* the /proc/self/fd link ("pipe:[12]"...) */
	int64_t pos;			/* fdinfo "pos" */
	uint32_t flags;			/* fdinfo "flags" */
	const char *info;		/* all of /proc/self/fdinfo/N (its "lock:" lines...) */
	const char *origin;		/* " (made by open() at app+0x12)", or "" */
	/*
	 * What messages call it: "fd 7", or for a file only mappings hold
	 * (libckpt/ckpt_fmapped.c: fd is then libckpt's own, on
	 * /proc/self/map_files) "mapping 7f..-7f..".
	 */
	const char *what;
};

struct fd_save_ops {
	uint32_t kind;
	/* 1 when p is of this kind; kinds are asked in table order. */
	int (*match)(struct ckpt_ctx *c, const struct fd_probe *p);
	/*
	 * Before a byte is written: 0, or the checkpoint's refusal
	 * (ckpt_fail, naming the fd, the file and what to do).  NULL: none.
	 */
	int (*check)(struct ckpt_ctx *c, const struct fd_probe *p);
	/*
	 * Fills what the driver cannot (kind data into data, at most cap
	 * bytes): the kind data's length, or -errno after ckpt_fail.  The
	 * driver has set id, kind, flags, pos, the stat fields and the path.
	 * NULL: no kind data.
	 */
	int (*save)(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
		    void *data, size_t cap);
	/*
	 * A note for the user when this fd is saved (may be NULL): written
	 * into buf, e.g. "fd 1 (pipe:[7]) will be ckpt-restart's fd 1".
	 */
	void (*note)(const struct fd_probe *p, char *buf, size_t len);
	/*
	 * Right after the FILE record f: the records that follow it (the
	 * contents of a deleted file or memfd, FILE_DATA).  0 or -errno
	 * after ckpt_fail.  NULL: none.
	 */
	int (*contents)(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f);
	/*
	 * Kinds whose objects connect fds (unix sockets: peers, queues, fds
	 * in flight) look at all of them at once.  begin: at the start of each
	 * pass over the fds (pass 0 checks, 1 writes), before any fd is asked;
	 * 0 or the refusal.  own: 1 for an fd the kind opened itself (begin
	 * to end), which the pass must skip.  end: after every fd's FILE
	 * record (pass 1: before the FD records; it may write FILE and other
	 * records of its own), or after a failure (ok 0: only release what
	 * begin took); always called once begin was.  NULL: nothing.
	 */
	int (*begin)(struct ckpt_ctx *c, int pass);
	int (*own)(struct ckpt_ctx *c, int fd);
	int (*end)(struct ckpt_ctx *c, int pass, int ok);
};

/* The kind that saves p, or NULL: nothing can (the driver refuses it). */
const struct fd_save_ops *fd_save_find(struct ckpt_ctx *c, const struct fd_probe *p);
/* Every kind's begin, own and end (fd_table.c): the first failure, or 0. */
int fd_save_begin(struct ckpt_ctx *c, int pass);
int fd_save_own(struct ckpt_ctx *c, int fd);
int fd_save_end(struct ckpt_ctx *c, int pass, int ok);

/*
 * ckpt_fds.c, for fds no fd number of the process is (the fds a unix
 * socket carries in flight, received by fds/fd_unix.c): own says whether
 * fd is libckpt's own (never saved).  check_extra probes fd and checks it
 * like any fd, messages calling it `what` ("an fd in flight on fd 5"):
 * 0, -ENOTSUP without a refusal when no kind takes it (the caller says
 * why), or the refusal; *kind is its kind.  write_extra writes its FILE
 * record unless its open file description has one already (an fd of the
 * process, an earlier fd in flight): the FILE id, or -errno after
 * ckpt_fail.  Until ckpt_fds_extra_done, fd stays open (it is how later
 * fds find its description); then its entry is forgotten as an fd (no FD
 * record), kept as a FILE.
 */
int ckpt_fds_check_extra(struct ckpt_ctx *c, int fd, const char *what, uint32_t *kind);
int64_t ckpt_fds_write_extra(struct ckpt_ctx *c, int fd, const char *what);
void ckpt_fds_extra_done(struct ckpt_ctx *c, int fd);

/*
 * File locks held through an open file description (fds/fd_lock.c), read
 * from its fdinfo "lock:" lines.  check: 0, or the refusal of a lock the
 * image cannot hold (on a file of `kind` that is not reopened, a lease
 * being broken, a lock class libckpt does not know).  has: whether info
 * shows any.  write: one LOCK record per lock of the description with
 * FILE id `file`, whose fd is fd and fdinfo text info; c->w.error, or
 * the refusal.
 */
int fd_locks_check(struct ckpt_ctx *c, const struct fd_probe *p, uint32_t kind);
int fd_locks_has(const char *info);
int fd_locks_write(struct ckpt_ctx *c, int fd, const char *info, uint32_t file);

/*
 * Shared by the kinds that keep a file's contents (GHOST, MEMFD, PSHM):
 * ckpt_fds_first (ckpt_fds.c) is the id of the first FILE written for the
 * file (dev, ino), 0 if none yet: the one that carries its contents.
 * libckpt/ckpt_fdata.c: check refuses contents it cannot read or that
 * pass the limit; contents writes the FILE_DATA records of f when it is
 * the first FILE of its file; what is p->what ("fd 7").
 */
uint32_t ckpt_fds_first(struct ckpt_ctx *c, uint64_t dev, uint64_t ino);
int ckpt_fdata_check(struct ckpt_ctx *c, const struct fd_probe *p);
int ckpt_fdata_contents(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f);
const char *ckpt_fdata_what(const struct fd_probe *p);

/*
 * ckpt_fds.c: whether fd is libckpt's own (the image, ckpt-save's
 * connection, a tree's sockets...: never saved); whether pid is a process
 * of the image (this one; in a tree, the coordinator and its descendants:
 * the one place that says so for the kinds that look at other
 * processes); whether this process is the whole image.
 */
int ckpt_fds_own(const struct ckpt_ctx *c, int fd);
int ckpt_fds_member(const struct ckpt_ctx *c, int pid);
/* In a tree, its coordinator's pid (this process, or its connection's peer); else -1. */
int ckpt_fds_coord(const struct ckpt_ctx *c);
int ckpt_fds_alone(const struct ckpt_ctx *c);

/*
 * Pipes and FIFOs (libckpt/ckpt_pipe.c, for fds/fd_pipe.c and fd_fifo.c).
 * own: whether the image holds both ends of p's pipe, or the other end
 * is held by no one (fds 0-2 on a pipe that leads outside are inherited:
 * fd_inherit.c).  check: the refusals (an end held
 * by a process outside the image, O_ASYNC, bytes in flight that cannot be
 * read without taking them).  save: the kind data (struct img_file_pipe).
 * contents: the PIPE_DATA records, after the pipe's first FILE only.
 */
int ckpt_pipe_own(struct ckpt_ctx *c, const struct fd_probe *p);
int ckpt_pipe_check(struct ckpt_ctx *c, const struct fd_probe *p);
int ckpt_pipe_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f, void *data,
		   size_t cap);
int ckpt_pipe_contents(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f);
#endif

#ifdef FD_RESTORE
/* --- ckpt-restart: the restore half ------------------------------------- */

struct rst_state;

/* A FILE record as the restart holds it. */
struct rst_file {
	struct img_file f;
	char *path;			/* NUL-terminated copy */
	void *data;			/* kind data, f.data_len bytes (or NULL) */
	int fd;				/* opened by its kind, -1 until then */
	int first_fd;			/* the lowest fd made from it: messages */
	int placed;			/* the lowest fd of the process made from it,
					 * once placed (rst_restore_fds), else -1:
					 * its locks are taken through it */
	int used;			/* some fd is made from it (not all are
					 * inherited: --inherit-fd, restart_fds.c) */
	int mapped;			/* a VMA maps its file (img_vma.file) */
	uint64_t first_map;		/* the lowest such VMA's start: messages */
	/*
	 * GHOST, MEMFD with same_as 0, a POSIX shm object's first FILE
	 * (PSHM): the file made again or reused (O_RDWR, or O_RDONLY for a
	 * reused object the user may only read), from which every
	 * description and mapping of it is reopened; -1 until made, closed
	 * once the fds are placed.  Its contents as read from
	 * the image until then (restart_fdata.c).
	 */
	int obj;
	struct rst_contents *contents;
	/*
	 * PIPE, FIFO with same_as 0: the pipe's bytes in flight as read from
	 * the image, then every description of the pipe, made at once by its
	 * kind's make and taken by each FILE's open (restart_pipe.c).
	 */
	struct rst_pipe *pipe;
	/*
	 * Carried in flight by a queued unix message (fds/fd_unix_queue.c):
	 * checked like a used FILE, opened by the unix kind when it sends it.
	 */
	int inflight;
	struct rst_usk_file *usk;	/* IMG_FILE_UNIX: its socket and queue */
	struct rst_epoll *epoll;	/* IMG_FILE_EPOLL: its items (fds/fd_epoll.c) */
	struct rst_inet *inet;		/* IMG_FILE_INET: its queues and socket (fd_inet.h) */
	/*
	 * PSHM: this restart made the object under its name (it was gone),
	 * with this identity: a restart that fails before the process runs
	 * removes it again (rst_pshm_unmake), or the next one would find it
	 * and take it for another object.
	 */
	int made;
	uint64_t made_dev, made_ino;
	struct rst_inotify *inotify;	/* INOTIFY: its watches (fd_inotify.c) */
	/* TTY MASTER: the output its master had not read (PTY_DATA, fd_tty_pty.c) */
	unsigned char *pty_data;
	uint32_t pty_len;
};

struct fd_restore_ops {
	uint32_t kind;
	/*
	 * Can it be made here?  Part of the environment check before
	 * anything is built (and of --check): 0, or rst_problem()'s code
	 * with a message naming the fd's file and what to do.  NULL: always.
	 */
	int (*verify)(struct rst_state *s, const struct rst_file *f);
	/*
	 * Makes the open file description: a new fd, or -1 having reported
	 * why (rst_error).  The driver moves it where it belongs.  NULL for
	 * IMG_FILE_INHERIT, whose fds the driver takes from ckpt-restart.
	 */
	int (*open)(struct rst_state *s, const struct rst_file *f);
	/*
	 * Makes the file itself (GHOST, MEMFD with same_as 0, PSHM: the
	 * object reused or made again): an O_RDWR fd holding its contents,
	 * which open() and the mappings reopen; or -1 reported.  NULL for
	 * kinds whose files are reopened by path.
	 */
	int (*make)(struct rst_state *s, struct rst_file *f);
	/*
	 * Once every fd and mapping of the file is open: what must come last
	 * (the saved mode, which may forbid the reopens; a memfd's seals).
	 * 0, or -1 reported.  NULL: nothing.
	 */
	int (*finish)(struct rst_state *s, struct rst_file *f);
};

const struct fd_restore_ops *fd_restore_find(uint32_t kind);

/*
 * INOTIFY_WATCH records (fds/fd_inotify.c): load keeps one for the FILE
 * they follow (s->fdata_file); end, once another record comes, checks
 * that FILE got all its watches.  0, or RST_EXIT_IMAGE reported.
 */
struct img_rec;
int rst_inotify_load(struct rst_state *s, const struct img_rec *rec);
int rst_inotify_end(struct rst_state *s);

/*
 * epoll (fds/fd_epoll.c).  load: an EPOLL_ITEM record, kept with its
 * epoll's FILE (one seen before); 0 or RST_EXIT_IMAGE, reported.
 * register: once every FILE is open, every item of every open epoll is
 * added; fd_of gives an fd holding a FILE (-1: none open).  0 or an exit
 * code, reported.  free: what load kept.
 */
int fd_epoll_load(struct rst_state *s, const struct img_epoll_item *e, uint64_t off);
int fd_epoll_register(struct rst_state *s, int (*fd_of)(void *arg, const struct rst_file *f),
		     void *arg);
void fd_epoll_free(struct rst_file *f);
#endif

#endif
