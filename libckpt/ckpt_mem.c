/*
 * ckpt_mem.c - page data: which pages of each mapping go into the image,
 * and how they are written.
 *
 * A page is saved when it holds something the restore cannot get
 * elsewhere:
 *   - anonymous (private or shared) mappings: a page that exists
 *     (pagemap: present or swapped) and is not all zeros.  A missing or
 *     zero page comes back as a fresh zero page.
 *   - private file mappings: a page that the process wrote (pagemap:
 *     present or swapped, and not a page-cache page), zero or not; a
 *     zero one is stored as a ZERO run.  Clean pages come from the file.
 *   - [vdso]: all of it, so the restarter can prove its vdso is the same.
 * Runs of saved pages (at most IMG_PAGES_MAX) become one PAGES record,
 * Snappy-compressed unless that does not save 1/8; the compression and
 * checksums run on every CPU (ckpt_pool.c), the records go out in order.
 *
 * Cost: one PAGEMAP_SCAN per 512 runs of pages that exist (Linux 6.7;
 * else one mincore() per 4 GiB and pagemap around the resident pages: a
 * 2 TiB reservation with 5 pages touched took 3-9 s with pagemap alone,
 * 0.35-0.6 s so, and is 5 runs with PAGEMAP_SCAN),
 * one pass over every saved page to test for zeros (the leader), one to
 * compress it (a worker, or the leader when it would otherwise wait).
 * Pages of a mapping the process cannot read are copied through
 * /proc/self/mem.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_incr.h"
#include "libckpt/ckpt_uffd.h"

#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD	(1 << 8)	/* Linux 6.15 */
#endif

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAPPED	(1ULL << 62)
#define PM_FILE		(1ULL << 61)	/* page cache or shared anon */
#define PM_GUARD	(1ULL << 58)	/* a guard region (Linux 6.15 says so) */
#define PM_SWAP_TYPE	0x1fULL		/* of a swap entry: bits 0-4 (root only) */
#define PM_CHUNK	512		/* entries per pagemap read */

/*
 * A PTE marker reads as "swapped" but holds no page.  Markers are what
 * write-protecting unpopulated memory leaves (ckpt_dirty.c: a VMA new
 * since the parent is protected whole before it is saved whole), guard
 * regions (MADV_GUARD_INSTALL) and poisoned pages.  Reading a guard page
 * kills the process; reading a write-protect marker costs a fault (2.9 ms
 * for a new thread's 8 MiB stack at an incremental checkpoint).  A guard
 * region has its own bit; other markers show as the last swap type (31,
 * SWP_PTE_MARKER; real swap files have lower ones), which the kernel
 * shows to root only: an unprivileged process reads its write-protect
 * markers, slowly but right.
 */
int ckpt_pm_has_page(uint64_t pm)
{
	if (pm & PM_PRESENT)
		return 1;
	return (pm & PM_SWAPPED) && !(pm & PM_GUARD) && (pm & PM_SWAP_TYPE) != PM_SWAP_TYPE;
}

int ckpt_pm_guard(uint64_t pm)
{
	return !(pm & PM_PRESENT) && (pm & PM_GUARD);
}

enum page_kind { PAGE_SKIP, PAGE_DATA, PAGE_ZERO };

