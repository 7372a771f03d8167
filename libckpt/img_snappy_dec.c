/*
 * img_snappy_dec.c - our own decoder of the raw Snappy block format, for
 * the page data that ckpt-restart and ckpt-info read.
 *
 * Why not libsnappy's snappy_uncompress(): libsnappy is C++, and
 * ckpt-restart is a static binary that is to be linked with musl (for its
 * startup time), where neither libsnappy nor libstdc++ can follow it.  The
 * encoder is ours already (img_snappy.c).  libsnappy stays the reference
 * in the tests: the unit tests decode its output and ours, and the fuzz
 * target tests/fuzz/fuzz_snappy.c runs both decoders on the same input.
 *
 * Format (format_description.txt in github.com/google/snappy; img_snappy.c
 * has the tag layout): varint32 length, then elements.  The decoder takes
 * every valid block, also what our encoder never writes: literals with 3
 * or 4 length bytes, copies with a 32-bit offset (tag 11), offsets that
 * reach back more than 64 KiB.
 *
 * Invariants (ip: next input byte, op: next output byte):
 *  1. out[0, op) is final output.  Each element is checked before
 *     anything is written: its input bytes lie in [ip, ip_end), its output
 *     in [op, op_end), a copy's source in [out, op).  So a malformed block
 *     is rejected without a byte read or written outside the buffers.
 *  2. The fast loop moves whole 8- or 16-byte words and so may read and
 *     write up to 15 bytes beyond an element.  It runs only while
 *     ip_end - ip >= SD_IN_FAST and op_end - op >= SD_OUT_FAST, the most
 *     that one element's word moves reach (a short literal checks its
 *     input room itself); what they write past the element's end is
 *     garbage in out[op, op_end) that the next elements overwrite
 *     (invariant 1 vouches only for out[0, op)).  The last bytes of each
 *     buffer are decoded by sd_element(), which checks every length
 *     exactly and copies exactly; that costs nothing measurable, as it
 *     is the last few elements of a block.
 *  3. A copy with offset >= 8 moves its source in chunks no longer than
 *     the offset, so no chunk reads what it writes itself, and a chunk
 *     reads what earlier chunks wrote: an overlapping copy (offset <
 *     length) repeats its pattern the way the format defines it (as a
 *     byte-wise copy would).  Offsets 1..7 are expanded into an 8-byte
 *     pattern in a register first (sd_pattern).
 *
 * Async-signal-safe: no allocation, no libc beyond memcpy.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "libckpt/img.h"
#include "libckpt/img_unaligned.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "img_snappy_dec.c reads the format's little-endian fields with native loads"
#endif

/* Fixed-size moves: one unaligned load and store each.  dst and src
 * never overlap (invariant 3). */
static inline void sd_copy8(uint8_t *dst, const uint8_t *src)
{
	__builtin_memcpy(dst, src, 8);
}

static inline void sd_copy16(uint8_t *dst, const uint8_t *src)
{
	__builtin_memcpy(dst, src, 16);
}

/*
 * The varint32 at [p, end): the byte after it with *v set, or NULL if it
 * is truncated or does not fit 32 bits (a 5th byte above 0x0f).
 */
static const uint8_t *sd_varint(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
	uint32_t r = 0;

	for (unsigned shift = 0; shift <= 28 && p < end; shift += 7) {
		uint32_t b = *p++;

		if (shift == 28 && b > 0x0f)
			return NULL;
		r |= (b & 0x7f) << shift;
		if (b < 0x80) {
			*v = r;
			return p;
		}
	}
	return NULL;
}

int img_snappy_decoded_len(const void *in, size_t n, size_t *len)
{
	uint32_t v;

	if (n == 0 || !sd_varint(in, (const uint8_t *)in + n, &v))
		return -1;
	*len = v;
	return 0;
}

/*
 * An 8-byte word of the pattern of period off (1..7) that starts at src:
 * byte i is src[i % off].  Reads src[0, 8), which lies before op + 7 and
 * so in the output buffer (the caller has SD_OUT_FAST bytes of room at
 * op); the bytes past src + off are masked off, whatever they hold.
 */
