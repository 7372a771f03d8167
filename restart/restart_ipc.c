/*
 * restart_ipc.c - SysV IPC objects and POSIX queue messages on their way
 * back: loaded and checked with the image, decided on with the
 * environment; restart_sysv.c makes them (or puts them back) before the
 * jump, the restorer attaches the segments (rst_ipc_op).
 * fds/fd_mqueue.c makes the queues themselves.
 *
 * The rule for a SysV object (docs/INTERNALS.md, "SysV IPC"), decided by
 * rst_check_ipc from /proc/sysvipc, so that --check lists it and nothing
 * is made before every object can be:
 *   - the id holds the object saved (same key, creator uid and gid, size
 *     or number of semaphores, creator pid for a segment, and the same
 *     ctime, which IPC_SET and SETVAL/SETALL move): REUSE it, its saved
 *     contents put back (a crash: SysV objects outlive their processes);
 *   - the id is free: CREATE it again with that id, through the kernel's
 *     next-id sysctls (/proc/sys/kernel/{shm,sem,msg}_next_id: root, or
 *     the owner of the IPC namespace: ckpt-run --ipcns);
 *   - another object holds the id (or the key): refuse, exit 4, naming it
 *     and how to free it.
 * An image taken under `ckpt-run --ipcns` (IMG_IPC_NS) is restarted in a
 * new IPC namespace (the user namespace of its IMG_F_PIDNS restart owns
 * it, or root does): every id is free there and the image's alone.
 *
 * Making them: restart_sysv.c (and fds/fd_mqueue.c for the queues).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>
#include "restart/restorer.h"
#include "restart/rst.h"
#include "restart/rst_ipc.h"

#define PAGE	IMG_PAGE_SIZE

const char *const rst_ipc_what[] = { "SysV shared memory segment", "SysV semaphore set",
				      "SysV message queue" };
static const char *const t_file[] = { "/proc/sysvipc/shm", "/proc/sysvipc/sem",
				      "/proc/sysvipc/msg" };
const char *const rst_ipc_next[] = { "/proc/sys/kernel/shm_next_id",
				      "/proc/sys/kernel/sem_next_id",
				      "/proc/sys/kernel/msg_next_id" };
const char rst_ipc_ipcrm[] = { 'm', 's', 'q' };


static struct rst_ipc *ipc_of(struct rst_state *s)
{
	if (!s->ipc) {
		s->ipc = calloc(1, sizeof(*s->ipc));
		if (!s->ipc)
			abort();
		s->ipc->ns = -1;
	}
	return s->ipc;
}

static int corrupt(struct rst_state *s, const struct img_rec *rec, const char *what)
{
	rst_error(s, "corrupt: %s (offset %lu)", what, (unsigned long)rec->offset);
	return RST_EXIT_IMAGE;
}

/* Every IPC record (and MQUEUE FILE) of an image says the same of its namespace. */
static int ns_agree(struct rst_state *s, uint32_t flags, const struct img_rec *rec)
{
	struct rst_ipc *x = ipc_of(s);
	int ns = (flags & IMG_IPC_NS) != 0;

	if (x->ns >= 0 && x->ns != ns)
		return corrupt(s, rec, "IPC records disagree on whether the process had an IPC "
			       "namespace of its own");
	x->ns = ns;
	return 0;
}

static void *dup_mem(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (!q)
		abort();
	memcpy(q, p, n);
	return q;
}

/* ---- loading ---- */

static int note_shm(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_sysv_shm *m = img_get_sysv_shm(&s->r, rec);
	struct rst_ipc *x = ipc_of(s);
	struct rst_shm *o;

	if (!m) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	for (size_t i = 0; i < x->nshm; i++)
		if (x->shm[i].m.perm.id == m->perm.id)
			return corrupt(s, rec, "a SysV shared memory segment saved twice");
	x->shm = rst_grow(x->shm, &x->shm_cap, x->nshm, sizeof(*x->shm));
	o = &x->shm[x->nshm++];
	memset(o, 0, sizeof(*o));
	o->m = *m;
	s->ipc_shm = (int)x->nshm;
	return ns_agree(s, m->perm.flags, rec);
}

