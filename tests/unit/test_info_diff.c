/*
 * test_info_diff.c - the comparison behind `ckpt-info --diff`
 * (tools/info_diffcmp.c) on images built by hand: pages compared byte
 * for byte where either image holds them and by rule where neither does
 * (zero, the same file, unknown), maps paired by start or by overlap
 * (grown), fds and threads added, removed and changed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tools/info_diff.h"
#include "tests/unit/unit.h"

#define PG	IMG_PAGE_SIZE

/* A side's memory: pages by address, a byte pattern each (0: a zero page). */
struct tid_side {
	uint64_t addr[16];
	int fill[16];
	int n;
	const struct info *in;		/* its image (inherited ranges) */
	unsigned char buf[PG];
};

static int tid_page(void *ctx, int side, uint64_t addr, const unsigned char **data)
{
	struct tid_side *s = (struct tid_side *)ctx + side;

	const struct info *in = s->in;

	for (int i = 0; i < s->n; i++)
		if (s->addr[i] == addr) {
			if (s->fill[i] < 0)
				return -1;
			memset(s->buf, s->fill[i], PG);
			*data = s->buf;
			return 0;
		}
	/* an inherited page: as if its parent could not be read */
	for (size_t i = 0; in && i < in->ninh; i++)
		if (addr >= in->inh[i].start && addr < in->inh[i].end)
			return -1;
	memset(s->buf, 0, PG);		/* what an unheld private page reads */
	*data = s->buf;
	return 0;
}

static struct info_vma tid_vma(uint64_t start, uint64_t npages, uint32_t flags, const char *path)
{
	struct info_vma v;

	memset(&v, 0, sizeof(v));
	v.v.start = start;
	v.v.end = start + npages * PG;
	v.v.prot = 3;
	v.v.flags = flags;
	v.v.ino = 7;
	v.path.s = (char *)path;
	v.path.n = strlen(path);
	return v;
}

/* Page at addr held by side s of in (a run of one page) with fill. */
static void tid_hold(struct info *in, struct info_run *runs, struct tid_side *s, uint64_t addr,
		     int fill)
{
	runs[in->nrun++] = (struct info_run){ .addr = addr, .npages = 1 };
	s->addr[s->n] = addr;
	s->fill[s->n++] = fill;
}

