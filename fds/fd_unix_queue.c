/*
 * fd_unix_queue.c - the messages queued on unix sockets: read without
 * consuming them at checkpoint, sent again from the right socket at
 * restart (format: img_format.h, UNIX_MSG).
 *
 * Reading a queue (pass 0, usk_capture).  The original keeps every
 * message: nothing is received, everything is peeked.  MSG_PEEK sees only
 * the head of a queue; SO_PEEK_OFF moves where the next peek starts (the
 * kernel advances it by what each peek returns), so the whole queue is
 * walked with it set to 0, then put back as the program had it (usually
 * -1, off).  For the walk SO_PASSCRED is turned on (each message's
 * credentials come with it: pid 0 and the overflow uid/gid when it carries
 * none) and SO_PASSPIDFD, SO_PASSSEC off; all put back after.
 *  - Datagrams and seqpacket records: one peek each, its length exact
 *    (MSG_TRUNC would say it is larger than the room left), its sender's
 *    name (recvfrom's).  A datagram of no bytes can be seen by a walk only
 *    once: the kernel marks it peeked, and SO_PEEK_OFF skips peeked empty
 *    datagrams.  So the head is peeked first with SO_PEEK_OFF off (which
 *    skips nothing), and the walk starts after it; pass 1 never walks a
 *    queue again (it has the bytes), and re-peeks a message only for its
 *    fds: one with fds must not be an empty datagram past the head.
 *  - Stream bytes: a peek returns bytes of the same credentials (with
 *    SO_PASSCRED on, the kernel does not join writers), up to and
 *    including the first skb that carries fds, and those fds.  Where that
 *    skb starts cannot be seen: a peek that ends before it still walks on
 *    to it and returns its fds (measured: a 1-byte peek at the head of
 *    "before" + "sock"(fds) returns the fds).  So the stretch is one
 *    record whose fds a restart sends with its first byte, as CRIU does:
 *    a reader that takes the stretch with recvmsg gets them as before, one
 *    that reads the bytes before the fds with read() would lose them
 *    (docs/SUPPORT.md).  A stream is walked only up to the bytes SIOCINQ
 *    counts: a peek of an empty stream would take its pending error.
 *  - fds in flight (SCM_RIGHTS): a peek installs a copy of every fd the
 *    message carries into the process (as a receive would).  Each is
 *    checked like any fd of the process (ckpt_fds_check_extra), held until
 *    the end of the pass and closed; a unix socket among them joins the
 *    table (its own queue is read in turn).  Closing an fd drops the
 *    process's POSIX locks on its file, so a queue with fds in flight
 *    (fdinfo's scm_fds) is read only if the process holds no POSIX lock.
 * Pass 1 (usk_write_queue) writes the bytes read in pass 0; for a message
 * with fds it peeks that message again (SO_PEEK_OFF at its offset) to get
 * them, and writes their FILE records (ckpt_fds_write_extra: an fd of the
 * process or one seen before gives its FILE, else a new one) before the
 * UNIX_MSG that names them.
 *
 * Who sends it again (usk_from): a stream's or seqpacket's bytes come
 * from its peer (a stand-in when the peer is gone).  A datagram from its
 * peer when its sender's name is the peer's; else from the socket of the
 * image bound to that name, or an unnamed one made for it when it had
 * none, to the receiver's name.  Credentials must be this process's: a
 * restart can send only its own (root any, but the pid must exist).
 *
 * A restart sends them again: fds/fd_unix_fill.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "fds/fd_unix.h"

#ifdef FD_SAVE
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

#define STREAM_PEEK	(1u << 20)	/* bytes of one stream record, at most */

/* What one peek returned. */
struct usk_peek {
	long n;				/* bytes, or -errno */
	int flags;			/* msg_flags */
	int creds;			/* an SCM_CREDENTIALS came */
	int32_t pid;
	uint32_t uid, gid;
	int fds[IMG_UNIX_MSG_FDS];
	int nfds;
	char addr[IMG_UNIX_NAME_MAX];
	uint16_t addr_len;
};

