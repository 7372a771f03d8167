/*
 * fd_inet.c - TCP and UDP sockets over IPv4 and IPv6: bound, listening,
 * connected (UDP), established (TCP) with their bytes in flight.  The kind
 * in two files: this one (the record check, names for messages, the save
 * half) and fd_inet_make.c (the restore half).
 *
 * Save.  What a socket is comes from the socket itself: getsockname and
 * getpeername, SO_DOMAIN/SO_TYPE/SO_PROTOCOL, the options (SO_REUSEADDR,
 * SO_REUSEPORT, SO_KEEPALIVE and TCP_KEEP*, TCP_NODELAY, TCP_DEFER_ACCEPT,
 * SO_LINGER, IPV6_V6ONLY, the buffer sizes) and TCP_INFO, which gives the
 * state and, for a listener, the backlog and the connections waiting to be
 * accepted (what ss shows: sk_max_ack_backlog, sk_ack_backlog).
 *
 * A TCP connection is saved the TCP_REPAIR way (after CRIU's soccr): in
 * repair mode the socket sends nothing, its queues can be read with
 * MSG_PEEK (TCP_REPAIR_QUEUE selects receive or send queue) and their
 * sequence numbers with TCP_QUEUE_SEQ, and TCP_REPAIR_WINDOW,
 * TCP_TIMESTAMP and TCP_MAXSEG give the rest.  save() puts the socket in
 * repair mode and reads all of it at once (again until two reads agree: an
 * ACK may still arrive) into a buffer mapped for the write pass (receive
 * queue, then send queue IMG_INET_QUEUE_MAX further: a loopback socket's
 * send queue alone grows to 4 MiB, more than the checkpoint's scratch
 * spares; mapped after /proc/self/maps was read and unmapped at the end of
 * the pass, so never part of the image); contents() writes the INET_QUEUE
 * records.  The end of the
 * write pass takes every socket out of repair mode (without the window
 * probe) - except when the process ends after the checkpoint (ckpt-save
 * --exit): then the sockets stay in repair mode and the kernel closes them
 * silently (no FIN, no RST), so a migrated connection can be repaired at
 * the other end.  TCP_REPAIR needs CAP_NET_ADMIN: without it a connection
 * is refused, by name, at the check pass.
 *
 * Whether a connection's peer is in the image is decided by the restart,
 * which sees every FILE of a tree (ckpt-restart --tcp=, fd_inet_make.c).
 *
 * Refused, by name: raw sockets, packet sockets, protocols other than TCP
 * and UDP (SCTP, ICMP ping, MPTCP...), TCP in any state but CLOSE, LISTEN
 * and ESTABLISHED (a connection half closed, being opened or closed), a
 * listener with connections waiting to be accepted (only accept() can
 * take them, and a restart cannot put them back), a queue over
 * IMG_INET_QUEUE_MAX.  Datagrams waiting on a UDP socket are not saved:
 * UDP may lose any datagram, and these are lost (docs/SUPPORT.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "fds/fd_inet.h"

const char *inet_proto_name(uint32_t protocol)
{
	return protocol == IPPROTO_TCP ? "TCP" : protocol == IPPROTO_UDP ? "UDP" : "?";
}

const char *inet_family_name(uint32_t family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "?";
}

const char *inet_state_name(uint32_t state)
{
	switch (state) {
	case IMG_INET_CLOSED:	   return "unconnected";
	case IMG_INET_LISTEN:	   return "listening";
	case IMG_INET_CONNECTED:   return "connected";
	case IMG_INET_ESTABLISHED: return "established";
	default:		   return "?";
	}
}

const char *inet_tcp_state_name(int st)
{
	static const char *const names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV",
		"FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
		"CLOSING", "NEW_SYN_RECV" };

	return st > 0 && st < (int)(sizeof(names) / sizeof(names[0])) ? names[st] : "?";
}

static void put_hex(char *buf, size_t len, size_t *n, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	char t[4];
	int k = 0;

	do
		t[k++] = hex[v & 15];
	while ((v >>= 4) && k < 4);
	while (k && *n + 1 < len)
		buf[(*n)++] = t[--k];
}

static void put_dec(char *buf, size_t len, size_t *n, unsigned v)
{
	char t[12];
	int k = 0;

	do
		t[k++] = (char)('0' + v % 10);
	while ((v /= 10) && k < 11);
	while (k && *n + 1 < len)
		buf[(*n)++] = t[--k];
}

/* Written without stdio: the save half calls it in the signal handler. */
void inet_addr_text(uint32_t family, const uint8_t *a, uint16_t port, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return;
	if (family == AF_INET) {
		for (int i = 0; i < 4; i++) {
			if (i && n + 1 < len)
				buf[n++] = '.';
			put_dec(buf, len, &n, a[i]);
		}
	} else {
		if (n + 1 < len)
			buf[n++] = '[';
		for (int i = 0; i < 8; i++) {
			if (i && n + 1 < len)
				buf[n++] = ':';
			put_hex(buf, len, &n, (unsigned)(a[2 * i] << 8 | a[2 * i + 1]));
		}
		if (n + 1 < len)
			buf[n++] = ']';
	}
	if (n + 1 < len)
		buf[n++] = ':';
	put_dec(buf, len, &n, port);
	buf[n] = '\0';
}

