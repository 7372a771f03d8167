/*
 * test_inplace.c - the small-process rule of transparent checkpoints
 * (shim/shim_inplace.c): /proc/self/status parsed for RssAnon and
 * Threads, and what counts as small.
 */
#include "shim/shim_int.h"
#include "tests/unit/unit.h"

static const char ti_status[] =
	"Name:\tcli1m\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1834\n"
	"VmRSS:\t    3452 kB\nRssAnon:\t    1280 kB\nRssFile:\t    2172 kB\n"
	"RssShmem:\t       0 kB\nThreads:\t1\nSigQ:\t0/95738\n";

static void test_parse(void)
{
	long anon = 0, thr = 0;

	CU_ASSERT_EQUAL(shim_inplace_parse(ti_status, &anon, &thr), 0);
	CU_ASSERT_EQUAL(anon, 1280);
	CU_ASSERT_EQUAL(thr, 1);
	/* a key only at the start of a line, and only the whole key */
	CU_ASSERT_EQUAL(shim_inplace_parse("XRssAnon:\t5 kB\nThreads:\t2\n", &anon, &thr), -1);
	CU_ASSERT_EQUAL(shim_inplace_parse("RssAnonX:\t5 kB\nThreads:\t2\n", &anon, &thr), -1);
	CU_ASSERT_EQUAL(shim_inplace_parse("RssAnon:\t5 kB\nThreads:\t2\n", &anon, &thr), 0);
	CU_ASSERT_EQUAL(anon, 5);
	CU_ASSERT_EQUAL(thr, 2);
	/* missing, empty, no number, absurd: unknown (the caller forks) */
	CU_ASSERT_EQUAL(shim_inplace_parse("", &anon, &thr), -1);
	CU_ASSERT_EQUAL(shim_inplace_parse("RssAnon:\t5 kB\n", &anon, &thr), -1);
	CU_ASSERT_EQUAL(shim_inplace_parse("RssAnon:\t kB\nThreads:\t1\n", &anon, &thr), -1);
	CU_ASSERT_EQUAL(shim_inplace_parse("RssAnon:\t5 kB\nThreads:\t0\n", &anon, &thr), -1);
	CU_ASSERT_EQUAL(shim_inplace_parse("RssAnon:\t99999999999999999999 kB\nThreads:\t1\n",
					   &anon, &thr), -1);
	/* a value cut short by the end of the buffer is unknown, not smaller */
	CU_ASSERT_EQUAL(shim_inplace_parse("Threads:\t3\nRssAnon:\t12", &anon, &thr), -1);
}

static void test_small(void)
{
	CU_ASSERT_TRUE(shim_inplace_small(1280, 1));
	CU_ASSERT_TRUE(shim_inplace_small(SHIM_INPLACE_KIB, SHIM_INPLACE_THREADS));
	CU_ASSERT_FALSE(shim_inplace_small(SHIM_INPLACE_KIB + 1, 1));
	CU_ASSERT_FALSE(shim_inplace_small(100, SHIM_INPLACE_THREADS + 1));
	CU_ASSERT_FALSE(shim_inplace_small(1L << 20, 1));	/* 1 GiB */
}

UNIT_SUITE(inplace,
	   { "status: RssAnon and Threads parsed, anything else unknown", test_parse },
	   { "small: at most 2 MiB private and 4 threads", test_small });