static void setopt(int fd, int opt, int v)
{
	arch_sys5(SYS_setsockopt, fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/*
 * One MSG_PEEK of up to len bytes into buf; with_fds: room for the fds it
 * carries (installed, close-on-exec), else none (MSG_CTRUNC says there
 * were some; none installed).  A pidfd (SO_PASSPIDFD is off, but a
 * program's own setting may race) is closed at once.
 */
static void usk_peek(int fd, void *buf, size_t len, int with_fds, struct usk_peek *pk)
{
	union {
		struct cmsghdr h;
		unsigned char b[CMSG_SPACE(sizeof(struct ucred)) +
				CMSG_SPACE(IMG_UNIX_MSG_FDS * sizeof(int)) + CMSG_SPACE(sizeof(int))];
	} cb;
	struct sockaddr_un sa;
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = cb.b,
			    .msg_controllen = with_fds ? sizeof(cb.b) :
					      CMSG_SPACE(sizeof(struct ucred)) };
	size_t off = 0;

	pk->creds = pk->nfds = 0;
	pk->addr_len = 0;
	do
		pk->n = arch_sys3(SYS_recvmsg, fd, &m, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (pk->n == -EINTR);
	if (pk->n < 0)
		return;
	pk->flags = m.msg_flags;
	if (m.msg_namelen > sizeof(sa.sun_family) && m.msg_namelen <= sizeof(sa)) {
		pk->addr_len = (uint16_t)(m.msg_namelen - sizeof(sa.sun_family));
		__builtin_memcpy(pk->addr, sa.sun_path, pk->addr_len);
	}
	/* the cmsgs, walked by hand (CMSG_NXTHDR is a libc call) */
	while (off + sizeof(struct cmsghdr) <= m.msg_controllen) {
		struct cmsghdr *h = (struct cmsghdr *)(cb.b + off);
		size_t dl;

		if (h->cmsg_len < sizeof(*h) || off + h->cmsg_len > m.msg_controllen)
			break;
		dl = h->cmsg_len - CMSG_LEN(0);
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS &&
		    dl >= sizeof(struct ucred)) {
			struct ucred u;

			__builtin_memcpy(&u, CMSG_DATA(h), sizeof(u));
			pk->creds = 1;
			pk->pid = u.pid;
			pk->uid = u.uid;
			pk->gid = u.gid;
		} else if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
			for (size_t i = 0; i + sizeof(int) <= dl && pk->nfds < IMG_UNIX_MSG_FDS;
			     i += sizeof(int))
				__builtin_memcpy(&pk->fds[pk->nfds++], CMSG_DATA(h) + i, sizeof(int));
		} else if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_PIDFD &&
			   dl >= sizeof(int)) {
			int pfd;

			__builtin_memcpy(&pfd, CMSG_DATA(h), sizeof(int));
			ckpt_close(pfd);
		}
		off += CMSG_ALIGN(h->cmsg_len);
	}
}

/* ... reading the process's fdinfo files: whether any shows a POSIX lock. */
static int fdinfo_posix(int fd, int dirfd, void *arg)
{
	struct ckpt_ctx *c = arg;
	char name[64];
	char *buf = (char *)c->bounce;
	ssize_t n;

	if (fd == dirfd)
		return 0;
	ckpt_fmt(name, sizeof(name), "/proc/self/fdinfo/%d", fd);
	n = ckpt_read_file(name, buf, IMG_PAGES_MAX * IMG_PAGE_SIZE);
	if (n == -E2BIG)
		return -1;		/* that many lock lines: assume the worst */
	return n > 0 && __builtin_strstr(buf, " POSIX ") ? -1 : 0;	/* -1 stops the walk */
}

/*
 * Whether the process holds a POSIX lock: every one shows in the fdinfo of
 * the fd it was taken through, which is still open (a close would have
 * dropped it).  Read once per checkpoint, when a queue has fds in flight.
 */
