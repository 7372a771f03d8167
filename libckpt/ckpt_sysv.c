/*
 * ckpt_sysv.c - SysV IPC objects: which the image holds, and their
 * SYSV_SHM (+ FILE_DATA), SYSV_SEM and SYSV_MSG records (img_format.h).
 *
 * Which objects (docs/INTERNALS.md, "SysV IPC"):
 *   - the shared memory segments the process has attached: its VMAs
 *     named "/SYSV%08x (deleted)", whose inode number is the segment's id
 *     (ckpt_maps.c marks them CKPT_BYID_SYSV);
 *   - every id the process got or used through libc (semget, semop,
 *     msgsnd, shmget...: the wrappers' registry, libckpt/reg_ipc.c), when
 *     its object still exists;
 *   - under `ckpt-run --ipcns` (CKPT_IPCNS=1 and an IPC namespace owned by
 *     the process's own user namespace): every object of the namespace,
 *     which is the process's (its tree's) alone.
 * What each object is comes from /proc/sysvipc/{shm,sem,msg}, which lists
 * every object of the namespace whatever its permissions (key, id, mode,
 * owner, creator, times, sizes); each file is read once per pass and each
 * object written once, when its line is reached.  Contents need read
 * permission, as they would for the process:
 *   - shm: attached once more, SHM_RDONLY, at an address the kernel picks;
 *     mincore() says which pages the segment holds (whoever touched them),
 *     each run of them is copied (another process may write the segment
 *     meanwhile: Snappy must not compress changing bytes) and stored, all-
 *     zero pages not at all; then detached.  A segment with swapped-out
 *     pages (its /proc line's swap) is read whole: mincore does not see
 *     pages in swap.  The attach moves the segment's atime, dtime and lpid.
 *   - sem: GETALL; this process's SEM_UNDO adjustments are measured
 *     (ckpt_semadj.c).
 *   - msg: msgrcv(MSG_COPY), message by message, without taking any
 *     (CONFIG_CHECKPOINT_RESTORE, which the restart needs anyway).
 * Refused, by name, before a byte is written: an object the process cannot
 * read, an attach of a segment not in the process's IPC namespace, huge
 * page segments (SHM_HUGETLB), a queue over 31 MiB, a full registry.
 *
 * Both passes (check, then write) walk the same way (sysv_walk); the
 * threads are parked in between, so only another process can change an
 * object meanwhile: the write then fails (the image is dropped).
 *
 * Buffers: c->mbuf (64 MiB of scratch, free until page data is written):
 * [0, 32 MiB) a queue's record or a segment's chunk and its compressed
 * form, [32 MiB, 64 MiB) the text of one /proc/sysvipc file.
 * Cost: one read of each /proc/sysvipc file per pass (none when the
 * process has no object: sysv_any); per segment one
 * attach, mincore, a copy and a compression of each page it holds; per
 * message one MSG_COPY (which walks the queue: O(n^2) for n messages).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/reg.h"

#define PAGE		IMG_PAGE_SIZE
#define WORK_MAX	(32u << 20)		/* mbuf: one record or chunk */
#define TEXT_OFF	WORK_MAX		/* mbuf: one /proc/sysvipc file */
#define TEXT_MAX	(32u << 20)
#ifndef MSG_COPY
#define MSG_COPY	040000
#endif

/* CKPT_IPCNS=1: ckpt-run --ipcns started us (read once, outside any checkpoint). */
static int sysv_ns_env;

__attribute__((constructor)) static void sysv_read_env(void)
{
	const char *v = getenv("CKPT_IPCNS");

	sysv_ns_env = v && v[0] == '1' && !v[1];
}

uint32_t ckpt_ipc_ns_flag(void)
{
	struct stat own, owner;
	int fd, ufd, r = 0;

	if (!sysv_ns_env)
		return 0;
	/*
	 * The namespace ckpt-run (or ckpt-restart) made is owned by the user
	 * namespace made with it, which is ours; one owned by an ancestor
	 * (a restart that kept ckpt-restart's) gives EPERM.
	 */
	if ((fd = ckpt_open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC, 0)) < 0)
		return 0;
	ufd = ioctl(fd, NS_GET_USERNS);
	ckpt_close(fd);
	if (ufd < 0)
		return 0;
	if (fstat(ufd, &owner) == 0 && stat("/proc/self/ns/user", &own) == 0 &&
	    own.st_ino == owner.st_ino && own.st_dev == owner.st_dev)
		r = IMG_IPC_NS;
	ckpt_close(ufd);
	return r;
}

/* ---- /proc/sysvipc ---- */

