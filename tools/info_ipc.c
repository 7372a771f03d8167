/*
 * info_ipc.c - ckpt-info's view of the IPC records: SysV segments (and
 * their FILE_DATA contents), semaphore sets (and this process's SEM_UNDO
 * adjustments), message queues, a POSIX queue's messages; the checks
 * that need more than one record (the same as ckpt-restart's,
 * restart/restart_ipc.c), and their text and JSON.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/info.h"

#define PAGE	IMG_PAGE_SIZE

__attribute__((format(printf, 2, 3)))
static int ii_fail(struct info *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->err, sizeof(in->err), fmt, ap);
	va_end(ap);
	return -1;
}

static void *ii_dup(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (!q) {
		fprintf(stderr, "ckpt-info: out of memory\n");
		exit(INFO_EXIT_CORRUPT);
	}
	memcpy(q, p, n);
	return q;
}

static struct info_ipc *ii_new(struct info *in, uint32_t type)
{
	struct info_ipc *o;

	in->ipc = info_grow(in->ipc, in->nipc, sizeof(*in->ipc));
	o = &in->ipc[in->nipc++];
	memset(o, 0, sizeof(*o));
	o->type = type;
	return o;
}

static struct info_ipc *ii_find(const struct info *in, uint32_t type, int32_t id)
{
	for (size_t i = 0; i < in->nipc; i++)
		if (in->ipc[i].type == type && in->ipc[i].perm.id == id)
			return &in->ipc[i];
	return NULL;
}

static int ii_ns(struct info *in, uint32_t flags, uint64_t off)
{
	int ns = (flags & IMG_IPC_NS) != 0;

	if (in->ipc_ns >= 0 && in->ipc_ns != ns)
		return ii_fail(in, "record at offset %llu: IPC records disagree on whether the "
			       "process had an IPC namespace of its own", (unsigned long long)off);
	in->ipc_ns = ns;
	return 0;
}

int info_ipc_file(struct info *in, const struct info_file *f, uint64_t off)
{
	struct img_file_mqueue m;

	if (f->f.kind != IMG_FILE_MQUEUE)
		return 0;
	memcpy(&m, f->data.s, sizeof(m));
	return ii_ns(in, m.flags, off);
}

static int add_shm_data(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	static unsigned char dst[IMG_FILE_CHUNK];
	const struct img_file_data *d = img_get_file_data(r, rec);
	struct info_ipc *o = &in->ipc[in->ipc_shm - 1];
	char err[256];

	if (!d)
		return -1;
	if (d->file || d->offset < o->end || d->offset + d->len > o->shm.size ||
	    (d->len % PAGE && d->offset + d->len != o->shm.size))
		return ii_fail(in, "FILE_DATA record at offset %llu: %llu bytes at %llu of SysV "
			       "shared memory segment %d overlap others or lie outside its %llu bytes",
			       (unsigned long long)rec->offset, (unsigned long long)d->len,
			       (unsigned long long)d->offset, o->perm.id,
			       (unsigned long long)o->shm.size);
	if (in->verify && img_file_data_decode(d, d + 1, rec->len - sizeof(*d), dst, err,
					       sizeof(err)) < 0)
		return ii_fail(in, "FILE_DATA record at offset %llu: %s",
			       (unsigned long long)rec->offset, err);
	if (!o->data_bytes || d->offset != o->end)
		o->extents++;
	o->data_bytes += d->len;
	o->stored += rec->len - sizeof(*d);
	o->end = d->offset + d->len;
	return 0;
}

static int add_sem(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	const struct img_sysv_sem *m = img_get_sysv_sem(r, rec);
	struct info_ipc *o;

	if (!m)
		return -1;
	o = ii_find(in, IMG_REC_SYSV_SEM, m->perm.id);
	if (m->kind == IMG_SEM_UNDO) {
		struct img_semadj last;

		memcpy(&last, (const char *)(m + 1) + (m->nsems - 1) * sizeof(last), sizeof(last));
		if (!o || o->adj || last.num >= o->sem.nsems)
			return ii_fail(in, "SYSV_SEM record at offset %llu: SEM_UNDO adjustments of "
				       "semaphore set %d, which the image has not saved before them "
				       "(or not with that many semaphores), or twice",
				       (unsigned long long)rec->offset, m->perm.id);
		o->adj = ii_dup(m + 1, m->nsems * sizeof(struct img_semadj));
		o->nadj = m->nsems;
		return 0;
	}
	if (o)
		return ii_fail(in, "SYSV_SEM record at offset %llu: semaphore set %d saved twice",
			       (unsigned long long)rec->offset, m->perm.id);
	o = ii_new(in, IMG_REC_SYSV_SEM);
	o->sem = *m;
	o->perm = m->perm;
	o->tail = ii_dup(m + 1, m->nsems * sizeof(struct img_sem));
	return ii_ns(in, m->perm.flags, rec->offset);
}

/* MQ_MSGS: right after the MQUEUE FILE holding the queue, fitting it. */
static int add_mq(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	const struct img_mq_msgs *m = img_get_mq_msgs(r, rec);
	struct info_file *f;
	struct img_file_mqueue q;
	const unsigned char *p;

	if (!m)
		return -1;
	f = in->fdata_file ? (struct info_file *)info_file_by_id(in, in->fdata_file) : NULL;
	if (!f || f->f.id != m->file || f->f.kind != IMG_FILE_MQUEUE || f->mq_seen)
		return ii_fail(in, "MQ_MSGS record at offset %llu: messages of file %u do not follow "
			       "the POSIX message queue that holds them", (unsigned long long)rec->offset,
			       m->file);
	memcpy(&q, f->data.s, sizeof(q));
	p = (const unsigned char *)(m + 1);
	for (uint32_t i = 0; i < m->nmsgs; i++) {
		const void *text;
		uint64_t len;
		uint32_t prio;
		int64_t type;

		p += img_ipc_msg_next(p, 1, &type, &prio, &text, &len);
		if (q.same_as || m->nmsgs > q.maxmsg || len > (uint64_t)q.msgsize)
			return ii_fail(in, "MQ_MSGS record at offset %llu: message %u of %u (%llu "
				       "bytes) does not fit POSIX message queue file %u (%lld messages "
				       "of %lld bytes)", (unsigned long long)rec->offset, i + 1,
				       m->nmsgs, (unsigned long long)len, m->file,
				       (long long)q.maxmsg, (long long)q.msgsize);
	}
	f->mq_seen = 1;
	f->mq_nmsgs = m->nmsgs;
	f->mq_bytes = m->bytes;
	f->mq = (struct info_str){ ii_dup(m + 1, rec->len - sizeof(*m)), rec->len - sizeof(*m) };
	return 0;
}

