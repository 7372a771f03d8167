/*
 * test_snappy_dec.c - our Snappy decoder (libckpt/img_snappy_dec.c)
 * against libsnappy, the reference: it decodes libsnappy's compressor
 * output and our encoder's byte for byte, hand-made blocks with every
 * kind of element the same as libsnappy does, and refuses malformed
 * blocks without touching memory outside its buffers.
 *
 * This binary has no ASan, so the buffers here are guarded instead: each
 * ends right before a PROT_NONE page (a read or write past the end
 * crashes the test) and starts after 64 canary bytes (a write before the
 * start is found).  The fuzz target tests/fuzz/fuzz_snappy.c runs the
 * same comparisons under ASan on arbitrary input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <snappy-c.h>
#include "libckpt/img.h"
#include "tests/unit/unit.h"

/* ---- helpers ---- */

/* Runs of random bytes, text, zeros, repeats of earlier bytes and short
 * periodic patterns (the small-offset copies). */
static void tsd_fill_mixture(unsigned char *p, size_t n)
{
	for (size_t at = 0; at < n;) {
		size_t run = 1 + unit_rand() % 3000;
		int kind = (int)(unit_rand() % 5);

		if (run > n - at)
			run = n - at;
		if (kind == 0)
			unit_fill_random(p + at, run);
		else if (kind == 1)
			unit_fill_text(p + at, run);
		else if (kind == 2)
			memset(p + at, 0, run);
		else if (kind == 3 && at > 0) {
			size_t from = unit_rand() % at;

			for (size_t k = 0; k < run; k++)
				p[at + k] = p[from + k];
		} else {
			size_t period = 1 + unit_rand() % 12;

			unit_fill_random(p + at, run < period ? run : period);
			for (size_t k = period; k < run; k++)
				p[at + k] = p[at + k - period];
		}
		at += run;
	}
}

#define TSD_CANARY	64
#define TSD_ARENA	((size_t)17 << 20)	/* the largest block here: 16 MiB + a bit */

/*
 * A buffer of n bytes that ends where a PROT_NONE page begins and starts
 * after TSD_CANARY bytes of 0xA5: the last n bytes of one of two arenas
 * (input, output) mapped once, so that a test may decode many blocks.
 */
struct tsd_buf {
	unsigned char *p;
	size_t n;
};

static struct tsd_buf tsd_alloc(int which, size_t n)
{
	static unsigned char *arena[2];
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct tsd_buf b = { .n = n };

