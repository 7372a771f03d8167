/*
 * img_records.c - the checks of the process's own records (PROC, THREAD,
 * SIGINFO, TIMER, VMA, MEMBER, PAGES, PARENT): each getter returns the
 * record's fixed struct once every field and tail is bounded and
 * consistent, or NULL after img_fail.  The stream they come from is
 * img_read.c's; the kinds of open file have theirs in img_files.c, fds/
 * and the other img_*.c.  The reader trusts nothing (img_read.c's notes).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "libckpt/img.h"

#define IMG_PATH_MAX		4096u
#define IMG_FPSTATE_MAX		(64u << 10)
#define IMG_USER_END		0x800000000000ull	/* x86_64 4-level user VA */
#define IMG_VMA_ALL_FLAGS	0x7ffu

static unsigned long long img_ull(uint64_t v)
{
	return (unsigned long long)v;
}

static const char *img_type_name(uint32_t type)
{
	switch (type) {
	case IMG_REC_PROC:   return "PROC";
	case IMG_REC_FILE:   return "FILE";
	case IMG_REC_FD:     return "FD";
	case IMG_REC_LOCK:   return "LOCK";
	case IMG_REC_EPOLL_ITEM: return "EPOLL_ITEM";
	case IMG_REC_FILE_DATA: return "FILE_DATA";
	case IMG_REC_PIPE_DATA: return "PIPE_DATA";
	case IMG_REC_SYSV_SHM: return "SYSV_SHM";
	case IMG_REC_SYSV_SEM: return "SYSV_SEM";
	case IMG_REC_SYSV_MSG: return "SYSV_MSG";
	case IMG_REC_MQ_MSGS: return "MQ_MSGS";
	case IMG_REC_INOTIFY_WATCH: return "INOTIFY_WATCH";
	case IMG_REC_PTY_DATA: return "PTY_DATA";
	case IMG_REC_INET_QUEUE: return "INET_QUEUE";
	case IMG_REC_UNIX_MSG: return "UNIX_MSG";
	case IMG_REC_THREAD: return "THREAD";
	case IMG_REC_VMA:    return "VMA";
	case IMG_REC_PAGES:  return "PAGES";
	case IMG_REC_PARENT: return "PARENT";
	case IMG_REC_MPAGES: return "MPAGES";
	case IMG_REC_SIGINFO: return "SIGINFO";
	case IMG_REC_TIMER:  return "TIMER";
	case IMG_REC_PROC_ATTR: return "PROC_ATTR";
	case IMG_REC_SECCOMP: return "SECCOMP";
	case IMG_REC_PAD:    return "PAD";
	case IMG_REC_MLOCK:  return "MLOCK";
	case IMG_REC_MEMBER: return "MEMBER";
	case IMG_REC_BACKTRACE: return "BACKTRACE";
	case IMG_REC_END:    return "END";
	default:             return "unknown";
	}
}

/* The fixed struct of a record of `type`, or NULL (reported). */
const void *img_get_fixed(struct img_reader *r, const struct img_rec *rec, uint32_t type,
			  size_t fixed)
{
	if (rec->type != type) {
		img_fail(r, IMG_ERR_CORRUPT, "record at offset %llu is %s, expected %s",
			 img_ull(rec->offset), img_type_name(rec->type), img_type_name(type));
		return NULL;
	}
	if (rec->len < fixed || !rec->data) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "%s record at offset %llu is too short (%llu bytes, at least %zu)",
			 img_type_name(type), img_ull(rec->offset), img_ull(rec->len), fixed);
		return NULL;
	}
	return rec->data;
}

/* rec->len must be the fixed struct plus tail bytes (64-bit sums). */
static int img_check_len(struct img_reader *r, const struct img_rec *rec,
			 size_t fixed, uint64_t tail)
{
	if (rec->len != fixed + tail)
		return img_fail(r, IMG_ERR_CORRUPT,
				"%s record at offset %llu is corrupt: %llu payload bytes, its fields say %llu",
				img_type_name(rec->type), img_ull(rec->offset),
				img_ull(rec->len), img_ull(fixed + tail));
	return 0;
}

/* A path of len bytes: at most IMG_PATH_MAX, no NUL inside (not stored). */
static int img_check_path(struct img_reader *r, const struct img_rec *rec,
			  const char *what, const void *path, uint32_t len)
{
	if (len > IMG_PATH_MAX)
		return img_fail(r, IMG_ERR_CORRUPT,
				"%s record at offset %llu is corrupt: %s is %u bytes long (limit %u)",
				img_type_name(rec->type), img_ull(rec->offset), what, len, IMG_PATH_MAX);
	if (path && memchr(path, 0, len))
		return img_fail(r, IMG_ERR_CORRUPT,
				"%s record at offset %llu is corrupt: %s contains a NUL byte",
				img_type_name(rec->type), img_ull(rec->offset), what);
	return 0;
}