static void test_diff_pages(void)
{
	struct info_vma va[3], vb[3];
	struct info_run ra[8], rb[8];
	struct tid_side sides[2];
	struct info a, b;
	struct info_diff d;
	const uint64_t R = 0x10000, F = 0x40000, Z = 0x80000;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(sides, 0, sizeof(sides));
	/* R: 8 anonymous pages; F: a file's 4 pages; Z: 1000 untouched anonymous pages */
	va[0] = vb[0] = tid_vma(R, 8, IMG_VMA_ANON, "");
	va[1] = vb[1] = tid_vma(F, 4, IMG_VMA_FILE, "/lib/x.so");
	va[2] = vb[2] = tid_vma(Z, 1000, IMG_VMA_ANON, "");
	a.vmas = va; b.vmas = vb; a.nvma = b.nvma = 3;
	a.runs = ra; b.runs = rb;
	sides[0].in = &a;
	sides[1].in = &b;
	/* page 0: same in both; 1: differs; 2: zero in A's run, unheld in B (equal);
	 * 3: only B holds it, non-zero (differs); 4: unknown in B */
	tid_hold(&a, ra, &sides[0], R, 0x11);
	tid_hold(&a, ra, &sides[0], R + PG, 0x22);
	tid_hold(&a, ra, &sides[0], R + 2 * PG, 0);
	tid_hold(&a, ra, &sides[0], R + 4 * PG, 0x44);
	tid_hold(&b, rb, &sides[1], R, 0x11);
	tid_hold(&b, rb, &sides[1], R + PG, 0x23);
	tid_hold(&b, rb, &sides[1], R + 3 * PG, 0x33);
	tid_hold(&b, rb, &sides[1], R + 4 * PG, -1);
	CU_ASSERT_EQUAL_FATAL(info_diff_compute(&a, &b, tid_page, sides, &d), 0);
	CU_ASSERT_EQUAL(d.nmap, 3);
	CU_ASSERT_EQUAL(d.maps_added + d.maps_removed + d.maps_changed, 0);
	CU_ASSERT_EQUAL(d.maps[0].pages, 8);
	CU_ASSERT_EQUAL(d.maps[0].differ, 2);
	CU_ASSERT_EQUAL(d.maps[0].unknown, 1);
	CU_ASSERT_EQUAL(d.maps[1].differ + d.maps[1].unknown, 0);	/* one file, unheld */
	CU_ASSERT_EQUAL(d.maps[2].pages, 1000);
	CU_ASSERT_EQUAL(d.maps[2].differ + d.maps[2].unknown, 0);
	CU_ASSERT_EQUAL(d.pages_differ, 2);
	CU_ASSERT_EQUAL(d.regions_differ, 1);
	info_diff_free(&d);

	/* The file replaced (another mtime): its unheld pages all differ.  An
	 * incremental B: pages in its inherited ranges are visited and asked
	 * for (here: "its parent cannot be read", unknown), the rest still
	 * zero; a page held by a run is the run's, compared. */
	vb[1].v.mtime_ns = 5;
	b.has_parent = 1;
	b.inh = (struct img_range[]){ { R + PG, R + 2 * PG }, { R + 6 * PG, R + 7 * PG },
				      { Z, Z + 10 * PG } };
	b.ninh = 3;
	a.inh = (struct img_range[]){ { R + 6 * PG, R + 8 * PG } };	/* overlaps B's */
	a.ninh = 1;
	CU_ASSERT_EQUAL_FATAL(info_diff_compute(&a, &b, tid_page, sides, &d), 0);
	CU_ASSERT_EQUAL(d.maps[1].changed, DIFF_MAP_FILE);
	CU_ASSERT_EQUAL(d.maps[1].differ, 4);
	CU_ASSERT_EQUAL(d.maps[2].unknown, 10);
	CU_ASSERT_EQUAL(d.maps[2].differ, 0);
	CU_ASSERT_EQUAL(d.maps[0].differ, 2);
	CU_ASSERT_EQUAL(d.maps[0].unknown, 1 + 2);	/* page 4, pages 6-7 */
	info_diff_free(&d);
}

static void test_diff_maps(void)
{
	struct info_vma va[3], vb[3];
	struct info a, b;
	struct info_diff d;
	struct tid_side sides[2];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(sides, 0, sizeof(sides));
	va[0] = tid_vma(0x10000, 4, IMG_VMA_ANON, "");		/* removed */
	va[1] = tid_vma(0x20000, 4, IMG_VMA_ANON | IMG_VMA_HEAP, "[heap]");
	va[2] = tid_vma(0x80000, 2, IMG_VMA_FILE, "/lib/y.so");
	vb[0] = tid_vma(0x20000, 9, IMG_VMA_ANON | IMG_VMA_HEAP, "[heap]");	/* grown */
	vb[1] = tid_vma(0x60000, 1, IMG_VMA_ANON, "");		/* added */
	vb[2] = tid_vma(0x7e000, 4, IMG_VMA_FILE, "/lib/y.so");	/* grew down */
	vb[2].v.prot = 5;
	a.vmas = va; b.vmas = vb; a.nvma = b.nvma = 3;
	CU_ASSERT_EQUAL_FATAL(info_diff_compute(&a, &b, tid_page, sides, &d), 0);
	CU_ASSERT_EQUAL(d.nmap, 4);
	CU_ASSERT_EQUAL(d.maps_removed, 1);
	CU_ASSERT_EQUAL(d.maps_added, 1);
	CU_ASSERT_EQUAL(d.maps_changed, 2);
	CU_ASSERT_PTR_NULL(d.maps[0].b);
	CU_ASSERT_EQUAL(d.maps[1].changed, DIFF_MAP_END);
	CU_ASSERT_EQUAL(d.maps[1].pages, 4);		/* the part both cover */
	CU_ASSERT_PTR_NULL(d.maps[2].a);
	CU_ASSERT_EQUAL(d.maps[3].changed, DIFF_MAP_START | DIFF_MAP_PROT);
	CU_ASSERT_EQUAL(d.maps[3].pages, 2);
	CU_ASSERT_EQUAL(d.maps[3].differ, 2);		/* offset in the file moved */
	info_diff_free(&d);
}

