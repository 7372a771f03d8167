/*
 * restart_sysv.c - making the SysV objects of an image again (or putting
 * a reused one's saved state back), in ckpt-restart's child, which is the
 * restored process: after its fds are placed, before the jump.  What to
 * do with each object was decided by rst_check_ipc (restart_ipc.c), which
 * has the rules.
 *   shm  next id, shmget(IPC_CREAT|IPC_EXCL, 0600), attached where the
 *        kernel chooses (the image's ranges are reserved by then), its
 *        saved pages copied in (a reused one emptied first: MADV_REMOVE);
 *        then mode and owner (IPC_SET), SHM_LOCK, and IPC_RMID for one
 *        that was removed: this attach keeps it alive until the restorer
 *        has attached it where the process had it (rst_ipc_op,
 *        restorer.c) and drops this one (rst_ipc_keep);
 *   sem  next id, semget, SETALL (a reused set: one semop of the
 *        differences, which leaves other processes' adjustments alone);
 *        mode and owner; then this process's SEM_UNDO adjustments, each
 *        made by a semop pair that leaves the value as it is;
 *   msg  next id, msgget, msg_qbytes, every message sent in order (a
 *        reused queue emptied first); mode and owner.
 * Then the process's mq_notify registrations (fds/fd_mqueue.c).  An id
 * the next-id sysctl did not give (taken between the check and the make)
 * removes what was made and fails, exit 4.  The creator of an object made
 * again is the restarting user (cuid and cgid cannot be set); cpid, lpid,
 * sempid and the times are the kernel's new ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>
#include "restart/rst.h"
#include "restart/rst_ipc.h"

#define PAGE	IMG_PAGE_SIZE

/*
 * get() with the next-id sysctl of type t set to id first: the id it
 * returned, or -1 reported.  An id other than the one asked (taken since
 * the check) is removed again; a failed get leaves the sysctl set, so
 * a throwaway object takes it.
 */
