/*
 * test_img_skip.c - reading an image without its page data (the lazy
 * restore's index, libckpt/img_skip.c): the same records as a full read,
 * each skipped record read back by offset and checked, a corrupt or
 * changed record refused there, truncation still found, pipes unaffected.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libckpt/img.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

struct tsk_rec {
	uint32_t type;
	uint64_t offset, len;
	int skipped;
};

/* Every record of the image in fd, in skip mode or not: count, or -1. */
static int tsk_list(int fd, int skip, struct tsk_rec *out, int max, struct img_reader *r)
{
	struct img_rec rec;
	int n = 0, k;

	CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
	if (img_reader_open(r, fd) < 0)
		return -1;
	if (skip)
		img_reader_skip_pages(r);
	while ((k = img_reader_next(r, &rec)) == 1 && n < max) {
		if (rec.type == IMG_REC_PAGES)
			CU_ASSERT_PTR_NOT_NULL(img_get_pages(r, &rec));
		out[n++] = (struct tsk_rec){ rec.type, rec.offset, rec.len, rec.skipped };
	}
	return k == 0 ? n : -1;
}

static int tsk_sample_fd(void)
{
	size_t len;
	unsigned char *img = trw_sample_bytes(&len);
	int fd = trw_memfd();

	CU_ASSERT_FATAL(pwrite(fd, img, len, 0) == (ssize_t)len);
	free(img);
	return fd;
}

static void test_skip_same_records(void)
{
	struct tsk_rec full[32], skip[32];
	struct img_reader r;
	int fd = tsk_sample_fd(), nf, ns, nskipped = 0;

	nf = tsk_list(fd, 0, full, 32, &r);
	img_reader_close(&r);
	ns = tsk_list(fd, 1, skip, 32, &r);
	CU_ASSERT_EQUAL(r.code, IMG_OK);
	img_reader_close(&r);
	CU_ASSERT_FATAL(nf > 0);
	CU_ASSERT_EQUAL_FATAL(nf, ns);
	for (int i = 0; i < nf; i++) {
		CU_ASSERT_EQUAL(full[i].type, skip[i].type);
		CU_ASSERT_EQUAL(full[i].offset, skip[i].offset);
		CU_ASSERT_EQUAL(full[i].len, skip[i].len);
		CU_ASSERT_EQUAL(full[i].skipped, 0);
		/* Only PAGES with data are skipped (ZERO records have none). */
		CU_ASSERT_EQUAL(skip[i].skipped,
				skip[i].type == IMG_REC_PAGES && skip[i].len > sizeof(struct img_pages));
		nskipped += skip[i].skipped;
	}
	CU_ASSERT(nskipped >= 3);
	close(fd);
}

