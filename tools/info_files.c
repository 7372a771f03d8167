/*
 * info_files.c - ckpt-info's view of the files an image makes again:
 * the checks that need more than one record (a FILE's same_as, a POSIX
 * shm object's first FILE, a VMA's file, a FILE_DATA's FILE, order and
 * bounds, a PIPE_DATA's pipe and its bytes), the contents counted (and
 * decoded when verifying), and the kinds' data in words and in JSON.  The
 * same checks as ckpt-restart's (restart_load.c, restart_fdata.c,
 * restart_pipe.c).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include "fds/fd_kind.h"
#include "tools/info.h"

#define PAGE	IMG_PAGE_SIZE

__attribute__((format(printf, 2, 3)))
static int ff_fail(struct info *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->err, sizeof(in->err), fmt, ap);
	va_end(ap);
	return -1;
}

const struct info_file *info_file_by_id(const struct info *in, uint32_t id)
{
	for (size_t i = 0; i < in->nfile; i++)
		if (in->files[i].f.id == id)
			return &in->files[i];
	return NULL;
}

/* GHOST, MEMFD, MQUEUE, PIPE, FIFO: the id of the FILE carrying the file or pipe (0: itself); else 0. */
static uint32_t same_as(const struct info_file *f)
{
	return fd_same_as(&f->f, f->data.n ? f->data.s : NULL);
}

/* PSHM: its kind data (all zero if it is not one) */
static struct img_file_pshm pshm_of(const struct info_file *f)
{
	struct img_file_pshm m = { 0 };

	if (f->f.kind == IMG_FILE_PSHM && f->data.n >= sizeof(m))
		memcpy(&m, f->data.s, sizeof(m));
	return m;
}

static int holds_contents(const struct info_file *f)
{
	if (f->f.kind == IMG_FILE_PSHM)
		return !!(pshm_of(f).flags & IMG_PSHM_DATA);
	return (f->f.kind == IMG_FILE_GHOST || f->f.kind == IMG_FILE_MEMFD) && !same_as(f);
}

/* The first PSHM FILE of f's object (dev, ino) other than f, in this section or an earlier one. */
static const struct info_file *pshm_first(const struct info *in, const struct info_file *f)
{
	for (int j = 0; in->tree && j <= in->section; j++) {
		const struct info *o = j < in->section ? &in->tree->sections[j] : in;

		for (size_t i = 0; i < o->nfile; i++)
			if (&o->files[i] != f && o->files[i].owner < 0 &&
			    o->files[i].f.kind == IMG_FILE_PSHM && o->files[i].f.dev == f->f.dev &&
			    o->files[i].f.ino == f->f.ino)
				return &o->files[i];
	}
	for (size_t i = 0; !in->tree && i < in->nfile; i++)
		if (&in->files[i] != f && in->files[i].f.kind == IMG_FILE_PSHM &&
		    in->files[i].f.dev == f->f.dev && in->files[i].f.ino == f->f.ino)
			return &in->files[i];
	return NULL;
}

/*
 * A POSIX shm object's FILEs (as restart_load.c checks them): the first
 * of an object carries its contents, no later one does, each later one
 * has its path.
 */
static int pshm_check(struct info *in, const struct info_file *f, uint64_t off)
{
	const struct info_file *o = pshm_first(in, f);
	int data = holds_contents(f);

	if (data ? !o : o && holds_contents(o) && o->path.n == f->path.n &&
	    !memcmp(o->path.s, f->path.s, f->path.n))
		return 0;
	return ff_fail(in, "FILE record at offset %llu: file %u (POSIX shared memory object) %s",
		       (unsigned long long)off, f->f.id, data ? "carries the contents of an object "
		       "an earlier file has" : "is of no object an earlier file of the same name "
		       "carries the contents of");
}

/*
 * f's same_as names an earlier FILE of its kind and object: in a tree,
 * maybe an earlier section's (info_file_get copies it in, which may move
 * in->files: f is not used after it).
 */
int info_file_check(struct info *in, const struct info_file *f, uint64_t off)
{
	const struct img_file me = f->f;
	const struct info_file *o;
	uint32_t id = same_as(f);

	if (f->f.kind == IMG_FILE_PSHM)
		return pshm_check(in, f, off);
	if (!id)
		return 0;
	o = info_file_get(in, id);
	if (!o || o->f.id == me.id || o->f.kind != me.kind || same_as(o) || o->f.dev != me.dev ||
	    o->f.ino != me.ino)
		return ff_fail(in, "FILE record at offset %llu: file %u is said to be file %u again, "
			       "which is not an earlier one of the same file",
			       (unsigned long long)off, me.id, id);
	return 0;
}

