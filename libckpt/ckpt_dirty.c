/*
 * ckpt_dirty.c - which pages changed since the previous image.
 *
 * libckpt owns one userfaultfd, opened at the first checkpoint that asks
 * for an incremental image, with UFFD_FEATURE_WP_ASYNC (a write to a
 * protected page is resolved by the kernel at once, no handler thread;
 * the page just loses its protection) and WP_UNPOPULATED (untouched
 * pages get protected markers too, so a first write to them counts).
 * Unprivileged users get it with UFFD_USER_MODE_ONLY, which async
 * write-protection does not need (it never delivers a fault).
 *
 * At every checkpoint while tracking is on, for each VMA (see
 * ckpt_incr.h for the invariants):
 *
 *   private anonymous, readable,   PAGEMAP_SCAN(WP_MATCHING|CHECK_WPASYNC,
 *   tracked since the parent  -->  WRITTEN): the dirty runs, protected
 *                                  again in the same call       DV_DIRTY
 *                                  (in a full image: DV_WHOLE, the scan
 *                                  only protects again)
 *   private anonymous, readable,   UFFDIO_REGISTER(WP) + UFFDIO_WRITEPROTECT
 *   not (or not provably) tracked  the whole VMA                DV_WHOLE
 *   anything else                  left alone                   DV_NONE
 *
 * The scan and the protection happen while the threads are parked,
 * before a forked writer copy is made: the copy finds the dirty runs in
 * its copy of the scratch, the process resumes with its pages protected.
 * A page written after the scan (the leader's own stack, libckpt's data)
 * is saved as it is when written out, and reported again next time.
 *
 * Cost: one ioctl per tracked VMA, proportional to its page tables
 * (KERNEL-FACTS: 2-3.5 ms for 4 GiB), instead of reading 8 bytes of
 * pagemap and testing 4 KiB for zeros per page; a whole-VMA protection
 * the first time.  Between checkpoints: one minor fault on the first
 * write to each page.
 *
 * A kernel without WP_ASYNC (before 6.7: Debian 12's 6.1) tracks with
 * the soft-dirty bits instead (ckpt_softdirty.c): the same states, the
 * scan reads pagemap, and one clear_refs after the last VMA protects
 * everything again.  With neither, --incremental writes a full image and
 * says why (a note ckpt-save prints).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_incr.h"
#include "libckpt/ckpt_kfeat.h"

enum { TRK_NONE, TRK_UFFD, TRK_SOFTDIRTY };

/* The tracking state of the process: survives between checkpoints. */
static struct {
	int kind;			/* TRK_*: how (TRK_NONE: not tracking) */
	int uffd;			/* TRK_UFFD's fd, else -1 */
	int owner;			/* the pid that opened it (not a fork child) */
	uint64_t dev, ino;		/* its identity, to see the fd is still it */
	uint32_t nranges;
	/* what the last image's VMAs tracked: sorted, adjacent ones merged */
	struct img_range ranges[CKPT_DIRTY_MAX_VMAS];
} trk = { .kind = TRK_NONE, .uffd = -1 };

static long trk_ioctl(int fd, unsigned long req, void *arg)
{
	long r;

	do
		r = arch_sys5(SYS_ioctl, fd, req, (long)arg, 0, 0);
	while (r == -EINTR);
	return r;
}

int ckpt_dirty_is_own_fd(int fd)
{
	struct stat st;

	/* by number and by identity: the application may have reused the number */
	return fd >= 0 && fd == trk.uffd && fstat(fd, &st) == 0 && st.st_dev == trk.dev &&
	       st.st_ino == trk.ino;
}

void ckpt_dirty_reset(void)
{
	trk.kind = TRK_NONE;
	trk.uffd = -1;
	trk.nranges = 0;
	ckpt_parent_forget();
}

/* Drops the tracking; closes the fd only when it is provably ours. */
static void trk_drop(int close_it)
{
	if (close_it && trk.uffd >= 0)
		ckpt_close(trk.uffd);
	ckpt_dirty_reset();
}

/*
 * 0 when trk.uffd is a working tracker of this process: the same file as
 * when it was opened (the application may have closed the number and
 * reused it), in the process that opened it (a fork child's copy would
 * register ranges in its parent's memory).  Opens one otherwise.
 */
