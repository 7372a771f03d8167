/*
 * fd_inet_make.c - a restart makes the image's TCP and UDP sockets again
 * (the restore half of fds/fd_inet.c, whose notes come first).
 *
 * Check (verify, also --check, before anything is built): every address a
 * socket binds is tried on a socket of the same kind with the same options
 * (bound, and listened on for a listener) and closed again, so a port
 * taken by another process is named before the process is built; a TCP
 * connection needs TCP_REPAIR (CAP_NET_ADMIN), and one whose peer is
 * outside the image needs the user's word (--tcp=, below).
 *
 * Build (make, on the first INET FILE opened: all of them at once, so the
 * order is ours): listeners and the other unconnected or UDP sockets
 * first, bound with SO_REUSEADDR whatever they had (a connection of the
 * original may linger in TIME_WAIT on the port; the saved value is set
 * again in finish), then the TCP connections, each the TCP_REPAIR way
 * (after CRIU's soccr): in repair mode, bound to its address (repair mode
 * may share a port with the listener and with a TIME_WAIT left by the
 * original), the sequence numbers of both queues set, connect() (which
 * sends nothing), the options negotiated (MSS, window scale, SACK,
 * timestamps) and the timestamp clock, the receive queue and the sent but
 * unacknowledged part of the send queue put back, the windows.  finish
 * (once every fd is open) takes each out of repair mode - the window probe
 * tells the peer we are back - and only then sends the part the original
 * had not sent yet, since the peer never saw it.
 *
 * Both ends of a connection inside the image are made that way, so the
 * data in flight in both directions is there exactly once: the sequence
 * numbers decide what each end has, as they did.  A connection whose peer
 * is outside the image (ckpt-restart --tcp=):
 *   refuse  (default) the restart refuses, naming it, as CRIU does without
 *           --tcp-established;
 *   repair  made the same way: the peer must still hold the connection
 *           (a migration, after ckpt-save --exit left it in repair mode);
 *   close   made reset: a TCP socket connected to a listener of our own on
 *           loopback whose accepted end is closed with SO_LINGER 0, so the
 *           application's next read or write fails ECONNRESET, as after a
 *           real reset; its addresses are those of that loopback connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include "fds/fd_inet.h"

#ifdef FD_RESTORE
#include "restart/rst.h"

int rst_tcp_mode = RST_TCP_REFUSE;

static const struct img_file_inet *kd(const struct rst_file *f)
{
	return f->data;
}

static struct rst_inet *inet_of(struct rst_file *f)
{
	if (!f->inet) {
		f->inet = calloc(1, sizeof(*f->inet));
		if (!f->inet)
			abort();
		f->inet->sock = -1;
	}
	return f->inet;
}

void rst_inet_free(struct rst_file *f)
{
	if (!f->inet)
		return;
	free(f->inet->q[0]);
	free(f->inet->q[1]);
	if (f->inet->sock >= 0)
		close(f->inet->sock);
	free(f->inet);
	f->inet = NULL;
}

int rst_inet_queue_load(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_inet_queue *q = img_get_inet_queue(&s->r, rec);
	struct rst_file *f;
	struct rst_inet *x;
	const struct img_file_inet *k;

	if (!q) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	f = rst_file_by_id(s, q->file);
	k = f && f->f.kind == IMG_FILE_INET ? kd(f) : NULL;
	if (!k || k->state != IMG_INET_ESTABLISHED || !(k->iflags & IMG_INET_REPAIR) ||
	    q->len != (q->which == IMG_INET_RECV ? k->inq_len : k->outq_len) ||
	    (f->inet && f->inet->have[q->which])) {
		rst_error(s, "corrupt: a TCP queue of file %u, which is not a TCP connection before "
			  "it holding %llu bytes that way, or has it twice (offset %lu)", q->file,
			  (unsigned long long)q->len, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	x = inet_of(f);
	x->q[q->which] = malloc(q->len);
	if (!x->q[q->which])
		abort();
	memcpy(x->q[q->which], q + 1, q->len);
	x->qlen[q->which] = q->len;
	x->have[q->which] = 1;
	return 0;
}

static void text_of(const struct img_file_inet *k, char *buf, size_t len)
{
	char a[64], b[64];

	inet_addr_text(k->family, k->local, k->lport, a, sizeof(a));
	if (k->pport) {
		inet_addr_text(k->family, k->peer, k->pport, b, sizeof(b));
		snprintf(buf, len, "%s -> %s", a, b);
	} else {
		snprintf(buf, len, "%s", a);
	}
}

int rst_inet_peer_in(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_inet *k = kd(f);

	for (int i = 0; i < s->nfiles; i++) {
		const struct rst_file *o = &s->files[i];
		const struct img_file_inet *p = o->f.kind == IMG_FILE_INET ? kd(o) : NULL;

		if (p && o != f && p->state == IMG_INET_ESTABLISHED && p->family == k->family &&
		    p->lport == k->pport && p->pport == k->lport &&
		    !memcmp(p->local, k->peer, 16) && !memcmp(p->peer, k->local, 16))
			return 1;
	}
	return 0;
}

/* How f comes back: 1 repaired, 0 reset, -1 refused (ESTABLISHED only). */
static int how(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_inet *k = kd(f);

	if (rst_inet_peer_in(s, f) || rst_tcp_mode == RST_TCP_REPAIR)
		return (k->iflags & IMG_INET_REPAIR) ? 1 : -1;
	return rst_tcp_mode == RST_TCP_CLOSE ? 0 : -1;
}

