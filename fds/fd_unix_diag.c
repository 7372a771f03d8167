/*
 * fd_unix_diag.c - what the checkpoint learns of one unix socket: the
 * kernel's sock_diag answer for it (an exact query by inode over a
 * NETLINK_SOCK_DIAG socket, raw system calls: the signal handler asks),
 * its options, and what of it libckpt refuses (fds/fd_unix.c's notes).
 * Cost per socket: one query and its reply, about 12 getsockopt, its
 * fdinfo, one poll.
 */
#include "fds/fd_unix.h"

#ifdef FD_SAVE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

/* The kernel's dev_t (MKDEV: major << 20 | minor) as stat's st_dev. */
static uint64_t kdev_to_dev(uint32_t d)
{
	uint64_t ma = d >> 20, mi = d & 0xfffff;

	return ((ma & 0xfffff000ull) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffffff00ull) << 12) |
	       (mi & 0xff);
}

/* One exact query for socket ino: 0, -ENOENT (no such socket any more), or -errno. */
int usk_diag(struct ckpt_ctx *c, uint64_t ino, struct usk_diag *d)
{
	struct usk_state *u = usk_state(c);
	unsigned char *buf = usk_extra(c)->dbuf;
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = { 0 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	const struct unix_diag_msg *m;
	const unsigned char *a;
	long n;
	size_t left;

	if (u->nl < 0) {
		u->nl = (int)arch_sys3(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
				       NETLINK_SOCK_DIAG);
		if (u->nl < 0) {
			n = u->nl;
			u->nl = -1;
			return (int)n;
		}
	}
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = ~0u;
	req.r.udiag_ino = (uint32_t)ino;
	req.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
			   UDIAG_SHOW_RQLEN;
	req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = ~0u;
	if ((n = arch_sys6(SYS_sendto, u->nl, &req, sizeof(req), 0, &sa, sizeof(sa))) < 0)
		return (int)n;
	do
		n = arch_sys6(SYS_recvfrom, u->nl, buf, USK_DIAG_BUF, 0, 0, 0);
	while (n == -EINTR);
	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(*h) || h->nlmsg_len > (size_t)n)
		return -EIO;
	if (h->nlmsg_type == NLMSG_ERROR)
		return h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr)) ?
		       ((const struct nlmsgerr *)NLMSG_DATA(h))->error : -EIO;
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EIO;
	m = NLMSG_DATA(h);
	__builtin_memset(d, 0, sizeof(*d));
	d->type = m->udiag_type;
	d->state = m->udiag_state;
	a = (const unsigned char *)(m + 1);
	left = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	while (left >= 4) {
		uint16_t alen, atype;
		const unsigned char *v = a + 4;
		size_t vlen;

		__builtin_memcpy(&alen, a, 2);
		__builtin_memcpy(&atype, a + 2, 2);
		if (alen < 4 || alen > left)
			break;
		vlen = alen - 4u;
		switch (atype) {
		case UNIX_DIAG_NAME:
			d->name = (const char *)v;
			d->name_len = vlen > IMG_UNIX_NAME_MAX ? IMG_UNIX_NAME_MAX : (uint32_t)vlen;
			break;
		case UNIX_DIAG_VFS:
			if (vlen >= 8) {
				uint32_t vi, vd;

				__builtin_memcpy(&vi, v, 4);
				__builtin_memcpy(&vd, v + 4, 4);
				d->vfs_ino = vi;
				d->vfs_dev = kdev_to_dev(vd);
			}
			break;
		case UNIX_DIAG_PEER:
			if (vlen >= 4) {
				uint32_t p;

				__builtin_memcpy(&p, v, 4);
				d->peer = p;
				d->has_peer = 1;
			}
			break;
		case UNIX_DIAG_ICONS:
			d->icons = (const uint32_t *)v;	/* 4-byte aligned in the reply */
			d->nicons = (uint32_t)(vlen / 4);
			break;
		case UNIX_DIAG_RQLEN:
			if (vlen >= 8) {
				__builtin_memcpy(&d->rq, v, 4);
				__builtin_memcpy(&d->wq, v + 4, 4);
			}
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (vlen >= 1)
				d->shutdown = v[0];
			break;
		}
		alen = (uint16_t)((alen + 3) & ~3u);
		if (alen >= left)
			break;
		a += alen;
		left -= alen;
	}
	return 0;
}