enum { SYSV_SHM, SYSV_SEM, SYSV_MSG };
static const char *const sysv_file[] = { "/proc/sysvipc/shm", "/proc/sysvipc/sem",
					 "/proc/sysvipc/msg" };
static const char *const sysv_what[] = { "SysV shared memory segment", "SysV semaphore set",
					 "SysV message queue" };
static const enum reg_ipc_type sysv_reg[] = { REG_IPC_SHM, REG_IPC_SEM, REG_IPC_MSG };
/* fields of a line; perms (the third) is octal */
static const int sysv_nfields[] = { 16, 10, 14 };

/* One line's fields into f (n of them): 0, or -1 if it is not a line of numbers. */
static int sysv_fields(const char *s, const char *eol, int64_t *f, int n)
{
	for (int i = 0; i < n; i++) {
		while (s < eol && *s == ' ')
			s++;
		if (s >= eol || !((*s >= '0' && *s <= '9') || *s == '-'))
			return -1;
		if (i == 2) {
			int64_t v = 0;

			while (s < eol && *s >= '0' && *s <= '7')
				v = v * 8 + (*s++ - '0');
			f[i] = v;
		} else {
			f[i] = ckpt_parse_dec(&s);
		}
	}
	return 0;
}

/* The perms part of a line (key, id, perms, then uid gid cuid cgid at u). */
static struct img_sysv_perm sysv_perm(const int64_t *f, int u, uint32_t ns)
{
	return (struct img_sysv_perm){ .id = (int32_t)f[1], .key = (int32_t)f[0],
				       .mode = (uint32_t)f[2], .uid = (uint32_t)f[u],
				       .gid = (uint32_t)f[u + 1], .cuid = (uint32_t)f[u + 2],
				       .cgid = (uint32_t)f[u + 3], .flags = ns };
}

/* ---- which objects ---- */

struct sysv_walk {
	struct ckpt_ctx *c;
	int write;			/* 0: check, 1: write the records */
	uint32_t ns;			/* IMG_IPC_NS: every object of the namespace */
};

static int reg_match(enum reg_ipc_type t, int id, void *arg)
{
	const int *want = arg;

	return (int)t == want[0] && id == want[1];
}

/* The first attach of segment id among the mappings, or NULL. */
static const struct ckpt_vma *sysv_attach(const struct ckpt_ctx *c, int id)
{
	for (int i = 0; i < c->nvmas; i++)
		if (c->vmas[i].byid == CKPT_BYID_SYSV && c->vmas[i].ino == (uint64_t)id)
			return &c->vmas[i];
	return NULL;
}

/*
 * Does the image hold object (type, id)?  Every object of a namespace of
 * our own; else an attached segment or an id the wrappers saw.  (In a
 * process tree the first member that holds it saves it: the lead's
 * ckpt_tree extends this test with the ids members wrote before.)
 */
static int sysv_wanted(const struct sysv_walk *w, int type, int id)
{
	int want[2] = { (int)sysv_reg[type], id };

	if (w->ns)
		return 1;
	if (type == SYSV_SHM && sysv_attach(w->c, id))
		return 1;
	return reg_ipc_each(reg_match, want);
}

/* ---- shared memory ---- */

/* Attaches segment id read-only where the kernel chooses: the address or -errno. */
static long shm_attach_ro(int id)
{
	return arch_sys3(SYS_shmat, id, 0, SHM_RDONLY);
}

/* One FILE_DATA record (file 0) of len bytes at off, compressed when it pays. */
static int shm_put(struct ckpt_ctx *c, uint64_t off, const unsigned char *data, size_t len)
{
	struct img_file_data d = { .file = 0, .codec = IMG_CODEC_RAW, .offset = off, .len = len };
	unsigned char *out = c->mbuf + IMG_FILE_CHUNK;
	size_t n = len;

	if (!c->no_compress) {
		size_t z = img_snappy_compress(data, len, out, c->ztab);

		if (z < len - len / 8) {
			d.codec = IMG_CODEC_SNAPPY;
			data = out;
			n = z;
		}
	}
	return img_write_record(&c->w, IMG_REC_FILE_DATA, &d, sizeof(d), data, n) < 0 ?
	       c->w.error : 0;
}

/*
 * Pages [p, p + np) of the attach at base (segment of size bytes): copied,
 * cut into runs of non-zero pages, each stored.  Zero pages are left out.
 */
