/*
 * ckpt_mpages.c - mappable images: the pages of private anonymous memory
 * stored raw and page aligned (MPAGES records, img_format.h), so that
 * ckpt-restart maps them from the file instead of reading them: a restart
 * then costs the same for 10 MiB and 10 GiB, and pages come in from the
 * page cache as the process touches them.
 *
 * Which mappings (ckpt_mpages_eligible): private anonymous ones ([heap]
 * and unnamed), readable and not executable (a file system mounted
 * noexec could not map them PROT_EXEC), not growing down, not
 * MADV_WIPEONFORK (which the kernel allows on anonymous memory only), not the
 * stack this code runs on (it changes while the image is written).
 * Threads' stacks and TLS are included: the restorer writes each
 * thread's tid word, whose shared futex (pthread_join) must not be keyed
 * by the file (restart/restorer.c).  So is the main thread's TLS, which
 * the kernel may merge into a large anonymous mapping next to it (the
 * rseq area the kernel writes is then copied on write like any page).
 * Everything else (the main stack, shared anonymous memory, file
 * mappings' modified pages, the vdso) keeps its PAGES records.
 *
 * Which pages: those ckpt_mem.c would save (present or swapped, not all
 * zero), in runs of at most CKPT_MPAGES_RUN pages; a hole of at most
 * MP_GAP_MAX pages inside a run is stored too (as the zeros it reads),
 * which keeps the restored process's mapping count low.
 *
 * Invariants:
 *  1. data_crc is computed from the very bytes written.  A run of memory
 *     the checkpoint itself changes meanwhile (ckpt_mem_hot: the leader's
 *     stack and TLS with its rseq area, libckpt's data) is first copied
 *     into c->mbuf; any other is checksummed and written where it is: the
 *     other threads are parked in the kernel (or this is the forked
 *     copy), so nothing writes it.
 *  2. The image goes to a regular file, from offset 0 (ckpt_mpages_check):
 *     w->nbytes is then the file offset, so data_off is where the data is.
 *  3. In a process restored from a mappable image, the mappings of that
 *     image file (ckpt_restore_info.img_dev/ino, " (deleted)" or not) are
 *     its anonymous memory: saved as such, every page read, because
 *     pagemap calls the pages still in the file "not present"
 *     (ckpt_mpages_backed, used by ckpt_maps.c and ckpt_mem.c).
 *
 * Cost: the runs of pages that exist (ckpt_pmscan.c), one zero test and one crc32c
 * pass per saved page, then writev(2) of the memory itself (no copy but
 * of hot runs: a copy into a fresh buffer cost a page fault per page).
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "libckpt/ckpt.h"

#define MP_GAP_MAX	16u		/* hole pages a run may carry */
#define MP_WRITE	(1u << 20)	/* bytes per write(2) of page data */

/* A run of CKPT_MPAGES_RUN pages fills c->mbuf (ckpt_core.c sizes it). */
_Static_assert(CKPT_MPAGES_RUN <= IMG_MPAGES_MAX, "run larger than the format allows");

static const unsigned char mp_zeros[IMG_PAGE_SIZE];

int ckpt_mpages_check(struct ckpt_ctx *c)
{
	struct stat st;

	if (!c->mappable)
		return 0;
	if (c->hdr_flags & IMG_F_INCREMENTAL)
		return ckpt_fail(c, -EINVAL, "a mappable image cannot be incremental: save it "
				 "with one of the two options");
	if (fstat(c->img_fd, &st) < 0)
		return ckpt_fail(c, -errno, "cannot stat the image fd");
	if (!S_ISREG(st.st_mode))
		return ckpt_fail(c, -EINVAL, "a mappable image cannot be written to a pipe or "
				 "socket: ckpt-restart maps its pages from the file; save it to a file");
	if (lseek(c->img_fd, 0, SEEK_CUR) != 0)
		return ckpt_fail(c, -EINVAL, "a mappable image must start at offset 0 of its file");
	return 0;
}

int ckpt_mpages_backed(const struct ckpt_vma *v, int shared)
{
	return !shared && ckpt_restore_info.img_ino != 0 &&
	       v->ino == ckpt_restore_info.img_ino && v->dev == ckpt_restore_info.img_dev;
}

