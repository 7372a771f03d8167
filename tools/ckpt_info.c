/*
 * ckpt-info - what a libckpt image holds, for people and for scripts.
 *
 *   ckpt-info [--json] [--no-verify] IMAGE      (IMAGE "-" is stdin)
 *
 * The whole image is read and checked before anything is printed, so a
 * corrupt image prints one error line and nothing else (a half summary of
 * a broken image would look like a good one).  Page data is decoded, to
 * prove it restores, unless --no-verify.
 *
 * Beyond what the reader checks record by record, ckpt-info checks what
 * spans records: the record order PROC, FD*, THREAD+, VMA*, PAGES*, that
 * memory areas do not overlap and that every page run lies inside one.
 *
 * Exit status: 0 ok, 1 usage, 2 unreadable or corrupt, 3 incompatible
 * (another arch, a newer format, another page size).
 *
 * Cost: one pass over the image; memory is the record metadata (one
 * struct per fd, thread and area) plus one 256 KiB page-run buffer.
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
#include "libckpt/img.h"

#define INFO_EXIT_USAGE		1
#define INFO_EXIT_CORRUPT	2
#define INFO_EXIT_INCOMPAT	3

struct info_str {
	char *s;
	size_t n;
};

struct info_fd {
	struct img_fd f;
	struct info_str path;
};

struct info_vma {
	struct img_vma v;
	struct info_str path;
	uint64_t pages;		/* page runs' pages stored for it */
	uint64_t zero_pages;	/* of which ZERO codec */
	uint64_t raw;		/* bytes those pages hold in memory */
	uint64_t stored;	/* bytes of page data in the image */
};

struct info {
	const char *name;
	int verify;
	struct img_header hdr;
	uint64_t image_bytes;
	struct img_proc proc;
	struct info_str cwd, exe;
	struct img_thread *thr;
	size_t nthr;
	struct info_fd *fds;
	size_t nfd;
	struct info_vma *vmas;
	size_t nvma;
	size_t nsorted;		/* vmas[0..nsorted) sorted and checked */
	uint64_t mapped, pages, zero_pages, raw, stored;
	char err[320];
};

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

static void *info_grow(void *p, size_t n, size_t size)
{
	/* Doubling: called with n == count so far, grows at powers of 2. */
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
	size_t lo = 0, hi = in->nvma;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < in->vmas[mid].v.start)
			hi = mid;
		else if (addr >= in->vmas[mid].v.end)
			lo = mid + 1;
		else
			return &in->vmas[mid];
	}
	return NULL;
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
	v->pages += p->npages;
	v->raw += raw;
	v->stored += dlen;
	if (p->codec == IMG_CODEC_ZERO)
		v->zero_pages += p->npages;
	return 0;
}

/* Record order rank: PROC, FD*, THREAD+, VMA*, PAGES* (img_format.h). */
static int info_rank(uint32_t type)
{
	switch (type) {
	case IMG_REC_PROC:   return 0;
	case IMG_REC_FD:     return 1;
	case IMG_REC_THREAD: return 2;
	case IMG_REC_VMA:    return 3;
	default:             return 4;
	}
}

static const char *info_rec_name(uint32_t type)
{
	static const char *names[] = { "?", "PROC", "FD", "THREAD", "VMA", "PAGES" };

	return type < 6 ? names[type] : "?";
}