static int shm_chunk(struct ckpt_ctx *c, const unsigned char *base, uint64_t size, uint64_t p,
		     uint64_t np)
{
	unsigned char *buf = c->mbuf;
	uint64_t off = p * PAGE, len = np * PAGE, at, run = 0;
	int in_run = 0;

	if (off + len > size)
		len = size - off;
	__builtin_memcpy(buf, base + off, len);
	for (at = 0; at < len; at += PAGE) {
		size_t l = len - at < PAGE ? len - at : PAGE;
		int zero = ckpt_is_zero(buf + at, l);

		if (!zero && !in_run) {
			run = at;
			in_run = 1;
		} else if (zero && in_run) {
			if (shm_put(c, off + run, buf + run, at - run) < 0)
				return c->w.error;
			in_run = 0;
		}
	}
	if (in_run && shm_put(c, off + run, buf + run, len - run) < 0)
		return c->w.error;
	return 0;
}

/*
 * The segment's contents through the read-only attach at base: the pages
 * mincore() says it holds (all of them when some are in swap), in chunks
 * of IMG_FILE_CHUNK bytes.  The vector goes after the chunk buffers.
 */
static int shm_contents(struct ckpt_ctx *c, const unsigned char *base, uint64_t size, int all)
{
	const uint64_t npages = (size + PAGE - 1) / PAGE, chunk = IMG_FILE_CHUNK / PAGE;
	const uint64_t vcap = WORK_MAX - 3 * IMG_FILE_CHUNK;
	unsigned char *vec = c->mbuf + 3 * IMG_FILE_CHUNK;

	for (uint64_t v0 = 0; v0 < npages; v0 += vcap) {
		uint64_t vn = npages - v0 < vcap ? npages - v0 : vcap;

		if (all)
			__builtin_memset(vec, 1, vn);
		else if (arch_sys3(SYS_mincore, base + v0 * PAGE, vn * PAGE, vec) < 0)
			__builtin_memset(vec, 1, vn);	/* cannot tell: read them all */
		for (uint64_t i = 0; i < vn; ) {
			uint64_t j = i;

			if (!(vec[i] & 1)) {
				i++;
				continue;
			}
			while (j < vn && (vec[j] & 1) && j - i < chunk)
				j++;
			if (shm_chunk(c, base, size, v0 + i, j - i) < 0)
				return c->error ? c->error : c->w.error;
			i = j;
		}
	}
	return 0;
}

static int sysv_shm(struct sysv_walk *w, const int64_t *f)
{
	struct ckpt_ctx *c = w->c;
	int id = (int)f[1];
	const struct ckpt_vma *v = sysv_attach(c, id);
	struct img_sysv_shm m = {
		.perm = sysv_perm(f, 7, w->ns), .size = (uint64_t)f[3], .cpid = (int32_t)f[4],
		.lpid = (int32_t)f[5], .nattch = (uint32_t)f[6], .atime = f[11], .dtime = f[12],
		.ctime = f[13],
	};
	char at[64] = "";
	long base;
	int r = 0;

	if (v)
		ckpt_fmt(at, sizeof(at), " (mapped at %lx)", (unsigned long)v->start);
	base = shm_attach_ro(id);
	if (base < 0 && base > -4096)
		return ckpt_fail(c, (int)base, "%s %d (key 0x%x)%s: cannot read it to save it "
				 "(shmat: %s); the process needs read permission on it",
				 sysv_what[SYSV_SHM], id, (unsigned)m.perm.key, at,
				 ckpt_strerror((int)-base));
	if (!w->write) {
		/* huge pages: a 4 KiB piece cannot be given another protection */
		if (m.size > PAGE && arch_sys3(SYS_mprotect, base, PAGE, PROT_NONE) == -EINVAL)
			r = ckpt_fail(c, -ENOTSUP, "%s %d (key 0x%x)%s is made of huge pages "
				      "(SHM_HUGETLB): not supported", sysv_what[SYSV_SHM], id,
				      (unsigned)m.perm.key, at);
	} else if (img_write_record(&c->w, IMG_REC_SYSV_SHM, &m, sizeof(m), NULL, 0) < 0) {
		r = c->w.error;
	} else {
		r = shm_contents(c, (const unsigned char *)base, m.size, f[15] > 0);
	}
	arch_sys1(SYS_shmdt, base);
	return r;
}

/* ---- semaphores ---- */

