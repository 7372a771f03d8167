/*
 * test_ctl.c - the ckpt-save request's image fields (libckpt/ctl_proto.c)
 * and the errno texts of the checkpoint path (ckpt_strerror, ckpt_fmt.c).
 */
#include <errno.h>
#include <string.h>
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ctl_proto.h"
#include "tests/unit/unit.h"

static struct ctl_request tc_req;

static void tc_reset(const char *path, const char *tmp)
{
	memset(&tc_req, 0, sizeof(tc_req));
	tc_req.magic = CTL_REQ_MAGIC;
	tc_req.version = CTL_VERSION;
	tc_req.flags = CTL_F_FSYNC;
	strcpy(tc_req.path, path);
	strcpy(tc_req.tmp_name, tmp);
}

static int tc_parse(void)
{
	struct ctl_request out;

	return ctl_parse_request(&tc_req, sizeof(tc_req), &out);
}

static void test_request_valid(void)
{
	struct ctl_request out;

	tc_reset("/tmp/dir/app.img", "app.img.tmp.0123456789abcdef");
	CU_ASSERT_EQUAL(ctl_parse_request(&tc_req, sizeof(tc_req), &out), 0);
	CU_ASSERT_STRING_EQUAL(out.path, "/tmp/dir/app.img");
	CU_ASSERT_STRING_EQUAL(out.tmp_name, "app.img.tmp.0123456789abcdef");
	CU_ASSERT_EQUAL(out.flags, CTL_F_FSYNC);
	/* an O_TMPFILE: no temporary name */
	tc_reset("/app.img", "");
	CU_ASSERT_EQUAL(tc_parse(), 0);
	/* a pipe: no path at all */
	tc_reset("", "");
	CU_ASSERT_EQUAL(tc_parse(), 0);
	/* the longest path and name that fit */
	tc_reset("", "");
	memset(tc_req.path, 'a', sizeof(tc_req.path) - 1);
	tc_req.path[0] = '/';
	memset(tc_req.tmp_name, 'b', sizeof(tc_req.tmp_name) - 1);
	CU_ASSERT_EQUAL(tc_parse(), 0);
	/* parsed in place, as the handler does */
	tc_reset("/x/y", "y.tmp.1");
	CU_ASSERT_EQUAL(ctl_parse_request(&tc_req, sizeof(tc_req), &tc_req), 0);
	CU_ASSERT_STRING_EQUAL(tc_req.tmp_name, "y.tmp.1");
}

static void test_request_bad_names(void)
{
	static const char *const bad_tmp[] = { ".", "..", "a/b", "/abs", "x/" };

	tc_reset("relative/app.img", "");
	CU_ASSERT_EQUAL(tc_parse(), -1);		/* the path must be absolute */
	tc_reset("", "app.img.tmp.1");
	CU_ASSERT_EQUAL(tc_parse(), -1);		/* a name without a directory */
	for (size_t i = 0; i < sizeof(bad_tmp) / sizeof(bad_tmp[0]); i++) {
		tc_reset("/d/app.img", bad_tmp[i]);
		CU_ASSERT_EQUAL(tc_parse(), -1);
	}
	/* not NUL-terminated */
	tc_reset("", "");
	memset(tc_req.path, 'a', sizeof(tc_req.path));
	tc_req.path[0] = '/';
	CU_ASSERT_EQUAL(tc_parse(), -1);
	tc_reset("/d/app.img", "");
	memset(tc_req.tmp_name, 'b', sizeof(tc_req.tmp_name));
	CU_ASSERT_EQUAL(tc_parse(), -1);
	/* bytes after the NUL: one encoding per message */
	tc_reset("/d/app.img", "n");
	tc_req.path[sizeof(tc_req.path) - 1] = 'x';
	CU_ASSERT_EQUAL(tc_parse(), -1);
	tc_reset("/d/app.img", "n");
	tc_req.tmp_name[5] = 'x';
	CU_ASSERT_EQUAL(tc_parse(), -1);
}

static void test_request_header(void)
{
	struct ctl_request out;

	tc_reset("/d/a", "");
	tc_req.version = 1;			/* the request before the image fields */
	CU_ASSERT_EQUAL(tc_parse(), -1);
	tc_reset("/d/a", "");
	tc_req.flags = 0x100;
	CU_ASSERT_EQUAL(tc_parse(), -1);
	tc_reset("/d/a", "");
	tc_req.reserved = 1;
	CU_ASSERT_EQUAL(tc_parse(), -1);
	tc_reset("/d/a", "");
	/* a version 1 request's size, and one byte more or less */
	CU_ASSERT_EQUAL(ctl_parse_request(&tc_req, 16, &out), -1);
	CU_ASSERT_EQUAL(ctl_parse_request(&tc_req, sizeof(tc_req) - 1, &out), -1);
	CU_ASSERT_EQUAL(ctl_parse_request(NULL, sizeof(tc_req), &out), -1);
}

static void test_strerror(void)
{
	char buf[128];

	CU_ASSERT_STRING_EQUAL(ckpt_strerror(ENOSPC), "No space left on device");
	CU_ASSERT_STRING_EQUAL(ckpt_strerror(-ENOSPC), "No space left on device");
	CU_ASSERT_STRING_EQUAL(ckpt_strerror(EBUSY), "Device or resource busy");
	CU_ASSERT_STRING_EQUAL(ckpt_strerror(EPIPE), "Broken pipe");
	CU_ASSERT_STRING_EQUAL(ckpt_strerror(0), "Success");
	CU_ASSERT_STRING_EQUAL(ckpt_strerror(100000), "Unknown error");
	CU_ASSERT_STRING_EQUAL(ckpt_strerror(-2147483647 - 1), "Unknown error");
	/* every number Linux defines has glibc's text */
	for (int e = 1; e < 134; e++) {
		if (e == 41 || e == 58)		/* no such errno on Linux */
			continue;
		CU_ASSERT_STRING_EQUAL(ckpt_strerror(e), strerror(e));
	}
	ckpt_fmt(buf, sizeof(buf), "cannot write the image: %s", ckpt_strerror(-ENOSPC));
	CU_ASSERT_STRING_EQUAL(buf, "cannot write the image: No space left on device");
}

UNIT_SUITE(ctl,
	   { "request: path and tmp_name accepted", test_request_valid },
	   { "request: bad path and tmp_name refused", test_request_bad_names },
	   { "request: header, size, version 1 refused", test_request_header },
	   { "ckpt_strerror: glibc's texts, no number", test_strerror });