int info_ipc_add(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	switch (rec->type) {
	case IMG_REC_SYSV_SHM: {
		const struct img_sysv_shm *m = img_get_sysv_shm(r, rec);
		struct info_ipc *o;

		if (!m)
			return -1;
		if (ii_find(in, IMG_REC_SYSV_SHM, m->perm.id))
			return ii_fail(in, "SYSV_SHM record at offset %llu: segment %d saved twice",
				       (unsigned long long)rec->offset, m->perm.id);
		o = ii_new(in, IMG_REC_SYSV_SHM);
		o->shm = *m;
		o->perm = m->perm;
		in->ipc_shm = (int)in->nipc;
		return ii_ns(in, m->perm.flags, rec->offset);
	}
	case IMG_REC_FILE_DATA:
		return add_shm_data(in, r, rec);
	case IMG_REC_SYSV_SEM:
		return add_sem(in, r, rec);
	case IMG_REC_SYSV_MSG: {
		const struct img_sysv_msg *m = img_get_sysv_msg(r, rec);
		struct info_ipc *o;

		if (!m)
			return -1;
		if (ii_find(in, IMG_REC_SYSV_MSG, m->perm.id))
			return ii_fail(in, "SYSV_MSG record at offset %llu: queue %d saved twice",
				       (unsigned long long)rec->offset, m->perm.id);
		o = ii_new(in, IMG_REC_SYSV_MSG);
		o->msg = *m;
		o->perm = m->perm;
		o->tail_len = rec->len - sizeof(*m);
		o->tail = ii_dup(m + 1, o->tail_len);
		return ii_ns(in, m->perm.flags, rec->offset);
	}
	default:
		return add_mq(in, r, rec);
	}
}

int info_ipc_vma_check(struct info *in, const struct img_vma *v, uint64_t off)
{
	struct info_ipc *o;

	if (!img_vma_sysv(v, (const char *)(v + 1)))
		return 0;
	o = ii_find(in, IMG_REC_SYSV_SHM, (int32_t)v->ino);
	if (!o || v->pgoff % PAGE ||
	    v->pgoff + (v->end - v->start) > ((o->shm.size + PAGE - 1) & ~(uint64_t)(PAGE - 1)))
		return ii_fail(in, "VMA record at offset %llu: mapping 0x%llx-0x%llx attaches SysV "
			       "shared memory segment %llu, which the image has not saved before "
			       "it, or lies outside it", (unsigned long long)off,
			       (unsigned long long)v->start, (unsigned long long)v->end,
			       (unsigned long long)v->ino);
	o->nattach++;
	return 0;
}