static int with_id(struct rst_state *s, int t, int id, key_t key, int (*get)(key_t, long),
		   long arg)
{
	char num[16];
	int fd, got;
	ssize_t len = snprintf(num, sizeof(num), "%d", id);

	/* CAP_CHECKPOINT_RESTORE (kept, not effective: rst_caps_raise) opens and writes it */
	rst_caps_raise(s);
	fd = open(rst_ipc_next[t], O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, num, len) != len) {
		int e = errno;

		rst_caps_lower(s);
		rst_error(s, "%s %d: cannot ask for its id (%s): %s", rst_ipc_what[t], id,
			  rst_ipc_next[t], strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rst_caps_lower(s);
	close(fd);
	got = get(key, arg);
	if (got == id)
		return id;
	if (got < 0) {
		int e = errno, tmp = get(IPC_PRIVATE, t == T_SHM ? PAGE : 1);

		if (tmp >= 0)
			t == T_SHM ? shmctl(tmp, IPC_RMID, NULL) : t == T_SEM ?
			semctl(tmp, 0, IPC_RMID) : msgctl(tmp, IPC_RMID, NULL);
		rst_error(s, "%s %d (key 0x%x): cannot make it again: %s", rst_ipc_what[t], id,
			  (unsigned)key, strerror(e));
		return -1;
	}
	t == T_SHM ? shmctl(got, IPC_RMID, NULL) : t == T_SEM ? semctl(got, 0, IPC_RMID) :
		     msgctl(got, IPC_RMID, NULL);
	rst_error(s, "%s %d (key 0x%x): its id was taken between the check and now (the kernel "
		  "gave %d); retry", rst_ipc_what[t], id, (unsigned)key, got);
	return -1;
}

static int get_shm(key_t key, long size)
{
	return shmget(key, (size_t)size, IPC_CREAT | IPC_EXCL | 0600);
}

static int get_sem(key_t key, long nsems)
{
	return semget(key, (int)nsems, IPC_CREAT | IPC_EXCL | 0600);
}

static int get_msg(key_t key, long unused)
{
	(void)unused;
	return msgget(key, IPC_CREAT | IPC_EXCL | 0600);
}

/* The saved owner and mode onto a struct ipc_perm read with IPC_STAT. */
static void set_perm(struct ipc_perm *p, const struct img_sysv_perm *m)
{
	p->uid = m->uid;
	p->gid = m->gid;
	p->mode = m->mode & IMG_SYSV_MODE;
}

static int make_shm(struct rst_state *s, struct rst_shm *o)
{
	const struct img_sysv_perm *p = &o->m.perm;
	uint64_t mapped = (o->m.size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	int id = p->id, attached = 0;
	struct shmid_ds ds;
	unsigned char *a;

	if (o->action == IPC_CREATE &&
	    with_id(s, T_SHM, id, (p->mode & IMG_SHM_DEST) ? IPC_PRIVATE : p->key, get_shm,
		    (long)o->m.size) < 0)
		return RST_EXIT_ENV;
	o->made = o->action == IPC_CREATE;
	if ((a = shmat(id, NULL, 0)) == (void *)-1)
		goto fail;
	if (o->action == IPC_REUSE && madvise(a, mapped, MADV_REMOVE) < 0)
		goto fail;
	for (size_t i = 0; i < o->next; i++)
		memcpy(a + o->ext[i].off, o->mem + o->ext[i].off, o->ext[i].len);
	for (int i = 0; i < s->nvmas; i++)
		attached |= rst_ipc_is_attach(&s->vmas[i]) && s->vmas[i].v.ino == (uint64_t)id;
	/* a tree's: made by ckpt-restart, which holds it until every process has its own */
	attached |= s->tree && s->tree_index < 0;
	if (shmctl(id, IPC_STAT, &ds) < 0)
		goto fail;
	set_perm(&ds.shm_perm, p);
	if (shmctl(id, IPC_SET, &ds) < 0 ||
	    ((p->mode & IMG_SHM_LOCKED) && shmctl(id, SHM_LOCK, NULL) < 0) ||
	    ((p->mode & IMG_SHM_DEST) && shmctl(id, IPC_RMID, NULL) < 0))
		goto fail;
	/* a removed segment lives on in this attach until the restorer has its own */
	if ((p->mode & IMG_SHM_DEST) && attached)
		o->keep = a;
	else
		shmdt(a);
	if (o->mem)
		munmap(o->mem, mapped);
	o->mem = NULL;
	return 0;
fail:
	rst_error(s, "%s %d (key 0x%x): cannot put its contents, owner %u:%u and mode %o back: %s",
		  rst_ipc_what[T_SHM], id, (unsigned)p->key, p->uid, p->gid, p->mode & 07777,
		  strerror(errno));
	return RST_EXIT_ENV;
}

/*
 * This process's adjustment of semaphore num made `adj` more, the value
 * left as it is: SEM_UNDO of -c adds c to the adjustment, a plain +c puts
 * the value back; in pieces of at most 16383, in the order the value
 * allows (it stays within 0..32767).
 */
static int sem_adjust(int id, unsigned num, int adj)
{
	int sign = adj < 0 ? -1 : 1;

	for (int left = adj * sign; left > 0; ) {
		int c = left > 16383 ? 16383 : left, v = semctl(id, (int)num, GETVAL);
		struct sembuf ops[2];

		if (v < 0)
			return -1;
		/* ops[0] with UNDO: -c*sign moves the adjustment by +c*sign */
		ops[0] = (struct sembuf){ (unsigned short)num, (short)(-c * sign), SEM_UNDO | IPC_NOWAIT };
		ops[1] = (struct sembuf){ (unsigned short)num, (short)(c * sign), IPC_NOWAIT };
		if (v - c * sign < 0 || v - c * sign > IMG_SEM_VMX) {
			struct sembuf t = ops[0];

			ops[0] = ops[1];
			ops[1] = t;
		}
		if (semop(id, ops, 2) < 0)
			return -1;
		left -= c;
	}
	return 0;
}

static int make_sem(struct rst_state *s, struct rst_sem *o)
{
	const struct img_sysv_perm *p = &o->m.perm;
	unsigned n = o->m.nsems;
	unsigned short *v = calloc(n, sizeof(*v)), *cur = calloc(n, sizeof(*cur));
	struct sembuf *ops = calloc(n, sizeof(*ops));
	struct semid_ds ds;
	union { int val; struct semid_ds *buf; unsigned short *array; } u;
	unsigned nops = 0, i;
	int id = p->id, r = RST_EXIT_ENV;

	if (!v || !cur || !ops)
		abort();
	for (i = 0; i < n; i++)
		v[i] = o->vals[i].val;
	if (o->action == IPC_CREATE) {
		if (with_id(s, T_SEM, id, p->key, get_sem, n) < 0)
			goto out;
		o->made = 1;
		u.array = v;
		if (semctl(id, 0, SETALL, u) < 0)
			goto fail;
	} else {
		/* others' adjustments of it stay: a semop, not SETALL, which would clear them */
		u.array = cur;
		if (semctl(id, 0, GETALL, u) < 0)
			goto fail;
		for (i = 0; i < n; i++)
			if (cur[i] != v[i])
				ops[nops++] = (struct sembuf){ (unsigned short)i,
							       (short)(v[i] - cur[i]), IPC_NOWAIT };
		for (i = 0; i < nops; i += 250)
			if (semop(id, ops + i, nops - i > 250 ? 250 : nops - i) < 0)
				goto fail;
	}
	u.buf = &ds;
	if (semctl(id, 0, IPC_STAT, u) < 0)
		goto fail;
	set_perm(&ds.sem_perm, p);
	if (semctl(id, 0, IPC_SET, u) < 0)
		goto fail;
	for (i = 0; i < o->nadj; i++)
		if (sem_adjust(id, o->adj[i].num, o->adj[i].adj) < 0) {
			rst_error(s, "%s %d (key 0x%x): cannot give the process its SEM_UNDO "
				  "adjustment %d of semaphore %u again: %s", rst_ipc_what[T_SEM], id,
				  (unsigned)p->key, o->adj[i].adj, o->adj[i].num, strerror(errno));
			goto out;
		}
	r = 0;
	goto out;
fail:
	rst_error(s, "%s %d (key 0x%x): cannot put its values, owner %u:%u and mode %o back: %s",
		  rst_ipc_what[T_SEM], id, (unsigned)p->key, p->uid, p->gid, p->mode & 0777,
		  strerror(errno));
out:
	free(v);
	free(cur);
	free(ops);
	return r;
}

static int make_msg(struct rst_state *s, struct rst_msg *o)
{
	const struct img_sysv_perm *p = &o->m.perm;
	const unsigned char *q = o->msgs;
	struct msqid_ds ds;
	long *buf = malloc(sizeof(long) + 65536);
	size_t cap = 65536;
	int id = p->id, r = RST_EXIT_ENV;

	if (!buf)
		abort();
	if (o->action == IPC_CREATE && with_id(s, T_MSG, id, p->key, get_msg, 0) < 0)
		goto out;
	o->made = o->action == IPC_CREATE;
	while (o->action == IPC_REUSE && msgrcv(id, buf, cap, 0, IPC_NOWAIT | MSG_NOERROR) >= 0)
		;
	if (msgctl(id, IPC_STAT, &ds) < 0)
		goto fail;
	/* room for every message first, the saved limit at the end */
	if (ds.msg_qbytes < o->m.bytes) {
		ds.msg_qbytes = o->m.bytes;
		if (msgctl(id, IPC_SET, &ds) < 0)
			goto fail;
	}
	for (uint32_t i = 0; i < o->m.nmsgs; i++) {
		const void *text;
		uint64_t len;
		uint32_t prio;
		int64_t type;

		q += img_ipc_msg_next(q, 0, &type, &prio, &text, &len);
		if (len > cap) {
			cap = len;
			buf = realloc(buf, sizeof(long) + cap);
			if (!buf)
				abort();
		}
		buf[0] = (long)type;
		memcpy(buf + 1, text, len);
		if (msgsnd(id, buf, len, IPC_NOWAIT) < 0)
			goto fail;
	}
	set_perm(&ds.msg_perm, p);
	ds.msg_qbytes = o->m.qbytes;
	if (msgctl(id, IPC_SET, &ds) < 0)
		goto fail;
	r = 0;
	goto out;
fail:
	rst_error(s, "%s %d (key 0x%x): cannot put its %u messages, limit of %llu bytes, owner "
		  "%u:%u and mode %o back: %s", rst_ipc_what[T_MSG], id, (unsigned)p->key, o->m.nmsgs,
		  (unsigned long long)o->m.qbytes, p->uid, p->gid, p->mode & 0777, strerror(errno));
out:
	free(buf);
	return r;
}

/* A failed restart leaves nothing it made behind: the next one would refuse it. */
static void unmake(struct rst_ipc *x)
{
	for (size_t i = 0; i < x->nshm; i++)
		if (x->shm[i].made)
			shmctl(x->shm[i].m.perm.id, IPC_RMID, NULL);
	for (size_t i = 0; i < x->nsem; i++)
		if (x->sem[i].made)
			semctl(x->sem[i].m.perm.id, 0, IPC_RMID);
	for (size_t i = 0; i < x->nmsg; i++)
		if (x->msg[i].made)
			msgctl(x->msg[i].m.perm.id, IPC_RMID, NULL);
}

void rst_ipc_unmake(struct rst_state *s)
{
	if (s->ipc)
		unmake(s->ipc);
	rst_pshm_unmake(s);		/* and the POSIX shm objects made again (fds/fd_pshm.c) */
}

int rst_restore_ipc(struct rst_state *s)
{
	struct rst_ipc *x = s->ipc;
	int r = 0;

	if (!x)
		return 0;
	/*
	 * A tree's process: ckpt-restart made the objects (rst_ipc_merge);
	 * its own SEM_UNDO adjustments and mq_notify registrations are left.
	 */
	if (s->tree_files) {
		for (size_t i = 0; i < x->nsem; i++)
			for (uint32_t k = 0; k < x->sem[i].nadj; k++)
				if (sem_adjust(x->sem[i].m.perm.id, x->sem[i].adj[k].num,
					       x->sem[i].adj[k].adj) < 0) {
					rst_error(s, "%s %d: cannot give the process its SEM_UNDO "
						  "adjustment %d of semaphore %u again: %s",
						  rst_ipc_what[T_SEM], x->sem[i].m.perm.id,
						  x->sem[i].adj[k].adj, x->sem[i].adj[k].num,
						  strerror(errno));
					return RST_EXIT_ENV;
				}
		return rst_mq_notify(s);
	}
	if (!x->nshm && !x->nsem && !x->nmsg)
		return rst_mq_notify(s);
	if (!s->reserved)
		rst_reserve(s);		/* ckpt-restart's attaches stay out of the image's ranges */
	for (size_t i = 0; !r && i < x->nshm; i++)
		r = make_shm(s, &x->shm[i]);
	for (size_t i = 0; !r && i < x->nsem; i++)
		r = make_sem(s, &x->sem[i]);
	for (size_t i = 0; !r && i < x->nmsg; i++)
		r = make_msg(s, &x->msg[i]);
	/* (the tree's objects, made by ckpt-restart: registrations are each process's) */
	if (!r && !(s->tree && s->tree_index < 0))
		r = rst_mq_notify(s);
	if (r)
		unmake(x);
	return r;
}

