/*
 * img_pages.c - decoding one PAGES record's data into memory.
 *
 * Used by ckpt-restart (to fill the original addresses) and ckpt-info (to
 * verify), with our own Snappy decoder (img_snappy_dec.c), so that
 * neither needs libsnappy.  The record header has already been checked by
 * img_get_pages(); this function trusts nothing anyway, because it is also
 * called on data that comes straight from a fuzzer.
 *
 * Invariant: on success exactly p->npages * IMG_PAGE_SIZE bytes of dst
 * were written; on failure dst may hold garbage and err says why.
 */
#include <stdio.h>
#include <string.h>
#include "libckpt/img.h"

int img_pages_decode(const struct img_pages *p, const void *data, size_t len,
		     void *dst, char *err, size_t errlen)
{
	size_t want, got;

	if (p->npages == 0 || p->npages > IMG_PAGES_MAX) {
		snprintf(err, errlen, "pages at 0x%llx: page count %u is not in 1..%u",
			 (unsigned long long)p->addr, p->npages, IMG_PAGES_MAX);
		return -1;
	}
	want = (size_t)p->npages * IMG_PAGE_SIZE;

	switch (p->codec) {
	case IMG_CODEC_RAW:
		if (len != want) {
			snprintf(err, errlen, "pages at 0x%llx: raw data is %zu bytes, expected %zu",
				 (unsigned long long)p->addr, len, want);
			return -1;
		}
		memcpy(dst, data, want);
		return 0;

	case IMG_CODEC_ZERO:
		if (len != 0) {
			snprintf(err, errlen, "pages at 0x%llx: zero pages carry %zu bytes of data, expected none",
				 (unsigned long long)p->addr, len);
			return -1;
		}
		memset(dst, 0, want);
		return 0;

	case IMG_CODEC_SNAPPY:
		/* The declared length first, so that a block for another
		 * number of pages gets its own message. */
		if (img_snappy_decoded_len(data, len, &got) < 0) {
			snprintf(err, errlen, "pages at 0x%llx: snappy data is corrupt (bad length prefix)",
				 (unsigned long long)p->addr);
			return -1;
		}
		if (got != want) {
			snprintf(err, errlen, "pages at 0x%llx: snappy data decodes to %zu bytes, expected %zu",
				 (unsigned long long)p->addr, got, want);
			return -1;
		}
		if (img_snappy_decode(data, len, dst, want) < 0) {
			snprintf(err, errlen, "pages at 0x%llx: snappy data is corrupt",
				 (unsigned long long)p->addr);
			return -1;
		}
		return 0;

	default:
		snprintf(err, errlen, "pages at 0x%llx: unknown codec %u",
			 (unsigned long long)p->addr, p->codec);
		return -1;
	}
}