int ckpt_mpages_eligible(struct ckpt_ctx *c, const struct ckpt_vma *v)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

	if (!c->mappable || !(v->flags & IMG_VMA_ANON) || !(v->flags & IMG_VMA_PAGES))
		return 0;
	if (v->flags & (IMG_VMA_SHARED | IMG_VMA_GROWSDOWN | IMG_VMA_STACK))
		return 0;
	if (v->byid != CKPT_BYID_NONE)	/* huge pages are not mapped from the image */
		return 0;
	if ((v->prot & (PROT_READ | PROT_EXEC)) != PROT_READ)
		return 0;
	if (v->attrs & IMG_VMA_ATTR_WIPEONFORK)	/* anonymous memory only */
		return 0;
	return !(sp >= v->start && sp < v->end);
}

/* One MPAGES record: struct, zero padding to the page boundary, the data. */
static int mp_write_run(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr,
			uint64_t npages)
{
	size_t len = npages * IMG_PAGE_SIZE;
	/* where the record lands: after its PAD, if one is needed */
	int aligned = img_write_align(&c->w);
	uint64_t hdr_end = c->w.nbytes + sizeof(struct img_rec_hdr) + sizeof(struct img_mpages);
	uint64_t data_off = (hdr_end + IMG_PAGE_SIZE - 1) & ~(uint64_t)(IMG_PAGE_SIZE - 1);
	struct img_mpages m = {
		.addr = addr, .npages = npages, .data_off = data_off,
	};

	const unsigned char *src = (const unsigned char *)addr;

	if (ckpt_mem_hot(c, v)) {		/* invariant 1 */
		__builtin_memcpy(c->mbuf, src, len);
		src = c->mbuf;
	}
	m.data_crc = img_crc32c(0, src, len);
	c->mem_bytes += len;
	ckpt_progress(c);
	if (aligned < 0)
		return aligned;
	img_write_record(&c->w, IMG_REC_MPAGES, &m, sizeof(m), mp_zeros, data_off - hdr_end);
	/* In 1 MiB writes: measured faster into the page cache than 16 MiB ones. */
	for (size_t off = 0; off < len; off += MP_WRITE)
		img_write_raw(&c->w, src + off, len - off < MP_WRITE ? len - off : MP_WRITE);
	return c->w.error;
}

/* The run being gathered; `end`: the address after the last page looked at. */
struct mp_run {
	uint64_t addr, n, gap, end;
};

static int mp_flush(struct ckpt_ctx *c, const struct ckpt_vma *v, struct mp_run *r)
{
	uint64_t n = r->n;

	r->n = r->gap = 0;
	return n ? mp_write_run(c, v, r->addr, n) : 0;
}

static int mp_run_fn(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr,
		     uint64_t npages, int kind, void *arg)
{
	struct mp_run *r = arg;

	/* pages with nothing in them since the last run: a hole */
	if (r->n && (r->gap += (addr - r->end) / IMG_PAGE_SIZE) > MP_GAP_MAX && mp_flush(c, v, r) < 0)
		return c->w.error;
	r->end = addr + npages * IMG_PAGE_SIZE;
	/* a run carries holes as the zeros they read: not a guard, nor excluded memory */
	if (kind == CKPT_RUN_GUARD || kind == CKPT_RUN_EXCL)
		return mp_flush(c, v, r) < 0 ? c->w.error : 0;
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t a = addr + i * IMG_PAGE_SIZE;
		int data;

		/* the zero test's miss of the page 16 ahead, overlapped (ckpt_mem.c) */
		if (i + 16 < npages)
			__builtin_prefetch((const void *)(a + 16 * IMG_PAGE_SIZE));
		data = kind == CKPT_RUN_PAGE && !ckpt_is_zero((const void *)a, IMG_PAGE_SIZE);

		if (!data) {
			c->zero_pages++;
			if (r->n && ++r->gap > MP_GAP_MAX && mp_flush(c, v, r) < 0)
				return c->w.error;
			continue;
		}
		if (r->n && r->n + r->gap + 1 > CKPT_MPAGES_RUN && mp_flush(c, v, r) < 0)
			return c->w.error;
		if (!r->n)
			r->addr = a;
		r->n += r->gap + 1;
		r->gap = 0;
	}
	return 0;
}

int ckpt_mpages_write_vma(struct ckpt_ctx *c, const struct ckpt_vma *v)
{
	struct mp_run r = { 0, 0, 0, v->start };
	int e = ckpt_mem_each_run(c, v, mp_run_fn, &r);

	if (e)
		return c->w.error ? c->w.error : c->error ? c->error : e;
	if (mp_flush(c, v, &r) < 0)
		return c->w.error;
	return c->w.error;
}