const struct img_proc *img_get_proc(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_proc *p = img_get_fixed(r, rec, IMG_REC_PROC, sizeof(*p));
	const char *tail;

	if (!p)
		return NULL;
	tail = (const char *)(p + 1);
	if (p->ngroups > IMG_NGROUPS_MAX || p->reserved) {
		img_fail(r, IMG_ERR_CORRUPT, "PROC record at offset %llu is corrupt: %s",
			 img_ull(rec->offset), p->reserved ? "reserved field is not zero" :
			 "more supplementary groups than the kernel allows");
		return NULL;
	}
	if (img_check_path(r, rec, "cwd", NULL, p->cwd_len) < 0 ||
	    img_check_path(r, rec, "exe path", NULL, p->exe_len) < 0 ||
	    img_check_len(r, rec, sizeof(*p), (uint64_t)p->cwd_len + p->exe_len +
			  (uint64_t)p->ngroups * 4) < 0 ||
	    img_check_path(r, rec, "cwd", tail, p->cwd_len) < 0 ||
	    img_check_path(r, rec, "exe path", tail + p->cwd_len, p->exe_len) < 0)
		return NULL;
	if (p->pid <= 0) {
		img_fail(r, IMG_ERR_CORRUPT, "PROC record at offset %llu is corrupt: pid %d",
			 img_ull(rec->offset), p->pid);
		return NULL;
	}
	if (p->auxv_words > IMG_AUXV_MAX) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "PROC record at offset %llu is corrupt: %u auxv words (limit %u)",
			 img_ull(rec->offset), p->auxv_words, IMG_AUXV_MAX);
		return NULL;
	}
	return p;
}

/* FILE, FD, FILE_DATA and PIPE_DATA: img_files.c */

const struct img_thread *img_get_thread(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_thread *t = img_get_fixed(r, rec, IMG_REC_THREAD, sizeof(*t));

	if (!t)
		return NULL;
	if (t->fpstate_len > IMG_FPSTATE_MAX) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "THREAD record at offset %llu is corrupt: fpstate is %u bytes (limit %u)",
			 img_ull(rec->offset), t->fpstate_len, IMG_FPSTATE_MAX);
		return NULL;
	}
	if (img_check_len(r, rec, sizeof(*t), t->fpstate_len) < 0)
		return NULL;
	if (t->tid <= 0) {
		img_fail(r, IMG_ERR_CORRUPT, "THREAD record at offset %llu is corrupt: tid %d",
			 img_ull(rec->offset), t->tid);
		return NULL;
	}
	if (img_check_thread_attr(r, rec, t) < 0)	/* img_attr.c */
		return NULL;
	return t;
}

const struct img_siginfo *img_get_siginfo(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_siginfo *q = img_get_fixed(r, rec, IMG_REC_SIGINFO, sizeof(*q));
	int32_t signo;

	if (!q || img_check_len(r, rec, sizeof(*q), 0) < 0)
		return NULL;
	__builtin_memcpy(&signo, q->info, sizeof(signo));
	/* SIGKILL and SIGSTOP are never left pending for a process to see */
	if (signo < 1 || signo > IMG_NSIG || signo == 9 || signo == 19 || q->tid < 0 ||
	    q->reserved) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "SIGINFO record at offset %llu is corrupt: signal %d, tid %d, reserved %u",
			 img_ull(rec->offset), signo, q->tid, q->reserved);
		return NULL;
	}
	return q;
}

const struct img_timer *img_get_timer(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_timer *t = img_get_fixed(r, rec, IMG_REC_TIMER, sizeof(*t));
	int ok;

	if (!t || img_check_len(r, rec, sizeof(*t), 0) < 0)
		return NULL;
	if (t->kind == IMG_TIMER_ITIMER)
		ok = t->id >= 0 && t->id <= 2 && !t->clock && !t->notify && !t->signo &&
		     !t->notify_tid && !t->sigval;
	else if (t->kind == IMG_TIMER_POSIX)
		ok = t->id >= 0 &&
		     (t->notify == IMG_SIGEV_NONE ? !t->signo :
		      t->signo >= 1 && t->signo <= IMG_NSIG) &&
		     (t->notify == IMG_SIGEV_THREAD_ID ? t->notify_tid > 0 :
		      (t->notify == IMG_SIGEV_SIGNAL || t->notify == IMG_SIGEV_NONE ||
		       t->notify == IMG_SIGEV_THREAD) && !t->notify_tid);
	else
		ok = 0;
	if (!ok) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "TIMER record at offset %llu is corrupt: kind %u, id %d, notify %d, signal %d, "
			 "tid %d", img_ull(rec->offset), t->kind, t->id, t->notify, t->signo,
			 t->notify_tid);
		return NULL;
	}
	return t;
}

