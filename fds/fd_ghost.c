/*
 * fd_ghost.c - regular files deleted while open or mapped ("ghost files",
 * CRIU's name): a temp file opened then unlinked (sqlite's, Python's
 * tempfile, sort's input from a here-document), a library replaced while
 * mapped.  Its path names nothing any more, so its contents go into the
 * image and a restart makes it again, unnamed.
 *
 * Save (the driver and libckpt/ckpt_fdata.c do the reading):
 *  - an fd whose /proc link ends in " (deleted)", on a regular file with
 *    no link left (st_nlink 0); a deleted name of a file that still has
 *    other links is refused: libckpt cannot find a file by its other
 *    names, and a copy would not be the same file (writes through the
 *    process would no longer reach it);
 *  - the first FILE of the file carries the contents (FILE_DATA records:
 *    only the data extents, SEEK_DATA/SEEK_HOLE, so a sparse file stays
 *    sparse; all-zero pages inside an extent as ZERO runs), at most the
 *    contents limit (CKPT_GHOST_LIMIT, default 256 MiB per file: a bigger
 *    one is refused with its size, the limit and how to raise it); other
 *    descriptions of the same file name it (img_file_ghost.same_as).
 *
 * Restore (restart/restart_fds.c asks make, open and finish):
 *  - made unnamed in its directory: O_TMPFILE, or where the file system
 *    lacks it, created with an unpredictable name (O_CREAT|O_EXCL|
 *    O_NOFOLLOW, 0600) and unlinked at once; never a name left behind,
 *    never a link followed at the last component.  A directory that is
 *    gone (a temp dir removed with its files) gives its nearest existing
 *    ancestor, on the same file system as a rule.  Root restarting a
 *    user's image makes it as that user (its owner and the directory's
 *    permissions are the user's);
 *  - its contents written where they were, holes left holes, its size set;
 *  - every description reopened through /proc/self/fd of the new file with
 *    its own flags and offset, every mapping mapped from it (MAP_SHARED:
 *    writes through the mapping and the fds meet again);
 *  - last, its mtime and permission bits as saved.
 * The /proc link of the new file names another file ("/dir/#1234
 * (deleted)"); its inode number differs, as for any file made again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

static const char deleted[] = " (deleted)";
#define DELETED_LEN	(sizeof(deleted) - 1)

static int ghost_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	const struct img_file_ghost *g = data;

	if (f->data_len != sizeof(*g) || g->reserved) {
		snprintf(err, len, "%u bytes of kind data, expected %zu", f->data_len, sizeof(*g));
		return -1;
	}
	if (!S_ISREG(f->mode) || f->size < 0 || f->pos < 0 || (f->flags & O_PATH) ||
	    f->path_len <= DELETED_LEN || path[0] != '/' ||
	    memcmp(path + f->path_len - DELETED_LEN, deleted, DELETED_LEN)) {
		snprintf(err, len, "mode %#o, size %lld, offset %lld, flags %#o: not a deleted "
			 "regular file", f->mode, (long long)f->size, (long long)f->pos, f->flags);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_ghost_info = { IMG_FILE_GHOST, "deleted file", ghost_valid };

#ifdef FD_SAVE
#include "libckpt/ckpt.h"

static int ends_deleted(const char *path)
{
	size_t n = ckpt_strlen(path);

	return n > DELETED_LEN && ckpt_memeq(path + n - DELETED_LEN, deleted, DELETED_LEN);
}

static int ghost_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return S_ISREG(p->st.st_mode) && p->path[0] == '/' && !(p->flags & O_PATH) &&
	       !ckpt_memeq(p->path, "/memfd:", 7) && ends_deleted(p->path);
}

static int ghost_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	if (p->st.st_nlink > 0)
		return ckpt_fail(c, -EXDEV, "%s: %s: the name it was opened by was removed, but "
				 "the file still has %lu other link%s; libckpt cannot find a file by "
				 "its other names, and a copy would not be the same file: open it by "
				 "another name before the checkpoint%s", ckpt_fdata_what(p), p->path,
				 (unsigned long)p->st.st_nlink, p->st.st_nlink == 1 ? "" : "s",
				 p->origin);
	return ckpt_fdata_check(c, p);
}

static int ghost_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
		      void *data, size_t cap)
{
	struct img_file_ghost g = { ckpt_fds_first(c, p->st.st_dev, p->st.st_ino), 0 };

	__builtin_memcpy(data, &g, sizeof(g));
	return sizeof(g);
}

const struct fd_save_ops fd_ghost_save = { .kind = IMG_FILE_GHOST, .match = ghost_match,
					   .check = ghost_check, .save = ghost_save,
					   .contents = ckpt_fdata_contents };
#endif

#ifdef FD_RESTORE
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "restart/rst.h"

/*
 * The directory to make the file in: the one it was in, else its nearest
 * existing ancestor.  Into dir (PATH_MAX bytes).
 */
