/*
 * test_img.c - the image codecs: CRC32C, our snappy encoder (decoded by
 * libsnappy, the reference), and img_pages_decode().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>
#include "libckpt/img.h"
#include "tests/unit/unit.h"

/* ---- helpers ---- */

/* Bitwise CRC32C: the definition, to check the fast paths against. */
static uint32_t timg_crc_ref(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* ---- crc32c ---- */

static void test_crc_vector(void)
{
	CU_ASSERT_EQUAL(img_crc32c(0, "123456789", 9), 0xE3069283u);
	CU_ASSERT_EQUAL(img_crc32c(0, "", 0), 0u);
	CU_ASSERT_EQUAL(img_crc32c(0, NULL, 0), 0u);
	/* iSCSI test vector (RFC 3720 B.4): 32 bytes of zero. */
	static const unsigned char zeros[32];
	CU_ASSERT_EQUAL(img_crc32c(0, zeros, 32), 0x8A9136AAu);
}

static void test_crc_chaining(void)
{
	unsigned char buf[1000];

	unit_fill_random(buf, sizeof(buf));
	uint32_t whole = img_crc32c(0, buf, sizeof(buf));
	CU_ASSERT_EQUAL(whole, timg_crc_ref(0, buf, sizeof(buf)));
	for (size_t cut = 0; cut <= sizeof(buf); cut += 7) {
		uint32_t c = img_crc32c(img_crc32c(0, buf, cut), buf + cut, sizeof(buf) - cut);
		CU_ASSERT_EQUAL_FATAL(c, whole);
	}
}

static void test_crc_lengths_alignments(void)
{
	unsigned char buf[300];

	unit_fill_random(buf, sizeof(buf));
	for (size_t off = 0; off < 9; off++)
		for (size_t n = 0; n + off <= sizeof(buf); n += 3)
			CU_ASSERT_EQUAL_FATAL(img_crc32c(0, buf + off, n),
					      timg_crc_ref(0, buf + off, n));
}

/* The three-stream path (4096 bytes and more): lengths around its cuts,
 * odd offsets, a chained start, against the table. */
static void test_crc_3way(void)
{
	size_t cap = 3 * 65536 + 64;
	unsigned char *buf = malloc(cap);
	static const size_t lens[] = { 4095, 4096, 4097, 4103, 4104, 4119, 4120, 12345,
				       65536, 65536 + 23, 3 * 65536, 3 * 65536 + 17 };

	unit_fill_random(buf, cap);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t off = 0; off < 9; off += 4) {
			uint32_t ref = timg_crc_ref(0, buf + off, lens[i]);

			CU_ASSERT_EQUAL_FATAL(img_crc32c(0, buf + off, lens[i]), ref);
			CU_ASSERT_EQUAL_FATAL(img_crc32c(img_crc32c(0, buf + off, 5), buf + off + 5,
							 lens[i] - 5), ref);
		}
	free(buf);
}

/* ---- snappy encoder ---- */

static uint16_t timg_scratch[IMG_SNAPPY_SCRATCH / 2];

/* Compress with our encoder, decode with libsnappy, compare; 1 if ok. */
static int timg_snappy_roundtrip(const unsigned char *in, size_t n, size_t *clen)
{
	size_t bound = img_snappy_bound(n);
	unsigned char *out = malloc(bound + 64);
	unsigned char *dec = malloc(n + 1);
	size_t len, dlen = n;
	int ok = 1;

	/* Canary past the bound: the encoder must never write there. */
	memset(out + bound, 0xA5, 64);
	len = img_snappy_compress(in, n, out, timg_scratch);
	if (len == 0 || len > bound)
		ok = 0;
	for (size_t i = 0; i < 64; i++)
		if (out[bound + i] != 0xA5)
			ok = 0;
	if (ok && snappy_validate_compressed_buffer((char *)out, len) != SNAPPY_OK)
		ok = 0;
	if (ok && (snappy_uncompress((char *)out, len, (char *)dec, &dlen) != SNAPPY_OK ||
		   dlen != n || memcmp(dec, in, n) != 0))
		ok = 0;
	if (clen)
		*clen = len;
	free(out);
	free(dec);
	return ok;
}

