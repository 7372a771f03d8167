/*
 * info_load.c - read and check a whole image into struct info (ckpt-info).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ucontext.h>
#include "tools/info.h"
#include "tools/info_mem.h"

/* ---- loading ---- */

__attribute__((format(printf, 2, 3)))
static int info_fail(struct info *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->err, sizeof(in->err), fmt, ap);
	va_end(ap);
	return -1;
}

void *info_grow(void *p, size_t n, size_t size)
{
	/*
	 * Doubling: called with n == count so far, grows at powers of 2.
	 * Every array it grows is grown only by it (the capacity is implied
	 * by the count: an exact realloc elsewhere would leave it short).
	 */
	if (n && (n & (n - 1)))
		return p;
	p = realloc(p, (n ? 2 * n : 4) * size);
	if (!p) {
		fprintf(stderr, "ckpt-info: out of memory\n");
		exit(INFO_EXIT_CORRUPT);
	}
	return p;
}

static struct info_str info_dup(const void *p, size_t n)
{
	struct info_str s = { malloc(n + 1), n };

	if (!s.s) {
		fprintf(stderr, "ckpt-info: out of memory\n");
		exit(INFO_EXIT_CORRUPT);
	}
	memcpy(s.s, p, n);
	s.s[n] = 0;
	return s;
}

static int info_vma_cmp(const void *a, const void *b)
{
	const struct info_vma *x = a, *y = b;

	return x->v.start < y->v.start ? -1 : x->v.start > y->v.start;
}

/* Sorts the areas once all are in (PAGES follow every VMA) and checks
 * that none overlaps the next. */
static int info_sort_vmas(struct info *in)
{
	if (in->nsorted == in->nvma)
		return 0;
	qsort(in->vmas, in->nvma, sizeof(in->vmas[0]), info_vma_cmp);
	for (size_t i = 1; i < in->nvma; i++)
		if (in->vmas[i].v.start < in->vmas[i - 1].v.end)
			return info_fail(in, "memory areas 0x%llx-0x%llx and 0x%llx-0x%llx overlap",
					 (unsigned long long)in->vmas[i - 1].v.start,
					 (unsigned long long)in->vmas[i - 1].v.end,
					 (unsigned long long)in->vmas[i].v.start,
					 (unsigned long long)in->vmas[i].v.end);
	in->nsorted = in->nvma;
	return 0;
}

static struct info_vma *info_find_vma(struct info *in, uint64_t addr)
{
	return (struct info_vma *)info_mem_vma(in, addr);	/* ours: writable */
}

static int info_add_pages(struct info *in, struct img_reader *r,
			  const struct img_rec *rec)
{
	static unsigned char dst[IMG_PAGES_MAX * IMG_PAGE_SIZE];
	const struct img_pages *p = img_get_pages(r, rec);
	uint64_t raw, dlen;
	struct info_vma *v;
	char err[256];

	if (!p)
		return -1;
	raw = (uint64_t)p->npages * IMG_PAGE_SIZE;
	dlen = rec->len - sizeof(*p);
	if (info_sort_vmas(in) < 0)
		return -1;
	v = info_find_vma(in, p->addr);
	if (!v || p->addr + raw > v->v.end)
		return info_fail(in, "PAGES record at offset %llu: pages 0x%llx-0x%llx lie outside every memory area",
				 (unsigned long long)rec->offset, (unsigned long long)p->addr,
				 (unsigned long long)(p->addr + raw));
	if (in->verify &&
	    img_pages_decode(p, p + 1, (size_t)dlen, dst, err, sizeof(err)) < 0)
		return info_fail(in, "PAGES record at offset %llu: %s",
				 (unsigned long long)rec->offset, err);
	info_run_add(in, p->addr, p->npages, (uint64_t)r->base + rec->offset, rec->len,
		     p->codec, 0);
	v->pages += p->npages;
	v->raw += raw;
	v->stored += dlen;
	if (p->codec == IMG_CODEC_ZERO)
		v->zero_pages += p->npages;
	return 0;
}

/*
 * MPAGES (mappable image): the run's data is not in the record; with
 * verify and a file, it is read back and checked against data_crc (on a
 * pipe the reader has already stepped over it: counted, not verified).
 */
