/*
 * restart_load.c - read the image into the restarter: metadata into
 * struct rst_state, page data straight into staging memory.
 *
 * Staging: every mapping that has saved pages gets an anonymous mapping
 * of its size, made on its first PAGES record (after the target ranges
 * are reserved, so a staging area can never land where the image needs
 * to go).  Anonymous mappings are later moved into place whole (mremap:
 * no copy); file mappings get their modified pages copied over the file's.
 * Cost: one decompression of every saved page, into its final page frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "restart/rst.h"

void *rst_grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	p = realloc(p, *cap * size);
	if (!p)
		abort();
	return p;
}

static char *dup_tail(const void *data, size_t off, size_t len)
{
	char *p = malloc(len + 1);

	if (!p)
		abort();
	memcpy(p, (const char *)data + off, len);
	p[len] = '\0';
	return p;
}

static int reader_fail(struct rst_state *s)
{
	rst_error(s, "%s", s->r.err);
	return s->r.code == IMG_ERR_INCOMPAT ? RST_EXIT_INCOMPAT : RST_EXIT_IMAGE;
}

int rst_load_proc(struct rst_state *s)
{
	struct img_rec rec;
	const struct img_proc *p;
	int r;

	if (img_reader_open(&s->r, s->img_fd) < 0)
		return reader_fail(s);
	r = img_reader_next(&s->r, &rec);
	if (r < 0)
		return reader_fail(s);
	if (r == 0 || rec.type != IMG_REC_PROC) {
		rst_error(s, "corrupt: the image does not start with a process record");
		return RST_EXIT_IMAGE;
	}
	if (!(p = img_get_proc(&s->r, &rec)))
		return reader_fail(s);
	s->proc = *p;
	s->cwd = dup_tail(rec.data, sizeof(*p), p->cwd_len);
	s->exe = dup_tail(rec.data, sizeof(*p) + p->cwd_len, p->exe_len);
	s->have_proc = 1;
	if (p->pid != s->r.hdr.pid) {
		rst_error(s, "corrupt: header pid %d differs from process pid %d",
			  s->r.hdr.pid, p->pid);
		return RST_EXIT_IMAGE;
	}
	return 0;
}

static struct rst_vma *vma_of(struct rst_state *s, uint64_t addr, uint32_t npages)
{
	uint64_t end = addr + (uint64_t)npages * IMG_PAGE_SIZE;

	/* Records come in address order: try the last one used first. */
	static int hint;
	for (int k = 0; k < s->nvmas; k++) {
		int i = (hint + k) % s->nvmas;
		struct rst_vma *v = &s->vmas[i];

		if (addr >= v->v.start && end <= v->v.end) {
			hint = i;
			return v;
		}
	}
	return NULL;
}

