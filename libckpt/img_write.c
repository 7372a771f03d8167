/*
 * img_write.c - writing an image front to back (format: img_format.h).
 *
 * Runs inside the checkpoint signal handler, so it is async-signal-safe by
 * construction: the system calls are raw (writev(2), and fallocate(2),
 * lseek(2), fstat(2), ftruncate(2) for the preallocation below), errno is
 * never touched, the only memory is the caller's buffer.  Raw, because a
 * checkpoint's worker threads write page records too (ckpt_pool.c: whoever
 * holds the pool's write token), and they share the leader's TLS, errno
 * included.
 *
 * Invariants (hold after every call):
 *  1. w->nbytes counts every byte handed to the writer, whether it already
 *     went to the fd or still waits in w->buf; w->crc is the crc32c of
 *     exactly those bytes, in order, less the raw bytes of
 *     img_write_raw() (MPAGES page data, which the image crc leaves out).  So img_write_end() can state both
 *     without reading anything back.
 *  2. Bytes reach the fd in the order they were handed over: w->buf is
 *     flushed before any part is written directly.
 *  3. w->error, once negative, never changes and every call is a no-op
 *     that returns it: a caller may write a whole image and check once.
 *  4. Every record starts at a multiple of 8 (img_format.h invariant 5):
 *     img_write_align() puts a PAD record first where needed.
 *
 * Cost: every byte is checksummed twice (record crc and image crc); at
 * ~8 GB/s per pass that is small next to compressing the pages.  Page
 * data checksummed by a worker thread (img_write_record_crc) is not read
 * here at all: its crc is folded into both with img_crc32c_combine.  Parts of
 * at least IMG_WRITE_DIRECT bytes (page data) are written straight from the
 * caller's memory, in one writev with the buffered headers before them, so
 * the buffer copies only the small headers and structs.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/img.h"

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE	0x01
#endif

void img_writer_init(struct img_writer *w, int fd, void *buf, size_t cap)
{
	w->fd = fd;
	w->error = 0;
	w->crc = 0;
	w->nbytes = 0;
	w->nrecords = 0;
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->pre_off = w->pre_end = 0;
	w->pre = 0;
}

/*
 * Preallocation.  ext4's buffered write reserves blocks page by page
 * (delayed allocation: ext4_da_get_block_prep, the extent status tree,
 * quota): a third of the kernel's time of writing page data here (512 MiB
 * in 256 KiB writes: 112 ms of CPU, 81 ms into a preallocated range).  So
 * once an image passes IMG_PRE_FROM bytes, the file is extended ahead of
 * the writes in IMG_PRE_STEP steps with fallocate(FALLOC_FL_KEEP_SIZE)
 * (the size does not change: nobody sees the blocks), and img_write_end
 * gives back what was not used (ftruncate to the size the file has frees
 * the blocks past its end).  Only a regular file written at its end
 * (offset == size); a failed fallocate (a filesystem without it, a full
 * disk: the writes then say so themselves) ends it.  Small images never
 * pay the system calls.
 */
#define IMG_PRE_FROM	(8u << 20)
#define IMG_PRE_STEP	(64u << 20)

