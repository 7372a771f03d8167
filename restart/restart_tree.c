/*
 * restart_tree.c - ckpt-restart for a process tree's image (IMG_F_TREE;
 * docs/INTERNALS.md, "Process trees").
 *
 * In ckpt-restart (the top), before any process exists:
 *   1. the directory (MEMBER records) and every section's metadata, its
 *      page data skipped (plan_only): pids, ids, files, mappings; the
 *      FILEs of every section go into one table (g.files): an fd may name
 *      a description an earlier section saved;
 *   2. checks, as for one process, for each (pids and tids free, one uid,
 *      the environment of each with --check);
 *   3. every FILE any process uses is opened (descriptions shared by
 *      several processes are one open, inherited by all), every address
 *      range any process needs is reserved, shared anonymous objects are
 *      made (MAP_SHARED, the pages filled by the member that saved them),
 *      and one shared page holds the tree's barriers (struct
 *      rst_tree_sync);
 *   4. the root is forked with its pid; ckpt-restart becomes a subreaper
 *      and watches every process until all are back or one failed.
 * In each process, from the root down (member_main):
 *   a. its children are forked with their pids (those that stay in its
 *      old session before it makes its own); it leads its session or
 *      group if it did;                                     barrier created
 *   b. it joins its process group;                          barrier joined
 *   c. zombies exit with their status; parents see them dead;
 *   d. it restores itself from its own section (rst_restore), which ends
 *      in the restorer at the last barrier (ready): nobody returns to the
 *      program before every process is back.
 * A failure anywhere before the last barrier sets the tree's abort flag:
 * every process exits (those still being made die with their parent:
 * PR_SET_PDEATHSIG), ckpt-restart reaps them and reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "kernel-assist/assist.h"
#include "restart/restorer.h"
#include "restart/rst.h"

#define PAGE	IMG_PAGE_SIZE

/* A shared anonymous object of the tree (by its inode at checkpoint). */
struct rst_tree_shm {
	uint64_t dev, ino, size;
	void *staging;
};

struct rst_tree {
	struct img_member *m;		/* the directory: live members by section, then zombies */
	int nm, nlive;
	struct rst_state **sec;		/* each live member's plan: metadata, no pages */
	int64_t *off;			/* each section's offset */
	struct rst_state base;		/* the options and trust main() set: each state's start */
	struct rst_state g;		/* the tree's files, opened by the top */
	struct rst_tree_shm *shm;
	int nshm;
	struct rst_tree_sync *sync;
	int32_t *inherit;		/* by FILE (g.files order): ckpt-restart's fd, or -1 */
	int root_outer_pgid, root_outer_sid;	/* the root's own ids if outside the tree
						 * (0: outside its pid namespace), else -1 */
};

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

static void inherit_plan(struct rst_tree *t);

/* ---- 1. reading the directory and the sections ---- */

/*
 * A tree's sections are read by offset, so an image from a pipe goes to
 * memory first: the directory's header (already read), what the reader
 * has ahead, then the rest.
 */
static int spool(struct rst_state *s)
{
	struct img_reader *r = &s->r;
	char buf[1 << 16];
	int m = (int)syscall(SYS_memfd_create, "ckpt-restart-image", MFD_CLOEXEC);
	ssize_t k;

	if (m < 0 || write(m, &r->hdr, sizeof(r->hdr)) != sizeof(r->hdr) ||
	    write(m, r->in + r->in_pos, r->in_len - r->in_pos) != (ssize_t)(r->in_len - r->in_pos))
		goto fail;
	while ((k = read(s->img_fd, buf, sizeof(buf))) > 0)
		if (write(m, buf, (size_t)k) != k)
			goto fail;
	if (k < 0)
		goto fail;
	img_reader_close(r);
	s->img_fd = m;
	if (lseek(m, 0, SEEK_SET) < 0 || img_reader_open(r, m) < 0)
		goto fail;
	return 0;
fail:
	rst_error(s, "cannot hold the tree's image in memory: %s", strerror(errno));
	return RST_EXIT_ENV;
}

static int directory(struct rst_state *s, struct rst_tree *t)
{
	struct img_rec rec;
	int k, live = 0;

	s->r.part = 1;
	while ((k = img_reader_next(&s->r, &rec)) > 0) {
		const struct img_member *m;

		if (rec.type != IMG_REC_MEMBER) {
			rst_error(s, "corrupt: record at offset %lu of the tree's directory is not a "
				  "MEMBER", (unsigned long)rec.offset);
			return RST_EXIT_IMAGE;
		}
		if (!(m = img_get_member(&s->r, &rec)))
			break;
		t->m = realloc(t->m, (t->nm + 1) * sizeof(*t->m));
		if (!t->m)
			abort();
		t->m[t->nm++] = *m;
	}
	if (k < 0) {
		rst_error(s, "%s", s->r.err);
		return s->r.code == IMG_ERR_INCOMPAT ? RST_EXIT_INCOMPAT : RST_EXIT_IMAGE;
	}
	for (int i = 0; i < t->nm; i++) {
		const struct img_member *m = &t->m[i];
		int parent = -1;

		for (int j = 0; j < i; j++) {
			if (t->m[j].pid == m->pid) {
				rst_error(s, "corrupt: pid %d is in the tree twice", m->pid);
				return RST_EXIT_IMAGE;
			}
			if (t->m[j].pid == m->ppid && t->m[j].section >= 0)
				parent = j;
		}
		if ((m->section >= 0 && (m->section != i || live != i)) ||
		    (i == 0 && (m->section != 0 || m->pid != s->r.hdr.pid)) || (i > 0 && parent < 0)) {
			rst_error(s, "corrupt: the tree's directory does not list its processes "
				  "root first, each after its parent, sections in order (member %d, "
				  "pid %d)", i, m->pid);
			return RST_EXIT_IMAGE;
		}
		live += m->section >= 0;
	}
	t->nlive = live;
	if (!live) {
		rst_error(s, "corrupt: the tree has no process");
		return RST_EXIT_IMAGE;
	}
	return 0;
}

