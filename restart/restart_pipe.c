/*
 * restart_pipe.c - pipes and FIFOs made again, for fds/fd_pipe.c and
 * fds/fd_fifo.c (which make the pipe itself: pipe2(), or the FIFO opened
 * by its path).
 *
 * Loading: PIPE_DATA records follow their pipe's first FILE (s->fdata_file,
 * as FILE_DATA do), checked by img_pipe_data_next/_end (img_files.c, the
 * same checks as ckpt-info's), their bytes kept in order in memory (at
 * most the pipe's capacity), each packet's bounds with them.
 *
 * Making: the kind makes the pipe on its first FILE's first open
 * (rst_obj); rst_pipe_fill gives it its capacity and writes the bytes in
 * (a packet with O_DIRECT set on the writing end: one write, one packet;
 * plain bytes before a packet through tee, so that it stays one);
 * rst_pipe_descs then opens every description of the pipe at once, for
 * every FILE that names it (in a tree: every process's), lifted above
 * the fd numbers the image uses, and each FILE's open takes its own
 * (rst_pipe_open).  Doing them at once lets the kind choose the order
 * (a FIFO reader that has seen no writer is opened once none is left)
 * and which are pipe()'s own descriptions.  rst_pipe_finish closes what
 * no FILE took (a FILE whose fds are all inherited) and frees the rest.
 *
 * Flags: open() cannot make a pipe's description O_DIRECT (EINVAL), and
 * always adds O_LARGEFILE, which pipe() does not: so a description pipe()
 * made (no O_LARGEFILE in the image) is pipe()'s own end again, another
 * is a reopen through /proc/self/fd, and the status flags are set with
 * F_SETFL after.  Reopens are O_NONBLOCK: a FIFO end opened alone would
 * wait for its peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "restart/rst.h"

#define SETFL_FLAGS	(O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

struct rst_pipe_piece {
	size_t off;
	uint32_t len;
	int packet;
};

struct rst_pipe_desc {
	uint32_t file;			/* the FILE it is */
	int fd;				/* -1 once its open took it */
};

struct rst_pipe {
	unsigned char *data;		/* the bytes in flight, in reading order */
	size_t len, cap;
	struct rst_pipe_piece *piece;
	size_t npiece, piece_cap;
	struct rst_pipe_desc *desc;
	size_t ndesc, desc_cap;
	int verified;			/* rst_pipe_verify ran for it */
};

static const struct img_file_pipe *pipe_data(const struct rst_file *f)
{
	return f->data;
}

static struct rst_pipe *pipe_state(struct rst_file *o)
{
	if (!o->pipe && !(o->pipe = calloc(1, sizeof(*o->pipe))))
		abort();
	return o->pipe;
}

/* The pipe's first FILE, which makes it (f itself, or the one it names). */
static struct rst_file *pipe_owner(struct rst_state *s, const struct rst_file *f)
{
	uint32_t id = pipe_data(f)->same_as;

	return id ? rst_file_by_id(s, id) : (struct rst_file *)f;
}

/* --- loading ------------------------------------------------------------ */