/* --- reading one socket ----------------------------------------------------- */

int usk_sockopt(int fd, int opt, int def)
{
	int v = def;
	socklen_t len = sizeof(v);

	return arch_sys5(SYS_getsockopt, fd, SOL_SOCKET, opt, &v, &len) < 0 ? def : v;
}

static uint64_t sockopt_us(int fd, int opt)
{
	struct { int64_t sec, usec; } tv = { 0, 0 };
	socklen_t len = sizeof(tv);

	if (arch_sys5(SYS_getsockopt, fd, SOL_SOCKET, opt, &tv, &len) < 0 || tv.sec < 0)
		return 0;
	return (uint64_t)tv.sec * 1000000 + (uint64_t)tv.usec;
}

/* "scm_fds: N" of fd's fdinfo: fds in flight on its queue. */
static uint32_t scm_fds(int fd)
{
	char name[64], buf[512];
	const char *s;

	ckpt_fmt(name, sizeof(name), "/proc/self/fdinfo/%d", fd);
	if (ckpt_read_file(name, buf, sizeof(buf)) < 0 || !(s = __builtin_strstr(buf, "scm_fds:")))
		return 0;
	s += 8;
	while (*s == ' ' || *s == '\t')
		s++;
	return (uint32_t)ckpt_parse_dec(&s);
}

/* " (process 123, dbus-daemon)" for the peer of fd (SO_PEERCRED), or "". */
void usk_peer_process(int fd, char *buf, size_t len)
{
	struct { int32_t pid; uint32_t uid, gid; } cr = { 0, 0, 0 };
	socklen_t cl = sizeof(cr);
	char name[64], comm[64];
	ssize_t n;

	buf[0] = '\0';
	if (arch_sys5(SYS_getsockopt, fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.pid <= 0)
		return;
	ckpt_fmt(name, sizeof(name), "/proc/%d/comm", cr.pid);
	n = ckpt_read_file(name, comm, sizeof(comm));
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	ckpt_fmt(buf, len, " (process %d%s%s, uid %u)", cr.pid, n > 0 ? ", " : "", n > 0 ? comm : "",
		 cr.uid);
}

/* What sock_diag and the socket options say of s, into s->k and its names. */
int usk_read(struct ckpt_ctx *c, struct usk_sock *s)
{
	struct usk_state *u = usk_state(c);
	struct usk_extra *x = usk_extra(c);
	struct usk_diag d;
	struct img_file_unix *k = &s->k;
	char what[64];
	int r = usk_diag(c, s->ino, &d);

	if (r == -ENOENT || r == -EINVAL || r == -EPROTONOSUPPORT)
		return ckpt_fail(c, r, "%s: unix socket %llu: sock_diag cannot describe it (%s): "
				 "libckpt needs the kernel's unix sock_diag (CONFIG_UNIX_DIAG)",
				 usk_what(u, s, what, sizeof(what)), (unsigned long long)s->ino,
				 ckpt_strerror(-r));
	if (r < 0)
		return ckpt_fail(c, r, "%s: cannot ask sock_diag about unix socket %llu: %s",
				 usk_what(u, s, what, sizeof(what)), (unsigned long long)s->ino,
				 ckpt_strerror(-r));
	k->type = d.type;
	s->state_diag = d.state;
	k->shutdown = d.shutdown & 3;
	k->peer = d.has_peer ? d.peer : 0;
	s->has_peer = d.has_peer;
	if (d.name_len) {
		__builtin_memcpy(s->name, d.name, d.name_len);
		k->name_len = (uint16_t)d.name_len;
	}
	k->vfs_dev = d.vfs_dev;
	k->vfs_ino = d.vfs_ino;
	if (d.state == USK_TCP_LISTEN) {
		k->backlog = d.wq;	/* sk_max_ack_backlog */
		s->nicons = d.nicons;
		for (uint32_t i = 0; i < d.nicons; i++) {
			uint32_t ino;

			if (x->nicons >= USK_MAX_ICONS)
				return ckpt_fail(c, -E2BIG, "%s: more than %d connections wait on "
						 "listening unix sockets", usk_what(u, s, what,
						 sizeof(what)), USK_MAX_ICONS);
			__builtin_memcpy(&ino, d.icons + i, 4);
			x->icons[x->nicons++] = (struct usk_icon){ ino, (uint32_t)(s - u->socks), i };
		}
	}
	if (s->holder)
		return 0;	/* another member's (fd_unix_tree.c): what sock_diag says is all */
	/* the peer's name, as getpeername gives it (also for a gone peer) */
	if (d.state == USK_TCP_ESTABLISHED) {
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa);

		if (arch_sys3(SYS_getpeername, s->fd, &sa, &len) == 0 &&
		    len > sizeof(sa.sun_family) && len <= sizeof(sa)) {
			k->peer_name_len = (uint16_t)(len - sizeof(sa.sun_family));
			__builtin_memcpy(s->peer_name, sa.sun_path, k->peer_name_len);
		}
	}
	k->peek_off = usk_sockopt(s->fd, SO_PEEK_OFF, -1);
	k->rcvbuf = usk_sockopt(s->fd, SO_RCVBUF, 0);
	k->sndbuf = usk_sockopt(s->fd, SO_SNDBUF, 0);
	k->rcvlowat = usk_sockopt(s->fd, SO_RCVLOWAT, 1);
	k->rcvtimeo_us = sockopt_us(s->fd, SO_RCVTIMEO);
	k->sndtimeo_us = sockopt_us(s->fd, SO_SNDTIMEO);
	if (usk_sockopt(s->fd, SO_PASSCRED, 0))
		k->uflags |= IMG_UNIX_PASSCRED;
	if (usk_sockopt(s->fd, SO_PASSSEC, 0))
		k->uflags |= IMG_UNIX_PASSSEC;
	if (usk_sockopt(s->fd, SO_PASSPIDFD, 0))
		k->uflags |= IMG_UNIX_PASSPIDFD;
	if (!usk_sockopt(s->fd, SO_PASSRIGHTS, 1))
		k->uflags |= IMG_UNIX_NOPASSRIGHTS;
	s->scm_fds = scm_fds(s->fd);
	return 0;
}

