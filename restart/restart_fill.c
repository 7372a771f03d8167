/*
 * restart_fill.c - staged private anonymous memory filled with
 * userfaultfd: no page is zeroed before its data is written, and whole
 * 2 MiB windows go in as transparent huge pages.
 *
 * Why: an eager restart of 1 GiB spent most of its time in the kernel
 * allocating staging pages, each zeroed (clear_page) before the decoder
 * overwrote it, 1.7 us a page with MADV_POPULATE_WRITE (docs/PERFORMANCE.md,
 * issue #15).  Two ways around it, both on the staging mapping registered
 * with a userfaultfd (missing mode):
 *   - UFFDIO_COPY: the kernel allocates each page and copies the data in;
 *     no zeroing.  A record's pages are decoded into a small per-thread
 *     buffer (256 KiB, stays in cache) and copied from there; raw pages
 *     are copied straight from the mapped image.
 *   - a window: 512 pages that are all saved, contiguous and 2 MiB
 *     aligned at the target address (records come in address order, so
 *     the main thread sees a window complete) are decoded into a
 *     per-thread 2 MiB buffer advised MADV_HUGEPAGE (one huge page, one
 *     allocation instead of 512), which UFFDIO_MOVE (Linux 6.8) then
 *     moves into the staging whole, as one page-table entry.  The staging
 *     itself is never advised, so the restored mapping has the flags the
 *     process had (mremap keeps them: advising the staging would have
 *     left MADV_HUGEPAGE on the process's memory).  The staging is placed
 *     at the target's offset within 2 MiB so that the restorer's mremap
 *     moves the huge entries as they are.
 * What changes for the process: memory in such windows is backed by huge
 * pages (as it would be with THP "always"); contents, flags and which
 * pages exist are the same (a window is only made of pages that were
 * saved).  Not for mappings advised MADV_NOHUGEPAGE, or with THP "never".
 *
 * Safety: the userfaultfd is opened with UFFD_FEATURE_SIGBUS, so a touch
 * of a registered page nobody filled (a bug) is a SIGBUS, never a thread
 * asleep forever; every staging is unregistered and the fd closed in
 * rst_fill_done(), before anything else reads or writes the staging
 * (restart_chain.c, the restorer).  Without userfaultfd (kernel, sysctl,
 * seccomp) or with CKPT_FILL=populate the staging is filled as before
 * (MADV_POPULATE_WRITE, restart_pool.c).  Windows only with
 * CKPT_FILL=thp (see fill_mode) and UFFDIO_MOVE; else every record is
 * copied.  The result is the same memory in every case.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include "restart/rst.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY	1
#endif
#ifndef UFFD_FEATURE_SIGBUS
#define UFFD_FEATURE_SIGBUS	(1 << 7)
#endif
#ifndef UFFD_FEATURE_MOVE	/* Linux 6.8; this system's uapi headers predate it */
#define UFFD_FEATURE_MOVE	(1 << 16)
struct uffdio_move {
	__u64 dst, src, len, mode;
	__s64 move;
};
#define UFFDIO_MOVE		_IOWR(UFFDIO, 0x05, struct uffdio_move)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

#define WIN		RST_FILL_WINDOW
/*
 * Huge pages can be cold: on a VM whose host takes free memory back
 * (free page reporting, ballooning) the host faults a huge page in again
 * 4 KiB at a time, ~2 ms against ~0.1 ms for a warm one.  Copying a
 * window's 512 pages costs ~0.6 ms (allocation and copy), so once
 * FILL_PROBE windows have been made and getting their huge pages took
 * more than FILL_COLD_NS each on average (CPU time of the thread, so a
 * preemption does not count), no more windows are made: the records are
 * copied (rst_fill_record).
 */
#define FILL_COLD_NS	250000
#define FILL_PROBE	8
#define WIN_PAGES	(WIN / IMG_PAGE_SIZE)
#define BOUNCE		((size_t)IMG_PAGES_MAX * IMG_PAGE_SIZE)

struct rst_fill {
	int uffd;		/* -1: staging is not registered */
	int windows;		/* UFFDIO_MOVE and THP: 2 MiB windows */
	uint64_t win_ns, nwin;	/* CPU time getting the windows' huge pages, windows (atomic) */
	struct rst_runner main;	/* the main thread's buffers */
	/* the window being gathered (main thread) */
	struct rst_vma *wv;
	uint64_t wstart, wnext;
	struct rst_piece *pc;
	int npc;
};

