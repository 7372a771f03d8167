/*
 * fuzz_snappy.c - libFuzzer target for our Snappy decoder
 * (libckpt/img_snappy_dec.c), differential against libsnappy.
 *
 * Every input is used twice:
 *   1. as a Snappy block: decoded by img_snappy_decode() for the length
 *      its own prefix declares (capped at FZ_MAX: a larger prefix is
 *      decoded for FZ_MAX bytes, which both decoders must refuse) and by
 *      libsnappy's snappy_uncompress() into a buffer of the same size.
 *      Both must succeed or both fail, and agree on every byte; the
 *      prefix readers must agree too.  Each output buffer is its own
 *      malloc of exactly that many bytes, and libFuzzer's input is too,
 *      so ASan sees any read or write outside them.
 *   2. as data: compressed by our encoder, and decoded back by ours.
 *
 * Seeds: with FUZZ_SEED_DIR set, LLVMFuzzerInitialize writes a few valid
 * blocks there (tests/fuzz/run.sh does this before fuzzing): our encoder's
 * and libsnappy's output for text and mixed data, and a hand-made block
 * with the element forms neither encoder writes (3- and 4-byte literal
 * lengths, 4-byte offsets).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <snappy-c.h>
#include "libckpt/img.h"

#define FZ_MAX	(1u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t fz_scratch[IMG_SNAPPY_SCRATCH / 2];

static void fz_fail(const char *what, size_t size, size_t want)
{
	fprintf(stderr, "fuzz_snappy: %s (input %zu bytes, want %zu)\n", what, size, want);
	abort();
}

/* 1: the input as a block, both decoders. */
static void fz_decode(const uint8_t *data, size_t size)
{
	size_t want = 0, ref = 0, len;
	int have = img_snappy_decoded_len(data, size, &want) == 0;
	int lib_have = snappy_uncompressed_length((const char *)data, size, &ref) == SNAPPY_OK;
	unsigned char *a, *b;
	int ours, lib;

	if (have != lib_have || (have && want != ref))
		fz_fail("length prefixes disagree", size, want);
	if (want > FZ_MAX)
		want = FZ_MAX;
	a = malloc(want ? want : 1);
	b = malloc(want ? want : 1);
	if (!a || !b)
		abort();
	ours = img_snappy_decode(data, size, a, want);
	len = want;
	lib = snappy_uncompress((const char *)data, size, (char *)b, &len) == SNAPPY_OK &&
	      len == want ? 0 : -1;
	if (ours != lib)
		fz_fail(ours == 0 ? "ours decodes, libsnappy refuses" :
			"libsnappy decodes, ours refuses", size, want);
	if (ours == 0 && memcmp(a, b, want) != 0)
		fz_fail("decoded bytes differ", size, want);
	free(a);
	free(b);
}

/* 2: the input as data, our encoder and decoder. */
static void fz_roundtrip(const uint8_t *data, size_t size)
{
	unsigned char *z = malloc(img_snappy_bound(size));
	unsigned char *back = malloc(size ? size : 1);
	size_t zn;

	if (!z || !back)
		abort();
	zn = img_snappy_compress(data, size, z, fz_scratch);
	if (zn == 0 || zn > img_snappy_bound(size) || img_snappy_decode(z, zn, back, size) != 0 ||
	    memcmp(back, data, size) != 0)
		fz_fail("round trip through our codec fails", size, size);
	free(z);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_decode(data, size);
	fz_roundtrip(data, size);
	return 0;
}

/* ---- seeds ---- */

static void fz_write(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);	/* the last build's seed: made again, never through a planted name */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		perror(path);
	if (fd >= 0)
		close(fd);
}

static void fz_text(unsigned char *p, size_t n, unsigned seed)
{
	static const char *words[] = { "checkpoint ", "restart ", "page ", "0x7ffd1234 ",
				       "the ", "\n", "=", "42" };

	for (size_t i = 0; i < n;) {
		const char *w = words[(seed = seed * 1103515245 + 12345) >> 16 & 7];

		for (size_t k = 0; w[k] && i < n; k++)
			p[i++] = (unsigned char)w[k];
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");
	static unsigned char raw[4096], z[8192];
	size_t zn;

	(void)argc;
	(void)argv;
	if (!dir || !*dir)
		return 0;

	fz_text(raw, sizeof(raw), 1);
	zn = img_snappy_compress(raw, sizeof(raw), z, fz_scratch);
	fz_write(dir, "seed-ours-text", z, zn);
	zn = sizeof(z);
	if (snappy_compress((const char *)raw, sizeof(raw), (char *)z, &zn) == SNAPPY_OK)
		fz_write(dir, "seed-libsnappy-text", z, zn);

	/* Mixed: text, a run of one byte, a period of 3, bytes that do not
	 * repeat. */
	memset(raw + 1000, 0, 700);
	for (size_t i = 2000; i < 2600; i++)
		raw[i] = "abc"[i % 3];
	for (size_t i = 3000; i < 3300; i++)
		raw[i] = (unsigned char)(i * 2654435761u >> 13);
	zn = img_snappy_compress(raw, sizeof(raw), z, fz_scratch);
	fz_write(dir, "seed-ours-mixed", z, zn);
	zn = sizeof(z);
	if (snappy_compress((const char *)raw, sizeof(raw), (char *)z, &zn) == SNAPPY_OK)
		fz_write(dir, "seed-libsnappy-mixed", z, zn);

	/* Hand-made, 110 bytes: a literal of 70 with its length in 3 bytes,
	 * one of 5 in 4 bytes, copies with 4-byte offsets (70 and 1) and a
	 * 1-byte-offset copy. */
	zn = 0;
	z[zn++] = 110;
	z[zn++] = 62 << 2;
	z[zn++] = 69, z[zn++] = 0, z[zn++] = 0;
	memcpy(z + zn, raw, 70);
	zn += 70;
	z[zn++] = 63 << 2;
	z[zn++] = 4, z[zn++] = 0, z[zn++] = 0, z[zn++] = 0;
	memcpy(z + zn, "hello", 5);
	zn += 5;
	z[zn++] = 3 | (20 - 1) << 2;
	z[zn++] = 70, z[zn++] = 0, z[zn++] = 0, z[zn++] = 0;
	z[zn++] = 3 | (10 - 1) << 2;
	z[zn++] = 1, z[zn++] = 0, z[zn++] = 0, z[zn++] = 0;
	z[zn++] = 1 | (5 - 4) << 2;
	z[zn++] = 7;
	fz_write(dir, "seed-forms", z, zn);
	return 0;
}