static inline uint64_t sd_pattern(const uint8_t *src, size_t off)
{
	uint64_t p = img_load64(src) & (~0ull >> (64 - 8 * off));

	/* Each step doubles the bytes that hold the pattern. */
	for (size_t have = off; have < 8; have *= 2)
		p |= p << (8 * have);
	return p;
}

/*
 * A copy element in the fast loop: len (1..64) bytes from op - off to op,
 * where 1 <= off <= op - out and op_end - op >= SD_OUT_FAST.  What it
 * writes beyond op + len (invariant 2): the 16- and 8-byte chunks start
 * at multiples of their size, so the last ends at op + 64 at most; the
 * 8-byte pattern stores start before op + len <= op + 64, so the last
 * ends at op + 71 at most.  Returns op + len.
 */
static inline uint8_t *sd_copy_fast(uint8_t *op, size_t off, size_t len)
{
	/* How far a store of the 8-byte pattern of period off (< 8) may
	 * advance: the largest multiple of off that is <= 8, so that the
	 * next store starts at the pattern's beginning again. */
	static const uint8_t step[8] = { 0, 8, 8, 6, 8, 5, 6, 7 };
	const uint8_t *src = op - off;
	uint8_t *end = op + len;

	if (off >= 16) {
		do {
			sd_copy16(op, src);
			op += 16;
			src += 16;
		} while (op < end);
	} else if (off >= 8) {
		do {
			sd_copy8(op, src);
			op += 8;
			src += 8;
		} while (op < end);
	} else {
		uint64_t p = sd_pattern(src, off);
		size_t s = step[off];

		do {
			__builtin_memcpy(op, &p, 8);
			op += s;
		} while (op < end);
	}
	return end;
}

/* Little-endian value of the k (0..4) bytes at p. */
static inline size_t sd_load_le(const uint8_t *p, size_t k)
{
	size_t v = 0;

	while (k--)
		v = (v << 8) | p[k];
	return v;
}

/*
 * What a copy's tag byte says: its length (bits 0..6), the high bits of a
 * 1-byte-offset copy's offset (bits 8..10: offset >> 8) and how many
 * offset bytes follow the tag (bits 11..13: 1, 2 or 4).  Literal tags
 * (tag & 3 == 0) are handled before anything looks here and hold 0.
 */
#define SD_COPY1(t)	((4 + (((t) >> 2) & 7)) | (((t) >> 5) << 8) | (1 << 11))
#define SD_COPY2(t)	((((t) >> 2) + 1) | (2 << 11))
#define SD_COPY4(t)	((((t) >> 2) + 1) | (4 << 11))
#define SD_TAG(t)	((t) % 4 == 1 ? SD_COPY1(t) : (t) % 4 == 2 ? SD_COPY2(t) : \
			 (t) % 4 == 3 ? SD_COPY4(t) : 0)
#define SD_TAG4(t)	SD_TAG(t), SD_TAG((t) + 1), SD_TAG((t) + 2), SD_TAG((t) + 3)
#define SD_TAG16(t)	SD_TAG4(t), SD_TAG4((t) + 4), SD_TAG4((t) + 8), SD_TAG4((t) + 12)
#define SD_TAG64(t)	SD_TAG16(t), SD_TAG16((t) + 16), SD_TAG16((t) + 32), SD_TAG16((t) + 48)
static const uint16_t sd_tag[256] = { SD_TAG64(0), SD_TAG64(64), SD_TAG64(128), SD_TAG64(192) };
/* The offset bytes' mask, by their count. */
static const uint32_t sd_mask[5] = { 0, 0xff, 0xffff, 0, 0xffffffff };

/* Where decoding stands: the next element's first byte and the next
 * output byte (returned by value: both stay in registers). */
struct sd_pos {
	const uint8_t *ip;
	uint8_t *op;
};

/*
 * Decodes the element at p.ip with exact checks and exact copies: for the
 * last bytes of either buffer, where the fast loop's word moves could run
 * past an end, and for literals too long for its fast path.  Returns the
 * position after it, or ip NULL if it is malformed or does not fit.
 */