/* A FILE_DATA of file 0: a piece of the segment right before, staged. */
static int note_shm_data(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_file_data *d = img_get_file_data(&s->r, rec);
	struct rst_shm *o = &s->ipc->shm[s->ipc_shm - 1];
	uint64_t mapped = (o->m.size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	char err[256];

	if (!d) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	if (d->file != 0 || d->offset < o->end || d->offset + d->len > o->m.size ||
	    (d->len % PAGE && d->offset + d->len != o->m.size))
		return corrupt(s, rec, "contents of a SysV shared memory segment out of order or "
			       "outside it");
	if (!o->mem) {
		o->mem = mmap(NULL, mapped, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (o->mem == MAP_FAILED) {
			o->mem = NULL;
			rst_error(s, "cannot stage the %llu bytes of SysV shared memory segment %d: %s",
				  (unsigned long long)o->m.size, o->m.perm.id, strerror(errno));
			return RST_EXIT_ENV;
		}
	}
	if (img_file_data_decode(d, d + 1, rec->len - sizeof(*d), o->mem + d->offset, err,
				 sizeof(err)) < 0) {
		rst_error(s, "corrupt: SysV shared memory segment %d: %s (offset %lu)",
			  o->m.perm.id, err, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	if (o->next && o->ext[o->next - 1].off + o->ext[o->next - 1].len == d->offset) {
		o->ext[o->next - 1].len += d->len;
	} else {
		o->ext = rst_grow(o->ext, &o->ext_cap, o->next, sizeof(*o->ext));
		o->ext[o->next++] = (struct rst_extent_){ d->offset, d->len };
	}
	o->end = d->offset + d->len;
	if (s->check_only) {		/* decoded and checked: not needed any more */
		munmap(o->mem, mapped);
		o->mem = NULL;
	}
	return 0;
}

static struct rst_sem *sem_by_id(struct rst_ipc *x, int id)
{
	for (size_t i = 0; i < x->nsem; i++)
		if (x->sem[i].m.perm.id == id)
			return &x->sem[i];
	return NULL;
}

static int note_sem(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_sysv_sem *m = img_get_sysv_sem(&s->r, rec);
	struct rst_ipc *x = ipc_of(s);
	struct rst_sem *o;

	if (!m) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	o = sem_by_id(x, m->perm.id);
	if (m->kind == IMG_SEM_UNDO) {
		struct img_semadj last;

		if (!o || o->adj)
			return corrupt(s, rec, "SEM_UNDO adjustments of a semaphore set the image "
				       "has not saved before them, or saved twice");
		memcpy(&last, (const char *)(m + 1) + (m->nsems - 1) * sizeof(last), sizeof(last));
		if (last.num >= o->m.nsems)
			return corrupt(s, rec, "a SEM_UNDO adjustment of a semaphore past its set");
		o->adj = dup_mem(m + 1, m->nsems * sizeof(*o->adj));
		o->nadj = m->nsems;
		return 0;
	}
	if (o)
		return corrupt(s, rec, "a SysV semaphore set saved twice");
	x->sem = rst_grow(x->sem, &x->sem_cap, x->nsem, sizeof(*x->sem));
	o = &x->sem[x->nsem++];
	memset(o, 0, sizeof(*o));
	o->m = *m;
	o->vals = dup_mem(m + 1, m->nsems * sizeof(*o->vals));
	return ns_agree(s, m->perm.flags, rec);
}

static int note_msg(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_sysv_msg *m = img_get_sysv_msg(&s->r, rec);
	struct rst_ipc *x = ipc_of(s);
	struct rst_msg *o;

	if (!m) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	for (size_t i = 0; i < x->nmsg; i++)
		if (x->msg[i].m.perm.id == m->perm.id)
			return corrupt(s, rec, "a SysV message queue saved twice");
	x->msg = rst_grow(x->msg, &x->msg_cap, x->nmsg, sizeof(*x->msg));
	o = &x->msg[x->nmsg++];
	memset(o, 0, sizeof(*o));
	o->m = *m;
	o->len = rec->len - sizeof(*m);
	o->msgs = dup_mem(m + 1, o->len);
	return ns_agree(s, m->perm.flags, rec);
}

/* MQ_MSGS: right after the MQUEUE FILE holding the queue, fitting its attributes. */
static int note_mq(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_mq_msgs *m = img_get_mq_msgs(&s->r, rec);
	struct rst_ipc *x = ipc_of(s);
	const struct rst_file *f;
	const struct img_file_mqueue *q;
	const unsigned char *p;

	if (!m) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	f = s->fdata_file ? rst_file_by_id(s, s->fdata_file) : NULL;
	if (!f || f->f.id != m->file || f->f.kind != IMG_FILE_MQUEUE || rst_ipc_mq_msgs(s, m->file))
		return corrupt(s, rec, "messages of a POSIX message queue that do not follow it");
	q = f->data;
	if (q->same_as || m->nmsgs > q->maxmsg)
		return corrupt(s, rec, "more messages than the POSIX message queue holds");
	p = (const unsigned char *)(m + 1);
	for (uint32_t i = 0; i < m->nmsgs; i++) {
		const void *text;
		uint64_t len;
		uint32_t prio;
		int64_t type;

		p += img_ipc_msg_next(p, 1, &type, &prio, &text, &len);
		if (len > (uint64_t)q->msgsize)
			return corrupt(s, rec, "a message longer than its POSIX queue's msgsize");
	}
	x->mq = rst_grow(x->mq, &x->mq_cap, x->nmq, sizeof(*x->mq));
	x->mq[x->nmq++] = (struct rst_mq){ m->file, dup_mem(m, rec->len) };
	return 0;
}

int rst_ipc_note(struct rst_state *s, const struct img_rec *rec)
{
	switch (rec->type) {
	case IMG_REC_SYSV_SHM:	return note_shm(s, rec);
	case IMG_REC_FILE_DATA:	return note_shm_data(s, rec);
	case IMG_REC_SYSV_SEM:	return note_sem(s, rec);
	case IMG_REC_SYSV_MSG:	return note_msg(s, rec);
	default:		return note_mq(s, rec);
	}
}

int rst_ipc_file(struct rst_state *s, const struct rst_file *f, const struct img_rec *rec)
{
	return f->f.kind == IMG_FILE_MQUEUE ?
	       ns_agree(s, ((const struct img_file_mqueue *)f->data)->flags, rec) : 0;
}

const struct img_mq_msgs *rst_ipc_mq_msgs(struct rst_state *s, uint32_t file)
{
	for (size_t i = 0; s->ipc && i < s->ipc->nmq; i++)
		if (s->ipc->mq[i].file == file)
			return s->ipc->mq[i].rec;
	return NULL;
}

static struct rst_shm *shm_by_id(struct rst_ipc *x, uint64_t id)
{
	for (size_t i = 0; x && i < x->nshm; i++)
		if ((uint64_t)x->shm[i].m.perm.id == id)
			return &x->shm[i];
	return NULL;
}

int rst_ipc_is_attach(const struct rst_vma *v)
{
	return img_vma_sysv(&v->v, v->path);
}

int rst_ipc_vma(struct rst_state *s, const struct img_vma *v, const struct img_rec *rec)
{
	const struct rst_shm *o;

	if (!img_vma_sysv(v, (const char *)(v + 1)))
		return 0;
	o = shm_by_id(s->ipc, v->ino);
	if (!o || v->pgoff % PAGE || v->pgoff + (v->end - v->start) > ((o->m.size + PAGE - 1) &
									~(uint64_t)(PAGE - 1)))
		return corrupt(s, rec, "a mapping of a SysV shared memory segment the image has not "
			       "saved, or outside it");
	return 0;
}

/* ---- what is there now: /proc/sysvipc ---- */

struct sysv_line {
	int64_t f[16];
};

/*
 * The objects of one type in this IPC namespace: their fields (perms,
 * the third, is octal), malloc'ed into *out.  0, or -errno.
 */
static int sysv_read(int t, struct sysv_line **out, size_t *n)
{
	static const int nf[] = { 16, 10, 14 };
	FILE *fp = fopen(t_file[t], "re");
	char line[512];
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!fp)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), fp)) {
		struct sysv_line l;
		char *p = line, *e;
		int k;

		for (k = 0; k < nf[t]; k++, p = e) {
			l.f[k] = strtoll(p, &e, k == 2 ? 8 : 10);
			if (e == p)
				break;
		}
		if (k < nf[t])
			continue;		/* the header */
		*out = rst_grow(*out, &cap, *n, sizeof(**out));
		(*out)[(*n)++] = l;
	}
	fclose(fp);
	return 0;
}