	CU_ASSERT_FATAL(n + TSD_CANARY <= TSD_ARENA);
	if (!arena[which]) {
		unsigned char *m = mmap(NULL, TSD_ARENA + pg, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		CU_ASSERT_FATAL(m != MAP_FAILED);
		CU_ASSERT_FATAL(mprotect(m + TSD_ARENA, pg, PROT_NONE) == 0);
		arena[which] = m;
	}
	b.p = arena[which] + TSD_ARENA - n;
	memset(b.p - TSD_CANARY, 0xA5, TSD_CANARY);
	return b;
}

static int tsd_canary_ok(const struct tsd_buf *b)
{
	for (size_t i = 1; i <= TSD_CANARY; i++)
		if (b->p[-(ptrdiff_t)i] != 0xA5)
			return 0;
	return 1;
}

/*
 * img_snappy_decode of (z, zn) into a guarded buffer of want bytes, the
 * input copied to a guarded buffer too.  Returns its result; on success
 * the output is compared with expect (if not NULL): a difference fails.
 */
static int tsd_decode(const void *z, size_t zn, size_t want, const void *expect)
{
	struct tsd_buf in = tsd_alloc(0, zn), out = tsd_alloc(1, want);
	int rc;

	if (zn)
		memcpy(in.p, z, zn);
	rc = img_snappy_decode(in.p, zn, out.p, want);
	CU_ASSERT(tsd_canary_ok(&out));
	if (rc == 0 && expect && memcmp(out.p, expect, want) != 0) {
		CU_FAIL("decoded bytes differ");
		rc = -2;
	}
	return rc;
}

/* libsnappy's verdict on the same block: 0 if it decodes to exactly want
 * bytes (into out, want bytes), else -1. */
static int tsd_libsnappy(const void *z, size_t zn, void *out, size_t want)
{
	size_t len = want;

	if (snappy_uncompress(z, zn, out, &len) != SNAPPY_OK || len != want)
		return -1;
	return 0;
}

static uint16_t tsd_scratch[IMG_SNAPPY_SCRATCH / 2];

/* Both compressors' output for in[0, n) decodes back to it. */
static int tsd_roundtrip(const unsigned char *in, size_t n)
{
	size_t zn = snappy_max_compressed_length(n);
	unsigned char *z = malloc(zn > img_snappy_bound(n) ? zn : img_snappy_bound(n));
	int ok = 1;

	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_FATAL(snappy_compress((const char *)in, n, (char *)z, &zn) == SNAPPY_OK);
	if (tsd_decode(z, zn, n, in) != 0)
		ok = 0;
	zn = img_snappy_compress(in, n, z, tsd_scratch);
	if (tsd_decode(z, zn, n, in) != 0)
		ok = 0;
	free(z);
	return ok;
}

/* ---- round trips ---- */

static void test_dec_short(void)
{
	unsigned char buf[101];

	for (size_t n = 0; n <= 100; n++) {
		unit_fill_random(buf, n);
		CU_ASSERT_FATAL(tsd_roundtrip(buf, n));
		unit_fill_text(buf, n);
		CU_ASSERT_FATAL(tsd_roundtrip(buf, n));
		memset(buf, 0, n);
		CU_ASSERT_FATAL(tsd_roundtrip(buf, n));
		tsd_fill_mixture(buf, n);
		CU_ASSERT_FATAL(tsd_roundtrip(buf, n));
	}
}

static void test_dec_sizes(void)
{
	static const size_t sizes[] = {
		1000, 4095, 4096, 4097, 65535, 65536, 65537, 131072 + 5,
		256 << 10, (1 << 20) - 1, 1 << 20, (1 << 20) + 7,
	};
	size_t max = (1 << 20) + 7;
	unsigned char *buf = malloc(max);

	CU_ASSERT_FATAL(buf != NULL);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		unit_fill_random(buf, n);
		CU_ASSERT_FATAL(tsd_roundtrip(buf, n));
		unit_fill_text(buf, n);
		CU_ASSERT_FATAL(tsd_roundtrip(buf, n));
		memset(buf, 0, n);
		CU_ASSERT_FATAL(tsd_roundtrip(buf, n));
		tsd_fill_mixture(buf, n);
		CU_ASSERT_FATAL(tsd_roundtrip(buf, n));
	}
	free(buf);
}

/* Periodic data of every small period: runs of small-offset copies. */
static void test_dec_periods(void)
{
	unsigned char buf[5000];

	for (size_t period = 1; period <= 80; period++) {
		unit_fill_random(buf, period);
		for (size_t i = period; i < sizeof(buf); i++)
			buf[i] = buf[i - period];
		CU_ASSERT_FATAL(tsd_roundtrip(buf, sizeof(buf)));
		CU_ASSERT_FATAL(tsd_roundtrip(buf, 100 + period));
	}
}

/* ---- hand-made blocks ---- */

/*
 * A block under construction and the bytes it must decode to, built
 * side by side: tsd_lit/tsd_copy append an element to z and its result
 * to out (a copy byte by byte, the format's definition).
 */
struct tsd_blk {
	unsigned char *z, *out;
	size_t zn, on, zcap, ocap;
};

static void tsd_blk_init(struct tsd_blk *b, size_t zcap, size_t ocap)
{
	*b = (struct tsd_blk){ .z = malloc(zcap), .out = malloc(ocap ? ocap : 1),
			       .zcap = zcap, .ocap = ocap };
	CU_ASSERT_FATAL(b->z && b->out);
}

static void tsd_blk_free(struct tsd_blk *b)
{
	free(b->z);
	free(b->out);
}

static void tsd_put(struct tsd_blk *b, uint8_t byte)
{
	CU_ASSERT_FATAL(b->zn < b->zcap);
	b->z[b->zn++] = byte;
}

static void tsd_put_le(struct tsd_blk *b, uint64_t v, int k)
{
	for (int i = 0; i < k; i++)
		tsd_put(b, (uint8_t)(v >> (8 * i)));
}

