/*
 * fd_pipe.c - pipes (pipe(2), pipe2(2)): the self-pipe every event loop
 * has, a pipe a thread feeds another through, the ends of a pipeline
 * between processes of one tree.  FIFOs are fd_fifo.c; what both share
 * is libckpt/ckpt_pipe.c (save) and restart/restart_pipe.c (restore).
 *
 * Save:
 *  - every fd above 2 on a pipe, and fds 0-2 on a pipe whose both ends
 *    the image holds (otherwise fds 0-2 stay inherited: fd_inherit.c);
 *  - one FILE per open file description (dup'ed fds share it: ckpt_fds.c),
 *    with its flags: the end (O_ACCMODE), O_NONBLOCK, O_DIRECT (packet
 *    mode), O_LARGEFILE (made by open(), not by pipe());
 *  - the first FILE of the pipe carries the pipe: its capacity
 *    (F_GETPIPE_SZ) and its bytes in flight, read without taking them
 *    (tee(2) into libckpt's own pipes) as PIPE_DATA records, a packet
 *    per record;
 *  - refused by name: an end held by a process outside the image (the
 *    process, its fd and the end are named), O_ASYNC, bytes that cannot
 *    be copied (a capacity the process may not give a pipe of its own),
 *    plain bytes followed by a packet in one unread stretch.
 *  - faithful without the other end: a read end whose write end was
 *    closed reads its bytes, then EOF; a write end whose read end was
 *    closed gets EPIPE (and its unread bytes stay, as FIONREAD shows).
 *
 * Restore (the pipe's first FILE makes it, for every FILE of it, in every
 * process of the image, before any process is made):
 *  - pipe2(), as the image's user; the capacity (F_SETPIPE_SZ; --check
 *    refuses one ckpt-restart cannot set); the bytes written through the
 *    write end, O_DIRECT around each packet;
 *  - the read and write descriptions pipe() made go to the FILEs pipe()
 *    made; any other description (an end reopened through /proc) is a
 *    reopen of them; each gets its flags (F_SETFL); an end the image does
 *    not have is closed once the others are open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

#define PIPE_OPEN_FLAGS	((uint32_t)(O_ACCMODE | O_NONBLOCK | O_DIRECT | IMG_O_LARGEFILE | O_APPEND | \
				    O_NOATIME))
static const char deleted[] = " (deleted)";

int fd_pipe_valid(const struct img_file *f, const char *path, const void *data, char *err,
		  size_t len)
{
	const struct img_file_pipe *p = data;
	size_t dl = sizeof(deleted) - 1;

	if (f->data_len != sizeof(*p) || p->reserved || (p->flags & ~(uint32_t)IMG_PIPE_NOHUP)) {
		snprintf(err, len, "%u bytes of kind data (expected %zu), flags %#x", f->data_len,
			 sizeof(*p), f->data_len == sizeof(*p) ? p->flags : 0);
		return -1;
	}
	if (!S_ISFIFO(f->mode) || (f->flags & ~PIPE_OPEN_FLAGS) ||
	    (f->flags & O_ACCMODE) == O_ACCMODE || f->pos || f->size) {
		snprintf(err, len, "mode %#o, flags %#o, offset %lld, size %lld: not an end of a pipe",
			 f->mode, f->flags, (long long)f->pos, (long long)f->size);
		return -1;
	}
	if (p->same_as ? p->capacity || p->bytes :
	    p->capacity < IMG_PIPE_MIN || p->capacity > IMG_PIPE_MAX ||
	    (p->capacity & (p->capacity - 1)) || p->bytes > p->capacity) {
		snprintf(err, len, "same as file %u, capacity %u, %llu bytes in flight", p->same_as,
			 p->capacity, (unsigned long long)p->bytes);
		return -1;
	}
	if ((p->flags & IMG_PIPE_NOHUP) &&
	    (f->kind != IMG_FILE_FIFO || (f->flags & O_ACCMODE) != O_RDONLY)) {
		snprintf(err, len, "flags %#o: only a FIFO's read end can have seen no writer",
			 f->flags);
		return -1;
	}
	if (f->kind == IMG_FILE_PIPE ? f->path_len < 7 || memcmp(path, "pipe:[", 6) :
	    f->path_len < 2 || path[0] != '/' ||
	    (f->path_len >= dl && !memcmp(path + f->path_len - dl, deleted, dl))) {
		snprintf(err, len, "path of %u bytes: not %s", f->path_len,
			 f->kind == IMG_FILE_PIPE ? "pipe:[...]" : "the FIFO's absolute path");
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_pipe_info = { IMG_FILE_PIPE, "pipe", fd_pipe_valid };

#ifdef FD_SAVE
#include "libckpt/ckpt.h"

static int pipe_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return S_ISFIFO(p->st.st_mode) && ckpt_memeq(p->path, "pipe:[", 6) &&
	       (p->fd > 2 || ckpt_pipe_own(c, p));
}

const struct fd_save_ops fd_pipe_save = { .kind = IMG_FILE_PIPE, .match = pipe_match,
					  .check = ckpt_pipe_check, .save = ckpt_pipe_save,
					  .contents = ckpt_pipe_contents };
#endif

#ifdef FD_RESTORE
#include <unistd.h>
#include "restart/rst.h"

/*
 * The pipe again (o: its first FILE): its bytes in, every description of
 * it made.  The fd that keeps it until the fds are placed, or -1 reported.
 */
static int pipe_make(struct rst_state *s, struct rst_file *o)
{
	int ends[2], r, keep;

	rst_fs_owner(s, 1);		/* the pipe's owner: the process's user */
	r = pipe2(ends, O_CLOEXEC);
	rst_fs_owner(s, 0);
	if (r < 0) {
		rst_error(s, "%s: cannot make %s again: %s", rst_file_what(o), o->path,
			  strerror(errno));
		return -1;
	}
	keep = -1;
	if (rst_pipe_fill(s, o, ends[1]) == 0 && rst_pipe_descs(s, o, ends, ends[0], 0) == 0 &&
	    (keep = fcntl(ends[0], F_DUPFD_CLOEXEC, 0)) < 0)
		rst_error(s, "%s: %s: %s", rst_file_what(o), o->path, strerror(errno));
	/* an end no FILE took is gone now: EOF, or EPIPE, as it was */
	close(ends[0]);
	close(ends[1]);
	return keep;
}

const struct fd_restore_ops fd_pipe_restore = { .kind = IMG_FILE_PIPE,
						.verify = rst_pipe_verify, .open = rst_pipe_open,
						.make = pipe_make, .finish = rst_pipe_finish };
#endif