/* Bytes [from, to) of the image are zero (the padding before a section). */
static int zero_pad(struct rst_state *s, uint64_t from, uint64_t to)
{
	unsigned char pad[PAGE];

	if (to == from)
		return 0;
	if (pread(s->img_fd, pad, to - from, (off_t)from) != (ssize_t)(to - from)) {
		rst_error(s, "truncated: the image ends at offset %lu, before its section",
			  (unsigned long)from);
		return RST_EXIT_IMAGE;
	}
	for (uint64_t i = 0; i < to - from; i++) {
		if (pad[i]) {
			rst_error(s, "corrupt: the padding at offset %lu is not zero",
				  (unsigned long)from);
			return RST_EXIT_IMAGE;
		}
	}
	return 0;
}

/* A state for section k, as main() set up the restart (no record read). */
static struct rst_state *section_state(struct rst_tree *t, int k)
{
	struct rst_state *p = xcalloc(1, sizeof(*p));
	char *name;

	*p = t->base;
	p->tree = t;
	p->tree_index = k;
	p->section_off = t->off[k];
	if (asprintf(&name, "%s (process %d)", t->base.image, t->m[k].pid) > 0)
		p->image = name;
	return p;
}

/* Section k's metadata (its page data skipped): its end in *end. */
static int plan(struct rst_state *s, struct rst_tree *t, int k, uint64_t *end)
{
	struct rst_state *p = section_state(t, k);
	int r;

	t->sec[k] = p;
	p->plan_only = 1;
	p->files = t->g.files;		/* one table for the tree: ids are unique in it */
	p->nfiles = t->g.nfiles;
	p->files_cap = t->g.files_cap;
	if (lseek(s->img_fd, t->off[k], SEEK_SET) < 0) {
		rst_error(s, "cannot seek to section %d: %s", k, strerror(errno));
		return RST_EXIT_IMAGE;
	}
	if ((r = rst_load_proc(p)) != 0)
		return r == RST_IS_TREE ? RST_EXIT_IMAGE : r;
	if (p->proc.pid != t->m[k].pid) {
		rst_error(s, "corrupt: section %d is process %d, the directory says %d", k,
			  p->proc.pid, t->m[k].pid);
		return RST_EXIT_IMAGE;
	}
	img_reader_skip_pages(&p->r);
	r = rst_load_rest(p);
	t->g.files = p->files;
	t->g.nfiles = p->nfiles;
	t->g.files_cap = p->files_cap;
	if (r)
		return r;
	*end = (uint64_t)t->off[k] + p->r.nbytes + sizeof(struct img_rec_hdr) + sizeof(struct img_end);
	img_reader_close(&p->r);
	return 0;
}