static int inet_valid(const struct img_file *f, const char *path, const void *data, char *err,
		      size_t len)
{
	const struct img_file_inet *k = data;
	int tcp;

	if (f->data_len != sizeof(*k)) {
		snprintf(err, len, "%u bytes of kind data, not %zu", f->data_len, sizeof(*k));
		return -1;
	}
	tcp = k->type == SOCK_STREAM && k->protocol == IPPROTO_TCP;
	if ((k->family != AF_INET && k->family != AF_INET6) ||
	    (!tcp && !(k->type == SOCK_DGRAM && k->protocol == IPPROTO_UDP))) {
		snprintf(err, len, "family %u, type %u, protocol %u: not TCP or UDP over IPv4 or IPv6",
			 k->family, k->type, k->protocol);
		return -1;
	}
	if (k->state > IMG_INET_ESTABLISHED ||
	    (tcp ? k->state == IMG_INET_CONNECTED : (k->state == IMG_INET_LISTEN ||
						     k->state == IMG_INET_ESTABLISHED))) {
		snprintf(err, len, "state %u for a %s socket", k->state,
			 inet_proto_name(k->protocol));
		return -1;
	}
	if ((k->iflags & ~(uint32_t)IMG_INET_FLAGS) || k->reserved ||
	    (k->family == AF_INET && k->scope_id) ||
	    (k->family == AF_INET && (k->iflags & IMG_INET_V6ONLY))) {
		snprintf(err, len, "flags 0x%x, reserved %u, scope %u", k->iflags, k->reserved,
			 k->scope_id);
		return -1;
	}
	if (k->state != IMG_INET_CLOSED && !k->lport) {
		snprintf(err, len, "a %s socket with no local port", inet_state_name(k->state));
		return -1;
	}
	if ((k->state == IMG_INET_CONNECTED || k->state == IMG_INET_ESTABLISHED) != !!k->pport) {
		snprintf(err, len, "a %s socket with peer port %u", inet_state_name(k->state), k->pport);
		return -1;
	}
	if (k->rcvbuf < 0 || k->sndbuf < 0 || k->keepidle < 0 || k->keepintvl < 0 ||
	    k->keepcnt < 0 || k->linger < 0 || k->defer_accept < 0) {
		snprintf(err, len, "a negative option value");
		return -1;
	}
	if (k->state != IMG_INET_ESTABLISHED || !(k->iflags & IMG_INET_REPAIR)) {
		if (k->inq_len || k->outq_len || k->unsq_len ||
		    (k->iflags & (IMG_INET_OPT_TS | IMG_INET_OPT_SACK | IMG_INET_OPT_WSCALE |
				  IMG_INET_WINDOW))) {
			snprintf(err, len, "repair state without IMG_INET_REPAIR");
			return -1;
		}
	} else if (k->inq_len > IMG_INET_QUEUE_MAX || k->outq_len > IMG_INET_QUEUE_MAX ||
		   k->unsq_len > k->outq_len || k->snd_wscale > 14 || k->rcv_wscale > 14 ||
		   !k->mss_clamp || k->mss_clamp > 65535) {
		snprintf(err, len, "queues %u/%u (%u unsent), wscale %u/%u, mss %u out of range",
			 k->inq_len, k->outq_len, k->unsq_len, k->snd_wscale, k->rcv_wscale,
			 k->mss_clamp);
		return -1;
	}
	(void)path;
	return 0;
}

