/*
 * ckpt_fdata.c - the contents of a deleted file, a memfd or a POSIX shm
 * object, kept in the image as FILE_DATA records (img_format.h) for
 * fds/fd_ghost.c, fds/fd_memfd.c and fds/fd_pshm.c.
 *
 * Reading goes through a descriptor of its own: an open of
 * /proc/self/fd/N (or the map_files fd a mapped-only file was opened
 * through) with O_RDONLY.  The process's own may be write-only, O_DIRECT
 * or O_APPEND, and SEEK_DATA on it would move its offset.  Where that
 * open is refused (a mode without read permission) the process's fd is
 * read with pread when it is readable, its offset put back after the
 * SEEK_DATA walk (every other thread is parked).
 *
 * What is stored: the data extents only (SEEK_DATA/SEEK_HOLE, rounded out
 * to pages and cut at the size), so holes are not stored and a restart
 * leaves them holes.  Each run of at most IMG_FILE_CHUNK bytes is split
 * into runs of all-zero pages (ZERO records: allocated zeros, written
 * back, not holes) and of other pages (Snappy unless that saves less than
 * 1/8, or CKPT_COMPRESS=none: RAW).  A file system without SEEK_DATA is
 * one extent.
 *
 * Limit: a file with more data bytes than c->fdata_limit (CKPT_GHOST_LIMIT,
 * default 256 MiB) is refused before anything is written, with its size,
 * the limit and how to raise it: a deleted log of many GiB should not
 * silently make every image that big.
 *
 * Buffers: c->mbuf (the MPAGES run buffer: page data is written long after
 * the FILE records) for the data read and its compressed form, and the
 * leader's Snappy table c->ztab.  Async-signal-safe: system calls only.
 * Cost: every data byte read once, tested for zeros once, compressed once,
 * while the process is parked (a file is shared with the forked writer,
 * not frozen by the fork, so it cannot be left for the copy to read).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

#define PAGE		IMG_PAGE_SIZE
#define CHUNK_PAGES	(IMG_FILE_CHUNK / PAGE)

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

const char *ckpt_fdata_what(const struct fd_probe *p)
{
	return p->what ? p->what : "fd";
}

static uint64_t fdata_limit(const struct ckpt_ctx *c)
{
	return c->fdata_limit ? c->fdata_limit : CKPT_FDATA_LIMIT;
}

/* A descriptor to read p's file through, and whether it is libckpt's own. */
static int fdata_open(const struct fd_probe *p, int *own)
{
	char name[64];
	int fd;

	ckpt_fmt(name, sizeof(name), "/proc/self/fd/%d", p->fd);
	fd = ckpt_open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	*own = fd >= 0;
	if (fd >= 0)
		return fd;
	if ((p->flags & O_ACCMODE) == O_WRONLY || (p->flags & O_DIRECT))
		return -1;
	return p->fd;
}

/*
 * The next data extent at or after *off: [*a, *b), page aligned (b cut at
 * size); 0, or 1 when there is none left.  Moves fd's offset.
 */
static int next_extent(int fd, int64_t size, int64_t *off, uint64_t *a, uint64_t *b)
{
	int64_t d, h;

	if (*off >= size)
		return 1;
	d = lseek(fd, *off, SEEK_DATA);
	if (d < 0 && errno == ENXIO)
		return 1;			/* only a hole is left */
	if (d < 0)
		d = *off, h = size;		/* no SEEK_DATA here: all data */
	else if ((h = lseek(fd, d, SEEK_HOLE)) < 0 || h > size)
		h = size;
	if (d >= size)
		return 1;
	*a = (uint64_t)d & ~(uint64_t)(PAGE - 1);
	*b = page_up((uint64_t)h);
	if (*b > (uint64_t)size)
		*b = size;
	if (*a < (uint64_t)*off)		/* a sub-page hole: the pages join */
		*a = *off;
	*off = page_up(*b);
	return 0;
}

/* Bytes of data (extents) of the file behind fd, size bytes long. */
static uint64_t data_bytes(int fd, int64_t size)
{
	int64_t off = 0;
	uint64_t a, b, n = 0;

	while (!next_extent(fd, size, &off, &a, &b))
		n += b - a;
	return n;
}

