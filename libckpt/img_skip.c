/*
 * img_skip.c - reading an image without its page data, and one record
 * later, by offset: what a lazy restore (ckpt-restart --lazy) needs.
 *
 * A lazy restore reads the metadata and only the 16-byte struct img_pages
 * of each PAGES record (img_read.c skips the rest), so that the process
 * can run before its memory has been read; the page server reads each
 * PAGES record again, whole, with img_pread_record() when it is needed.
 *
 * Invariants:
 *  1. No page data reaches memory unchecked: a skipped record's checksum
 *     is verified by img_pread_record() (or img_reader_fetch()), which
 *     reads it whole, before anything decodes it.
 *  2. The header of a record read by offset must say what the index
 *     said (type and length): an index built from one file never serves
 *     another.
 * Cost: one pread of IMG_SKIP_AHEAD bytes per skipped record while
 * indexing (no lseek: the reader keeps the file offset itself); page data
 * is read once, by whoever needs it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libckpt/img.h"

/*
 * A record header and a struct img_pages, with room to spare: skipping a
 * record reads nothing of its data.  Longer reads (metadata payloads) go
 * straight to their buffer.
 */
#define IMG_SKIP_AHEAD	128u

void img_reader_skip_pages(struct img_reader *r)
{
	if (!r->is_file)
		return;
	off_t pos = lseek(r->fd, 0, SEEK_CUR);

	if (pos < 0)
		return;
	r->fpos = (uint64_t)pos;
	r->skip_pages = 1;
	r->ahead = IMG_SKIP_AHEAD < r->in_cap ? IMG_SKIP_AHEAD : r->in_cap;
}

int img_pread_record(int fd, uint64_t off, uint32_t type, uint64_t len, void *buf,
		     char *err, size_t errlen)
{
	struct img_rec_hdr rh;
	size_t want = sizeof(rh) + (size_t)len, got = 0;
	uint32_t crc;

	while (got < want) {
		ssize_t k = pread(fd, (char *)buf + got, want - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errlen, "read error at offset %llu: %s",
				 (unsigned long long)(off + got), strerror(errno));
			return -1;
		}
		if (k == 0) {
			snprintf(err, errlen, "truncated: the record at offset %llu ends at %llu",
				 (unsigned long long)off, (unsigned long long)(off + got));
			return -1;
		}
		got += (size_t)k;
	}
	memcpy(&rh, buf, sizeof(rh));
	if (rh.type != type || rh.len != len) {
		snprintf(err, errlen, "the record at offset %llu changed (type %u, %llu bytes; "
			 "expected type %u, %llu bytes): was the image replaced?",
			 (unsigned long long)off, rh.type, (unsigned long long)rh.len, type,
			 (unsigned long long)len);
		return -1;
	}
	crc = img_crc32c(0, &rh, offsetof(struct img_rec_hdr, crc));
	crc = img_crc32c(crc, (char *)buf + sizeof(rh), (size_t)len);
	if (crc != rh.crc) {
		snprintf(err, errlen, "record at offset %llu (type %u) is corrupt: checksum mismatch",
			 (unsigned long long)off, type);
		return -1;
	}
	return 0;
}

int img_reader_fetch(struct img_reader *r, struct img_rec *rec)
{
	size_t need = sizeof(struct img_rec_hdr) + (size_t)rec->len;
	unsigned char *p;

	if (r->code != IMG_OK)
		return -1;
	if (!rec->skipped)
		return 0;
	/* The payload goes at r->payload: read header + payload, then slide. */
	if (r->cap < need) {
		p = realloc(r->payload, need);
		if (!p) {
			r->code = IMG_ERR_IO;
			snprintf(r->err, sizeof(r->err), "out of memory for the record at offset %llu",
				 (unsigned long long)rec->offset);
			return -1;
		}
		r->payload = p;
		r->cap = need;
	}
	if (img_pread_record(r->fd, rec->offset, rec->type, rec->len, r->payload, r->err,
			     sizeof(r->err)) < 0) {
		r->code = IMG_ERR_CORRUPT;
		return -1;
	}
	memmove(r->payload, r->payload + sizeof(struct img_rec_hdr), (size_t)rec->len);
	rec->data = r->payload;
	rec->skipped = 0;
	return 0;
}