int rst_tree_load(struct rst_state *s)
{
	struct rst_tree *t = xcalloc(1, sizeof(*t));
	uint64_t end;
	struct stat st;
	int r;

	if (!s->r.is_file && (r = spool(s)))
		return r;
	t->base = *s;
	memset(&t->base.r, 0, sizeof(t->base.r));
	t->base.tree = t;
	t->base.tree_index = -1;
	s->tree = t;
	if ((r = directory(s, t)))
		return r;
	t->g = t->base;
	t->sec = xcalloc(t->nlive, sizeof(*t->sec));
	t->off = xcalloc(t->nlive, sizeof(*t->off));
	end = (uint64_t)s->r.base + s->r.nbytes + sizeof(struct img_rec_hdr) + sizeof(struct img_end);
	for (int k = 0; k < t->nlive; k++) {
		t->off[k] = (int64_t)page_up(end);
		if ((r = zero_pad(s, end, (uint64_t)t->off[k])) || (r = plan(s, t, k, &end)))
			return r;
	}
	if (fstat(s->img_fd, &st) < 0 ||
	    ((uint64_t)st.st_size != end && (uint64_t)st.st_size != end + IMG_SEAL_SIZE)) {
		rst_error(s, "corrupt: trailing bytes after the tree's last section (offset %lu)",
			  (unsigned long)end);
		return RST_EXIT_IMAGE;
	}
	for (int k = 0; k < t->nlive; k++) {
		struct rst_state *p = t->sec[k];

		p->files = t->g.files;	/* the table grew as each section was read */
		p->nfiles = t->g.nfiles;
		p->files_cap = 0;
		/* one user: the root's ids are the whole tree's (and trust decides on them) */
		if (p->proc.uid != t->sec[0]->proc.uid || p->proc.gid != t->sec[0]->proc.gid) {
			rst_error(s, "process %d ran as uid %u gid %u, the tree's root as uid %u gid "
				  "%u: a tree of several users is not supported", p->proc.pid,
				  p->proc.uid, p->proc.gid, t->sec[0]->proc.uid, t->sec[0]->proc.gid);
			return RST_EXIT_ENV;
		}
		if ((r = rst_seal_check_proc(p)))
			return r;
	}
	inherit_plan(t);
	/* every section's SysV objects and queue messages, once each: the top makes them */
	for (int k = 0; k < t->nlive; k++)
		rst_ipc_merge(&t->g, t->sec[k]);
	/* the root's process record stands for the tree in main()'s checks */
	s->proc = t->sec[0]->proc;
	t->g.proc = s->proc;
	s->img_groups = t->sec[0]->img_groups;
	s->img_ngroups = t->sec[0]->img_ngroups;
	s->threads = t->sec[0]->threads;
	s->nthreads = t->sec[0]->nthreads;
	s->have_proc = 1;
	t->root_outer_pgid = t->m[0].pgid != t->m[0].pid ? t->m[0].pgid : -1;
	t->root_outer_sid = t->m[0].sid != t->m[0].pid ? t->m[0].sid : -1;
	return 0;
}

/* ---- inherited descriptions ---- */

static int file_index(const struct rst_tree *t, uint32_t id)
{
	for (int i = 0; i < t->g.nfiles; i++)
		if (t->g.files[i].f.id == id)
			return i;
	return -1;
}

/*
 * Which descriptions are ckpt-restart's own fds: the root's fd N given
 * by --inherit-fd N[=M] (M), the root's inherited fds (INHERIT: a
 * terminal, a pipe or socket to the outside at 0-2: the same number); an
 * INHERIT description the root does not hold: the lowest number a
 * process holds it at.  Another process's fd N on another description
 * keeps its own (a pipeline's stage: its stdout is its pipe).
 */
static void inherit_plan(struct rst_tree *t)
{
	const struct rst_state *root = t->sec[0];

	t->inherit = xcalloc(t->g.nfiles, sizeof(*t->inherit));
	for (int i = 0; i < t->g.nfiles; i++)
		t->inherit[i] = -1;
	for (int i = 0; i < root->nfds; i++) {
		int k = file_index(t, root->fds[i].file), from = -1;

		for (int j = 0; j < root->ninherit; j++)
			if (root->inherit[j].fd == root->fds[i].fd)
				from = root->inherit[j].from;
		if (k < 0)
			continue;
		if (from < 0 && t->g.files[k].f.kind == IMG_FILE_INHERIT)
			from = root->fds[i].fd;
		if (from >= 0 && (t->inherit[k] < 0 || root->fds[i].fd < t->inherit[k]))
			t->inherit[k] = from;
	}
	for (int m = 1; m < t->nlive; m++)
		for (int i = 0; i < t->sec[m]->nfds; i++) {
			const struct img_fd *d = &t->sec[m]->fds[i];
			int k = file_index(t, d->file);

			if (k >= 0 && t->g.files[k].f.kind == IMG_FILE_INHERIT &&
			    (t->inherit[k] < 0 || d->fd < t->inherit[k]))
				t->inherit[k] = d->fd;
		}
}

int rst_tree_inherit(const struct rst_state *s, uint32_t file)
{
	const struct rst_tree *t = s->tree;
	int k = t->inherit ? file_index(t, file) : -1;

	return k < 0 ? -1 : t->inherit[k];
}

/* ---- 2. checks ---- */

static int verify_files(struct rst_tree *t);

/*
 * What main() decided after the tree was read (whom to run as, a pid
 * namespace of its own), into every state that starts a process's.
 */
static void tree_decided(struct rst_state *s, struct rst_tree *t)
{
	struct rst_state *all[2] = { &t->base, &t->g };

	for (int i = 0; i < 2; i++) {
		all[i]->as_owner = s->as_owner;
		all[i]->foreign = s->foreign;
		all[i]->pidns = s->pidns;
	}
	for (int k = 0; k < t->nlive; k++) {
		t->sec[k]->as_owner = s->as_owner;
		t->sec[k]->foreign = s->foreign;
		t->sec[k]->pidns = s->pidns;
	}
}