static void test_snappy_short(void)
{
	unsigned char buf[101];

	for (size_t n = 0; n <= 100; n++) {
		unit_fill_random(buf, n);
		CU_ASSERT_FATAL(timg_snappy_roundtrip(buf, n, NULL));
		unit_fill_text(buf, n);
		CU_ASSERT_FATAL(timg_snappy_roundtrip(buf, n, NULL));
		memset(buf, 'x', n);
		CU_ASSERT_FATAL(timg_snappy_roundtrip(buf, n, NULL));
	}
}

static void test_snappy_random(void)
{
	size_t n = 256 << 10, clen;
	unsigned char *buf = malloc(n);

	unit_fill_random(buf, n);
	CU_ASSERT(timg_snappy_roundtrip(buf, n, &clen));
	CU_ASSERT(clen <= img_snappy_bound(n));
	CU_ASSERT(clen >= n);		/* random does not compress */
	free(buf);
}

static void test_snappy_text(void)
{
	size_t n = 256 << 10, clen;
	unsigned char *buf = malloc(n);

	unit_fill_text(buf, n);
	CU_ASSERT(timg_snappy_roundtrip(buf, n, &clen));
	CU_ASSERT(clen < n / 2);	/* text does */
	free(buf);
}

static void test_snappy_zero(void)
{
	size_t n = 256 << 10, clen;
	unsigned char *buf = calloc(1, n);

	CU_ASSERT(timg_snappy_roundtrip(buf, n, &clen));
	CU_ASSERT(clen < n / 16);
	free(buf);
}

/* Fragment edges, odd sizes, and mixtures of the three kinds of data. */
static void test_snappy_sizes_and_mixtures(void)
{
	static const size_t sizes[] = {
		4095, 4096, 4097, 65535, 65536, 65537, 131071, 131072, 131073,
		64 * 4096, 64 * 4096 + 13,
	};
	size_t max = 64 * 4096 + 13;
	unsigned char *buf = malloc(max);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		for (size_t at = 0; at < n; ) {
			size_t run = 1 + unit_rand() % 5000;
			int kind = (int)(unit_rand() % 4);

			if (run > n - at)
				run = n - at;
			if (kind == 0)
				unit_fill_random(buf + at, run);
			else if (kind == 1)
				unit_fill_text(buf + at, run);
			else if (kind == 2)
				memset(buf + at, 0, run);
			else if (at > 0) {	/* a repeat of earlier bytes */
				size_t from = unit_rand() % at;

				for (size_t k = 0; k < run; k++)
					buf[at + k] = buf[from + k];
			} else
				memset(buf + at, 0x55, run);
			at += run;
		}
		CU_ASSERT_FATAL(timg_snappy_roundtrip(buf, n, NULL));
	}
	free(buf);
}

/* Long matches (> 64 bytes, 65..67 bytes) and 1-byte-offset copies. */
static void test_snappy_copy_lengths(void)
{
	unsigned char buf[4096];

	for (size_t period = 1; period < 80; period++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (unsigned char)(i % period * 37);
		CU_ASSERT_FATAL(timg_snappy_roundtrip(buf, sizeof(buf), NULL));
	}
	for (size_t len = 60; len < 140; len++) {
		unit_fill_random(buf, 200);
		memcpy(buf + 200, buf, len);
		unit_fill_random(buf + 200 + len, 100);
		CU_ASSERT_FATAL(timg_snappy_roundtrip(buf, 300 + len, NULL));
	}
}

static void test_snappy_bound(void)
{
	CU_ASSERT(img_snappy_bound(0) >= 1);
	for (size_t n = 0; n < 1000000; n += 4093)
		CU_ASSERT_FATAL(img_snappy_bound(n) >= snappy_max_compressed_length(n));
}

/* ---- img_pages_decode ---- */