static int info_add(struct info *in, struct img_reader *r, const struct img_rec *rec,
		    int *last_rank)
{
	int rank = info_rank(rec->type);

	if (*last_rank < 0 ? rank != 0 :
	    rank == 0 ||			/* a second PROC */
	    rank < *last_rank ||		/* going back */
	    (rank > 2 && *last_rank < 2))	/* VMA or PAGES before THREAD */
		return info_fail(in, "record at offset %llu (%s) is out of order: "
				 "expected PROC, FD*, THREAD+, VMA*, PAGES*",
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
		return 0;
	}
	case IMG_REC_FD: {
		const struct img_fd *f = img_get_fd(r, rec);

		if (!f)
			return -1;
		in->fds = info_grow(in->fds, in->nfd, sizeof(*in->fds));
		in->fds[in->nfd].f = *f;
		in->fds[in->nfd].path = info_dup(f + 1, f->path_len);
		in->nfd++;
		return 0;
	}
	case IMG_REC_THREAD: {
		const struct img_thread *t = img_get_thread(r, rec);

		if (!t)
			return -1;
		in->thr = info_grow(in->thr, in->nthr, sizeof(*in->thr));
		in->thr[in->nthr++] = *t;
		return 0;
	}
	case IMG_REC_VMA: {
		const struct img_vma *v = img_get_vma(r, rec);
		struct info_vma *iv;

		if (!v)
			return -1;
		in->vmas = info_grow(in->vmas, in->nvma, sizeof(*in->vmas));
		iv = &in->vmas[in->nvma++];
		memset(iv, 0, sizeof(*iv));
		iv->v = *v;
		iv->path = info_dup(v + 1, v->path_len);
		return 0;
	}
	case IMG_REC_PAGES:
		return info_add_pages(in, r, rec);
	default:	/* the reader refuses unknown types */
		return info_fail(in, "record at offset %llu has unexpected type %u",
				 (unsigned long long)rec->offset, rec->type);
	}
}