static void test_diff_fds_threads(void)
{
	struct info_file fa[2], fb[2];
	struct info_fd da[2], db[2];
	struct img_thread ta[2], tb[2];
	struct info a, b;
	struct info_diff d;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(fa, 0, sizeof(fa));
	memset(fb, 0, sizeof(fb));
	memset(da, 0, sizeof(da));
	memset(db, 0, sizeof(db));
	memset(ta, 0, sizeof(ta));
	memset(tb, 0, sizeof(tb));
	fa[0].f.kind = fb[0].f.kind = IMG_FILE_REG;
	fa[0].path.s = fb[0].path.s = "/tmp/log";
	fa[0].path.n = fb[0].path.n = 8;
	fa[0].f.id = 1;
	fb[0].f.id = 9;					/* ids are per image: not compared */
	fb[0].f.pos = 100;				/* ... the offset is */
	fa[1].f.kind = fb[1].f.kind = IMG_FILE_CHR;
	fa[1].path.s = fb[1].path.s = "/dev/null";
	fa[1].path.n = fb[1].path.n = 9;
	da[0] = (struct info_fd){ { .fd = 1 }, 0 };
	da[1] = (struct info_fd){ { .fd = 5 }, 1 };	/* removed */
	db[0] = (struct info_fd){ { .fd = 1 }, 0 };
	db[1] = (struct info_fd){ { .fd = 3 }, 1 };	/* added */
	a.files = fa; b.files = fb; a.nfile = b.nfile = 2;
	a.fds = da; b.fds = db; a.nfd = b.nfd = 2;
	ta[0].tid = tb[0].tid = 100;
	ta[1].tid = 101;
	tb[1].tid = 102;
	a.thr = ta; b.thr = tb; a.nthr = b.nthr = 2;
	CU_ASSERT_EQUAL_FATAL(info_diff_compute(&a, &b, tid_page, NULL, &d), 0);
	CU_ASSERT_EQUAL(d.nfd, 3);
	CU_ASSERT_EQUAL(d.fds_added, 1);
	CU_ASSERT_EQUAL(d.fds_removed, 1);
	CU_ASSERT_EQUAL(d.fds_changed, 1);
	CU_ASSERT_EQUAL(d.fds[0].changed, DIFF_FD_POS);	/* by number: 1, 3, 5 */
	CU_ASSERT_EQUAL(d.fds[1].b->d.fd, 3);
	CU_ASSERT_PTR_NULL(d.fds[1].a);
	CU_ASSERT_EQUAL(d.fds[2].a->d.fd, 5);
	CU_ASSERT_EQUAL(d.nthr_same, 1);
	CU_ASSERT_EQUAL_FATAL(d.nthr_added, 1);
	CU_ASSERT_EQUAL(d.thr_added[0], 102);
	CU_ASSERT_EQUAL_FATAL(d.nthr_removed, 1);
	CU_ASSERT_EQUAL(d.thr_removed[0], 101);
	info_diff_free(&d);
}

UNIT_SUITE(info_diff,
	{ "diff: pages by content and by rule", test_diff_pages },
	{ "diff: maps added, removed, grown", test_diff_maps },
	{ "diff: fds and threads", test_diff_fds_threads },
);
