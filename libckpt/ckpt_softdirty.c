/*
 * ckpt_softdirty.c - dirty-page tracking where the kernel has no async
 * userfaultfd write-protection (UFFD_FEATURE_WP_ASYNC and PAGEMAP_SCAN
 * came in Linux 6.7; Debian 12 runs 6.1): the soft-dirty bits
 * (CONFIG_MEM_SOFT_DIRTY, Documentation/admin-guide/mm/soft-dirty.rst).
 * ckpt_dirty.c chooses; the invariants of ckpt_incr.h hold for both.
 *
 *   - writing "4" to /proc/self/clear_refs clears the bit of every page of
 *     the process (and the VMAs' VM_SOFTDIRTY); a write sets it again, so
 *     does a kernel write (read(2) into the page), a COW copy, a move;
 *   - pagemap bit 55 says it; a VMA made since the clear (mmap, a moved
 *     or merged one) reads dirty on every page, holes included;
 *   - a page zapped since (MADV_DONTNEED, a hole punched) has no PTE and
 *     reads clean: so every page without one is a ZERO run in an
 *     incremental image (it reads as zero, whatever the parent held);
 *   - read after the zap, it maps the shared zero page, clean too: a
 *     present page is inherited only when it is also this process's alone
 *     (pagemap bit 56, PM_MMAP_EXCLUSIVE); the others (the zero page, KSM
 *     pages, pages still shared with a fork child) are read, and stored
 *     as data or as ZERO runs.  A swapped page keeps its bit in the swap
 *     entry: trusted as it is.
 *
 * The clear is process-wide and comes after every VMA was scanned, while
 * the other threads are parked; what the leader writes in between would
 * be lost, so the VMAs of its stack and of libckpt's .data/.bss
 * (ckpt_mem_hot_notls) are never inherited with this tracker (saved whole
 * every time), and the pages around its TLS (fs_base - 128 KiB to
 * fs_base + 16 KiB: ld.so often puts them inside a mapping of the
 * program's, which must not be saved whole for that) count as written.
 *
 * Cost: one pagemap read per 512 pages of every tracked VMA (~7 ms a GiB,
 * where PAGEMAP_SCAN skips empty page tables), and clear_refs walks every
 * page table of the process; between checkpoints one minor fault on the
 * first write to each page, as with userfaultfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt_incr.h"
#include "libckpt/ckpt_kfeat.h"

#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_EXCLUSIVE	(1ULL << 56)	/* PM_MMAP_EXCLUSIVE: a page of this process alone */
#define PM_PRESENT_	(1ULL << 63)
#define SD_CHUNK	512		/* pagemap entries per read (c->pagemap) */
#define SD_ZREC_BYTES	64		/* what a ZERO run's record costs, about */
/* the leader's static TLS blocks lie below fs_base, glibc's struct pthread above */
#define SD_TLS_BELOW	(128u << 10)
#define SD_TLS_ABOVE	(16u << 10)

static int sd_level = -1;

int ckpt_sd_probe(void)
{
	volatile char here = 1;		/* a page written just now: the stack's */
	uint64_t pm = 0;
	int fd;

	if (sd_level >= 0)
		return sd_level;
	sd_level = 0;
	if (ckpt_kfeat_off(CKPT_KF_SOFT_DIRTY))
		return 0;
	fd = ckpt_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	here = 2;
	/* without CONFIG_MEM_SOFT_DIRTY the bit is never set */
	if (pread(fd, &pm, sizeof(pm), ((uintptr_t)&here / IMG_PAGE_SIZE) * 8) == sizeof(pm) &&
	    (pm & PM_SOFT_DIRTY)) {
		int cr = ckpt_open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC, 0);

		if (cr >= 0) {
			sd_level = 1;
			ckpt_close(cr);
		}
	}
	ckpt_close(fd);
	return sd_level;
}

