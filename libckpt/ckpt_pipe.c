/*
 * ckpt_pipe.c - the pipes and FIFOs of the image, for fds/fd_pipe.c and
 * fds/fd_fifo.c: which of their ends the image holds, who else holds
 * them, and their bytes in flight, read without taking them.
 *
 * Invariants
 *  1. The original loses no byte.  The bytes in flight are read from
 *     copies tee(2) makes: tee duplicates a pipe's buffers into another
 *     pipe (references to the same pages) without consuming them, so the
 *     process's reader still reads every byte, in order, after the
 *     checkpoint.  The copies are two pipes of libckpt's own, made and
 *     closed here, as large as the pipe (F_SETPIPE_SZ); a copy that
 *     holds fewer bytes than the pipe (a capacity this process may not
 *     give a pipe of its own) refuses the checkpoint rather than save
 *     part of them.
 *  2. A pipe's bytes are saved once, after its first FILE record
 *     (ckpt_fds_first: the owner rule of every object behind several
 *     descriptions), whichever end that FILE is: a write end is read
 *     through a read end opened for the purpose (/proc/self/fd/N).
 *  3. What a reader sees is kept.  An O_DIRECT ("packet mode") write
 *     makes a packet: a read returns at most one packet, and what it does
 *     not take of it is gone.  Each packet is one PIPE_DATA record with
 *     IMG_PIPE_PACKET, plain bytes are records without it (below).
 *  4. An end held by a process outside the image is refused, naming the
 *     process: after a restart the two would no longer share a pipe, and
 *     bytes in flight would be lost or read twice.  fds 0-2 are the
 *     exception they were (fd_inherit.c) unless the image holds both ends.
 *
 * Ends and holders (struct ckpt_pipes, libckpt's own memory, built once
 * per checkpoint when the first fd needs it): the process's own fds
 * (fstat, F_GETFL) say which ends the image holds.  Then, when a pipe is
 * checked, every other process's fd table once for all pipes: readlink of
 * /proc/PID/fd/N ("pipe:[ino]", or a FIFO's path: then stat to be sure),
 * its fdinfo for the end.  A member of the image (ckpt_fds_member: in a
 * tree, every process of it) adds the ends it holds; anyone else is a
 * holder outside.  What libckpt cannot read (another user's processes)
 * it cannot see; the kernel still says whether an end has any holder
 * (poll: POLLHUP on a read end when no writer is left, POLLERR on a write
 * end when no reader is), which catches an unseen holder of the other
 * end, though not of an end the image holds too.
 *
 * Packets.  The kernel shows a pipe's bytes, not its buffers; the read
 * rule above is the only way to tell packets.  Two copies: A is read in
 * 64 KiB reads, each returning either one packet or plain bytes up to a
 * packet or the end; B is read alongside: one byte first (a packet then
 * goes whole: FIONREAD drops by its length), then all but one byte of
 * the rest of the piece (a packet at its end then goes whole too).  So a
 * piece of A is known as one packet or as plain bytes, and plain bytes
 * followed by a packet in one piece are refused by name (where the
 * packet starts is unknown; a writer that switched O_DIRECT on after
 * plain writes that are still unread).  Not seen: a 1-byte packet right
 * after plain bytes at the end, kept as a plain byte; a lone last byte
 * is a packet when the pipe's other bytes are, else when a description
 * has O_DIRECT.
 *
 * Cost: the own fd table once per checkpoint; the others' once per
 * checkpoint that has a pipe or FIFO to check (one readlink per fd of
 * every process that can be read: about 1 us each); per pipe with bytes,
 * two tees and 4-5 system calls per packet or per 64 KiB of plain bytes,
 * twice (the check, then the write).  Async-signal-safe: raw system calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "fds/fd_kind.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

#define BUF_A		0		/* in c->mbuf: a piece of copy A ... */
#define BUF_B		IMG_PIPE_CHUNK	/* ... and what is read of copy B (only while one
					 * pipe's bytes are read: mbuf is others' otherwise) */