/*
 * CKPT_FILL: populate (the old way: no userfaultfd), thp (copy, and
 * windows as huge pages), else copy.  Windows are not the default: on
 * the development VM (Firecracker, free page reporting) a huge page is
 * nearly always one the host has to fault in again, 4 KiB at a time, and
 * 1 GiB of windows cost ~1.5 s of CPU against ~0.45 s copied
 * (docs/PERFORMANCE.md, issue #15); where memory is not given back to a
 * host they should win (no per-page allocation: 56 against 150 ms a
 * 512 MiB on the same VM once the huge pages are backed).
 */
static int fill_mode(void)
{
	const char *m = getenv("CKPT_FILL");

	if (m && !strcmp(m, "populate"))
		return 0;
	if (m && !strcmp(m, "thp"))
		return 2;
	return 1;
}

/* Whether THP can be had at all (enabled is not "[never]"). */
static int thp_on(void)
{
	char b[128];
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	b[n] = '\0';
	return !strstr(b, "[never]");
}

/* A userfaultfd with SIGBUS (and MOVE when asked and known), or -1. */
static int uffd_open(uint64_t features, uint64_t *got)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	struct uffdio_api api = { .api = UFFD_API, .features = features };

	if (fd < 0 && errno == EINVAL)		/* before Linux 5.11 */
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		close(fd);
		return -1;
	}
	*got = api.features;
	return fd;
}

static struct rst_fill *fill_get(struct rst_state *s)
{
	struct rst_fill *f;
	uint64_t got = 0;
	int mode;

	if (s->fill)
		return s->fill->uffd >= 0 ? s->fill : NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	s->fill = f;
	f->uffd = -1;
	if (!(mode = fill_mode()))
		return NULL;
	if (mode == 2 && thp_on() &&
	    (f->uffd = uffd_open(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_MOVE, &got)) >= 0)
		f->windows = !!(got & UFFD_FEATURE_MOVE);
	if (f->uffd < 0)
		f->uffd = uffd_open(UFFD_FEATURE_SIGBUS, &got);
	return f->uffd >= 0 ? f : NULL;
}

int rst_fill_eligible(struct rst_state *s, const struct rst_vma *v)
{
	return !s->check_only && (v->v.flags & IMG_VMA_ANON) &&
	       !(v->v.flags & (IMG_VMA_SHARED | IMG_VMA_FILE | IMG_VMA_GROWSDOWN | IMG_VMA_VDSO |
			       IMG_VMA_VVAR | IMG_VMA_VVAR_VCLOCK)) &&
	       !rst_vma_hugetlb(s, v) && !v->v.file;
}

void *rst_fill_stage(struct rst_state *s, struct rst_vma *v, size_t len, int flags)
{
	struct rst_fill *f = fill_get(s);
	struct uffdio_register reg;
	size_t extra;
	char *m, *at;

	if (!f)
		return NULL;
	/* The staging at the target's offset in 2 MiB: see the top. */
	extra = f->windows && len >= WIN ? WIN : 0;
	m = rst_mmap_outside(s, len + extra, PROT_READ | PROT_WRITE, flags);
	if (m == MAP_FAILED)
		return NULL;
	at = m;
	if (extra) {
		at = m + ((v->v.start - (uint64_t)m) & (WIN - 1));
		if (at > m)
			munmap(m, at - m);
		if (at + len < m + len + extra)
			munmap(at + len, m + len + extra - (at + len));
	}
	reg = (struct uffdio_register){ .range = { (uintptr_t)at, len },
					.mode = UFFDIO_REGISTER_MODE_MISSING };
	if (ioctl(f->uffd, UFFDIO_REGISTER, &reg) < 0 ||
	    !(reg.ioctls & (1ull << _UFFDIO_COPY))) {
		munmap(at, len);
		return NULL;
	}
	v->filled = 1;
	return at;
}