int info_vma_file_check(struct info *in, const struct img_vma *v, uint64_t off)
{
	struct info_file *f = v->file ? info_file_get(in, v->file) : NULL;
	int ok;

	if (!v->file)
		return 0;
	if (!f) {
		ok = 0;
	} else if (v->flags & IMG_VMA_ANON) {
		struct img_file_hugetlb h;

		ok = f->f.kind == IMG_FILE_HUGETLB;
		if (ok) {
			memcpy(&h, f->data.s, sizeof(h));
			ok = !(v->start & ((1ull << h.page_shift) - 1)) &&
			     !(v->end & ((1ull << h.page_shift) - 1));
		}
	} else {
		ok = f->f.kind == IMG_FILE_PSHM || holds_contents(f);	/* (a PSHM: any FILE of it) */
	}
	if (!ok)
		return ff_fail(in, "VMA record at offset %llu: mapping 0x%llx-0x%llx maps file %u, "
			       "which no FILE record before it is or which cannot be mapped so",
			       (unsigned long long)off, (unsigned long long)v->start,
			       (unsigned long long)v->end, v->file);
	f->nmaps++;
	return 0;
}

int info_add_file_data(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	static unsigned char dst[IMG_FILE_CHUNK];
	const struct img_file_data *d = img_get_file_data(r, rec);
	unsigned long long off = rec->offset;
	struct info_file *f;
	char err[256];

	if (!d)
		return -1;
	f = in->fdata_file ? (struct info_file *)info_file_by_id(in, in->fdata_file) : NULL;
	if (!f || f->f.id != d->file || !holds_contents(f))
		return ff_fail(in, "FILE_DATA record at offset %llu: contents of file %u do not follow "
			       "a deleted file, memfd or POSIX shm object that holds its contents",
			       off, d->file);
	if ((f->data_bytes && d->offset < f->end) || d->offset + d->len > (uint64_t)f->f.size ||
	    (d->len % PAGE && d->offset + d->len != (uint64_t)f->f.size))
		return ff_fail(in, "FILE_DATA record at offset %llu: %llu bytes at %llu overlap others "
			       "or lie outside the %lld bytes of file %u", off,
			       (unsigned long long)d->len, (unsigned long long)d->offset,
			       (long long)f->f.size, d->file);
	if (in->verify && img_file_data_decode(d, d + 1, rec->len - sizeof(*d), dst, err,
					       sizeof(err)) < 0)
		return ff_fail(in, "FILE_DATA record at offset %llu: %s", off, err);
	if (!f->data_bytes || d->offset != f->end)
		f->extents++;
	f->data_bytes += d->len;
	f->stored += rec->len - sizeof(*d);
	f->end = d->offset + d->len;
	return 0;
}

int info_add_pipe_data(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	const struct img_pipe_data *d = img_get_pipe_data(r, rec);
	struct info_file *f;
	char err[160];

	if (!d)
		return -1;
	f = in->fdata_file ? (struct info_file *)info_file_by_id(in, in->fdata_file) : NULL;
	if (img_pipe_data_next(f ? &f->f : NULL, f ? f->data.s : NULL, d, f ? f->data_bytes : 0,
			       err, sizeof(err)) < 0)
		return ff_fail(in, "PIPE_DATA record at offset %llu: %s",
			       (unsigned long long)rec->offset, err);
	f->data_bytes += d->len;
	f->stored += d->len;
	f->packets += !!(d->flags & IMG_PIPE_PACKET);
	f->extents++;
	return 0;
}

int info_add_pty_data(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	struct info_file *f = in->fdata_file ? (struct info_file *)info_file_by_id(in, in->fdata_file)
					     : NULL;
	const struct img_pty_data *d = img_get_pty_data(r, rec, f ? &f->f : NULL,
							f ? f->data.s : NULL);

	if (!d)
		return -1;
	if (f->data_bytes)
		return ff_fail(in, "PTY_DATA record at offset %llu: a second one for FILE %u",
			       (unsigned long long)rec->offset, d->file);
	f->data_bytes = f->stored = d->len;
	f->extents = 1;
	return 0;
}

int info_pipe_data_end(struct info *in)
{
	const struct info_file *f = in->fdata_file ? info_file_by_id(in, in->fdata_file) : NULL;
	char err[160];

	if (f && img_pipe_data_end(&f->f, f->data.s, f->data_bytes, err, sizeof(err)) < 0)
		return ff_fail(in, "%s", err);
	return 0;
}