static const struct sysv_line *line_by(const struct sysv_line *l, size_t n, int col, int64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].f[col] == v)
			return &l[i];
	return NULL;
}

/* What the checks need of each saved object, whatever its type. */
struct sysv_want {
	int t;
	const struct img_sysv_perm *p;
	int64_t ctime;
	int64_t size, cpid;		/* shm size and cpid, sem nsems (cpid -1), msg -1 */
	int *action;
};

/* The columns of cuid, cgid and ctime in each type's lines */
static const int col_cuid[] = { 9, 6, 9 }, col_ctime[] = { 13, 9, 13 };

static int sysv_same(const struct sysv_want *w, const struct sysv_line *l)
{
	const int64_t *f = l->f;

	return f[0] == w->p->key && f[col_cuid[w->t]] == w->p->cuid &&
	       f[col_cuid[w->t] + 1] == w->p->cgid && f[col_ctime[w->t]] == w->ctime &&
	       (w->size < 0 || f[3] == w->size) &&
	       /* a creator pid shows as 0 from another pid namespace (a --pidns restart) */
	       (w->cpid <= 0 || f[4] == 0 || f[4] == w->cpid);
}

static void when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "%lld", (long long)t);
}

/* Decides what becomes of one saved object: REUSE, CREATE, or a problem. */
static int sysv_decide(struct rst_state *s, const struct sysv_want *w, const struct sysv_line *l,
		       size_t n)
{
	const struct sysv_line *at = line_by(l, n, 1, w->p->id), *key;
	char t1[32], t2[32];
	int fd;

	if (at && sysv_same(w, at)) {
		*w->action = IPC_REUSE;
		return 0;
	}
	if (at) {
		when(at->f[col_ctime[w->t]], t1, sizeof(t1));
		when(w->ctime, t2, sizeof(t2));
		return rst_problem(s, RST_EXIT_ENV, "%s %d (key 0x%x) is not the one saved: id %d "
				   "now holds one with key 0x%x, made by uid %lld, changed %s (the "
				   "saved one: %s): it was removed and another took its id, or it "
				   "was changed after the checkpoint; remove it (ipcrm -%c %d) to "
				   "restart with the saved one, if nothing else needs it", rst_ipc_what[w->t],
				   w->p->id, (unsigned)w->p->key, w->p->id, (unsigned)at->f[0],
				   (long long)at->f[col_cuid[w->t]], t1, t2, rst_ipc_ipcrm[w->t], w->p->id);
	}
	if (w->p->key && (key = line_by(l, n, 0, w->p->key)))
		return rst_problem(s, RST_EXIT_ENV, "%s %d (key 0x%x) is gone, and its key is "
				   "taken by %s %lld: remove that one (ipcrm -%c %lld) to restart "
				   "with the saved one, if nothing else needs it", rst_ipc_what[w->t],
				   w->p->id, (unsigned)w->p->key, rst_ipc_what[w->t], (long long)key->f[1],
				   rst_ipc_ipcrm[w->t], (long long)key->f[1]);
	/* CAP_CHECKPOINT_RESTORE, which root restarting a user's image keeps, opens it */
	rst_caps_raise(s);
	fd = open(rst_ipc_next[w->t], O_WRONLY | O_CLOEXEC);
	rst_caps_lower(s);
	if (fd < 0)
		return rst_problem(s, RST_EXIT_ENV, "%s %d (key 0x%x) is gone, and making it again "
				   "with that id needs root (%s: %s)%s, or an IPC namespace of the "
				   "process's own: run the program under `ckpt-run --ipcns`",
				   rst_ipc_what[w->t], w->p->id, (unsigned)w->p->key, rst_ipc_next[w->t],
				   strerror(errno), s->pidns ? ", which a restart in a user namespace "
				   "of its own (--pidns) does not have over the host's IPC namespace" : "");
	close(fd);
	*w->action = IPC_CREATE;
	return 0;
}