#define END_R		1
#define END_W		2
#define PIPES_MAX	4096		/* pipes and FIFOs of one process */

struct ckpt_pipe {
	uint64_t dev, ino;
	uint64_t path_hash;		/* FIFO: FNV-1a of its path, to find it elsewhere */
	uint32_t ends;			/* END_R | END_W: held by the image */
	uint32_t odirect;		/* a description of the image has O_DIRECT */
	uint32_t fifo;
	int32_t out_pid[2], out_fd[2];	/* [0] a reader, [1] a writer outside the image:
					 * the first seen (pid 0: none) */
	uint32_t pad;
};

struct ckpt_pipes {
	int n;
	int scanned;			/* the others' fd tables were read */
	int full;			/* the process has more than PIPES_MAX */
	struct ckpt_pipe p[PIPES_MAX];
};

/*
 * The table lives from the check pass to the last FILE written, while
 * the checkpoint's scratch is everyone's in turn (mbuf: a queue's
 * messages, a /proc/sysvipc file), so it is libckpt's own memory: 224 KiB
 * of bss, touched only as far as the process has pipes (untouched pages
 * cost nothing, in memory or in the image).  One checkpoint at a time.
 */
static struct ckpt_pipes pipes_mem;

static uint32_t ends_of(long flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY: return END_R;
	case O_WRONLY: return END_W;
	default:       return END_R | END_W;
	}
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int is_pipefs(const char *link)
{
	return ckpt_memeq(link, "pipe:[", 6);
}

static struct ckpt_pipe *pipe_find(struct ckpt_pipes *t, uint64_t dev, uint64_t ino)
{
	for (int i = 0; i < t->n; i++)
		if (t->p[i].ino == ino && t->p[i].dev == dev)
			return &t->p[i];
	return NULL;
}

static long pipe_nread(int fd)
{
	int n = 0;
	long r = arch_sys3(SYS_ioctl, fd, FIONREAD, &n);

	return r < 0 ? r : n;
}

static short pipe_poll(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };

	return arch_sys3(SYS_poll, &pfd, 1, 0) == 1 ? pfd.revents : 0;
}

/* --- the table: the image's own ends ----------------------------------- */

static int own_one(int fd, int dirfd, void *arg)
{
	struct ckpt_ctx *c = arg;
	struct ckpt_pipes *t = c->pipes;
	struct ckpt_pipe *e;
	char name[64], link[CKPT_PATH_MAX];
	struct stat st;
	ssize_t n;
	long fl;

	if (fd == dirfd || ckpt_fds_own(c, fd) || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) ||
	    (fl = arch_sys2(SYS_fcntl, fd, F_GETFL)) < 0)
		return 0;
	if (!(e = pipe_find(t, st.st_dev, st.st_ino))) {
		if (t->n >= PIPES_MAX) {
			t->full = 1;
			return 0;
		}
		e = &t->p[t->n++];
		__builtin_memset(e, 0, sizeof(*e));
		e->dev = st.st_dev;
		e->ino = st.st_ino;
		ckpt_fmt(name, sizeof(name), "/proc/self/fd/%d", fd);
		n = readlink(name, link, sizeof(link) - 1);
		link[n < 0 ? 0 : n] = '\0';
		e->fifo = !is_pipefs(link);
		e->path_hash = fnv(link);
	}
	e->ends |= ends_of(fl);
	e->odirect |= !!(fl & O_DIRECT);
	return 0;
}

/* The table, with the process's own ends (once per checkpoint). */
static struct ckpt_pipes *pipes_table(struct ckpt_ctx *c)
{
	if (!c->pipes) {
		c->pipes = &pipes_mem;
		c->pipes->n = 0;
		c->pipes->scanned = 0;
		c->pipes->full = 0;
		ckpt_proc_each("/proc/self/fd", own_one, c);
	}
	return c->pipes;
}