/* F_SEAL_* names, in bit order */
static const char *const seal_names[] = { "seal", "shrink", "grow", "write", "future_write", "exec" };

static size_t seals_text(uint32_t seals, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 6; i++)
		if (seals & (1u << i))
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", seal_names[i]);
	if (!n)
		snprintf(buf, len, "none");
	return n;
}

void info_file_desc(const struct info *in, const struct info_file *f, char *buf, size_t len)
{
	char seals[80];

	buf[0] = '\0';
	if (info_evfd_desc(f, buf, len))
		return;
	switch (f->f.kind) {
	case IMG_FILE_UNIX:
		info_unix_desc(in, f, buf, len);
		return;
	case IMG_FILE_INET:
	case IMG_FILE_NETLINK:
		info_inet_desc(f, buf, len);
		return;
	case IMG_FILE_GHOST:
	case IMG_FILE_MEMFD: {
		struct img_file_memfd m = { 0 };
		size_t n = 0;

		if (f->f.kind == IMG_FILE_MEMFD) {
			char name[IMG_MEMFD_NAME_MAX + 1];

			memcpy(&m, f->data.s, sizeof(m));
			/* one line whatever the name holds */
			for (uint32_t i = 0; i <= m.name_len; i++)
				name[i] = i == m.name_len ? '\0' :
					  (unsigned char)f->data.s[sizeof(m) + i] < 0x20 ||
					  f->data.s[sizeof(m) + i] == 0x7f ? '?' : f->data.s[sizeof(m) + i];
			seals_text(m.seals, seals, sizeof(seals));
			n = snprintf(buf, len, "memfd \"%s\", seals %s%s, mode %o, ", name, seals,
				     m.hugetlb_shift == 21 ? ", 2 MiB huge pages" :
				     m.hugetlb_shift == 30 ? ", 1 GiB huge pages" : "", f->f.mode & 0777);
		} else {
			n = snprintf(buf, len, "deleted file, mode %o, ", f->f.mode & 0777);
		}
		if (n >= len)
			return;
		if (same_as(f))
			snprintf(buf + n, len - n, "the same file as file %u", same_as(f));
		else
			snprintf(buf + n, len - n, "%lld bytes, %llu bytes of data in %u extents, %llu "
				 "bytes in the image", (long long)f->f.size,
				 (unsigned long long)f->data_bytes, f->extents,
				 (unsigned long long)f->stored);
		return;
	}
	case IMG_FILE_PIDFD: {
		struct img_file_pidfd p;

		memcpy(&p, f->data.s, sizeof(p));
		snprintf(buf, len, "pidfd of pid %d%s%s", p.pid,
			 (f->f.flags & O_EXCL) ? " (PIDFD_THREAD)" : "",
			 (f->f.flags & O_NONBLOCK) ? " (PIDFD_NONBLOCK)" : "");
		return;
	}
	case IMG_FILE_HUGETLB: {
		struct img_file_hugetlb h;

		memcpy(&h, f->data.s, sizeof(h));
		snprintf(buf, len, "anonymous huge pages of %llu kB", 1ull << (h.page_shift - 10));
		return;
	}
	case IMG_FILE_PIPE:
	case IMG_FILE_FIFO: {
		struct img_file_pipe p;
		const char *end = (f->f.flags & O_ACCMODE) == O_RDONLY ? "read end" :
				  (f->f.flags & O_ACCMODE) == O_WRONLY ? "write end" : "both ends";
		size_t n;

		memcpy(&p, f->data.s, sizeof(p));
		n = snprintf(buf, len, "%s of a %s%s%s, ", end, f->f.kind == IMG_FILE_PIPE ? "pipe" : "FIFO",
			     (f->f.flags & O_DIRECT) ? ", packets (O_DIRECT)" : "",
			     (p.flags & IMG_PIPE_NOHUP) ? ", has seen no writer" : "");
		if (n >= len)
			return;
		if (p.same_as)
			snprintf(buf + n, len - n, "the same pipe as file %u", p.same_as);
		else
			n += snprintf(buf + n, len - n, "capacity %u bytes, %llu bytes in flight",
				      p.capacity, (unsigned long long)p.bytes);
		if (!p.same_as && f->packets && n < len)
			snprintf(buf + n, len - n, " (%u packet%s)", f->packets,
				 f->packets == 1 ? "" : "s");
		return;
	}
	case IMG_FILE_EPOLL: {
		struct img_file_epoll e;

		memcpy(&e, f->data.s, sizeof(e));
		snprintf(buf, len, "epoll instance, %u item%s%s", e.nitems, e.nitems == 1 ? "" : "s",
			 (f->f.flags & O_NONBLOCK) ? ", O_NONBLOCK" : "");
		return;
	}
	case IMG_FILE_MQUEUE:
		info_ipc_mq_desc(f, buf, len);
		return;
	case IMG_FILE_TTY: {
		struct img_file_tty t;
		const char *mode;
		size_t n;

		memcpy(&t, f->data.s, sizeof(t));
		mode = (t.termios.lflag & ICANON) ? ((t.termios.lflag & ECHO) ? "canonical, echo" :
						     "canonical, no echo") :
		       (t.termios.lflag & ECHO) ? "raw, echo" : "raw, no echo";
		if (t.role == IMG_TTY_MASTER) {
			n = snprintf(buf, len, "master of pty %u, %ux%u%s%s (made again with the same "
				     "number)", t.index, t.ws_col, t.ws_row,
				     (t.flags & IMG_TTY_PKT) ? ", packet mode" : "",
				     (t.flags & IMG_TTY_LOCKED) ? ", locked" : "");
			if (n < len && f->data_bytes)
				snprintf(buf + n, len - n, ", %llu bytes of output it had not read",
					 (unsigned long long)f->data_bytes);
			return;
		}
		if (t.role == IMG_TTY_SLAVE)
			n = snprintf(buf, len, "slave of pty %u, %ux%u, %s", t.index, t.ws_col,
				     t.ws_row, mode);
		else
			n = snprintf(buf, len, "%s%s %u:%u, %ux%u, %s",
				     t.role == IMG_TTY_DEVTTY ? "/dev/tty of " : "",
				     t.tclass == IMG_TTY_VT ? "virtual console" : "pty", t.major,
				     t.minor, t.ws_col, t.ws_row, mode);
		if (n < len && (t.flags & IMG_TTY_CTTY))
			n += snprintf(buf + n, len - n, ", controlling terminal of session %d, "
				      "foreground group %d", t.sid, t.fg_pgid);
		if (n < len && t.role != IMG_TTY_SLAVE)
			snprintf(buf + n, len - n, " (restarted on ckpt-restart's terminal)");
		return;
	}
	case IMG_FILE_PSHM: {
		struct img_file_pshm m = pshm_of(f);
		char born[48] = "unknown";
		time_t t = (time_t)(m.btime_ns / 1000000000);
		struct tm tm;
		size_t n;

		if (m.btime_ns >= 0 && gmtime_r(&t, &tm))
			strftime(born, sizeof(born), "%Y-%m-%d %H:%M:%S UTC", &tm);
		n = snprintf(buf, len, "POSIX shared memory object, mode %o, owner %u:%u, made %s, ",
			     f->f.mode & 0777, m.uid, m.gid, born);
		if (n >= len)
			return;
		if (!(m.flags & IMG_PSHM_DATA))
			snprintf(buf + n, len - n, "the same object as an earlier file (inode %llu), "
				 "which holds its contents", (unsigned long long)f->f.ino);
		else
			snprintf(buf + n, len - n, "%lld bytes, %llu bytes of data in %u extents, %llu "
				 "bytes in the image", (long long)f->f.size,
				 (unsigned long long)f->data_bytes, f->extents,
				 (unsigned long long)f->stored);
		return;
	}
	}
}

