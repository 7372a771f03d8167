/*
 * test_excl.c - the excluded-memory set (libckpt/ckpt_excl.c) on its
 * own: merging, splitting, the limits, and the walk that cuts a range
 * into kept and excluded parts.  The set is process-wide: every test
 * leaves it empty.
 */
#include <errno.h>
#include "libckpt/ckpt.h"
#include "tests/unit/unit.h"

#define P	IMG_PAGE_SIZE
#define B	0x100000000ull		/* far from anything the test maps: only numbers here */

static void expect(const uint64_t *want, uint32_t nwant)
{
	uint32_t n;
	const struct img_range *r = ckpt_excl_ranges(&n);

	CU_ASSERT_EQUAL_FATAL(n, nwant);
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(r[i].start, want[2 * i]);
		CU_ASSERT_EQUAL(r[i].end, want[2 * i + 1]);
	}
}

static void clear(void)
{
	CU_ASSERT_EQUAL(ckpt_excl_set(0, ~0ull & ~(uint64_t)(P - 1), 0), 0);
	expect(NULL, 0);
}

static void test_bad_ranges(void)
{
	unsigned g = ckpt_excl_gen();

	CU_ASSERT_EQUAL(ckpt_excl_set(B + 1, P, 1), -EINVAL);
	CU_ASSERT_EQUAL(ckpt_excl_set(B, P + 1, 1), -EINVAL);
	CU_ASSERT_EQUAL(ckpt_excl_set(B, 0, 1), -EINVAL);
	CU_ASSERT_EQUAL(ckpt_excl_set(~0ull & ~(uint64_t)(P - 1), 2 * P, 1), -EINVAL);
	CU_ASSERT_EQUAL(ckpt_excl_gen(), g);
	expect(NULL, 0);
}

static void test_merge_and_split(void)
{
	unsigned g = ckpt_excl_gen();

	CU_ASSERT_EQUAL(ckpt_excl_set(B + 4 * P, 2 * P, 1), 0);
	CU_ASSERT_EQUAL(ckpt_excl_set(B, 2 * P, 1), 0);
	expect((uint64_t[]){ B, B + 2 * P, B + 4 * P, B + 6 * P }, 2);
	/* adjacent on both sides: one range */
	CU_ASSERT_EQUAL(ckpt_excl_set(B + 2 * P, 2 * P, 1), 0);
	expect((uint64_t[]){ B, B + 6 * P }, 1);
	CU_ASSERT_EQUAL(ckpt_excl_gen(), g);
	/* a hole in the middle, then trimming an end */
	CU_ASSERT_EQUAL(ckpt_excl_set(B + 2 * P, P, 0), 0);
	expect((uint64_t[]){ B, B + 2 * P, B + 3 * P, B + 6 * P }, 2);
	CU_ASSERT_EQUAL(ckpt_excl_set(B + 5 * P, 4 * P, 0), 0);
	expect((uint64_t[]){ B, B + 2 * P, B + 3 * P, B + 5 * P }, 2);
	CU_ASSERT_NOT_EQUAL(ckpt_excl_gen(), g);
	/* overlapping both: merged whole */
	CU_ASSERT_EQUAL(ckpt_excl_set(B + P, 3 * P, 1), 0);
	expect((uint64_t[]){ B, B + 5 * P }, 1);
	clear();
}

static void test_limit(void)
{
	unsigned g = ckpt_excl_gen();
	uint32_t n;

	for (int i = 0; i < CKPT_EXCL_MAX; i++)
		CU_ASSERT_EQUAL(ckpt_excl_set(B + (uint64_t)i * 4 * P, 3 * P, 1), 0);
	CU_ASSERT_EQUAL(ckpt_excl_set(B + (uint64_t)CKPT_EXCL_MAX * 4 * P, P, 1), -ENOSPC);
	/* an include that would split a range: refused too, the set as it was */
	CU_ASSERT_EQUAL(ckpt_excl_set(B + P, P, 0), -ENOSPC);
	CU_ASSERT_EQUAL(ckpt_excl_gen(), g);
	ckpt_excl_ranges(&n);
	CU_ASSERT_EQUAL(n, CKPT_EXCL_MAX);
	/* filling a gap merges two: room for one more */
	CU_ASSERT_EQUAL(ckpt_excl_set(B + 3 * P, P, 1), 0);
	ckpt_excl_ranges(&n);
	CU_ASSERT_EQUAL(n, CKPT_EXCL_MAX - 1);
	CU_ASSERT_EQUAL(ckpt_excl_set(B + (uint64_t)CKPT_EXCL_MAX * 4 * P, P, 1), 0);
	clear();
}

struct part { uint64_t s, e; int x; };
struct parts { struct part p[8]; int n; };

static int note(uint64_t s, uint64_t e, int x, void *arg)
{
	struct parts *ps = arg;

	if (ps->n < 8)
		ps->p[ps->n++] = (struct part){ s, e, x };
	return 0;
}

static void test_each(void)
{
	struct parts ps = { .n = 0 };

	CU_ASSERT_EQUAL(ckpt_excl_set(B + 2 * P, 2 * P, 1), 0);
	CU_ASSERT_EQUAL(ckpt_excl_set(B + 6 * P, 2 * P, 1), 0);
	CU_ASSERT_EQUAL(ckpt_excl_each(B + 3 * P, B + 10 * P, note, &ps), 0);
	CU_ASSERT_EQUAL_FATAL(ps.n, 4);
	CU_ASSERT(ps.p[0].s == B + 3 * P && ps.p[0].e == B + 4 * P && ps.p[0].x);
	CU_ASSERT(ps.p[1].s == B + 4 * P && ps.p[1].e == B + 6 * P && !ps.p[1].x);
	CU_ASSERT(ps.p[2].s == B + 6 * P && ps.p[2].e == B + 8 * P && ps.p[2].x);
	CU_ASSERT(ps.p[3].s == B + 8 * P && ps.p[3].e == B + 10 * P && !ps.p[3].x);
	/* a range the set does not touch: one kept part */
	ps.n = 0;
	CU_ASSERT_EQUAL(ckpt_excl_each(B + 20 * P, B + 21 * P, note, &ps), 0);
	CU_ASSERT(ps.n == 1 && !ps.p[0].x && ps.p[0].s == B + 20 * P);
	clear();
}

UNIT_SUITE(excl, { "bad ranges", test_bad_ranges }, { "merge and split", test_merge_and_split },
	   { "limit", test_limit }, { "each", test_each });
