/*
 * img_snappy.c - our own encoder of the raw Snappy block format, for page
 * data written from the checkpoint signal handler.
 *
 * Why not libsnappy's snappy_compress(): it allocates its working memory
 * with operator new, and the writer runs in signal context where malloc
 * may already hold the application's heap lock.  The reader decodes with
 * our own decoder too (img_snappy_dec.c: ckpt-restart links no C++);
 * the unit tests decode every block we write with libsnappy's
 * snappy_uncompress() as well, which proves it is real Snappy.
 *
 * Format (github.com/google/snappy, format_description.txt):
 *   varint32 uncompressed length, then elements, each a tag byte whose low
 *   two bits say what follows:
 *     00 literal: length-1 in the upper 6 bits if < 60, else 60..63 say
 *        that 1..4 little-endian bytes of length-1 follow; then the bytes.
 *     01 copy, length 4..11 in bits 2..4, offset < 2048: bits 5..7 are
 *        offset >> 8, one more byte holds offset & 0xff.
 *     10 copy, length 1..64 in bits 2..7, 16-bit little-endian offset.
 *     11 copy with a 32-bit offset (never emitted: see invariant 1).
 *
 * Method: the greedy matcher every LZ77-family fast compressor uses.
 * Input is cut into 64 KiB fragments compressed independently.  A hash of
 * the 4 bytes at each probed position indexes a table of earlier positions
 * in the fragment; a 4-byte equality there is a match, extended as far as
 * it goes and emitted as a copy.  After 32 misses in a row the probe
 * stride grows by 1/32 of itself per miss, so incompressible input is
 * crossed in big strides (most of a random page is one literal, copied
 * with memcpy) while compressible input is probed byte by byte.
 *
 * Invariants:
 *  1. Every copy's source lies in the current fragment, so offsets are
 *     < 65536 and the 2-byte form always suffices.
 *  2. Table entries are positions relative to the fragment start, < 65536,
 *     so they fit uint16_t; a zeroed table points every hash at position
 *     0, which is always a valid (if useless) candidate before ip.
 *  3. Inside the main loop at least SNAPPY_MARGIN input bytes remain past
 *     ip, so 4- and 8-byte loads there and the 16-byte literal fast copy
 *     never read beyond the input.
 *  4. The output never exceeds img_snappy_bound(n) = 32 + n + n/6: the
 *     worst case is all literals (3 bytes of tag per 64 KiB fragment) and
 *     short literals between minimal copies (5 output bytes per 5 input
 *     bytes); the 16 bytes the literal fast path may store beyond the
 *     literal stay well inside the slack.
 *
 * Async-signal-safe: no allocation, no libc beyond memcpy/memset (which
 * POSIX.1-2016 lists as async-signal-safe).  The hash table lives in the
 * caller's IMG_SNAPPY_SCRATCH bytes (2-byte aligned).
 *
 * Cost: one pass over the input; per 64 KiB fragment one memset of up to
 * 32 KiB of table.  Smaller fragments use a smaller table (the next power
 * of two >= the fragment, at least 256 entries) so that compressing one
 * page does not pay for clearing 32 KiB.
 */
#include <stdint.h>
#include <stddef.h>
#include "libckpt/img.h"
#include "libckpt/img_unaligned.h"

#define SNAPPY_FRAGMENT		IMG_SNAPPY_FRAGMENT
#define SNAPPY_TABLE_MAX	(IMG_SNAPPY_SCRATCH / sizeof(uint16_t))
#define SNAPPY_TABLE_MIN	256u
#define SNAPPY_MARGIN		15	/* see invariant 3 */

_Static_assert(SNAPPY_TABLE_MAX <= SNAPPY_FRAGMENT, "table larger than a fragment");

static inline uint32_t snappy_hash(uint32_t v, int shift)
{
	/* Multiplicative hash; the top bits are the best mixed. */
	return (v * 0x1e35a7bdu) >> shift;
}

size_t img_snappy_bound(size_t n)
{
	return 32 + n + n / 6;
}

