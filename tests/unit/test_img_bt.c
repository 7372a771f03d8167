/*
 * test_img_bt.c - the reader's checks of a BACKTRACE record
 * (libckpt/img_bt.c): a well-formed record is accepted and its names
 * read back; every malformed one (type, lengths, counts, stop reason,
 * reserved, flags, a name outside the names, empty, unterminated or
 * longer than IMG_BT_NAME_MAX) is refused with the record named.
 */
#include <stdio.h>
#include <string.h>
#include "libckpt/img.h"
#include "tests/unit/unit.h"

#define NAMES_CAP	(IMG_BT_NAME_MAX * 2 + 16)

struct bt_sample {
	struct img_backtrace b;
	struct img_bt_frame f[IMG_BT_FRAMES_MAX + 1];
	char names[NAMES_CAP];
};

static struct bt_sample s;

/* 3 frames: "main" (twice) and none; names "main\0ab\0" */
static size_t bt_good(void)
{
	memset(&s, 0, sizeof(s));
	s.b.tid = 42;
	s.b.nframes = 3;
	s.b.stop = IMG_BT_END;
	s.f[0] = (struct img_bt_frame){ .pc = 0x1000, .sp = 0x7000, .sym_off = 4, .name = 5 };
	s.f[1] = (struct img_bt_frame){ .pc = 0x2000, .name = IMG_BT_NONAME, .flags = IMG_BT_F_FP };
	s.f[2] = (struct img_bt_frame){ .pc = 0x3000, .name = 0, .flags = IMG_BT_F_SIGNAL };
	memcpy((char *)(s.f + 3), "main\0ab", 8);
	s.b.names_len = 8;
	return sizeof(s.b) + 3 * sizeof(s.f[0]) + 8;
}

static const struct img_backtrace *bt_check(size_t len, char *err, size_t errlen)
{
	struct img_reader r;
	struct img_rec rec = { .type = IMG_REC_BACKTRACE, .version = 1, .offset = 4096,
			       .len = len, .data = &s };
	const struct img_backtrace *b;

	memset(&r, 0, sizeof(r));
	b = img_get_backtrace(&r, &rec);
	snprintf(err, errlen, "%s", r.err);
	CU_ASSERT(b ? r.code == IMG_OK : r.code == IMG_ERR_CORRUPT);
	return b;
}

static void test_bt_good(void)
{
	char err[256];
	size_t len = bt_good();
	const struct img_backtrace *b = bt_check(len, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(img_bt_name(b, &img_bt_frames(b)[0]), "ab");
	CU_ASSERT_PTR_NULL(img_bt_name(b, &img_bt_frames(b)[1]));
	CU_ASSERT_STRING_EQUAL(img_bt_name(b, &img_bt_frames(b)[2]), "main");
	CU_ASSERT_EQUAL(img_bt_frames(b)[0].sym_off, 4);
	/* no frames, no names: a thread it could not unwind */
	memset(&s, 0, sizeof(s));
	s.b.tid = 1;
	s.b.stop = IMG_BT_FAILED;
	CU_ASSERT_PTR_NOT_NULL(bt_check(sizeof(s.b), err, sizeof(err)));
}

/* Each mutation of the good record is refused, the message naming BACKTRACE and the offset. */
static void bt_refused(const char *what, size_t len)
{
	char err[256];

	if (bt_check(len, err, sizeof(err)) != NULL) {
		fprintf(stderr, "img_bt: accepted: %s\n", what);
		CU_FAIL(what);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "BACKTRACE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "4096"));
}

static void test_bt_bad(void)
{
	size_t len;
	char *names;

	len = bt_good();
	bt_refused("short", sizeof(s.b) - 1);
	len = bt_good(); s.b.tid = 0; bt_refused("tid 0", len);
	len = bt_good(); s.b.tid = -5; bt_refused("tid < 0", len);
	len = bt_good(); s.b.stop = IMG_BT_STOP_MAX + 1; bt_refused("stop", len);
	len = bt_good(); s.b.reserved = 1; bt_refused("reserved", len);
	len = bt_good(); bt_refused("one byte more", len + 1);
	len = bt_good(); bt_refused("one byte less", len - 1);
	len = bt_good(); s.b.nframes = 4; bt_refused("a frame more than the length", len);
	len = bt_good(); s.b.nframes = IMG_BT_FRAMES_MAX + 1;
	bt_refused("65 frames", sizeof(s.b) + (IMG_BT_FRAMES_MAX + 1) * sizeof(s.f[0]) + 8);
	len = bt_good(); s.b.names_len = 0xffffff00u; bt_refused("names_len huge", len);
	len = bt_good(); s.f[1].flags = 0x100; bt_refused("unknown flags", len);
	len = bt_good(); s.f[0].name = 8; bt_refused("name past the names", len);
	len = bt_good(); s.f[0].name = 4; bt_refused("empty name", len);
	/* the last name not NUL-terminated inside the record */
	len = bt_good();
	names = (char *)(s.f + 3);
	names[7] = 'c';
	bt_refused("unterminated", len);
	/* 255 bytes and a NUL: the longest name; 256 and a NUL: refused */
	for (int n = IMG_BT_NAME_MAX - 1; n <= IMG_BT_NAME_MAX; n++) {
		char err[256];

		memset(&s, 0, sizeof(s));
		s.b.tid = 7;
		s.b.nframes = 1;
		names = (char *)(s.f + 1);
		memset(names, 'x', n);
		names[n] = 0;
		s.b.names_len = n + 1;
		len = sizeof(s.b) + sizeof(s.f[0]) + n + 1;
		if (n < IMG_BT_NAME_MAX) {
			CU_ASSERT_PTR_NOT_NULL(bt_check(len, err, sizeof(err)));
		} else {
			bt_refused("a name of 256 bytes", len);
		}
	}
}

static void test_bt_wrong_type(void)
{
	struct img_reader r;
	struct img_rec rec = { .type = IMG_REC_MLOCK, .len = bt_good(), .data = &s };

	memset(&r, 0, sizeof(r));
	CU_ASSERT_PTR_NULL(img_get_backtrace(&r, &rec));
	CU_ASSERT_EQUAL(r.code, IMG_ERR_CORRUPT);
}

UNIT_SUITE(img_bt,
	   { "a good record, its names", test_bt_good },
	   { "every malformed record refused", test_bt_bad },
	   { "another record type refused", test_bt_wrong_type });
