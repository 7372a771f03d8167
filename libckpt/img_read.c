/*
 * img_read.c - reading and checking an image (format: img_format.h).
 *
 * Used by ckpt-restart, ckpt-info and the fuzzers, on images that may be
 * truncated, corrupt, hostile or from another machine.  The reader trusts
 * nothing it has not checked, and says what was wrong in one line.
 *
 * State machine (r->code == IMG_OK throughout, else every call fails):
 *
 *   img_reader_open() --header ok--> READING --img_reader_next()=1--> READING
 *                                       |
 *                                       +--END verified, next()=0--> DONE
 *
 *   DONE is "r->in == NULL": the read-ahead buffer is freed once END has
 *   been verified, and next() keeps returning 0.
 *
 * Invariants:
 *  1. r->nbytes is the offset of the next unread byte of the image (bytes
 *     consumed, not bytes read ahead), and r->crc the crc32c of exactly the
 *     bytes before it; r->nrecords counts the records returned so far.
 *     So the END record can be checked against them directly.
 *  2. No length from the image is used before it is bounded: a record's
 *     length by IMG_REC_MAX, its buffer grown only as its bytes actually
 *     arrive (a 30-byte file that claims 64 MiB costs 64 KiB), variable
 *     tails by their fixed struct and rec->len, both in 64-bit arithmetic.
 *  3. r->code/r->err are set once, by the first failure; the message is one
 *     line and names the byte offset where it applies.
 *  4. The reader never closes r->fd: whoever opened it closes it.
 *
 * Cost: one crc32c pass (record and image crc from it, combined) per byte,
 * and one copy (read-ahead to payload buffer) for small records; the rest
 * of a payload of 32 KiB or more, and the record header after it, are read
 * straight from the fd (a few more read calls, no second copy).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "libckpt/img.h"

#define IMG_READ_AHEAD		(256u << 10)
#define IMG_READ_FIRST		(16u << 10)	/* the first refill; then doubling */
#define IMG_PAYLOAD_MIN		(64u << 10)	/* first payload buffer */
#define IMG_DIRECT_MIN		(32u << 10)	/* payload rest read without read-ahead */
#define IMG_F_ALL		(IMG_F_SELF | IMG_F_PIDNS | IMG_F_MAPPABLE | IMG_F_INCREMENTAL | \
				 IMG_F_TREE | IMG_F_MEMBER | IMG_F_CTTY)