static int posix_locks(struct ckpt_ctx *c)
{
	struct usk_state *u = usk_state(c);

	if (u->posix_locks < 0)
		u->posix_locks = ckpt_proc_each("/proc/self/fd", fdinfo_posix, c) != 0;	/* or unreadable */
	return u->posix_locks;
}

/* An installed fd in flight moved above 2 (fd_inherit.c takes 0-2) and held. */
static int keep_fd(struct ckpt_ctx *c, int *fd)
{
	if (*fd <= 2) {
		long n = arch_sys3(SYS_fcntl, *fd, F_DUPFD_CLOEXEC, 3);

		ckpt_close(*fd);
		if (n < 0)
			return ckpt_fail(c, (int)n, "cannot move an fd in flight above 2");
		*fd = (int)n;
	}
	return usk_hold(c, *fd);
}

/* Pass 0: what each fd a message carries is; a unix socket joins the table. */
static int check_fds(struct ckpt_ctx *c, struct usk_sock *s, struct usk_msg *m,
		     struct usk_peek *pk)
{
	struct usk_state *u = usk_state(c);
	char what[64], how[96];

	usk_what(u, s, what, sizeof(what));
	ckpt_fmt(how, sizeof(how), "an fd in flight on %s", what);
	m->fd0 = u->nfds;
	for (int i = 0; i < pk->nfds; i++)
		if (keep_fd(c, &pk->fds[i]) < 0)
			return c->error;
	for (int i = 0; i < pk->nfds; i++) {
		int fd = pk->fds[i];
		struct usk_fd *f;
		struct stat st;
		uint32_t kind = 0;
		int r;

		if (u->nfds >= USK_MAX_FDS)
			return ckpt_fail(c, -E2BIG, "%s: more than %d fds in flight on unix sockets",
					 what, USK_MAX_FDS);
		if (fstat(fd, &st) < 0)
			return ckpt_fail(c, -errno, "%s: cannot look at an fd in flight", what);
		f = &u->fds[u->nfds++];
		*f = (struct usk_fd){ st.st_dev, st.st_ino, 0, 0, -1 };
		if (S_ISSOCK(st.st_mode)) {
			int dom = -1;
			socklen_t len = sizeof(dom);

			arch_sys5(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &dom, &len);
			if (dom == AF_UNIX) {
				struct usk_sock *t = usk_find(u, st.st_ino);

				if (!t && !(t = usk_add(c, st.st_ino, fd, 1)))
					return c->error;
				if (t->inherit)
					return ckpt_fail(c, -ENOTSUP, "%s: a message queued on it "
							 "carries fd %d's socket, which a restart "
							 "inherits: not supported", what, t->fd);
				if (t->inflight && t->carrier < 0)
					t->carrier = (int)(s - u->socks);
				f->kind = IMG_FILE_UNIX;
				f->sock = (int)(t - u->socks);
				continue;
			}
		}
		r = ckpt_fds_check_extra(c, fd, how, &kind);
		if (r == -ENOTSUP && !c->error) {
			char path[256];
			char link[64];
			ssize_t n;

			ckpt_fmt(link, sizeof(link), "/proc/self/fd/%d", fd);
			n = readlink(link, path, sizeof(path) - 1);
			path[n < 0 ? 0 : n] = '\0';
			return ckpt_fail(c, -ENOTSUP, "%s: a message queued on it carries an fd in "
					 "flight of a kind not supported (%s): a restart could not "
					 "send it again; receive it before the checkpoint", what, path);
		}
		if (r < 0)
			return c->error ? c->error : ckpt_fail(c, r, "%s: cannot check an fd in "
							       "flight", what);
		f->kind = kind;
	}
	m->nfds = (uint16_t)pk->nfds;
	return 0;
}