/* An image of ckpt-run --ipcns: a new IPC namespace, made once, before anything looks. */
static int ipc_enter_ns(struct rst_state *s)
{
	struct rst_ipc *x = s->ipc;

	if (!x || x->ns != 1 || x->ns_entered)
		return 0;
	if (!s->pidns && geteuid() != 0)
		return rst_problem(s, RST_EXIT_ENV, "the image ran in an IPC namespace of its own "
				   "(ckpt-run --ipcns) but not in a user namespace of its own "
				   "(--pidns): only root can make it one here");
	if (unshare(CLONE_NEWIPC) < 0)
		return rst_problem(s, RST_EXIT_ENV, "the image ran in an IPC namespace of its own "
				   "(ckpt-run --ipcns), and a new one cannot be made here: %s",
				   strerror(errno));
	x->ns_entered = 1;
	return 0;
}

int rst_check_ipc(struct rst_state *s)
{
	struct rst_ipc *x = s->ipc;
	struct sysv_line *l;
	size_t n;
	int bad = 0, r;

	if (!x)
		return 0;
	if ((r = ipc_enter_ns(s)))
		return r;
	for (int t = T_SHM; t <= T_MSG; t++) {
		size_t cnt = t == T_SHM ? x->nshm : t == T_SEM ? x->nsem : x->nmsg;

		if (!cnt)
			continue;
		if ((r = sysv_read(t, &l, &n)) < 0)
			return rst_problem(s, RST_EXIT_ENV, "cannot read %s: %s", t_file[t],
					   strerror(-r));
		for (size_t i = 0; i < cnt; i++) {
			struct sysv_want w = { t, NULL, 0, -1, -1, NULL };

			if (t == T_SHM) {
				w.p = &x->shm[i].m.perm;
				w.ctime = x->shm[i].m.ctime;
				w.size = (int64_t)x->shm[i].m.size;
				w.cpid = x->shm[i].m.cpid;
				w.action = &x->shm[i].action;
			} else if (t == T_SEM) {
				w.p = &x->sem[i].m.perm;
				w.ctime = x->sem[i].m.ctime;
				w.size = x->sem[i].m.nsems;
				w.action = &x->sem[i].action;
			} else {
				w.p = &x->msg[i].m.perm;
				w.ctime = x->msg[i].m.ctime;
				w.action = &x->msg[i].action;
			}
			if ((r = sysv_decide(s, &w, l, n)))
				bad = r;
		}
		free(l);
	}
	return bad;
}