const struct img_vma *img_get_vma(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_vma *v = img_get_fixed(r, rec, IMG_REC_VMA, sizeof(*v));

	if (!v)
		return NULL;
	if (v->nguards > IMG_VMA_GUARDS_MAX) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "VMA record at offset %llu is corrupt: %u guard regions (limit %u)",
			 img_ull(rec->offset), v->nguards, IMG_VMA_GUARDS_MAX);
		return NULL;
	}
	if (img_check_path(r, rec, "path", NULL, v->path_len) < 0 ||
	    img_check_len(r, rec, sizeof(*v),
			  (uint64_t)v->path_len + (uint64_t)v->nguards * sizeof(struct img_range)) < 0 ||
	    img_check_path(r, rec, "path", v + 1, v->path_len) < 0)
		return NULL;
	/* vsyscall (0xffffffffff600000) is never recorded: the kernel
	 * provides it in every process, so user space is the whole range. */
	if (v->start >= v->end || v->end > IMG_USER_END ||
	    v->start % IMG_PAGE_SIZE || v->end % IMG_PAGE_SIZE) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "VMA record at offset %llu is corrupt: bad range 0x%llx-0x%llx",
			 img_ull(rec->offset), img_ull(v->start), img_ull(v->end));
		return NULL;
	}
	if (v->prot & ~7u) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "VMA record at offset %llu is corrupt: unknown prot bits 0x%x",
			 img_ull(rec->offset), v->prot);
		return NULL;
	}
	if (v->flags & ~IMG_VMA_ALL_FLAGS) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "VMA record at offset %llu is corrupt: unknown flags 0x%x",
			 img_ull(rec->offset), v->flags & ~IMG_VMA_ALL_FLAGS);
		return NULL;
	}
	/* A FILE's mapping: of a file (GHOST, MEMFD) or anonymous (HUGETLB),
	 * never a special one; which kind the FILE is, the caller checks. */
	if (v->file && (!(v->flags & IMG_VMA_FILE) == !(v->flags & IMG_VMA_ANON) ||
			(v->flags & (IMG_VMA_HEAP | IMG_VMA_STACK | IMG_VMA_VDSO | IMG_VMA_VVAR |
				     IMG_VMA_VVAR_VCLOCK | IMG_VMA_GROWSDOWN)))) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "VMA record at offset %llu is corrupt: flags 0x%x cannot map file %u",
			 img_ull(rec->offset), v->flags, v->file);
		return NULL;
	}
	/* another member's shared anonymous memory: mapped, never paged here */
	if ((v->flags & IMG_VMA_TREESHM) &&
	    (!(r->hdr.flags & IMG_F_MEMBER) || v->file ||
	     (v->flags & (IMG_VMA_SHARED | IMG_VMA_ANON | IMG_VMA_PAGES | IMG_VMA_FILE)) !=
	     (IMG_VMA_SHARED | IMG_VMA_ANON) || v->pgoff % IMG_PAGE_SIZE)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "VMA record at offset %llu is corrupt: flags 0x%x cannot name shared memory "
			 "of another process", img_ull(rec->offset), v->flags);
		return NULL;
	}
	if (img_check_vma_attrs(r, rec, v) < 0 || img_check_vma_sysv(r, rec, v) < 0)
		return NULL;		/* img_memattr.c, img_ipc.c */
	return v;
}

const struct img_member *img_get_member(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_member *m = img_get_fixed(r, rec, IMG_REC_MEMBER, sizeof(*m));
	const char *bad = NULL;

	if (!m)
		return NULL;
	if (!(r->hdr.flags & IMG_F_TREE))
		bad = "it is not in a tree's directory";
	else if (img_check_len(r, rec, sizeof(*m), 0) < 0)
		return NULL;
	/* 0: outside the tree's pid namespace (ckpt-run --pidns: the root's own) */
	else if (m->pid <= 0 || m->ppid < 0 || m->pgid < 0 || m->sid < 0)
		bad = "bad pid, ppid, pgid or sid";
	else if (m->flags & ~IMG_MEMBER_FLAGS)
		bad = "unknown flags";
	else if (m->reserved)
		bad = "reserved field is not zero";
	else if ((m->flags & IMG_MEMBER_ZOMBIE) ? m->section != -1 ||
		 (m->flags & IMG_MEMBER_STOPPED) || (m->exit_code != 1 && m->exit_code != 2 &&
		 m->exit_code != 3) || m->exit_status < 0 ||
		 (m->exit_code == 1 ? m->exit_status > 255 : m->exit_status > 64)
		 : m->section < 0 || m->exit_code || m->exit_status)
		bad = "its exit status does not fit what it is";
	else if ((m->flags & IMG_MEMBER_STOPPED) ? m->stop_sig < 1 || m->stop_sig > 64 : m->stop_sig)
		bad = "its stop signal does not fit what it is";
	if (bad) {
		img_fail(r, IMG_ERR_CORRUPT, "MEMBER record at offset %llu is corrupt: %s",
			 img_ull(rec->offset), bad);
		return NULL;
	}
	return m;
}