/* A literal of len random bytes; len - 1 in k (0..4) extra bytes (k 0:
 * in the tag, len <= 60), or in as few as it takes for k < 0. */
static void tsd_lit(struct tsd_blk *b, size_t len, int k)
{
	if (k < 0)
		for (k = 0; len > (k ? 1ull << (8 * k) : 60ull); k++)
			;
	CU_ASSERT_FATAL(b->on + len <= b->ocap);
	tsd_put(b, (uint8_t)((k ? (size_t)59 + (size_t)k : len - 1) << 2));
	tsd_put_le(b, len - 1, k);
	CU_ASSERT_FATAL(b->zn + len <= b->zcap);
	unit_fill_random(b->z + b->zn, len);
	memcpy(b->out + b->on, b->z + b->zn, len);
	b->zn += len;
	b->on += len;
}

/* A copy element of kind 1 (len 4..11, off < 2048), 2 (len 1..64, off <
 * 65536) or 4 (len 1..64, 32-bit offset), and its expected result if the
 * offset is valid. */
static void tsd_copy(struct tsd_blk *b, int kind, size_t off, size_t len)
{
	if (kind == 1) {
		tsd_put(b, (uint8_t)(1 | (len - 4) << 2 | (off >> 8) << 5));
		tsd_put(b, (uint8_t)off);
	} else {
		tsd_put(b, (uint8_t)((kind == 2 ? 2 : 3) | (len - 1) << 2));
		tsd_put_le(b, off, kind);
	}
	if (off == 0 || off > b->on)
		return;		/* invalid: the caller expects a refusal */
	CU_ASSERT_FATAL(b->on + len <= b->ocap);
	for (size_t i = 0; i < len; i++, b->on++)
		b->out[b->on] = b->out[b->on - off];
}

/* Prepends the varint length prefix for `len` (moves the elements). */
static void tsd_prefix(struct tsd_blk *b, uint64_t len)
{
	unsigned char v[10];
	int k = 0;

	do {
		v[k++] = (unsigned char)((len & 0x7f) | (len >= 0x80 ? 0x80 : 0));
		len >>= 7;
	} while (len);
	CU_ASSERT_FATAL(b->zn + k <= b->zcap);
	memmove(b->z + k, b->z, b->zn);
	memcpy(b->z, v, (size_t)k);
	b->zn += (size_t)k;
}

/* Our decoder and libsnappy both decode b to b->out. */
static int tsd_blk_ok(struct tsd_blk *b)
{
	unsigned char *ref = malloc(b->on ? b->on : 1);
	int ok = tsd_decode(b->z, b->zn, b->on, b->out) == 0 &&
		 tsd_libsnappy(b->z, b->zn, ref, b->on) == 0 &&
		 memcmp(ref, b->out, b->on) == 0;

	free(ref);
	return ok;
}

/* Both refuse b for want bytes. */
static int tsd_blk_bad(struct tsd_blk *b, size_t want)
{
	unsigned char *ref = malloc(want + 1);
	int ok = tsd_decode(b->z, b->zn, want, NULL) == -1 &&
		 tsd_libsnappy(b->z, b->zn, ref, want) == -1;

	free(ref);
	return ok;
}

static void test_dec_literals(void)
{
	/* Every length in the tag, then the extra-byte forms at their
	 * limits, minimal and not (a short length in 4 bytes is valid). */
	static const struct { size_t len; int k; } lits[] = {
		{ 61, 1 }, { 256, 1 }, { 257, 2 }, { 65536, 2 }, { 65537, 3 },
		{ 1 << 24, 3 }, { (1 << 24) + 1, 4 }, { 1, 1 }, { 5, 4 }, { 300, 3 },
	};
	struct tsd_blk b;

	for (size_t len = 1; len <= 60; len++) {
		tsd_blk_init(&b, 200, 200);
		tsd_lit(&b, len, 0);
		tsd_prefix(&b, b.on);
		CU_ASSERT_FATAL(tsd_blk_ok(&b));
		tsd_blk_free(&b);
	}
	for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		tsd_blk_init(&b, lits[i].len + 200, lits[i].len + 100);
		tsd_lit(&b, lits[i].len, lits[i].k);
		tsd_lit(&b, 7, 0);
		tsd_prefix(&b, b.on);
		CU_ASSERT_FATAL(tsd_blk_ok(&b));
		tsd_blk_free(&b);
	}
}

