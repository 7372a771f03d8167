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
 * Cost: one pagemap read per 512 pages (8 bytes a page), one pass over
 * every saved page to test for zeros (the leader), one to compress it (a
 * worker, or the leader when it would otherwise wait).  Pages of a
 * mapping the process cannot read are copied through /proc/self/mem.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_incr.h"

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
		c->mem_bytes += raw;
	}
	return ckpt_pool_post(c, addr, npages, kind == PAGE_ZERO, src);
}

static enum page_kind page_kind(struct ckpt_ctx *c, const struct ckpt_vma *v,
				uint64_t addr, uint64_t pm)
{
	if (v->flags & IMG_VMA_VDSO)
		return PAGE_DATA;	/* all of it, mapped in or not */
	if (!ckpt_pm_has_page(pm) && !v->backed)
		return PAGE_SKIP;	/* (backed: still in the image file, ckpt_mpages.c) */
	if (v->flags & IMG_VMA_FILE) {
		if ((pm & PM_PRESENT) && (pm & PM_FILE))
			return PAGE_SKIP;	/* still the file's page */
		const void *src = pages_src(c, v, addr, IMG_PAGE_SIZE, c->bounce);
		if (!src)
			return PAGE_SKIP;
		return ckpt_is_zero(src, IMG_PAGE_SIZE) ? PAGE_ZERO : PAGE_DATA;
	}
	/* anonymous */
	const void *src = pages_src(c, v, addr, IMG_PAGE_SIZE, c->bounce);
	if (!src || ckpt_is_zero(src, IMG_PAGE_SIZE)) {
		c->zero_pages += src != NULL;
		return PAGE_SKIP;
	}
	return PAGE_DATA;
}

/* One PAGES record, through the pool: npages from addr, data or a ZERO run. */
int ckpt_mem_write_run(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr,
		       uint32_t npages, int zero)
{
	return write_run(c, v, addr, npages, zero ? PAGE_ZERO : PAGE_DATA);
}

static int mem_write_vma(struct ckpt_ctx *c, const struct ckpt_vma *v)
{
	uint64_t run_addr = 0;
	uint32_t run_n = 0;
	enum page_kind run_kind = PAGE_SKIP;

	for (uint64_t base = v->start; base < v->end; base += PM_CHUNK * IMG_PAGE_SIZE) {
		size_t n = (v->end - base) / IMG_PAGE_SIZE;

		if (n > PM_CHUNK)
			n = PM_CHUNK;
		if (ckpt_mem_pagemap(c, base, n) < 0)
			return c->error;
		for (size_t i = 0; i < n; i++) {
			uint64_t addr = base + i * IMG_PAGE_SIZE;
			enum page_kind k = page_kind(c, v, addr, c->pagemap[i]);

			if (c->error)
				return c->error;
			if (run_n && (k != run_kind || run_n == IMG_PAGES_MAX)) {
				if (write_run(c, v, run_addr, run_n, run_kind) < 0)
					return c->w.error ? c->w.error : c->error;
				run_n = 0;
			}
			if (k == PAGE_SKIP)
				continue;
			if (!run_n) {
				run_addr = addr;
				run_kind = k;
			}
			run_n++;
		}
	}
	if (run_n && write_run(c, v, run_addr, run_n, run_kind) < 0)
		return c->w.error ? c->w.error : c->error;
	return 0;
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