static int trk_open(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED,
	};
	struct stat st;
	long fd;

	if (trk.kind == TRK_SOFTDIRTY) {
		if (trk.owner == getpid())
			return 0;
		trk_drop(0);		/* a fork child: the bits are its parent's story */
	}
	if (trk.uffd >= 0) {
		int same = fstat(trk.uffd, &st) == 0 && st.st_dev == trk.dev &&
			   st.st_ino == trk.ino;

		if (same && trk.owner == getpid())
			return 0;
		trk_drop(same);
	}
	fd = arch_sys5(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0);
	if (fd == -EPERM)
		fd = arch_sys5(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY,
			       0, 0, 0, 0);
	/* before 6.7 UFFDIO_API refuses the unknown WP_ASYNC: EINVAL */
	if (fd >= 0 && (ckpt_kfeat_off(CKPT_KF_WP_ASYNC) || !(ckpt_pm_scan_level() & 1) ||
			trk_ioctl(fd, UFFDIO_API, &api) < 0 ||
			(api.features & UFFD_FEATURE_WP_ASYNC) == 0 || fstat(fd, &st) < 0)) {
		ckpt_close(fd);
		fd = -ENOTSUP;
	}
	if (fd < 0) {
		if (!ckpt_sd_probe())
			return (int)fd;
		trk.kind = TRK_SOFTDIRTY;
		trk.owner = getpid();
		trk.nranges = 0;
		return 0;
	}
	trk.kind = TRK_UFFD;
	trk.uffd = (int)fd;
	trk.owner = getpid();
	trk.dev = st.st_dev;
	trk.ino = st.st_ino;
	trk.nranges = 0;
	return 0;
}

/* Memory whose writes the tracker can see and whose pages we can read. */
static int trackable(const struct ckpt_vma *v)
{
	return (v->flags & (IMG_VMA_ANON | IMG_VMA_PAGES)) == (IMG_VMA_ANON | IMG_VMA_PAGES) &&
	       !(v->flags & (IMG_VMA_SHARED | IMG_VMA_VDSO)) && (v->prot & PROT_READ) &&
	       v->byid == CKPT_BYID_NONE;	/* not huge pages: saved whole */
}