/*
 * Copies with offsets 1..20 and 61..70 and every length 1..64 (kinds 2
 * and 4; kind 1 for 4..11 with off < 2048), overlapping or not, alone or
 * twice in a row, each followed by a literal of 0..90 bytes: so that
 * each runs in the fast loop, in the exact tail, and at every distance
 * from the end of the output where the one turns into the other.
 */
static void test_dec_copies(void)
{
	struct tsd_blk b;

	for (size_t off = 1; off <= 70; off += off == 20 ? 41 : 1) {
		for (size_t len = 1; len <= 64; len++) {
			for (int kind = 1; kind <= 4; kind++) {
				if (kind == 3 || (kind == 1 && (len < 4 || len > 11)))
					continue;
				for (size_t tail = 0; tail <= 90; tail++) {
					tsd_blk_init(&b, 400, 400);
					tsd_lit(&b, off + unit_rand() % 20, -1);
					tsd_copy(&b, kind, off, len);
					if (tail % 2)
						tsd_copy(&b, kind, off, len);
					if (tail)
						tsd_lit(&b, tail, -1);
					tsd_prefix(&b, b.on);
					CU_ASSERT_FATAL(tsd_blk_ok(&b));
					tsd_blk_free(&b);
				}
			}
		}
	}
}

/* 4-byte-offset copies, also reaching back more than 64 KiB, and 1-byte-
 * offset copies with every high offset bit. */
static void test_dec_far_copies(void)
{
	static const size_t offs[] = { 1, 5, 2047, 65535, 65536, 65537, 70000 };
	struct tsd_blk b;

	tsd_blk_init(&b, 80000, 80000);
	tsd_lit(&b, 70000, -1);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		tsd_copy(&b, 4, offs[i], 1 + i * 9);
	for (size_t off = 256; off < 2048; off += 255)
		tsd_copy(&b, 1, off, 4 + off % 8);
	tsd_copy(&b, 2, 65535, 64);
	tsd_prefix(&b, b.on);
	CU_ASSERT(tsd_blk_ok(&b));
	tsd_blk_free(&b);
}

/* ---- malformed blocks ---- */

/* A valid block of every element kind, ~5 KiB of output. */
static void tsd_sample(struct tsd_blk *b)
{
	tsd_blk_init(b, 8192, 8192);
	tsd_lit(b, 40, 0);
	tsd_copy(b, 1, 3, 11);
	tsd_copy(b, 2, 40, 64);
	tsd_lit(b, 300, 2);
	tsd_copy(b, 4, 200, 30);
	tsd_copy(b, 2, 1, 50);
	tsd_lit(b, 4000, 3);
	tsd_copy(b, 1, 1500, 9);
	tsd_copy(b, 4, 4000, 64);
	tsd_lit(b, 3, 4);
	tsd_prefix(b, b->on);
}

/* Every proper prefix of a valid block is refused. */
static void test_dec_truncated(void)
{
	size_t raw = 3 * 4096, zn;
	unsigned char *src = malloc(raw), *z = malloc(img_snappy_bound(raw));
	struct tsd_blk b;

	tsd_sample(&b);
	CU_ASSERT_FATAL(tsd_blk_ok(&b));
	for (size_t n = 0; n < b.zn; n++)
		CU_ASSERT_FATAL(tsd_decode(b.z, n, b.on, NULL) == -1);
	tsd_blk_free(&b);

	tsd_fill_mixture(src, raw);
	zn = img_snappy_compress(src, raw, z, tsd_scratch);
	CU_ASSERT_FATAL(tsd_decode(z, zn, raw, src) == 0);
	for (size_t n = 0; n < zn; n++)
		CU_ASSERT_FATAL(tsd_decode(z, n, raw, NULL) == -1);
	free(src);
	free(z);
}