/* --- the table: everyone else's ---------------------------------------- */

struct scan {
	struct ckpt_ctx *c;
	int pid;
	int fifos;			/* the table has FIFOs: paths are compared */
};

/* The open flags of another process's fd (its fdinfo), or -1. */
static long other_flags(int pid, int fd)
{
	char name[64], buf[512];
	const char *s;
	long v = 0;

	ckpt_fmt(name, sizeof(name), "/proc/%d/fdinfo/%d", pid, fd);
	if (ckpt_read_file(name, buf, sizeof(buf)) < 0 || !(s = __builtin_strstr(buf, "flags:")))
		return -1;
	for (s += 6; *s == ' ' || *s == '\t'; s++)
		;
	while (*s >= '0' && *s <= '7')
		v = v * 8 + (*s++ - '0');
	return v;
}

static int other_fd(int fd, int dirfd, void *arg)
{
	struct scan *sc = arg;
	struct ckpt_pipes *t = sc->c->pipes;
	char name[64], link[CKPT_PATH_MAX];
	struct ckpt_pipe *e = NULL;
	struct stat st;
	ssize_t n;
	long fl;
	uint32_t ends;

	ckpt_fmt(name, sizeof(name), "/proc/%d/fd/%d", sc->pid, fd);
	if ((n = readlink(name, link, sizeof(link) - 1)) <= 0)
		return 0;
	link[n] = '\0';
	if (is_pipefs(link)) {
		const char *s = link + 6;
		uint64_t ino = (uint64_t)ckpt_parse_dec(&s);

		for (int i = 0; i < t->n && !e; i++)
			if (!t->p[i].fifo && t->p[i].ino == ino)
				e = &t->p[i];
	} else if (sc->fifos && link[0] == '/') {
		uint64_t h = fnv(link);

		for (int i = 0; i < t->n && !e; i++)
			if (t->p[i].fifo && t->p[i].path_hash == h && stat(name, &st) == 0 &&
			    st.st_dev == t->p[i].dev && st.st_ino == t->p[i].ino)
				e = &t->p[i];
	}
	if (!e || (fl = other_flags(sc->pid, fd)) < 0)
		return 0;
	ends = ends_of(fl);
	if (ckpt_fds_member(sc->c, sc->pid)) {
		e->ends |= ends;
		e->odirect |= !!(fl & O_DIRECT);
		return 0;
	}
	for (int k = 0; k < 2; k++) {
		if ((ends & (k ? END_W : END_R)) && !e->out_pid[k]) {
			e->out_pid[k] = sc->pid;
			e->out_fd[k] = fd;
		}
	}
	return 0;
}

static int other_proc(int pid, int dirfd, void *arg)
{
	struct scan *sc = arg;
	char dir[32];

	if (pid == getpid())
		return 0;
	sc->pid = pid;
	ckpt_fmt(dir, sizeof(dir), "/proc/%d/fd", pid);
	ckpt_proc_each(dir, other_fd, sc);	/* not ours to read: not seen */
	return 0;
}

/* The table with everyone's ends (once per checkpoint, for the first pipe checked). */
static struct ckpt_pipes *pipes_scanned(struct ckpt_ctx *c)
{
	struct ckpt_pipes *t = pipes_table(c);
	struct scan sc = { c, 0, 0 };

	if (t->scanned)
		return t;
	t->scanned = 1;
	for (int i = 0; i < t->n; i++)
		sc.fifos |= t->p[i].fifo;
	ckpt_proc_each("/proc", other_proc, &sc);
	return t;
}

/*
 * A process alone holds both ends itself, or the pipe is not its own; in
 * a tree another member may hold the other end (the others' fd tables:
 * read only then, so that a pipeline's fds 0-2 cost nothing more).
 */