static int info_add_mpages(struct info *in, struct img_reader *r,
			   const struct img_rec *rec)
{
	const struct img_mpages *p = img_get_mpages(r, rec);
	struct info_vma *v;
	uint64_t raw;
	char err[256];

	if (!p)
		return -1;
	raw = p->npages * IMG_PAGE_SIZE;
	if (info_sort_vmas(in) < 0)
		return -1;
	v = info_find_vma(in, p->addr);
	if (!v || p->addr + raw > v->v.end)
		return info_fail(in, "MPAGES record at offset %llu: pages 0x%llx-0x%llx lie outside every memory area",
				 (unsigned long long)rec->offset, (unsigned long long)p->addr,
				 (unsigned long long)(p->addr + raw));
	if (in->verify && r->is_file &&
	    img_mpages_verify(r->fd, r->base, p, err, sizeof(err)) < 0)
		return info_fail(in, "MPAGES record at offset %llu: %s",
				 (unsigned long long)rec->offset, err);
	info_run_add(in, p->addr, p->npages, (uint64_t)r->base + p->data_off, 0, 0, 1);
	v->pages += p->npages;
	v->raw += raw;
	v->stored += raw;
	return 0;
}

/*
 * Record order (img_format.h): PROC, [PROC_ATTR, SECCOMP*], FILE*, FD*,
 * LOCK*, SYSV*, THREAD+, SIGINFO*, TIMER*, MLOCK?, BACKTRACE*, VMA*, PAGES*.  A record may not come
 * after one of a later rank, and nothing after THREAD may come before a
 * THREAD.
 */
enum info_rank { RANK_PROC, RANK_PROC_ATTR, RANK_SECCOMP, RANK_FILE, RANK_FD, RANK_LOCK,
		 RANK_SYSV_SHM, RANK_SYSV_SEM, RANK_SYSV_MSG, RANK_THREAD, RANK_SIGINFO, RANK_TIMER, RANK_MLOCK, RANK_BT, RANK_VMA, RANK_PAGES };

static int info_rank(uint32_t type)
{
	switch (type) {
	case IMG_REC_PROC:    return RANK_PROC;
	case IMG_REC_PROC_ATTR: return RANK_PROC_ATTR;
	case IMG_REC_SECCOMP: return RANK_SECCOMP;
	case IMG_REC_FILE:    return RANK_FILE;
	case IMG_REC_FILE_DATA: return RANK_FILE;
	case IMG_REC_PIPE_DATA: return RANK_FILE;
	case IMG_REC_MQ_MSGS: return RANK_FILE;
	case IMG_REC_INOTIFY_WATCH: return RANK_FILE;
	case IMG_REC_PTY_DATA: return RANK_FILE;
	case IMG_REC_SYSV_SHM: return RANK_SYSV_SHM;
	case IMG_REC_SYSV_SEM: return RANK_SYSV_SEM;
	case IMG_REC_SYSV_MSG: return RANK_SYSV_MSG;
	case IMG_REC_UNIX_MSG: return RANK_FILE;
	case IMG_REC_EPOLL_ITEM: return RANK_FILE;
	case IMG_REC_INET_QUEUE: return RANK_FILE;
	case IMG_REC_FD:      return RANK_FD;
	case IMG_REC_LOCK:    return RANK_LOCK;
	case IMG_REC_THREAD:  return RANK_THREAD;
	case IMG_REC_SIGINFO: return RANK_SIGINFO;
	case IMG_REC_TIMER:   return RANK_TIMER;
	case IMG_REC_MLOCK:   return RANK_MLOCK;
	case IMG_REC_BACKTRACE: return RANK_BT;
	case IMG_REC_VMA:     return RANK_VMA;
	default:              return RANK_PAGES;
	}
}

static const char *info_rec_name(uint32_t type)
{
	static const char *names[] = { "?", "PROC", "FD (old)", "THREAD", "VMA", "PAGES", "MPAGES",
				       "PARENT", "SIGINFO", "TIMER", "FILE", "FD", "PROC_ATTR",
				       "SECCOMP", "?", "?", "LOCK", "FILE_DATA", "PIPE_DATA", "UNIX_MSG", "?",
				       "SYSV_SHM", "SYSV_SEM", "SYSV_MSG", "MQ_MSGS",
				       "INOTIFY_WATCH" };

	if (type == IMG_REC_MLOCK)
		return "MLOCK";
	if (type == IMG_REC_BACKTRACE)
		return "BACKTRACE";
	if (type == IMG_REC_PTY_DATA)
		return "PTY_DATA";
	if (type == IMG_REC_EPOLL_ITEM)
		return "EPOLL_ITEM";
	if (type == IMG_REC_INET_QUEUE)
		return "INET_QUEUE";
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}