static socklen_t sockaddr_of(uint32_t family, const uint8_t *a, uint16_t port, uint32_t scope,
			     struct sockaddr_in6 *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a, 4);
		return sizeof(*s4);
	}
	sa->sin6_family = AF_INET6;
	sa->sin6_port = htons(port);
	memcpy(&sa->sin6_addr, a, 16);
	sa->sin6_scope_id = scope;
	return sizeof(*sa);
}

static void setopt(int fd, int level, int opt, int v)
{
	setsockopt(fd, level, opt, &v, sizeof(v));
}

/* A new socket of k's kind, with what must be set before bind(). */
static int new_sock(const struct img_file_inet *k, int reuseaddr)
{
	int fd = socket(k->family, k->type | SOCK_CLOEXEC, (int)k->protocol);

	if (fd < 0)
		return -1;
	setopt(fd, SOL_SOCKET, SO_REUSEADDR, reuseaddr);
	if (k->iflags & IMG_INET_REUSEPORT)
		setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (k->family == AF_INET6)
		setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, !!(k->iflags & IMG_INET_V6ONLY));
	return fd;
}

static int bind_local(int fd, const struct img_file_inet *k)
{
	struct sockaddr_in6 sa;
	socklen_t len = sockaddr_of(k->family, k->local, k->lport, k->scope_id, &sa);

	return bind(fd, (struct sockaddr *)&sa, len);
}

static int connect_peer(int fd, const struct img_file_inet *k)
{
	struct sockaddr_in6 sa;
	socklen_t len = sockaddr_of(k->family, k->peer, k->pport, 0, &sa);

	return connect(fd, (struct sockaddr *)&sa, len);
}

static int repair_allowed(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	ok = setsockopt(fd, IPPROTO_TCP, INET_TCP_REPAIR, &(int){ INET_REPAIR_ON },
			sizeof(int)) == 0;
	close(fd);
	return ok;
}