int rst_tree_check_pids(struct rst_state *s)
{
	struct rst_tree *t = s->tree;
	char name[64];
	int bad = 0, r;

	for (int k = 0; k < t->nlive; k++) {
		struct rst_state *p = t->sec[k];

		p->as_owner = s->as_owner;
		if ((r = rst_check_pid(p)))
			bad = r;
		for (int i = 0; i < p->nthreads; i++)
			if (p->threads[i].tid != p->proc.pid &&
			    assist_pid_holder(p->threads[i].tid, name, sizeof(name)))
				bad = rst_problem(s, RST_EXIT_ENV, "tid %d (a thread of process %d) is "
						  "taken by process %d (%s)", p->threads[i].tid,
						  p->proc.pid, p->threads[i].tid, name);
	}
	for (int i = t->nlive; i < t->nm; i++)
		if (assist_pid_holder(t->m[i].pid, name, sizeof(name)))
			bad = rst_problem(s, RST_EXIT_ENV, "pid %d (a zombie of the tree) is taken by "
					  "process %d (%s)", t->m[i].pid, t->m[i].pid, name);
	return bad;
}

int rst_tree_check(struct rst_state *s)
{
	struct rst_tree *t = s->tree;
	int zombies = t->nm - t->nlive;

	tree_decided(s, t);
	rst_tree_check_pids(s);
	t->g.check_only = 1;
	t->g.nproblems = 0;
	rst_check_ipc(&t->g);
	verify_files(t);
	s->nproblems += t->g.nproblems;
	for (int k = 0; k < t->nlive; k++) {
		struct rst_state *p = t->sec[k];

		p->check_only = 1;
		p->tree_files = 1;	/* files and IPC objects: the tree's, checked above */
		rst_check_env(p);
		s->nproblems += p->nproblems;
	}
	rst_trust_report(s);
	if (s->nproblems) {
		fprintf(stderr, "ckpt-restart: %s: cannot be restarted here (%d problem%s)\n",
			s->image, s->nproblems, s->nproblems > 1 ? "s" : "");
		return RST_EXIT_ENV;
	}
	rst_caps_note(s);
	printf("ckpt-restart: %s: can be restarted here (a tree of %d process%s%s, root pid "
	       "%d%s)\n", s->image, t->nlive, t->nlive > 1 ? "es" : "",
	       zombies ? " and zombies" : "", s->proc.pid,
	       s->pidns ? " in a new pid namespace" : "");
	return 0;
}

/* ---- 3. what the top makes before the root exists ---- */

/* Whether FILE f is made into a description by some fd of the tree (not inherited). */
static int file_used(const struct rst_tree *t, const struct rst_file *f, int *mapped)
{
	int used = 0;

	*mapped = 0;
	for (int k = 0; k < t->nlive; k++) {
		const struct rst_state *p = t->sec[k];

		for (int i = 0; i < p->nfds; i++)
			if (p->fds[i].file == f->f.id)
				used |= rst_tree_inherit(p, f->f.id) < 0;
		for (int i = 0; i < p->nvmas; i++)
			*mapped |= p->vmas[i].v.file == f->f.id;
	}
	return used;
}

static int lift(int fd, int base)
{
	int n;

	if (fd < 0 || fd >= base)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, base);
	close(fd);
	return n;
}

/*
 * What this machine must have for every FILE the tree uses (each kind's
 * verify: a file still there and the same, a queue not another's...), as
 * one process's restart checks its own: the number of problems.
 */
static int verify_files(struct rst_tree *t)
{
	struct rst_state *g = &t->g;
	int bad = 0, mapped;

	for (int i = 0; i < g->nfiles; i++) {
		struct rst_file *f = &g->files[i];
		const struct fd_restore_ops *k = fd_restore_find(f->f.kind);

		f->used = file_used(t, f, &mapped);
		f->mapped = mapped;
		/* (in flight only: the unix build opens it to send it) */
		if ((f->used || f->mapped || f->inflight) && k && k->verify && k->verify(g, f))
			bad++;
	}
	return bad;
}

/*
 * Every description any process of the tree has, opened once: forked
 * processes inherit them, so one shared by several is one again.  Above
 * every fd number any process uses, so placing an fd never closes one.
 */
static int open_files(struct rst_state *s, struct rst_tree *t)
{
	struct rst_state *g = &t->g;
	int base = 10, mapped;

	g->proc = s->proc;
	for (int k = 0; k < t->nlive; k++) {
		int b = rst_fd_base(t->sec[k]);

		base = b > base ? b : base;
	}
	/* rst_fd_base(g) must say the same: the tree's fds, for the kinds that ask */
	g->fds = NULL;
	g->nfds = 0;
	for (int k = 0; k < t->nlive; k++)
		for (int i = 0; i < t->sec[k]->nfds; i++) {
			g->fds = rst_grow(g->fds, &g->fds_cap, g->nfds, sizeof(*g->fds));
			g->fds[g->nfds++] = t->sec[k]->fds[i];
		}
	for (int i = 0; i < g->nfiles; i++) {
		struct rst_file *f = &g->files[i];
		const struct fd_restore_ops *k = fd_restore_find(f->f.kind);
		int used = file_used(t, f, &mapped);

		f->used = used;
		f->mapped = mapped;
		if (!used && !mapped)
			continue;
		if (mapped && k && k->make && rst_obj(g, f) < 0)
			return RST_EXIT_ENV;
		if (!used)
			continue;
		if (f->fd >= 0) {	/* opened already by the unix build, to send it in flight */
			if ((f->fd = lift(f->fd, base)) < 0)
				return RST_EXIT_ENV;
			continue;
		}
		if (f->f.kind == IMG_FILE_PIDFD) {
			rst_error(s, "a pidfd in a tree (file %u): not supported yet", f->f.id);
			return RST_EXIT_ENV;
		}
		if (!k || !k->open) {
			rst_error(s, "file %u: %s cannot be made again", f->f.id, f->path);
			return RST_EXIT_ENV;
		}
		if ((f->fd = lift(k->open(g, f), base)) < 0)
			return RST_EXIT_ENV;
	}
	/* files made again: every description of them is open, now what comes last */
	for (int i = 0; i < g->nfiles; i++) {
		struct rst_file *f = &g->files[i];
		const struct fd_restore_ops *k = fd_restore_find(f->f.kind);

		if (f->obj >= 0 && k && k->finish && k->finish(g, f) < 0)
			return RST_EXIT_ENV;
	}
	return 0;
}