/* Reads and checks the whole image: 0, or an exit status with in->err. */
static int info_load(struct info *in, int fd)
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
	in->hdr = r.hdr;
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
	} else if (last_rank < 2) {
		snprintf(in->err, sizeof(in->err), "image has no %s record",
			 last_rank < 0 ? "PROC" : "THREAD");
		rc = INFO_EXIT_CORRUPT;
	} else {
		in->image_bytes = r.nbytes + sizeof(struct img_rec_hdr) + sizeof(struct img_end);
		if (info_sort_vmas(in) < 0)
			rc = INFO_EXIT_CORRUPT;
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

static void info_free(struct info *in)
{
	free(in->cwd.s);
	free(in->exe.s);
	for (size_t i = 0; i < in->nfd; i++)
		free(in->fds[i].path.s);
	for (size_t i = 0; i < in->nvma; i++)
		free(in->vmas[i].path.s);
	free(in->fds);
	free(in->thr);
	free(in->vmas);
}

/* ---- names ---- */

static const char *info_signame(int sig, char *buf, size_t n)
{
	static const char *names[32] = {
		NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP",
		"SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV",
		"SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
		"SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU",
		"SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
		"SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
	};

	if (sig >= 1 && sig < 32)
		return names[sig];
	/* glibc reserves 32 and 33; its SIGRTMIN is 34. */
	if (sig >= 34)
		snprintf(buf, n, "SIGRTMIN+%d", sig - 34);
	else
		snprintf(buf, n, "SIG%d", sig);
	return buf;
}

static const char *info_rlimit_name(int i)
{
	static const char *names[IMG_NRLIMIT] = {
		"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC",
		"NOFILE", "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE",
		"NICE", "RTPRIO", "RTTIME",
	};
	return names[i];
}

struct info_flag {
	uint64_t bit;
	const char *name;
};

static const struct info_flag info_sa_flags[] = {
	{ 0x00000001, "SA_NOCLDSTOP" }, { 0x00000002, "SA_NOCLDWAIT" },
	{ 0x00000004, "SA_SIGINFO" },   { 0x04000000, "SA_RESTORER" },
	{ 0x08000000, "SA_ONSTACK" },   { 0x10000000, "SA_RESTART" },
	{ 0x40000000, "SA_NODEFER" },   { 0x80000000, "SA_RESETHAND" },
	{ 0, NULL },
};

static const struct info_flag info_open_flags[] = {
	{ O_CREAT, "O_CREAT" },       { O_EXCL, "O_EXCL" },
	{ O_NOCTTY, "O_NOCTTY" },     { O_TRUNC, "O_TRUNC" },
	{ O_APPEND, "O_APPEND" },     { O_NONBLOCK, "O_NONBLOCK" },
	{ O_SYNC, "O_SYNC" },         { O_DSYNC, "O_DSYNC" },
	{ O_ASYNC, "O_ASYNC" },       { O_DIRECT, "O_DIRECT" },
	{ O_LARGEFILE, "O_LARGEFILE" }, { O_DIRECTORY, "O_DIRECTORY" },
	{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
	{ O_CLOEXEC, "O_CLOEXEC" },   { O_PATH, "O_PATH" },
	{ 0, NULL },
};

static const char *info_fd_kind(uint32_t kind)
{
	switch (kind) {
	case IMG_FD_REG: return "file";
	case IMG_FD_DIR: return "dir";
	case IMG_FD_CHR: return "chr";
	default:         return "?";
	}
}

static const char *info_accmode(uint32_t flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY: return "O_RDONLY";
	case O_WRONLY: return "O_WRONLY";
	case O_RDWR:   return "O_RDWR";
	default:       return "O_ACCMODE";
	}
}

/* What a VMA is, when it has no path of its own. */
static const char *info_vma_kind(const struct img_vma *v)
{
	if (v->flags & IMG_VMA_HEAP)        return "[heap]";
	if (v->flags & IMG_VMA_STACK)       return "[stack]";
	if (v->flags & IMG_VMA_VDSO)        return "[vdso]";
	if (v->flags & IMG_VMA_VVAR_VCLOCK) return "[vvar_vclock]";
	if (v->flags & IMG_VMA_VVAR)        return "[vvar]";
	if (v->flags & IMG_VMA_FILE)        return "file";
	return "anon";
}

static void info_perm(const struct img_vma *v, char out[5])
{
	out[0] = v->prot & 1 ? 'r' : '-';
	out[1] = v->prot & 2 ? 'w' : '-';
	out[2] = v->prot & 4 ? 'x' : '-';
	out[3] = v->flags & IMG_VMA_SHARED ? 's' : 'p';
	out[4] = 0;
}

/*
 * Length of the well-formed UTF-8 sequence at p[i] (i < n) that encodes a
 * non-ASCII character, or 0: overlong forms, surrogates and code points
 * past U+10FFFF are not well formed.
 */
static size_t info_utf8_len(const unsigned char *p, size_t n, size_t i)
{
	unsigned char c = p[i];
	uint32_t cp;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)      { len = 2; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
	else return 0;
	if (i + len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[i + k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i + k] & 0x3f);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

/* ---- text output ---- */

/* Bytes of s: printable ASCII and well-formed UTF-8 as they are, every
 * other byte (control characters, broken UTF-8, backslash) as \xNN, so
 * that one item stays on one line whatever a path contains. */
static void txt_str(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n; ) {
		size_t len = p[i] >= 0x80 ? info_utf8_len(p, n, i) : 0;

		if (len) {
			fwrite(p + i, 1, len, stdout);
			i += len;
		} else if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\') {
			printf("\\x%02x", p[i++]);
		} else {
			putchar(p[i++]);
		}
	}
}

static void txt_size(uint64_t b)
{
	if (b < 10240)
		printf("%llu B", (unsigned long long)b);
	else if (b < 10ull << 20)
		printf("%.1f KiB", b / 1024.0);
	else if (b < 10ull << 30)
		printf("%.1f MiB", b / 1048576.0);
	else
		printf("%.1f GiB", b / 1073741824.0);
}

static void txt_flags(uint64_t v, const struct info_flag *f)
{
	int any = 0;

	for (; f->name; f++)
		if ((v & f->bit) == f->bit && f->bit) {
			printf("%s%s", any ? "|" : "", f->name);
			v &= ~f->bit;
			any = 1;
		}
	if (v)
		printf("%s0x%llx", any ? "|" : "", (unsigned long long)v);
	else if (!any)
		printf("0");
}