static void ghost_dir(const struct rst_file *f, char *dir, size_t len)
{
	struct stat st;
	char *slash;

	snprintf(dir, len, "%.*s", (int)(strlen(f->path) - DELETED_LEN), f->path);
	while ((slash = strrchr(dir, '/'))) {
		if (slash == dir) {
			strcpy(dir, "/");
			return;
		}
		*slash = '\0';
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return;
	}
	strcpy(dir, "/");
}

/* An unnamed file in dir, O_RDWR, 0600; -1 with errno. */
static int ghost_create(const char *dir)
{
	char name[4200];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	/* no O_TMPFILE here: a name nobody can guess, gone at once */
	for (int tries = 0; tries < 16; tries++) {
		uint64_t rnd;

		if (syscall(SYS_getrandom, &rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -1;
		snprintf(name, sizeof(name), "%s/.ckpt-ghost-%016llx", dir, (unsigned long long)rnd);
		fd = open(name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (unlink(name) < 0) {
				int e = errno;

				close(fd);
				errno = e;
				return -1;
			}
			return fd;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

static int ghost_verify(struct rst_state *s, const struct rst_file *f)
{
	char dir[4096];
	int fd;

	if (f->f.data_len && ((const struct img_file_ghost *)f->data)->same_as)
		return 0;	/* made with the first description of its file */
	ghost_dir(f, dir, sizeof(dir));
	/* O_TMPFILE leaves nothing behind: try it (not the fallback) */
	rst_fs_owner(s, 1);
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	rst_fs_owner(s, 0);
	if (fd >= 0) {
		close(fd);
	} else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		return rst_problem(s, RST_EXIT_ENV, "%s: cannot make the deleted file %s again in "
				   "%s: %s", rst_file_what(f), f->path, dir, strerror(errno));
	}
	return 0;
}

static int ghost_make(struct rst_state *s, struct rst_file *f)
{
	char dir[4096];
	int fd;

	ghost_dir(f, dir, sizeof(dir));
	rst_fs_owner(s, 1);
	fd = ghost_create(dir);
	rst_fs_owner(s, 0);
	if (fd < 0) {
		rst_error(s, "%s: cannot make the deleted file %s again in %s: %s",
			  rst_file_what(f), f->path, dir, strerror(errno));
		return -1;
	}
	if (rst_fdata_write(s, f, fd, 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int ghost_finish(struct rst_state *s, struct rst_file *f)
{
	struct timespec t[2] = { { 0, UTIME_OMIT },
				 { f->f.mtime_ns / 1000000000, f->f.mtime_ns % 1000000000 } };

	if (f->f.mtime_ns < 0)
		t[1].tv_nsec = UTIME_OMIT;
	if (futimens(f->obj, t) < 0 || fchmod(f->obj, f->f.mode & 0777) < 0) {
		rst_error(s, "%s: cannot set the mode or mtime of the deleted file %s: %s",
			  rst_file_what(f), f->path, strerror(errno));
		return -1;
	}
	return 0;
}

const struct fd_restore_ops fd_ghost_restore = { .kind = IMG_FILE_GHOST,
						 .verify = ghost_verify, .open = rst_obj_open,
						 .make = ghost_make, .finish = ghost_finish };
#endif