void info_file_json(const struct info_file *f, void (*str)(const char *s, size_t n))
{
	char seals[80];

	if (info_evfd_json(f, str))
		return;
	switch (f->f.kind) {
	case IMG_FILE_MEMFD: {
		struct img_file_memfd m;

		memcpy(&m, f->data.s, sizeof(m));
		printf(", \"memfd_name\": ");
		str(f->data.s + sizeof(m), m.name_len);
		seals_text(m.seals, seals, sizeof(seals));
		printf(", \"seals\": %u, \"seal_names\": \"%s\", \"huge_page_shift\": %u", m.seals, seals,
		       m.hugetlb_shift);
	}
	/* fall through */
	case IMG_FILE_GHOST:
		printf(", \"mode\": %u, \"size\": %lld, \"same_as\": %u", f->f.mode & 07777,
		       (long long)f->f.size, same_as(f));
		printf(", \"contents\": {\"data_bytes\": %llu, \"extents\": %u, \"stored_bytes\": %llu}",
		       (unsigned long long)f->data_bytes, f->extents, (unsigned long long)f->stored);
		return;
	case IMG_FILE_PIDFD: {
		struct img_file_pidfd p;

		memcpy(&p, f->data.s, sizeof(p));
		printf(", \"pid\": %d, \"pidfd_thread\": %s, \"pidfd_nonblock\": %s", p.pid,
		       (f->f.flags & O_EXCL) ? "true" : "false",
		       (f->f.flags & O_NONBLOCK) ? "true" : "false");
		return;
	}
	case IMG_FILE_HUGETLB: {
		struct img_file_hugetlb h;

		memcpy(&h, f->data.s, sizeof(h));
		printf(", \"huge_page_shift\": %u", h.page_shift);
		return;
	}
	case IMG_FILE_PIPE:
	case IMG_FILE_FIFO: {
		struct img_file_pipe p;

		memcpy(&p, f->data.s, sizeof(p));
		printf(", \"same_as\": %u, \"pipe\": {\"end\": \"%s\", \"capacity\": %u, "
		       "\"bytes\": %llu, \"packets\": %u, \"packet_mode\": %s, \"no_writer_seen\": %s}",
		       p.same_as, (f->f.flags & O_ACCMODE) == O_RDONLY ? "read" :
		       (f->f.flags & O_ACCMODE) == O_WRONLY ? "write" : "both", p.capacity,
		       (unsigned long long)p.bytes, f->packets, (f->f.flags & O_DIRECT) ? "true" : "false",
		       (p.flags & IMG_PIPE_NOHUP) ? "true" : "false");
		return;
	}
	case IMG_FILE_EPOLL: {
		struct img_file_epoll e;

		memcpy(&e, f->data.s, sizeof(e));
		printf(", \"epoll_items\": %u", e.nitems);
		return;
	}
	case IMG_FILE_MQUEUE:
		info_ipc_mq_json(f, str);
		return;
	case IMG_FILE_TTY: {
		struct img_file_tty t;

		memcpy(&t, f->data.s, sizeof(t));
		printf(", \"tty\": {\"role\": \"%s\", \"class\": \"%s\", \"index\": %u, "
		       "\"unread_output\": %llu, "
		       "\"packet_mode\": %s, \"locked\": %s, \"major\": %u, "
		       "\"minor\": %u, \"controlling\": %s, \"foreground_pgid\": %d, \"sid\": %d, "
		       "\"rows\": %u, \"cols\": %u, \"xpixel\": %u, \"ypixel\": %u, "
		       "\"iflag\": %u, \"oflag\": %u, \"cflag\": %u, \"lflag\": %u, \"line\": %u, "
		       "\"ispeed\": %u, \"ospeed\": %u, \"cc\": [",
		       t.role == IMG_TTY_DEVTTY ? "devtty" : t.role == IMG_TTY_MASTER ? "master" :
		       t.role == IMG_TTY_SLAVE ? "slave" : "terminal",
		       t.tclass == IMG_TTY_VT ? "vt" : "pty", t.index,
		       (unsigned long long)f->data_bytes, (t.flags & IMG_TTY_PKT) ? "true" : "false",
		       (t.flags & IMG_TTY_LOCKED) ? "true" : "false", t.major, t.minor,
		       (t.flags & IMG_TTY_CTTY) ? "true" : "false", t.fg_pgid, t.sid, t.ws_row,
		       t.ws_col, t.ws_xpixel, t.ws_ypixel, t.termios.iflag, t.termios.oflag,
		       t.termios.cflag, t.termios.lflag, t.termios.line, t.termios.ispeed,
		       t.termios.ospeed);
		for (int i = 0; i < 19; i++)
			printf("%s%u", i ? ", " : "", t.termios.cc[i]);
		printf("]}");
		return;
	}
	case IMG_FILE_UNIX:
		info_unix_json(f, str);
		return;
	case IMG_FILE_INET:
	case IMG_FILE_NETLINK:
		info_inet_json(f, str);
		return;
	case IMG_FILE_PSHM: {
		struct img_file_pshm m = pshm_of(f);

		printf(", \"mode\": %u, \"size\": %lld, \"uid\": %u, \"gid\": %u, \"btime_ns\": %lld, "
		       "\"holds_contents\": %s, \"dev\": %llu, \"ino\": %llu", f->f.mode & 07777,
		       (long long)f->f.size, m.uid, m.gid, (long long)m.btime_ns,
		       (m.flags & IMG_PSHM_DATA) ? "true" : "false", (unsigned long long)f->f.dev,
		       (unsigned long long)f->f.ino);
		printf(", \"contents\": {\"data_bytes\": %llu, \"extents\": %u, \"stored_bytes\": %llu}",
		       (unsigned long long)f->data_bytes, f->extents, (unsigned long long)f->stored);
		return;
	}
	}
}