static void test_pages_decode_codecs(void)
{
	enum { N = 3 };
	size_t raw = N * IMG_PAGE_SIZE;
	unsigned char *src = malloc(raw), *dst = malloc(raw);
	unsigned char *comp = malloc(img_snappy_bound(raw));
	struct img_pages p = { .addr = 0x10000, .npages = N };
	char err[200];
	size_t clen;

	unit_fill_text(src, raw);

	p.codec = IMG_CODEC_RAW;
	CU_ASSERT_EQUAL(img_pages_decode(&p, src, raw, dst, err, sizeof(err)), 0);
	CU_ASSERT(memcmp(src, dst, raw) == 0);

	p.codec = IMG_CODEC_SNAPPY;
	clen = img_snappy_compress(src, raw, comp, timg_scratch);
	memset(dst, 0xEE, raw);
	CU_ASSERT_EQUAL(img_pages_decode(&p, comp, clen, dst, err, sizeof(err)), 0);
	CU_ASSERT(memcmp(src, dst, raw) == 0);

	p.codec = IMG_CODEC_ZERO;
	memset(dst, 0xEE, raw);
	CU_ASSERT_EQUAL(img_pages_decode(&p, NULL, 0, dst, err, sizeof(err)), 0);
	for (size_t i = 0; i < raw; i++)
		if (dst[i])
			CU_FAIL_FATAL("ZERO codec left a nonzero byte");
	free(src);
	free(dst);
	free(comp);
}

static void test_pages_decode_bad(void)
{
	size_t raw = 2 * IMG_PAGE_SIZE;
	unsigned char *src = malloc(raw), *dst = malloc(raw);
	unsigned char *comp = malloc(img_snappy_bound(raw));
	struct img_pages p = { .addr = 0x20000, .npages = 2 };
	char err[200];
	size_t clen;

	unit_fill_text(src, raw);

	p.codec = IMG_CODEC_RAW;
	CU_ASSERT_EQUAL(img_pages_decode(&p, src, raw - 1, dst, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "raw data is 8191 bytes, expected 8192"));
	CU_ASSERT_EQUAL(img_pages_decode(&p, src, 0, dst, err, sizeof(err)), -1);

	p.codec = IMG_CODEC_ZERO;
	CU_ASSERT_EQUAL(img_pages_decode(&p, src, 1, dst, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "0x20000"));

	/* Valid snappy, but one page short. */
	p.codec = IMG_CODEC_SNAPPY;
	clen = img_snappy_compress(src, raw - IMG_PAGE_SIZE, comp, timg_scratch);
	CU_ASSERT_EQUAL(img_pages_decode(&p, comp, clen, dst, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "decodes to 4096 bytes, expected 8192"));

	/* Right length prefix, broken body: truncate and garble. */
	clen = img_snappy_compress(src, raw, comp, timg_scratch);
	CU_ASSERT_EQUAL(img_pages_decode(&p, comp, clen / 2, dst, err, sizeof(err)), -1);
	for (size_t i = 3; i < clen; i++)
		comp[i] = 0xff;
	CU_ASSERT_EQUAL(img_pages_decode(&p, comp, clen, dst, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(img_pages_decode(&p, comp, 0, dst, err, sizeof(err)), -1);
	comp[0] = 0xff; comp[1] = 0xff; comp[2] = 0xff; comp[3] = 0xff; comp[4] = 0xff;
	CU_ASSERT_EQUAL(img_pages_decode(&p, comp, 5, dst, err, sizeof(err)), -1);

	p.codec = 7;
	CU_ASSERT_EQUAL(img_pages_decode(&p, src, raw, dst, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown codec 7"));

	p.codec = IMG_CODEC_RAW;
	p.npages = 0;
	CU_ASSERT_EQUAL(img_pages_decode(&p, src, 0, dst, err, sizeof(err)), -1);
	p.npages = IMG_PAGES_MAX + 1;
	CU_ASSERT_EQUAL(img_pages_decode(&p, src, 0, dst, err, sizeof(err)), -1);
	free(src);
	free(dst);
	free(comp);
}

UNIT_SUITE(img_codec,
	{ "crc32c check value", test_crc_vector },
	{ "crc32c chaining", test_crc_chaining },
	{ "crc32c every length and alignment", test_crc_lengths_alignments },
	{ "crc32c three streams", test_crc_3way },
	{ "snappy 0..100 bytes", test_snappy_short },
	{ "snappy 256 KiB random", test_snappy_random },
	{ "snappy 256 KiB text", test_snappy_text },
	{ "snappy 256 KiB zero", test_snappy_zero },
	{ "snappy sizes and mixtures", test_snappy_sizes_and_mixtures },
	{ "snappy copy lengths", test_snappy_copy_lengths },
	{ "snappy bound", test_snappy_bound },
	{ "pages decode, each codec", test_pages_decode_codecs },
	{ "pages decode, bad input", test_pages_decode_bad },
);