static int cmp_vma(const void *a, const void *b)
{
	const struct rst_vma *x = a, *y = b;

	return x->v.start < y->v.start ? -1 : x->v.start > y->v.start;
}

/*
 * Every address range any process needs, reserved here: what the top
 * maps from now on (the shared objects, the barrier page) is outside all
 * of them, in every process.
 */
static void reserve_union(struct rst_tree *t)
{
	struct rst_state *g = &t->g;
	int n = 0;

	for (int k = 0; k < t->nlive; k++)
		n += t->sec[k]->nvmas;
	g->vmas = xcalloc(n, sizeof(*g->vmas));
	for (int k = 0; k < t->nlive; k++)
		for (int i = 0; i < t->sec[k]->nvmas; i++)
			g->vmas[g->nvmas++].v = t->sec[k]->vmas[i].v;
	qsort(g->vmas, g->nvmas, sizeof(*g->vmas), cmp_vma);
	n = 0;
	for (int i = 0; i < g->nvmas; i++) {	/* merged: disjoint, in order */
		if (n && g->vmas[i].v.start <= g->vmas[n - 1].v.end) {
			if (g->vmas[i].v.end > g->vmas[n - 1].v.end)
				g->vmas[n - 1].v.end = g->vmas[i].v.end;
			continue;
		}
		g->vmas[n++] = g->vmas[i];
	}
	g->nvmas = n;
	rst_reserve(g);
}

static int is_shm(const struct rst_vma *v)
{
	return (v->v.flags & (IMG_VMA_SHARED | IMG_VMA_ANON)) == (IMG_VMA_SHARED | IMG_VMA_ANON) &&
	       !v->v.file;
}

/*
 * Shared anonymous objects of several processes (a TREESHM mapping names
 * one): made here, MAP_SHARED, so that every process's mapping of it is
 * a move of its part (fork keeps it shared); the member that saved its
 * pages fills them.
 */
static int make_shm(struct rst_state *s, struct rst_tree *t)
{
	for (int k = 0; k < t->nlive; k++)
		for (int i = 0; i < t->sec[k]->nvmas; i++) {
			const struct rst_vma *v = &t->sec[k]->vmas[i];
			int j;

			if (!(v->v.flags & IMG_VMA_TREESHM))
				continue;
			for (j = 0; j < t->nshm; j++)
				if (t->shm[j].dev == v->v.dev && t->shm[j].ino == v->v.ino)
					break;
			if (j == t->nshm) {
				t->shm = realloc(t->shm, (t->nshm + 1) * sizeof(*t->shm));
				if (!t->shm)
					abort();
				t->shm[t->nshm++] = (struct rst_tree_shm){ v->v.dev, v->v.ino, 0, NULL };
			}
		}
	for (int j = 0; j < t->nshm; j++) {
		struct rst_tree_shm *o = &t->shm[j];

		for (int k = 0; k < t->nlive; k++)
			for (int i = 0; i < t->sec[k]->nvmas; i++) {
				const struct rst_vma *v = &t->sec[k]->vmas[i];

				if (is_shm(v) && v->v.dev == o->dev && v->v.ino == o->ino &&
				    v->v.pgoff + (v->v.end - v->v.start) > o->size)
					o->size = v->v.pgoff + (v->v.end - v->v.start);
			}
		o->staging = rst_mmap_outside(&t->g, o->size, PROT_READ | PROT_WRITE,
					      MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE);
		if (o->staging == MAP_FAILED) {
			rst_error(s, "cannot make %lu bytes of shared memory: %s",
				  (unsigned long)o->size, strerror(errno));
			return RST_EXIT_ENV;
		}
		/* every mapping of it, the saver's too, is a part of this one */
		for (int k = 0; k < t->nlive; k++)
			for (int i = 0; i < t->sec[k]->nvmas; i++) {
				struct rst_vma *v = &t->sec[k]->vmas[i];

				if (is_shm(v) && v->v.dev == o->dev && v->v.ino == o->ino)
					v->staging = (char *)o->staging + v->v.pgoff;
			}
	}
	return 0;
}

/* ---- the barriers (the shared page) ---- */

