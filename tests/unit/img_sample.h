/*
 * img_sample.h - the sample image of test_img_rw.c, for the other image
 * tests: a valid image with every record type and codec, in memory or
 * written to an fd, and a reader run over one.
 */
#ifndef CKPT_TEST_IMG_SAMPLE_H
#define CKPT_TEST_IMG_SAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include "libckpt/img.h"

int trw_memfd(void);
int trw_parse(int fd, enum img_err *code, char *err, size_t errlen);
uint64_t trw_rand(void);
unsigned char *trw_sample_bytes(size_t *len);
int trw_write_sample(int fd, void *buf, size_t cap);
/*
 * test_img_check.c: an image of header, one record (a || b), END; asserts
 * that the record's checker refuses it as corrupt with `part` in its
 * message (NULL: a checker of another type is asked).
 */
void trw_expect_get(uint32_t type, const void *a, size_t alen,
		    const void *b, size_t blen, const char *part);

#endif