/* tid is 0 (none) or one of the image's threads (their records came first). */
static int known_thread(const struct info *in, int tid)
{
	for (size_t i = 0; tid && i < in->nthr; i++)
		if (in->thr[i].tid == tid)
			return 1;
	return !tid;
}

static int info_add(struct info *in, struct img_reader *r, const struct img_rec *rec,
		    int *last_rank)
{
	int rank = info_rank(rec->type);

	/* FILE_DATA follows its FILE or SYSV_SHM directly, MQ_MSGS its FILE, PIPE_DATA its pipe's */
	if (rec->type == IMG_REC_FILE_DATA && in->ipc_shm)
		rank = RANK_SYSV_SHM;
	if (rec->type != IMG_REC_FILE_DATA)
		in->ipc_shm = 0;
	if (rec->type != IMG_REC_INOTIFY_WATCH && info_inotify_end(in) < 0)
		return -1;
	if (rec->type != IMG_REC_FILE_DATA && rec->type != IMG_REC_MQ_MSGS &&
	    rec->type != IMG_REC_PIPE_DATA && rec->type != IMG_REC_INOTIFY_WATCH &&
	    rec->type != IMG_REC_PTY_DATA) {
		if (info_pipe_data_end(in) < 0)
			return -1;
		in->fdata_file = 0;
	}
	/* PARENT: right after PROC, in incremental images only */
	if (rec->type == IMG_REC_PARENT) {
		const struct img_parent *p;
		const struct img_range *rg;

		if (*last_rank != 0 || in->has_parent || !(in->hdr.flags & IMG_F_INCREMENTAL))
			return info_fail(in, "record at offset %llu (PARENT) is out of place: it "
					 "follows PROC in incremental images only",
					 (unsigned long long)rec->offset);
		if (!(p = img_get_parent(r, rec)))
			return -1;
		rg = (const struct img_range *)(p + 1);
		in->has_parent = 1;
		in->parent = *p;
		for (uint32_t i = 0; i < p->nranges; i++)
			in->inherited += rg[i].end - rg[i].start;
		in->parent_path = info_dup(rg + p->nranges, p->path_len);
		if (p->nranges) {
			in->inh = malloc(p->nranges * sizeof(*in->inh));
			if (!in->inh) {
				fprintf(stderr, "ckpt-info: out of memory\n");
				exit(INFO_EXIT_CORRUPT);
			}
			memcpy(in->inh, rg, p->nranges * sizeof(*in->inh));
			in->ninh = p->nranges;
		}
		return 0;
	}
	if (*last_rank < 0 ? rank != RANK_PROC :
	    rank == RANK_PROC ||		/* a second PROC */
	    rank < *last_rank ||		/* going back */
	    (rank == RANK_PROC_ATTR && in->has_pattr) ||	/* a second PROC_ATTR */
	    (rank == RANK_SECCOMP && !in->has_pattr) ||	/* SECCOMP without PROC_ATTR */
	    (rank == RANK_MLOCK && *last_rank == RANK_MLOCK) ||	/* a second MLOCK */
	    (rank > RANK_THREAD && *last_rank < RANK_THREAD))	/* anything later before THREAD */
		return info_fail(in, "record at offset %llu (%s) is out of order: "
				 "expected PROC, [PROC_ATTR, SECCOMP*], (FILE (FILE_DATA*|PIPE_DATA*|MQ_MSGS|"
				 "INOTIFY_WATCH*|PTY_DATA|INET_QUEUE*) UNIX_MSG*)*, EPOLL_ITEM*, FD*, LOCK*, "
				 "(SYSV_SHM FILE_DATA*)*, SYSV_SEM*, SYSV_MSG*, "
				 "THREAD+, SIGINFO*, TIMER*, MLOCK?, BACKTRACE*, VMA*, PAGES*",
				 (unsigned long long)rec->offset, info_rec_name(rec->type));
	*last_rank = rank;

	switch (rec->type) {
	case IMG_REC_PROC: {
		const struct img_proc *p = img_get_proc(r, rec);
		const char *tail;

		if (!p)
			return -1;
		in->proc = *p;
		tail = (const char *)(p + 1);
		in->cwd = info_dup(tail, p->cwd_len);
		in->exe = info_dup(tail + p->cwd_len, p->exe_len);
		in->groups = malloc(p->ngroups * sizeof(*in->groups) + 1);
		if (!in->groups)
			abort();
		memcpy(in->groups, tail + p->cwd_len + p->exe_len, p->ngroups * sizeof(*in->groups));
		return 0;
	}
	case IMG_REC_PROC_ATTR: {
		const struct img_proc_attr *pa = img_get_proc_attr(r, rec);

		if (!pa)
			return -1;
		in->pattr = *pa;
		in->has_pattr = 1;
		return 0;
	}
	case IMG_REC_SECCOMP: {
		const struct img_seccomp *f = img_get_seccomp(r, rec);

		if (!f)
			return -1;
		if (in->nsc >= in->pattr.nseccomp || f->parent >= (int32_t)in->nsc)
			return info_fail(in, "SECCOMP record at offset %llu: filter %zu (over filter "
					 "%d) is beyond the %u PROC_ATTR names, or names a later one",
					 (unsigned long long)rec->offset, in->nsc, f->parent,
					 in->pattr.nseccomp);
		in->sc = info_grow(in->sc, in->nsc, sizeof(*in->sc));
		in->sc[in->nsc++] = *f;
		in->sc_insns += f->ninsns;
		return 0;
	}
	case IMG_REC_FILE: {
		const struct img_file *f = img_get_file(r, rec);
		struct info_file *nf;

		if (!f)
			return -1;
		if (info_file_by_id(in, f->id))
			return info_fail(in, "FILE record at offset %llu: file %u saved twice",
					 (unsigned long long)rec->offset, f->id);
		in->files = info_grow(in->files, in->nfile, sizeof(*in->files));
		nf = &in->files[in->nfile++];
		memset(nf, 0, sizeof(*nf));
		nf->f = *f;
		nf->data = info_dup(f + 1, f->data_len);
		nf->path = info_dup((const char *)(f + 1) + f->data_len, f->path_len);
		nf->owner = -1;
		in->fdata_file = f->id;
		return info_file_check(in, nf, rec->offset) < 0 ? -1 :
		       info_ipc_file(in, nf, rec->offset);
	}
	case IMG_REC_FILE_DATA:
		if (rank == RANK_SYSV_SHM)
			return info_ipc_add(in, r, rec);
		return info_add_file_data(in, r, rec);
	case IMG_REC_PIPE_DATA:
		return info_add_pipe_data(in, r, rec);
	case IMG_REC_SYSV_SHM:
	case IMG_REC_SYSV_SEM:
	case IMG_REC_SYSV_MSG:
	case IMG_REC_MQ_MSGS:
		return info_ipc_add(in, r, rec);
	case IMG_REC_UNIX_MSG:
		return info_add_unix_msg(in, r, rec);
	case IMG_REC_INOTIFY_WATCH:
		return info_add_inotify_watch(in, r, rec);
	case IMG_REC_PTY_DATA:
		return info_add_pty_data(in, r, rec);
	case IMG_REC_EPOLL_ITEM:
		return info_epoll_add(in, r, rec);
	case IMG_REC_INET_QUEUE:
		return info_add_inet_queue(in, r, rec);
	case IMG_REC_FD: {
		const struct img_fd *d = img_get_fd(r, rec);

		if (!d)
			return -1;
		if (!info_file_get(in, d->file))
			return info_fail(in, "FD record at offset %llu: fd %d names file %u, which "
					 "no FILE record before it has", (unsigned long long)rec->offset,
					 d->fd, d->file);
		for (size_t i = 0; i < in->nfd; i++)
			if (in->fds[i].d.fd == d->fd)
				return info_fail(in, "FD record at offset %llu: fd %d saved twice",
						 (unsigned long long)rec->offset, d->fd);
		in->fds = info_grow(in->fds, in->nfd, sizeof(*in->fds));
		in->fds[in->nfd].d = *d;
		in->fds[in->nfd].file = info_file_by_id(in, d->file) - in->files;
		in->files[in->fds[in->nfd].file].nfds++;
		in->nfd++;
		return 0;
	}
	case IMG_REC_LOCK: {
		const struct img_lock *l = img_get_lock(r, rec);
		const struct info_file *f;

		if (!l)
			return -1;
		if (!(f = info_file_get(in, l->file)))
			return info_fail(in, "LOCK record at offset %llu names file %u, which no FILE "
					 "record before it has", (unsigned long long)rec->offset, l->file);
		if ((f->f.kind != IMG_FILE_REG && f->f.kind != IMG_FILE_DIR &&
		     f->f.kind != IMG_FILE_CHR && f->f.kind != IMG_FILE_PSHM) ||
		    (l->kind == IMG_LOCK_LEASE && f->f.kind != IMG_FILE_REG &&
		     f->f.kind != IMG_FILE_PSHM))
			return info_fail(in, "LOCK record at offset %llu: a %s lock on file %u (%s), "
					 "which cannot hold one", (unsigned long long)rec->offset,
					 img_lock_kind_name(l->kind), l->file, info_fd_kind(f->f.kind));
		in->locks = info_grow(in->locks, in->nlock, sizeof(*in->locks));
		in->locks[in->nlock++] = *l;
		return 0;
	}
	case IMG_REC_THREAD: {
		const struct img_thread *t = img_get_thread(r, rec);

		if (!t)
			return -1;
		if (in->nsc != (in->has_pattr ? in->pattr.nseccomp : 0) ||
		    (t->seccomp_mode == 2 && t->seccomp_leaf >= (int32_t)in->nsc))
			return info_fail(in, "THREAD record at offset %llu names seccomp filter %d; "
					 "the image has %zu of the %u its PROC_ATTR record counts",
					 (unsigned long long)rec->offset, t->seccomp_leaf, in->nsc,
					 in->pattr.nseccomp);
		in->thr = info_grow(in->thr, in->nthr, sizeof(*in->thr));
		in->thr[in->nthr++] = *t;
		return 0;
	}
	case IMG_REC_SIGINFO: {
		const struct img_siginfo *q = img_get_siginfo(r, rec);

		if (!q)
			return -1;
		if (!known_thread(in, q->tid))
			return info_fail(in, "SIGINFO record at offset %llu names thread %d, which "
					 "the image does not have", (unsigned long long)rec->offset,
					 q->tid);
		in->sigs = info_grow(in->sigs, in->nsig, sizeof(*in->sigs));
		in->sigs[in->nsig++] = *q;
		return 0;
	}
	case IMG_REC_TIMER: {
		const struct img_timer *t = img_get_timer(r, rec);

		if (!t)
			return -1;
		if (!known_thread(in, t->notify_tid))
			return info_fail(in, "TIMER record at offset %llu signals thread %d, which "
					 "the image does not have", (unsigned long long)rec->offset,
					 t->notify_tid);
		in->timers = info_grow(in->timers, in->ntimer, sizeof(*in->timers));
		in->timers[in->ntimer++] = *t;
		return 0;
	}
	case IMG_REC_VMA: {
		const struct img_vma *v = img_get_vma(r, rec);
		struct info_vma *iv;

		if (!v || info_vma_file_check(in, v, rec->offset) < 0 ||
		    info_ipc_vma_check(in, v, rec->offset) < 0)
			return -1;
		in->vmas = info_grow(in->vmas, in->nvma, sizeof(*in->vmas));
		iv = &in->vmas[in->nvma++];
		memset(iv, 0, sizeof(*iv));
		iv->v = *v;
		iv->path = info_dup(v + 1, v->path_len);
		if (v->nguards) {
			iv->guards = malloc(v->nguards * sizeof(*iv->guards));
			if (!iv->guards) {
				fprintf(stderr, "ckpt-info: out of memory\n");
				exit(INFO_EXIT_CORRUPT);
			}
			for (uint32_t k = 0; k < v->nguards; k++)
				iv->guards[k] = img_vma_guard(v, k);
		}
		return 0;
	}
	case IMG_REC_MLOCK: {
		const struct img_mlock *m = img_get_mlock(r, rec);

		if (!m)
			return -1;
		in->mlock_mcl = m->mcl;
		return 0;
	}
	case IMG_REC_BACKTRACE: {
		const struct img_backtrace *b = img_get_backtrace(r, rec);

		if (!b)
			return -1;
		if (!known_thread(in, b->tid) || info_bt_stored(in, b->tid))
			return info_fail(in, "BACKTRACE record at offset %llu is for thread %d, which "
					 "the image does not have or has another backtrace of",
					 (unsigned long long)rec->offset, b->tid);
		in->bts = info_grow(in->bts, in->nbt, sizeof(*in->bts));
		in->bts[in->nbt++] = (struct img_backtrace *)info_dup(b, rec->len).s;
		return 0;
	}
	case IMG_REC_PAGES:
		return info_add_pages(in, r, rec);
	case IMG_REC_MPAGES:
		return info_add_mpages(in, r, rec);
	default:	/* the reader refuses unknown types */
		return info_fail(in, "record at offset %llu has unexpected type %u",
				 (unsigned long long)rec->offset, rec->type);
	}
}