static int inet_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_inet *k = kd(f);
	char text[160];
	int fd, r = 0;

	text_of(k, text, sizeof(text));
	if (k->state == IMG_INET_ESTABLISHED) {
		int h = how(s, f);

		if (h < 0 && !(k->iflags & IMG_INET_REPAIR))
			return rst_problem(s, RST_EXIT_ENV, "%s: TCP connection %s was saved without "
					   "its repair state: only ckpt-restart --tcp=close can bring "
					   "it back (reset)", rst_file_what(f), text);
		if (h < 0)
			return rst_problem(s, RST_EXIT_ENV, "%s: TCP connection %s to a peer outside "
					   "the image: say ckpt-restart --tcp=repair to make it again "
					   "with TCP_REPAIR (the peer must still hold it: a migration "
					   "after ckpt-save --exit), or --tcp=close to have it reset "
					   "(ECONNRESET on its next use)", rst_file_what(f), text);
		if (h == 1 && ((k->inq_len && !(f->inet && f->inet->have[IMG_INET_RECV])) ||
			       (k->outq_len && !(f->inet && f->inet->have[IMG_INET_SEND]))))
			return rst_problem(s, RST_EXIT_IMAGE, "%s: TCP connection %s: the image lacks "
					   "its queues (corrupt)", rst_file_what(f), text);
		if (h == 1 && !repair_allowed())
			return rst_problem(s, RST_EXIT_ENV, "%s: TCP connection %s: making it again "
					   "needs TCP_REPAIR, which needs CAP_NET_ADMIN: run "
					   "ckpt-restart as root (or with CAP_NET_ADMIN)%s",
					   rst_file_what(f), text, rst_inet_peer_in(s, f) ? "" :
					   ", or say --tcp=close");
		/* the connection itself, tried in repair mode (which sends nothing, even closing) */
		if (h == 1 && (fd = socket(k->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP)) >= 0) {
			if (setsockopt(fd, IPPROTO_TCP, INET_TCP_REPAIR, &(int){ INET_REPAIR_ON },
				       sizeof(int)) == 0 &&
			    (bind_local(fd, k) < 0 || connect_peer(fd, k) < 0))
				r = rst_problem(s, RST_EXIT_ENV, "%s: TCP connection %s cannot be made "
						"here: %s%s", rst_file_what(f), text, strerror(errno),
						errno == EADDRNOTAVAIL || errno == EADDRINUSE ?
						" (a live connection has these addresses: is the "
						"original still running?)" : "");
			close(fd);
		}
		return r;
	}
	if (!k->lport)
		return 0;
	/* the address, tried as the build binds it */
	if ((fd = new_sock(k, k->state == IMG_INET_LISTEN || (k->iflags & IMG_INET_REUSEADDR))) < 0)
		return rst_problem(s, RST_EXIT_ENV, "%s: cannot make a %s %s socket: %s",
				   rst_file_what(f), inet_family_name(k->family),
				   inet_proto_name(k->protocol), strerror(errno));
	if ((bind_local(fd, k) < 0 || (k->state == IMG_INET_LISTEN && listen(fd, 1) < 0)) &&
	    !(errno == EADDRINUSE && k->protocol == IPPROTO_TCP && repair_allowed() &&
	      inet_tw_only((int)k->family, k->local, k->lport)))	/* cleared as it is made */
		r = rst_problem(s, RST_EXIT_ENV, "%s: %s %s socket: address %s cannot be bound "
				"here: %s%s", rst_file_what(f), inet_family_name(k->family),
				inet_proto_name(k->protocol), text, strerror(errno),
				errno == EADDRINUSE ? " (another process holds the port: stop it, "
				"or restart elsewhere)" : "");
	close(fd);
	return r;
}

/* The options set after bind (both ways of making a socket). */
static void set_opts(int fd, const struct img_file_inet *k)
{
	int def = 0;
	socklen_t len = sizeof(def);

	if (k->iflags & IMG_INET_KEEPALIVE)
		setopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (k->iflags & IMG_INET_LINGER) {
		struct linger lg = { 1, k->linger };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	/* buffer sizes the program set (getsockopt reads twice what was asked) */
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &def, &len) == 0 && k->rcvbuf && def != k->rcvbuf) {
		setopt(fd, SOL_SOCKET, SO_RCVBUF, k->rcvbuf / 2);
		setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, k->rcvbuf / 2);
	}
	len = sizeof(def);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &def, &len) == 0 && k->sndbuf && def != k->sndbuf) {
		setopt(fd, SOL_SOCKET, SO_SNDBUF, k->sndbuf / 2);
		setopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, k->sndbuf / 2);
	}
	if (k->protocol != IPPROTO_TCP)
		return;
	if (k->iflags & IMG_INET_NODELAY)
		setopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	if (k->keepidle)
		setopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, k->keepidle);
	if (k->keepintvl)
		setopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, k->keepintvl);
	if (k->keepcnt)
		setopt(fd, IPPROTO_TCP, TCP_KEEPCNT, k->keepcnt);
	if (k->defer_accept)
		setopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, k->defer_accept);
}

/* bind() and listen() as k says: 0, or -1 with errno. */
static int bind_listen(int fd, const struct img_file_inet *k)
{
	if (k->lport && bind_local(fd, k) < 0)
		return -1;
	return k->state == IMG_INET_LISTEN ? listen(fd, (int)k->backlog) : 0;
}