static void sync_arrive(uint32_t *word)
{
	__atomic_add_fetch(word, 1, __ATOMIC_ACQ_REL);
	syscall(SYS_futex, word, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

/* Until *word reaches want: 0, or -1 when the tree aborts. */
static int sync_wait(struct rst_tree_sync *y, uint32_t *word, uint32_t want)
{
	for (;;) {
		uint32_t n = __atomic_load_n(word, __ATOMIC_ACQUIRE);
		struct timespec ts = { 0, 100000000 };

		if (n >= want)
			return 0;
		if (__atomic_load_n(&y->abort, __ATOMIC_ACQUIRE))
			return -1;
		syscall(SYS_futex, word, FUTEX_WAIT, n, &ts, NULL, 0);
	}
}

static void sync_abort(struct rst_tree_sync *y)
{
	__atomic_store_n(&y->abort, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &y->abort, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
	syscall(SYS_futex, &y->created, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
	syscall(SYS_futex, &y->joined, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
	syscall(SYS_futex, &y->ready, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

void rst_tree_fail(struct rst_state *s, int code)
{
	if (s->tree && s->tree->sync)
		sync_abort(s->tree->sync);
	_exit(code ? code : RST_EXIT_ENV);
}

void rst_tree_vma(struct rst_state *s, struct rst_vma *v)
{
	const struct rst_tree *t = s->tree;

	if (!is_shm(v))
		return;
	for (int j = 0; j < t->nshm; j++)
		if (t->shm[j].dev == v->v.dev && t->shm[j].ino == v->v.ino)
			v->staging = (char *)t->shm[j].staging + v->v.pgoff;
}

void *rst_tree_sync_page(const struct rst_state *s)
{
	return s->tree->sync;
}

int rst_tree_live(const struct rst_state *s)
{
	return s->tree->nlive;
}

int rst_tree_stopped(const struct rst_state *s)
{
	return s->tree_index >= 0 && (s->tree->m[s->tree_index].flags & IMG_MEMBER_STOPPED);
}

/* ---- 4. each process ---- */

/* An id as the tree has it now: the root's outside group and session are ckpt-restart's. */
static int now_pgid(const struct rst_tree *t, int pgid)
{
	return pgid == t->root_outer_pgid ? t->sync->outer_pgid : pgid;
}

static int now_sid(const struct rst_tree *t, int sid)
{
	return sid == t->root_outer_sid ? t->sync->outer_sid : sid;
}

static __attribute__((noreturn)) void member_main(struct rst_state *s, int k);

/*
 * Once every group exists (joined), the root gives the terminal to the
 * group that had it, when ckpt-restart has it now (its group is the
 * foreground group of its controlling terminal): as a shell gives it to
 * a job.  Before the last barrier: nobody runs without it.  (SIGTTOU is
 * blocked here: a background group may set it.)
 */
static void give_terminal(struct rst_tree *t)
{
	int fd, pgid = -1, fg;

	for (int k = 0; k < t->nlive; k++)
		if (t->m[k].flags & IMG_MEMBER_FOREGROUND)
			pgid = now_pgid(t, t->m[k].pgid);
	if ((pgid <= 0 && !rst_tty.resized) ||
	    (fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return;
	/* (after a handover the root's session has the terminal: its group is foreground) */
	if (pgid > 0 && (rst_tty.handover || tcgetpgrp(fd) == t->sync->outer_pgid))
		tcsetpgrp(fd, pgid);
	/* a size that is not the saved one: the foreground group's SIGWINCH, pending (fd_tty.c) */
	fg = tcgetpgrp(fd);
	if (rst_tty.resized && fg > 0 && (fg == pgid || fg == t->sync->outer_pgid ||
					   fg == now_pgid(t, t->m[0].pgid)))
		kill(-fg, SIGWINCH);
	close(fd);
}


/* The process for member j, a child of this one: 0, or an exit code (reported). */
static int make_child(struct rst_state *s, int j)
{
	struct rst_tree *t = s->tree;
	pid_t pid;

	rst_caps_raise(s);
	pid = assist_fork_pid(t->m[j].pid);
	rst_caps_lower(s);
	if (pid == 0)
		member_main(s, j);
	if (pid < 0) {
		rst_error(s, "cannot create process %d: %s", t->m[j].pid, strerror(-pid));
		return RST_EXIT_ENV;
	}
	return 0;
}

/* A zombie of the tree: made, in its group, then it exits as it had. */
static __attribute__((noreturn)) void zombie_exit(struct rst_tree *t, const struct img_member *m)
{
	struct rlimit none = { 0, 0 };
	uint64_t mask;

	if (m->exit_code == CLD_EXITED)
		_exit(m->exit_status);
	/* killed by a signal, as it was (its core, if it dumped one, is not made again) */
	setrlimit(RLIMIT_CORE, &none);
	signal(m->exit_status, SIG_DFL);
	mask = ~(1ull << (m->exit_status - 1));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
	kill(getpid(), m->exit_status);
	(void)t;
	_exit(128 + m->exit_status);
}

static __attribute__((noreturn)) void member_main(struct rst_state *top, int k)
{
	struct rst_tree *t = top->tree;
	const struct img_member *me = &t->m[k];
	struct rst_tree_sync *y = t->sync;
	struct rst_state *s;
	/* a root that led its session on its terminal, restarted as a shell job: ckpt-restart's */
	int leads_session = me->sid == me->pid && !(k == 0 && rst_tty.shell_job), r;
	const struct rst_file *pty = NULL;
	int sid_now = getsid(0);

	/* made as a child of its parent: if that one dies now, so does this one */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (k > 0 && getppid() != me->ppid)
		_exit(RST_EXIT_ENV);
	/* a: children that stay in the session this one leaves first, then its own */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (leads_session && setsid() < 0) {
				rst_error(top, "process %d cannot lead its session again: %s", me->pid,
					  strerror(errno));
				rst_tree_fail(top, RST_EXIT_ENV);
			}
			/* ckpt-restart gave its terminal up for it (fds/fd_tty_job.c) */
			if (leads_session && k == 0 && rst_tty.handover &&
			    rst_tty_take(top, t->g.files, t->g.nfiles) < 0)
				rst_tree_fail(top, RST_EXIT_ENV);
			/* a pty the tree made was its session's terminal (fds/fd_tty_pty.c) */
			if (leads_session && (pty = rst_tty_pty_ctty(t->sec[k], t->g.files,
								     t->g.nfiles)) &&
			    ioctl(pty->fd, TIOCSCTTY, 0) < 0) {
				rst_error(top, "process %d cannot take %s as its session's "
					  "controlling terminal again: %s", me->pid, pty->path,
					  strerror(errno));
				rst_tree_fail(top, RST_EXIT_ENV);
			}
			if (!leads_session && me->pgid == me->pid && setpgid(0, 0) < 0) {
				rst_error(top, "process %d cannot lead its process group again: %s",
					  me->pid, strerror(errno));
				rst_tree_fail(top, RST_EXIT_ENV);
			}
		}
		for (int j = 0; j < t->nm; j++) {
			const struct img_member *c = &t->m[j];
			int stays = leads_session && c->sid != c->pid && now_sid(t, c->sid) == sid_now;

			if (c->ppid != me->pid || j == k || stays != (pass == 0))
				continue;
			if ((r = make_child(top, j)))
				rst_tree_fail(top, r);
		}
	}
	sync_arrive(&y->created);
	if (sync_wait(y, &y->created, (uint32_t)t->nm) < 0)
		_exit(RST_EXIT_ENV);
	/* b: every group exists now, in its session */
	if (me->pgid != me->pid && getpgid(0) != now_pgid(t, me->pgid) &&
	    setpgid(0, now_pgid(t, me->pgid)) < 0) {
		rst_error(top, "process %d cannot join process group %d again: %s", me->pid,
			  now_pgid(t, me->pgid), strerror(errno));
		rst_tree_fail(top, RST_EXIT_ENV);
	}
	if (getsid(0) != now_sid(t, me->sid)) {
		rst_error(top, "process %d cannot be in session %d again (it is in %d): not "
			  "supported", me->pid, now_sid(t, me->sid), getsid(0));
		rst_tree_fail(top, RST_EXIT_ENV);
	}
	sync_arrive(&y->joined);
	if (sync_wait(y, &y->joined, (uint32_t)t->nm) < 0)
		_exit(RST_EXIT_ENV);
	if (k >= t->nlive)
		zombie_exit(t, me);
	if (k == 0)
		give_terminal(t);
	/* its pty's foreground group, as the session leader it is (SIGTTOU blocked) */
	if (pty && ((const struct img_file_tty *)pty->data)->fg_pgid > 0)
		tcsetpgrp(pty->fd, now_pgid(t, ((const struct img_file_tty *)pty->data)->fg_pgid));
	/* c: its zombie children are dead (their SIGCHLD is not the program's: dropped) */
	for (int j = t->nlive; j < t->nm; j++) {
		siginfo_t si;
		sigset_t chld;
		struct timespec zero = { 0, 0 };

		if (t->m[j].ppid != me->pid)
			continue;
		while (waitid(P_PID, t->m[j].pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
			;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		while (sigtimedwait(&chld, NULL, &zero) > 0)
			;
	}
	/* d: itself, from its own section, on its own description of the image */
	s = section_state(t, k);
	s->tree_files = 1;
	s->files = t->g.files;
	s->nfiles = t->g.nfiles;
	{
		char self[64];

		snprintf(self, sizeof(self), "/proc/self/fd/%d", top->img_fd);
		s->img_fd = open(self, O_RDONLY | O_CLOEXEC);
	}
	if (s->img_fd < 0 || lseek(s->img_fd, t->off[k], SEEK_SET) < 0) {
		rst_error(s, "cannot open the image again: %s", strerror(errno));
		rst_tree_fail(s, RST_EXIT_ENV);
	}
	if (top->img_fd > 2)
		close(top->img_fd);
	if ((r = rst_load_proc(s)))
		rst_tree_fail(s, r == RST_IS_TREE ? RST_EXIT_IMAGE : r);
	rst_map(s, &s->r);
	r = rst_restore(s);
	rst_tree_fail(s, r);
}

/* ---- the top: make, watch ---- */

/* Every process of the tree, gone: the abort flag, then the root (its descendants follow it). */
static void tree_kill(struct rst_tree *t, pid_t root)
{
	int status;

	sync_abort(t->sync);
	kill(root, SIGKILL);
	/* a subreaper: whatever is left of the tree comes here */
	while (waitpid(-1, &status, __WALL) > 0 || errno == EINTR)
		;
}

/*
 * Watches the tree being made: the root's pid once every process is back
 * (the last barrier passed), or -1 once one failed and the tree is gone.
 */
static pid_t watch(struct rst_state *s, struct rst_tree *t, pid_t root)
{
	struct pollfd *pfd = xcalloc(t->nlive, sizeof(*pfd));
	int opened = 0, status;
	pid_t dead = 0;

	for (;;) {
		struct rst_tree_sync *y = t->sync;
		struct timespec ts = { 0, 50000000 };
		uint32_t ready = __atomic_load_n(&y->ready, __ATOMIC_ACQUIRE);

		if (ready >= (uint32_t)t->nlive)
			break;
		if (__atomic_load_n(&y->abort, __ATOMIC_ACQUIRE))
			goto failed;
		if (waitpid(root, &status, WNOHANG) == root) {
			dead = root;
			goto failed;
		}
		if (!opened && __atomic_load_n(&y->created, __ATOMIC_ACQUIRE) >= (uint32_t)t->nm) {
			for (int k = 0; k < t->nlive; k++) {
				pfd[k].fd = (int)syscall(SYS_pidfd_open, t->m[k].pid, 0);
				pfd[k].events = POLLIN;
			}
			opened = 1;
		}
		if (opened && poll(pfd, t->nlive, 0) > 0) {
			for (int k = 0; k < t->nlive; k++)
				if (pfd[k].revents)
					dead = t->m[k].pid;
			goto failed;
		}
		syscall(SYS_futex, &y->ready, FUTEX_WAIT, ready, &ts, NULL, 0);
	}
	for (int k = 0; opened && k < t->nlive; k++)
		close(pfd[k].fd);
	free(pfd);
	munmap(t->sync, PAGE);
	rst_ipc_release(&t->g);		/* every process has its own attaches now */
	return root;
failed:
	if (dead && !__atomic_load_n(&t->sync->abort, __ATOMIC_ACQUIRE))
		rst_error(s, "process %d of the tree ended while the tree was being restarted", dead);
	tree_kill(t, root);
	rst_ipc_release(&t->g);
	rst_ipc_unmake(&t->g);		/* a next try must not find them as another's */
	for (int k = 0; opened && k < t->nlive; k++)
		close(pfd[k].fd);
	free(pfd);
	return -1;
}

pid_t rst_tree_start(struct rst_state *s)
{
	struct rst_tree *t = s->tree;
	uint64_t all = ~0ull, old;
	pid_t root;
	int r;

	if (s->lazy) {
		rst_error(s, "--lazy restarts one process; a tree restarts whole (drop --lazy)");
		return -1;
	}
	tree_decided(s, t);
	for (int k = 0; k < t->nlive; k++) {
		if ((r = rst_trust_check_fds(t->sec[k])))
			return -1;
	}
	reserve_union(t);
	/* SysV objects and queues first: an --ipcns image's namespace is entered here */
	t->g.proc = s->proc;
	if ((r = rst_check_ipc(&t->g)) || (r = rst_restore_ipc(&t->g)))
		return -1;
	if (verify_files(t) || (r = open_files(s, t)))
		return -1;
	if ((r = make_shm(s, t)))
		return -1;
	t->sync = rst_mmap_outside(&t->g, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
	if (t->sync == MAP_FAILED) {
		rst_error(s, "cannot map the tree's barrier page: %s", strerror(errno));
		return -1;
	}
	t->sync->outer_pgid = getpgid(0);
	t->sync->outer_sid = getsid(0);
	/* the terminal (fds/fd_tty_job.c): a root that led its session on it joins ours, or takes it */
	rst_tty_prepare(s, !!(s->r.hdr.flags & IMG_F_CTTY));
	if (rst_tty.shell_job)
		t->root_outer_sid = t->m[0].sid;
	t->base.tree = t;
	/* nothing of the tree escapes ckpt-restart: orphans come back here */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	fflush(NULL);
	/* born with every signal blocked (see main()) */
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
	rst_caps_raise(s);
	root = assist_fork_pid(s->proc.pid);
	rst_caps_lower(s);
	if (root == 0)
		member_main(s, 0);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	if (root < 0) {
		rst_error(s, "cannot create the tree's root, pid %d: %s", s->proc.pid,
			  strerror(-root));
		return -1;
	}
	/* what the processes inherited is theirs now */
	for (int j = 0; j < t->nshm; j++)
		munmap(t->shm[j].staging, t->shm[j].size);
	for (int i = 0; i < t->g.nfiles; i++) {
		if (t->g.files[i].fd >= 0)
			close(t->g.files[i].fd);
		if (t->g.files[i].obj >= 0)
			close(t->g.files[i].obj);
	}
	return watch(s, t, root);
}