/* A message peeked at pos into the data area: one entry (its address after its bytes). */
static int add_msg(struct ckpt_ctx *c, struct usk_sock *s, struct usk_peek *pk, uint64_t qoff,
		   uint64_t data, uint32_t len, int head)
{
	struct usk_state *u = usk_state(c);
	struct usk_msg *m;
	char what[64];

	if (u->nmsgs >= USK_MAX_MSGS)
		return ckpt_fail(c, -E2BIG, "%s: more than %d messages queued on unix sockets",
				 usk_what(u, s, what, sizeof(what)), USK_MAX_MSGS);
	m = &u->msgs[u->nmsgs++];
	__builtin_memset(m, 0, sizeof(*m));
	m->data = data;
	m->qoff = qoff;
	m->len = len;
	m->head = head;
	m->fd0 = u->nfds;
	/* no credentials: what the kernel shows for a message that carries none */
	if (pk->creds && !(pk->pid == 0 && pk->uid == u->overflow_uid &&
			   pk->gid == u->overflow_gid)) {
		m->flags = IMG_UNIX_MSG_CREDS;
		m->pid = pk->pid;
		m->uid = pk->uid;
		m->gid = pk->gid;
	}
	if (s->k.type == SOCK_DGRAM && pk->addr_len) {
		if (u->ndata + pk->addr_len > u->data_cap)
			return ckpt_fail(c, -E2BIG, "unix socket queues hold more than %llu bytes",
					 (unsigned long long)u->data_cap);
		__builtin_memcpy(u->data + data + len, pk->addr, pk->addr_len);
		m->addr_len = pk->addr_len;
		u->ndata += pk->addr_len;
	}
	if (!s->nmsg)
		s->msg0 = (uint32_t)(m - u->msgs);
	s->nmsg++;
	return pk->nfds ? check_fds(c, s, m, pk) : 0;
}

/* Room for one more peek: the bytes left, or the refusal. */
static long room(struct ckpt_ctx *c, struct usk_sock *s, size_t want)
{
	struct usk_state *u = usk_state(c);
	uint64_t left = u->data_cap - u->ndata;
	char what[64];

	if (left < IMG_UNIX_NAME_MAX + 1)
		return ckpt_fail(c, -E2BIG, "%s: unix socket queues hold more than %llu bytes: "
				 "libckpt saves at most that much", usk_what(u, s, what,
				 sizeof(what)), (unsigned long long)u->data_cap);
	left -= IMG_UNIX_NAME_MAX;
	return (long)(left < want ? left : want);
}

/* Datagrams and seqpacket records: the head, then a walk from after it. */
static int capture_records(struct ckpt_ctx *c, struct usk_sock *s, int with_fds)
{
	struct usk_state *u = usk_state(c);
	struct usk_peek pk;
	uint64_t off = 0;
	char what[64];
	long cap;
	int head = 1;

	setopt(s->fd, SO_PEEK_OFF, -1);
	for (;;) {
		if ((cap = room(c, s, IMG_UNIX_MSG_MAX)) < 0)
			return c->error;
		usk_peek(s->fd, u->data + u->ndata, (size_t)cap, with_fds, &pk);
		/* nothing queued; or shut down and empty: a message has credentials, EOF none */
		if (pk.n == -EAGAIN || (pk.n == 0 && !pk.creds))
			return 0;
		if (pk.n < 0)
			return ckpt_fail(c, (int)pk.n, "%s: cannot read its queue: %s",
					 usk_what(u, s, what, sizeof(what)), ckpt_strerror((int)-pk.n));
		if (pk.flags & MSG_TRUNC)
			return ckpt_fail(c, -E2BIG, "%s: a datagram queued on it is larger than "
					 "the %ld bytes libckpt has room for",
					 usk_what(u, s, what, sizeof(what)), cap);
		if ((pk.flags & MSG_CTRUNC) && (with_fds || pk.nfds))
			return ckpt_fail(c, -EMFILE, "%s: cannot receive a copy of the fds in "
					 "flight on it (the process is at its fd limit?)",
					 usk_what(u, s, what, sizeof(what)));
		if (pk.nfds && !head && pk.n == 0)
			return ckpt_fail(c, -ENOTSUP, "%s: an empty datagram carrying fds is "
					 "queued on it, not first: libckpt can look at it only once "
					 "(the kernel marks it seen); receive it before the checkpoint",
					 usk_what(u, s, what, sizeof(what)));
		if (add_msg(c, s, &pk, off, u->ndata, (uint32_t)pk.n, head) < 0)
			return c->error;
		u->ndata += (uint64_t)pk.n;
		off += (uint64_t)pk.n;
		if (head) {
			head = 0;
			setopt(s->fd, SO_PEEK_OFF, (int)off);
		}
		if (off > INT32_MAX)
			return ckpt_fail(c, -E2BIG, "%s: more than 2 GiB queued",
					 usk_what(u, s, what, sizeof(what)));
	}
}