static struct sd_pos sd_element(struct sd_pos p, const uint8_t *ip_end,
				uint8_t *out, uint8_t *op_end)
{
	const uint8_t *ip = p.ip;
	uint8_t *op = p.op;
	const uint32_t tag = *ip++;
	size_t len, off, k;

	if ((tag & 3) == 0) {			/* literal */
		len = (tag >> 2) + 1;
		if (len > 60) {			/* 1..4 bytes of length - 1 follow */
			k = len - 60;
			if ((size_t)(ip_end - ip) < k)
				return (struct sd_pos){ NULL, op };
			len = sd_load_le(ip, k) + 1;
			ip += k;
		}
		if ((size_t)(ip_end - ip) < len || (size_t)(op_end - op) < len)
			return (struct sd_pos){ NULL, op };
		memcpy(op, ip, len);
		return (struct sd_pos){ ip + len, op + len };
	}
	k = sd_tag[tag] >> 11;
	if ((size_t)(ip_end - ip) < k)
		return (struct sd_pos){ NULL, op };
	len = sd_tag[tag] & 0xff;
	off = (sd_tag[tag] & 0x700) | sd_load_le(ip, k);
	/* off - 1 wraps around for off == 0: one test rejects both offset 0
	 * and a source before out. */
	if (off - 1 >= (size_t)(op - out) || len > (size_t)(op_end - op))
		return (struct sd_pos){ NULL, op };
	for (const uint8_t *src = op - off; len > 0; len--)
		*op++ = *src++;		/* byte by byte: src may overlap op */
	return (struct sd_pos){ ip + k, op };
}

/* The fast loop's room (invariant 2): a tag and the 4 bytes a copy's
 * offset load reads; what a copy of up to 64 bytes writes (sd_copy_fast:
 * op[0, 71)) and a short literal (op[0, 16)). */
#define SD_IN_FAST	5
#define SD_OUT_FAST	71

/*
 * Decodes the elements in [ip, ip_end) into [out, op_end); 0 if they
 * fill it exactly, else -1.
 */
static int sd_elements(const uint8_t *ip, const uint8_t *ip_end,
		       uint8_t *const out, uint8_t *const op_end)
{
	struct sd_pos p = { ip, out };

	while (ip_end - p.ip >= SD_IN_FAST && op_end - p.op >= SD_OUT_FAST) {
		const uint32_t tag = *p.ip;

		if ((tag & 3) == 0) {
			size_t len = (tag >> 2) + 1;

			/* A short literal: one 16-byte move, which reads
			 * ip[1, 17) and writes op[0, 16). */
			if (len <= 16 && ip_end - p.ip > 16) {
				sd_copy16(p.op, p.ip + 1);
				p.ip += 1 + len;
				p.op += len;
				continue;
			}
			p = sd_element(p, ip_end, out, op_end);
			if (!p.ip)
				return -1;
			continue;
		}

		/* A copy: its offset bytes are in the 4 after the tag. */
		const uint32_t e = sd_tag[tag];
		const size_t len = e & 0xff;
		const size_t off = (e & 0x700) | (img_load32(p.ip + 1) & sd_mask[e >> 11]);

		if (off - 1 >= (size_t)(p.op - out))	/* see sd_element */
			return -1;
		p.ip += 1 + (e >> 11);
		p.op = sd_copy_fast(p.op, off, len);
	}
	while (p.ip < ip_end) {
		p = sd_element(p, ip_end, out, op_end);
		if (!p.ip)
			return -1;
	}
	return p.op == op_end ? 0 : -1;
}

int img_snappy_decode(const void *in, size_t n, void *out, size_t want)
{
	const uint8_t *ip;
	uint32_t declared;

	if (n == 0)
		return -1;	/* not even a length prefix */
	ip = sd_varint(in, (const uint8_t *)in + n, &declared);
	if (!ip || declared != want)
		return -1;
	if (want == 0)		/* out may be NULL: no pointer arithmetic on it */
		return ip == (const uint8_t *)in + n ? 0 : -1;
	return sd_elements(ip, (const uint8_t *)in + n, out, (uint8_t *)out + want);
}
