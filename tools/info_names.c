/*
 * info_names.c - names of flags, signals, limits and kinds (ckpt-info).
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

/* ---- names ---- */

const char *info_signame(int sig, char *buf, size_t n)
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

void info_sig_fields(const struct img_siginfo *q, struct info_sig *f)
{
	/* the kernel's siginfo: signo, errno, code, pad, then the union */
	memcpy(&f->signo, q->info, 4);
	memcpy(&f->code, q->info + 8, 4);
	memcpy(&f->pid, q->info + 16, 4);
	memcpy(&f->uid, q->info + 20, 4);
	memcpy(&f->value, q->info + 24, 8);
}

const char *info_timer_kind(const struct img_timer *t)
{
	static const char *const it[] = { "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF" };

	return t->kind == IMG_TIMER_ITIMER && t->id >= 0 && t->id < 3 ? it[t->id] : "POSIX";
}

const char *info_timer_notify(const struct img_timer *t)
{
	switch (t->notify) {
	case IMG_SIGEV_NONE:      return "none";
	case IMG_SIGEV_THREAD:    return "thread";
	case IMG_SIGEV_THREAD_ID: return "thread-id";
	default:                  return "signal";
	}
}

const char *info_rlimit_name(int i)
{
	static const char *names[IMG_NRLIMIT] = {
		"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC",
		"NOFILE", "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE",
		"NICE", "RTPRIO", "RTTIME",
	};
	return names[i];
}


const char *info_ioprio_class(uint32_t ioprio)
{
	static const char *const names[4] = { "none", "realtime", "best-effort", "idle" };

	return names[(ioprio >> 13) & 3];
}

const char *info_mce_kill(uint32_t v)
{
	return v == 0 ? "late" : v == 1 ? "early" : "default";
}

void info_bitlist(const uint64_t *mask, int words, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int c = 0; c < words * 64; c++) {
		int e = c;

		if (!((mask[c / 64] >> (c % 64)) & 1))
			continue;
		while (e + 1 < words * 64 && ((mask[(e + 1) / 64] >> ((e + 1) % 64)) & 1))
			e++;
		if (len + 24 >= n)
			break;
		len += (size_t)snprintf(buf + len, n - len, e > c ? "%s%d-%d" : "%s%d",
					len ? "," : "", c, e);
		c = e;
	}
}

const struct info_flag info_membarrier_flags[] = {
	{ 4, "GLOBAL_EXPEDITED" }, { 16, "PRIVATE_EXPEDITED" },
	{ 64, "PRIVATE_EXPEDITED_SYNC_CORE" }, { 256, "PRIVATE_EXPEDITED_RSEQ" },
	{ 0, NULL }
};

const struct info_flag info_securebits_flags[] = {
	{ 0x1, "NOROOT" }, { 0x2, "NOROOT_LOCKED" }, { 0x4, "NO_SETUID_FIXUP" },
	{ 0x8, "NO_SETUID_FIXUP_LOCKED" }, { 0x10, "KEEP_CAPS" }, { 0x20, "KEEP_CAPS_LOCKED" },
	{ 0x40, "NO_CAP_AMBIENT_RAISE" }, { 0x80, "NO_CAP_AMBIENT_RAISE_LOCKED" },
	{ 0x100, "EXEC_RESTRICT_FILE" }, { 0x200, "EXEC_RESTRICT_FILE_LOCKED" },
	{ 0x400, "EXEC_DENY_INTERACTIVE" }, { 0x800, "EXEC_DENY_INTERACTIVE_LOCKED" },
	{ 0, NULL }
};

const struct info_flag info_sa_flags[] = {
	{ 0x00000001, "SA_NOCLDSTOP" }, { 0x00000002, "SA_NOCLDWAIT" },
	{ 0x00000004, "SA_SIGINFO" },   { 0x04000000, "SA_RESTORER" },
	{ 0x08000000, "SA_ONSTACK" },   { 0x10000000, "SA_RESTART" },
	{ 0x40000000, "SA_NODEFER" },   { 0x80000000, "SA_RESETHAND" },
	{ 0, NULL },
};