static void test_dec_bad_offsets(void)
{
	struct tsd_blk b;

	for (int kind = 1; kind <= 4; kind++) {
		if (kind == 3)
			continue;
		for (int at_end = 0; at_end < 2; at_end++) {
			/* Offset 0, one past the start, far past it; the
			 * bytes after leave room for the fast loop or not. */
			static const size_t offs[] = { 0, 21, 22, 2047 };

			for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
				tsd_blk_init(&b, 300, 300);
				tsd_lit(&b, 20, 0);
				tsd_copy(&b, kind, offs[i], 8);
				tsd_lit(&b, at_end ? 1 : 200, at_end ? 0 : 1);
				tsd_prefix(&b, b.on + 8);
				CU_ASSERT(tsd_blk_bad(&b, b.on + 8));
				tsd_blk_free(&b);
			}
		}
	}
	/* The largest valid offset is fine. */
	tsd_blk_init(&b, 300, 300);
	tsd_lit(&b, 20, 0);
	tsd_copy(&b, 2, 20, 8);
	tsd_lit(&b, 100, 1);
	tsd_prefix(&b, b.on);
	CU_ASSERT(tsd_blk_ok(&b));
	tsd_blk_free(&b);
}

static void test_dec_bad_lengths(void)
{
	struct tsd_blk b;

	tsd_sample(&b);
	/* The prefix says b.on: any other want is refused. */
	CU_ASSERT(tsd_decode(b.z, b.zn, b.on - 1, NULL) == -1);
	CU_ASSERT(tsd_decode(b.z, b.zn, b.on + 1, NULL) == -1);
	CU_ASSERT(tsd_decode(b.z, b.zn, 0, NULL) == -1);
	tsd_blk_free(&b);

	/* Elements that fall short of the prefix, or overrun it: by a
	 * literal or by a copy, in the fast loop and in the tail. */
	for (int over = 0; over < 2; over++) {
		for (int big = 0; big < 2; big++) {
			size_t n = big ? 1000 : 30;

			tsd_blk_init(&b, 3000, 3000);
			tsd_lit(&b, n / 2, -1);
			tsd_copy(&b, 2, n / 2, 10);
			tsd_lit(&b, n / 2 - 10, -1);
			tsd_prefix(&b, over ? b.on - 1 : b.on + 1);
			CU_ASSERT(tsd_blk_bad(&b, over ? b.on - 1 : b.on + 1));
			tsd_blk_free(&b);

			tsd_blk_init(&b, 3000, 3000);
			tsd_lit(&b, n, -1);
			tsd_copy(&b, 2, n, 40);
			tsd_prefix(&b, over ? b.on - 1 : b.on + 1);
			CU_ASSERT(tsd_blk_bad(&b, over ? b.on - 1 : b.on + 1));
			tsd_blk_free(&b);
		}
	}

	/* A literal whose length runs past the input, also with every
	 * length-byte count, and one claiming 4 GiB. */
	for (int k = 0; k <= 4; k++) {
		tsd_blk_init(&b, 300, 300);
		tsd_lit(&b, 50, k);
		b.zn--;
		tsd_prefix(&b, 50);
		CU_ASSERT(tsd_blk_bad(&b, 50));
		tsd_blk_free(&b);
	}
	tsd_blk_init(&b, 300, 300);
	tsd_put(&b, 63 << 2);
	tsd_put_le(&b, 0xffffffff, 4);
	tsd_put_le(&b, 0, 8);
	tsd_prefix(&b, 8);
	CU_ASSERT(tsd_blk_bad(&b, 8));
	tsd_blk_free(&b);
}

