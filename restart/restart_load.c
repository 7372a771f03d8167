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
#include <sys/stat.h>
#include <unistd.h>
#include "fds/fd_tty.h"
#include "fds/fd_inet.h"
#include "restart/rst.h"
#include "tools/progress.h"

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
	if (s->r.hdr.flags & IMG_F_TREE) {
		if (s->tree_index >= 0) {
			rst_error(s, "corrupt: a tree inside a tree's section");
			return RST_EXIT_IMAGE;
		}
		return RST_IS_TREE;	/* the directory: restart_tree.c reads it */
	}
	if ((s->tree_index >= 0) != !!(s->r.hdr.flags & IMG_F_MEMBER)) {
		rst_error(s, s->tree_index >= 0 ? "corrupt: section %d is not marked as one" :
			  "this is one process's part of a tree's image (section %d): restart the "
			  "tree's image", s->tree_index);
		return RST_EXIT_IMAGE;
	}
	s->r.part = s->tree_index >= 0;
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
	s->img_ngroups = p->ngroups;
	s->img_groups = malloc(p->ngroups * sizeof(gid_t) + 1);
	if (!s->img_groups)
		abort();
	memcpy(s->img_groups, (const char *)rec.data + sizeof(*p) + p->cwd_len + p->exe_len,
	       p->ngroups * sizeof(gid_t));
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
	/*
	 * Huge pages are moved into place whole, so they are staged in huge
	 * pages of their size, reserved now (no MAP_NORESERVE: a page missing
	 * later would be a SIGBUS, now it is ENOMEM).  --check only verifies:
	 * ordinary pages, and its hugetlb check counts them all.
	 */
	if (rst_vma_hugetlb(s, v) && !s->check_only)
		flags = (flags & ~MAP_NORESERVE) | rst_vma_hugetlb(s, v);
	/* Private anonymous memory: filled with userfaultfd where it can be. */
	if (rst_fill_eligible(s, v) && (v->staging = rst_fill_stage(s, v, len, flags)))
		return 0;
	v->staging = rst_mmap_outside(s, len, PROT_READ | PROT_WRITE, flags);
	if (v->staging == MAP_FAILED && (flags & MAP_HUGETLB)) {
		v->staging = NULL;
		rst_error(s, "mapping %lx-%lx: cannot get the %zu bytes of huge pages it needs (%s): "
			  "reserve more (/sys/kernel/mm/hugepages/*/nr_hugepages) or restart where "
			  "they are free", (unsigned long)v->v.start, (unsigned long)v->v.end, len,
			  strerror(errno));
		return RST_EXIT_ENV;
	}
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
	if (s->plan_only && v && (v->v.flags & IMG_VMA_PAGES))
		return 0;		/* a tree's plan: the member loads its pages itself */
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
	if ((r = v->filled ? rst_fill_record(s, v, rec, p) :
		 rst_pool_decode(s, rec, p, dst, s->check_only && !(v->v.flags & IMG_VMA_VDSO))))
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

/*
 * A GHOST's, MEMFD's, MQUEUE's, PIPE's or FIFO's same_as: an earlier FILE
 * of its kind that carries the same file, queue or pipe (dev, ino).
 */