static void txt_sigset(uint64_t set)
{
	char buf[32];
	int any = 0;

	for (int s = 1; s <= 64; s++)
		if (set & (1ull << (s - 1))) {
			printf("%s%s", any ? " " : "", info_signame(s, buf, sizeof(buf)));
			any = 1;
		}
	if (!any)
		printf("none");
}

static void txt_time(uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	char buf[64];

	if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		printf("%s.%09llu UTC", buf, (unsigned long long)(ns % 1000000000u));
	else
		printf("%llu ns", (unsigned long long)ns);
}

static void txt_print(const struct info *in)
{
	const struct img_header *h = &in->hdr;
	const struct img_proc *p = &in->proc;
	char buf[32];

	printf("image:     %s, %llu bytes, format version %u, x86_64, %u-byte pages\n",
	       in->name, (unsigned long long)in->image_bytes, h->version, h->page_size);
	printf("created:   ");
	txt_time(h->ctime_ns);
	printf("\nkernel:    ");
	txt_str(h->kernel, strnlen(h->kernel, sizeof(h->kernel)));
	printf("\npid:       %d\n", h->pid);
	printf("flags:     %s", h->flags & IMG_F_SELF ?
	       "self (taken by ckpt_save() in the process)" : "none (taken from outside)");
	if (h->flags & IMG_F_PIDNS)
		printf(", pidns (pid %d of its own user+pid namespace: ckpt-restart makes "
		       "a new one)", h->pid);
	printf("\n");

	printf("\nprocess:   ");
	txt_str(p->comm, strnlen(p->comm, sizeof(p->comm)));
	printf("  pid %d  ppid %d  pgid %d  sid %d  uid %u  gid %u\n",
	       p->pid, p->ppid, p->pgid, p->sid, p->uid, p->gid);
	printf("  cwd:     ");
	txt_str(in->cwd.s, in->cwd.n);
	printf("\n  exe:     ");
	txt_str(in->exe.s, in->exe.n);
	printf("\n  umask:   %04o\n", p->umask);
	printf("  threads: %u   checkpoint signal: %s (%d)\n", p->nthreads,
	       p->ckpt_signal > 0 ? info_signame(p->ckpt_signal, buf, sizeof(buf)) : "none",
	       p->ckpt_signal);
	printf("  mm:      code 0x%llx-0x%llx  data 0x%llx-0x%llx  brk 0x%llx-0x%llx\n",
	       (unsigned long long)p->mm.start_code, (unsigned long long)p->mm.end_code,
	       (unsigned long long)p->mm.start_data, (unsigned long long)p->mm.end_data,
	       (unsigned long long)p->mm.start_brk, (unsigned long long)p->mm.brk);
	printf("           stack 0x%llx  args 0x%llx-0x%llx  env 0x%llx-0x%llx\n",
	       (unsigned long long)p->mm.start_stack,
	       (unsigned long long)p->mm.arg_start, (unsigned long long)p->mm.arg_end,
	       (unsigned long long)p->mm.env_start, (unsigned long long)p->mm.env_end);
	printf("  auxv:    %u words\n", p->auxv_words);
	printf("  rlimits (not unlimited):");
	int any = 0;
	for (int i = 0; i < IMG_NRLIMIT; i++) {
		const struct img_rlimit *l = &p->rlim[i];

		if (l->cur == ~0ull && l->max == ~0ull)
			continue;
		printf("\n    %-11s soft ", info_rlimit_name(i));
		l->cur == ~0ull ? printf("unlimited") : printf("%llu", (unsigned long long)l->cur);
		printf("  hard ");
		l->max == ~0ull ? printf("unlimited") : printf("%llu", (unsigned long long)l->max);
		any = 1;
	}
	printf("%s\n", any ? "" : " none");
	printf("  signal handlers (not SIG_DFL):");
	any = 0;
	for (int s = 1; s <= IMG_NSIG; s++) {
		const struct img_sigaction *a = &p->sigact[s - 1];

		if (a->handler == 0)
			continue;
		printf("\n    %-12s ", info_signame(s, buf, sizeof(buf)));
		if (a->handler == 1) {
			printf("SIG_IGN");
		} else {
			printf("handler 0x%llx  flags ", (unsigned long long)a->handler);
			txt_flags(a->flags, info_sa_flags);
			printf("  mask ");
			txt_sigset(a->mask);
		}
		any = 1;
	}
	printf("%s\n", any ? "" : " none");
	printf("  pending: ");
	txt_sigset(p->sigpending);
	printf("\n");

	printf("\nthreads (%zu):\n", in->nthr);
	for (size_t i = 0; i < in->nthr; i++) {
		const struct img_thread *t = &in->thr[i];

		printf("  tid %d%s  rip 0x%llx  rsp 0x%llx  fs_base 0x%llx\n", t->tid,
		       t->flags & IMG_THREAD_LEADER ? " (leader)" : "",
		       (unsigned long long)t->gregs[REG_RIP], (unsigned long long)t->gregs[REG_RSP],
		       (unsigned long long)t->fs_base);
		printf("    blocked: ");
		txt_sigset(t->sigmask);
		printf("\n    pending: ");
		txt_sigset(t->sigpending);
		printf("\n    rseq: ");
		if (t->rseq_len)
			printf("0x%llx (%u bytes, sig 0x%x)", (unsigned long long)t->rseq_addr,
			       t->rseq_len, t->rseq_sig);
		else
			printf("none");
		printf("  xstate: %u bytes (xfeatures 0x%llx)\n", t->fpstate_len,
		       (unsigned long long)t->xfeatures);
	}

	printf("\nfds (%zu):\n", in->nfd);
	for (size_t i = 0; i < in->nfd; i++) {
		const struct info_fd *f = &in->fds[i];

		printf("  %3d  %-4s  ", f->f.fd, info_fd_kind(f->f.kind));
		txt_str(f->path.s, f->path.n);
		printf("  flags %s", info_accmode(f->f.flags));
		if (f->f.flags & ~(uint32_t)O_ACCMODE) {
			printf("|");
			txt_flags(f->f.flags & ~(uint32_t)O_ACCMODE, info_open_flags);
		}
		printf("%s  offset %lld", f->f.fdflags & FD_CLOEXEC ? " cloexec" : "",
		       (long long)f->f.pos);
		if (f->f.shared_with >= 0)
			printf("  (same open file as fd %d)", f->f.shared_with);
		printf("\n");
	}

	printf("\nmemory map (%zu areas):\n", in->nvma);
	printf("  %-33s %-4s %10s %7s %10s %10s  %s\n", "range", "perm", "size",
	       "pages", "raw", "stored", "what");
	for (size_t i = 0; i < in->nvma; i++) {
		const struct info_vma *v = &in->vmas[i];
		char perm[5];

		info_perm(&v->v, perm);
		printf("  %016llx-%016llx %-4s %10llu %7llu %10llu %10llu  ",
		       (unsigned long long)v->v.start, (unsigned long long)v->v.end, perm,
		       (unsigned long long)(v->v.end - v->v.start),
		       (unsigned long long)v->pages, (unsigned long long)v->raw,
		       (unsigned long long)v->stored);
		if (v->path.n)
			txt_str(v->path.s, v->path.n);
		else
			printf("%s", info_vma_kind(&v->v));
		if (v->zero_pages)
			printf("  (%llu zero pages)", (unsigned long long)v->zero_pages);
		printf("\n");
	}

	printf("\ntotals:\n  mapped:    ");
	txt_size(in->mapped);
	printf(" in %zu areas\n", in->nvma);
	printf("  stored:    %llu pages (%llu of them zero, no data)\n",
	       (unsigned long long)in->pages, (unsigned long long)in->zero_pages);
	printf("  page data: ");
	txt_size(in->raw);
	printf(" in memory, ");
	txt_size(in->stored);
	printf(" in the image");
	if (in->stored)
		printf(" (ratio %.2f:1)", (double)in->raw / (double)in->stored);
	printf("\n  image:     ");
	txt_size(in->image_bytes);
	printf("\n  verified:  %s\n", in->verify ? "all page data decodes" :
	       "page data not decoded (--no-verify)");
}