static void img_pre_ahead(struct img_writer *w, size_t n)
{
	if (w->pre < 0 || w->nbytes + n < IMG_PRE_FROM)
		return;
	if (!w->pre) {
		struct stat st;
		long off = arch_sys3(SYS_lseek, w->fd, 0, SEEK_CUR);

		w->pre = -1;
		if (off < 0 || arch_sys2(SYS_fstat, w->fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_size != off)
			return;
		w->pre = 1;
		w->pre_off = w->pre_end = (uint64_t)off;
	}
	if (w->pre_off + n <= w->pre_end)
		return;
	if (arch_sys4(SYS_fallocate, w->fd, FALLOC_FL_KEEP_SIZE, w->pre_end,
		      w->pre_off + n + IMG_PRE_STEP - w->pre_end) < 0)
		w->pre = -1;
	else
		w->pre_end = w->pre_off + n + IMG_PRE_STEP;
}

/* Gives back the blocks preallocated past what was written. */
static void img_pre_end(struct img_writer *w)
{
	struct stat st;

	if (w->pre > 0 && w->pre_end > w->pre_off &&
	    arch_sys2(SYS_fstat, w->fd, &st) == 0 && (uint64_t)st.st_size == w->pre_off)
		arch_sys2(SYS_ftruncate, w->fd, w->pre_off);
	w->pre = 0;
	w->pre_off = w->pre_end = 0;
}

/*
 * The buffered bytes, then n bytes at p (n may be 0), out with writev(2)
 * until all is written: one system call, no copy of p.  Retries EINTR and
 * short writes.  0 or -errno.
 */
static int img_write_all(struct img_writer *w, const void *p, size_t n)
{
	struct iovec iov[2] = { { w->buf, w->len }, { (void *)p, n } };
	struct iovec *v = iov;
	int cnt = 2;

	img_pre_ahead(w, w->len + n);
	if (w->pre > 0)
		w->pre_off += w->len + n;
	w->len = 0;
	for (;;) {
		long k;

		while (cnt > 0 && v->iov_len == 0) {
			v++;
			cnt--;
		}
		if (cnt == 0)
			return 0;
		k = arch_sys3(SYS_writev, w->fd, v, cnt);
		if (k < 0) {
			if (k == -EINTR)
				continue;
			return (int)k;
		}
		if (k == 0)		/* never for files/pipes; do not spin */
			return -EIO;
		for (size_t done = (size_t)k; done > 0; ) {	/* k <= the bytes in v */
			size_t c = done < v->iov_len ? done : v->iov_len;

			v->iov_base = (char *)v->iov_base + c;
			v->iov_len -= c;
			done -= c;
			if (v->iov_len == 0) {
				v++;
				cnt--;
			}
		}
	}
}

static void img_write_flush(struct img_writer *w)
{
	if (w->error == 0 && w->len > 0)
		w->error = img_write_all(w, NULL, 0);
}

/*
 * Hands n bytes, already in w->crc, to the image: counted, buffered or
 * written.  Parts of IMG_WRITE_DIRECT bytes or more (page data) go out
 * from the caller's memory together with what is buffered (invariant 2).
 */
#define IMG_WRITE_DIRECT	(16u << 10)

static void img_write_out(struct img_writer *w, const void *p, size_t n)
{
	w->nbytes += n;
	if (n >= IMG_WRITE_DIRECT || n >= w->cap / 2) {
		w->error = img_write_all(w, p, n);
		return;
	}
	if (n > w->cap - w->len) {
		img_write_flush(w);
		if (w->error)
			return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

/* Hands n bytes to the image: checksummed, counted, buffered or written. */
static void img_write_put(struct img_writer *w, const void *p, size_t n)
{
	if (w->error || n == 0)
		return;
	w->crc = img_crc32c(w->crc, p, n);
	img_write_out(w, p, n);
}

/* The same for bytes whose own crc (pcrc) is known: no pass over them. */
static void img_write_put_crc(struct img_writer *w, const void *p, size_t n, uint32_t pcrc)
{
	if (w->error || n == 0)
		return;
	w->crc = img_crc32c_combine(w->crc, pcrc, n);
	img_write_out(w, p, n);
}

int img_writer_move(struct img_writer *w, int fd)
{
	off_t from = 0;
	uint64_t left;

	img_write_flush(w);
	img_pre_end(w);
	left = w->nbytes;
	while (w->error == 0 && left > 0) {
		ssize_t k = sendfile(fd, w->fd, &from, left > (1u << 30) ? (1u << 30) : left);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			w->error = k < 0 ? -errno : -EIO;
		else
			left -= (uint64_t)k;
	}
	w->fd = fd;
	return w->error;
}

int img_write_header(struct img_writer *w, struct img_header *h)
{
	if (w->error)
		return w->error;
	if (w->nbytes != 0) {	/* the header is the first thing, once */
		w->error = -EINVAL;
		return w->error;
	}
	memcpy(h->magic, IMG_MAGIC, IMG_MAGIC_LEN);
	h->version = IMG_VERSION;
	h->arch = IMG_ARCH_X86_64;
	h->page_size = IMG_PAGE_SIZE;
	memset(h->reserved, 0, sizeof(h->reserved));
	h->hdr_crc = 0;
	h->hdr_crc = img_crc32c(0, h, sizeof(*h));
	img_write_put(w, h, sizeof(*h));
	return w->error;
}

/* A record header with everything but its crc, which covers it up to there. */
static void img_rec_hdr_init(struct img_rec_hdr *rh, uint32_t type, size_t len)
{
	memset(rh, 0, sizeof(*rh));
	rh->type = type;
	rh->version = 1;
	rh->flags = 0;
	rh->len = len;
}

uint32_t img_record_crc(uint32_t type, const void *a, size_t alen, uint32_t b_crc, size_t blen)
{
	struct img_rec_hdr rh;
	uint32_t crc;

	img_rec_hdr_init(&rh, type, alen + blen);
	crc = img_crc32c(0, &rh, offsetof(struct img_rec_hdr, crc));
	crc = img_crc32c(crc, a, alen);
	return img_crc32c_combine(crc, b_crc, blen);
}

int img_write_align(struct img_writer *w)
{
	static const unsigned char zero[8];
	struct img_rec_hdr rh;
	size_t pad = (8 - w->nbytes % 8) % 8;

	if (w->error || !pad)
		return w->error;
	/* off + 24 + pad is a multiple of 8 when off + pad is (24 is) */
	img_rec_hdr_init(&rh, IMG_REC_PAD, pad);
	rh.crc = img_crc32c(0, &rh, offsetof(struct img_rec_hdr, crc));
	rh.crc = img_crc32c(rh.crc, zero, pad);
	img_write_put(w, &rh, sizeof(rh));
	img_write_put(w, zero, pad);
	if (w->error == 0)
		w->nrecords++;
	return w->error;
}

/* One record; b_crc is b's crc if has_crc, else b is checksummed here. */
static void img_write_rec(struct img_writer *w, uint32_t type, const void *a, size_t alen,
			  const void *b, size_t blen, int has_crc, uint32_t b_crc, uint32_t rec_crc)
{
	struct img_rec_hdr rh;

	if (img_write_align(w))
		return;
	if (alen > IMG_REC_MAX || blen > IMG_REC_MAX - alen) {
		w->error = -EFBIG;	/* every reader would refuse it */
		return;
	}
	img_rec_hdr_init(&rh, type, alen + blen);
	if (has_crc) {
		rh.crc = rec_crc;
	} else {
		rh.crc = img_crc32c(0, &rh, offsetof(struct img_rec_hdr, crc));
		rh.crc = img_crc32c(rh.crc, a, alen);
		rh.crc = img_crc32c(rh.crc, b, blen);
	}
	img_write_put(w, &rh, sizeof(rh));
	img_write_put(w, a, alen);
	if (has_crc)
		img_write_put_crc(w, b, blen, b_crc);
	else
		img_write_put(w, b, blen);
}

static int img_write_check(struct img_writer *w, uint32_t type)
{
	if (w->error)
		return w->error;
	if (w->nbytes == 0 || type == IMG_REC_END) {
		/* No header yet, or END not through img_write_end(): the
		 * image would be refused, so refuse it here. */
		w->error = -EINVAL;
	}
	return w->error;
}

int img_write_record(struct img_writer *w, uint32_t type,
		     const void *a, size_t alen, const void *b, size_t blen)
{
	if (img_write_check(w, type))
		return w->error;
	img_write_rec(w, type, a, alen, b, blen, 0, 0, 0);
	if (w->error == 0)
		w->nrecords++;
	return w->error;
}

int img_write_record_crc(struct img_writer *w, uint32_t type, const void *a, size_t alen,
			 const void *b, size_t blen, uint32_t b_crc, uint32_t rec_crc)
{
	if (img_write_check(w, type))
		return w->error;
	img_write_rec(w, type, a, alen, b, blen, 1, b_crc, rec_crc);
	if (w->error == 0)
		w->nrecords++;
	return w->error;
}

int img_write_raw(struct img_writer *w, const void *p, size_t n)
{
	if (w->error)
		return w->error;
	if (w->nbytes == 0) {	/* never before the header */
		w->error = -EINVAL;
		return w->error;
	}
	/* with what is buffered first: invariant 2 */
	w->error = img_write_all(w, p, n);
	w->nbytes += n;		/* invariant 1 holds for offsets; crc skips these */
	return w->error;
}

int img_write_end(struct img_writer *w)
{
	struct img_end e;

	if (w->error)
		return w->error;
	if (w->nbytes == 0) {
		w->error = -EINVAL;
		return w->error;
	}
	if (img_write_align(w))		/* END's counts include its PAD */
		return w->error;
	memset(&e, 0, sizeof(e));
	e.nrecords = w->nrecords;
	e.nbytes = w->nbytes;
	e.image_crc = w->crc;
	img_write_rec(w, IMG_REC_END, &e, sizeof(e), NULL, 0, 0, 0, 0);
	img_write_flush(w);
	img_pre_end(w);
	return w->error;
}