/* Copies len bytes at src into the registered dst: 0 or -errno. */
static int uffd_copy(int uffd, uint64_t dst, const void *src, size_t len)
{
	while (len) {
		struct uffdio_copy c = { .dst = dst, .src = (uintptr_t)src, .len = len };

		if (ioctl(uffd, UFFDIO_COPY, &c) == 0)
			return 0;
		if (c.copy > 0) {
			dst += c.copy;
			src = (const char *)src + c.copy;
			len -= c.copy;
		} else if (errno != EAGAIN) {
			return -errno;
		}
	}
	return 0;
}

static int runner_buffers(struct rst_runner *rn, char *err, size_t errlen)
{
	if (rn->bounce)
		return 0;
	/* The huge-page buffer: 2 MiB aligned inside a mapping of twice that. */
	rn->map = mmap(NULL, 2 * WIN + BOUNCE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rn->map == MAP_FAILED) {
		rn->map = NULL;
		snprintf(err, errlen, "cannot map a decoding buffer: %s", strerror(errno));
		return -1;
	}
	rn->huge = (unsigned char *)(((uintptr_t)rn->map + WIN - 1) & ~(uintptr_t)(WIN - 1));
	rn->bounce = (unsigned char *)rn->map + 2 * WIN;
	madvise(rn->huge, WIN, MADV_HUGEPAGE);
	return 0;
}

void rst_runner_free(struct rst_runner *rn)
{
	if (rn->map)
		munmap(rn->map, 2 * WIN + BOUNCE);
	memset(rn, 0, sizeof(*rn));
}

static int placed(int e, uint64_t addr, char *err, size_t errlen)
{
	if (e == -EEXIST)
		snprintf(err, errlen, "pages at 0x%llx: saved twice", (unsigned long long)addr);
	else
		snprintf(err, errlen, "pages at 0x%llx: cannot place them (userfaultfd): %s",
			 (unsigned long long)addr, strerror(-e));
	return e == -EEXIST ? RST_EXIT_IMAGE : RST_EXIT_ENV;
}

int rst_fill_one(int uffd, struct rst_runner *rn, const struct img_pages *p, const void *data,
		 size_t len, void *dst, char *err, size_t errlen)
{
	size_t n = (size_t)p->npages * IMG_PAGE_SIZE;
	const void *src = data;
	int e;

	if (p->npages == 0 || p->npages > IMG_PAGES_MAX || p->codec != IMG_CODEC_RAW || len != n) {
		/* decoded (and checked) into the bounce buffer first */
		if (runner_buffers(rn, err, errlen) < 0)
			return RST_EXIT_ENV;
		if (img_pages_decode(p, data, len, rn->bounce, err, errlen) < 0)
			return RST_EXIT_IMAGE;
		src = rn->bounce;
	}
	if ((e = uffd_copy(uffd, (uintptr_t)dst, src, n)))
		return placed(e, p->addr, err, errlen);
	return 0;
}

/* This thread's CPU time, ns. */
static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int rst_fill_window(struct rst_fill *f, struct rst_runner *rn, const struct rst_piece *pc,
		    int npc, void *dst, char *err, size_t errlen)
{
	int uffd = f->uffd;
	uint64_t base = pc[0].p.addr, done = 0, t0;
	int e = 0;

	if (runner_buffers(rn, err, errlen) < 0)
		return RST_EXIT_ENV;
	t0 = thread_ns();
	madvise(rn->huge, WIN, MADV_POPULATE_WRITE);	/* one huge page, if one is free */
	__atomic_add_fetch(&f->win_ns, thread_ns() - t0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&f->nwin, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < npc; i++)
		if (img_pages_decode(&pc[i].p, pc[i].data, pc[i].len,
				     rn->huge + (pc[i].p.addr - base), err, errlen) < 0)
			return RST_EXIT_IMAGE;
	while (done < WIN) {
		struct uffdio_move mv = { .dst = (uintptr_t)dst + done,
					  .src = (uintptr_t)rn->huge + done, .len = WIN - done };

		if (ioctl(uffd, UFFDIO_MOVE, &mv) == 0)
			return 0;
		if (mv.move > 0)
			done += mv.move;
		else if (errno != EAGAIN) {
			e = -errno;
			break;
		}
	}
	/* Not movable (a kernel that says EBUSY, ...): copied instead. */
	if (e != -EEXIST)
		e = uffd_copy(uffd, (uintptr_t)dst + done, rn->huge + done, WIN - done);
	madvise(rn->huge, WIN, MADV_DONTNEED);
	return e ? placed(e, base + done, err, errlen) : 0;
}