int ckpt_sd_clear(void)
{
	int fd = ckpt_open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC, 0);
	long n;

	if (fd < 0)
		return fd;
	do
		n = arch_sys3(SYS_write, fd, (long)"4", 1);
	while (n == -EINTR);
	ckpt_close(fd);
	return n == 1 ? 0 : n < 0 ? (int)n : -EIO;
}

/* Appends [start, end) of kind zero to the VMA's regions, merging with the last. */
static int sd_add(struct ckpt_dirty_run *run, struct ckpt_dirty_vma *dv, uint64_t start,
		  uint64_t end, int zero)
{
	struct page_region *last = dv->n ? &run->reg[run->nreg - 1] : NULL;
	uint64_t cat = zero ? CKPT_DIRTY_ZERO : 0;

	if (last && last->end == start && last->categories == cat) {
		last->end = end;
		return 0;
	}
	if (run->nreg == CKPT_DIRTY_MAX_REGIONS)
		return -1;
	run->reg[run->nreg++] = (struct page_region){ .start = start, .end = end,
						      .categories = cat };
	dv->n++;
	return 0;
}

/* pagemap entries of n pages from addr into c->pagemap; 0 or -1 (not a failure: saved whole) */
static int sd_read(struct ckpt_ctx *c, uint64_t addr, size_t n)
{
	size_t want = n * 8, got = 0;

	while (got < want) {
		long r = arch_sys4(SYS_pread64, c->pagemap_fd, (long)((char *)c->pagemap + got),
				   want - got, (addr / IMG_PAGE_SIZE) * 8 + got);

		if (r == -EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

int ckpt_sd_scan(struct ckpt_ctx *c, struct ckpt_dirty_run *run, const struct ckpt_vma *v,
		 struct ckpt_dirty_vma *dv)
{
	uint64_t npages = (v->end - v->start) / IMG_PAGE_SIZE;
	uint64_t present = 0, dirty = 0, zpages = 0, zruns = 0, tls = 0, tls_lo = 0, tls_hi = 0;

	dv->first = run->nreg;
	dv->n = 0;
	/*
	 * The leader's TLS is where ld.so put it, often merged into the heap
	 * or a mapping of the program's: only its pages count as written.
	 */
	arch_sys2(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &tls);	/* the leader: us */
	if (tls) {
		tls_lo = tls > SD_TLS_BELOW ? (tls - SD_TLS_BELOW) & ~(uint64_t)(IMG_PAGE_SIZE - 1) : 0;
		tls_hi = tls + SD_TLS_ABOVE;
	}
	if (ckpt_mem_hot_notls(c, v))
		return -1;
	for (uint64_t done = 0; done < npages; done += SD_CHUNK) {
		uint64_t base = v->start + done * IMG_PAGE_SIZE;
		size_t n = npages - done < SD_CHUNK ? npages - done : SD_CHUNK;

		if (sd_read(c, base, n) < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			uint64_t pm = c->pagemap[i], a = base + i * IMG_PAGE_SIZE;
			int has = ckpt_pm_has_page(pm);
			uint32_t before = dv->n;

			if (ckpt_pm_guard(pm))
				return -1;
			present += has;
			if (has && !(pm & PM_SOFT_DIRTY) && (a < tls_lo || a >= tls_hi) &&
			    (!(pm & PM_PRESENT_) || (pm & PM_EXCLUSIVE)))
				continue;		/* as in the parent */
			dirty += has;
			zpages += !has;
			if (sd_add(run, dv, a, a + IMG_PAGE_SIZE, !has) < 0)
				return -1;
			zruns += !has && dv->n != before;
		}
	}
	/*
	 * A sparse VMA (a big reservation, pages zapped) costs less saved
	 * whole: its present pages, against the dirty ones and a ZERO record
	 * per IMG_PAGES_MAX pages without one.
	 */
	if (zpages && present * IMG_PAGE_SIZE <=
	    dirty * IMG_PAGE_SIZE + (zpages / IMG_PAGES_MAX + zruns) * SD_ZREC_BYTES)
		return -1;
	return 0;
}