const struct fd_kind_info fd_inet_info = { .kind = IMG_FILE_INET, .name = "TCP/UDP socket",
					   .valid = inet_valid };

#ifdef FD_SAVE
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

#include <sys/mman.h>

#define INET_BUF_RECV	0			/* in qbuf, save() to contents() */
#define INET_BUF_SEND	IMG_INET_QUEUE_MAX
#define INET_BUF_LEN	(2 * (size_t)IMG_INET_QUEUE_MAX)
#define INET_MAX_REPAIR	4096			/* connections in repair mode at once */

/*
 * The sockets this checkpoint put in repair mode, taken out of it at the
 * end of the pass (or left in it for an exit).  A checkpoint runs in one
 * thread of one process at a time: static is enough.
 */
static struct { int fd, reuse; } repaired[INET_MAX_REPAIR];
static int nrepaired;
/* What save() read of the connection contents() writes (the same fd). */
static struct { int fd; uint32_t inq, outq; } captured = { -1, 0, 0 };
/* The queues' buffer (pages touched only as far as the queues go), or NULL. */
static unsigned char *qbuf;

static int qbuf_map(struct ckpt_ctx *c)
{
	long p;

	if (qbuf)
		return 0;
	p = arch_sys6(SYS_mmap, 0, INET_BUF_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p < 0 && p > -4096)
		return ckpt_fail(c, (int)p, "cannot map %zu MiB to read TCP queues into",
				 INET_BUF_LEN >> 20);
	qbuf = (unsigned char *)p;
	return 0;
}

static void qbuf_unmap(void)
{
	if (qbuf)
		arch_sys2(SYS_munmap, qbuf, INET_BUF_LEN);
	qbuf = NULL;
}

static int sopt(int fd, int level, int opt, int def)
{
	int v = def;
	socklen_t len = sizeof(v);

	return arch_sys5(SYS_getsockopt, fd, level, opt, &v, &len) < 0 ? def : v;
}

static long set_int(int fd, int level, int opt, int v)
{
	return arch_sys5(SYS_setsockopt, fd, level, opt, &v, sizeof(v));
}

static int tcp_info_of(int fd, struct inet_tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	__builtin_memset(ti, 0, sizeof(*ti));
	return arch_sys5(SYS_getsockopt, fd, IPPROTO_TCP, TCP_INFO, ti, &len) < 0 ? -1 : 0;
}

/* family, local and peer address of fd, in image form; "ADDR -> PEER" for messages */
static void addrs(int fd, struct img_file_inet *k, char *text, size_t tlen)
{
	struct sockaddr_in6 sa;
	socklen_t len;
	char a[64], b[64];

	__builtin_memset(&sa, 0, sizeof(sa));
	len = sizeof(sa);
	if (arch_sys3(SYS_getsockname, fd, &sa, &len) == 0) {
		if (sa.sin6_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

			__builtin_memcpy(k->local, &s4->sin_addr, 4);
			k->lport = ntohs(s4->sin_port);
		} else {
			__builtin_memcpy(k->local, &sa.sin6_addr, 16);
			k->lport = ntohs(sa.sin6_port);
			k->scope_id = sa.sin6_scope_id;
		}
	}
	__builtin_memset(&sa, 0, sizeof(sa));
	len = sizeof(sa);
	if (arch_sys3(SYS_getpeername, fd, &sa, &len) == 0) {
		if (sa.sin6_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

			__builtin_memcpy(k->peer, &s4->sin_addr, 4);
			k->pport = ntohs(s4->sin_port);
		} else {
			__builtin_memcpy(k->peer, &sa.sin6_addr, 16);
			k->pport = ntohs(sa.sin6_port);
		}
	}
	inet_addr_text(k->family, k->local, k->lport, a, sizeof(a));
	if (k->pport) {
		inet_addr_text(k->family, k->peer, k->pport, b, sizeof(b));
		ckpt_fmt(text, tlen, "%s -> %s", a, b);
	} else {
		ckpt_fmt(text, tlen, "%s", k->lport ? a : "(not bound)");
	}
}