/* ---- the restorer's part ---- */

void rst_ipc_op(const struct rst_state *s, const struct rst_vma *v, struct rst_op *op)
{
	const struct rst_shm *o = shm_by_id(s->ipc, v->v.ino);

	op->kind = RST_SHM;
	op->fd = (int32_t)v->v.ino;
	op->staging = (o->m.size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	op->mmap_flags = ((v->v.attrs & IMG_VMA_ATTR_MAYWRITE) || (v->v.prot & PROT_WRITE) ?
			  0 : SHM_RDONLY) | ((v->v.prot & PROT_EXEC) ? SHM_EXEC : 0);
}

int rst_ipc_keep(const struct rst_state *s, struct rst_range *out)
{
	int n = 0;

	for (size_t i = 0; s->ipc && i < s->ipc->nshm; i++) {
		const struct rst_shm *o = &s->ipc->shm[i];

		if (!o->keep)
			continue;
		if (out)
			out[n] = (struct rst_range){ (uint64_t)o->keep, (uint64_t)o->keep +
				((o->m.size + PAGE - 1) & ~(uint64_t)(PAGE - 1)) };
		n++;
	}
	return n;
}

/*
 * A tree (restart_tree.c): ckpt-restart makes every object once, before
 * any process exists, from the first section that has it (every section
 * saved it at the same instant).  Adjustments are each process's own:
 * not merged (each member gives its own back, rst_restore_ipc).
 */
void rst_ipc_merge(struct rst_state *into, struct rst_state *from)
{
	struct rst_ipc *x = from->ipc, *y;

	if (!x)
		return;
	y = ipc_of(into);
	if (y->ns < 0)
		y->ns = x->ns;
	for (size_t i = 0; i < x->nshm; i++) {
		if (shm_by_id(y, (uint64_t)x->shm[i].m.perm.id))
			continue;
		y->shm = rst_grow(y->shm, &y->shm_cap, y->nshm, sizeof(*y->shm));
		y->shm[y->nshm++] = x->shm[i];
	}
	for (size_t i = 0; i < x->nsem; i++) {
		size_t k;

		for (k = 0; k < y->nsem && y->sem[k].m.perm.id != x->sem[i].m.perm.id; k++)
			;
		if (k < y->nsem)
			continue;
		y->sem = rst_grow(y->sem, &y->sem_cap, y->nsem, sizeof(*y->sem));
		y->sem[y->nsem] = x->sem[i];
		y->sem[y->nsem].adj = NULL;
		y->sem[y->nsem++].nadj = 0;
	}
	for (size_t i = 0; i < x->nmsg; i++) {
		size_t k;

		for (k = 0; k < y->nmsg && y->msg[k].m.perm.id != x->msg[i].m.perm.id; k++)
			;
		if (k == y->nmsg) {
			y->msg = rst_grow(y->msg, &y->msg_cap, y->nmsg, sizeof(*y->msg));
			y->msg[y->nmsg++] = x->msg[i];
		}
	}
	for (size_t i = 0; i < x->nmq; i++) {
		y->mq = rst_grow(y->mq, &y->mq_cap, y->nmq, sizeof(*y->mq));
		y->mq[y->nmq++] = x->mq[i];
	}
}

void rst_ipc_release(struct rst_state *s)
{
	for (size_t i = 0; s->ipc && i < s->ipc->nshm; i++)
		if (s->ipc->shm[i].keep) {
			shmdt(s->ipc->shm[i].keep);
			s->ipc->shm[i].keep = NULL;
		}
}

void rst_ipc_free(struct rst_state *s)
{
	struct rst_ipc *x = s->ipc;

	if (!x)
		return;
	for (size_t i = 0; i < x->nshm; i++) {
		if (x->shm[i].mem)
			munmap(x->shm[i].mem, (x->shm[i].m.size + PAGE - 1) & ~(uint64_t)(PAGE - 1));
		free(x->shm[i].ext);
	}
	for (size_t i = 0; i < x->nsem; i++) {
		free(x->sem[i].vals);
		free(x->sem[i].adj);
	}
	for (size_t i = 0; i < x->nmsg; i++)
		free(x->msg[i].msgs);
	for (size_t i = 0; i < x->nmq; i++)
		free(x->mq[i].rec);
	free(x->shm);
	free(x->sem);
	free(x->msg);
	free(x->mq);
	free(x);
	s->ipc = NULL;
}
