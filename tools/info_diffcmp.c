/*
 * info_diffcmp.c - the comparison behind `ckpt-info --diff` (rules:
 * info_diff.h).  Pure: it reads two loaded images and asks a callback
 * for page contents, so the unit tests can give it images built by hand.
 *
 * Cost: linear in maps, fds and threads (both sides sorted or looked up
 * by binary search), and in the pages either image holds (each compared
 * once); pages neither holds are counted by range, never visited, so a
 * large reservation costs nothing.
 */
#include <stdlib.h>
#include <string.h>
#include "tools/info_diff.h"

#define PAGE	IMG_PAGE_SIZE

static void *diff_push(void *p, size_t *n, size_t size)
{
	void *q = realloc(p, (*n + 1) * size);

	if (q)
		(*n)++;
	return q;
}

/* How a page no run holds reads: zero, the file's, or unknown. */
enum { DEF_ZERO, DEF_FILE, DEF_UNKNOWN };

int info_inherited(const struct info *in, uint64_t addr)
{
	size_t lo = 0, hi = in->ninh;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < in->inh[mid].start)
			hi = mid;
		else if (addr >= in->inh[mid].end)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* The first inherited range of in that ends after addr. */
static size_t first_inh(const struct info *in, uint64_t addr)
{
	size_t lo = 0, hi = in->ninh;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in->inh[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The next page at or after *at, below end, in one of in's inherited ranges: 1 and *at, or 0. */
static int next_inh(const struct info *in, size_t *k, uint64_t *at, uint64_t end)
{
	while (*k < in->ninh) {
		const struct img_range *r = &in->inh[*k];

		if (r->start >= end)
			return 0;
		if (r->end > *at) {
			if (r->start > *at)
				*at = r->start;
			return *at < end;
		}
		(*k)++;
	}
	return 0;
}

static int vma_default(const struct info *in, const struct info_vma *v)
{
	/* (an incremental image's inherited pages are visited: diff_pages) */
	if ((v->v.flags & IMG_VMA_ANON) && !(v->v.flags & (IMG_VMA_SHARED | IMG_VMA_TREESHM)) &&
	    !v->v.file)
		return DEF_ZERO;
	if ((v->v.flags & IMG_VMA_FILE) && !v->v.file)
		return DEF_FILE;
	return DEF_UNKNOWN;
}

static int same_file(const struct info_vma *a, const struct info_vma *b)
{
	return a->v.ino == b->v.ino && a->v.size == b->v.size && a->v.mtime_ns == b->v.mtime_ns &&
	       a->path.n == b->path.n && !memcmp(a->path.s, b->path.s, a->path.n);
}

static unsigned map_changes(const struct info_vma *a, const struct info_vma *b)
{
	unsigned c = 0;

	if (a->v.start != b->v.start)
		c |= DIFF_MAP_START;
	if (a->v.end != b->v.end)
		c |= DIFF_MAP_END;
	if (a->v.prot != b->v.prot)
		c |= DIFF_MAP_PROT;
	if (a->v.flags != b->v.flags)
		c |= DIFF_MAP_FLAGS;
	if (a->v.pgoff != b->v.pgoff)
		c |= DIFF_MAP_PGOFF;
	if (a->path.n != b->path.n || memcmp(a->path.s, b->path.s, a->path.n))
		c |= DIFF_MAP_PATH;
	else if ((a->v.flags & IMG_VMA_FILE) && !same_file(a, b))
		c |= DIFF_MAP_FILE;
	return c;
}

/* The first run of in that ends after addr (runs are sorted by address). */
static size_t first_run(const struct info *in, uint64_t addr)
{
	size_t lo = 0, hi = in->nrun;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in->runs[mid].addr + in->runs[mid].npages * PAGE <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The next page at or after *at, below end, that a run of in holds: 1 and *at, or 0. */
static int next_held(const struct info *in, size_t *k, uint64_t *at, uint64_t end)
{
	while (*k < in->nrun) {
		const struct info_run *r = &in->runs[*k];
		uint64_t rend = r->addr + r->npages * PAGE;

		if (r->addr >= end)
			return 0;
		if (rend > *at) {
			if (r->addr > *at)
				*at = r->addr;
			return *at < end;
		}
		(*k)++;
	}
	return 0;
}

/*
 * Pages of [lo, hi) of maps a (in A) and b (in B).  Visited: every page a
 * run of either image holds or an inherited range of either covers (an
 * incremental image's page is its parent's: the callback reads it, or
 * says it cannot); the rest, held by neither, is counted by rule.
 */
static void diff_pages(const struct info *A, const struct info *B, struct info_diff_map *m,
		       uint64_t lo, uint64_t hi, info_diff_page_fn page, void *ctx)
{
	size_t ka = first_run(A, lo), kb = first_run(B, lo), ia = first_inh(A, lo),
	       ib = first_inh(B, lo);
	uint64_t at = lo, held = 0;
	int da = vma_default(A, m->a), db = vma_default(B, m->b), rest;

	m->pages = (hi - lo) / PAGE;
	for (;;) {
		uint64_t c[4] = { at, at, at, at }, next = UINT64_MAX;
		int h[4] = { next_held(A, &ka, &c[0], hi), next_held(B, &kb, &c[1], hi),
			     next_inh(A, &ia, &c[2], hi), next_inh(B, &ib, &c[3], hi) };
		const unsigned char *x, *y;

		for (int k = 0; k < 4; k++)
			if (h[k] && c[k] < next)
				next = c[k];
		if (next == UINT64_MAX)
			break;
		at = next;
		held++;
		if (page(ctx, 0, at, &x) < 0 || page(ctx, 1, at, &y) < 0)
			m->unknown++;
		else if (memcmp(x, y, PAGE))
			m->differ++;
		at += PAGE;
	}
	/* the pages neither holds */
	if (da == DEF_UNKNOWN || db == DEF_UNKNOWN)
		rest = DEF_UNKNOWN;
	else if (da == DEF_ZERO && db == DEF_ZERO)
		rest = 0;
	else if (da == DEF_FILE && db == DEF_FILE && same_file(m->a, m->b) &&
		 m->a->v.pgoff - m->a->v.start == m->b->v.pgoff - m->b->v.start)
		rest = 0;
	else
		rest = 1;
	if (rest == DEF_UNKNOWN)
		m->unknown += m->pages - held;
	else if (rest)
		m->differ += m->pages - held;
}

static int diff_maps(const struct info *A, const struct info *B, info_diff_page_fn page,
		     void *ctx, struct info_diff *d)
{
	size_t i = 0, j = 0;

	while (i < A->nvma || j < B->nvma) {
		const struct info_vma *a = i < A->nvma ? &A->vmas[i] : NULL;
		const struct info_vma *b = j < B->nvma ? &B->vmas[j] : NULL;
		struct info_diff_map *m;

		if (!(d->maps = diff_push(d->maps, &d->nmap, sizeof(*d->maps))))
			return -1;
		m = &d->maps[d->nmap - 1];
		memset(m, 0, sizeof(*m));
		if (a && b && a->v.start < b->v.end && b->v.start < a->v.end &&
		    (a->v.start == b->v.start || (a->path.n == b->path.n &&
		     !memcmp(a->path.s, b->path.s, a->path.n) &&
		     (a->v.flags & ~IMG_VMA_PAGES) == (b->v.flags & ~IMG_VMA_PAGES)))) {
			/* one map: the same start, or overlapping with one name and kind (grown) */
		} else if (a && (!b || a->v.start < b->v.start)) {
			m->a = a;
			d->maps_removed++;
			i++;
			continue;
		} else {
			m->b = b;
			d->maps_added++;
			j++;
			continue;
		}
		m->a = a;
		m->b = b;
		m->changed = map_changes(a, b);
		d->maps_changed += !!m->changed;
		if (!(a->v.flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VVAR_VCLOCK)))
			diff_pages(A, B, m, a->v.start > b->v.start ? a->v.start : b->v.start,
				   a->v.end < b->v.end ? a->v.end : b->v.end, page, ctx);
		d->pages_differ += m->differ;
		d->pages_unknown += m->unknown;
		d->regions_differ += !!m->differ;
		i++;
		j++;
	}
	return 0;
}

static const struct info_fd *fd_find(const struct info *in, int fd)
{
	for (size_t i = 0; i < in->nfd; i++)
		if (in->fds[i].d.fd == fd)
			return &in->fds[i];
	return NULL;
}

static unsigned fd_changes(const struct info *A, const struct info_fd *a,
			   const struct info *B, const struct info_fd *b)
{
	const struct info_file *fa = &A->files[a->file], *fb = &B->files[b->file];
	unsigned c = 0;

	if (fa->f.kind != fb->f.kind)
		c |= DIFF_FD_KIND;
	if (fa->path.n != fb->path.n || memcmp(fa->path.s, fb->path.s, fa->path.n))
		c |= DIFF_FD_PATH;
	if (fa->f.flags != fb->f.flags)
		c |= DIFF_FD_FLAGS;
	if (fa->f.pos != fb->f.pos)
		c |= DIFF_FD_POS;
	if (a->d.fdflags != b->d.fdflags)
		c |= DIFF_FD_FDFLAGS;
	return c;
}

static int fd_cmp(const void *x, const void *y)
{
	const struct info_diff_fd *p = x, *q = y;
	int a = (p->a ? p->a : p->b)->d.fd, b = (q->a ? q->a : q->b)->d.fd;

	return (a > b) - (a < b);
}

static int diff_fds(const struct info *A, const struct info *B, struct info_diff *d)
{
	for (size_t i = 0; i < A->nfd; i++) {
		const struct info_fd *a = &A->fds[i], *b = fd_find(B, a->d.fd);
		unsigned c = b ? fd_changes(A, a, B, b) : 0;

		if (b && !c)
			continue;
		if (!(d->fds = diff_push(d->fds, &d->nfd, sizeof(*d->fds))))
			return -1;
		d->fds[d->nfd - 1] = (struct info_diff_fd){ a, b, c };
		if (b)
			d->fds_changed++;
		else
			d->fds_removed++;
	}
	for (size_t j = 0; j < B->nfd; j++) {
		if (fd_find(A, B->fds[j].d.fd))
			continue;
		if (!(d->fds = diff_push(d->fds, &d->nfd, sizeof(*d->fds))))
			return -1;
		d->fds[d->nfd - 1] = (struct info_diff_fd){ NULL, &B->fds[j], 0 };
		d->fds_added++;
	}
	if (d->nfd > 1)
		qsort(d->fds, d->nfd, sizeof(*d->fds), fd_cmp);
	return 0;
}

static int has_tid(const struct info *in, int tid)
{
	for (size_t i = 0; i < in->nthr; i++)
		if (in->thr[i].tid == tid)
			return 1;
	return 0;
}

static const struct img_backtrace *stored_bt(const struct info *in, int tid)
{
	for (size_t i = 0; i < in->nbt; i++)
		if (in->bts[i]->tid == tid)
			return in->bts[i];
	return NULL;
}

/* Both images stored thread tid's backtrace, and a frame's pc differs (or their number). */
static int bt_moved(const struct info *A, const struct info *B, int tid)
{
	const struct img_backtrace *a = stored_bt(A, tid), *b = stored_bt(B, tid);

	if (!a || !b)
		return 0;
	if (a->nframes != b->nframes)
		return 1;
	for (unsigned k = 0; k < a->nframes; k++)
		if (img_bt_frames(a)[k].pc != img_bt_frames(b)[k].pc)
			return 1;
	return 0;
}

static int diff_threads(const struct info *A, const struct info *B, struct info_diff *d)
{
	for (size_t i = 0; i < A->nthr; i++) {
		if (has_tid(B, A->thr[i].tid)) {
			d->nthr_same++;
			if (bt_moved(A, B, A->thr[i].tid)) {
				if (!(d->thr_moved = diff_push(d->thr_moved, &d->nthr_moved, sizeof(int))))
					return -1;
				d->thr_moved[d->nthr_moved - 1] = A->thr[i].tid;
			}
			continue;
		}
		if (!(d->thr_removed = diff_push(d->thr_removed, &d->nthr_removed, sizeof(int))))
			return -1;
		d->thr_removed[d->nthr_removed - 1] = A->thr[i].tid;
	}
	for (size_t j = 0; j < B->nthr; j++) {
		if (has_tid(A, B->thr[j].tid))
			continue;
		if (!(d->thr_added = diff_push(d->thr_added, &d->nthr_added, sizeof(int))))
			return -1;
		d->thr_added[d->nthr_added - 1] = B->thr[j].tid;
	}
	return 0;
}

int info_diff_compute(const struct info *a, const struct info *b, info_diff_page_fn page,
		      void *ctx, struct info_diff *d)
{
	memset(d, 0, sizeof(*d));
	if (diff_maps(a, b, page, ctx, d) < 0 || diff_fds(a, b, d) < 0 || diff_threads(a, b, d) < 0) {
		info_diff_free(d);
		return -1;
	}
	return 0;
}

void info_diff_free(struct info_diff *d)
{
	free(d->maps);
	free(d->fds);
	free(d->thr_added);
	free(d->thr_moved);
	free(d->thr_removed);
	memset(d, 0, sizeof(*d));
}