int ckpt_fdata_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	int own, fd = fdata_open(p, &own);
	int64_t pos = own ? 0 : lseek(p->fd, 0, SEEK_CUR);
	uint64_t n;

	if (fd < 0)
		return ckpt_fail(c, -EACCES, "%s: cannot read the contents of %s to save them: "
				 "it cannot be opened for reading (errno %d) and the fd is not "
				 "readable%s", ckpt_fdata_what(p), p->path, errno, p->origin);
	n = data_bytes(fd, p->st.st_size);
	if (own)
		ckpt_close(fd);
	else
		lseek(p->fd, pos, SEEK_SET);
	if (n > fdata_limit(c))
		return ckpt_fail(c, -EFBIG, "%s: %s holds %llu bytes of data, more than the limit of "
				 "%llu bytes for a deleted file, memfd or POSIX shared memory "
				 "object: start the process with "
				 "CKPT_GHOST_LIMIT=%lluM (K, M, G) to raise it, or close it before "
				 "the checkpoint%s", ckpt_fdata_what(p), p->path,
				 (unsigned long long)n, (unsigned long long)fdata_limit(c),
				 (unsigned long long)((n >> 20) + 1), p->origin);
	return 0;
}

/* Reads len bytes at off into buf; what lies past the end of the file reads as zeros. */
static int read_at(struct ckpt_ctx *c, int fd, unsigned char *buf, size_t len, uint64_t off,
		   const struct fd_probe *p)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ckpt_fail(c, -errno, "%s: cannot read %s at offset %llu to save it",
					 ckpt_fdata_what(p), p->path, (unsigned long long)(off + got));
		if (n == 0)
			break;			/* shrank meanwhile: the rest reads as zeros */
		got += n;
	}
	__builtin_memset(buf + got, 0, len - got);
	return 0;
}

/* One record: len bytes at off from data (zero: a ZERO run, no data). */
static int put_run(struct ckpt_ctx *c, uint32_t id, uint64_t off, const unsigned char *data,
		   size_t len, int zero)
{
	struct img_file_data d = { .file = id, .codec = IMG_CODEC_ZERO, .offset = off, .len = len };
	unsigned char *out = c->mbuf + IMG_FILE_CHUNK;
	size_t n = 0;

	if (!zero) {
		d.codec = IMG_CODEC_RAW;
		n = len;
		if (!c->no_compress) {
			size_t z = img_snappy_compress(data, len, out, c->ztab);

			if (z < len - len / 8) {
				d.codec = IMG_CODEC_SNAPPY;
				data = out;
				n = z;
			}
		}
	}
	return img_write_record(&c->w, IMG_REC_FILE_DATA, &d, sizeof(d), zero ? NULL : data, n) < 0 ?
	       c->w.error : 0;
}

/* One chunk [a, b) (at most IMG_FILE_CHUNK bytes): read, cut into zero and data runs. */
static int put_chunk(struct ckpt_ctx *c, uint32_t id, int fd, uint64_t a, uint64_t b,
		     const struct fd_probe *p)
{
	unsigned char *buf = c->mbuf;
	size_t len = b - a, run = 0;
	int run_zero = 0;

	if (read_at(c, fd, buf, len, a, p) < 0)
		return c->error;
	__builtin_memset(buf + len, 0, page_up(len) - len);	/* a last partial page */
	for (size_t at = 0; at < len; at += PAGE) {
		int zero = ckpt_is_zero(buf + at, PAGE);

		if (at > run && zero != run_zero) {
			if (put_run(c, id, a + run, buf + run, at - run, run_zero) < 0)
				return c->w.error;
			run = at;
		}
		run_zero = zero;
	}
	return put_run(c, id, a + run, buf + run, len - run, run_zero) < 0 ? c->w.error : 0;
}

int ckpt_fdata_contents(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f)
{
	int own, fd;
	int64_t off = 0, pos = 0;
	uint64_t a, b;
	int r = 0;

	if (ckpt_fds_first(c, p->st.st_dev, p->st.st_ino))
		return 0;		/* the first FILE of this file holds them */
	if ((fd = fdata_open(p, &own)) < 0)
		return ckpt_fail(c, -EACCES, "%s: cannot read the contents of %s to save them",
				 ckpt_fdata_what(p), p->path);
	if (!own)
		pos = lseek(p->fd, 0, SEEK_CUR);
	/* extents first (they move the offset), then the reads (pread) */
	while (!r && !next_extent(fd, f->size, &off, &a, &b)) {
		int64_t next = off;

		for (uint64_t at = a; !r && at < b; at += IMG_FILE_CHUNK)
			r = put_chunk(c, f->id, fd, at, b - at > IMG_FILE_CHUNK ? at + IMG_FILE_CHUNK : b, p);
		off = next;
	}
	if (own)
		ckpt_close(fd);
	else
		lseek(p->fd, pos, SEEK_SET);
	return r;
}