/* Each skipped record, read by offset, decodes as a full read decodes it. */
static void test_skip_pread_and_fetch(void)
{
	static unsigned char a[IMG_PAGES_MAX * IMG_PAGE_SIZE], b[IMG_PAGES_MAX * IMG_PAGE_SIZE];
	unsigned char *buf = malloc(1 << 20);
	struct img_reader r;
	struct img_rec rec;
	int fd = tsk_sample_fd(), k, n = 0;
	char err[320];

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(img_reader_open(&r, fd) == 0);
	img_reader_skip_pages(&r);
	while ((k = img_reader_next(&r, &rec)) == 1) {
		const struct img_pages *p, *q;

		if (!rec.skipped)
			continue;
		CU_ASSERT_EQUAL_FATAL(img_pread_record(fd, rec.offset, IMG_REC_PAGES, rec.len, buf,
						       err, sizeof(err)), 0);
		q = (const void *)(buf + sizeof(struct img_rec_hdr));
		CU_ASSERT_EQUAL(img_pages_decode(q, q + 1, rec.len - sizeof(*q), a, err, sizeof(err)), 0);
		/* ... and img_reader_fetch() gives the payload in place. */
		CU_ASSERT_EQUAL_FATAL(img_reader_fetch(&r, &rec), 0);
		CU_ASSERT_EQUAL(rec.skipped, 0);
		p = img_get_pages(&r, &rec);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL(img_pages_decode(p, p + 1, rec.len - sizeof(*p), b, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(memcmp(a, b, (size_t)p->npages * IMG_PAGE_SIZE), 0);
		n++;
	}
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT(n >= 3);
	/* The record's length must be what the index said. */
	CU_ASSERT_EQUAL(img_pread_record(fd, rec.offset, IMG_REC_PAGES, 12345, buf, err, sizeof(err)), -1);
	img_reader_close(&r);
	free(buf);
	close(fd);
}

/* A flipped byte of page data: not seen by the skipping reader, refused by offset. */
static void test_skip_corrupt_record(void)
{
	struct tsk_rec recs[32];
	struct img_reader r;
	unsigned char *buf = malloc(1 << 20), x;
	int fd = tsk_sample_fd(), n, victim = -1;
	char err[320];

	CU_ASSERT_FATAL(buf != NULL);
	n = tsk_list(fd, 1, recs, 32, &r);
	img_reader_close(&r);
	for (int i = 0; i < n && victim < 0; i++)
		if (recs[i].skipped)
			victim = i;
	CU_ASSERT_FATAL(victim >= 0);
	off_t at = (off_t)(recs[victim].offset + sizeof(struct img_rec_hdr) +
			   sizeof(struct img_pages) + 7);
	CU_ASSERT_FATAL(pread(fd, &x, 1, at) == 1);
	x ^= 0x10;
	CU_ASSERT_FATAL(pwrite(fd, &x, 1, at) == 1);

	CU_ASSERT_EQUAL(tsk_list(fd, 1, recs, 32, &r), n);	/* END's counts still hold */
	img_reader_close(&r);
	CU_ASSERT_EQUAL(img_pread_record(fd, recs[victim].offset, IMG_REC_PAGES, recs[victim].len,
					 buf, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "checksum mismatch"));
	/* A full read still refuses the image. */
	CU_ASSERT_EQUAL(tsk_list(fd, 0, recs, 32, &r), -1);
	CU_ASSERT_EQUAL(r.code, IMG_ERR_CORRUPT);
	img_reader_close(&r);
	free(buf);
	close(fd);
}

/* Cut inside a skipped payload: the skipping reader still finds the end missing. */
static void test_skip_truncated(void)
{
	struct tsk_rec recs[32];
	struct img_reader r;
	int fd = tsk_sample_fd(), n, last = -1;

	n = tsk_list(fd, 1, recs, 32, &r);
	img_reader_close(&r);
	for (int i = 0; i < n; i++)
		if (recs[i].skipped)
			last = i;
	CU_ASSERT_FATAL(last >= 0);
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)(recs[last].offset + 60)) == 0);
	CU_ASSERT_EQUAL(tsk_list(fd, 1, recs, 32, &r), -1);
	CU_ASSERT_EQUAL(r.code, IMG_ERR_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "truncated"));
	img_reader_close(&r);
	close(fd);
}

/* A pipe cannot skip: skip mode is a no-op there and every payload is read. */
static void test_skip_pipe_noop(void)
{
	size_t len;
	unsigned char *img = trw_sample_bytes(&len);
	struct img_reader r;
	struct img_rec rec;
	int p[2], k;

	CU_ASSERT_FATAL(pipe(p) == 0);
	CU_ASSERT_FATAL(len < 65536 && write(p[1], img, len) == (ssize_t)len);
	close(p[1]);
	CU_ASSERT_FATAL(img_reader_open(&r, p[0]) == 0);
	img_reader_skip_pages(&r);
	CU_ASSERT_EQUAL(r.skip_pages, 0);
	while ((k = img_reader_next(&r, &rec)) == 1)
		CU_ASSERT_EQUAL(rec.skipped, 0);
	CU_ASSERT_EQUAL(k, 0);
	img_reader_close(&r);
	close(p[0]);
	free(img);
}

UNIT_SUITE(img_skip,
	{ "skip: same records as a full read", test_skip_same_records },
	{ "skip: records read back by offset and fetched", test_skip_pread_and_fetch },
	{ "skip: a corrupt record is refused by offset", test_skip_corrupt_record },
	{ "skip: truncation inside a skipped payload", test_skip_truncated },
	{ "skip: a pipe reads everything", test_skip_pipe_noop },
);
