/*
 * img_mpages.c - reading MPAGES records: the page runs of a mappable
 * image (format: img_format.h, struct img_mpages).
 *
 * An MPAGES record is the only record whose bytes do not all belong to
 * it: its page data follows the payload, page aligned, so that
 * ckpt-restart can mmap it (MAP_PRIVATE) instead of reading it.  The
 * reader therefore checks the struct, then steps over the data:
 *   - on a regular file with lseek, so reading a 1 GiB mappable image
 *     costs no more than reading its metadata;
 *   - on a pipe by reading and dropping it (ckpt-info can still show
 *     such an image; ckpt-restart refuses, it has nothing to map).
 * The data is covered by data_crc only (not by the record crc nor by the
 * END record's image crc): img_mpages_verify() reads it and checks.
 *
 * Invariants: after img_mpages_skip(), r->nbytes is the image offset of
 * the byte after the data (where the next record starts) and the
 * read-ahead buffer holds bytes from exactly there, or nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libckpt/img.h"

#define MP_USER_END	0x800000000000ull	/* x86_64 4-level user VA */
#define MP_VERIFY_BUF	(1u << 20)

__attribute__((format(printf, 3, 4)))
static int mp_fail(struct img_reader *r, enum img_err code, const char *fmt, ...)
{
	va_list ap;

	if (r->code == IMG_OK) {	/* the first cause wins, as in img_read.c */
		r->code = code;
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof(r->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

const struct img_mpages *img_get_mpages(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_mpages *p = rec->data;
	unsigned long long off = rec->offset;
	const unsigned char *pad;

	if (rec->type != IMG_REC_MPAGES || !p || rec->len < sizeof(*p)) {
		mp_fail(r, IMG_ERR_CORRUPT, "record at offset %llu is not a valid MPAGES record", off);
		return NULL;
	}
	if (!(r->hdr.flags & IMG_F_MAPPABLE)) {
		mp_fail(r, IMG_ERR_CORRUPT,
			"MPAGES record at offset %llu in an image not marked mappable", off);
		return NULL;
	}
	if (p->npages == 0 || p->npages > IMG_MPAGES_MAX) {
		mp_fail(r, IMG_ERR_CORRUPT,
			"MPAGES record at offset %llu is corrupt: %llu pages (must be 1..%u)",
			off, (unsigned long long)p->npages, IMG_MPAGES_MAX);
		return NULL;
	}
	if (p->addr % IMG_PAGE_SIZE || p->addr >= MP_USER_END ||
	    p->npages * IMG_PAGE_SIZE > MP_USER_END - p->addr) {
		mp_fail(r, IMG_ERR_CORRUPT, "MPAGES record at offset %llu is corrupt: bad address 0x%llx",
			off, (unsigned long long)p->addr);
		return NULL;
	}
	/* The data starts right after the payload, on a page boundary. */
	if (p->data_off != rec->offset + sizeof(struct img_rec_hdr) + rec->len ||
	    p->data_off % IMG_PAGE_SIZE || rec->len - sizeof(*p) >= IMG_PAGE_SIZE) {
		mp_fail(r, IMG_ERR_CORRUPT,
			"MPAGES record at offset %llu is corrupt: data offset %llu does not follow "
			"its %llu-byte payload on a page boundary", off,
			(unsigned long long)p->data_off, (unsigned long long)rec->len);
		return NULL;
	}
	pad = (const unsigned char *)(p + 1);
	for (size_t i = 0; i < rec->len - sizeof(*p); i++)
		if (pad[i]) {
			mp_fail(r, IMG_ERR_CORRUPT,
				"MPAGES record at offset %llu is corrupt: padding is not zero", off);
			return NULL;
		}
	if (p->reserved) {
		mp_fail(r, IMG_ERR_CORRUPT,
			"MPAGES record at offset %llu is corrupt: reserved field is not zero", off);
		return NULL;
	}
	return p;
}

int img_mpages_skip(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_mpages *p = img_get_mpages(r, rec);
	uint64_t n, avail;

	if (!p)
		return -1;
	n = p->npages * IMG_PAGE_SIZE;
	avail = r->in_len - r->in_pos;
	if (n <= avail) {
		r->in_pos += n;
	} else if (r->skip_pages) {
		/* skipping payloads: reads are preads at fpos (img_skip.c) */
		r->in_len = r->in_pos = 0;
		r->fpos = (uint64_t)r->base + p->data_off + n;
	} else if (r->is_file) {
		/* Past EOF is fine here: the next read finds the truncation. */
		ssize_t k;

		if (lseek(r->fd, r->base + (off_t)(p->data_off + n), SEEK_SET) < 0)
			return mp_fail(r, IMG_ERR_IO, "cannot seek past the pages at offset %llu: %s",
				       (unsigned long long)p->data_off, strerror(errno));
		/*
		 * One page, not a full read-ahead: the next record starts on a
		 * page boundary, and if it is MPAGES again it ends on the next
		 * one, so a full read-ahead would mostly copy page data that is
		 * skipped anyway (256 KiB per run: 16 MiB for a 1 GiB image).
		 */
		do
			k = read(r->fd, r->in, IMG_PAGE_SIZE < r->in_cap ? IMG_PAGE_SIZE : r->in_cap);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return mp_fail(r, IMG_ERR_IO, "read error at offset %llu: %s",
				       (unsigned long long)(p->data_off + n), strerror(errno));
		r->in_len = (size_t)k;
		r->in_pos = 0;
	} else {
		uint64_t left = n - avail;

		r->in_len = r->in_pos = 0;
		while (left > 0) {
			size_t want = left < r->in_cap ? (size_t)left : r->in_cap;
			ssize_t k = read(r->fd, r->in, want);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return mp_fail(r, IMG_ERR_IO, "read error at offset %llu: %s",
					       (unsigned long long)(p->data_off + n - left),
					       strerror(errno));
			if (k == 0)
				return mp_fail(r, IMG_ERR_CORRUPT,
					       "truncated at offset %llu: image ends inside the pages of the MPAGES record at offset %llu",
					       (unsigned long long)(p->data_off + n - left),
					       (unsigned long long)rec->offset);
			left -= (uint64_t)k;
		}
	}
	r->nbytes = p->data_off + n;
	return 0;
}

int img_mpages_verify(int fd, int64_t base, const struct img_mpages *p,
		      char *err, size_t errlen)
{
	uint64_t n = p->npages * IMG_PAGE_SIZE, done = 0;
	unsigned char *buf = malloc(MP_VERIFY_BUF);
	uint32_t crc = 0;

	if (!buf) {
		snprintf(err, errlen, "pages at 0x%llx: out of memory to verify them",
			 (unsigned long long)p->addr);
		return -1;
	}
	while (done < n) {
		size_t want = n - done < MP_VERIFY_BUF ? (size_t)(n - done) : MP_VERIFY_BUF;
		ssize_t k = pread(fd, buf, want, base + (off_t)(p->data_off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "pages at 0x%llx: %s at offset %llu",
				 (unsigned long long)p->addr, k < 0 ? strerror(errno) : "the image ends",
				 (unsigned long long)(p->data_off + done));
			free(buf);
			return -1;
		}
		crc = img_crc32c(crc, buf, (size_t)k);
		done += (uint64_t)k;
	}
	free(buf);
	if (crc != p->data_crc) {
		snprintf(err, errlen, "pages at 0x%llx (%llu pages at offset %llu) are corrupt: "
			 "data checksum mismatch (stored 0x%08x, computed 0x%08x)",
			 (unsigned long long)p->addr, (unsigned long long)p->npages,
			 (unsigned long long)p->data_off, p->data_crc, crc);
		return -1;
	}
	return 0;
}
