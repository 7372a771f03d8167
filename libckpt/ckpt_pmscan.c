/*
 * ckpt_pmscan.c - which pages of a mapping hold something: the runs that
 * ckpt_mem.c and ckpt_mpages.c read, and the guard regions they must not.
 *
 * PAGEMAP_SCAN (Linux 6.7) returns runs of pages that share their
 * categories, skipping whole page tables that hold nothing: a 2 TiB
 * MAP_NORESERVE reservation with 5 pages touched (ASan's shadow, Go's and
 * JVMs' heaps) is 5 runs and a few microseconds, where reading
 * /proc/self/pagemap 512 entries at a time walked its 512 Mi entries in
 * about 3 s.  For dense memory it costs ~3 ms per GiB (pagemap: ~7).
 * What each run is:
 *   present, the shared zero page      CKPT_RUN_ZERO (no need to read it)
 *   present, a page-cache page         CKPT_RUN_FILE (file mappings only)
 *   present, other                     CKPT_RUN_PAGE
 *   a guard region (6.15: PAGE_IS_GUARD) CKPT_RUN_GUARD
 *   swapped                            looked at page by page in pagemap,
 *                                      as without PAGEMAP_SCAN: a PTE
 *                                      marker (userfaultfd write-protect,
 *                                      guards before 6.15) reads as
 *                                      "swapped" too, and pagemap tells
 *                                      more (ckpt_pm_has_page)
 * For [vdso] and image-backed mappings (every page read) the runs come
 * from pagemap entries.  Without PAGEMAP_SCAN (Linux 6.1-6.6) a mapping
 * is first asked of mincore(), one byte a page and empty page tables
 * skipped in the kernel (2 TiB with 5 pages: ~0.35 s here, where pagemap
 * read 512 entries at a time took 3-9 s), and pagemap read only around
 * the resident pages it finds: exact while no swap area is on (mc_runs);
 * a mapping smaps says holds nothing is skipped.  Pages the program
 * excluded (ckpt_exclude: libckpt/ckpt_excl.c) are cut out of every run.
 *
 * Shared anonymous memory is an object of its own: a page another
 * process wrote (a worker of a pre-fork server, a child since gone) is
 * in the object but has no PTE in this process, and pagemap (or
 * PAGEMAP_SCAN) says "nothing here" — its data was lost.  Its runs come
 * from mincore(), which says which pages the object holds, whoever
 * touched them, or'ed with this process's own pagemap (a page of it in
 * swap that this process maps: mincore does not count swap).  Not seen:
 * a page in swap that only another process maps (SysV segments read
 * whole then, ckpt_sysv.c; here there is no count of them to tell).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_kfeat.h"
#include "libckpt/ckpt_uffd.h"

#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD	(1 << 8)	/* Linux 6.15 */
#endif

#define PM_PRESENT	(1ULL << 63)
#define PM_FILE		(1ULL << 61)
#define PM_CHUNK	512		/* pagemap entries per read */
#define PMVEC_LEN	512		/* regions per PAGEMAP_SCAN (c->pmvec) */
#define MC_GAP		PM_CHUNK	/* resident pages this near: one span */

static int pm_level = -1;

int ckpt_pm_scan_level(void)
{
	struct pm_scan_arg a = { .size = sizeof(a), .return_mask = PAGE_IS_PRESENT };
	int fd, lvl = 0;

	if (pm_level >= 0)
		return pm_level;
	if (ckpt_kfeat_off(CKPT_KF_PAGEMAP_SCAN))
		return pm_level = 0;
	/* an empty range: only the arguments are checked (unknown category: EINVAL) */
	fd = ckpt_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
	if (fd >= 0) {
		if (arch_sys3(SYS_ioctl, fd, PAGEMAP_SCAN, &a) >= 0) {
			lvl = 1;
			a.return_mask |= PAGE_IS_GUARD;
			if (arch_sys3(SYS_ioctl, fd, PAGEMAP_SCAN, &a) >= 0)
				lvl |= 2;
		}
		ckpt_close(fd);
	}
	pm_level = lvl;
	return lvl;
}

