/*
 * img_unaligned.h - unaligned native loads for the Snappy codecs: one
 * instruction each on x86_64 (memcpy of a constant size).  The format's
 * fields are little-endian, so the codecs check the byte order once.
 */
#ifndef CKPT_IMG_UNALIGNED_H
#define CKPT_IMG_UNALIGNED_H

#include <stdint.h>

static inline uint32_t img_load32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, 4);
	return v;
}

static inline uint64_t img_load64(const uint8_t *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, 8);
	return v;
}

#endif