/* ---- JSON output ---- */

/*
 * A JSON string of n bytes.  Valid UTF-8 passes through; control bytes
 * are escaped; a byte that is not part of valid UTF-8 becomes U+FFFD,
 * since JSON text must be Unicode (paths on Linux need not be).
 */
static void json_str(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (size_t i = 0; i < n; ) {
		unsigned char c = p[i];
		size_t len;

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': printf("\\n"); break;
			case '\t': printf("\\t"); break;
			case '\r': printf("\\r"); break;
			default:   printf("\\u%04x", c); break;
			}
			i++;
			continue;
		}
		if (c < 0x80) {
			putchar(c);
			i++;
			continue;
		}
		len = info_utf8_len(p, n, i);
		if (len) {
			fwrite(p + i, 1, len, stdout);
			i += len;
		} else {
			printf("\\ufffd");
			i++;
		}
	}
	putchar('"');
}

static void json_cstr(const char *s)
{
	json_str(s, strlen(s));
}

static void json_sigset(uint64_t set)
{
	char buf[32];
	int any = 0;

	putchar('[');
	for (int s = 1; s <= 64; s++)
		if (set & (1ull << (s - 1))) {
			printf("%s", any ? ", " : "");
			json_cstr(info_signame(s, buf, sizeof(buf)));
			any = 1;
		}
	putchar(']');
}