/* What pagemap says of one page: a CKPT_RUN_* kind, or 0 (nothing there). */
static int pm_kind(const struct ckpt_vma *v, uint64_t pm)
{
	if (ckpt_pm_guard(pm))
		return CKPT_RUN_GUARD;
	if (v->backed || (v->flags & IMG_VMA_VDSO))
		return CKPT_RUN_PAGE;	/* every page, mapped in or not */
	if (!ckpt_pm_has_page(pm))
		return 0;
	if ((v->flags & IMG_VMA_FILE) && (pm & PM_PRESENT) && (pm & PM_FILE))
		return CKPT_RUN_FILE;
	return CKPT_RUN_PAGE;
}

/* Runs of [addr, addr + npages) from pagemap entries, one read per PM_CHUNK pages. */
static int pm_runs(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr, uint64_t npages,
		   ckpt_run_fn fn, void *arg)
{
	uint64_t run_addr = 0, run_n = 0;
	int run_kind = 0, r;

	for (uint64_t done = 0; done < npages; done += PM_CHUNK) {
		uint64_t base = addr + done * IMG_PAGE_SIZE;
		size_t n = npages - done < PM_CHUNK ? npages - done : PM_CHUNK;

		if (ckpt_mem_pagemap(c, base, n) < 0)
			return c->error;
		for (size_t i = 0; i < n; i++) {
			int k = pm_kind(v, c->pagemap[i]);

			if (run_n && k == run_kind) {
				run_n++;
				continue;
			}
			if (run_n && (r = fn(c, v, run_addr, run_n, run_kind, arg)))
				return r;
			run_n = k != 0;
			run_addr = base + i * IMG_PAGE_SIZE;
			run_kind = k;
		}
	}
	return run_n ? fn(c, v, run_addr, run_n, run_kind, arg) : 0;
}

static int scan_runs(struct ckpt_ctx *c, const struct ckpt_vma *v, int lvl, ckpt_run_fn fn,
		     void *arg)
{
	const uint64_t guard = lvl & 2 ? PAGE_IS_GUARD : 0;
	uint64_t start = v->start;
	int r;

	while (start < v->end) {
		struct pm_scan_arg a = {
			.size = sizeof(a), .start = start, .end = v->end,
			.vec = (uintptr_t)c->pmvec, .vec_len = PMVEC_LEN,
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | guard,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO | guard |
				       (v->flags & IMG_VMA_FILE ? PAGE_IS_FILE : 0),
		};
		long n;

		do
			n = arch_sys3(SYS_ioctl, c->pagemap_fd, PAGEMAP_SCAN, &a);
		while (n == -EINTR);
		if (n < 0)
			return ckpt_fail(c, (int)n, "cannot scan memory at %lx (PAGEMAP_SCAN)",
					 (unsigned long)start);
		for (long i = 0; i < n; i++) {
			const struct page_region *g = &c->pmvec[i];
			uint64_t np = (g->end - g->start) / IMG_PAGE_SIZE;
			int kind = CKPT_RUN_PAGE;

			if (g->categories & PAGE_IS_GUARD)
				kind = CKPT_RUN_GUARD;
			else if (!(g->categories & PAGE_IS_PRESENT))
				kind = 0;	/* swapped: pagemap says more */
			else if (g->categories & PAGE_IS_FILE)
				kind = CKPT_RUN_FILE;
			else if (g->categories & PAGE_IS_PFNZERO)
				kind = CKPT_RUN_ZERO;
			r = kind ? fn(c, v, g->start, np, kind, arg) : pm_runs(c, v, g->start, np, fn, arg);
			if (r)
				return r;
		}
		if (a.walk_end <= start)	/* never: the walk always moves on */
			return ckpt_fail(c, -EIO, "PAGEMAP_SCAN at %lx did not move on",
					 (unsigned long)start);
		start = a.walk_end;
	}
	return 0;
}