/*
 * Stream bytes: walked from 0 up to the bytes queued (SIOCINQ), never past
 * them: a peek of an empty stream would take its pending error (ECONNRESET
 * after a peer closed with bytes unread), which the program must get.
 * Split where an skb with fds starts.
 */
static int capture_stream(struct ckpt_ctx *c, struct usk_sock *s, int with_fds)
{
	struct usk_state *u = usk_state(c);
	struct usk_peek pk;
	uint64_t off = 0;
	char what[64];
	long cap;
	int inq = 0;

	if (arch_sys3(SYS_ioctl, s->fd, SIOCINQ, &inq) < 0 || inq < 0)
		return ckpt_fail(c, -EIO, "%s: cannot tell how many bytes are queued on it",
				 usk_what(u, s, what, sizeof(what)));
	while (off < (uint64_t)inq) {
		setopt(s->fd, SO_PEEK_OFF, (int)off);
		if ((cap = room(c, s, STREAM_PEEK)) < 0)
			return c->error;
		if ((uint64_t)cap > inq - off)
			cap = (long)(inq - off);
		usk_peek(s->fd, u->data + u->ndata, (size_t)cap, with_fds, &pk);
		if (pk.n == -EAGAIN || pk.n == 0)
			return ckpt_fail(c, -EIO, "%s: its queue shrank during the checkpoint",
					 usk_what(u, s, what, sizeof(what)));
		if (pk.n < 0)
			return ckpt_fail(c, (int)pk.n, "%s: cannot read its queue: %s",
					 usk_what(u, s, what, sizeof(what)), ckpt_strerror((int)-pk.n));
		if ((pk.flags & MSG_CTRUNC) && with_fds)
			return ckpt_fail(c, -EMFILE, "%s: cannot receive a copy of the fds in "
					 "flight on it (the process is at its fd limit?)",
					 usk_what(u, s, what, sizeof(what)));
		if (add_msg(c, s, &pk, off, u->ndata, (uint32_t)pk.n, 0) < 0)
			return c->error;
		u->ndata += (uint64_t)pk.n;
		off += (uint64_t)pk.n;
	}
	return 0;
}

int usk_capture(struct ckpt_ctx *c, struct usk_sock *s)
{
	struct usk_state *u = usk_state(c);
	const uint32_t fl = s->k.uflags;
	int with_fds = s->scm_fds > 0, r;
	char what[64];

	if (s->state_diag == USK_TCP_LISTEN)	/* TCP_LISTEN: connections, not messages */
		return 0;
	if (!u->overflow_uid) {
		char buf[32];
		const char *p = buf;

		u->overflow_uid = u->overflow_gid = 65534;
		if (ckpt_read_file("/proc/sys/kernel/overflowuid", buf, sizeof(buf)) > 0)
			u->overflow_uid = (uint32_t)ckpt_parse_dec(&p);
		p = buf;
		if (ckpt_read_file("/proc/sys/kernel/overflowgid", buf, sizeof(buf)) > 0)
			u->overflow_gid = (uint32_t)ckpt_parse_dec(&p);
	}
	if (with_fds && posix_locks(c))
		return ckpt_fail(c, -ENOTSUP, "%s: %u fds are in flight on this unix socket, and the "
				 "process holds POSIX locks: libckpt must receive a copy of each fd "
				 "in flight to save it, and closing that copy would drop the "
				 "process's POSIX locks on its file; receive them before the "
				 "checkpoint", usk_what(u, s, what, sizeof(what)), s->scm_fds);
	setopt(s->fd, SO_PASSCRED, 1);
	if (fl & IMG_UNIX_PASSPIDFD)
		setopt(s->fd, SO_PASSPIDFD, 0);
	if (fl & IMG_UNIX_PASSSEC)
		setopt(s->fd, SO_PASSSEC, 0);
	r = s->k.type == SOCK_STREAM ? capture_stream(c, s, with_fds) :
				       capture_records(c, s, with_fds);
	/* the program's settings back, whatever happened */
	setopt(s->fd, SO_PEEK_OFF, s->k.peek_off);
	setopt(s->fd, SO_PASSCRED, !!(fl & IMG_UNIX_PASSCRED));
	if (fl & IMG_UNIX_PASSPIDFD)
		setopt(s->fd, SO_PASSPIDFD, 1);
	if (fl & IMG_UNIX_PASSSEC)
		setopt(s->fd, SO_PASSSEC, 1);
	return r;
}