/* 1 when [start, end) lies inside one range tracked at the last image. */
static int trk_covered(uint64_t start, uint64_t end)
{
	uint32_t lo = 0, hi = trk.nranges;

	while (lo < hi) {			/* first range ending after start */
		uint32_t mid = (lo + hi) / 2;

		if (trk.ranges[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < trk.nranges && trk.ranges[lo].start <= start && end <= trk.ranges[lo].end;
}

/* Registers and write-protects the whole VMA. 0 or -errno. */
static int trk_protect(const struct ckpt_vma *v)
{
	struct uffdio_register reg = {
		.range = { v->start, v->end - v->start },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = { v->start, v->end - v->start },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	long r = trk_ioctl(trk.uffd, UFFDIO_REGISTER, &reg);

	return r < 0 ? (int)r : (int)trk_ioctl(trk.uffd, UFFDIO_WRITEPROTECT, &wp);
}

/*
 * The dirty runs of a tracked VMA, protected again as they are reported.
 * -1 when the VMA is not (all) registered any more (PM_SCAN_CHECK_WPASYNC:
 * EPERM) or the region table is full: then it is saved whole.
 */
static int trk_scan(struct ckpt_ctx *c, struct ckpt_dirty_run *run, const struct ckpt_vma *v,
		    struct ckpt_dirty_vma *dv)
{
	uint64_t start = v->start;

	dv->first = run->nreg;
	dv->n = 0;
	while (start < v->end) {
		struct pm_scan_arg a = {
			.size = sizeof(a),
			.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
			.start = start,
			.end = v->end,
			.vec = (uintptr_t)&run->reg[run->nreg],
			.vec_len = CKPT_DIRTY_MAX_REGIONS - run->nreg,
			.category_mask = PAGE_IS_WRITTEN,
			.return_mask = PAGE_IS_WRITTEN,
		};
		long n;

		if (a.vec_len == 0)
			return -1;
		n = trk_ioctl(c->pagemap_fd, PAGEMAP_SCAN, &a);
		if (n < 0)
			return -1;
		run->nreg += n;
		dv->n += n;
		if (a.walk_end <= start)
			return -1;
		start = a.walk_end;
	}
	return 0;
}

/* Appends "; note" to what ckpt-save tells the user (c->notes). */
static void dirty_note(struct ckpt_ctx *c, const char *note)
{
	size_t n = ckpt_strlen(c->notes);

	if (n + 8 < sizeof(c->notes))
		ckpt_fmt(c->notes + n, sizeof(c->notes) - n, "%s%s", n ? "; " : "", note);
}

/* A VMA under the soft-dirty tracker: DV_DIRTY, or DV_WHOLE (the clear follows). */
static void softdirty_vma(struct ckpt_ctx *c, struct ckpt_dirty_run *run,
			  const struct ckpt_vma *v, struct ckpt_dirty_vma *dv, int incr)
{
	if (incr && trk_covered(v->start, v->end)) {
		if (ckpt_sd_scan(c, run, v, dv) == 0) {
			dv->state = CKPT_DV_DIRTY;
			return;
		}
		run->nreg = dv->first;		/* what the scan had taken */
	}
	dv->n = 0;
	dv->state = CKPT_DV_WHOLE;
}

int ckpt_dirty_prepare(struct ckpt_ctx *c)
{
	struct ckpt_dirty_run *run = c->dirty;
	int incr = 0;

	run->excl_gen = ckpt_excl_gen();
	if (!c->incremental && trk.kind == TRK_NONE)
		return 0;			/* nobody asked: no tracking */
	if (trk_open() < 0) {
		/* no tracker here: a full image is still right; say why */
		if (c->incremental)
			dirty_note(c, "a full image: this kernel cannot track written pages "
				   "(async userfaultfd write-protect needs Linux 6.7, soft-dirty "
				   "bits CONFIG_MEM_SOFT_DIRTY)");
		return 0;
	}
	if (c->incremental && (incr = ckpt_parent_usable(c)) < 0)
		return c->error;
	if (c->nvmas > (int)CKPT_DIRTY_MAX_VMAS)
		incr = 0;
	run->track = 1;
	for (int i = 0; i < c->nvmas && i < (int)CKPT_DIRTY_MAX_VMAS; i++) {
		const struct ckpt_vma *v = &c->vmas[i];
		struct ckpt_dirty_vma *dv = &run->vma[i];

		if (!trackable(v))
			continue;
		if (trk.kind == TRK_SOFTDIRTY) {
			softdirty_vma(c, run, v, dv, incr);
			continue;
		}
		if (trk_covered(v->start, v->end) && trk_scan(c, run, v, dv) == 0) {
			if (incr) {
				dv->state = CKPT_DV_DIRTY;
			} else {
				/* a full image: the scan only protected the dirty pages again
				 * (1 ms a GiB, where protecting it whole takes 40-70 ms) */
				run->nreg -= dv->n;
				dv->n = 0;
				dv->state = CKPT_DV_WHOLE;
			}
			continue;
		}
		dv->n = 0;
		dv->state = trk_protect(v) == 0 ? CKPT_DV_WHOLE : CKPT_DV_NONE;
	}
	/* soft-dirty: every page clean again, at once, before a thread runs */
	if (trk.kind == TRK_SOFTDIRTY && ckpt_sd_clear() < 0) {
		/* this image is right; the next cannot start from it: full, then a chain */
		run->track = 0;
		trk_drop(0);
	}
	run->incr = incr;
	if (incr)
		c->hdr_flags |= IMG_F_INCREMENTAL;
	return 0;
}

int ckpt_dirty_owns(struct ckpt_ctx *c, int i)
{
	return c->dirty && c->dirty->incr && i < (int)CKPT_DIRTY_MAX_VMAS &&
	       c->dirty->vma[i].state == CKPT_DV_DIRTY;
}

/*
 * Every reported page of the VMA: data, or a ZERO run where it reads as
 * zero (zapped, or written with zeros) — absent would mean "as in the
 * parent".  Runs of one kind, at most IMG_PAGES_MAX pages.
 */
/* Dirty pages [start, end) of one VMA: data and ZERO runs. */
struct dirty_range {
	struct ckpt_ctx *c;
	const struct ckpt_vma *v;
};

static int dirty_write_range(uint64_t start, uint64_t end, int excluded, void *arg)
{
	struct ckpt_ctx *c = ((struct dirty_range *)arg)->c;
	const struct ckpt_vma *v = ((struct dirty_range *)arg)->v;
	uint64_t run_addr = start;
	uint32_t run_n = 0;
	int run_zero = 0;

	if (excluded)
		return 0;
	for (uint64_t a = start; a < end; a += IMG_PAGE_SIZE) {
		int zero = ckpt_is_zero((const void *)a, IMG_PAGE_SIZE);

		if (run_n && (zero != run_zero || run_n == IMG_PAGES_MAX)) {
			if (ckpt_mem_write_run(c, v, run_addr, run_n, run_zero) < 0)
				return c->error ? c->error : c->w.error;
			run_n = 0;
		}
		if (!run_n) {
			run_addr = a;
			run_zero = zero;
		}
		run_n++;
		c->zero_pages += zero;
	}
	if (run_n && ckpt_mem_write_run(c, v, run_addr, run_n, run_zero) < 0)
		return c->error ? c->error : c->w.error;
	return 0;
}

/* Pages without a PTE (the soft-dirty tracker's): ZERO runs, never read. */
static int zero_write_range(uint64_t start, uint64_t end, int excluded, void *arg)
{
	struct ckpt_ctx *c = ((struct dirty_range *)arg)->c;
	const struct ckpt_vma *v = ((struct dirty_range *)arg)->v;

	if (excluded)
		return 0;
	for (uint64_t a = start; a < end; a += IMG_PAGES_MAX * IMG_PAGE_SIZE) {
		uint32_t n = (end - a) / IMG_PAGE_SIZE < IMG_PAGES_MAX ?
			     (uint32_t)((end - a) / IMG_PAGE_SIZE) : IMG_PAGES_MAX;

		if (ckpt_mem_write_run(c, v, a, n, 1) < 0)
			return c->error ? c->error : c->w.error;
		c->zero_pages += n;
	}
	return 0;
}

int ckpt_dirty_write_vma(struct ckpt_ctx *c, int i)
{
	const struct ckpt_vma *v = &c->vmas[i];
	const struct ckpt_dirty_vma *dv = &c->dirty->vma[i];
	struct dirty_range d = { c, v };
	int r;

	for (uint32_t k = dv->first; k < dv->first + dv->n; k++) {
		const struct page_region *rg = &c->dirty->reg[k];
		uint64_t start = rg->start < v->start ? v->start : rg->start;
		uint64_t end = rg->end > v->end ? v->end : rg->end;
		int (*fn)(uint64_t, uint64_t, int, void *) =
			rg->categories == CKPT_DIRTY_ZERO ? zero_write_range : dirty_write_range;

		/* excluded pages are not written, nor inherited (ckpt_parent.c) */
		r = ckpt_excl_applies(v) ? ckpt_excl_each(start, end, fn, &d) : fn(start, end, 0, &d);
		if (r)
			return r;
	}
	return 0;
}

void ckpt_dirty_finish(struct ckpt_ctx *c)
{
	struct ckpt_dirty_run *run = c->dirty;
	uint32_t n = 0;

	if (!run || !run->track)
		return;
	if (c->error) {				/* invariant 4 */
		trk.nranges = 0;
		ckpt_parent_forget();
		return;
	}
	for (int i = 0; i < c->nvmas && i < (int)CKPT_DIRTY_MAX_VMAS; i++) {
		const struct ckpt_vma *v = &c->vmas[i];

		if (run->vma[i].state == CKPT_DV_NONE)
			continue;
		if (n && trk.ranges[n - 1].end == v->start)
			trk.ranges[n - 1].end = v->end;	/* the kernel may merge them */
		else
			trk.ranges[n++] = (struct img_range){ v->start, v->end };
	}
	trk.nranges = n;
	ckpt_parent_remember(c);
}