int rst_stage(struct rst_state *s, struct rst_vma *v)
{
	size_t len = v->v.end - v->v.start;
	int flags = MAP_ANONYMOUS;

	/*
	 * Staged anonymous memory is moved into place whole (mremap), so it
	 * keeps the staging's MAP_NORESERVE: writable memory gets the
	 * mapping's own (IMG_VMA_ATTR_NORESERVE; a checkpoint that did not
	 * read it saw no mapping larger than RAM + swap, so each fits), the
	 * rest NORESERVE (the kernel does not account memory that is not
	 * writable, and a file mapping's staging is only a copy).
	 */
	if ((v->v.attrs & IMG_VMA_ATTR_NORESERVE) || !(v->v.prot & PROT_WRITE) ||
	    (v->v.flags & IMG_VMA_FILE))
		flags |= MAP_NORESERVE;

	flags |= (v->v.flags & IMG_VMA_SHARED) && (v->v.flags & IMG_VMA_ANON) ? MAP_SHARED : MAP_PRIVATE;
	if (v->v.flags & IMG_VMA_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	v->staging = rst_mmap_outside(s, len, PROT_READ | PROT_WRITE, flags);
	if (v->staging == MAP_FAILED) {
		v->staging = NULL;
		rst_error(s, "cannot allocate %zu bytes to stage mapping %lx-%lx: %s", len,
			  (unsigned long)v->v.start, (unsigned long)v->v.end, strerror(errno));
		return RST_EXIT_ENV;
	}
	if (v->v.flags & IMG_VMA_FILE) {
		v->dirty = calloc(len / IMG_PAGE_SIZE / 8 + 1, 1);
		if (!v->dirty)
			abort();
	}
	return 0;
}

static int load_pages(struct rst_state *s, struct img_rec *rec)
{
	const struct img_pages *p = img_get_pages(&s->r, rec);
	struct rst_vma *v;
	void *dst;
	int r;

	if (!p)
		return reader_fail(s);
	v = vma_of(s, p->addr, p->npages);
	if (!v || !(v->v.flags & IMG_VMA_PAGES)) {
		rst_error(s, "corrupt: page data at %lx (offset %lu) lies outside every saved mapping",
			  (unsigned long)p->addr, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	if (s->lazy && rst_lazy_vma(v))		/* read by the page server */
		return rst_lazy_note(s, p, rec);
	if (rec->skipped && (img_reader_fetch(&s->r, rec) < 0 || !(p = img_get_pages(&s->r, rec))))
		return reader_fail(s);
	if (!s->reserved && !s->check_only)
		rst_reserve(s);
	if (!v->staging && (r = rst_stage(s, v)))
		return r;
	dst = (char *)v->staging + (p->addr - v->v.start);
	/* --check: verified, then the memory is not needed (drop). */
	if ((r = rst_pool_decode(s, rec, p, dst, s->check_only && !(v->v.flags & IMG_VMA_VDSO))))
		return r;
	if (v->dirty) {
		uint64_t first = (p->addr - v->v.start) / IMG_PAGE_SIZE;

		for (uint64_t i = 0; i < p->npages; i++)
			v->dirty[(first + i) / 8] |= 1 << ((first + i) % 8);
	}
	rst_chain_mark(s, v, p->addr, p->npages);
	return 0;
}

/* tid is 0 (none) or one of the image's threads (their records came first). */
static int known_thread(const struct rst_state *s, int tid)
{
	for (int i = 0; tid && i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return 1;
	return !tid;
}

/* A timer's id is not saved twice; a thread it signals is the image's. */
static int check_timer(struct rst_state *s, const struct img_timer *t, const struct img_rec *rec)
{
	for (int k = 0; k < s->ntimers; k++) {
		if (s->timers[k].kind == t->kind && s->timers[k].id == t->id) {
			rst_error(s, "corrupt: timer %d saved twice (offset %lu)", t->id,
				  (unsigned long)rec->offset);
			return RST_EXIT_IMAGE;
		}
	}
	if (!known_thread(s, t->notify_tid)) {
		rst_error(s, "corrupt: timer %d signals thread %d, which the image does not have "
			  "(offset %lu)", t->id, t->notify_tid, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	return 0;
}

/* Every record after PROC, up to END: 0 or an exit code. */
static int load_records(struct rst_state *s)
{
	struct img_rec rec;
	int r;

	while ((r = img_reader_next(&s->r, &rec)) > 0) {
		switch (rec.type) {
		case IMG_REC_FD: {
			const struct img_fd *f = img_get_fd(&s->r, &rec);

			if (!f)
				return reader_fail(s);
			s->fds = rst_grow(s->fds, &s->fds_cap, s->nfds, sizeof(*s->fds));
			s->fds[s->nfds].f = *f;
			s->fds[s->nfds].path = dup_tail(rec.data, sizeof(*f), f->path_len);
			s->nfds++;
			break;
		}
		case IMG_REC_THREAD: {
			const struct img_thread *t = img_get_thread(&s->r, &rec);

			if (!t)
				return reader_fail(s);
			for (int i = 0; i < s->nthreads; i++) {
				if (s->threads[i].tid == t->tid) {
					rst_error(s, "corrupt: thread %d saved twice (offset %lu)",
						  t->tid, (unsigned long)rec.offset);
					return RST_EXIT_IMAGE;
				}
			}
			s->threads = rst_grow(s->threads, &s->threads_cap, s->nthreads, sizeof(*s->threads));
			s->threads[s->nthreads++] = *t;
			break;
		}
		case IMG_REC_SIGINFO: {
			const struct img_siginfo *q = img_get_siginfo(&s->r, &rec);

			if (!q)
				return reader_fail(s);
			if (!known_thread(s, q->tid)) {
				rst_error(s, "corrupt: a signal is queued for thread %d, which the image "
					  "does not have (offset %lu)", q->tid, (unsigned long)rec.offset);
				return RST_EXIT_IMAGE;
			}
			s->sigs = rst_grow(s->sigs, &s->sigs_cap, s->nsigs, sizeof(*s->sigs));
			s->sigs[s->nsigs++] = *q;
			break;
		}
		case IMG_REC_TIMER: {
			const struct img_timer *t = img_get_timer(&s->r, &rec);

			if (!t)
				return reader_fail(s);
			if ((r = check_timer(s, t, &rec)))
				return r;
			s->timers = rst_grow(s->timers, &s->timers_cap, s->ntimers, sizeof(*s->timers));
			s->timers[s->ntimers++] = *t;
			break;
		}
		case IMG_REC_VMA: {
			const struct img_vma *v = img_get_vma(&s->r, &rec);
			struct rst_vma *nv;

			if (!v)
				return reader_fail(s);
			if (s->nvmas && v->start < s->vmas[s->nvmas - 1].v.end) {
				rst_error(s, "corrupt: mapping %lx-%lx overlaps or is out of order (offset %lu)",
					  (unsigned long)v->start, (unsigned long)v->end,
					  (unsigned long)rec.offset);
				return RST_EXIT_IMAGE;
			}
			s->vmas = rst_grow(s->vmas, &s->vmas_cap, s->nvmas, sizeof(*s->vmas));
			nv = &s->vmas[s->nvmas++];
			memset(nv, 0, sizeof(*nv));
			nv->v = *v;
			nv->path = dup_tail(rec.data, sizeof(*v), v->path_len);
			nv->fd = -1;
			if (v->nguards) {
				nv->guards = malloc(v->nguards * sizeof(*nv->guards));
				if (!nv->guards)
					abort();
				for (uint32_t k = 0; k < v->nguards; k++)
					nv->guards[k] = img_vma_guard(v, k);
			}
			break;
		}
		case IMG_REC_MLOCK: {
			const struct img_mlock *m = img_get_mlock(&s->r, &rec);

			if (!m)
				return reader_fail(s);
			if (s->have_mlock || s->nvmas) {
				rst_error(s, "corrupt: MLOCK record out of place (offset %lu)",
					  (unsigned long)rec.offset);
				return RST_EXIT_IMAGE;
			}
			s->have_mlock = 1;
			s->mcl = m->mcl;
			break;
		}
		case IMG_REC_PAGES:
			if ((r = load_pages(s, &rec)))
				return r;
			break;
		case IMG_REC_PARENT:
			if ((r = rst_chain_note(s, &rec)))
				return r;
			break;
		case IMG_REC_MPAGES:
			if ((r = rst_load_mpages(s, &rec)))
				return r;
			break;
		default:
			rst_error(s, "corrupt: unexpected record type %u at offset %lu",
				  rec.type, (unsigned long)rec.offset);
			return RST_EXIT_IMAGE;
		}
	}
	return r < 0 ? reader_fail(s) : 0;
}

int rst_load_rest(struct rst_state *s)
{
	int r, pr;

	if (s->loaded)		/* --lazy: the parent read it before forking */
		return 0;
	s->loaded = 1;
	r = load_records(s);
	/* Every page decoded, every decoding thread gone (restart_pool.c). */
	pr = rst_pool_finish(s);
	if (r || pr)
		return r ? r : pr;
	/* The main thread restores the others: put it first. */
	for (int i = 0; i < s->nthreads; i++) {
		if (s->threads[i].tid == s->proc.pid) {
			struct img_thread t = s->threads[0];

			s->threads[0] = s->threads[i];
			s->threads[i] = t;
			return 0;
		}
	}
	rst_error(s, "corrupt: the image has no record of its main thread (tid %d)", s->proc.pid);
	return RST_EXIT_IMAGE;
}