/* Runs of a shared anonymous mapping: the pages its object holds (mincore) or this process maps. */
static int shm_runs(struct ckpt_ctx *c, const struct ckpt_vma *v, ckpt_run_fn fn, void *arg)
{
	uint64_t npages = (v->end - v->start) / IMG_PAGE_SIZE, run_addr = 0, run_n = 0;
	unsigned char vec[PM_CHUNK];
	int r;

	for (uint64_t done = 0; done < npages; done += PM_CHUNK) {
		uint64_t base = v->start + done * IMG_PAGE_SIZE;
		size_t n = npages - done < PM_CHUNK ? npages - done : PM_CHUNK;
		long e = arch_sys3(SYS_mincore, base, n * IMG_PAGE_SIZE, vec);

		if (e < 0)
			return ckpt_fail(c, (int)e, "cannot tell which pages of shared memory "
					 "%lx-%lx are held (mincore): %s", (unsigned long)v->start,
					 (unsigned long)v->end, ckpt_strerror((int)e));
		if (ckpt_mem_pagemap(c, base, n) < 0)
			return c->error;
		for (size_t i = 0; i < n; i++) {
			int k = (vec[i] & 1) || ckpt_pm_has_page(c->pagemap[i]) ? CKPT_RUN_PAGE : 0;

			if (ckpt_pm_guard(c->pagemap[i]))
				k = CKPT_RUN_GUARD;
			if (run_n && k == CKPT_RUN_PAGE && run_addr + run_n * IMG_PAGE_SIZE ==
			    base + i * IMG_PAGE_SIZE) {
				run_n++;
				continue;
			}
			if (run_n && (r = fn(c, v, run_addr, run_n, CKPT_RUN_PAGE, arg)))
				return r;
			run_n = 0;
			if (k == CKPT_RUN_GUARD && (r = fn(c, v, base + i * IMG_PAGE_SIZE, 1, k, arg)))
				return r;
			if (k == CKPT_RUN_PAGE) {
				run_addr = base + i * IMG_PAGE_SIZE;
				run_n = 1;
			}
		}
	}
	return run_n ? fn(c, v, run_addr, run_n, CKPT_RUN_PAGE, arg) : 0;
}

/* A run with the excluded ranges (ckpt_excl.c) cut out: its parts to the caller's fn. */
struct excl_cut {
	struct ckpt_ctx *c;
	const struct ckpt_vma *v;
	ckpt_run_fn fn;
	void *arg;
	int kind;
};

static int excl_part(uint64_t s, uint64_t e, int excluded, void *arg)
{
	struct excl_cut *x = arg;

	return x->fn(x->c, x->v, s, (e - s) / IMG_PAGE_SIZE, excluded ? CKPT_RUN_EXCL : x->kind,
		     x->arg);
}

static int excl_run(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr, uint64_t npages,
		    int kind, void *arg)
{
	struct excl_cut x = *(struct excl_cut *)arg;

	if (kind == CKPT_RUN_GUARD)
		return x.fn(c, v, addr, npages, kind, x.arg);
	x.kind = kind;
	return ckpt_excl_each(addr, addr + npages * IMG_PAGE_SIZE, excl_part, &x);
}

/*
 * Whether a page may be in swap: some swap area is on, or is being
 * turned off with pages still in it (sysinfo's totalswap counts those).
 * Can't tell: yes.
 */
static int swap_on(void)
{
	struct ckpt_sysinfo si;

	if (ckpt_kfeat_off(CKPT_KF_MINCORE))
		return 1;	/* the test library, to take the pagemap path */
	return arch_sys1(SYS_sysinfo, &si) < 0 || si.totalswap != 0;
}

/* The pages of [lo, hi) where vec[lo - base ..] says "resident", as runs from pagemap. */
static int mc_spans(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t base, size_t n,
		    ckpt_run_fn fn, void *arg)
{
	const unsigned char *vec = c->mcvec;
	size_t s = 0, e = 0;		/* the span being gathered: [s, e), empty if e == 0 */
	int r;

	for (size_t i = 0; i < n; i++) {
		if ((i & 7) == 0 && i + 8 <= n) {
			uint64_t w;

			__builtin_memcpy(&w, vec + i, 8);
			if (!w) {
				i += 7;
				continue;
			}
		}
		if (!(vec[i] & 1))
			continue;
		if (e && i - e < MC_GAP) {	/* near: one pagemap read covers the gap */
			e = i + 1;
			continue;
		}
		if (e && (r = pm_runs(c, v, base + s * IMG_PAGE_SIZE, e - s, fn, arg)))
			return r;
		s = i;
		e = i + 1;
	}
	return e ? pm_runs(c, v, base + s * IMG_PAGE_SIZE, e - s, fn, arg) : 0;
}