int img_fail(struct img_reader *r, enum img_err code, const char *fmt, ...)
{
	va_list ap;

	if (r->code == IMG_OK) {	/* invariant 3: the first cause wins */
		r->code = code;
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof(r->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static unsigned long long img_ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* One read(2); in skip mode a pread at r->fpos, so a skip costs no lseek. */
static ssize_t img_read_some(struct img_reader *r, void *dst, size_t n)
{
	ssize_t k;

	if (!r->skip_pages)
		return read(r->fd, dst, n);
	k = pread(r->fd, dst, n, (off_t)r->fpos);
	if (k > 0)
		r->fpos += (uint64_t)k;
	return k;
}

/*
 * Up to n bytes of the image into dst: returns how many (fewer than n only
 * at end of file), or -1 on a read error.  off is dst's image offset, for
 * the message.  Large reads bypass the read-ahead buffer.
 */
static ssize_t img_read_bytes(struct img_reader *r, void *dst, size_t n,
			      uint64_t off)
{
	unsigned char *d = dst;
	size_t got = 0;

	if (r->map) {		/* off is exact: see the callers */
		uint64_t at = (uint64_t)r->base + off;

		if (at < r->map_len) {
			got = r->map_len - at < n ? (size_t)(r->map_len - at) : n;
			memcpy(d, r->map + at, got);
		}
		return (ssize_t)got;
	}
	while (got < n) {
		size_t avail = r->in_len - r->in_pos;
		ssize_t k;

		if (avail > 0) {
			size_t c = avail < n - got ? avail : n - got;

			memcpy(d + got, r->in + r->in_pos, c);
			r->in_pos += c;
			got += c;
			continue;
		}
		if (n - got >= (r->ahead ? r->ahead : r->in_cap) || r->exact) {
			k = img_read_some(r, d + got, n - got);
			if (k > 0) {
				got += (size_t)k;
				continue;
			}
		} else {
			k = img_read_some(r, r->in, r->ahead ? r->ahead : r->grow);
			if (!r->ahead && r->grow < r->in_cap)
				r->grow *= 2;
			if (k > 0) {
				r->in_len = (size_t)k;
				r->in_pos = 0;
				continue;
			}
		}
		if (k == 0)
			break;		/* end of file */
		if (errno == EINTR)
			continue;
		return img_fail(r, IMG_ERR_IO, "read error at offset %llu: %s",
				img_ull(off + got), strerror(errno));
	}
	return (ssize_t)got;
}

static void img_reader_free(struct img_reader *r)
{
	if (r->map)
		munmap((void *)r->map, r->map_len);
	r->map = r->view = NULL;
	free(r->in);
	free(r->payload);
	r->in = NULL;
	r->payload = NULL;
	r->in_cap = r->in_len = r->in_pos = 0;
	r->cap = 0;
}

static const char *img_arch_name(uint32_t arch)
{
	switch (arch) {
	case 3:   return "i386";
	case 8:   return "mips";
	case 20:  return "ppc";
	case 21:  return "ppc64";
	case 22:  return "s390";
	case 40:  return "arm";
	case 183: return "aarch64";
	case 243: return "riscv";
	case 258: return "loongarch";
	default:  return "an unknown architecture";
	}
}

static int img_check_header(struct img_reader *r)
{
	struct img_header h = r->hdr;
	uint32_t crc;

	if (memcmp(h.magic, IMG_MAGIC, IMG_MAGIC_LEN) != 0)
		return img_fail(r, IMG_ERR_CORRUPT, "not a libckpt image (bad magic)");
	h.hdr_crc = 0;
	crc = img_crc32c(0, &h, sizeof(h));
	if (crc != r->hdr.hdr_crc)
		return img_fail(r, IMG_ERR_CORRUPT,
				"header is corrupt: checksum mismatch (stored 0x%08x, computed 0x%08x)",
				r->hdr.hdr_crc, crc);
	/* From here on the header is what its writer wrote. */
	if (h.version == 0)
		return img_fail(r, IMG_ERR_CORRUPT, "image format version 0 is invalid");
	if (h.version > IMG_VERSION)
		return img_fail(r, IMG_ERR_INCOMPAT,
				"image format version %u is newer than this libckpt (supports %u)",
				h.version, IMG_VERSION);
	if (h.arch != IMG_ARCH_X86_64)
		return img_fail(r, IMG_ERR_INCOMPAT,
				"image is for %s (ELF machine %u), this libckpt restores x86_64 (%u)",
				img_arch_name(h.arch), h.arch, IMG_ARCH_X86_64);
	if (h.page_size != IMG_PAGE_SIZE)
		return img_fail(r, IMG_ERR_INCOMPAT,
				"image page size is %u bytes, this libckpt uses %u",
				h.page_size, IMG_PAGE_SIZE);
	if (h.flags & ~(uint32_t)IMG_F_ALL)
		return img_fail(r, IMG_ERR_CORRUPT, "header has unknown flags 0x%x",
				h.flags & ~(uint32_t)IMG_F_ALL);
	/* a tree is never incremental; a section is not a directory */
	if ((h.flags & IMG_F_TREE) && (h.flags & (IMG_F_MEMBER | IMG_F_INCREMENTAL)))
		return img_fail(r, IMG_ERR_CORRUPT, "header has flags 0x%x, which do not go together",
				h.flags);
	if ((h.flags & IMG_F_MEMBER) && (h.flags & IMG_F_INCREMENTAL))
		return img_fail(r, IMG_ERR_CORRUPT, "header has flags 0x%x, which do not go together",
				h.flags);
	for (size_t i = 0; i < sizeof(h.reserved); i++)
		if (h.reserved[i])
			return img_fail(r, IMG_ERR_CORRUPT,
					"header is corrupt: reserved byte at offset %zu is not zero",
					offsetof(struct img_header, reserved) + i);
	return 0;
}

int img_reader_open(struct img_reader *r, int fd)
{
	struct stat st;
	ssize_t k;

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	if (fstat(fd, &st) < 0)
		return img_fail(r, IMG_ERR_IO, "cannot stat the image: %s", strerror(errno));
	r->is_file = S_ISREG(st.st_mode);
	if (r->is_file && (r->base = lseek(fd, 0, SEEK_CUR)) < 0)
		r->base = 0;
	if (S_ISDIR(st.st_mode))
		return img_fail(r, IMG_ERR_IO, "is a directory, not an image");
	r->in = malloc(IMG_READ_AHEAD);
	if (!r->in)
		return img_fail(r, IMG_ERR_IO, "out of memory for the read buffer");
	r->in_cap = IMG_READ_AHEAD;
	/*
	 * Small first: the header and the metadata records are a few KiB,
	 * and all a mappable image's restart reads; each page of read-ahead
	 * costs a copy and, in a fresh buffer, a page fault.
	 */
	r->grow = IMG_READ_FIRST;

	k = img_read_bytes(r, &r->hdr, sizeof(r->hdr), 0);
	if (k < 0)
		goto fail;
	if (k == 0) {
		img_fail(r, IMG_ERR_CORRUPT, "empty image");
		goto fail;
	}
	if ((size_t)k < sizeof(r->hdr)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "truncated: image ends inside the header (%zd of %zu bytes)",
			 k, sizeof(r->hdr));
		goto fail;
	}
	if (img_check_header(r) < 0)
		goto fail;
	r->crc = img_crc32c(0, &r->hdr, sizeof(r->hdr));
	r->nbytes = sizeof(r->hdr);
	return 0;
fail:
	img_reader_free(r);
	return -1;
}

void img_reader_close(struct img_reader *r)
{
	img_reader_free(r);
}

static int img_type_known(uint32_t type)
{
	switch (type) {
	case IMG_REC_PROC:
	case IMG_REC_FILE:
	case IMG_REC_FD:
	case IMG_REC_PAD:
	case IMG_REC_LOCK:
	case IMG_REC_EPOLL_ITEM:
	case IMG_REC_FILE_DATA:
	case IMG_REC_PIPE_DATA:
	case IMG_REC_SYSV_SHM: case IMG_REC_SYSV_SEM: case IMG_REC_SYSV_MSG: case IMG_REC_MQ_MSGS:
	case IMG_REC_UNIX_MSG:
	case IMG_REC_INOTIFY_WATCH:
	case IMG_REC_PTY_DATA:
	case IMG_REC_INET_QUEUE:
	case IMG_REC_THREAD:
	case IMG_REC_VMA:
	case IMG_REC_PAGES:
	case IMG_REC_PARENT:
	case IMG_REC_MPAGES:
	case IMG_REC_SIGINFO:
	case IMG_REC_TIMER:
	case IMG_REC_PROC_ATTR:
	case IMG_REC_SECCOMP:
	case IMG_REC_MLOCK:
	case IMG_REC_MEMBER:
	case IMG_REC_BACKTRACE:
	case IMG_REC_END:
		return 1;
	default:
		return 0;
	}
}

static int img_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * The payload of the record at off, at r->view: in the mapping, or read
 * into r->payload (invariant 2).
 */
static int img_read_payload(struct img_reader *r, const struct img_rec_hdr *rh,
			    uint64_t off)
{
	size_t len = (size_t)rh->len, have = 0, avail = r->in_len - r->in_pos;

	/*
	 * Large payloads (page data) go from the kernel straight into the
	 * payload buffer, and so does the header after them: read-ahead would
	 * copy every byte of them once more.  Small records keep read-ahead.
	 */
	if (r->map) {
		uint64_t at = (uint64_t)r->base + off + sizeof(*rh);

		if (at > r->map_len || r->map_len - at < len)
			return img_fail(r, IMG_ERR_CORRUPT,
					"truncated at offset %llu: record (type %u) declares %zu payload bytes, only %llu follow",
					img_ull(off), rh->type, len,
					img_ull(at > r->map_len ? 0 : r->map_len - at));
		r->view = r->map + at;
		if (!len || !((uintptr_t)r->view & 7))
			return 0;
		/*
		 * An image written without PAD records (earlier libckpt) or
		 * starting at an odd offset: the checkers read the payload's
		 * struct, which must be aligned; copy it.
		 */
		if (r->cap < len) {
			unsigned char *p = realloc(r->payload, len ? len : 1);

			if (!p)
				return img_fail(r, IMG_ERR_IO,
						"out of memory for the record at offset %llu (%zu bytes)",
						img_ull(off), len);
			r->payload = p;
			r->cap = len;
		}
		memcpy(r->payload, r->view, len);
		r->view = r->payload;
		return 0;
	}
	r->exact = len > avail && len - avail >= IMG_DIRECT_MIN;

	while (have < len) {
		size_t want;
		ssize_t k;

		if (have == r->cap) {
			size_t ncap = r->cap ? r->cap * 2 : IMG_PAYLOAD_MIN;
			unsigned char *p;

			if (ncap > len)
				ncap = len;
			p = realloc(r->payload, ncap);
			if (!p)
				return img_fail(r, IMG_ERR_IO,
						"out of memory for the record at offset %llu (%zu bytes)",
						img_ull(off), len);
			r->payload = p;
			r->cap = ncap;
		}
		want = (r->cap < len ? r->cap : len) - have;
		k = img_read_bytes(r, r->payload + have, want,
				   off + sizeof(*rh) + have);
		if (k < 0)
			return -1;
		have += (size_t)k;
		if ((size_t)k < want)
			return img_fail(r, IMG_ERR_CORRUPT,
					"truncated at offset %llu: record (type %u) declares %zu payload bytes, only %zu follow",
					img_ull(off), rh->type, len, have);
	}
	r->view = r->payload;
	return 0;
}

/* END at off: verified against what was read (invariant 1). */
static int img_check_end(struct img_reader *r, const struct img_rec_hdr *rh,
			 uint64_t off)
{
	struct img_end e;
	unsigned char extra[IMG_SEAL_SIZE + 1];
	ssize_t k;

	if (rh->len != sizeof(e))
		return img_fail(r, IMG_ERR_CORRUPT,
				"END record at offset %llu has %llu payload bytes, expected %zu",
				img_ull(off), img_ull(rh->len), sizeof(e));
	memcpy(&e, r->view, sizeof(e));
	if (e.reserved != 0)
		return img_fail(r, IMG_ERR_CORRUPT,
				"END record at offset %llu is corrupt: reserved field is not zero",
				img_ull(off));
	if (e.nrecords != r->nrecords)
		return img_fail(r, IMG_ERR_CORRUPT,
				"END record at offset %llu counts %llu records, the image holds %llu",
				img_ull(off), img_ull(e.nrecords), img_ull(r->nrecords));
	if (e.nbytes != off)
		return img_fail(r, IMG_ERR_CORRUPT,
				"END record at offset %llu says it is at offset %llu",
				img_ull(off), img_ull(e.nbytes));
	if (e.image_crc != r->crc && !r->crc_partial)
		return img_fail(r, IMG_ERR_CORRUPT,
				"image checksum mismatch: END record at offset %llu has 0x%08x, the image sums to 0x%08x",
				img_ull(off), e.image_crc, r->crc);
	if (r->is_file && !r->part) {
		/*
		 * A pipe may carry more after the image; a file may not, but
		 * for a seal (img_seal.c: whoever needs it verifies it).  A
		 * tree's directory or section (r->part) is followed by the next.
		 */
		k = img_read_bytes(r, extra, sizeof(extra), off + sizeof(*rh) + sizeof(e));
		if (k < 0)
			return -1;
		if (k == IMG_SEAL_SIZE && !memcmp(extra, IMG_SEAL_MAGIC, 8)) {
			r->sealed = 1;
			memcpy(&r->seal, extra, sizeof(r->seal));
		} else if (k > 0) {
			return img_fail(r, IMG_ERR_CORRUPT,
					"trailing bytes after the end of the image (at offset %llu)",
					img_ull(off + sizeof(*rh) + sizeof(e)));
		}
	}
	return 0;
}

/*
 * Lazy restore: only the struct img_pages of a PAGES payload is read, the
 * rest is skipped (first from the read-ahead buffer, then by moving
 * r->fpos, where the next pread starts).
 * Invariant 1 holds for nbytes; r->crc no longer sums the image.
 */
static int img_skip_payload(struct img_reader *r, const struct img_rec_hdr *rh,
			    uint64_t off, struct img_rec *rec)
{
	size_t fixed = sizeof(struct img_pages);
	uint64_t rest = rh->len - fixed, avail;
	ssize_t k;

	if (!r->cap) {
		r->payload = malloc(IMG_PAYLOAD_MIN);
		if (!r->payload)
			return img_fail(r, IMG_ERR_IO, "out of memory for a record");
		r->cap = IMG_PAYLOAD_MIN;
	}
	k = img_read_bytes(r, r->payload, fixed, off + sizeof(*rh));
	if (k < 0)
		return -1;
	if ((size_t)k < fixed)
		return img_fail(r, IMG_ERR_CORRUPT,
				"truncated at offset %llu: record (type %u) declares %llu payload bytes, only %zd follow",
				img_ull(off), rh->type, img_ull(rh->len), k);
	avail = r->in_len - r->in_pos;
	if (avail >= rest) {
		r->in_pos += (size_t)rest;
	} else {
		r->in_pos = r->in_len;
		r->fpos += rest - avail;
	}
	r->crc_partial = 1;
	rec->type = rh->type;
	rec->version = rh->version;
	rec->offset = off;
	rec->len = rh->len;
	rec->data = r->payload;
	rec->skipped = 1;
	r->nbytes = off + sizeof(*rh) + rh->len;
	r->nrecords++;
	return 1;
}

int img_reader_next(struct img_reader *r, struct img_rec *rec)
{
	struct img_rec_hdr rh;
	uint64_t off;
	uint32_t crc, pcrc;
	ssize_t k;

next:
	off = r->nbytes;
	if (r->code != IMG_OK)
		return -1;
	if (r->nbytes == 0)	/* never opened: nothing was checked */
		return img_fail(r, IMG_ERR_IO, "the image reader is not open");
	if (!r->in)		/* DONE */
		return 0;

	k = img_read_bytes(r, &rh, sizeof(rh), off);
	if (k < 0)
		return -1;
	if (k == 0)
		return img_fail(r, IMG_ERR_CORRUPT,
				"truncated at offset %llu: image ends before its END record",
				img_ull(off));
	if ((size_t)k < sizeof(rh))
		return img_fail(r, IMG_ERR_CORRUPT,
				"truncated at offset %llu: image ends inside a record header (%zd of %zu bytes)",
				img_ull(off), k, sizeof(rh));

	/* Bound everything before reading the payload (invariant 2). */
	if (rh.type == 2)
		return img_fail(r, IMG_ERR_INCOMPAT,
				"record at offset %llu is an FD record of an earlier libckpt "
				"(before FILE records): save the process again with this version",
				img_ull(off));
	if (!img_type_known(rh.type))
		return img_fail(r, IMG_ERR_CORRUPT,
				"record at offset %llu has unknown type %u",
				img_ull(off), rh.type);
	if (rh.version != 1)
		return img_fail(r, IMG_ERR_CORRUPT,
				"record at offset %llu (type %u) has unsupported version %u",
				img_ull(off), rh.type, rh.version);
	if (rh.flags != 0 || rh.reserved != 0)
		return img_fail(r, IMG_ERR_CORRUPT,
				"record at offset %llu (type %u) is corrupt: reserved fields are not zero",
				img_ull(off), rh.type);
	if (rh.len > IMG_REC_MAX)
		return img_fail(r, IMG_ERR_CORRUPT,
				"record at offset %llu (type %u) is corrupt: length %llu exceeds the limit of %u",
				img_ull(off), rh.type, img_ull(rh.len), IMG_REC_MAX);
	rec->skipped = 0;
	if (r->skip_pages && rh.type == IMG_REC_PAGES && rh.len > sizeof(struct img_pages))
		return img_skip_payload(r, &rh, off, rec);
	if (img_read_payload(r, &rh, off) < 0)
		return -1;

	/* One pass over the payload serves both crcs (img_crc32c_combine). */
	pcrc = img_crc32c(0, r->view, (size_t)rh.len);
	crc = img_crc32c(0, &rh, offsetof(struct img_rec_hdr, crc));
	crc = img_crc32c_combine(crc, pcrc, rh.len);
	if (crc != rh.crc)
		return img_fail(r, IMG_ERR_CORRUPT,
				"record at offset %llu (type %u) is corrupt: checksum mismatch",
				img_ull(off), rh.type);

	rec->type = rh.type;
	rec->version = rh.version;
	rec->offset = off;
	rec->len = rh.len;
	rec->data = r->view;
	if (rh.type == IMG_REC_PAD && (rh.len >= 8 || !img_zero(r->view, (size_t)rh.len)))
		return img_fail(r, IMG_ERR_CORRUPT,
				"PAD record at offset %llu is corrupt: %llu bytes, or not zero",
				img_ull(off), img_ull(rh.len));

	if (rh.type == IMG_REC_END) {
		if (img_check_end(r, &rh, off) < 0)
			return -1;
		free(r->in);	/* -> DONE */
		r->in = NULL;
		r->in_cap = r->in_len = r->in_pos = 0;
		return 0;
	}
	r->crc = img_crc32c(r->crc, &rh, sizeof(rh));
	r->crc = img_crc32c_combine(r->crc, pcrc, rh.len);
	r->nbytes = off + sizeof(rh) + rh.len;
	r->nrecords++;
	if (rh.type == IMG_REC_PAD)	/* alignment only: no caller sees it */
		goto next;
	/* MPAGES: its page data follows, outside the record (img_mpages.c). */
	if (rh.type == IMG_REC_MPAGES && img_mpages_skip(r, rec) < 0)
		return -1;
	return 1;
}

int img_reader_map(struct img_reader *r)
{
	struct stat st;
	void *m;

	if (!r->is_file || r->skip_pages || r->map || fstat(r->fd, &st) < 0 || st.st_size <= 0)
		return -1;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, r->fd, 0);
	if (m == MAP_FAILED)
		return -1;
	r->map = m;
	r->map_len = (uint64_t)st.st_size;
	return 0;
}

void *img_reader_take_payload(struct img_reader *r, void *buf, size_t cap, size_t *taken_cap)
{
	void *p = r->payload;

	if (r->map) {		/* a view: no buffer to hand over or take */
		*taken_cap = 0;
		return NULL;
	}

	*taken_cap = r->cap;
	r->payload = buf;
	r->cap = buf ? cap : 0;
	return p;
}