/* Refusals of what a socket has that libckpt cannot make again. */
int usk_refuse_extras(struct ckpt_ctx *c, struct usk_sock *s)
{
	struct usk_state *u = usk_state(c);
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	socklen_t flen = 0;
	char what[64], oob;
	long fl = arch_sys2(SYS_fcntl, s->fd, F_GETFL);

	usk_what(u, s, what, sizeof(what));
	if (s->k.type != SOCK_STREAM && s->k.type != SOCK_DGRAM && s->k.type != SOCK_SEQPACKET)
		return ckpt_fail(c, -ENOTSUP, "%s: a unix socket of type %u, not supported", what,
				 s->k.type);
	if (fl >= 0 && (fl & O_ASYNC))
		return ckpt_fail(c, -ENOTSUP, "%s: a unix socket with O_ASYNC (signal-driven I/O), "
				 "not supported: clear it before the checkpoint", what);
	if (arch_sys5(SYS_getsockopt, s->fd, SOL_SOCKET, SO_GET_FILTER, 0, &flen) == 0 && flen)
		return ckpt_fail(c, -ENOTSUP, "%s: a unix socket with a socket filter (SO_ATTACH_"
				 "FILTER, %u instructions), not supported", what, (unsigned)flen);
	if (s->k.type == SOCK_STREAM && s->state_diag == USK_TCP_ESTABLISHED &&
	    arch_sys6(SYS_recvfrom, s->fd, &oob, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT, 0, 0) == 1)
		return ckpt_fail(c, -ENOTSUP, "%s: a unix stream socket with an out-of-band byte "
				 "(MSG_OOB) not read yet, not supported: read it before the "
				 "checkpoint", what);
	if (arch_sys3(SYS_poll, &pfd, 1, 0) == 1 && (pfd.revents & POLLERR)) {
		/* sk_err: ECONNRESET, when a stream's peer closed with data unread */
		if (s->k.type == SOCK_STREAM && s->state_diag == USK_TCP_ESTABLISHED && !s->k.peer &&
		    s->k.shutdown == 3)
			s->k.uflags |= IMG_UNIX_PEER_RESET;
		else
			return ckpt_fail(c, -ENOTSUP, "%s: a unix %s socket with an error pending "
					 "(its next call fails; reading its queue would take it), not "
					 "supported", what, usk_type_name(s->k.type));
	}
	return 0;
}
#endif
