/*
 * fd_unix.c - unix domain sockets: socketpairs and named sockets (a path
 * or an abstract name), stream, datagram and seqpacket; bound, connected,
 * listening, shut down; their options; the messages queued on them, with
 * the credentials and fds they carry.  The kind, in seven files:
 *   fd_unix.c        this: the record check, the table of the image's
 *                    sockets and what each one is (save)
 *   fd_unix_diag.c   what sock_diag and the options say of one (save)
 *   fd_unix_queue.c  queues read without consuming them, written (save)
 *   fd_unix_check.c  links and names checked before a restart (restore)
 *   fd_unix_make.c   every socket made, named and connected (restore)
 *   fd_unix_fill.c   queues sent again (restore)
 *   fd_unix_tree.c   the sockets other members of a tree hold (save)
 *
 * What the kernel shows (measured on Linux 6.18, docs/INTERNALS.md "Unix
 * sockets"): sock_diag (NETLINK_SOCK_DIAG, one exact query per socket by
 * inode) gives the type, the state (USK_TCP_LISTEN 10, USK_TCP_ESTABLISHED 1 also
 * for a connected datagram socket, USK_TCP_CLOSE 7), the name as bound
 * (UNIX_DIAG_NAME), the bound file (UNIX_DIAG_VFS, dev in the kernel's
 * encoding), the peer's inode (UNIX_DIAG_PEER: 0 when the peer was closed
 * and when it is a connection not yet accepted, whose server end has no
 * inode), a listener's waiting clients in order (UNIX_DIAG_ICONS) and
 * backlog (UNIX_DIAG_RQLEN: waiting, max), and the socket's own shutdown
 * bits (UNIX_DIAG_SHUTDOWN; a stream's peer closing sets both).  An
 * accepted socket has its listener's name and file, not a name of its
 * own.  /proc/self/fdinfo says how many fds are in flight on a queue
 * (scm_fds).
 *
 * Save.  begin (pass 0) finds every unix socket of the image at once,
 * because sockets refer to each other: those the fds hold, then those
 * carried in flight by the messages on their queues (found while the
 * queues are read, fd_unix_queue.c), each asked of sock_diag and its
 * options read; then it decides, for each socket, its state as a restart
 * makes it (connected to which socket of the image, pending on which
 * listener and where, made by accept() or not) and refuses what cannot
 * come back.  The table lives in the checkpoint's scratch (c->usk)
 * until the end of the checkpoint; pass 1 writes each
 * socket's FILE from it and, at its end, every queue (UNIX_MSG records and
 * the FILEs of the fds in flight).  No allocation, system calls only.
 *
 * Owned by whom: a socket is one open file description, so one FILE; its
 * receive queue is its own and is written once, after its FILE.  The
 * sockets it names (peer, listener, a message's sender) are named by
 * inode, so that a FILE may name one written later (or, in a process tree,
 * by another process).
 *
 * Refused, by name: a peer outside the image (its name, its process), a
 * connection waiting on a listener outside the image, a listener with a
 * waiting connection from outside or from a client already closed, a
 * waiting connection whose client already sent data (it sits where only
 * accept() can read it), an out-of-band byte, a pending error other than
 * a stream's reset by its closed peer, a socket filter, O_ASYNC, and what
 * fd_unix_queue.c refuses of queues.  Sockets at fds 0-2 with a peer
 * outside are inherited (fd_inherit.c), as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "fds/fd_unix.h"

const char *usk_type_name(uint32_t type)
{
	switch (type) {
	case SOCK_STREAM:    return "stream";
	case SOCK_DGRAM:     return "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	default:             return "?";
	}
}

void usk_name_text(const char *name, size_t len, char *buf, size_t cap)
{
	size_t n = 0;

	if (!cap)
		return;
	if (!len) {
		for (const char *t = "(unnamed)"; *t && n + 1 < cap; t++)
			buf[n++] = *t;
		buf[n] = '\0';
		return;
	}
	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (i == 0 && ch == 0)
			ch = '@';		/* abstract, as ss and netstat show it */
		else if (ch == 0 && i + 1 == len)
			break;			/* a NUL that ends a path */
		else if (ch < 0x20 || ch == 0x7f)
			ch = '?';
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
}