static uint8_t *snappy_put_varint(uint8_t *op, uint32_t v)
{
	while (v >= 0x80) {
		*op++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*op++ = (uint8_t)v;
	return op;
}

/*
 * Emits lit[0..len) as one literal, 1 <= len <= SNAPPY_FRAGMENT.
 * may_overcopy: 16 bytes may be read from lit and written at the output
 * (invariants 3 and 4), which saves a variable-length memcpy call for
 * the short literals between matches.
 */
static inline uint8_t *snappy_put_literal(uint8_t *op, const uint8_t *lit,
					  size_t len, int may_overcopy)
{
	size_t n = len - 1;

	if (n < 60) {
		*op++ = (uint8_t)(n << 2);
		if (may_overcopy && len <= 16) {
			__builtin_memcpy(op, lit, 16);
			return op + len;
		}
	} else if (n < 256) {
		*op++ = 60 << 2;
		*op++ = (uint8_t)n;
	} else {
		/* n < 65536 because a literal never leaves its fragment. */
		*op++ = 61 << 2;
		*op++ = (uint8_t)n;
		*op++ = (uint8_t)(n >> 8);
	}
	__builtin_memcpy(op, lit, len);
	return op + len;
}

/* One copy element, 4 <= len <= 64, 0 < offset < 65536. */
static inline uint8_t *snappy_put_copy64(uint8_t *op, size_t offset, size_t len)
{
	if (len < 12 && offset < 2048) {
		*op++ = (uint8_t)(1 | ((len - 4) << 2) | ((offset >> 8) << 5));
		*op++ = (uint8_t)offset;
	} else {
		*op++ = (uint8_t)(2 | ((len - 1) << 2));
		*op++ = (uint8_t)offset;
		*op++ = (uint8_t)(offset >> 8);
	}
	return op;
}

/* A copy of any length >= 4, split so that every piece is >= 4. */
static inline uint8_t *snappy_put_copy(uint8_t *op, size_t offset, size_t len)
{
	while (len >= 68) {
		op = snappy_put_copy64(op, offset, 64);
		len -= 64;
	}
	if (len > 64) {		/* 65..67: 60 now leaves 5..7 */
		op = snappy_put_copy64(op, offset, 60);
		len -= 60;
	}
	return snappy_put_copy64(op, offset, len);
}

/* Bytes from s2 (up to limit) equal to those at s1, where s1 < s2. */
static inline size_t snappy_match_len(const uint8_t *s1, const uint8_t *s2,
				      const uint8_t *limit)
{
	size_t m = 0;

	while (s2 + m + 8 <= limit) {
		uint64_t x = img_load64(s2 + m) ^ img_load64(s1 + m);
		if (x)
			return m + ((unsigned)__builtin_ctzll(x) >> 3);
		m += 8;
	}
	while (s2 + m < limit && s1[m] == s2[m])
		m++;
	return m;
}

/* Compresses in[0..n), n <= SNAPPY_FRAGMENT, appending elements at op. */
static uint8_t *snappy_fragment(const uint8_t *in, size_t n, uint8_t *op,
				uint16_t *table)
{
	const uint8_t *ip = in, *ip_end = in + n, *next_emit = in;
	const uint8_t *ip_limit;
	uint32_t tsize = SNAPPY_TABLE_MIN;
	int shift = 32 - 8;	/* log2(SNAPPY_TABLE_MIN) == 8 */
	uint32_t next_hash;

	while (tsize < SNAPPY_TABLE_MAX && tsize < n) {
		tsize <<= 1;
		shift--;
	}
	__builtin_memset(table, 0, tsize * sizeof(*table));

	if (n < SNAPPY_MARGIN)
		goto tail;
	ip_limit = in + n - SNAPPY_MARGIN;
	next_hash = snappy_hash(img_load32(++ip), shift);

	for (;;) {
		/* Step 1: probe until 4 bytes at ip equal 4 at a candidate. */
		uint32_t skip = 32;
		const uint8_t *next_ip = ip, *cand;
		uint64_t bytes;
		uint32_t cand_bytes;

		do {
			uint32_t h = next_hash;
			uint32_t stride = skip >> 5;

			ip = next_ip;
			skip += stride;
			next_ip = ip + stride;
			if (next_ip > ip_limit)
				goto tail;
			next_hash = snappy_hash(img_load32(next_ip), shift);
			cand = in + table[h];
			table[h] = (uint16_t)(ip - in);
		} while (img_load32(ip) != img_load32(cand));

		/* Step 2: what lies between the last copy and ip is literal. */
		op = snappy_put_literal(op, next_emit, (size_t)(ip - next_emit), 1);

		/* Step 3: emit copies for as long as the position right after
		 * one copy starts another match. */
		do {
			const uint8_t *start = ip;
			size_t m = 4 + snappy_match_len(cand + 4, ip + 4, ip_end);
			uint32_t h;

			ip += m;
			op = snappy_put_copy(op, (size_t)(start - cand), m);
			next_emit = ip;
			if (ip >= ip_limit)
				goto tail;
			/* Index ip-1 too: it improves the ratio for the
			 * price of one store. */
			bytes = img_load64(ip - 1);
			table[snappy_hash((uint32_t)bytes, shift)] = (uint16_t)(ip - in - 1);
			h = snappy_hash((uint32_t)(bytes >> 8), shift);
			cand = in + table[h];
			cand_bytes = img_load32(cand);
			table[h] = (uint16_t)(ip - in);
		} while ((uint32_t)(bytes >> 8) == cand_bytes);

		next_hash = snappy_hash((uint32_t)(bytes >> 16), shift);
		ip++;
	}

tail:
	if (next_emit < ip_end)
		op = snappy_put_literal(op, next_emit, (size_t)(ip_end - next_emit), 0);
	return op;
}

size_t img_snappy_prefix(size_t n, void *out)
{
	/* The length prefix is a varint32: larger inputs cannot be said.
	 * 0 is never a valid output length, so it reports the misuse. */
	if (n > UINT32_MAX)
		return 0;
	return (size_t)(snappy_put_varint(out, (uint32_t)n) - (uint8_t *)out);
}

size_t img_snappy_part(const void *in, size_t n, void *out, void *scratch)
{
	const uint8_t *ip = in;
	uint8_t *op = out;

	while (n > 0) {
		size_t frag = n < SNAPPY_FRAGMENT ? n : SNAPPY_FRAGMENT;

		op = snappy_fragment(ip, frag, op, scratch);
		ip += frag;
		n -= frag;
	}
	return (size_t)(op - (uint8_t *)out);
}

size_t img_snappy_compress(const void *in, size_t n, void *out, void *scratch)
{
	size_t k = img_snappy_prefix(n, out);

	if (k == 0)
		return 0;
	return k + img_snappy_part(in, n, (uint8_t *)out + k, scratch);
}
