/*
 * fd_opath.c - O_PATH fds: a location in the file system, not an open
 * file (no offset, no reads).  Any file type can be the target, a
 * symbolic link too (O_PATH|O_NOFOLLOW: fstat says S_IFLNK).  Reopened
 * with O_PATH and the flags that choose the target (O_NOFOLLOW,
 * O_DIRECTORY); the restart refuses a path that is gone or now names
 * another type of file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

static int opath_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	if (!(f->flags & O_PATH)) {
		snprintf(err, len, "flags %#o lack O_PATH", f->flags);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_opath_info = { IMG_FILE_OPATH, "O_PATH location", opath_valid };

#ifdef FD_SAVE
#include "libckpt/ckpt.h"

static int opath_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	static const char del[] = " (deleted)";
	size_t n = ckpt_strlen(p->path);

	return (p->flags & O_PATH) && p->path[0] == '/' &&
	       !(n >= sizeof(del) - 1 && ckpt_memeq(p->path + n - (sizeof(del) - 1), del,
						      sizeof(del) - 1));
}

const struct fd_save_ops fd_opath_save = { .kind = IMG_FILE_OPATH, .match = opath_match };
#endif

#ifdef FD_RESTORE
#include <sys/stat.h>
#include "restart/rst.h"

static int opath_verify(struct rst_state *s, const struct rst_file *f)
{
	struct stat st;
	int r = (f->f.flags & O_NOFOLLOW) ? lstat(f->path, &st) : stat(f->path, &st);

	if (r < 0)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is gone (%s); the process had an "
				   "O_PATH fd on it", f->first_fd, f->path, strerror(errno));
	if ((st.st_mode & S_IFMT) != (f->f.mode & S_IFMT))
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is now another type of file (mode "
				   "%o, was %o)", f->first_fd, f->path, st.st_mode & S_IFMT,
				   f->f.mode & S_IFMT);
	return 0;
}

static int opath_open(struct rst_state *s, const struct rst_file *f)
{
	int fd = open(f->path, O_PATH | O_CLOEXEC | (f->f.flags & (O_NOFOLLOW | O_DIRECTORY)));

	if (fd < 0)
		rst_error(s, "fd %d: cannot reopen %s with O_PATH: %s", f->first_fd, f->path,
			  strerror(errno));
	return fd;
}

const struct fd_restore_ops fd_opath_restore = { .kind = IMG_FILE_OPATH,
						 .verify = opath_verify, .open = opath_open };
#endif