static int inet_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	int dom;

	/* fds 0-2 on a socket are inherited from ckpt-restart, as before (inetd's way) */
	if (!S_ISSOCK(p->st.st_mode) || (p->fd >= 0 && p->fd <= 2))
		return 0;
	dom = sopt(p->fd, SOL_SOCKET, SO_DOMAIN, -1);
	return dom == AF_INET || dom == AF_INET6 || dom == AF_PACKET;
}

/* What the socket is, with the refusal of what cannot come back. */
static int inet_read(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file_inet *k,
		     char *text, size_t tlen, struct inet_tcp_info *ti)
{
	int dom = sopt(p->fd, SOL_SOCKET, SO_DOMAIN, -1);
	int type = sopt(p->fd, SOL_SOCKET, SO_TYPE, -1);
	int proto = sopt(p->fd, SOL_SOCKET, SO_PROTOCOL, -1);
	const char *fam = dom == AF_INET ? "an IPv4" : "an IPv6";

	__builtin_memset(k, 0, sizeof(*k));
	if (dom == AF_PACKET)
		return ckpt_fail(c, -ENOTSUP, "fd %d: a packet socket (AF_PACKET, %s): raw packet "
				 "capture is not supported; close it before the checkpoint%s",
				 p->fd, p->path, p->origin);
	if (type == SOCK_RAW)
		return ckpt_fail(c, -ENOTSUP, "fd %d: a raw %s socket (SOCK_RAW, protocol %d, %s): "
				 "raw sockets are not supported; close it before the checkpoint%s",
				 p->fd, dom == AF_INET ? "IPv4" : "IPv6", proto, p->path, p->origin);
	if (!((type == SOCK_STREAM && proto == IPPROTO_TCP) ||
	      (type == SOCK_DGRAM && proto == IPPROTO_UDP)))
		return ckpt_fail(c, -ENOTSUP, "fd %d: %s socket of type %d, protocol %d (%s): only "
				 "TCP and UDP sockets are supported%s", p->fd, fam, type, proto,
				 p->path, p->origin);
	k->family = (uint16_t)dom;
	k->type = (uint16_t)type;
	k->protocol = (uint32_t)proto;
	addrs(p->fd, k, text, tlen);
	if (type == SOCK_DGRAM) {
		k->state = k->pport ? IMG_INET_CONNECTED : IMG_INET_CLOSED;
		return 0;
	}
	if (tcp_info_of(p->fd, ti) < 0)
		return ckpt_fail(c, -EIO, "fd %d: %s TCP socket %s: TCP_INFO cannot be read", p->fd,
				 fam, text);
	switch (ti->state) {
	case INET_TCP_CLOSE:
		k->state = IMG_INET_CLOSED;
		k->pport = 0;
		__builtin_memset(k->peer, 0, sizeof(k->peer));
		return 0;
	case INET_TCP_LISTEN:
		k->state = IMG_INET_LISTEN;
		if (ti->unacked)
			return ckpt_fail(c, -ENOTSUP, "fd %d: TCP listener %s has %u connection%s "
					 "not yet accepted: only accept() can take them and a "
					 "restart cannot queue them again; accept them before the "
					 "checkpoint (or checkpoint again)%s", p->fd, text,
					 ti->unacked, ti->unacked == 1 ? "" : "s", p->origin);
		k->backlog = ti->sacked;
		return 0;
	case INET_TCP_ESTABLISHED:
		k->state = IMG_INET_ESTABLISHED;
		return 0;
	default:
		return ckpt_fail(c, -ENOTSUP, "fd %d: TCP socket %s in state %s: only listening and "
				 "established connections (and unconnected sockets) are "
				 "supported; a connection half closed or being opened or closed "
				 "is not%s", p->fd, text, inet_tcp_state_name(ti->state),
				 p->origin);
	}
}