static int names_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (!alen || ckpt_memeq(a, b, alen));
}

/* The datagram socket of the image bound to name, or NULL. */
static struct usk_sock *bound_to(struct usk_state *u, const char *name, size_t len)
{
	for (uint32_t i = 0; len && i < u->nsocks; i++) {
		struct usk_sock *x = &u->socks[i];

		if (!x->inherit && x->k.type == SOCK_DGRAM && names_eq(x->name, x->k.name_len, name, len))
			return x;
	}
	return NULL;
}

int usk_from(struct ckpt_ctx *c, struct usk_sock *s)
{
	struct usk_state *u = usk_state(c);
	const struct img_file_unix *k = &s->k;
	char what[64], who[IMG_UNIX_NAME_MAX + 8];

	usk_what(u, s, what, sizeof(what));
	if (s->nmsg && k->state != IMG_UNIX_CONNECTED && k->type != SOCK_DGRAM)
		return ckpt_fail(c, -ENOTSUP, "%s: a unix %s socket that is not connected has %u "
				 "messages queued, which a restart cannot send it again", what,
				 usk_type_name(k->type), s->nmsg);
	for (uint32_t i = 0; i < s->nmsg; i++) {
		struct usk_msg *m = &u->msgs[s->msg0 + i];
		const char *addr = (const char *)u->data + m->data + m->len;
		struct usk_sock *p = k->peer ? usk_find(u, k->peer) : NULL, *x;

		/* a tree's restart queues every message before its processes exist */
		if ((m->flags & IMG_UNIX_MSG_CREDS) && c->tree)
			return ckpt_fail(c, -ENOTSUP, "%s: a message queued on it carries the "
					 "credentials of process %d (SCM_CREDENTIALS): in a process "
					 "tree a restart queues every message before the tree's "
					 "processes exist, so it cannot send them; receive it before "
					 "the checkpoint (or turn SO_PASSCRED off)", what, m->pid);
		if ((m->flags & IMG_UNIX_MSG_CREDS) && m->pid != u->self)
			return ckpt_fail(c, -ENOTSUP, "%s: a message queued on it carries the "
					 "credentials of process %d (SCM_CREDENTIALS), not of this "
					 "process (%d): a restart can send only its own; receive it "
					 "before the checkpoint", what, m->pid, u->self);
		m->how = IMG_UNIX_FROM_PEER;
		if (k->type != SOCK_DGRAM)
			continue;
		/* from its peer, when the sender's name is the peer's */
		if ((p && names_eq(p->name, p->k.name_len, addr, m->addr_len)) ||
		    ((k->uflags & IMG_UNIX_PEER_GONE) &&
		     names_eq(s->peer_name, k->peer_name_len, addr, m->addr_len)))
			continue;
		if (k->state == IMG_UNIX_UNCONNECTED && k->name_len) {
			if (!m->addr_len) {
				m->how = IMG_UNIX_FROM_ANON;
				continue;
			}
			if ((x = bound_to(u, addr, m->addr_len)) && x != s) {
				m->how = IMG_UNIX_FROM_SOCKET;
				m->sender = x->ino;
				continue;
			}
		}
		usk_name_text(addr, m->addr_len, who, sizeof(who));
		return ckpt_fail(c, -ENOTSUP, "%s: a datagram from %s is queued on it, sent by a "
				 "socket outside the image (or before it connected), which a "
				 "restart cannot send it again; receive it before the checkpoint",
				 what, m->addr_len ? who : "an unnamed socket");
	}
	return 0;
}

