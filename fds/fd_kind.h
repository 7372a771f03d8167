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
 * description and one FD record per fd (img_format.h); restart/restart_fds.c
 * opens each FILE through its kind, then places the fds.
 *
 * Adding a kind: a value in enum img_file_kind (img_format.h) and its
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
	 * Checks what the generic reader cannot: the kind's own fields and
	 * data (data_len bytes after the path, already bounded).  0, or -1
	 * with a reason ("flags 0x..., not O_PATH") in err.  NULL: nothing
	 * more to check.
	 */
	int (*valid)(const struct img_file *f, const void *data, char *err, size_t errlen);
};

/* The kind's info, or NULL for a kind this build does not know. */
const struct fd_kind_info *fd_kind_info(uint32_t kind);

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
};

/* The kind that saves p, or NULL: nothing can (the driver refuses it). */
const struct fd_save_ops *fd_save_find(struct ckpt_ctx *c, const struct fd_probe *p);

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
};

const struct fd_restore_ops *fd_restore_find(uint32_t kind);
#endif

#endif