int info_load_image(struct info *in, int fd, int part)
{
	struct img_reader r;
	struct img_rec rec;
	int k, last_rank = -1, rc = 0;

	if (img_reader_open(&r, fd) < 0) {
		snprintf(in->err, sizeof(in->err), "%s", r.err);
		rc = r.code == IMG_ERR_INCOMPAT ? INFO_EXIT_INCOMPAT : INFO_EXIT_CORRUPT;
		img_reader_close(&r);
		return rc;
	}
	r.part = part;
	in->hdr = r.hdr;
	in->img_fd = fd;
	in->ipc_ns = -1;
	if (r.hdr.flags & IMG_F_TREE) {
		rc = part ? (snprintf(in->err, sizeof(in->err), "a tree inside a tree"),
			     INFO_EXIT_CORRUPT) : info_tree_load(in, &r, fd);
		img_reader_close(&r);
		return rc;
	}
	if (!part != !(r.hdr.flags & IMG_F_MEMBER)) {
		snprintf(in->err, sizeof(in->err), part ? "a section of a tree is not marked as one" :
			 "this is one process's part of a tree's image, not an image");
		img_reader_close(&r);
		return INFO_EXIT_CORRUPT;
	}
	while ((k = img_reader_next(&r, &rec)) == 1) {
		in->err[0] = 0;
		if (info_add(in, &r, &rec, &last_rank) < 0) {
			k = -1;
			break;
		}
	}
	if (k < 0) {
		if (!in->err[0])
			snprintf(in->err, sizeof(in->err), "%s", r.err);
		rc = r.code == IMG_ERR_INCOMPAT ? INFO_EXIT_INCOMPAT : INFO_EXIT_CORRUPT;
	} else if ((in->hdr.flags & IMG_F_INCREMENTAL) && !in->has_parent) {
		snprintf(in->err, sizeof(in->err), "incremental image has no PARENT record");
		rc = INFO_EXIT_CORRUPT;
	} else if (last_rank < RANK_THREAD) {
		snprintf(in->err, sizeof(in->err), "image has no %s record",
			 last_rank < 0 ? "PROC" : "THREAD");
		rc = INFO_EXIT_CORRUPT;
	} else {
		in->image_bytes = r.nbytes + sizeof(struct img_rec_hdr) + sizeof(struct img_end);
		in->image_bytes += part ? (uint64_t)r.base : 0;	/* a section: where it ends */
		if (r.sealed && !in->seal_verified) {	/* present, not checked (no --key) */
			in->sealed = 1;
			in->seal = r.seal;
		}
		if (info_sort_vmas(in) < 0 || (!part && info_epoll_check(in) < 0))
			rc = INFO_EXIT_CORRUPT;
		info_runs_sort(in);
	}
	img_reader_close(&r);
	if (rc)
		return rc;

	for (size_t i = 0; i < in->nvma; i++) {
		const struct info_vma *v = &in->vmas[i];

		in->mapped += v->v.end - v->v.start;
		in->pages += v->pages;
		in->zero_pages += v->zero_pages;
		in->raw += v->raw;
		in->stored += v->stored;
	}
	return 0;
}

/* Reads and checks the whole image: 0, or an exit status with in->err. */
int info_load(struct info *in, int fd)
{
	return info_load_image(in, fd, 0);
}

void info_free(struct info *in)
{
	for (size_t i = 0; i < in->nsection; i++)
		info_free(&in->sections[i]);
	free(in->sections);
	free(in->members);
	free(in->cwd.s);
	free(in->groups);
	free(in->exe.s);
	info_ipc_free(in);
	for (size_t i = 0; i < in->nfile; i++) {
		free(in->files[i].path.s);
		free(in->files[i].data.s);
		info_evfd_free(&in->files[i]);
	}
	for (size_t i = 0; i < in->nvma; i++) {
		free(in->vmas[i].path.s);
		free(in->vmas[i].guards);
	}
	free(in->files);
	free(in->fds);
	free(in->locks);
	free(in->epitems);
	free(in->thr);
	for (size_t i = 0; i < in->nbt; i++)
		free(in->bts[i]);
	free(in->bts);
	free(in->sigs);
	free(in->timers);
	free(in->sc);
	free(in->vmas);
	free(in->runs);
	free(in->inh);
	free(in->parent_path.s);
}