/* Reads pagemap entries for npages pages from addr into c->pagemap. */
int ckpt_mem_pagemap(struct ckpt_ctx *c, uint64_t addr, size_t npages)
{
	size_t want = npages * 8, got = 0;
	off_t off = (addr / IMG_PAGE_SIZE) * 8;

	while (got < want) {
		ssize_t n = pread(c->pagemap_fd, (char *)c->pagemap + got, want - got, off + got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ckpt_fail(c, n < 0 ? -errno : -EIO,
					 "cannot read /proc/self/pagemap at %lx", (unsigned long)addr);
		got += n;
	}
	return 0;
}

/* Pages at addr, readable: in place, or copied into buf through /proc/self/mem. */
static const void *pages_src(struct ckpt_ctx *c, const struct ckpt_vma *v,
			     uint64_t addr, size_t len, unsigned char *buf)
{
	size_t got = 0;

	if (v->prot & PROT_READ)
		return (const void *)addr;
	while (got < len) {
		ssize_t n = pread(c->mem_fd, buf + got, len - got, addr + got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ckpt_fail(c, n < 0 ? -errno : -EIO, "cannot read memory at %lx through /proc/self/mem",
				  (unsigned long)addr);
			return NULL;
		}
		got += n;
	}
	return buf;
}

/* One initialised and one zero variable: where libckpt's .data and .bss are. */
static int mem_data_marker = 1;
static int mem_bss_marker;

/*
 * Whether v is memory the checkpoint itself writes while the pages are
 * being written: the stack this code runs on, the leader's TLS (errno,
 * libckpt's thread variables), libckpt's own .data and .bss.  A run of
 * such memory is copied before it is posted.  Compressing bytes that
 * change meanwhile (a worker reads them while this thread writes them)
 * can make a stream that decodes to bytes that never were, not even for
 * the bytes that did not change: a Snappy copy repeats earlier input as
 * it was when it was emitted, but was matched against it as it was
 * later.  The saved signal frame of the leader lies in such a run; a
 * corrupted one made the restored process die in rt_sigreturn.
 */
/* ckpt_mem_hot without the TLS: the leader's stack, libckpt's .data and .bss. */
int ckpt_mem_hot_notls(const struct ckpt_ctx *c, const struct ckpt_vma *v)
{
	const uintptr_t at[] = { (uintptr_t)__builtin_frame_address(0),
				 (uintptr_t)&mem_data_marker, (uintptr_t)&mem_bss_marker };

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		if (at[i] >= v->start && at[i] < v->end)
			return 1;
	return 0;
}

int ckpt_mem_hot(const struct ckpt_ctx *c, const struct ckpt_vma *v)
{
	const uintptr_t at[] = { (uintptr_t)__builtin_frame_address(0), c->leader.img.fs_base,
				 (uintptr_t)&mem_data_marker, (uintptr_t)&mem_bss_marker };

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		if (at[i] >= v->start && at[i] < v->end)
			return 1;
	return 0;
}

/* One run to the pool (ckpt_pool.c), which compresses and writes it in order. */
static int write_run(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr,
		     uint32_t npages, enum page_kind kind)
{
	size_t raw = (size_t)npages * IMG_PAGE_SIZE;
	const void *src = NULL;
	int stable = 0;

	if (kind == PAGE_DATA) {
		int copy = !(v->prot & PROT_READ) || ckpt_mem_hot(c, v);
		unsigned char *buf = copy ? ckpt_pool_next_buf(c) : NULL;

		src = pages_src(c, v, addr, raw, buf);
		if (!src)
			return c->error;
		if (copy && src != buf) {
			__builtin_memcpy(buf, src, raw);
			src = buf;
		}
		/*
		 * Private memory of the forked copy is frozen (copy-on-write
		 * at the fork; the application writes its own pages): only
		 * what this code writes changes there, and that was copied.
		 * In place, a parked process's memory can still be written by
		 * the kernel (asynchronous I/O) or another process: copied.
		 */
		stable = !copy && c->forked == CKPT_FORKED_CHILD && !(v->flags & IMG_VMA_SHARED);
		c->mem_bytes += raw;
		ckpt_progress(c);
	}
	return ckpt_pool_post(c, addr, npages, kind == PAGE_ZERO, src, stable);
}

/* One PAGES record, through the pool: npages from addr, data or a ZERO run. */
int ckpt_mem_write_run(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr,
		       uint32_t npages, int zero)
{
	return write_run(c, v, addr, npages, zero ? PAGE_ZERO : PAGE_DATA);
}

/* The run being gathered: consecutive pages of one kind. */
struct mem_run {
	uint64_t addr;
	uint32_t n;
	enum page_kind kind;
};

static int run_flush(struct ckpt_ctx *c, const struct ckpt_vma *v, struct mem_run *r)
{
	int n = r->n;

	r->n = 0;
	if (n && write_run(c, v, r->addr, n, r->kind) < 0)
		return c->w.error ? c->w.error : c->error;
	return 0;
}

/*
 * One page of kind k at addr: joins the run, or ends it and starts one.
 * A run also ends at every multiple of IMG_PAGES_MAX pages of address, so
 * no record straddles a 2 MiB boundary: a restart puts whole 2 MiB
 * windows of records in as huge pages (restart/restart_fill.c).  Costs
 * at most one record more per mapping.
 */
#define RUN_ALIGN	((uint64_t)IMG_PAGES_MAX * IMG_PAGE_SIZE)

static int run_add(struct ckpt_ctx *c, const struct ckpt_vma *v, struct mem_run *r,
		   uint64_t addr, enum page_kind k)
{
	if (r->n && (k != r->kind || r->n == IMG_PAGES_MAX || !(addr & (RUN_ALIGN - 1)) ||
		     addr != r->addr + (uint64_t)r->n * IMG_PAGE_SIZE) && run_flush(c, v, r) < 0)
		return -1;
	if (k == PAGE_SKIP)
		return 0;
	if (!r->n) {
		r->addr = addr;
		r->kind = k;
	}
	r->n++;
	return 0;
}

/* What a page that holds something becomes: data, a ZERO run, or nothing. */
static enum page_kind page_kind(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr)
{
	const void *src;

	if (v->flags & IMG_VMA_VDSO)
		return PAGE_DATA;	/* all of it, mapped in or not */
	src = pages_src(c, v, addr, IMG_PAGE_SIZE, c->bounce);
	if (!src)
		return PAGE_SKIP;
	if (v->flags & IMG_VMA_FILE)	/* a copy the process made: zero or not */
		return ckpt_is_zero(src, IMG_PAGE_SIZE) ? PAGE_ZERO : PAGE_DATA;
	if (ckpt_is_zero(src, IMG_PAGE_SIZE)) {
		c->zero_pages++;
		return PAGE_SKIP;
	}
	return PAGE_DATA;
}

#define MEM_PREFETCH	16	/* pages ahead */

static int mem_run_fn(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr,
		      uint64_t npages, int kind, void *arg)
{
	struct mem_run *r = arg;

	switch (kind) {
	case CKPT_RUN_FILE:		/* still the file's page */
	case CKPT_RUN_GUARD:
	case CKPT_RUN_EXCL:
		return 0;
	case CKPT_RUN_ZERO:
		if (!(v->flags & IMG_VMA_FILE)) {
			c->zero_pages += npages;
			return 0;
		}
		break;
	}
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t a = addr + i * IMG_PAGE_SIZE;
		enum page_kind k;

		/*
		 * The zero test reads one line of each page, a cache and TLB
		 * miss each that the hardware does not prefetch across pages:
		 * 62 ms a GiB in a forked copy, a quarter of its leader's time
		 * (issue #15).  Asking for the line MEM_PREFETCH pages ahead
		 * overlaps the misses.  A prefetch never faults, so a page that
		 * is not readable costs nothing.
		 */
		if (i + MEM_PREFETCH < npages && (v->prot & PROT_READ))
			__builtin_prefetch((const void *)(a + MEM_PREFETCH * IMG_PAGE_SIZE));
		k = page_kind(c, v, a);

		if (c->error || run_add(c, v, r, a, k) < 0)
			return c->error ? c->error : -1;
	}
	return 0;
}