const struct info_flag info_open_flags[] = {
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

const char *info_fd_kind(uint32_t kind)
{
	switch (kind) {
	case IMG_FILE_REG:     return "file";
	case IMG_FILE_DIR:     return "dir";
	case IMG_FILE_CHR:     return "dev";
	case IMG_FILE_INHERIT: return "inherited";
	case IMG_FILE_OPATH:   return "opath";
	case IMG_FILE_GHOST:   return "ghost";
	case IMG_FILE_MEMFD:   return "memfd";
	case IMG_FILE_PIDFD:   return "pidfd";
	case IMG_FILE_HUGETLB: return "hugetlb";
	case IMG_FILE_PIPE:    return "pipe";
	case IMG_FILE_FIFO:    return "fifo";
	case IMG_FILE_MQUEUE:  return "mqueue";
	case IMG_FILE_UNIX:    return "unix";
	case IMG_FILE_PSHM:    return "pshm";
	case IMG_FILE_EVENTFD: return "eventfd";
	case IMG_FILE_TIMERFD: return "timerfd";
	case IMG_FILE_SIGNALFD: return "signalfd";
	case IMG_FILE_INOTIFY: return "inotify";
	case IMG_FILE_EPOLL:   return "epoll";
	case IMG_FILE_TTY:     return "tty";
	case IMG_FILE_INET:    return "inet";
	case IMG_FILE_NETLINK: return "netlink";
	default:               return "?";
	}
}

int info_fd_shared_with(const struct info *in, const struct info_fd *f)
{
	int low = -1;

	for (size_t i = 0; i < in->nfd; i++) {
		const struct info_fd *o = &in->fds[i];

		if (o != f && o->file == f->file && (low < 0 || o->d.fd < low))
			low = o->d.fd;
	}
	return low;
}

int info_file_fd(const struct info *in, uint32_t id)
{
	int low = -1;

	for (size_t i = 0; i < in->nfd; i++)
		if (in->files[in->fds[i].file].f.id == id && (low < 0 || in->fds[i].d.fd < low))
			low = in->fds[i].d.fd;
	return low;
}

const struct info_file *info_file(const struct info *in, uint32_t id)
{
	for (size_t i = 0; i < in->nfile; i++)
		if (in->files[i].f.id == id)
			return &in->files[i];
	return NULL;
}

const char *info_accmode(uint32_t flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY: return "O_RDONLY";
	case O_WRONLY: return "O_WRONLY";
	case O_RDWR:   return "O_RDWR";
	default:       return "O_ACCMODE";
	}
}

const struct info_flag info_vma_attrs[] = {
	{ IMG_VMA_ATTR_DONTFORK, "dc" },
	{ IMG_VMA_ATTR_DONTDUMP, "dd" },
	{ IMG_VMA_ATTR_HUGEPAGE, "hg" },
	{ IMG_VMA_ATTR_NOHUGEPAGE, "nh" },
	{ IMG_VMA_ATTR_WIPEONFORK, "wf" },
	{ IMG_VMA_ATTR_MERGEABLE, "mg" },
	{ IMG_VMA_ATTR_SEQUENTIAL, "sr" },
	{ IMG_VMA_ATTR_RANDOM, "rr" },
	{ IMG_VMA_ATTR_LOCKED, "lo" },
	{ IMG_VMA_ATTR_LOCKONFAULT, "lf" },
	{ IMG_VMA_ATTR_NORESERVE, "nr" },
	{ IMG_VMA_ATTR_SEALED, "sl" },
	{ IMG_VMA_ATTR_MAYWRITE, "mw" },
	{ 0, NULL },
};

/* What a VMA is, when it has no path of its own. */
const char *info_vma_kind(const struct img_vma *v)
{
	if (v->flags & IMG_VMA_HEAP)        return "[heap]";
	if (v->flags & IMG_VMA_STACK)       return "[stack]";
	if (v->flags & IMG_VMA_VDSO)        return "[vdso]";
	if (v->flags & IMG_VMA_VVAR_VCLOCK) return "[vvar_vclock]";
	if (v->flags & IMG_VMA_VVAR)        return "[vvar]";
	if (v->flags & IMG_VMA_FILE)        return "file";
	if (v->flags & IMG_VMA_TREESHM)     return "shared (pages in an earlier process's part)";
	return "anon";
}

void info_perm(const struct img_vma *v, char out[5])
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
size_t info_utf8_len(const unsigned char *p, size_t n, size_t i)
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

const char *info_key_id(const struct img_seal *s, char *buf)
{
	for (size_t i = 0; i < sizeof(s->key_id); i++)
		sprintf(buf + 2 * i, "%02x", s->key_id[i]);
	return buf;
}