/* The gathered window's records, each on its own (not a whole window). */
static int window_flush(struct rst_state *s)
{
	struct rst_fill *f = s->fill;
	int r = 0;

	for (int i = 0; i < f->npc && !r; i++) {
		const struct rst_piece *q = &f->pc[i];

		r = rst_pool_piece(s, q, (char *)f->wv->staging + (q->p.addr - f->wv->v.start));
	}
	f->npc = 0;
	f->wv = NULL;
	return r;
}

int rst_fill_record(struct rst_state *s, struct rst_vma *v, const struct img_rec *rec,
		    const struct img_pages *p)
{
	struct rst_fill *f = s->fill;
	uint64_t end = p->addr + (uint64_t)p->npages * IMG_PAGE_SIZE;
	struct rst_piece q = { .p = *p, .data = p + 1, .len = rec->len - sizeof(*p),
			       .offset = rec->offset };
	int r;

	uint64_t nwin = __atomic_load_n(&f->nwin, __ATOMIC_RELAXED);

	/* Windows need the records to stay where they are: a mapped image. */
	if (f->windows && nwin >= FILL_PROBE &&
	    __atomic_load_n(&f->win_ns, __ATOMIC_RELAXED) > nwin * FILL_COLD_NS)
		f->windows = 0;		/* huge pages are cold here: copied */
	if (!f->windows || !s->r.map || (v->v.attrs & IMG_VMA_ATTR_NOHUGEPAGE))
		return rst_pool_piece(s, &q, (char *)v->staging + (p->addr - v->v.start));
	if (f->wv && (f->wv != v || p->addr != f->wnext || end > f->wstart + WIN) &&
	    (r = window_flush(s)))
		return r;
	if (!f->wv) {
		if ((p->addr & (WIN - 1)) || p->addr + WIN > v->v.end || end > p->addr + WIN)
			return rst_pool_piece(s, &q, (char *)v->staging + (p->addr - v->v.start));
		if (!f->pc && !(f->pc = malloc(WIN_PAGES * sizeof(*f->pc))))
			abort();
		f->wv = v;
		f->wstart = p->addr;
	}
	f->pc[f->npc++] = q;
	f->wnext = end;
	if (end < f->wstart + WIN)
		return 0;
	/* Complete: the job owns the pieces from here. */
	r = rst_pool_window(s, f->pc, f->npc, (char *)v->staging + (f->wstart - v->v.start));
	f->pc = NULL;
	f->npc = 0;
	f->wv = NULL;
	return r;
}

int rst_fill_flush(struct rst_state *s)
{
	return s->fill && s->fill->wv ? window_flush(s) : 0;
}

struct rst_runner *rst_fill_main_runner(struct rst_state *s)
{
	return &s->fill->main;
}

int rst_fill_uffd(const struct rst_state *s)
{
	return s->fill ? s->fill->uffd : -1;
}

struct rst_fill *rst_fill_of(struct rst_state *s)
{
	return s->fill;
}

void rst_fill_done(struct rst_state *s)
{
	struct rst_fill *f = s->fill;

	if (!f) {	/* nothing was staged: none may be registered later */
		if (!(f = s->fill = calloc(1, sizeof(*f))))
			abort();
		f->uffd = -1;
		return;
	}
	for (int i = 0; i < s->nvmas && f->uffd >= 0; i++) {
		struct rst_vma *v = &s->vmas[i];
		struct uffdio_range rg = { (uintptr_t)v->staging, v->v.end - v->v.start };

		if (v->filled && v->staging)
			ioctl(f->uffd, UFFDIO_UNREGISTER, &rg);
		v->filled = 0;
	}
	if (f->uffd >= 0)
		close(f->uffd);
	f->uffd = -1;		/* fill_get says no from now on */
	rst_runner_free(&f->main);
	free(f->pc);
	f->pc = NULL;
	f->npc = 0;
	f->wv = NULL;
}

void rst_fill_free(struct rst_state *s)
{
	if (s->fill)
		rst_fill_done(s);
	free(s->fill);
	s->fill = NULL;
}