static int mem_write_vma(struct ckpt_ctx *c, const struct ckpt_vma *v)
{
	struct mem_run r = { 0, 0, PAGE_SKIP };
	int e = ckpt_mem_each_run(c, v, mem_run_fn, &r);

	if (e)
		return c->w.error ? c->w.error : c->error ? c->error : e;
	return run_flush(c, v, &r);
}

/* Starts the pool unless it runs; finishes it if started here. */
static int mem_pool_begin(struct ckpt_ctx *c)
{
	if (c->pool)
		return 0;
	return ckpt_pool_start(c) < 0 ? -1 : 1;
}

static int mem_pool_end(struct ckpt_ctx *c, int began, int r)
{
	if (began > 0 && ckpt_pool_finish(c) < 0 && r == 0)
		r = c->w.error;
	return r;
}

int ckpt_mem_write_vma(struct ckpt_ctx *c, const struct ckpt_vma *v)
{
	int began = mem_pool_begin(c);

	if (began < 0)
		return c->error;
	return mem_pool_end(c, began, mem_write_vma(c, v));
}

/*
 * Every saved mapping's pages, in address order.  PAGES runs go through
 * the pool (written in the order posted); MPAGES runs (mappable images)
 * are written by this thread straight to the image, so the pool is
 * finished (every posted run written) before one, and started again
 * after it when more PAGES runs come.
 */
int ckpt_mem_write(struct ckpt_ctx *c)
{
	int r = 0;

	for (int i = 0; i < c->nvmas && r == 0; i++) {
		const struct ckpt_vma *v = &c->vmas[i];

		if (!(v->flags & IMG_VMA_PAGES))
			continue;
		if (ckpt_mpages_eligible(c, v)) {
			if (c->pool && ckpt_pool_finish(c) < 0)
				r = c->w.error ? c->w.error : c->error;
			else if (ckpt_mpages_write_vma(c, v) < 0)
				r = c->error ? c->error : c->w.error;
			continue;
		}
		if (!c->pool && ckpt_pool_start(c) < 0)
			return c->error;
		/* tracked since the parent: only its dirty pages (ckpt_dirty.c) */
		if ((ckpt_dirty_owns(c, i) ? ckpt_dirty_write_vma(c, i) : mem_write_vma(c, v)) < 0)
			r = c->error ? c->error : c->w.error;
	}
	if (c->pool && ckpt_pool_finish(c) < 0 && r == 0)
		r = c->w.error;
	return r ? r : c->w.error;
}