/*
 * Whether p's pipe is the image's own: it holds both ends, or (a pipe,
 * not a FIFO, which a writer may open again) the other end is held by
 * no process at all — the kernel says so: POLLHUP on a read end with no
 * writer left, POLLERR on a write end with no reader.  `seq 1 50 | while
 * read i; ...`: seq has exited, its bytes are still in the pipe, which
 * leads nowhere outside: they are the tree's to save, where inheriting
 * ckpt-restart's fd 0 lost them.
 */
int ckpt_pipe_own(struct ckpt_ctx *c, const struct fd_probe *p)
{
	struct ckpt_pipes *t = ckpt_fds_alone(c) ? pipes_table(c) : pipes_scanned(c);
	const struct ckpt_pipe *e = pipe_find(t, p->st.st_dev, p->st.st_ino);
	uint32_t mine = ends_of(p->flags);
	short ev;

	if (!e || e->ends == (END_R | END_W))
		return e != NULL;
	if (e->fifo || (mine != END_R && mine != END_W))
		return 0;
	ev = pipe_poll(p->fd);
	return mine == END_R ? (ev & POLLHUP) != 0 : (ev & POLLERR) != 0;
}

/* --- the bytes in flight ----------------------------------------------- */

/* libckpt's copies of one pipe's bytes, and a read end of it. */
struct copies {
	int src;			/* a read end of the pipe */
	int own_src;			/* src is libckpt's (a write end was given) */
	int a[2], b[2];
	long bytes;			/* in the pipe */
};

static void copies_close(struct copies *k)
{
	int fds[5] = { k->own_src ? k->src : -1, k->a[0], k->a[1], k->b[0], k->b[1] };

	for (int i = 0; i < 5; i++)
		if (fds[i] >= 0)
			ckpt_close(fds[i]);
}

static const char *end_name(uint32_t flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY: return "read end";
	case O_WRONLY: return "write end";
	default:       return "both ends (O_RDWR)";
	}
}

/*
 * Two copies (A, B) of the bytes in flight of p's pipe: 0, or the refusal.
 * k->bytes 0: nothing to copy, no copies made.
 */
static int copies_make(struct ckpt_ctx *c, const struct fd_probe *p, struct copies *k)
{
	long cap = arch_sys2(SYS_fcntl, p->fd, F_GETPIPE_SZ), ta, tb;
	char name[64];

	k->src = p->fd;
	k->own_src = 0;
	k->a[0] = k->a[1] = k->b[0] = k->b[1] = -1;
	if ((k->bytes = pipe_nread(p->fd)) <= 0) {
		k->bytes = 0;
		return 0;
	}
	if ((p->flags & O_ACCMODE) == O_WRONLY) {
		ckpt_fmt(name, sizeof(name), "/proc/self/fd/%d", p->fd);
		if ((k->src = ckpt_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0)) < 0)
			return ckpt_fail(c, -errno, "%s: cannot read the %ld bytes in flight in %s: "
					 "it cannot be opened for reading (%s)%s", p->what, k->bytes,
					 p->path, ckpt_strerror(errno), p->origin);
		k->own_src = 1;
	}
	if (arch_sys2(SYS_pipe2, k->a, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    arch_sys2(SYS_pipe2, k->b, O_NONBLOCK | O_CLOEXEC) < 0) {
		copies_close(k);
		return ckpt_fail(c, -EMFILE, "%s: cannot make a pipe to copy the bytes in flight in "
				 "%s into%s", p->what, p->path, p->origin);
	}
	if (cap > 0) {
		arch_sys3(SYS_fcntl, k->a[1], F_SETPIPE_SZ, cap);
		arch_sys3(SYS_fcntl, k->b[1], F_SETPIPE_SZ, cap);
	}
	ta = arch_sys4(SYS_tee, k->src, k->a[1], k->bytes, SPLICE_F_NONBLOCK);
	tb = arch_sys4(SYS_tee, k->src, k->b[1], k->bytes, SPLICE_F_NONBLOCK);
	if (ta != k->bytes || tb != k->bytes) {
		copies_close(k);
		return ckpt_fail(c, -ENOSPC, "%s: cannot read the %ld bytes in flight in %s without "
				 "taking them: a copy of it holds only %ld (its capacity of %ld bytes "
				 "is more than this process may give a pipe of its own: see "
				 "/proc/sys/fs/pipe-max-size and fs.pipe-user-pages-soft)%s", p->what,
				 k->bytes, p->path, ta < 0 || tb < 0 ? 0 : ta < tb ? ta : tb, cap,
				 p->origin);
	}
	return 0;
}

