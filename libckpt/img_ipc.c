/*
 * img_ipc.c - reading the IPC records (format: img_format.h): SYSV_SHM,
 * SYSV_SEM, SYSV_MSG, MQ_MSGS, and the VMAs that attach a SysV segment.
 *
 * Each checker validates one record alone, like every payload checker
 * (img_read.c): lengths against the record, every field in its range,
 * reserved bytes and padding zero, the messages walked to the last byte.
 * What needs other records is the caller's (ckpt-restart's
 * restart/restart_ipc.c, ckpt-info's tools/info_load.c): a SYSV_SEM UNDO
 * names a set saved before it with that many semaphores, an MQ_MSGS
 * follows its MQUEUE FILE and fits its attributes, a FILE_DATA of file 0
 * follows a SYSV_SHM inside its size, a SysV attach names a SYSV_SHM.
 */
#include <stdio.h>
#include <string.h>
#include "libckpt/img.h"

static int ipc_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* The perms every SysV object has: id, mode bits (extra: shm's), flags. */
static int perm_ok(const struct img_sysv_perm *p, uint32_t extra)
{
	return p->id >= 0 && !(p->mode & ~(IMG_SYSV_MODE | extra)) && !(p->flags & ~IMG_IPC_NS);
}

const struct img_sysv_shm *img_get_sysv_shm(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_sysv_shm *m = img_get_fixed(r, rec, IMG_REC_SYSV_SHM, sizeof(*m));

	if (!m)
		return NULL;
	if (rec->len != sizeof(*m) || !perm_ok(&m->perm, IMG_SHM_DEST | IMG_SHM_LOCKED) ||
	    m->size == 0 || m->size > IMG_SHM_SIZE_MAX || m->reserved ||
	    ((m->perm.mode & IMG_SHM_DEST) && m->perm.key)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "SYSV_SHM record at offset %llu is corrupt: id %d, key 0x%x, mode 0%o, "
			 "flags 0x%x, size %llu, %llu bytes", (unsigned long long)rec->offset,
			 m->perm.id, (unsigned)m->perm.key, m->perm.mode, m->perm.flags,
			 (unsigned long long)m->size, (unsigned long long)rec->len);
		return NULL;
	}
	return m;
}

const struct img_sysv_sem *img_get_sysv_sem(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_sysv_sem *m = img_get_fixed(r, rec, IMG_REC_SYSV_SEM, sizeof(*m));
	unsigned long long off = rec->offset;
	const unsigned char *tail;
	int undo;

	if (!m)
		return NULL;
	undo = m->kind == IMG_SEM_UNDO;
	if ((m->kind != IMG_SEM_SET && !undo) || m->nsems == 0 || m->nsems > IMG_SEM_NSEMS_MAX ||
	    !perm_ok(&m->perm, 0) || rec->len != sizeof(*m) + (uint64_t)m->nsems * 8 ||
	    (undo && (m->perm.key || m->perm.mode || m->perm.uid || m->perm.gid || m->perm.cuid ||
		      m->perm.cgid || m->perm.flags || m->otime || m->ctime))) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "SYSV_SEM record at offset %llu is corrupt: kind %u, id %d, %u "
			 "semaphores, mode 0%o, flags 0x%x, %llu bytes", off, m->kind, m->perm.id,
			 m->nsems, m->perm.mode, m->perm.flags, (unsigned long long)rec->len);
		return NULL;
	}
	tail = (const unsigned char *)(m + 1);
	for (uint32_t i = 0; i < m->nsems; i++) {
		if (!undo) {
			struct img_sem v;

			memcpy(&v, tail + i * 8, sizeof(v));
			if (v.val <= IMG_SEM_VMX && !v.reserved)
				continue;
			img_fail(r, IMG_ERR_CORRUPT,
				 "SYSV_SEM record at offset %llu is corrupt: semaphore %u of "
				 "set %d has value %u (at most %u)", off, i, m->perm.id, v.val,
				 IMG_SEM_VMX);
			return NULL;
		}
		struct img_semadj a, prev = { 0 };

		memcpy(&a, tail + i * 8, sizeof(a));
		if (i)
			memcpy(&prev, tail + (i - 1) * 8, sizeof(prev));
		if (a.adj == 0 || a.reserved || a.num >= IMG_SEM_NSEMS_MAX || (i && a.num <= prev.num)) {
			img_fail(r, IMG_ERR_CORRUPT,
				 "SYSV_SEM record at offset %llu is corrupt: adjustment %d of "
				 "semaphore %u of set %d (entry %u)", off, a.adj, a.num, m->perm.id, i);
			return NULL;
		}
	}
	return m;
}

/*
 * Walks n messages of `hdr` bytes each (struct img_msg or img_mq_msg)
 * from p to end: each header, its text, zero padding to 8.  The sum of
 * the lengths into *bytes; the first bad one's index into *bad.  0 or -1.
 */