static int sysv_sem(struct sysv_walk *w, const int64_t *f)
{
	struct ckpt_ctx *c = w->c;
	int id = (int)f[1];
	uint32_t n = (uint32_t)f[3];
	struct img_sysv_sem m = { .kind = IMG_SEM_SET, .nsems = n, .perm = sysv_perm(f, 4, w->ns),
				  .otime = f[8], .ctime = f[9] };
	unsigned short *vals = (unsigned short *)c->mbuf;
	struct img_sem *out = (struct img_sem *)(c->mbuf + IMG_SEM_NSEMS_MAX * 2);
	long r;

	if (n == 0 || n > IMG_SEM_NSEMS_MAX)
		return ckpt_fail(c, -E2BIG, "%s %d (key 0x%x) has %u semaphores; libckpt saves "
				 "at most %u", sysv_what[SYSV_SEM], id, (unsigned)m.perm.key, n,
				 IMG_SEM_NSEMS_MAX);
	r = arch_sys4(SYS_semctl, id, 0, GETALL, vals);
	if (r < 0)
		return ckpt_fail(c, (int)r, "%s %d (key 0x%x): cannot read its values to save "
				 "them (semctl GETALL: %s); the process needs read permission on "
				 "it", sysv_what[SYSV_SEM], id, (unsigned)m.perm.key,
				 ckpt_strerror((int)-r));
	if (!w->write)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		long pid = arch_sys4(SYS_semctl, id, i, GETPID, 0);

		out[i] = (struct img_sem){ .val = vals[i], .pid = pid < 0 ? 0 : (int32_t)pid };
	}
	if (img_write_record(&c->w, IMG_REC_SYSV_SEM, &m, sizeof(m), out, n * sizeof(*out)) < 0)
		return c->w.error;
	return ckpt_semadj_write(c, id, n);
}

/* ---- message queues ---- */

/*
 * Every message of queue id into buf as the record's tail (struct
 * img_msg, text, padding): its length, or -errno.  No MSG_NOERROR: a
 * message that does not fit the room left is E2BIG, never cut short.
 */
static long msg_copy_all(int id, unsigned char *buf, size_t cap, uint32_t *nmsgs,
			 uint64_t *bytes)
{
	size_t at = 0;

	*nmsgs = 0;
	*bytes = 0;
	for (long i = 0;; i++) {
		struct img_msg h;
		long n;

		if (at + sizeof(h) + 8 > cap)
			return -E2BIG;
		/* {long mtype; text} lands so that mtype fills h.len's place */
		n = arch_sys5(SYS_msgrcv, id, buf + at + 8, cap - at - sizeof(h), i,
			      MSG_COPY | IPC_NOWAIT);
		if (n == -ENOMSG)
			return (long)at;
		if (n < 0)
			return n;
		__builtin_memcpy(&h.type, buf + at + 8, 8);
		h.len = (uint64_t)n;
		__builtin_memcpy(buf + at, &h, sizeof(h));
		at += sizeof(h) + (size_t)n;
		while (at % 8)
			buf[at++] = 0;
		(*nmsgs)++;
		*bytes += (uint64_t)n;
	}
}

static int sysv_msg(struct sysv_walk *w, const int64_t *f)
{
	struct ckpt_ctx *c = w->c;
	int id = (int)f[1];
	uint64_t cbytes = (uint64_t)f[3];
	struct img_sysv_msg m = { .perm = sysv_perm(f, 7, w->ns), .lspid = (int32_t)f[5],
				  .lrpid = (int32_t)f[6], .stime = f[11], .rtime = f[12],
				  .ctime = f[13] };
	struct msqid_ds ds;		/* glibc's is the kernel's msqid64_ds on x86_64 */
	long len;

	if (cbytes + (uint64_t)f[4] * 24 + 8 > WORK_MAX)
		return ckpt_fail(c, -E2BIG, "%s %d (key 0x%x) holds %llu bytes in %lld messages; "
				 "libckpt saves at most %u MiB of one queue", sysv_what[SYSV_MSG],
				 id, (unsigned)m.perm.key, (unsigned long long)cbytes,
				 (long long)f[4], WORK_MAX >> 20);
	len = arch_sys3(SYS_msgctl, id, IPC_STAT, &ds);
	if (len == 0)
		len = msg_copy_all(id, c->mbuf, WORK_MAX, &m.nmsgs, &m.bytes);
	if (len == -ENOSYS)
		return ckpt_fail(c, -ENOSYS, "%s %d (key 0x%x): this kernel cannot read its "
				 "messages without taking them (msgrcv MSG_COPY needs "
				 "CONFIG_CHECKPOINT_RESTORE)", sysv_what[SYSV_MSG], id,
				 (unsigned)m.perm.key);
	if (len < 0)
		return ckpt_fail(c, (int)len, "%s %d (key 0x%x): cannot read its messages to "
				 "save them (%s)%s", sysv_what[SYSV_MSG], id, (unsigned)m.perm.key,
				 ckpt_strerror((int)-len), len == -EACCES ? "; the process needs "
				 "read permission on it" : "");
	m.qbytes = ds.msg_qbytes;
	if (!w->write)
		return 0;
	return img_write_record(&c->w, IMG_REC_SYSV_MSG, &m, sizeof(m), c->mbuf, (size_t)len) < 0 ?
	       c->w.error : 0;
}