static void inet_opts(int fd, struct img_file_inet *k)
{
	struct linger lg = { 0, 0 };
	socklen_t len = sizeof(lg);

	if (sopt(fd, SOL_SOCKET, SO_REUSEADDR, 0))
		k->iflags |= IMG_INET_REUSEADDR;
	if (sopt(fd, SOL_SOCKET, SO_REUSEPORT, 0))
		k->iflags |= IMG_INET_REUSEPORT;
	if (sopt(fd, SOL_SOCKET, SO_KEEPALIVE, 0))
		k->iflags |= IMG_INET_KEEPALIVE;
	if (k->family == AF_INET6 && sopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0))
		k->iflags |= IMG_INET_V6ONLY;
	if (arch_sys5(SYS_getsockopt, fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff) {
		k->iflags |= IMG_INET_LINGER;
		k->linger = lg.l_linger < 0 ? 0 : lg.l_linger;
	}
	k->rcvbuf = sopt(fd, SOL_SOCKET, SO_RCVBUF, 0);
	k->sndbuf = sopt(fd, SOL_SOCKET, SO_SNDBUF, 0);
	if (k->protocol != IPPROTO_TCP)
		return;
	if (sopt(fd, IPPROTO_TCP, TCP_NODELAY, 0))
		k->iflags |= IMG_INET_NODELAY;
	k->keepidle = sopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 0);
	k->keepintvl = sopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, 0);
	k->keepcnt = sopt(fd, IPPROTO_TCP, TCP_KEEPCNT, 0);
	if (k->state == IMG_INET_LISTEN)
		k->defer_accept = sopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 0);
}

static int repair_on(struct ckpt_ctx *c, const struct fd_probe *p, const char *text)
{
	if (set_int(p->fd, IPPROTO_TCP, INET_TCP_REPAIR, INET_REPAIR_ON) < 0)
		return ckpt_fail(c, -EPERM, "fd %d: TCP connection %s: saving a connection needs "
				 "TCP_REPAIR, which needs CAP_NET_ADMIN (run the application and "
				 "ckpt-restart as root, or give both CAP_NET_ADMIN), or close it "
				 "before the checkpoint%s", p->fd, text, p->origin);
	return 0;
}

/* Out of repair mode, and SO_REUSEADDR as the program had it (inet_end says why). */
static void repair_off(int fd, int reuse)
{
	if (set_int(fd, IPPROTO_TCP, INET_TCP_REPAIR, INET_REPAIR_OFF_NO_WP) < 0)
		set_int(fd, IPPROTO_TCP, INET_TCP_REPAIR, INET_REPAIR_OFF);
	set_int(fd, SOL_SOCKET, SO_REUSEADDR, reuse);
}

static int inet_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	struct img_file_inet k;
	struct inet_tcp_info ti;
	char text[128];
	int inq = 0, outq = 0, reuse;

	if (inet_read(c, p, &k, text, sizeof(text), &ti) < 0)
		return c->error;
	if (k.state != IMG_INET_ESTABLISHED)
		return 0;
	reuse = sopt(p->fd, SOL_SOCKET, SO_REUSEADDR, 0);
	if (repair_on(c, p, text) < 0)
		return c->error;
	repair_off(p->fd, reuse);
	if (arch_sys3(SYS_ioctl, p->fd, SIOCINQ, &inq) < 0 ||
	    arch_sys3(SYS_ioctl, p->fd, SIOCOUTQ, &outq) < 0)
		return ckpt_fail(c, -EIO, "fd %d: TCP connection %s: its queues cannot be measured",
				 p->fd, text);
	if ((uint32_t)inq > IMG_INET_QUEUE_MAX || (uint32_t)outq > IMG_INET_QUEUE_MAX)
		return ckpt_fail(c, -E2BIG, "fd %d: TCP connection %s has %d bytes to read and %d "
				 "to send; libckpt saves at most %u MiB each way%s", p->fd, text,
				 inq, outq, IMG_INET_QUEUE_MAX >> 20, p->origin);
	return 0;
}

/* The sequence number of queue q (repair mode): 0, or -1. */
static int queue_seq(int fd, int q, uint32_t *seq)
{
	socklen_t len = sizeof(*seq);

	if (set_int(fd, IPPROTO_TCP, INET_TCP_REPAIR_QUEUE, q) < 0)
		return -1;
	return arch_sys5(SYS_getsockopt, fd, IPPROTO_TCP, INET_TCP_QUEUE_SEQ, seq, &len) < 0 ? -1 : 0;
}