static int check_same_as(struct rst_state *s, const struct rst_file *f, const struct img_rec *rec)
{
	uint32_t same_as = fd_same_as(&f->f, f->data);
	const struct rst_file *o;

	if (!same_as)
		return 0;
	o = rst_file_by_id(s, same_as);
	if (!o || o == f || o->f.kind != f->f.kind || fd_same_as(&o->f, o->data) ||
	    o->f.dev != f->f.dev || o->f.ino != f->f.ino) {
		rst_error(s, "corrupt: file %u is said to be file %u again, which is not an earlier "
			  "%s of the same file (offset %lu)", f->f.id, same_as,
			  fd_kind_info(f->f.kind)->name, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	return 0;
}

/*
 * A POSIX shm object's FILEs (fds/fd_pshm.c): the first FILE of an object
 * (dev, ino) in the image carries its contents (IMG_PSHM_DATA), no later
 * one does, and every later one has its path.  In a tree the table holds
 * the earlier sections' FILEs too.
 */
static int check_pshm(struct rst_state *s, const struct rst_file *f, const struct img_rec *rec)
{
	int data = !!(((const struct img_file_pshm *)f->data)->flags & IMG_PSHM_DATA);
	const struct rst_file *first = NULL;

	for (int i = 0; i < s->nfiles && !first; i++)
		if (&s->files[i] != f && s->files[i].f.kind == IMG_FILE_PSHM &&
		    s->files[i].f.dev == f->f.dev && s->files[i].f.ino == f->f.ino)
			first = &s->files[i];
	if (data ? !first : first && (((const struct img_file_pshm *)first->data)->flags &
				      IMG_PSHM_DATA) && !strcmp(first->path, f->path))
		return 0;
	rst_error(s, "corrupt: file %u, POSIX shared memory object %s, %s (offset %lu)", f->f.id,
		  f->path, data ? "carries the contents of an object an earlier file has" :
		  "is of no object an earlier file of the same name carries the contents of",
		  (unsigned long)rec->offset);
	return RST_EXIT_IMAGE;
}

/*
 * A VMA that names a FILE (img_vma.file): one read before it, of a kind a
 * mapping can name: a file's contents (GHOST, MEMFD with same_as 0, any
 * PSHM) for a file mapping, HUGETLB for anonymous memory.
 */
static int check_vma_file(struct rst_state *s, const struct img_vma *v, const struct img_rec *rec)
{
	const struct rst_file *f = v->file ? rst_file_by_id(s, v->file) : NULL;
	int ok;

	if (!v->file)
		return 0;
	if (!f)
		ok = 0;
	else if (v->flags & IMG_VMA_ANON)
		ok = f->f.kind == IMG_FILE_HUGETLB &&
		     !(v->start & ((1ull << ((const struct img_file_hugetlb *)f->data)->page_shift) - 1)) &&
		     !(v->end & ((1ull << ((const struct img_file_hugetlb *)f->data)->page_shift) - 1));
	else if (f->f.kind == IMG_FILE_PSHM)
		ok = 1;		/* any FILE of the object: its first carries the contents */
	else
		ok = (f->f.kind == IMG_FILE_GHOST || f->f.kind == IMG_FILE_MEMFD) &&
		     !*(const uint32_t *)f->data;
	if (!ok) {
		rst_error(s, "corrupt: mapping %lx-%lx maps file %u, which the image has not or "
			  "which cannot be mapped so (offset %lu)", (unsigned long)v->start,
			  (unsigned long)v->end, v->file, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	return 0;
}

/* A FILE record: its id not seen before; path and kind data copied. */
static int load_file(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_file *f = img_get_file(&s->r, rec);
	struct rst_file *nf;

	if (!f)
		return reader_fail(s);
	if (rst_file_by_id(s, f->id)) {
		rst_error(s, "corrupt: file %u saved twice (offset %lu)", f->id,
			  (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	s->files = rst_grow(s->files, &s->files_cap, s->nfiles, sizeof(*s->files));
	nf = &s->files[s->nfiles++];
	memset(nf, 0, sizeof(*nf));
	nf->f = *f;
	nf->data = f->data_len ? dup_tail(rec->data, sizeof(*f), f->data_len) : NULL;
	nf->path = dup_tail(rec->data, sizeof(*f) + f->data_len, f->path_len);
	nf->fd = -1;
	nf->obj = -1;
	nf->first_fd = -1;
	nf->placed = -1;
	if (nf->f.kind == IMG_FILE_PSHM)
		return check_pshm(s, nf, rec);
	return check_same_as(s, nf, rec) || rst_ipc_file(s, nf, rec) ? RST_EXIT_IMAGE : 0;
}

/* An FD record: a number not seen before, naming a FILE seen before. */
static int load_fd(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_fd *d = img_get_fd(&s->r, rec);

	if (!d)
		return reader_fail(s);
	if (!rst_file_by_id(s, d->file)) {
		rst_error(s, "corrupt: fd %d names file %u, which the image does not have before "
			  "it (offset %lu)", d->fd, d->file, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	for (int i = 0; i < s->nfds; i++) {
		if (s->fds[i].fd == d->fd) {
			rst_error(s, "corrupt: fd %d saved twice (offset %lu)", d->fd,
				  (unsigned long)rec->offset);
			return RST_EXIT_IMAGE;
		}
	}
	s->fds = rst_grow(s->fds, &s->fds_cap, s->nfds, sizeof(*s->fds));
	s->fds[s->nfds++] = *d;
	return 0;
}

/*
 * A LOCK record: on a FILE seen before, one a restart reopens (a lease:
 * a regular file), whose kind can hold it.
 */
static int load_lock(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_lock *l = img_get_lock(&s->r, rec);
	const struct rst_file *f;

	if (!l)
		return reader_fail(s);
	if (!(f = rst_file_by_id(s, l->file)) ||
	    (f->f.kind != IMG_FILE_REG && f->f.kind != IMG_FILE_DIR && f->f.kind != IMG_FILE_CHR &&
	     f->f.kind != IMG_FILE_PSHM) ||
	    (l->kind == IMG_LOCK_LEASE && f->f.kind != IMG_FILE_REG && f->f.kind != IMG_FILE_PSHM)) {
		rst_error(s, "corrupt: a %s lock on file %u, which the image does not have before "
			  "it or which cannot hold one (offset %lu)", img_lock_kind_name(l->kind),
			  l->file, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	s->locks = rst_grow(s->locks, &s->locks_cap, s->nlocks, sizeof(*s->locks));
	s->locks[s->nlocks++] = *l;
	return 0;
}

/*
 * The records of a FILE (and of what ckpt-restart makes before a tree's
 * processes exist): FILE, its FILE_DATA (or a SysV segment's), a POSIX
 * queue's MQ_MSGS.  A tree's member skips them: the tree's are loaded and
 * opened once by ckpt-restart (restart_tree.c).  A new record that
 * belongs to a FILE goes here.
 */
int rst_tree_file_record(uint32_t type)
{
	switch (type) {
	case IMG_REC_FILE:
	case IMG_REC_FILE_DATA:
	case IMG_REC_PIPE_DATA:
	case IMG_REC_MQ_MSGS:
	case IMG_REC_UNIX_MSG:
	case IMG_REC_INOTIFY_WATCH:
	case IMG_REC_PTY_DATA:
	case IMG_REC_EPOLL_ITEM:
	case IMG_REC_INET_QUEUE:
		return 1;
	default:
		return 0;
	}
}

/* Every record after PROC, up to END: 0 or an exit code. */
static int load_records(struct rst_state *s, struct progress *prg, uint64_t total)
{
	struct img_rec rec;
	int r;

	while ((r = img_reader_next(&s->r, &rec)) > 0) {
		progress_show(prg, s->r.nbytes, total, 0);
		/*
		 * FILE_DATA follows its FILE (restart_fdata.c) or SYSV_SHM
		 * (restart_ipc.c), MQ_MSGS its FILE, with only FILE_DATA between;
		 * PIPE_DATA its pipe's first FILE, with only PIPE_DATA between
		 * (restart_pipe.c)
		 */
		if (rec.type != IMG_REC_FILE_DATA)
			s->ipc_shm = 0;
		if (rec.type != IMG_REC_INOTIFY_WATCH && (r = rst_inotify_end(s)))
			return r;
		if (rec.type != IMG_REC_FILE_DATA && rec.type != IMG_REC_MQ_MSGS &&
		    rec.type != IMG_REC_PIPE_DATA && rec.type != IMG_REC_INOTIFY_WATCH &&
		    rec.type != IMG_REC_PTY_DATA) {
			if ((r = rst_pipe_data_end(s)))
				return r;
			s->fdata_file = 0;
		}
		/* a tree's files were read, and opened, before any process was made */
		if (s->tree_files && rst_tree_file_record(rec.type))
			continue;
		switch (rec.type) {
		case IMG_REC_FILE:
			if ((r = load_file(s, &rec)))
				return r;
			s->fdata_file = s->files[s->nfiles - 1].f.id;
			break;
		case IMG_REC_FILE_DATA:
			if ((r = s->ipc_shm ? rst_ipc_note(s, &rec) : rst_fdata_load(s, &rec)))
				return r;
			break;
		case IMG_REC_SYSV_SHM:
		case IMG_REC_SYSV_SEM:
		case IMG_REC_SYSV_MSG:
		case IMG_REC_MQ_MSGS:
			if ((r = rst_ipc_note(s, &rec)))
				return r;
			break;
		case IMG_REC_PIPE_DATA:
			if ((r = rst_pipe_data_load(s, &rec)))
				return r;
			break;
		case IMG_REC_UNIX_MSG:
			if ((r = rst_usk_msg_load(s, &rec)))
				return r;
			break;
		case IMG_REC_INOTIFY_WATCH:
			if ((r = rst_inotify_load(s, &rec)))
				return r;
			break;
		case IMG_REC_PTY_DATA:
			if ((r = tty_pty_data_load(s, &rec)))
				return r;
			break;
		case IMG_REC_INET_QUEUE:
			if ((r = rst_inet_queue_load(s, &rec)))
				return r;
			break;
		case IMG_REC_FD:
			if ((r = load_fd(s, &rec)))
				return r;
			break;
		case IMG_REC_LOCK:
			if ((r = load_lock(s, &rec)))
				return r;
			break;
		case IMG_REC_EPOLL_ITEM: {
			const struct img_epoll_item *e = img_get_epoll_item(&s->r, &rec);

			if (!e)
				return reader_fail(s);
			if ((r = fd_epoll_load(s, e, rec.offset)))
				return r;
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
			if ((r = check_vma_file(s, v, &rec)) || (r = rst_ipc_vma(s, v, &rec)))
				return r;
			s->vmas = rst_grow(s->vmas, &s->vmas_cap, s->nvmas, sizeof(*s->vmas));
			nv = &s->vmas[s->nvmas++];
			memset(nv, 0, sizeof(*nv));
			nv->v = *v;
			nv->path = dup_tail(rec.data, sizeof(*v), v->path_len);
			nv->fd = -1;
			if (s->tree_files)	/* a tree's shared memory: a part of its object */
				rst_tree_vma(s, nv);
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
		case IMG_REC_PROC_ATTR:
		case IMG_REC_SECCOMP:
			if ((r = rst_attr_note(s, &rec)))
				return r;
			break;
		case IMG_REC_BACKTRACE:
			/* information for ckpt-info: a restart has no use for it */
			break;
		default:
			rst_error(s, "corrupt: unexpected record type %u at offset %lu",
				  rec.type, (unsigned long)rec.offset);
			return RST_EXIT_IMAGE;
		}
	}
	if (r < 0)
		return reader_fail(s);
	return (r = rst_inotify_end(s)) ? r : rst_pipe_data_end(s);
}

int rst_load_rest(struct rst_state *s)
{
	struct progress prg;
	uint64_t total = 0;
	struct stat st;
	int r, pr;

	if (s->loaded)		/* --lazy: the parent read it before forking */
		return 0;
	s->loaded = 1;
	/* a terminal sees how far a long read is (not a tree's members: they read at once) */
	progress_init(&prg, "ckpt-restart", "read");
	if (s->r.part || s->check_only)
		prg.on = 0;
	if (fstat(s->r.fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > s->r.base)
		total = (uint64_t)(st.st_size - s->r.base);
	r = load_records(s, &prg, total);
	progress_end(&prg);
	/* Every page decoded, every decoding thread gone (restart_pool.c). */
	pr = rst_pool_finish(s);
	if (r || pr)
		return r ? r : pr;
	if ((r = rst_attr_loaded(s)))
		return r;
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

void rst_state_free(struct rst_state *s)
{
	for (int i = 0; i < s->nvmas; i++) {
		struct rst_vma *v = &s->vmas[i];

		if (v->staging)
			munmap(v->staging, v->v.end - v->v.start);
		if (v->fd >= 0 && (i == 0 || s->vmas[i - 1].fd != v->fd))
			close(v->fd);
		free(v->path);
		free(v->dirty);
		free(v->have);
	}
	for (int i = 0; i < s->nfiles; i++) {
		rst_pipe_free(&s->files[i]);
		free(s->files[i].path);
		free(s->files[i].data);
		free(s->files[i].pty_data);
		rst_usk_free(&s->files[i]);
		fd_epoll_free(&s->files[i]);
		rst_inet_free(&s->files[i]);
	}
	rst_usk_state_free(s);
	rst_fill_free(s);
	rst_chain_free(s);
	rst_ipc_free(s);
	free(s->vmas);
	free(s->files);
	free(s->fds);
	free(s->threads);
	free(s->sigs);
	free(s->timers);
	free(s->mpages);
	free(s->cwd);
	free(s->exe);
	free(s->img_groups);
	free(s->run_groups);
	img_reader_close(&s->r);
	memset(s, 0, sizeof(*s));
}
