/*
 * fd_reg.c - regular files and directories, reopened by path.
 *
 * Save: the driver's probe is all there is (path, flags, offset, and the
 * file's identity for messages); a deleted file or a memfd is not one of
 * these (its path is not where its contents are).
 *
 * Restore policy (docs/USAGE.md, "Files"):
 *  - reopened by path with the saved flags minus O_CREAT/O_TRUNC/O_EXCL:
 *    a restart never creates, truncates or rewrites a user's file;
 *  - the offset is put back; O_APPEND writes still go to the end, so a
 *    log written after the checkpoint keeps its lines;
 *  - refused: the file is gone, is no longer a regular file (directory),
 *    or is now shorter than the saved offset (the process would read or
 *    write at the wrong place);
 *  - a file replaced by another of the same name is reopened (the log
 *    rotation case).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include "fds/fd_kind.h"

const struct fd_kind_info fd_reg_info = { IMG_FILE_REG, "regular file", NULL };
const struct fd_kind_info fd_dir_info = { IMG_FILE_DIR, "directory", NULL };

#ifdef FD_SAVE
#include "libckpt/ckpt.h"

/* A file that is where its path says: absolute, not deleted, not a memfd. */
static int by_path(const struct fd_probe *p)
{
	static const char del[] = " (deleted)";
	size_t n = ckpt_strlen(p->path);

	return p->path[0] == '/' && !ckpt_memeq(p->path, "/memfd:", 7) &&
	       !(n >= sizeof(del) - 1 && ckpt_memeq(p->path + n - (sizeof(del) - 1), del,
						      sizeof(del) - 1));
}

static int reg_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return S_ISREG(p->st.st_mode) && by_path(p);
}

static int dir_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return S_ISDIR(p->st.st_mode) && by_path(p);
}

const struct fd_save_ops fd_reg_save = { .kind = IMG_FILE_REG, .match = reg_match };
const struct fd_save_ops fd_dir_save = { .kind = IMG_FILE_DIR, .match = dir_match };
#endif

#ifdef FD_RESTORE
#include <stdio.h>
#include <sys/stat.h>
#include "restart/rst.h"

static int reg_verify(struct rst_state *s, const struct rst_file *f)
{
	struct stat st;

	if (stat(f->path, &st) < 0)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is gone (%s); the process had it "
				   "open", f->first_fd, f->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is no longer a regular file",
				   f->first_fd, f->path);
	if (st.st_size < f->f.pos)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is now %ld bytes, shorter than the "
				   "saved offset %ld; the process would read or write at the wrong "
				   "place", f->first_fd, f->path, (long)st.st_size, (long)f->f.pos);
	return 0;
}

static int dir_verify(struct rst_state *s, const struct rst_file *f)
{
	struct stat st;

	if (stat(f->path, &st) < 0)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is gone (%s); the process had it "
				   "open", f->first_fd, f->path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is no longer a directory",
				   f->first_fd, f->path);
	return 0;
}

static int reg_open(struct rst_state *s, const struct rst_file *f)
{
	return rst_fd_reopen(s, f, 0, 1);
}

static int dir_open(struct rst_state *s, const struct rst_file *f)
{
	return rst_fd_reopen(s, f, O_DIRECTORY, 1);
}

const struct fd_restore_ops fd_reg_restore = { .kind = IMG_FILE_REG, .verify = reg_verify,
					       .open = reg_open };
const struct fd_restore_ops fd_dir_restore = { .kind = IMG_FILE_DIR, .verify = dir_verify,
					       .open = dir_open };
#endif