/* Peeks the len bytes of the queue selected into buf: 0, or -1. */
static int queue_peek(int fd, unsigned char *buf, uint32_t len)
{
	long n;

	if (!len)
		return 0;
	n = arch_sys6(SYS_recvfrom, fd, buf, len, MSG_PEEK | MSG_DONTWAIT, 0, 0);
	return n == (long)len ? 0 : -1;
}

/* The connection's whole repair state and queues (repair mode on): 0, or the refusal. */
static int capture(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file_inet *k,
		   const char *text)
{
	unsigned char *rb = qbuf + INET_BUF_RECV, *sb = qbuf + INET_BUF_SEND;
	struct inet_repair_window w;
	struct inet_tcp_info ti;
	socklen_t len;

	for (int tries = 0;; tries++) {
		int inq = 0, outq = 0, unsq = 0, inq2 = 0, outq2 = 0;
		uint32_t rs = 0, ss = 0, rs2 = 0, ss2 = 0;

		if (tries == 8)
			return ckpt_fail(c, -EAGAIN, "fd %d: TCP connection %s: its queues kept "
					 "changing while they were read (8 tries); checkpoint "
					 "again", p->fd, text);
		if (arch_sys3(SYS_ioctl, p->fd, SIOCINQ, &inq) < 0 ||
		    arch_sys3(SYS_ioctl, p->fd, SIOCOUTQ, &outq) < 0 ||
		    arch_sys3(SYS_ioctl, p->fd, SIOCOUTQNSD, &unsq) < 0 ||
		    queue_seq(p->fd, INET_RECV_QUEUE, &rs) < 0 ||
		    queue_seq(p->fd, INET_SEND_QUEUE, &ss) < 0)
			return ckpt_fail(c, -EIO, "fd %d: TCP connection %s: its repair state cannot "
					 "be read", p->fd, text);
		if ((uint32_t)inq > IMG_INET_QUEUE_MAX || (uint32_t)outq > IMG_INET_QUEUE_MAX ||
		    unsq > outq)
			return ckpt_fail(c, -E2BIG, "fd %d: TCP connection %s has %d bytes to read "
					 "and %d to send; libckpt saves at most %u MiB each way",
					 p->fd, text, inq, outq, IMG_INET_QUEUE_MAX >> 20);
		if (set_int(p->fd, IPPROTO_TCP, INET_TCP_REPAIR_QUEUE, INET_RECV_QUEUE) < 0 ||
		    queue_peek(p->fd, rb, (uint32_t)inq) < 0 ||
		    set_int(p->fd, IPPROTO_TCP, INET_TCP_REPAIR_QUEUE, INET_SEND_QUEUE) < 0 ||
		    queue_peek(p->fd, sb, (uint32_t)outq) < 0)
			continue;
		if (arch_sys3(SYS_ioctl, p->fd, SIOCINQ, &inq2) < 0 ||
		    arch_sys3(SYS_ioctl, p->fd, SIOCOUTQ, &outq2) < 0 ||
		    queue_seq(p->fd, INET_RECV_QUEUE, &rs2) < 0 ||
		    queue_seq(p->fd, INET_SEND_QUEUE, &ss2) < 0 ||
		    inq != inq2 || outq != outq2 || rs != rs2 || ss != ss2)
			continue;
		k->inq_len = (uint32_t)inq;
		k->outq_len = (uint32_t)outq;
		k->unsq_len = (uint32_t)unsq;
		k->inq_seq = rs;
		k->outq_seq = ss;
		break;
	}
	set_int(p->fd, IPPROTO_TCP, INET_TCP_REPAIR_QUEUE, INET_NO_QUEUE);
	k->iflags |= IMG_INET_REPAIR;
	if (tcp_info_of(p->fd, &ti) == 0) {
		if (ti.options & INET_TCPI_OPT_TS)
			k->iflags |= IMG_INET_OPT_TS;
		if (ti.options & INET_TCPI_OPT_SACK)
			k->iflags |= IMG_INET_OPT_SACK;
		if (ti.options & INET_TCPI_OPT_WSCALE) {
			k->iflags |= IMG_INET_OPT_WSCALE;
			k->snd_wscale = ti.wscale & 15;
			k->rcv_wscale = ti.wscale >> 4;
		}
	}
	k->mss_clamp = (uint32_t)sopt(p->fd, IPPROTO_TCP, TCP_MAXSEG, 0);
	if (!k->mss_clamp || k->mss_clamp > 65535)
		return ckpt_fail(c, -EIO, "fd %d: TCP connection %s: its MSS cannot be read",
				 p->fd, text);
	if (k->iflags & IMG_INET_OPT_TS)
		k->timestamp = (uint32_t)sopt(p->fd, IPPROTO_TCP, INET_TCP_TIMESTAMP, 0);
	len = sizeof(w);
	if (arch_sys5(SYS_getsockopt, p->fd, IPPROTO_TCP, INET_TCP_REPAIR_WINDOW, &w, &len) == 0 &&
	    len == sizeof(w)) {
		k->iflags |= IMG_INET_WINDOW;
		k->snd_wl1 = w.snd_wl1;
		k->snd_wnd = w.snd_wnd;
		k->max_window = w.max_window;
		k->rcv_wnd = w.rcv_wnd;
		k->rcv_wup = w.rcv_wup;
	}
	return 0;
}