static void json_flags(uint64_t v, const struct info_flag *f, const char *first)
{
	int any = 0;

	putchar('[');
	if (first) {
		json_cstr(first);
		any = 1;
	}
	for (; f->name; f++)
		if ((v & f->bit) == f->bit && f->bit) {
			printf("%s", any ? ", " : "");
			json_cstr(f->name);
			v &= ~f->bit;
			any = 1;
		}
	if (v)
		printf("%s\"0x%llx\"", any ? ", " : "", (unsigned long long)v);
	putchar(']');
}

#define U(x) ((unsigned long long)(x))

static void json_print(const struct info *in)
{
	const struct img_header *h = &in->hdr;
	const struct img_proc *p = &in->proc;
	char buf[64];
	time_t t = (time_t)(h->ctime_ns / 1000000000u);
	struct tm tm;

	printf("{\n  \"image\": {\"path\": ");
	json_cstr(in->name);
	printf(", \"bytes\": %llu, \"version\": %u, \"arch\": \"x86_64\", \"page_size\": %u,\n",
	       U(in->image_bytes), h->version, h->page_size);
	printf("    \"pid\": %d, \"ctime_ns\": %llu, \"created\": ", h->pid, U(h->ctime_ns));
	if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		printf("\"%s.%09lluZ\"", buf, U(h->ctime_ns % 1000000000u));
	else
		printf("null");
	printf(", \"kernel\": ");
	json_str(h->kernel, strnlen(h->kernel, sizeof(h->kernel)));
	printf(", \"flags\": [%s%s%s]},\n", h->flags & IMG_F_SELF ? "\"self\"" : "",
	       (h->flags & IMG_F_SELF) && (h->flags & IMG_F_PIDNS) ? ", " : "",
	       h->flags & IMG_F_PIDNS ? "\"pidns\"" : "");

	printf("  \"process\": {\"comm\": ");
	json_str(p->comm, strnlen(p->comm, sizeof(p->comm)));
	printf(", \"pid\": %d, \"ppid\": %d, \"pgid\": %d, \"sid\": %d, \"uid\": %u, \"gid\": %u,\n",
	       p->pid, p->ppid, p->pgid, p->sid, p->uid, p->gid);
	printf("    \"cwd\": ");
	json_str(in->cwd.s, in->cwd.n);
	printf(", \"exe\": ");
	json_str(in->exe.s, in->exe.n);
	printf(", \"umask\": %u, \"nthreads\": %u, \"ckpt_signal\": %d, \"auxv_words\": %u,\n",
	       p->umask, p->nthreads, p->ckpt_signal, p->auxv_words);
	printf("    \"mm\": {\"start_code\": %llu, \"end_code\": %llu, \"start_data\": %llu, "
	       "\"end_data\": %llu, \"start_brk\": %llu, \"brk\": %llu, \"start_stack\": %llu, "
	       "\"arg_start\": %llu, \"arg_end\": %llu, \"env_start\": %llu, \"env_end\": %llu},\n",
	       U(p->mm.start_code), U(p->mm.end_code), U(p->mm.start_data), U(p->mm.end_data),
	       U(p->mm.start_brk), U(p->mm.brk), U(p->mm.start_stack), U(p->mm.arg_start),
	       U(p->mm.arg_end), U(p->mm.env_start), U(p->mm.env_end));
	printf("    \"rlimits\": {");
	int any = 0;
	for (int i = 0; i < IMG_NRLIMIT; i++) {
		const struct img_rlimit *l = &p->rlim[i];

		if (l->cur == ~0ull && l->max == ~0ull)
			continue;
		printf("%s\"%s\": {\"cur\": ", any ? ", " : "", info_rlimit_name(i));
		l->cur == ~0ull ? printf("null") : printf("%llu", U(l->cur));
		printf(", \"max\": ");
		l->max == ~0ull ? printf("null") : printf("%llu", U(l->max));
		printf("}");
		any = 1;
	}
	printf("},\n    \"sigactions\": [");
	any = 0;
	for (int s = 1; s <= IMG_NSIG; s++) {
		const struct img_sigaction *a = &p->sigact[s - 1];

		if (a->handler == 0)
			continue;
		printf("%s\n      {\"signal\": %d, \"name\": ", any ? "," : "", s);
		json_cstr(info_signame(s, buf, sizeof(buf)));
		if (a->handler == 1)
			printf(", \"handler\": \"SIG_IGN\"");
		else
			printf(", \"handler\": %llu", U(a->handler));
		printf(", \"flags\": ");
		json_flags(a->flags, info_sa_flags, NULL);
		printf(", \"restorer\": %llu, \"mask\": ", U(a->restorer));
		json_sigset(a->mask);
		printf("}");
		any = 1;
	}
	printf("],\n    \"pending\": ");
	json_sigset(p->sigpending);
	printf("},\n");

	printf("  \"threads\": [");
	for (size_t i = 0; i < in->nthr; i++) {
		const struct img_thread *th = &in->thr[i];

		printf("%s\n    {\"tid\": %d, \"leader\": %s, \"rip\": %llu, \"rsp\": %llu, "
		       "\"fs_base\": %llu, \"gs_base\": %llu,\n     \"blocked\": ",
		       i ? "," : "", th->tid, th->flags & IMG_THREAD_LEADER ? "true" : "false",
		       U(th->gregs[REG_RIP]), U(th->gregs[REG_RSP]), U(th->fs_base),
		       U(th->gs_base));
		json_sigset(th->sigmask);
		printf(", \"pending\": ");
		json_sigset(th->sigpending);
		if (th->rseq_len)
			printf(", \"rseq\": {\"addr\": %llu, \"len\": %u, \"sig\": %u}",
			       U(th->rseq_addr), th->rseq_len, th->rseq_sig);
		else
			printf(", \"rseq\": null");
		printf(", \"xstate_bytes\": %u, \"xfeatures\": %llu}", th->fpstate_len,
		       U(th->xfeatures));
	}
	printf("\n  ],\n  \"fds\": [");
	for (size_t i = 0; i < in->nfd; i++) {
		const struct info_fd *f = &in->fds[i];

		printf("%s\n    {\"fd\": %d, \"kind\": \"%s\", \"path\": ", i ? "," : "",
		       f->f.fd, info_fd_kind(f->f.kind));
		json_str(f->path.s, f->path.n);
		printf(", \"flags\": ");
		json_flags(f->f.flags & ~(uint32_t)O_ACCMODE, info_open_flags,
			   info_accmode(f->f.flags));
		printf(", \"cloexec\": %s, \"offset\": %lld, \"shared_with\": %d}",
		       f->f.fdflags & FD_CLOEXEC ? "true" : "false", (long long)f->f.pos,
		       f->f.shared_with);
	}
	printf("\n  ],\n  \"vmas\": [");
	for (size_t i = 0; i < in->nvma; i++) {
		const struct info_vma *v = &in->vmas[i];
		char perm[5];

		info_perm(&v->v, perm);
		printf("%s\n    {\"start\": %llu, \"end\": %llu, \"perm\": \"%s\", \"kind\": ",
		       i ? "," : "", U(v->v.start), U(v->v.end), perm);
		json_cstr(info_vma_kind(&v->v));
		printf(", \"path\": ");
		if (v->path.n)
			json_str(v->path.s, v->path.n);
		else
			printf("null");
		printf(", \"size\": %llu, \"pages\": %llu, \"zero_pages\": %llu, "
		       "\"raw_bytes\": %llu, \"stored_bytes\": %llu}",
		       U(v->v.end - v->v.start), U(v->pages), U(v->zero_pages), U(v->raw),
		       U(v->stored));
	}
	printf("\n  ],\n  \"totals\": {\"mapped_bytes\": %llu, \"vmas\": %zu, \"pages\": %llu, "
	       "\"zero_pages\": %llu, \"raw_bytes\": %llu, \"stored_bytes\": %llu, ",
	       U(in->mapped), in->nvma, U(in->pages), U(in->zero_pages), U(in->raw),
	       U(in->stored));
	if (in->stored)
		printf("\"ratio\": %.3f, ", (double)in->raw / (double)in->stored);
	else
		printf("\"ratio\": null, ");
	printf("\"image_bytes\": %llu, \"verified\": %s}\n}\n", U(in->image_bytes),
	       in->verify ? "true" : "false");
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr, "usage: ckpt-info [--json] [--no-verify] IMAGE\n"
		"  IMAGE may be - for standard input\n");
}

int main(int argc, char **argv)
{
	struct info in;
	const char *path = NULL;
	int json = 0, fd, rc;

	memset(&in, 0, sizeof(in));
	in.verify = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--no-verify"))
			in.verify = 0;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return 0;
		} else if (!strcmp(argv[i], "--") && i + 2 == argc && !path)
			path = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ckpt-info: unknown option %s\n", argv[i]);
			usage();
			return INFO_EXIT_USAGE;
		} else if (path) {
			usage();
			return INFO_EXIT_USAGE;
		} else
			path = argv[i];
	}
	if (!path) {
		usage();
		return INFO_EXIT_USAGE;
	}
	in.name = path;

	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "ckpt-info: %s: cannot open: %s\n", path, strerror(errno));
			return INFO_EXIT_CORRUPT;
		}
	}
	rc = info_load(&in, fd);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc) {
		fprintf(stderr, "ckpt-info: %s: %s\n", path, in.err);
		info_free(&in);
		return rc;
	}
	if (json)
		json_print(&in);
	else
		txt_print(&in);
	info_free(&in);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ckpt-info: cannot write the summary: %s\n", strerror(errno));
		return INFO_EXIT_CORRUPT;
	}
	return 0;
}