/* ---- the walk ---- */

static int sysv_type(struct sysv_walk *w, int type)
{
	struct ckpt_ctx *c = w->c;
	char *text = (char *)c->mbuf + TEXT_OFF;
	ssize_t len = ckpt_read_file(sysv_file[type], text, TEXT_MAX);
	const char *s, *end;

	if (len == -ENOENT)
		return 0;		/* no SysV IPC in this kernel: nothing to save */
	if (len < 0)
		return ckpt_fail(c, (int)len, "cannot read %s: %s", sysv_file[type],
				 ckpt_strerror((int)-len));
	end = text + len;
	for (s = text; s < end; ) {
		const char *eol = s;
		int64_t f[16];
		int r = 0;

		while (eol < end && *eol != '\n')
			eol++;
		if (sysv_fields(s, eol, f, sysv_nfields[type]) == 0 &&
		    sysv_wanted(w, type, (int)f[1])) {
			if (type == SYSV_SHM)
				r = sysv_shm(w, f);
			else if (type == SYSV_SEM)
				r = sysv_sem(w, f);
			else
				r = sysv_msg(w, f);
			if (r < 0)
				return c->error ? c->error : r;
		}
		s = eol + 1;
	}
	return 0;
}

/*
 * Every attach names a segment of the namespace: one that is not there
 * was attached in another IPC namespace (the process has called unshare
 * or setns since), and no restart could attach it again.
 */
static int sysv_attaches_known(struct ckpt_ctx *c)
{
	const char *text = (const char *)c->mbuf + TEXT_OFF;
	ssize_t len = ckpt_read_file(sysv_file[SYSV_SHM], (char *)c->mbuf + TEXT_OFF, TEXT_MAX);

	for (int i = 0; i < c->nvmas; i++) {
		const struct ckpt_vma *v = &c->vmas[i];
		const char *s = text, *end = text + (len > 0 ? len : 0);
		int found = 0;

		if (v->byid != CKPT_BYID_SYSV)
			continue;
		while (!found && s < end) {
			const char *eol = s;
			int64_t f[16];

			while (eol < end && *eol != '\n')
				eol++;
			found = sysv_fields(s, eol, f, 16) == 0 && f[1] == (int64_t)v->ino;
			s = eol + 1;
		}
		if (!found)
			return ckpt_fail(c, -ENOENT, "mapping %lx-%lx: SysV shared memory segment "
					 "%llu is not in the process's IPC namespace (attached before "
					 "an unshare or setns?); a restart could not attach it again",
					 (unsigned long)v->start, (unsigned long)v->end,
					 (unsigned long long)v->ino);
	}
	return 0;
}

static int reg_any(enum reg_ipc_type t, int id, void *arg)
{
	return 1;
}

/*
 * Whether any object can be wanted (sysv_wanted): a namespace of our own,
 * a segment attached, or an id the wrappers saw.  Most processes have
 * none, and then the /proc/sysvipc files (seven reads a checkpoint, ~30
 * us: issue #15) hold nothing of theirs.
 */
static int sysv_any(const struct sysv_walk *w)
{
	if (w->ns || reg_ipc_full() || reg_ipc_each(reg_any, NULL))
		return 1;
	for (int i = 0; i < w->c->nvmas; i++)
		if (w->c->vmas[i].byid == CKPT_BYID_SYSV)
			return 1;
	return 0;
}

static int sysv_pass(struct ckpt_ctx *c, int write)
{
	struct sysv_walk w = { c, write, ckpt_ipc_ns_flag() };

	if (!sysv_any(&w))
		return 0;
	if (!write && reg_ipc_full())
		return ckpt_fail(c, -E2BIG, "the process used more than %d SysV IPC ids; libckpt "
				 "keeps %d and would lose the others", REG_IPC_MAX, REG_IPC_MAX);
	if (!write && sysv_attaches_known(c) < 0)
		return c->error;
	for (int type = SYSV_SHM; type <= SYSV_MSG; type++)
		if (sysv_type(&w, type) < 0)
			return c->error ? c->error : c->w.error;
	return 0;
}

int ckpt_sysv_check(struct ckpt_ctx *c)
{
	return sysv_pass(c, 0);
}

int ckpt_sysv_write(struct ckpt_ctx *c)
{
	return sysv_pass(c, 1);
}