/* Pass 1: the fds message m carries, received again (held), their FILE ids into ids. */
static int refetch_fds(struct ckpt_ctx *c, struct usk_sock *s, const struct usk_msg *m,
		       uint32_t *ids)
{
	struct usk_state *u = usk_state(c);
	struct usk_peek pk;
	char what[64], how[96];
	unsigned char one;
	int r = 0;

	usk_what(u, s, what, sizeof(what));
	ckpt_fmt(how, sizeof(how), "an fd in flight on %s", what);
	setopt(s->fd, SO_PEEK_OFF, m->head ? -1 : (int)m->qoff);
	if (s->k.uflags & IMG_UNIX_PASSPIDFD)
		setopt(s->fd, SO_PASSPIDFD, 0);
	usk_peek(s->fd, m->len ? (void *)(u->data + u->ndata) : &one, m->len ? m->len : 1, 1, &pk);
	setopt(s->fd, SO_PEEK_OFF, s->k.peek_off);
	if (s->k.uflags & IMG_UNIX_PASSPIDFD)
		setopt(s->fd, SO_PASSPIDFD, 1);
	for (int i = 0; i < pk.nfds; i++)
		if (keep_fd(c, &pk.fds[i]) < 0)
			return c->error;
	if (pk.n != (long)m->len || pk.nfds != m->nfds)
		return ckpt_fail(c, -EIO, "%s: its queue changed during the checkpoint (a message "
				 "with %u fds at offset %llu)", what, m->nfds,
				 (unsigned long long)m->qoff);
	for (int i = 0; i < pk.nfds && !r; i++) {
		const struct usk_fd *f = &u->fds[m->fd0 + i];
		int64_t id;

		/* a socket only in flight: its queue is read through this fd (later) */
		if (f->sock >= 0 && u->socks[f->sock].inflight)
			u->socks[f->sock].fd = pk.fds[i];
		if ((id = ckpt_fds_write_extra(c, pk.fds[i], how)) < 0)
			r = -1;
		else
			ids[i] = (uint32_t)id;
	}
	return r < 0 ? c->error : 0;
}

int usk_write_queue(struct ckpt_ctx *c, struct usk_sock *s)
{
	struct usk_state *u = usk_state(c);
	unsigned char *a = (unsigned char *)c->bounce + (IMG_PAGES_MAX - 1) * IMG_PAGE_SIZE;

	if (!s->file)		/* its FILE is another's (an earlier member of a tree): so is its queue */
		return 0;

	for (uint32_t i = 0; i < s->nmsg; i++) {
		const struct usk_msg *m = &u->msgs[s->msg0 + i];
		struct img_unix_msg r = { .file = s->file, .how = m->how, .flags = m->flags,
					  .len = m->len, .nfds = m->nfds, .addr_len = m->addr_len,
					  .pid = m->pid, .uid = m->uid, .gid = m->gid,
					  .sender = m->sender };
		uint32_t ids[IMG_UNIX_MSG_FDS];
		size_t alen = sizeof(r);

		if (m->nfds && refetch_fds(c, s, m, ids) < 0)
			return c->error;
		/* struct, ids and address in one piece (bounce's last page), the bytes apart */
		__builtin_memcpy(a, &r, sizeof(r));
		__builtin_memcpy(a + alen, ids, m->nfds * sizeof(uint32_t));
		alen += m->nfds * sizeof(uint32_t);
		__builtin_memcpy(a + alen, u->data + m->data + m->len, m->addr_len);
		alen += m->addr_len;
		if (img_write_record(&c->w, IMG_REC_UNIX_MSG, a, alen, u->data + m->data, m->len) < 0)
			return c->w.error;
	}
	return 0;
}
#endif
