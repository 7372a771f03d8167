/*
 * fd_fifo.c - FIFOs (named pipes, mkfifo(3)): a daemon's control FIFO, a
 * FIFO a program feeds itself through.  A FIFO is a pipe with a name, so
 * everything of fd_pipe.c holds (ends, flags, capacity, bytes in flight
 * read without taking them, the refusal of an end held outside the
 * image: libckpt/ckpt_pipe.c, restart/restart_pipe.c); what differs:
 *
 * Save: a FIFO whose name was removed while open is refused (no path to
 * reopen it by, and made again unnamed it would be a pipe: use pipe()).
 * A read end that has seen no writer since it was opened (opened
 * O_NONBLOCK with none, none since) shows no POLLHUP though no writer is
 * left, where a read end that saw its writers go shows POLLHUP: a poll
 * loop tells the two apart, so the image keeps which (IMG_PIPE_NOHUP).
 *
 * Restore:
 *  - reopened by its path, O_RDWR|O_NONBLOCK (a FIFO opened for one end
 *    alone waits for the other), as the image's user, never through a
 *    symbolic link at its last component;
 *  - a FIFO that is gone is made again at its path (mkfifo, as the
 *    image's user, with its saved permission bits; --check says so):
 *    whoever talks to the process through it finds it where it was.  A
 *    file of another kind there is refused;
 *  - a FIFO that already holds bytes is refused: another process uses it
 *    (a writer outside the image, which the checkpoint would have
 *    refused; or someone since), and its bytes would mix with the saved;
 *  - every description is a reopen of it through /proc/self/fd, the read
 *    ends that had seen no writer last, once no writer holds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

const struct fd_kind_info fd_fifo_info = { IMG_FILE_FIFO, "FIFO", fd_pipe_valid };

#define DELETED		" (deleted)"
#define DELETED_LEN	(sizeof(DELETED) - 1)

#ifdef FD_SAVE
#include "libckpt/ckpt.h"

static int fifo_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return S_ISFIFO(p->st.st_mode) && p->path[0] == '/' && (p->fd > 2 || ckpt_pipe_own(c, p));
}

static int fifo_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	size_t n = ckpt_strlen(p->path);

	if (n > DELETED_LEN && ckpt_memeq(p->path + n - DELETED_LEN, DELETED, DELETED_LEN))
		return ckpt_fail(c, -ENOENT, "%s: FIFO %s was removed while open: a restart cannot "
				 "open it again by its name (a pipe() does what an unnamed FIFO "
				 "does): not supported%s", p->what, p->path, p->origin);
	return ckpt_pipe_check(c, p);
}

const struct fd_save_ops fd_fifo_save = { .kind = IMG_FILE_FIFO, .match = fifo_match,
					  .check = fifo_check, .save = ckpt_pipe_save,
					  .contents = ckpt_pipe_contents };
#endif

#ifdef FD_RESTORE
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "restart/rst.h"

static const char *kind_of(mode_t m)
{
	return S_ISREG(m) ? "regular file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ?
	       "symbolic link" : S_ISSOCK(m) ? "socket" : S_ISCHR(m) || S_ISBLK(m) ? "device" :
	       "file of another kind";
}

static int fifo_verify(struct rst_state *s, const struct rst_file *f)
{
	struct stat st;
	int r, e;

	if ((r = rst_pipe_verify(s, f)))
		return r;
	rst_fs_owner(s, 1);
	r = lstat(f->path, &st);
	e = errno;
	rst_fs_owner(s, 0);
	if (r == 0 && !S_ISFIFO(st.st_mode))
		return rst_problem(s, RST_EXIT_ENV, "%s: FIFO %s is now a %s: move it away, or "
				   "make the FIFO there again", rst_file_what(f), f->path,
				   kind_of(st.st_mode));
	if (r < 0 && e != ENOENT)
		return rst_problem(s, RST_EXIT_ENV, "%s: FIFO %s: %s", rst_file_what(f), f->path,
				   strerror(e));
	if (r < 0 && !fd_same_as(&f->f, f->data))
		dprintf(rst_err_fd, "ckpt-restart: note: %s: FIFO %s is gone: it will be made again "
			"(mode %o)\n", rst_file_what(f), f->path, f->f.mode & 0777);
	return 0;
}

/* The FIFO at its path, O_RDWR, made again if it is gone: the fd, or -1 reported. */
static int fifo_open(struct rst_state *s, struct rst_file *o)
{
	const int flags = O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
	int fd, made = 0, e;

	rst_fs_owner(s, 1);
	fd = open(o->path, flags);
	if (fd < 0 && errno == ENOENT) {
		made = mkfifo(o->path, 0600) == 0;
		fd = made ? open(o->path, flags) : -1;
	}
	e = errno;
	if (fd >= 0 && made && fchmod(fd, o->f.mode & 0777) < 0)
		e = errno, close(fd), fd = -1;
	rst_fs_owner(s, 0);
	if (fd < 0)
		rst_error(s, "%s: cannot open FIFO %s%s: %s", rst_file_what(o), o->path,
			  made ? " (made again)" : "", strerror(e));
	return fd;
}

static int fifo_make(struct rst_state *s, struct rst_file *o)
{
	const int none[2] = { -1, -1 };
	int fd = fifo_open(s, o), n = 0, keep;
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || ioctl(fd, FIONREAD, &n) < 0 || n) {
		rst_error(s, "%s: %s is %s", rst_file_what(o), o->path,
			  n > 0 ? "a FIFO that holds bytes already: another process uses it" :
			  "not a FIFO any more");
		close(fd);
		return -1;
	}
	if (rst_pipe_fill(s, o, fd) < 0 || rst_pipe_descs(s, o, none, fd, 0) < 0) {
		close(fd);
		return -1;
	}
	if (!rst_pipe_has_nohup(s, o))
		return fd;
	/* the read ends that saw no writer: opened once none is left (our fd was one) */
	keep = rst_pipe_reopen(s, o, fd, O_RDONLY);
	close(fd);
	if (keep < 0 || rst_pipe_descs(s, o, none, keep, 1) < 0) {
		if (keep >= 0)
			close(keep);
		return -1;
	}
	return keep;
}

const struct fd_restore_ops fd_fifo_restore = { .kind = IMG_FILE_FIFO,
						.verify = fifo_verify, .open = rst_pipe_open,
						.make = fifo_make, .finish = rst_pipe_finish };
#endif