const struct img_pages *img_get_pages(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_pages *p = img_get_fixed(r, rec, IMG_REC_PAGES, sizeof(*p));
	uint64_t dlen, raw;

	if (!p)
		return NULL;
	if (p->npages == 0 || p->npages > IMG_PAGES_MAX) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "PAGES record at offset %llu is corrupt: %u pages (must be 1..%u)",
			 img_ull(rec->offset), p->npages, IMG_PAGES_MAX);
		return NULL;
	}
	raw = (uint64_t)p->npages * IMG_PAGE_SIZE;
	if (p->addr % IMG_PAGE_SIZE || p->addr >= IMG_USER_END ||
	    raw > IMG_USER_END - p->addr) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "PAGES record at offset %llu is corrupt: bad address 0x%llx",
			 img_ull(rec->offset), img_ull(p->addr));
		return NULL;
	}
	if (p->reserved[0] || p->reserved[1] || p->reserved[2]) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "PAGES record at offset %llu is corrupt: reserved bytes are not zero",
			 img_ull(rec->offset));
		return NULL;
	}
	dlen = rec->len - sizeof(*p);
	switch (p->codec) {
	case IMG_CODEC_RAW:
		if (dlen == raw)
			return p;
		break;
	case IMG_CODEC_ZERO:
		if (dlen == 0)
			return p;
		break;
	case IMG_CODEC_SNAPPY:
		if (dlen >= 1 && dlen <= img_snappy_bound((size_t)raw))
			return p;
		break;
	default:
		img_fail(r, IMG_ERR_CORRUPT,
			 "PAGES record at offset %llu is corrupt: unknown codec %u",
			 img_ull(rec->offset), p->codec);
		return NULL;
	}
	img_fail(r, IMG_ERR_CORRUPT,
		 "PAGES record at offset %llu is corrupt: %llu data bytes for %u pages (codec %u)",
		 img_ull(rec->offset), img_ull(dlen), p->npages, p->codec);
	return NULL;
}

/*
 * PARENT: ranges sorted, disjoint, page aligned, in user space; a
 * non-empty path.  Whether the ranges lie in this image's VMAs is the
 * restart's check (it has the VMAs).
 */
const struct img_parent *img_get_parent(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_parent *p = img_get_fixed(r, rec, IMG_REC_PARENT, sizeof(*p));
	const struct img_range *rg;
	uint64_t prev_end = 0;

	if (!p)
		return NULL;
	rg = (const struct img_range *)(p + 1);
	if (p->nranges > IMG_PARENT_RANGES_MAX) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "PARENT record at offset %llu is corrupt: %u inherited ranges (limit %u)",
			 img_ull(rec->offset), p->nranges, IMG_PARENT_RANGES_MAX);
		return NULL;
	}
	if (img_check_path(r, rec, "parent path", NULL, p->path_len) < 0 ||
	    img_check_len(r, rec, sizeof(*p),
			  (uint64_t)p->nranges * sizeof(*rg) + p->path_len) < 0 ||
	    img_check_path(r, rec, "parent path", (const char *)(rg + p->nranges),
			   p->path_len) < 0)
		return NULL;
	if (p->path_len == 0) {
		img_fail(r, IMG_ERR_CORRUPT, "PARENT record at offset %llu is corrupt: empty path",
			 img_ull(rec->offset));
		return NULL;
	}
	for (uint32_t i = 0; i < p->nranges; i++) {
		if (rg[i].start >= rg[i].end || rg[i].end > IMG_USER_END ||
		    rg[i].start % IMG_PAGE_SIZE || rg[i].end % IMG_PAGE_SIZE ||
		    (i && rg[i].start < prev_end)) {
			img_fail(r, IMG_ERR_CORRUPT,
				 "PARENT record at offset %llu is corrupt: inherited range %u "
				 "(0x%llx-0x%llx) is bad or out of order", img_ull(rec->offset), i,
				 img_ull(rg[i].start), img_ull(rg[i].end));
			return NULL;
		}
		prev_end = rg[i].end;
	}
	return p;
}
