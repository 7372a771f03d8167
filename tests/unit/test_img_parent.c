/*
 * test_img_parent.c - the PARENT record of incremental images: written
 * and read back, every malformed variant refused with a message, every
 * flipped byte of such an image refused; and how libckpt names the image
 * it writes (the path a child image will store).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libckpt/img.h"
#include "libckpt/ckpt_incr.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

#define TP_PATH	"/images/run.7"

/* A PARENT payload: struct, nranges ranges, path. */
static size_t tp_payload(unsigned char *buf, const struct img_range *rg, uint32_t n,
			 const char *path, size_t path_len)
{
	struct img_parent p = { .ctime_ns = 1234567890123ull, .pid = 4242, .hdr_crc = 0xdeadbeef,
				.nranges = n, .path_len = (uint32_t)path_len };

	memcpy(buf, &p, sizeof(p));
	memcpy(buf + sizeof(p), rg, n * sizeof(*rg));
	memcpy(buf + sizeof(p) + n * sizeof(*rg), path, path_len);
	return sizeof(p) + n * sizeof(*rg) + path_len;
}

static const struct img_range tp_good[2] = {
	{ 0x400000, 0x600000 }, { 0x7f0000000000, 0x7f0000010000 },
};

/* img_get_parent on a payload; NULL with err filled when refused. */
static const struct img_parent *tp_check(unsigned char *buf, size_t len, char *err)
{
	static struct img_reader r;
	struct img_rec rec = { .type = IMG_REC_PARENT, .version = 1, .offset = 128,
			       .len = len, .data = buf };
	const struct img_parent *p;

	memset(&r, 0, sizeof(r));
	p = img_get_parent(&r, &rec);
	strcpy(err, r.err);
	if (!p)
		CU_ASSERT_EQUAL(r.code, IMG_ERR_CORRUPT);
	return p;
}

static void test_parent_valid(void)
{
	unsigned char buf[256];
	char err[256];
	size_t len = tp_payload(buf, tp_good, 2, TP_PATH, strlen(TP_PATH));
	const struct img_parent *p = tp_check(buf, len, err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->nranges, 2);
	CU_ASSERT_EQUAL(p->pid, 4242);
	CU_ASSERT(!memcmp((const char *)(p + 1) + 2 * sizeof(struct img_range), TP_PATH,
			  strlen(TP_PATH)));
	/* no inherited range at all is valid too (everything saved whole) */
	len = tp_payload(buf, NULL, 0, "p", 1);
	CU_ASSERT_PTR_NOT_NULL(tp_check(buf, len, err));
}

static void test_parent_bad_ranges(void)
{
	static const struct { struct img_range rg[2]; const char *why; } bad[] = {
		{ { { 0x600000, 0x400000 }, { 0x700000, 0x800000 } }, "start after end" },
		{ { { 0x400000, 0x400000 }, { 0x700000, 0x800000 } }, "empty" },
		{ { { 0x400001, 0x600000 }, { 0x700000, 0x800000 } }, "unaligned start" },
		{ { { 0x400000, 0x600800 }, { 0x700000, 0x800000 } }, "unaligned end" },
		{ { { 0x400000, 0x600000 }, { 0x500000, 0x800000 } }, "overlapping" },
		{ { { 0x700000, 0x800000 }, { 0x400000, 0x600000 } }, "out of order" },
		{ { { 0x400000, 0x600000 }, { 0x7ffffffff000, 0x800000001000 } }, "beyond user space" },
	};
	unsigned char buf[256];
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = tp_payload(buf, bad[i].rg, 2, TP_PATH, strlen(TP_PATH));

		CU_ASSERT_PTR_NULL(tp_check(buf, len, err));
		if (!strstr(err, "is bad or out of order"))
			fprintf(stderr, "%s: %s\n", bad[i].why, err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "PARENT record at offset 128 is corrupt"));
	}
}

static void test_parent_bad_lengths(void)
{
	unsigned char buf[8192];
	char err[256];
	struct img_parent *p = (struct img_parent *)buf;
	size_t len = tp_payload(buf, tp_good, 2, TP_PATH, strlen(TP_PATH));

	/* one byte too many, one too few, shorter than the struct */
	CU_ASSERT_PTR_NULL(tp_check(buf, len + 1, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "its fields say"));
	CU_ASSERT_PTR_NULL(tp_check(buf, len - 1, err));
	CU_ASSERT_PTR_NULL(tp_check(buf, sizeof(*p) - 1, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too short"));
	/* a count that would reach far beyond the payload */
	p->nranges = 0x0fffffff;
	CU_ASSERT_PTR_NULL(tp_check(buf, len, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "inherited ranges (limit"));
	/* an empty path, a NUL in it, a path too long */
	len = tp_payload(buf, tp_good, 2, "", 0);
	CU_ASSERT_PTR_NULL(tp_check(buf, len, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty path"));
	len = tp_payload(buf, tp_good, 2, "a\0b", 3);
	CU_ASSERT_PTR_NULL(tp_check(buf, len, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL"));
	memset(buf + 4000, 'x', 4097);
	p->path_len = 4097;
	p->nranges = 0;
	CU_ASSERT_PTR_NULL(tp_check(buf, sizeof(*p) + 4097, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "limit 4096"));
}

/* header (incremental) + PARENT + END into fd. */
static void tp_write_image(int fd)
{
	unsigned char wbuf[4096], payload[256];
	struct img_writer w;
	struct img_header h = { .flags = IMG_F_INCREMENTAL, .ctime_ns = 1, .pid = 4242 };
	size_t len = tp_payload(payload, tp_good, 2, TP_PATH, strlen(TP_PATH));

	img_writer_init(&w, fd, wbuf, sizeof(wbuf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_PARENT, payload, sizeof(struct img_parent),
			 payload + sizeof(struct img_parent), len - sizeof(struct img_parent));
	CU_ASSERT_EQUAL_FATAL(img_write_end(&w), 0);
}

static void test_parent_roundtrip_and_flips(void)
{
	int fd = trw_memfd();
	unsigned char img[1024];
	ssize_t n;
	enum img_err code;
	char err[256];

	tp_write_image(fd);
	n = pread(fd, img, sizeof(img), 0);
	CU_ASSERT_FATAL(n > 128 && n < (ssize_t)sizeof(img));
	lseek(fd, 0, SEEK_SET);
	CU_ASSERT_EQUAL_FATAL(trw_parse(fd, &code, err, sizeof(err)), 0);
	for (ssize_t i = 0; i < n; i++) {
		for (int x = 0; x < 2; x++) {
			img[i] ^= x ? 0xff : 0x01;
			CU_ASSERT_FATAL(ftruncate(fd, 0) == 0);
			CU_ASSERT_FATAL(pwrite(fd, img, n, 0) == n);
			lseek(fd, 0, SEEK_SET);
			CU_ASSERT_NOT_EQUAL_FATAL(trw_parse(fd, &code, err, sizeof(err)), 0);
			img[i] ^= x ? 0xff : 0x01;
		}
	}
	close(fd);
}

UNIT_SUITE(img_parent,
	   { "PARENT: valid records", test_parent_valid },
	   { "PARENT: bad ranges refused", test_parent_bad_ranges },
	   { "PARENT: bad lengths and paths refused", test_parent_bad_lengths },
	   { "PARENT: round trip, every flipped byte refused", test_parent_roundtrip_and_flips });