static int unix_valid(const struct img_file *f, const char *path, const void *data, char *err,
		      size_t len)
{
	const struct img_file_unix *k = data;

	if (f->data_len < sizeof(*k) || k->name_len > IMG_UNIX_NAME_MAX ||
	    k->peer_name_len > IMG_UNIX_NAME_MAX ||
	    f->data_len != sizeof(*k) + k->name_len + k->peer_name_len) {
		snprintf(err, len, "%u bytes of kind data do not hold its names", f->data_len);
		return -1;
	}
	if ((k->type != SOCK_STREAM && k->type != SOCK_DGRAM && k->type != SOCK_SEQPACKET) ||
	    k->state < IMG_UNIX_UNCONNECTED || k->state > IMG_UNIX_STATE_MAX ||
	    (k->uflags & ~(uint32_t)IMG_UNIX_FLAGS) || (k->shutdown & ~3u) || k->reserved ||
	    !S_ISSOCK(f->mode) || (f->flags & ~(uint32_t)(O_NONBLOCK | O_ACCMODE))) {
		snprintf(err, len, "type %u, state %u, flags %#x, shutdown %u, mode %#o, open flags "
			 "%#o", k->type, k->state, k->uflags, k->shutdown, f->mode, f->flags);
		return -1;
	}
	/* each state's fields, and only its own */
	if ((k->state == IMG_UNIX_LISTEN && k->type == SOCK_DGRAM) ||
	    (k->state == IMG_UNIX_PENDING && (k->type == SOCK_DGRAM || !k->listener)) ||
	    (k->state != IMG_UNIX_CONNECTED && (k->peer || k->peer_name_len ||
	     (k->uflags & (IMG_UNIX_PEER_GONE | IMG_UNIX_PEER_RESET | IMG_UNIX_ACCEPTED)))) ||
	    (k->state == IMG_UNIX_CONNECTED && !k->peer != !!(k->uflags & IMG_UNIX_PEER_GONE)) ||
	    ((k->uflags & IMG_UNIX_PEER_RESET) && !(k->uflags & IMG_UNIX_PEER_GONE)) ||
	    ((k->uflags & IMG_UNIX_ACCEPTED) && (k->type == SOCK_DGRAM || !k->name_len)) ||
	    (k->listener && !(k->uflags & IMG_UNIX_ACCEPTED) && k->state != IMG_UNIX_PENDING) ||
	    (k->state != IMG_UNIX_LISTEN && k->state != IMG_UNIX_PENDING && k->backlog) ||
	    (k->peer && k->peer == f->ino) || (k->listener && k->listener == f->ino) ||
	    ((k->uflags & IMG_UNIX_NAME_GONE) && (!k->name_len || !usk_name(k)[0])) ||
	    ((k->vfs_ino || k->vfs_mode) && (!k->name_len || !usk_name(k)[0])) ||
	    (k->name_len && !usk_name(k)[0] && k->name_len < 2) || k->peek_off < -1) {
		snprintf(err, len, "a %s socket in state %u with flags %#x, peer %llu, listener "
			 "%llu, backlog %u: not a state a socket can be in", usk_type_name(k->type),
			 k->state, k->uflags, (unsigned long long)k->peer,
			 (unsigned long long)k->listener, k->backlog);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_unix_info = { IMG_FILE_UNIX, "unix socket", unix_valid };

#ifdef FD_SAVE
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

/* Scratch: the table has c->usk to itself (ckpt.h). */
#define USK_OFF		0
#define USK_END		((size_t)CKPT_USK_SCRATCH)


struct usk_extra *usk_extra(struct ckpt_ctx *c)
{
	return (struct usk_extra *)(c->usk + USK_OFF + sizeof(struct usk_state));
}

struct usk_state *usk_state(struct ckpt_ctx *c)
{
	return (struct usk_state *)(c->usk + USK_OFF);
}

/* Lays the table out in the scratch, empty. */
static void usk_init(struct ckpt_ctx *c)
{
	struct usk_state *u = usk_state(c);
	struct usk_extra *x = usk_extra(c);
	unsigned char *p = c->usk + USK_OFF + sizeof(*u) + sizeof(*x);

	__builtin_memset(u, 0, sizeof(*u));
	p = (unsigned char *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
	u->socks = (struct usk_sock *)p;
	p += USK_MAX_SOCKS * sizeof(struct usk_sock);
	u->msgs = (struct usk_msg *)p;
	p += USK_MAX_MSGS * sizeof(struct usk_msg);
	u->fds = (struct usk_fd *)p;
	p += USK_MAX_FDS * sizeof(struct usk_fd);
	x->icons = (struct usk_icon *)p;
	x->nicons = 0;
	p += USK_MAX_ICONS * sizeof(struct usk_icon);
	x->dbuf = p;
	p += USK_DIAG_BUF;
	u->data = p;
	u->data_cap = c->usk + USK_END - p;
	u->nl = -1;
	u->posix_locks = -1;
	u->self = getpid();
}

struct usk_sock *usk_find(struct usk_state *u, uint64_t ino)
{
	for (uint32_t i = 0; ino && i < u->nsocks; i++)
		if (u->socks[i].ino == ino)
			return &u->socks[i];
	return NULL;
}

struct usk_sock *usk_add(struct ckpt_ctx *c, uint64_t ino, int fd, int inflight)
{
	struct usk_state *u = usk_state(c);
	struct usk_sock *s;

	if (u->nsocks >= USK_MAX_SOCKS) {
		ckpt_fail(c, -E2BIG, "more than %d unix sockets: libckpt saves at most that many",
			  USK_MAX_SOCKS);
		return NULL;
	}
	s = &u->socks[u->nsocks++];
	__builtin_memset(s, 0, sizeof(*s));
	s->ino = ino;
	s->fd = fd;
	s->inflight = inflight;
	s->carrier = -1;
	return s;
}

const char *usk_what(struct usk_state *u, const struct usk_sock *s, char *buf, size_t len)
{
	const struct usk_sock *top = s;

	/* the process's fd whose queue carries it, through any number of hops */
	for (int hops = 0; top->inflight && top->carrier >= 0 && hops < 16; hops++)
		top = &u->socks[top->carrier];
	if (s->holder)
		ckpt_fmt(buf, len, "fd %d of process %d", s->fd, (int)s->holder);
	else if (!s->inflight)
		ckpt_fmt(buf, len, "fd %d", s->fd);
	else
		ckpt_fmt(buf, len, "a unix socket in flight on fd %d", top->inflight ? -1 : top->fd);
	return buf;
}

int usk_hold(struct ckpt_ctx *c, int fd)
{
	struct usk_state *u = usk_state(c);

	if (u->nheld >= USK_MAX_HELD) {
		ckpt_close(fd);
		return ckpt_fail(c, -EMFILE, "more than %d fds in flight on unix sockets: libckpt "
				 "saves at most that many", USK_MAX_HELD);
	}
	u->held[u->nheld++] = fd;
	return 0;
}

/* ... read by ckpt_proc_each over /proc/self/fd: every unix socket an fd holds. */
static int usk_scan_fd(int fd, int dirfd, void *arg)
{
	struct ckpt_ctx *c = arg;
	struct usk_state *u = usk_state(c);
	struct usk_sock *s;
	struct stat st;

	if (fd == dirfd || fd == u->nl || ckpt_fds_own(c, fd) || fstat(fd, &st) < 0 ||
	    !S_ISSOCK(st.st_mode) || usk_sockopt(fd, SO_DOMAIN, -1) != AF_UNIX)
		return 0;
	if ((s = usk_find(u, st.st_ino))) {
		/* the lowest fd above 2 names it; inherit only when 0-2 alone hold it */
		if (s->fd <= 2 && fd > 2)
			s->fd = fd;
		return 0;
	}
	return usk_add(c, st.st_ino, fd, 0) ? 0 : -1;
}

/* --- what each socket is, once all are known -------------------------------- */

static int names_eq(const char *a, uint16_t alen, const char *b, uint16_t blen)
{
	return alen == blen && alen && ckpt_memeq(a, b, alen);
}

/* The image's listener with s's name (same abstract name, or same bound file), or NULL. */
static struct usk_sock *listener_named(struct usk_state *u, const struct usk_sock *s)
{
	for (uint32_t i = 0; i < u->nsocks; i++) {
		struct usk_sock *l = &u->socks[i];

		if (l->state_diag != USK_TCP_LISTEN || l->inherit || l->k.type != s->k.type ||
		    !names_eq(l->name, l->k.name_len, s->name, s->k.name_len))
			continue;
		if (s->name[0] == '\0' || (l->k.vfs_ino == s->k.vfs_ino && l->k.vfs_dev == s->k.vfs_dev))
			return l;
	}
	return NULL;
}

/* An autobound name: a NUL and five hex digits (what the kernel picks). */
static int autobound(const char *n, uint16_t len)
{
	if (len != 6 || n[0])
		return 0;
	for (int i = 1; i < 6; i++)
		if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * Of a connected stream or seqpacket socket s and its peer (named peer_name,
 * the peer's entry p if it lives): whether s is the end accept() made.  An
 * accepted socket carries its listener's name; a client's name, if any, is
 * its own.  Decided by, in turn: a listener of the image with s's (or the
 * peer's) name; s alone named; autobinding (clients autobind, listeners are
 * named by their programs); the later inode (accept() allocates it after
 * the client's socket()).  docs/INTERNALS.md says where this can be wrong.
 */
static int is_accepted(struct usk_state *u, const struct usk_sock *s, const struct usk_sock *p,
		       const char *pname, uint16_t plen, struct usk_sock **lis)
{
	*lis = s->k.name_len ? listener_named(u, s) : NULL;
	if (*lis)
		return 1;
	if (p && p->k.name_len && listener_named(u, p))
		return 0;
	if (!s->k.name_len)
		return 0;
	if (!plen)
		return 1;
	if (autobound(pname, plen) != autobound(s->name, s->k.name_len))
		return autobound(pname, plen);
	return p ? s->ino > p->ino : 0;
}

/* The path name's file: gone (NAME_GONE) unless it is still the one bound; its mode. */
static void usk_name_file(struct usk_sock *s)
{
	char path[IMG_UNIX_NAME_MAX + 1];
	struct stat st;

	if (!s->k.name_len || !s->name[0])
		return;
	__builtin_memcpy(path, s->name, s->k.name_len);
	path[s->k.name_len] = '\0';		/* relative names resolve from the cwd, as saved */
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == s->k.vfs_ino &&
	    st.st_dev == s->k.vfs_dev)
		s->k.vfs_mode = st.st_mode;
	else
		s->k.uflags |= IMG_UNIX_NAME_GONE;
}

/* The refusal of s, connected to socket peer (0: a listener's waiting connection) outside. */
static int refuse_outside(struct ckpt_ctx *c, struct usk_sock *s, uint64_t peer, int pending)
{
	struct usk_state *u = usk_state(c);
	struct usk_diag d;
	char what[64], name[IMG_UNIX_NAME_MAX + 8], proc[120];
	const char *pn = s->peer_name;
	uint32_t plen = s->k.peer_name_len;

	if (peer && usk_diag(c, peer, &d) == 0 && d.name_len) {
		pn = d.name;
		plen = d.name_len;
	}
	usk_name_text(pn, plen, name, sizeof(name));
	/* a tree: a peer no process holds may be in flight on another member's socket */
	if (c->tree && peer && !usk_tree_held(c, peer))
		return ckpt_fail(c, -ENOTSUP, "%s: a unix %s socket connected to socket %llu (%s), "
				 "which no process libckpt can see holds: in flight on a unix socket "
				 "of another process of the tree? A socket in flight whose peer another "
				 "process of the tree holds is not supported yet; keep it open in "
				 "its sender until it is received", usk_what(u, s, what,
				 sizeof(what)), usk_type_name(s->k.type), (unsigned long long)peer,
				 name);
	usk_peer_process(s->fd, proc, sizeof(proc));
	return ckpt_fail(c, -ENOTSUP, "%s: a unix %s socket %s %s%s, outside the image: a restart "
			 "cannot connect it to that process again; close it before the checkpoint "
			 "(or keep it at fd 0-2, which a restart inherits)",
			 usk_what(u, s, what, sizeof(what)), usk_type_name(s->k.type),
			 pending ? "waiting to be accepted by" : "connected to", name, proc);
}

/* s's state as a restart makes it (s->k), or the refusal. */
static int usk_decide(struct ckpt_ctx *c, struct usk_sock *s)
{
	struct usk_state *u = usk_state(c);
	struct usk_extra *x = usk_extra(c);
	struct img_file_unix *k = &s->k;
	struct usk_sock *p, *lis;
	char what[64];

	usk_what(u, s, what, sizeof(what));
	usk_name_file(s);
	switch (s->state_diag) {
	case USK_TCP_CLOSE:
		k->state = IMG_UNIX_UNCONNECTED;
		k->peer = 0;
		k->peer_name_len = 0;
		return 0;
	case USK_TCP_LISTEN:
		k->state = IMG_UNIX_LISTEN;
		for (uint32_t i = 0; i < x->nicons; i++) {
			const struct usk_icon *ic = &x->icons[i];

			if (&u->socks[ic->listener] != s)
				continue;
			if (!ic->client)
				return ckpt_fail(c, -ENOTSUP, "%s: a listening unix socket with a "
						 "connection not yet accepted whose client has closed: "
						 "only accept() can read what it sent; accept it before "
						 "the checkpoint", what);
			p = usk_find(u, ic->client);
			if (!p || p->inherit)
				return ckpt_fail(c, -ENOTSUP, "%s: a listening unix socket with a "
						 "connection not yet accepted from socket %llu, outside "
						 "the image: a restart cannot make that process connect "
						 "again; accept it before the checkpoint", what,
						 (unsigned long long)ic->client);
		}
		return 0;
	case USK_TCP_ESTABLISHED:
		break;
	default:
		return ckpt_fail(c, -ENOTSUP, "%s: a unix socket in state %d, not supported", what,
				 s->state_diag);
	}
	/* a datagram socket someone connected to is "established" too, without a peer */
	if (k->type == SOCK_DGRAM && !s->has_peer) {
		k->state = IMG_UNIX_UNCONNECTED;
		k->peer_name_len = 0;
		return 0;
	}
	k->state = IMG_UNIX_CONNECTED;
	if (k->peer) {
		if (!(p = usk_find(u, k->peer)) || p->inherit)
			return refuse_outside(c, s, k->peer, 0);
		if (k->type == SOCK_DGRAM && p->k.peer != s->ino && !p->k.name_len)
			return ckpt_fail(c, -ENOTSUP, "%s: a unix datagram socket connected to an "
					 "unnamed socket that is not connected back, not supported",
					 what);
		if (k->type != SOCK_DGRAM && is_accepted(u, s, p, p->name, p->k.name_len, &lis)) {
			k->uflags |= IMG_UNIX_ACCEPTED;
			k->listener = lis ? lis->ino : 0;
		}
		return 0;
	}
	if (k->type != SOCK_DGRAM) {
		/* no peer inode: a connection not yet accepted, or a peer gone */
		for (uint32_t i = 0; i < x->nicons; i++) {
			const struct usk_icon *ic = &x->icons[i];
			int v = 0;

			if (ic->client != s->ino)
				continue;
			k->state = IMG_UNIX_PENDING;
			k->listener = u->socks[ic->listener].ino;
			k->backlog = ic->pos;
			k->peer_name_len = 0;
			k->uflags &= ~(uint32_t)IMG_UNIX_PEER_RESET;
			/* what it sent sits in the server end, which only accept() reads */
			if (arch_sys3(SYS_ioctl, s->fd, SIOCOUTQ, &v) == 0 && v > 0)
				return ckpt_fail(c, -ENOTSUP, "%s: a unix socket waiting to be "
						 "accepted, which sent data already: only accept() "
						 "can read it; accept the connection before the "
						 "checkpoint", what);
			return 0;
		}
		if (k->shutdown != 3)	/* alive, so its listener is elsewhere */
			return refuse_outside(c, s, 0, 1);
	}
	k->uflags |= IMG_UNIX_PEER_GONE;
	if (k->type != SOCK_DGRAM &&
	    is_accepted(u, s, NULL, s->peer_name, k->peer_name_len, &lis)) {
		k->uflags |= IMG_UNIX_ACCEPTED;
		k->listener = lis ? lis->ino : 0;
	}
	return 0;
}

/* Whether s is this process's to decide and write (not inherited, not another member's). */
static int usk_ours(const struct usk_sock *s)
{
	return !s->inherit && !s->holder;
}

/* Pass 0: the whole table, or the refusal. */
static int usk_build(struct ckpt_ctx *c)
{
	struct usk_state *u = usk_state(c);
	int r;

	if ((r = ckpt_proc_each("/proc/self/fd", usk_scan_fd, c)) < 0)
		return c->error ? c->error : ckpt_fail(c, r, "cannot read /proc/self/fd");
	/* what each held socket is; those at fds 0-2 alone with a peer outside are inherited */
	for (uint32_t i = 0; i < u->nsocks; i++) {
		struct usk_sock *s = &u->socks[i];

		if (usk_read(c, s) < 0)
			return c->error;
	}
	/* a tree: the sockets the other members hold are in the image too (ours name them) */
	if (u->nsocks && usk_tree_scan(c, u->pass) < 0)
		return c->error;
	for (uint32_t i = 0; i < u->nsocks; i++) {
		struct usk_sock *s = &u->socks[i];

		s->inherit = !s->holder && s->fd <= 2 && s->state_diag == USK_TCP_ESTABLISHED &&
			     (!s->k.peer || !usk_find(u, s->k.peer));
	}
	/* queues, which add the sockets in flight (read in turn as the loop reaches them) */
	for (uint32_t i = 0; i < u->nsocks; i++) {
		struct usk_sock *s = &u->socks[i];

		if (!usk_ours(s))
			continue;
		if ((s->inflight && usk_read(c, s) < 0) || usk_refuse_extras(c, s) < 0 ||
		    (usk_tree_walks(c, s) && usk_capture(c, s) < 0))
			return c->error;
	}
	for (uint32_t i = 0; i < u->nsocks; i++)
		if (usk_ours(&u->socks[i]) && usk_decide(c, &u->socks[i]) < 0)
			return c->error;
	for (uint32_t i = 0; i < u->nsocks; i++)
		if (usk_ours(&u->socks[i]) && usk_from(c, &u->socks[i]) < 0)
			return c->error;
	u->built = 1;
	return 0;
}

static int unix_begin(struct ckpt_ctx *c, int pass)
{
	struct usk_state *u = usk_state(c);

	/* (pass 1 alone: the tests; a tree: again, once every member is parked) */
	if (pass == 0 || !u->built || c->tree) {
		usk_init(c);
		u->active = 1;
		u->pass = pass;
		return usk_build(c) < 0 ? -1 : 0;
	}
	u->active = 1;
	u->pass = pass;
	u->nheld = 0;
	return 0;
}

static int unix_own(struct ckpt_ctx *c, int fd)
{
	struct usk_state *u = usk_state(c);

	if (!u->active)
		return 0;
	if (fd == u->nl)
		return 1;
	for (int i = 0; i < u->nheld; i++)
		if (u->held[i] == fd)
			return 1;
	return 0;
}

static int unix_end(struct ckpt_ctx *c, int pass, int ok)
{
	struct usk_state *u = usk_state(c);
	int r = 0;

	if (!u->active)
		return 0;
	if (pass == 1 && ok && u->built) {
		/* the queues, in table order: a socket in flight after its carrier's */
		for (uint32_t i = 0; i < u->nsocks && !r; i++)
			if (usk_ours(&u->socks[i]) && usk_write_queue(c, &u->socks[i]) < 0)
				r = -1;
	}
	for (int i = 0; i < u->nheld; i++) {
		if (pass == 1)
			ckpt_fds_extra_done(c, u->held[i]);
		ckpt_close(u->held[i]);
	}
	u->nheld = 0;
	for (uint32_t i = 0; i < u->nsocks; i++)
		if (u->socks[i].inflight)
			u->socks[i].fd = -1;
	if (u->nl >= 0)
		ckpt_close(u->nl);
	u->nl = -1;
	u->active = 0;
	return r;
}

static int unix_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	struct usk_state *u = usk_state(c);
	struct usk_sock *s;

	if (!S_ISSOCK(p->st.st_mode) || !u->built)
		return 0;
	s = usk_find(u, p->st.st_ino);
	return s && usk_ours(s);
}

static int unix_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
		     void *data, size_t cap)
{
	struct usk_sock *s = usk_find(usk_state(c), p->st.st_ino);
	unsigned char *d = data;
	size_t n = sizeof(s->k) + s->k.name_len + s->k.peer_name_len;

	if (n > cap)
		return ckpt_fail(c, -E2BIG, "fd %d: unix socket kind data too large", p->fd);
	f->flags = (p->flags & (O_NONBLOCK | O_ACCMODE));
	f->pos = 0;
	__builtin_memcpy(d, &s->k, sizeof(s->k));
	__builtin_memcpy(d + sizeof(s->k), s->name, s->k.name_len);
	__builtin_memcpy(d + sizeof(s->k) + s->k.name_len, s->peer_name, s->k.peer_name_len);
	s->file = f->id;
	return (int)n;
}

const struct fd_save_ops fd_unix_save = { .kind = IMG_FILE_UNIX, .match = unix_match,
					  .save = unix_save, .begin = unix_begin,
					  .own = unix_own, .end = unix_end };
#endif