int rst_pipe_data_load(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_pipe_data *d = img_get_pipe_data(&s->r, rec);
	struct rst_file *o = s->fdata_file ? rst_file_by_id(s, s->fdata_file) : NULL;
	struct rst_pipe *p;
	char err[160];

	if (!d) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	if (img_pipe_data_next(o ? &o->f : NULL, o ? o->data : NULL, d,
			       o && o->pipe ? o->pipe->len : 0, err, sizeof(err)) < 0) {
		rst_error(s, "corrupt: %s (offset %lu)", err, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	p = pipe_state(o);
	if (p->len + d->len > p->cap) {
		p->cap = p->cap ? 2 * p->cap : IMG_PIPE_CHUNK;
		if (p->cap < p->len + d->len)
			p->cap = p->len + d->len;
		if (!(p->data = realloc(p->data, p->cap)))
			abort();
	}
	memcpy(p->data + p->len, d + 1, d->len);
	p->piece = rst_grow(p->piece, &p->piece_cap, p->npiece, sizeof(*p->piece));
	p->piece[p->npiece++] = (struct rst_pipe_piece){ p->len, d->len, !!(d->flags & IMG_PIPE_PACKET) };
	p->len += d->len;
	return 0;
}

int rst_pipe_data_end(struct rst_state *s)
{
	struct rst_file *o = s->fdata_file ? rst_file_by_id(s, s->fdata_file) : NULL;
	char err[160];

	if (o && img_pipe_data_end(&o->f, o->data, o->pipe ? o->pipe->len : 0, err,
				   sizeof(err)) < 0) {
		rst_error(s, "corrupt: %s", err);
		return RST_EXIT_IMAGE;
	}
	return 0;
}

/* --- checking the machine ----------------------------------------------- */

/* A number from a /proc/sys file, or 0. */
static unsigned long sysctl_value(const char *path)
{
	unsigned long v = 0;
	FILE *fp = fopen(path, "re");

	if (fp) {
		if (fscanf(fp, "%lu", &v) != 1)
			v = 0;
		fclose(fp);
	}
	return v;
}

/*
 * Whether a pipe of the saved capacity can be had here: tried on a pipe
 * of our own (the limits are the user's: pipe-max-size without
 * CAP_SYS_RESOURCE, pipe-user-pages-soft/hard), as the image's user.
 */
int rst_pipe_verify(struct rst_state *s, const struct rst_file *f)
{
	struct rst_file *o = pipe_owner(s, f);
	uint32_t want;
	int t[2], r = 0, e = 0;
	unsigned long max;

	if (!o || (o->pipe && o->pipe->verified))
		return 0;
	pipe_state(o)->verified = 1;
	want = pipe_data(o)->capacity;
	rst_fs_owner(s, 1);
	if (pipe2(t, O_CLOEXEC) < 0) {
		e = errno;
	} else {
		if (fcntl(t[0], F_GETPIPE_SZ) != (int)want && fcntl(t[0], F_SETPIPE_SZ, want) < 0)
			e = errno;
		close(t[0]);
		close(t[1]);
	}
	rst_fs_owner(s, 0);
	if (!e)
		return 0;
	max = sysctl_value("/proc/sys/fs/pipe-max-size");
	if (e == EPERM && max && want > max)
		r = rst_problem(s, RST_EXIT_ENV, "%s: %s had a capacity of %u bytes; this machine "
				"gives processes without CAP_SYS_RESOURCE at most %lu "
				"(/proc/sys/fs/pipe-max-size): raise it (as root: sysctl "
				"fs.pipe-max-size=%u) or restart with CAP_SYS_RESOURCE",
				rst_file_what(f), o->path, want, max, want);
	else
		r = rst_problem(s, RST_EXIT_ENV, "%s: cannot make %s again with its capacity of %u "
				"bytes: %s%s", rst_file_what(f), o->path, want, strerror(e),
				e == EPERM ? " (the user has used up fs.pipe-user-pages-soft: "
				"fewer pipes, or a higher limit)" : "");
	return r;
}

/* --- making -------------------------------------------------------------- */

/* len bytes into the pipe wfd (a packet: in one write).  0, or -1 with errno. */
static int put_bytes(int wfd, const unsigned char *b, size_t len, int packet)
{
	for (size_t done = 0; done < len;) {
		ssize_t w = write(wfd, b + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0 || (packet && (size_t)w != len)) {
			if (w >= 0)
				errno = EIO;
			return -1;
		}
		done += w;
	}
	return 0;
}

/*
 * Plain bytes a packet follows.  Written, their last page would take the
 * packet in (a write merges into the last buffer when it has room, packet
 * or not), as it did not in the process (there, the packet found that
 * buffer full, or made by tee or splice).  A buffer tee makes is never
 * merged into: the bytes go through a pipe of our own and tee.
 */
static int put_unmergeable(int wfd, const unsigned char *b, size_t len)
{
	int t[2], r = -1, e;

	if (pipe2(t, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	if ((len <= (size_t)fcntl(t[1], F_GETPIPE_SZ) || fcntl(t[1], F_SETPIPE_SZ, len) >= 0) &&
	    put_bytes(t[1], b, len, 0) == 0)
		r = tee(t[0], wfd, len, SPLICE_F_NONBLOCK) == (ssize_t)len ? 0 : -1;
	e = errno;
	close(t[0]);
	close(t[1]);
	errno = r < 0 && !e ? EIO : e;
	return r;
}

int rst_pipe_fill(struct rst_state *s, struct rst_file *o, int wfd)
{
	const struct img_file_pipe *d = pipe_data(o);
	const struct rst_pipe *p = o->pipe;
	int n = 0;

	if (fcntl(wfd, F_GETPIPE_SZ) != (int)d->capacity &&
	    fcntl(wfd, F_SETPIPE_SZ, d->capacity) < 0) {
		rst_error(s, "%s: cannot give %s its capacity of %u bytes: %s", rst_file_what(o),
			  o->path, d->capacity, strerror(errno));
		return -1;
	}
	/* never blocks: at most its capacity, into an empty pipe */
	for (size_t i = 0; p && i < p->npiece; i++) {
		const struct rst_pipe_piece *c = &p->piece[i];
		int before_packet = !c->packet && i + 1 < p->npiece && p->piece[i + 1].packet;

		if (fcntl(wfd, F_SETFL, O_NONBLOCK | (c->packet ? O_DIRECT : 0)) < 0 ||
		    (before_packet ? put_unmergeable(wfd, p->data + c->off, c->len) :
		     put_bytes(wfd, p->data + c->off, c->len, c->packet)) < 0)
			goto fail;
	}
	if (ioctl(wfd, FIONREAD, &n) < 0 || (uint64_t)n != d->bytes) {
		errno = EIO;
		goto fail;
	}
	return 0;
fail:
	rst_error(s, "%s: cannot put the %llu bytes in flight back into %s: %s", rst_file_what(o),
		  (unsigned long long)d->bytes, o->path, strerror(errno));
	return -1;
}

int rst_pipe_reopen(struct rst_state *s, const struct rst_file *f, int via, int acc)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "/proc/self/fd/%d", via);
	fd = open(name, acc | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		rst_error(s, "%s: cannot open %s again through %s: %s", rst_file_what(f), f->path,
			  name, strerror(errno));
	return fd;
}

int rst_pipe_has_nohup(struct rst_state *s, const struct rst_file *o)
{
	for (int i = 0; i < s->nfiles; i++) {
		const struct rst_file *g = &s->files[i];

		if ((g->f.kind == IMG_FILE_PIPE || g->f.kind == IMG_FILE_FIFO) &&
		    pipe_owner(s, g) == o && (pipe_data(g)->flags & IMG_PIPE_NOHUP))
			return 1;
	}
	return 0;
}

int rst_pipe_descs(struct rst_state *s, struct rst_file *o, const int ends[2], int via, int nohup)
{
	struct rst_pipe *p = pipe_state(o);
	int base = rst_fd_base(s), taken[2] = { 0, 0 };

	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *g = &s->files[i];
		int acc, fd, k;

		if ((g->f.kind != IMG_FILE_PIPE && g->f.kind != IMG_FILE_FIFO) || pipe_owner(s, g) != o ||
		    !!(pipe_data(g)->flags & IMG_PIPE_NOHUP) != nohup)
			continue;
		acc = g->f.flags & O_ACCMODE;
		k = acc == O_RDONLY ? 0 : acc == O_WRONLY ? 1 : -1;
		if (k >= 0 && ends[k] >= 0 && !taken[k] && !(g->f.flags & IMG_O_LARGEFILE)) {
			taken[k] = 1;		/* one of pipe()'s own */
			fd = fcntl(ends[k], F_DUPFD_CLOEXEC, base);
		} else {
			int tmp = rst_pipe_reopen(s, g, via, acc);

			if (tmp < 0)
				return -1;
			fd = fcntl(tmp, F_DUPFD_CLOEXEC, base);
			close(tmp);
		}
		if (fd < 0 || fcntl(fd, F_SETFL, g->f.flags & SETFL_FLAGS) < 0) {
			rst_error(s, "%s: cannot give %s its flags %#o: %s", rst_file_what(g), g->path,
				  g->f.flags, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		p->desc = rst_grow(p->desc, &p->desc_cap, p->ndesc, sizeof(*p->desc));
		p->desc[p->ndesc++] = (struct rst_pipe_desc){ g->f.id, fd };
	}
	return 0;
}

int rst_pipe_open(struct rst_state *s, const struct rst_file *f)
{
	struct rst_file *o = pipe_owner(s, f);

	if (rst_obj(s, (struct rst_file *)f) < 0)
		return -1;
	for (size_t i = 0; o->pipe && i < o->pipe->ndesc; i++) {
		struct rst_pipe_desc *d = &o->pipe->desc[i];
		int fd = d->fd;

		if (d->file == f->f.id && fd >= 0) {
			d->fd = -1;
			return fd;
		}
	}
	rst_error(s, "%s: %s was not made with its pipe", rst_file_what(f), f->path);
	return -1;
}

int rst_pipe_finish(struct rst_state *s, struct rst_file *o)
{
	struct rst_pipe *p = o->pipe;

	if (!p)
		return 0;
	for (size_t i = 0; i < p->ndesc; i++)
		if (p->desc[i].fd >= 0)
			close(p->desc[i].fd);	/* no fd of the image takes it */
	free(p->data);
	free(p->piece);
	free(p->desc);
	free(p);
	o->pipe = NULL;
	return 0;
}

void rst_pipe_free(struct rst_file *f)
{
	struct rst_pipe *p = f->pipe;

	if (!p)
		return;
	free(p->data);
	free(p->piece);
	free(p->desc);
	free(p);
	f->pipe = NULL;
}