/* A listener, or an unconnected or UDP socket. */
static int make_plain(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_inet *k = kd(f);
	int reuse = k->state == IMG_INET_LISTEN || (k->iflags & IMG_INET_REUSEADDR);
	int fd = new_sock(k, reuse), r = fd < 0 ? -1 : bind_listen(fd, k);
	char text[160];

	/* TIME_WAIT entries a killed server left on its port (fd_inet_tw.c): once more */
	if (r < 0 && fd >= 0 && errno == EADDRINUSE && k->lport && k->protocol == IPPROTO_TCP &&
	    repair_allowed() && inet_tw_clear((int)k->family, k->local, k->lport) > 0) {
		close(fd);
		fd = new_sock(k, reuse);
		r = fd < 0 ? -1 : bind_listen(fd, k);
	}
	if (r < 0 || (k->state == IMG_INET_CONNECTED && connect_peer(fd, k) < 0)) {
		text_of(k, text, sizeof(text));
		rst_error(s, "%s: %s %s socket %s: %s", rst_file_what(f),
			  inet_family_name(k->family), inet_proto_name(k->protocol), text,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	set_opts(fd, k);
	return fd;
}

/* Writes len bytes of buf into the queue selected (repair mode) or the socket. */
static int send_all(int fd, const unsigned char *buf, uint64_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		buf += n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int seq_set(int fd, int q, uint32_t seq)
{
	return setsockopt(fd, IPPROTO_TCP, INET_TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
	       setsockopt(fd, IPPROTO_TCP, INET_TCP_QUEUE_SEQ, &seq, sizeof(seq)) < 0 ? -1 : 0;
}

/* A connection, the TCP_REPAIR way; left in repair mode for finish. */
static int make_repair(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_inet *k = kd(f);
	struct rst_inet *x = inet_of(f);
	struct inet_repair_opt opts[4];
	int n = 0, fd, q;
	const char *step;
	char text[160];

	text_of(k, text, sizeof(text));
	if ((fd = socket(k->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP)) < 0) {
		step = "socket";
		goto fail;
	}
	step = "TCP_REPAIR";
	if (setsockopt(fd, IPPROTO_TCP, INET_TCP_REPAIR, &(int){ INET_REPAIR_ON }, sizeof(int)) < 0)
		goto fail;
	if (k->family == AF_INET6)
		setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, !!(k->iflags & IMG_INET_V6ONLY));
	set_opts(fd, k);		/* the buffers first: the queues must fit */
	step = "bind";
	if (bind_local(fd, k) < 0)
		goto fail;
	step = "TCP_QUEUE_SEQ";
	if (seq_set(fd, INET_SEND_QUEUE, k->outq_seq - k->outq_len) < 0 ||
	    seq_set(fd, INET_RECV_QUEUE, k->inq_seq - k->inq_len) < 0)
		goto fail;
	step = "connect";
	if (connect_peer(fd, k) < 0)
		goto fail;
	opts[n++] = (struct inet_repair_opt){ INET_TCPOPT_MSS, k->mss_clamp };
	if (k->iflags & IMG_INET_OPT_WSCALE)
		opts[n++] = (struct inet_repair_opt){ INET_TCPOPT_WINDOW,
						      k->snd_wscale | (uint32_t)k->rcv_wscale << 16 };
	if (k->iflags & IMG_INET_OPT_SACK)
		opts[n++] = (struct inet_repair_opt){ INET_TCPOPT_SACK_PERM, 0 };
	if (k->iflags & IMG_INET_OPT_TS)
		opts[n++] = (struct inet_repair_opt){ INET_TCPOPT_TIMESTAMP, 0 };
	step = "TCP_REPAIR_OPTIONS";
	if (setsockopt(fd, IPPROTO_TCP, INET_TCP_REPAIR_OPTIONS, opts, (socklen_t)(n * sizeof(opts[0]))) < 0)
		goto fail;
	step = "TCP_TIMESTAMP";
	if ((k->iflags & IMG_INET_OPT_TS) &&
	    setsockopt(fd, IPPROTO_TCP, INET_TCP_TIMESTAMP, &k->timestamp, sizeof(k->timestamp)) < 0)
		goto fail;
	step = "the receive queue";
	q = INET_RECV_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, INET_TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
	    send_all(fd, x->q[IMG_INET_RECV], k->inq_len) < 0)
		goto fail;
	step = "the send queue";
	q = INET_SEND_QUEUE;
	if (setsockopt(fd, IPPROTO_TCP, INET_TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
	    send_all(fd, x->q[IMG_INET_SEND], k->outq_len - k->unsq_len) < 0)
		goto fail;
	q = INET_NO_QUEUE;
	setsockopt(fd, IPPROTO_TCP, INET_TCP_REPAIR_QUEUE, &q, sizeof(q));
	if (k->iflags & IMG_INET_WINDOW) {
		struct inet_repair_window w = { k->snd_wl1, k->snd_wnd, k->max_window, k->rcv_wnd,
						k->rcv_wup };

		step = "TCP_REPAIR_WINDOW";
		if (setsockopt(fd, IPPROTO_TCP, INET_TCP_REPAIR_WINDOW, &w, sizeof(w)) < 0)
			goto fail;
	}
	x->repair = 1;
	return fd;
fail:
	rst_error(s, "%s: TCP connection %s cannot be made again (TCP_REPAIR, at %s): %s",
		  rst_file_what(f), text, step, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* --tcp=close: a connection reset by its peer (see the notes). */
static int make_reset(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_inet *k = kd(f);
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);
	uint8_t lo[16] = { 0 };
	struct linger lg = { 1, 0 };
	int l = -1, fd = -1, a = -1;

	if (k->family == AF_INET) {
		lo[0] = 127;
		lo[3] = 1;
	} else {
		lo[15] = 1;
	}
	sockaddr_of(k->family, lo, 0, 0, &sa);
	if ((l = socket(k->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&sa, k->family == AF_INET ? sizeof(struct sockaddr_in) :
		 sizeof(sa)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0 ||
	    (fd = socket(k->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, len) < 0 ||
	    (a = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0 ||
	    setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) {
		rst_error(s, "%s: cannot make a reset TCP connection on loopback: %s",
			  rst_file_what(f), strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (a >= 0)
		close(a);	/* SO_LINGER 0: an RST, which fd has when close returns */
	if (l >= 0)
		close(l);
	if (fd >= 0) {
		set_opts(fd, k);
		inet_of(f)->reset = 1;
	}
	return fd;
}

/* Every INET FILE's socket: listeners and the unconnected first, then connections. */
static int build(struct rst_state *s)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < s->nfiles; i++) {
			struct rst_file *f = &s->files[i];
			const struct img_file_inet *k;
			int fd;

			if (f->f.kind != IMG_FILE_INET || !(f->used || f->inflight))
				continue;
			k = kd(f);
			if ((k->state == IMG_INET_ESTABLISHED) != pass)
				continue;
			if (!pass)
				fd = make_plain(s, f);
			else
				fd = how(s, f) == 1 ? make_repair(s, f) : make_reset(s, f);
			if (fd < 0)
				return -1;
			inet_of(f)->sock = fd;
		}
	return 0;
}

static int built, build_failed;

static int inet_make(struct rst_state *s, struct rst_file *f)
{
	int fd;

	if (!built) {
		built = 1;
		build_failed = build(s) < 0;
	}
	if (build_failed)
		return -1;
	fd = inet_of(f)->sock;		/* the FILE's own from now on (rst_obj) */
	f->inet->sock = -1;
	if (fd < 0)
		rst_error(s, "%s: its socket was not made", rst_file_what(f));
	return fd;
}

/* Once every fd is open: out of repair mode, what was never sent, the saved flags. */
static int inet_finish(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_inet *k = kd(f);
	struct rst_inet *x = f->inet;
	char text[160];

	if (x && x->repair) {
		x->repair = 0;
		if (setsockopt(f->obj, IPPROTO_TCP, INET_TCP_REPAIR, &(int){ INET_REPAIR_OFF },
			       sizeof(int)) < 0 ||
		    send_all(f->obj, x->q[IMG_INET_SEND] + (k->outq_len - k->unsq_len),
			     k->unsq_len) < 0) {
			text_of(k, text, sizeof(text));
			rst_error(s, "%s: TCP connection %s: leaving repair mode: %s",
				  rst_file_what(f), text, strerror(errno));
			return -1;
		}
	}
	setopt(f->obj, SOL_SOCKET, SO_REUSEADDR, !!(k->iflags & IMG_INET_REUSEADDR));
	if ((f->f.flags & O_NONBLOCK) && fcntl(f->obj, F_SETFL, O_NONBLOCK | (f->f.flags & O_ACCMODE)) < 0)
		return -1;
	return 0;
}

const struct fd_restore_ops fd_inet_restore = { .kind = IMG_FILE_INET, .verify = inet_verify,
						.open = rst_obj_dup, .make = inet_make,
						.finish = inet_finish };
#endif