typedef int (*piece_fn)(struct ckpt_ctx *c, const struct img_file *f, const void *buf,
			uint32_t len, int packet);

/* Reads n bytes of fd into buf (a piece of B: plain bytes, or what a packet gives). */
static long read_some(int fd, void *buf, long n)
{
	long r;

	do {
		r = arch_sys3(SYS_read, fd, buf, n);
	} while (r == -EINTR);
	return r;
}

/*
 * Walks the bytes in flight of p's pipe (its copies k), piece by piece in
 * reading order: fn(piece, packet) for each, or only the checks when fn
 * is NULL.  0, or the refusal / fn's error.
 */
static int copies_walk(struct ckpt_ctx *c, const struct fd_probe *p, struct copies *k,
		       int odirect, piece_fn fn, const struct img_file *f)
{
	unsigned char *a = c->mbuf + BUF_A, *b = c->mbuf + BUF_B;
	long left = k->bytes, got, after, d, r;
	int plain = 0, packets = 0, packet;

	while (left > 0) {
		if ((got = read_some(k->a[0], a, IMG_PIPE_CHUNK)) <= 0 || (after = pipe_nread(k->a[0])) < 0 ||
		    after != left - got)
			goto lost;
		/* B: one byte; a packet goes whole */
		if (read_some(k->b[0], b, 1) != 1 || (d = left - pipe_nread(k->b[0])) < 1)
			goto lost;
		if (d > 1) {
			if (d != got)		/* a read of A stops right after a packet */
				goto lost;
			packet = 1;
		} else if (got == 1) {
			/* a lone byte: plain bytes would have gone on with the next */
			packet = after > 0 ? 1 : packets ? 1 : plain ? 0 : odirect;
		} else {
			/* plain bytes: does a packet end the piece? */
			if (after > 0 && got < IMG_PIPE_CHUNK)
				goto mixed;
			if (got >= 3) {
				long b1 = left - 1;

				if (read_some(k->b[0], b, got - 2) != got - 2 ||
				    (r = pipe_nread(k->b[0])) < 0)
					goto lost;
				if (b1 - r == got - 1)
					goto mixed;
			}
			packet = 0;
		}
		/* B to the end of the piece */
		while ((r = pipe_nread(k->b[0])) > after)
			if (read_some(k->b[0], b, r - after) <= 0)
				goto lost;
		if (r != after)
			goto lost;
		if (fn && fn(c, f, a, (uint32_t)got, packet) < 0)
			return c->error ? c->error : c->w.error;
		plain |= !packet;
		packets |= packet;
		left = after;
	}
	return 0;
mixed:
	return ckpt_fail(c, -ENOTSUP, "%s: %s holds plain bytes followed by a packet (written "
			 "after O_DIRECT was set on its write end) that its reader has not read "
			 "yet: libckpt cannot tell where the packet starts, so it cannot save them "
			 "as they are; let the reader drain it first%s", p->what, p->path, p->origin);
lost:
	return ckpt_fail(c, -EIO, "%s: the bytes in flight in %s changed while libckpt read "
			 "them (a process outside the image?)%s", p->what, p->path, p->origin);
}

/* --- the checks --------------------------------------------------------- */