/*
 * Without PAGEMAP_SCAN: the runs of a private mapping from mincore(),
 * one byte a page and whole page tables skipped in the kernel, and
 * pagemap only where mincore says a page is resident.  Exact while no
 * page can be in swap: mincore (mm/mincore.c, 6.1 as 6.18) says
 * "resident" for a present PTE, a huge PMD, a migration or poison entry
 * and a page in the swap cache, "not" for an empty PTE or page table and
 * a PTE marker (no page in it: pagemap alone read it as swapped, and the
 * read gave zeros) — and "not" for a page swapped out.  So where swap is
 * on, before or after the mincore call, the chunk is read from pagemap
 * whole; swap turned on and off again during one call is not seen.
 * smaps' per-mapping "Swap: 0 kB" is not trusted for this: a page
 * swapped out after smaps was read would be missed.
 * Guard regions are in no run here (mincore: "not resident"): nothing
 * reads them, and the VMA record gets them from ckpt_memattr_guards.
 */
static int mc_runs(struct ckpt_ctx *c, const struct ckpt_vma *v, ckpt_run_fn fn, void *arg)
{
	uint64_t npages = (v->end - v->start) / IMG_PAGE_SIZE;
	int r;

	for (uint64_t done = 0; done < npages; done += CKPT_MCVEC_LEN) {
		uint64_t base = v->start + done * IMG_PAGE_SIZE;
		size_t n = npages - done < CKPT_MCVEC_LEN ? npages - done : CKPT_MCVEC_LEN;
		int swap = swap_on();
		long e = 0;

		/* EAGAIN: the kernel had no page for its answer; try again, a few times */
		for (int t = 0; !swap && t < 100; t++)
			if ((e = arch_sys3(SYS_mincore, base, n * IMG_PAGE_SIZE, c->mcvec)) != -EAGAIN)
				break;
		if (e < 0)
			return ckpt_fail(c, (int)e, "cannot tell which pages of %lx-%lx are resident "
					 "(mincore): %s", (unsigned long)v->start,
					 (unsigned long)v->end, ckpt_strerror((int)e));
		if (swap || swap_on())
			r = pm_runs(c, v, base, n, fn, arg);
		else
			r = mc_spans(c, v, base, n, fn, arg);
		if (r)
			return r;
	}
	return 0;
}

/* Runs without PAGEMAP_SCAN of a mapping that is not shared anonymous memory. */
static int nopmscan_runs(struct ckpt_ctx *c, const struct ckpt_vma *v, ckpt_run_fn fn, void *arg)
{
	uint64_t npages = (v->end - v->start) / IMG_PAGE_SIZE;

	if (v->backed || (v->flags & IMG_VMA_VDSO) || npages <= PM_CHUNK)
		return pm_runs(c, v, v->start, npages, fn, arg);
	/*
	 * smaps said "Rss: 0 kB" and "Swap: 0 kB" (ckpt_memattr.c): no page
	 * but the shared zero page, which is not saved.  Only for private
	 * anonymous memory of normal pages: huge pages are not Rss, and a
	 * private file mapping's zero pages are saved.  Nothing but the
	 * process, which is parked, gives it pages.
	 */
	if ((v->smaps & CKPT_SM_EMPTY) && (v->flags & IMG_VMA_ANON) &&
	    !(v->flags & IMG_VMA_SHARED) && v->byid == CKPT_BYID_NONE)
		return 0;
	return mc_runs(c, v, fn, arg);
}

int ckpt_mem_each_run(struct ckpt_ctx *c, const struct ckpt_vma *v, ckpt_run_fn fn, void *arg)
{
	int lvl = ckpt_pm_scan_level();
	struct excl_cut x = { c, v, fn, arg, 0 };
	uint32_t nx;

	/* every walk of the pages skips what the program excluded */
	if (ckpt_excl_applies(v) && (ckpt_excl_ranges(&nx), nx)) {
		fn = excl_run;
		arg = &x;
	}

	if ((v->flags & (IMG_VMA_SHARED | IMG_VMA_ANON)) == (IMG_VMA_SHARED | IMG_VMA_ANON) &&
	    v->byid == CKPT_BYID_NONE && !v->backed && !(v->flags & IMG_VMA_VDSO))
		return shm_runs(c, v, fn, arg);
	if (!lvl)
		return nopmscan_runs(c, v, fn, arg);
	if (v->backed || (v->flags & IMG_VMA_VDSO))
		return pm_runs(c, v, v->start, (v->end - v->start) / IMG_PAGE_SIZE, fn, arg);
	return scan_runs(c, v, lvl, fn, arg);
}