static void test_dec_varint(void)
{
	static const struct {
		const char *z;
		size_t n;
		int ok;
		size_t len;
	} v[] = {
		{ "\x00", 1, 1, 0 },
		{ "\x7f", 1, 1, 127 },
		{ "\x80\x01", 2, 1, 128 },
		{ "\x80\x00", 2, 1, 0 },			/* not minimal: valid */
		{ "\xff\xff\xff\xff\x0f", 5, 1, 0xffffffff },
		{ "\xff\xff\xff\xff\x10", 5, 0, 0 },		/* over 32 bits */
		{ "\x80\x80\x80\x80\x80\x00", 6, 0, 0 },	/* 6 bytes */
		{ "\x80\x80\x80\x80\x00", 5, 1, 0 },
		{ "\x80", 1, 0, 0 },				/* truncated */
		{ "\xff\xff", 2, 0, 0 },
		{ "", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = 12345, ref;
		int rc = img_snappy_decoded_len(v[i].z, v[i].n, &len);
		int lib = snappy_uncompressed_length(v[i].z, v[i].n, &ref) == SNAPPY_OK;

		CU_ASSERT_EQUAL(rc, v[i].ok ? 0 : -1);
		CU_ASSERT_EQUAL(lib, v[i].ok);
		if (v[i].ok) {
			CU_ASSERT_EQUAL(len, v[i].len);
			CU_ASSERT_EQUAL(ref, v[i].len);
		}
		/* A prefix alone decodes only when it says 0. */
		CU_ASSERT_EQUAL(tsd_decode(v[i].z, v[i].n, 0, NULL),
				v[i].ok && v[i].len == 0 ? 0 : -1);
	}
	/* 4 GiB - 1 declared, nothing follows: refused, nothing written. */
	CU_ASSERT_EQUAL(img_snappy_decode("\xff\xff\xff\xff\x0f", 5, NULL, 0), -1);
	/* want 0 with elements after the prefix: refused. */
	CU_ASSERT_EQUAL(tsd_decode("\x00\x00\x41", 3, 0, NULL), -1);
	/* NULL buffers are fine when empty. */
	CU_ASSERT_EQUAL(img_snappy_decode(NULL, 0, NULL, 0), -1);
	CU_ASSERT_EQUAL(img_snappy_decode("\x00", 1, NULL, 0), 0);
}

/*
 * Mutations of valid blocks (bytes changed, inserted, cut): our decoder
 * and libsnappy agree on every one, success and bytes.  A small version
 * of the fuzz target, on every `make check`.
 */
static void test_dec_mutations(void)
{
	size_t raw = 2 * 4096;
	unsigned char *src = malloc(raw), *z = malloc(img_snappy_bound(raw) + 64);
	unsigned char *m = malloc(img_snappy_bound(raw) + 64), *ref = malloc(raw + 64);
	int agree = 1, good = 0;

	size_t n = 0;

	for (int round = 0; round < 3000; round++) {
		size_t zn;

		if (round % 100 == 0) {
			tsd_fill_mixture(src, raw);
			n = img_snappy_compress(src, raw, z, tsd_scratch);
		}
		zn = n;
		memcpy(m, z, zn);
		for (int k = 1 + (int)(unit_rand() % 3); k > 0; k--) {
			size_t at = unit_rand() % zn;

			switch (unit_rand() % 4) {
			case 0:
				m[at] = (unsigned char)unit_rand();
				break;
			case 1:
				m[at] ^= (unsigned char)(1u << (unit_rand() % 8));
				break;
			case 2:
				zn = at + 1;
				break;
			default:
				if (zn < n + 64) {
					memmove(m + at + 1, m + at, zn - at);
					m[at] = (unsigned char)unit_rand();
					zn++;
				}
				break;
			}
		}
		size_t want = raw;
		img_snappy_decoded_len(m, zn, &want);
		if (want > raw)
			want = raw;
		memset(ref, 0, want);
		int lib = tsd_libsnappy(m, zn, ref, want);
		int ours = tsd_decode(m, zn, want, lib == 0 ? ref : NULL);

		if (ours != lib)
			agree = 0;
		good += ours == 0;
	}
	CU_ASSERT(agree);
	CU_ASSERT(good > 0);	/* some mutations stay valid (a changed literal) */
	free(src);
	free(z);
	free(m);
	free(ref);
}

UNIT_SUITE(img_snappy_dec,
	{ "decode 0..100 bytes, both encoders", test_dec_short },
	{ "decode sizes up to 1 MiB, both encoders", test_dec_sizes },
	{ "decode periods 1..80", test_dec_periods },
	{ "literals: tag and 1..4 length bytes", test_dec_literals },
	{ "copies: offsets 1..20, lengths 1..64", test_dec_copies },
	{ "copies: 4-byte offsets, far back", test_dec_far_copies },
	{ "refuses every truncation", test_dec_truncated },
	{ "refuses bad offsets", test_dec_bad_offsets },
	{ "refuses wrong lengths", test_dec_bad_lengths },
	{ "varint prefix", test_dec_varint },
	{ "mutations agree with libsnappy", test_dec_mutations },
);