/* " (process 42 (cat), fd 7)" of the holder of end k outside the image. */
static void holder(const struct ckpt_pipe *e, int k, char *buf, size_t len)
{
	char name[40], comm[32];
	ssize_t n;

	ckpt_fmt(name, sizeof(name), "/proc/%d/comm", e->out_pid[k]);
	n = ckpt_read_file(name, comm, sizeof(comm));
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	ckpt_fmt(buf, len, "process %d (%s) as its fd %d", e->out_pid[k], n > 0 ? comm : "?",
		 e->out_fd[k]);
}

/*
 * An end held outside the image: refused, naming who holds it.  Seen in
 * the others' fd tables, else told by poll when the image holds no
 * description of the other end (an unseen holder).
 */
static int check_outside(struct ckpt_ctx *c, const struct fd_probe *p, const struct ckpt_pipe *e,
			 const char *kind)
{
	char who[128];
	short ev = pipe_poll(p->fd);
	uint32_t mine = ends_of(p->flags);
	int k;

	/* the holder of the other end first: that is where the bytes go */
	k = (mine & END_R) && e->out_pid[1] ? 1 : (mine & END_W) && e->out_pid[0] ? 0 :
	    e->out_pid[0] ? 0 : e->out_pid[1] ? 1 : -1;
	if (k >= 0) {
		holder(e, k, who, sizeof(who));
		return ckpt_fail(c, -ENOTSUP, "%s: %s (%s, its %s) is shared with a process outside "
				 "the image: its %s is held by %s; after a restart the two would "
				 "not share it, and bytes in flight would be lost or read twice: "
				 "not supported (checkpoint both together as a tree, or close it)%s",
				 p->what, kind, p->path, end_name(p->flags),
				 k ? "write end" : "read end", who, p->origin);
	}
	if ((!(e->ends & END_W) && (mine & END_R) && !e->fifo && !(ev & POLLHUP)) ||
	    (!(e->ends & END_R) && (mine & END_W) && !(ev & POLLERR)))
		return ckpt_fail(c, -ENOTSUP, "%s: %s (%s, its %s) leads outside the image: its %s "
				 "is held by a process libckpt cannot see (another user's?)%s: not "
				 "supported%s", p->what, kind, p->path, end_name(p->flags),
				 (mine & END_R) ? "write end" : "read end",
				 c->tree ? ", or is in flight on a unix socket of the tree (an end "
				 "whose other end another process of the tree holds cannot be "
				 "in flight yet)" : "", p->origin);
	return 0;
}

/*
 * A FIFO read end with no writer in the image and none seen outside: is
 * there one all the same?  When the FIFO is empty tee says (EAGAIN: a
 * writer could still write; 0: none is left).  1, 0, or 0 when it cannot
 * tell (bytes in it: then no holder was seen, and none is assumed).
 */
static int fifo_unseen_writer(const struct fd_probe *p)
{
	int t[2];
	long r;

	if (pipe_nread(p->fd) != 0 || arch_sys2(SYS_pipe2, t, O_NONBLOCK | O_CLOEXEC) < 0)
		return 0;
	r = arch_sys4(SYS_tee, p->fd, t[1], 1, SPLICE_F_NONBLOCK);
	ckpt_close(t[0]);
	ckpt_close(t[1]);
	return r == -EAGAIN;
}

/* The check pass (ckpt_fds.c) has seen another fd of p's pipe before p. */
static int checked_before(const struct ckpt_ctx *c, const struct fd_probe *p)
{
	for (int i = 0; i < c->nfdids; i++)
		if (c->fdids[i].fd != p->fd && c->fdids[i].dev == p->st.st_dev &&
		    c->fdids[i].ino == p->st.st_ino)
			return 1;
	return 0;
}