void info_ipc_free(struct info *in)
{
	for (size_t i = 0; i < in->nipc; i++) {
		free(in->ipc[i].tail);
		free(in->ipc[i].adj);
	}
	free(in->ipc);
	for (size_t i = 0; i < in->nfile; i++)
		free(in->files[i].mq.s);
}

/* ---- text ---- */

/* At most n bytes of message text, printable, quoted. */
static void txt_text(const void *text, uint64_t len, size_t n)
{
	const unsigned char *p = text;

	putchar('"');
	for (uint64_t i = 0; i < len && i < n; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' ? p[i] : '.');
	printf("\"%s", len > n ? "..." : "");
}

static void txt_perm(const char *t, const struct img_sysv_perm *p)
{
	printf("  %s %d  key 0x%x, mode %o%s", t, p->id, (unsigned)p->key, p->mode & 0777,
	       p->mode & IMG_SHM_DEST ? " removed" : "");
	printf("%s", p->mode & IMG_SHM_LOCKED ? " locked" : "");
}

void info_ipc_text(const struct info *in)
{
	if (!in->nipc && in->ipc_ns < 0)
		return;
	printf("\nSysV IPC (%zu objects):\n", in->nipc);
	if (in->ipc_ns == 1)
		printf("  namespace: its own (ckpt-run --ipcns): a restart makes a new one\n");
	for (size_t i = 0; i < in->nipc; i++) {
		const struct info_ipc *o = &in->ipc[i];

		if (o->type == IMG_REC_SYSV_SHM) {
			txt_perm("shm", &o->perm);
			printf(", %llu bytes, owner %u:%u (made by %u:%u, pid %d), %u attached "
			       "(%u here); %llu bytes of data in %u extents, %llu in the image\n",
			       (unsigned long long)o->shm.size, o->perm.uid, o->perm.gid,
			       o->perm.cuid, o->perm.cgid, o->shm.cpid, o->shm.nattch, o->nattach,
			       (unsigned long long)o->data_bytes, o->extents,
			       (unsigned long long)o->stored);
		} else if (o->type == IMG_REC_SYSV_SEM) {
			const struct img_sem *v = o->tail;
			const struct img_semadj *a = o->adj;

			txt_perm("sem", &o->perm);
			printf(", values");
			for (uint32_t k = 0; k < o->sem.nsems && k < 32; k++)
				printf(" %u", v[k].val);
			printf("%s", o->sem.nsems > 32 ? " ..." : "");
			if (o->nadj) {
				printf("; this process's adjustments:");
				for (uint32_t k = 0; k < o->nadj; k++)
					printf(" #%u %+d", a[k].num, a[k].adj);
			}
			printf("\n");
		} else {
			const unsigned char *p = o->tail;

			txt_perm("msg", &o->perm);
			printf(", %u messages, %llu bytes (limit %llu)\n", o->msg.nmsgs,
			       (unsigned long long)o->msg.bytes, (unsigned long long)o->msg.qbytes);
			for (uint32_t k = 0; k < o->msg.nmsgs; k++) {
				const void *text;
				uint64_t len;
				uint32_t prio;
				int64_t type;

				p += img_ipc_msg_next(p, 0, &type, &prio, &text, &len);
				if (k < 16) {
					printf("      type %lld, %llu bytes ", (long long)type,
					       (unsigned long long)len);
					txt_text(text, len, 40);
					printf("\n");
				}
			}
		}
	}
}

/* The MQUEUE kind's words (info_file_desc). */
void info_ipc_mq_desc(const struct info_file *f, char *buf, size_t len)
{
	struct img_file_mqueue m;
	int n;

	memcpy(&m, f->data.s, sizeof(m));
	n = snprintf(buf, len, "POSIX message queue, mode %o, owner %u:%u, at most %lld messages "
		     "of %lld bytes", f->f.mode & 0777, m.uid, m.gid, (long long)m.maxmsg,
		     (long long)m.msgsize);
	if (n < 0 || (size_t)n >= len)
		return;
	if (m.same_as)
		n += snprintf(buf + n, len - n, "; the same queue as file %u", m.same_as);
	else
		n += snprintf(buf + n, len - n, "; %u messages, %llu bytes", f->mq_nmsgs,
			      (unsigned long long)f->mq_bytes);
	if ((size_t)n < len && m.notify == IMG_SIGEV_SIGNAL)
		snprintf(buf + n, len - n, "; notifies with signal %d, value %lld", m.signo,
			 (long long)m.sigval);
	else if ((size_t)n < len && m.notify == IMG_SIGEV_NONE)
		snprintf(buf + n, len - n, "; registered for notification (SIGEV_NONE)");
}

/* ---- JSON ---- */

static void json_perm(const struct img_sysv_perm *p)
{
	printf("{\"id\": %d, \"key\": %d, \"mode\": %u, \"removed\": %s, \"locked\": %s, "
	       "\"uid\": %u, \"gid\": %u, \"cuid\": %u, \"cgid\": %u", p->id, p->key,
	       p->mode & 0777, p->mode & IMG_SHM_DEST ? "true" : "false",
	       p->mode & IMG_SHM_LOCKED ? "true" : "false", p->uid, p->gid, p->cuid, p->cgid);
}

void info_ipc_json(const struct info *in, void (*str)(const char *s, size_t n))
{
	static const uint32_t types[] = { IMG_REC_SYSV_SHM, IMG_REC_SYSV_SEM, IMG_REC_SYSV_MSG };
	static const char *const names[] = { "shm", "sem", "msg" };

	printf(",\n  \"ipc\": {\"own_namespace\": %s", in->ipc_ns == 1 ? "true" : "false");
	for (int t = 0; t < 3; t++) {
		int any = 0;

		printf(", \"%s\": [", names[t]);
		for (size_t i = 0; i < in->nipc; i++) {
			const struct info_ipc *o = &in->ipc[i];

			if (o->type != types[t])
				continue;
			printf("%s", any++ ? ", " : "");
			json_perm(&o->perm);
			if (t == 0) {
				printf(", \"size\": %llu, \"cpid\": %d, \"nattch\": %u, \"attached_here\": "
				       "%u, \"data_bytes\": %llu, \"stored_bytes\": %llu}",
				       (unsigned long long)o->shm.size, o->shm.cpid, o->shm.nattch,
				       o->nattach, (unsigned long long)o->data_bytes,
				       (unsigned long long)o->stored);
			} else if (t == 1) {
				const struct img_sem *v = o->tail;
				const struct img_semadj *a = o->adj;

				printf(", \"values\": [");
				for (uint32_t k = 0; k < o->sem.nsems; k++)
					printf("%s%u", k ? ", " : "", v[k].val);
				printf("], \"undo\": [");
				for (uint32_t k = 0; k < o->nadj; k++)
					printf("%s{\"num\": %u, \"adj\": %d}", k ? ", " : "", a[k].num,
					       a[k].adj);
				printf("]}");
			} else {
				const unsigned char *p = o->tail;

				printf(", \"qbytes\": %llu, \"bytes\": %llu, \"messages\": [",
				       (unsigned long long)o->msg.qbytes, (unsigned long long)o->msg.bytes);
				for (uint32_t k = 0; k < o->msg.nmsgs; k++) {
					const void *text;
					uint64_t len;
					uint32_t prio;
					int64_t type;

					p += img_ipc_msg_next(p, 0, &type, &prio, &text, &len);
					printf("%s{\"type\": %lld, \"len\": %llu, \"text\": ", k ? ", " : "",
					       (long long)type, (unsigned long long)len);
					str(text, (size_t)(len > 256 ? 256 : len));
					printf("}");
				}
				printf("]}");
			}
		}
		printf("]");
	}
	printf("}");
}

/* A POSIX queue's JSON members (info_file_json). */
void info_ipc_mq_json(const struct info_file *f, void (*str)(const char *s, size_t n))
{
	struct img_file_mqueue m;
	const unsigned char *p = (const unsigned char *)f->mq.s;

	memcpy(&m, f->data.s, sizeof(m));
	printf(", \"mode\": %u, \"uid\": %u, \"gid\": %u, \"maxmsg\": %lld, \"msgsize\": %lld, "
	       "\"same_as\": %u, \"notify\": %d, \"signal\": %d, \"sigval\": %lld, \"messages\": [",
	       f->f.mode & 0777, m.uid, m.gid, (long long)m.maxmsg, (long long)m.msgsize,
	       m.same_as, m.notify, m.signo, (long long)m.sigval);
	for (uint32_t k = 0; p && k < f->mq_nmsgs; k++) {
		const void *text;
		uint64_t len;
		uint32_t prio;
		int64_t type;

		p += img_ipc_msg_next(p, 1, &type, &prio, &text, &len);
		printf("%s{\"prio\": %u, \"len\": %llu, \"text\": ", k ? ", " : "", prio,
		       (unsigned long long)len);
		str(text, (size_t)(len > 256 ? 256 : len));
		printf("}");
	}
	printf("]");
}
