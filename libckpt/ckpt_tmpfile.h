/*
 * ckpt_tmpfile.h - the file an image is written to before it has its name
 * (ckpt_tmpfile.c): used by the shim (in the signal handler) and by
 * ckpt-save.
 *
 *   ckpt_tmp_open_dir(t, "dir/name")   the directory, once (O_PATH)
 *   ckpt_tmp_create(t, ...)            an O_TMPFILE in it: no name at all;
 *                                      or, where the filesystem refuses
 *                                      O_TMPFILE, "name.tmp.<16 random hex>"
 *                                      made with O_EXCL|O_NOFOLLOW
 *   ... the image is written to t->fd ...
 *   ckpt_tmp_commit(t)                 link the O_TMPFILE under a random
 *                                      name, rename() that over "name"
 *   ckpt_tmp_abort(t) / _release(t)    remove the named file / only close
 *
 * Invariants:
 *  1. Nothing is ever opened by a name someone else could have planted:
 *     the final name is only a rename() target (which replaces a link,
 *     never follows it), the temporary name is unpredictable and made
 *     with O_CREAT|O_EXCL|O_NOFOLLOW.
 *  2. The file is 0600 from its creation (fchmod: the umask can only
 *     lower it, and 0600 is what is documented), owned by its creator.
 *  3. An O_TMPFILE has a name for the microseconds between linkat and
 *     rename only: a process killed at any other instant leaves nothing.
 *     A named (fallback) file is removed by abort, on every failure path.
 *  4. Every name is taken relative to t->dirfd: the directory cannot be
 *     swapped between creation and rename.
 *
 * Async-signal-safe (raw system calls, ckpt_fmt; no errno is touched).
 * Functions return 0 (or a length) or -errno, with the reason in err.
 */
#ifndef CKPT_TMPFILE_H
#define CKPT_TMPFILE_H

#include <stddef.h>

#define CKPT_TMP_NAME_MAX	256

/* ckpt_tmp_create flags */
#define CKPT_TMP_NAMED		0x1	/* skip O_TMPFILE (CKPT_TMPFILE=0, tests) */

struct ckpt_tmpfile {
	int dirfd;			/* the image's directory (O_PATH), or -1 */
	int fd;				/* the file being written, or -1 */
	int named;			/* 1 while tmp names the file: abort unlinks it */
	char base[CKPT_TMP_NAME_MAX];	/* the final name, in dirfd */
	char tmp[CKPT_TMP_NAME_MAX];	/* its temporary name ("" when it has none) */
};

/* t->fd = t->dirfd = -1, names empty: abort and release are then no-ops. */
void ckpt_tmp_init(struct ckpt_tmpfile *t);

/* Opens the directory of path and keeps its last component as the name. */
int ckpt_tmp_open_dir(struct ckpt_tmpfile *t, const char *path, char *err, size_t errlen);

/* Creates the file in t->dirfd (open_dir first): t->fd, O_WRONLY, 0600. */
int ckpt_tmp_create(struct ckpt_tmpfile *t, int flags, char *err, size_t errlen);

/*
 * Creates a named temporary file "<base>.tmp.<16 hex>" with O_EXCL and
 * O_NOFOLLOW; -EEXIST when the name is taken (create retries).  The name
 * is given for the unit tests, which plant links at it.
 */
int ckpt_tmp_create_named(struct ckpt_tmpfile *t, const char *name, char *err, size_t errlen);

/*
 * The final path, absolute, with the directory as the kernel names it
 * (/proc/self/fd/<dirfd>): what an incremental child names as its parent.
 * Its length, or -errno.
 */
int ckpt_tmp_final_path(const struct ckpt_tmpfile *t, char *buf, size_t cap);

/*
 * Gives the complete file its final name, atomically, and closes t->fd
 * (whose close() may still report a write error: then no rename).  With
 * fsync_dir, the directory is synced after the rename.  On failure the
 * temporary name is removed; the caller aborts (closes what is left).
 */
int ckpt_tmp_commit(struct ckpt_tmpfile *t, int fsync_dir, char *err, size_t errlen);

/* Failure: removes the temporary name if the file has one, closes both fds. */
void ckpt_tmp_abort(struct ckpt_tmpfile *t);

/* Closes both fds, removes nothing (after commit; or the copy owns it now). */
void ckpt_tmp_release(struct ckpt_tmpfile *t);

/* 16 lowercase hex digits from getrandom(): 0, or -errno. */
int ckpt_tmp_random_hex(char out[17]);

#endif