static int inet_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
		     void *data, size_t cap)
{
	struct img_file_inet k;
	struct inet_tcp_info ti;
	char text[128];

	if (cap < sizeof(k))
		return ckpt_fail(c, -E2BIG, "fd %d: socket kind data too large", p->fd);
	if (inet_read(c, p, &k, text, sizeof(text), &ti) < 0)
		return c->error;
	inet_opts(p->fd, &k);
	f->flags = p->flags & (O_NONBLOCK | O_ACCMODE);
	f->pos = 0;
	captured.fd = -1;
	if (k.state == IMG_INET_ESTABLISHED) {
		if (nrepaired >= INET_MAX_REPAIR)
			return ckpt_fail(c, -E2BIG, "more than %d TCP connections: libckpt saves at "
					 "most that many", INET_MAX_REPAIR);
		if (qbuf_map(c) < 0 || repair_on(c, p, text) < 0)
			return c->error;
		repaired[nrepaired].fd = p->fd;
		repaired[nrepaired++].reuse = !!(k.iflags & IMG_INET_REUSEADDR);
		if (capture(c, p, &k, text) < 0)
			return c->error;
		captured.fd = p->fd;
		captured.inq = k.inq_len;
		captured.outq = k.outq_len;
	}
	__builtin_memcpy(data, &k, sizeof(k));
	return (int)sizeof(k);
}

static int inet_contents(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f)
{
	struct img_inet_queue q = { .file = f->id };

	if (captured.fd != p->fd)
		return 0;
	captured.fd = -1;
	if (captured.inq) {
		q.which = IMG_INET_RECV;
		q.len = captured.inq;
		if (img_write_record(&c->w, IMG_REC_INET_QUEUE, &q, sizeof(q),
				     qbuf + INET_BUF_RECV, captured.inq) < 0)
			return c->w.error;
	}
	if (captured.outq) {
		q.which = IMG_INET_SEND;
		q.len = captured.outq;
		if (img_write_record(&c->w, IMG_REC_INET_QUEUE, &q, sizeof(q),
				     qbuf + INET_BUF_SEND, captured.outq) < 0)
			return c->w.error;
	}
	return 0;
}

static int inet_begin(struct ckpt_ctx *c, int pass)
{
	nrepaired = 0;
	captured.fd = -1;
	return 0;
}

/*
 * Out of repair mode, so the connections run on - unless the process ends
 * now (ckpt-save --exit): then they close in repair mode, silently.  The
 * kernel clears SO_REUSEADDR as repair mode ends (it set SK_FORCE_REUSE
 * as it began): the program's value is set again, or the TIME_WAIT its
 * connection leaves would keep its own listener's port from being bound.
 */
static int inet_end(struct ckpt_ctx *c, int pass, int ok)
{
	int keep = pass == 1 && ok && c->exit_after;

	for (int i = 0; i < nrepaired && !keep; i++)
		repair_off(repaired[i].fd, repaired[i].reuse);
	nrepaired = 0;
	captured.fd = -1;
	qbuf_unmap();
	return 0;
}

const struct fd_save_ops fd_inet_save = { .kind = IMG_FILE_INET, .match = inet_match,
					  .check = inet_check, .save = inet_save,
					  .contents = inet_contents, .begin = inet_begin,
					  .end = inet_end };
#endif