int ckpt_pipe_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	struct ckpt_pipes *t = pipes_scanned(c);
	const struct ckpt_pipe *e = pipe_find(t, p->st.st_dev, p->st.st_ino);
	const char *kind = e && e->fifo ? "FIFO" : "pipe";
	struct copies k;
	int r;

	if (!e && t->full)
		return ckpt_fail(c, -EMFILE, "%s: %s: the process holds more than %d pipes and "
				 "FIFOs, more than libckpt can save%s", p->what, p->path, PIPES_MAX,
				 p->origin);
	if (!e)
		return ckpt_fail(c, -EIO, "%s: %s %s was not found among the process's fds",
				 p->what, kind, p->path);
	if (p->flags & O_ASYNC)
		return ckpt_fail(c, -ENOTSUP, "%s: %s %s has O_ASYNC (signal-driven I/O): not "
				 "supported%s", p->what, kind, p->path, p->origin);
	if ((r = check_outside(c, p, e, kind)) < 0)
		return r;
	if (e->fifo && !(e->ends & END_W) && (ends_of(p->flags) & END_R) && fifo_unseen_writer(p))
		return ckpt_fail(c, -ENOTSUP, "%s: FIFO %s (its read end) has a writer libckpt "
				 "cannot see (another user's process?): not supported%s", p->what,
				 p->path, p->origin);
	if (checked_before(c, p))
		return 0;		/* its bytes were, with an earlier description */
	/*
	 * In a tree the check runs while other processes may still run and
	 * read or write the pipe (they park one after another): its bytes
	 * are walked once, when they write it, after every process is parked
	 * (a walk here failed, seeing bytes taken while it copied them).  The
	 * write pass's walk refuses what this one would have.
	 */
	if (c->tree)
		return 0;
	if ((r = copies_make(c, p, &k)) < 0)
		return r;
	r = copies_walk(c, p, &k, e->odirect, NULL, NULL);
	copies_close(&k);
	return r;
}

/* --- the records -------------------------------------------------------- */

int ckpt_pipe_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f, void *data,
		   size_t cap)
{
	const struct ckpt_pipe *e = pipe_find(pipes_table(c), p->st.st_dev, p->st.st_ino);
	struct img_file_pipe d = { .same_as = ckpt_fds_first(c, p->st.st_dev, p->st.st_ino) };
	long n;

	if (!d.same_as) {
		d.capacity = (uint32_t)arch_sys2(SYS_fcntl, p->fd, F_GETPIPE_SZ);
		d.bytes = (n = pipe_nread(p->fd)) > 0 ? (uint64_t)n : 0;
	}
	/*
	 * A FIFO reader that has seen no writer since it was opened shows
	 * no POLLHUP though none is left (pipe_poll in the kernel: its
	 * f_pipe is the FIFO's w_counter); a restart opens it while no
	 * writer holds the FIFO, which keeps that.
	 */
	if (e && e->fifo && !(e->ends & END_W) && !e->out_pid[1] && (p->flags & O_ACCMODE) == O_RDONLY &&
	    !(pipe_poll(p->fd) & POLLHUP))
		d.flags |= IMG_PIPE_NOHUP;
	f->size = 0;
	f->pos = 0;
	__builtin_memcpy(data, &d, sizeof(d));
	return sizeof(d);
}

static int put_piece(struct ckpt_ctx *c, const struct img_file *f, const void *buf, uint32_t len,
		     int packet)
{
	struct img_pipe_data d = { .file = f->id, .flags = packet ? IMG_PIPE_PACKET : 0, .len = len };

	return img_write_record(&c->w, IMG_REC_PIPE_DATA, &d, sizeof(d), buf, len) < 0 ?
	       c->w.error : 0;
}

int ckpt_pipe_contents(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f)
{
	const struct ckpt_pipe *e = pipe_find(pipes_table(c), p->st.st_dev, p->st.st_ino);
	struct copies k;
	int r;

	if (ckpt_fds_first(c, p->st.st_dev, p->st.st_ino))
		return 0;		/* the first FILE of this pipe has them */
	if ((r = copies_make(c, p, &k)) < 0)
		return r;
	r = copies_walk(c, p, &k, e && e->odirect, put_piece, f);
	copies_close(&k);
	return r;
}