static int walk_msgs(const unsigned char *p, const unsigned char *end, uint32_t n, int mq,
		     uint64_t *bytes, uint32_t *bad)
{
	*bytes = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t len, pad;

		*bad = i;
		if ((size_t)(end - p) < (mq ? sizeof(struct img_mq_msg) : sizeof(struct img_msg)))
			return -1;
		if (mq) {
			struct img_mq_msg h;

			memcpy(&h, p, sizeof(h));
			if (h.prio >= 32768 || h.len > IMG_MQ_MSGSIZE)
				return -1;
			len = h.len;
			p += sizeof(h);
		} else {
			struct img_msg h;

			memcpy(&h, p, sizeof(h));
			if (h.type <= 0 || h.len > IMG_REC_MAX)
				return -1;
			len = h.len;
			p += sizeof(h);
		}
		pad = (8 - len % 8) % 8;
		if ((uint64_t)(end - p) < len + pad || !ipc_zero(p + len, (size_t)pad))
			return -1;
		p += len + pad;
		*bytes += len;
	}
	*bad = n;
	return p == end ? 0 : -1;
}

const struct img_sysv_msg *img_get_sysv_msg(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_sysv_msg *m = img_get_fixed(r, rec, IMG_REC_SYSV_MSG, sizeof(*m));
	const unsigned char *p;
	uint64_t bytes;
	uint32_t bad;

	if (!m)
		return NULL;
	if (!perm_ok(&m->perm, 0) || m->reserved || m->qbytes > INT32_MAX) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "SYSV_MSG record at offset %llu is corrupt: id %d, mode 0%o, flags "
			 "0x%x, limit %llu bytes", (unsigned long long)rec->offset, m->perm.id,
			 m->perm.mode, m->perm.flags, (unsigned long long)m->qbytes);
		return NULL;
	}
	p = (const unsigned char *)(m + 1);
	if (walk_msgs(p, (const unsigned char *)rec->data + rec->len, m->nmsgs, 0, &bytes, &bad) ||
	    bytes != m->bytes) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "SYSV_MSG record at offset %llu is corrupt: queue %d, message %u of %u "
			 "(%llu bytes said, %llu bytes of record)", (unsigned long long)rec->offset,
			 m->perm.id, bad, m->nmsgs, (unsigned long long)m->bytes,
			 (unsigned long long)rec->len);
		return NULL;
	}
	return m;
}

const struct img_mq_msgs *img_get_mq_msgs(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_mq_msgs *m = img_get_fixed(r, rec, IMG_REC_MQ_MSGS, sizeof(*m));
	uint64_t bytes;
	uint32_t bad;

	if (!m)
		return NULL;
	if (m->file == 0 || m->nmsgs > IMG_MQ_MAXMSG ||
	    walk_msgs((const unsigned char *)(m + 1), (const unsigned char *)rec->data + rec->len,
		      m->nmsgs, 1, &bytes, &bad) || bytes != m->bytes) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "MQ_MSGS record at offset %llu is corrupt: file %u, message %u of %u "
			 "(%llu bytes said, %llu bytes of record)", (unsigned long long)rec->offset,
			 m->file, m->nmsgs > IMG_MQ_MAXMSG ? 0 : bad, m->nmsgs,
			 (unsigned long long)m->bytes, (unsigned long long)rec->len);
		return NULL;
	}
	return m;
}

/* "/SYSV" 8 lowercase hex digits " (deleted)": the name of every attach. */
static int sysv_name(const char *path, uint32_t len)
{
	static const char tail[] = " (deleted)";

	if (len != 5 + 8 + sizeof(tail) - 1 || memcmp(path, "/SYSV", 5) ||
	    memcmp(path + 13, tail, sizeof(tail) - 1))
		return 0;
	for (int i = 5; i < 13; i++)
		if (!((path[i] >= '0' && path[i] <= '9') || (path[i] >= 'a' && path[i] <= 'f')))
			return 0;
	return 1;
}

int img_vma_sysv(const struct img_vma *v, const char *path)
{
	return (v->flags & IMG_VMA_FILE) && !v->file && sysv_name(path, v->path_len);
}

int img_check_vma_sysv(struct img_reader *r, const struct img_rec *rec, const struct img_vma *v)
{
	const char *path = (const char *)(v + 1);
	static const char tail[] = " (deleted)";
	size_t tl = sizeof(tail) - 1;

	/* a deleted file is made again (file != 0): such a name is a SysV attach */
	if (!(v->flags & IMG_VMA_FILE) || v->file || v->path_len < tl ||
	    memcmp(path + v->path_len - tl, tail, tl))
		return 0;
	if (sysv_name(path, v->path_len) && (v->flags & IMG_VMA_SHARED) &&
	    !(v->flags & IMG_VMA_PAGES) && v->ino <= INT32_MAX)
		return 0;
	return img_fail(r, IMG_ERR_CORRUPT,
			"VMA record at offset %llu is corrupt: a deleted file mapped without "
			"its FILE (%.*s), not a SysV shared memory attach (flags 0x%x, id %llu)",
			(unsigned long long)rec->offset, (int)(v->path_len > 64 ? 64 : v->path_len),
			path, v->flags, (unsigned long long)v->ino);
}
