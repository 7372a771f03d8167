/*
 * usock.c - unix domain sockets survive checkpoint, SIGKILL and restart
 * (and the original, checkpointed and left running, keeps every message).
 *
 *   usock CASE DIR GOFILE
 * Makes CASE's sockets (names in DIR), queues messages on them, prints
 * "READY" and waits for GOFILE: meanwhile the test checkpoints the
 * process, and kills and restarts it (or lets it run on).  Then it reads
 * every queue back and checks each message (bytes, boundaries,
 * credentials, fds), names, options and connections, and prints "OK CASE"
 * (exit 0) or "BAD ..." lines (exit 1).  CASEs:
 *   pairs     a socketpair of each type, messages queued both ways (empty
 *             datagrams and records among them, a 100000-byte datagram, a
 *             200 KiB stream), O_NONBLOCK, FD_CLOEXEC, SO_SNDBUF/RCVBUF,
 *             SO_PEEK_OFF where the program left it, SO_RCVLOWAT, SO_RCVTIMEO
 *   named     a stream listener on DIR/l.sock and a seqpacket one on an
 *             abstract name, each with a client accepted (messages queued
 *             both ways) and two connected, not yet accepted (accepted
 *             after, in order); connections whose client, or server end,
 *             closed (bytes, then EOF); a datagram socket on DIR/d.sock with
 *             datagrams queued from an unnamed socket, from a socket bound
 *             to an abstract name, and from a client connected to it; an
 *             autobound name, a name relative to the cwd (DIR)
 *   creds     SO_PASSCRED: datagrams and stream bytes with credentials
 *             (given, added by the kernel) and one sent before, without;
 *             SO_PEERCRED (run as a user too: t_unix.sh)
 *   inflight  fds in flight: a regular file (its offset), a file the
 *             process also holds (one description), one end of a
 *             socketpair with bytes queued in it (its peer kept)
 *   shutdown  SHUT_WR and SHUT_RD on pairs; a stream whose peer closed with
 *             bytes unread (data, ECONNRESET, EOF); a datagram socket whose
 *             peer closed (ECONNREFUSED)
 *   unlinked  a datagram socket bound on DIR/u.sock, then unlinked, with
 *             a client connected to it and a datagram queued
 *   outside   (refused) connected to DIR/outside.sock, which `usock serve
 *             DIR/outside.sock` listens on
 *   uffd      (refused) a userfaultfd in flight on a socketpair
 *   pendata   (refused) a client not yet accepted that sent data
 *   childcreds (refused) a datagram with the credentials of a child that
 *             has exited (and been reaped)
 *   lockfd    (refused) an fd in flight while the process holds a POSIX lock
 *   oob       (refused) an out-of-band byte not read
 *   big       (root: SO_SNDBUFFORCE) 24 MiB queued on a stream pair: every
 *             byte back (the sockets' table once shared its scratch with a
 *             /proc/sysvipc file's text, which overwrote bytes 21.5 MiB in)
 *   tree      a socketpair of each of two types with messages queued, held
 *             by the process and by its child (a process tree)
 *   serve     (not a case) listens on DIR (the path), accepts forever
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad++; } while (0)

static int bad;
static const char *dir;
static char abs_name[64];

static void die(const char *what)
{
	printf("setup: %s: %s\n", what, strerror(errno));
	exit(3);
}

static void wait_file(const char *path)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (access(path, F_OK))
		nanosleep(&ts, NULL);
}

static socklen_t addr(const char *name, struct sockaddr_un *sa)
{
	size_t len = name[0] == '@' ? strlen(name) : strlen(name) + 1;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name, len);
	if (name[0] == '@')
		sa->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

static char *in_dir(const char *name)
{
	static char buf[8][256];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

static int listener(int type, const char *name, int backlog)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, addr(name, &sa)) || listen(fd, backlog))
		die(name);
	return fd;
}

static int bound(int type, const char *name)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, addr(name, &sa)))
		die(name);
	return fd;
}

static int connected(int type, const char *name)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, addr(name, &sa)))
		die(name);
	return fd;
}

static void pair(int type, int sv[2])
{
	if (socketpair(AF_UNIX, type, 0, sv))
		die("socketpair");
}

static void put(int fd, const void *p, size_t n)
{
	if (send(fd, p, n, MSG_DONTWAIT) != (ssize_t)n)
		die("send");
}

/* The next message (or up to cap stream bytes): its length, or -errno. */
static ssize_t get(int fd, void *buf, size_t cap)
{
	ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);

	return n < 0 ? -errno : n;
}

/* Expects exactly msg (len bytes) as the next message of fd. */
static void expect(const char *what, int fd, const void *msg, size_t len)
{
	static char buf[300000];
	ssize_t n = get(fd, buf, sizeof(buf));

	if (n != (ssize_t)len || memcmp(buf, msg, len))
		BAD("%s: got %zd bytes (%.*s), want %zu (%.*s)", what, n, n > 0 ? (int)(n > 20 ? 20 : n) : 0,
		    buf, len, (int)(len > 20 ? 20 : len), (const char *)msg);
}

/* Expects the stream bytes msg (len), however they come. */
static void expect_stream(const char *what, int fd, const void *msg, size_t len)
{
	static char buf[300000];
	size_t got = 0;

	while (got < len) {
		ssize_t n = get(fd, buf + got, len - got);

		if (n <= 0) {
			BAD("%s: %zu of %zu bytes, then %zd", what, got, len, n);
			return;
		}
		got += (size_t)n;
	}
	if (memcmp(buf, msg, len))
		BAD("%s: the bytes differ", what);
}

static void expect_empty(const char *what, int fd)
{
	char c;
	ssize_t n = get(fd, &c, 1);

	if (n != -EAGAIN)
		BAD("%s: queue not empty after its messages (%zd)", what, n);
}

static int opt(int fd, int o)
{
	int v = -12345;
	socklen_t l = sizeof(v);

	getsockopt(fd, SOL_SOCKET, o, &v, &l);
	return v;
}

static void name_of(int fd, int peer, char *buf, size_t cap)
{
	struct sockaddr_un sa;
	socklen_t l = sizeof(sa);

	buf[0] = '\0';
	if ((peer ? getpeername(fd, (struct sockaddr *)&sa, &l) : getsockname(fd, (struct sockaddr *)&sa, &l)) ||
	    l <= offsetof(struct sockaddr_un, sun_path))
		return;
	l -= offsetof(struct sockaddr_un, sun_path);
	if (sa.sun_path[0] == '\0') {
		snprintf(buf, cap, "@%.*s", (int)l - 1, sa.sun_path + 1);
	} else {
		snprintf(buf, cap, "%.*s", (int)l, sa.sun_path);
	}
}

static void expect_name(const char *what, int fd, int peer, const char *want)
{
	char n[200];

	name_of(fd, peer, n, sizeof(n));
	if (strcmp(n, want))
		BAD("%s: %s is \"%s\", want \"%s\"", what, peer ? "peer name" : "name", n, want);
}

/* ---- pairs ----------------------------------------------------------------- */

static int st[2], dg[2], sq[2], sndbuf, rcvbuf;
static char blob[200 * 1024], big[100000];

static void pairs_setup(void)
{
	char p[3];
	int v;
	struct timeval tv = { 7, 500000 };

	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (char)('a' + i % 23);
	memset(big, 'B', sizeof(big));
	pair(SOCK_STREAM, st);
	pair(SOCK_DGRAM, dg);
	pair(SOCK_SEQPACKET, sq);
	put(st[0], "hello", 5);
	put(st[0], "world", 5);
	v = 1 << 20;
	setsockopt(st[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	sndbuf = opt(st[0], SO_SNDBUF);
	if (write(st[0], blob, sizeof(blob)) != (ssize_t)sizeof(blob))
		die("blob");
	put(st[1], "back", 4);
	put(dg[0], "one", 3);
	put(dg[0], "", 0);
	put(dg[0], "three33", 7);
	put(dg[0], big, sizeof(big));
	put(dg[0], "", 0);
	put(dg[1], "x", 1);
	put(dg[1], "yy", 2);
	put(sq[0], "s1", 2);
	put(sq[0], "", 0);
	put(sq[0], "s333", 4);
	put(sq[1], "r", 1);
	/* the program peeks itself: SO_PEEK_OFF stays where it left it */
	v = 0;
	setsockopt(st[1], SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v));
	if (recv(st[1], p, 3, MSG_PEEK) != 3)
		die("peek");
	fcntl(dg[1], F_SETFL, O_NONBLOCK);
	fcntl(st[0], F_SETFD, FD_CLOEXEC);
	v = 32768;
	setsockopt(dg[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	rcvbuf = opt(dg[0], SO_RCVBUF);
	v = 3;
	setsockopt(sq[1], SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));
	setsockopt(sq[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void pairs_check(void)
{
	char p[4] = { 0 };
	struct timeval tv;
	socklen_t l = sizeof(tv);

	if (opt(st[1], SO_PEEK_OFF) != 3 || recv(st[1], p, 2, MSG_PEEK) != 2 || memcmp(p, "lo", 2))
		BAD("pairs: SO_PEEK_OFF %d (want 3), peek \"%s\"", opt(st[1], SO_PEEK_OFF), p);
	if (opt(st[0], SO_SNDBUF) != sndbuf)
		BAD("pairs: SO_SNDBUF %d, want %d", opt(st[0], SO_SNDBUF), sndbuf);
	if (opt(dg[0], SO_RCVBUF) != rcvbuf)
		BAD("pairs: SO_RCVBUF %d, want %d", opt(dg[0], SO_RCVBUF), rcvbuf);
	if (opt(sq[1], SO_RCVLOWAT) != 3)
		BAD("pairs: SO_RCVLOWAT %d", opt(sq[1], SO_RCVLOWAT));
	if (getsockopt(sq[1], SOL_SOCKET, SO_RCVTIMEO, &tv, &l) || tv.tv_sec != 7 || tv.tv_usec != 500000)
		BAD("pairs: SO_RCVTIMEO %ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
	if (!(fcntl(dg[1], F_GETFL) & O_NONBLOCK) || (fcntl(dg[0], F_GETFL) & O_NONBLOCK))
		BAD("pairs: O_NONBLOCK lost or added");
	if (!(fcntl(st[0], F_GETFD) & FD_CLOEXEC) || (fcntl(st[1], F_GETFD) & FD_CLOEXEC))
		BAD("pairs: FD_CLOEXEC lost or added");
	if (opt(st[0], SO_TYPE) != SOCK_STREAM || opt(dg[0], SO_TYPE) != SOCK_DGRAM ||
	    opt(sq[0], SO_TYPE) != SOCK_SEQPACKET)
		BAD("pairs: types");
	{
		static char all[10 + sizeof(blob)];

		memcpy(all, "helloworld", 10);
		memcpy(all + 10, blob, sizeof(blob));
		expect_stream("pairs: stream a->b", st[1], all, sizeof(all));
	}
	expect_stream("pairs: stream b->a", st[0], "back", 4);
	expect("pairs: dgram 1", dg[1], "one", 3);
	expect("pairs: dgram 2 (empty)", dg[1], "", 0);
	expect("pairs: dgram 3", dg[1], "three33", 7);
	expect("pairs: dgram 4 (100000 bytes)", dg[1], big, sizeof(big));
	expect("pairs: dgram 5 (empty)", dg[1], "", 0);
	expect("pairs: dgram b->a 1", dg[0], "x", 1);
	expect("pairs: dgram b->a 2", dg[0], "yy", 2);
	expect("pairs: seqpacket 1", sq[1], "s1", 2);
	expect("pairs: seqpacket 2 (empty)", sq[1], "", 0);
	expect("pairs: seqpacket 3", sq[1], "s333", 4);
	expect("pairs: seqpacket b->a", sq[0], "r", 1);
	expect_empty("pairs: stream b", st[1]);
	expect_empty("pairs: dgram b", dg[1]);
	expect_empty("pairs: seqpacket b", sq[1]);
	/* still connected both ways */
	put(st[1], "more", 4);
	expect_stream("pairs: stream after", st[0], "more", 4);
	put(dg[0], "z", 1);
	expect("pairs: dgram after", dg[1], "z", 1);
	put(sq[1], "q", 1);
	expect("pairs: seqpacket after", sq[0], "q", 1);
}

/* ---- named ----------------------------------------------------------------- */

static int ls, la, c1, a1, c2, c3, sc1, sa1, sc2, ds, dcl, dnamed, dauto, drel, a4, c5;
static char auto_name[64];

static void named_setup(void)
{
	struct sockaddr_un sa;
	char dname[64];
	int x;

	snprintf(abs_name, sizeof(abs_name), "@usock-%d", getpid());
	ls = listener(SOCK_STREAM, in_dir("l.sock"), 5);
	c1 = connected(SOCK_STREAM, in_dir("l.sock"));
	if ((a1 = accept(ls, NULL, NULL)) < 0)
		die("accept");
	/* connections whose other end closed: the client's, the server's */
	x = connected(SOCK_STREAM, in_dir("l.sock"));
	if ((a4 = accept(ls, NULL, NULL)) < 0)
		die("accept");
	put(x, "bye", 3);
	close(x);
	c5 = connected(SOCK_STREAM, in_dir("l.sock"));
	if ((x = accept(ls, NULL, NULL)) < 0)
		die("accept");
	put(x, "done", 4);
	close(x);
	c2 = connected(SOCK_STREAM, in_dir("l.sock"));
	c3 = connected(SOCK_STREAM, in_dir("l.sock"));
	put(c1, "req", 3);
	put(a1, "resp", 4);
	la = listener(SOCK_SEQPACKET, abs_name, 3);
	sc1 = connected(SOCK_SEQPACKET, abs_name);
	if ((sa1 = accept(la, NULL, NULL)) < 0)
		die("accept");
	sc2 = connected(SOCK_SEQPACKET, abs_name);
	put(sc1, "rec1", 4);
	put(sa1, "", 0);
	ds = bound(SOCK_DGRAM, in_dir("d.sock"));
	dcl = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(dname, sizeof(dname), "@usock-dc-%d", getpid());
	dnamed = bound(SOCK_DGRAM, dname);
	if (sendto(dcl, "ping", 4, 0, (struct sockaddr *)&sa, addr(in_dir("d.sock"), &sa)) != 4 ||
	    sendto(dnamed, "pong", 4, 0, (struct sockaddr *)&sa, addr(in_dir("d.sock"), &sa)) != 4 ||
	    connect(dcl, (struct sockaddr *)&sa, addr(in_dir("d.sock"), &sa)) || send(dcl, "conn", 4, 0) != 4)
		die("dgram");
	/* an autobound name (the kernel picks it), a name relative to the cwd */
	dauto = socket(AF_UNIX, SOCK_DGRAM, 0);
	sa.sun_family = AF_UNIX;
	if (bind(dauto, (struct sockaddr *)&sa, sizeof(sa_family_t)))
		die("autobind");
	name_of(dauto, 0, auto_name, sizeof(auto_name));
	if (chdir(dir))
		die("chdir");
	drel = bound(SOCK_DGRAM, "rel.sock");
}

static void named_check(void)
{
	char dname[64], from[200];
	struct sockaddr_un sa;
	socklen_t l;
	char buf[16];
	int x;

	snprintf(dname, sizeof(dname), "@usock-dc-%d", getpid());
	expect_name("named: listener", ls, 0, in_dir("l.sock"));
	expect_name("named: accepted", a1, 0, in_dir("l.sock"));
	expect_name("named: client's peer", c1, 1, in_dir("l.sock"));
	expect_name("named: client", c1, 0, "");
	expect_name("named: abstract listener", la, 0, abs_name);
	expect_name("named: abstract accepted", sa1, 0, abs_name);
	expect_name("named: abstract client's peer", sc1, 1, abs_name);
	expect_name("named: dgram server", ds, 0, in_dir("d.sock"));
	expect_name("named: dgram client's peer", dcl, 1, in_dir("d.sock"));
	expect_name("named: autobound", dauto, 0, auto_name);
	expect_name("named: relative", drel, 0, "rel.sock");
	if (access(in_dir("rel.sock"), F_OK))
		BAD("named: the relative name's file is not in the cwd");
	if (opt(ls, SO_ACCEPTCONN) != 1 || opt(la, SO_ACCEPTCONN) != 1)
		BAD("named: not listening");
	expect_name("named: accepted, client gone", a4, 0, in_dir("l.sock"));
	expect_stream("named: accepted, client gone: its bytes", a4, "bye", 3);
	if (get(a4, buf, 1) != 0)
		BAD("named: accepted, client gone: no EOF");
	expect_name("named: client, server end gone: peer name", c5, 1, in_dir("l.sock"));
	expect_stream("named: client, server end gone: its bytes", c5, "done", 4);
	if (get(c5, buf, 1) != 0)
		BAD("named: client, server end gone: no EOF");
	expect_stream("named: client to accepted", a1, "req", 3);
	expect_stream("named: accepted to client", c1, "resp", 4);
	expect("named: seqpacket client to accepted", sa1, "rec1", 4);
	expect("named: seqpacket accepted to client (empty)", sc1, "", 0);
	/* the connections not yet accepted: accepted now, in order */
	if ((x = accept(ls, NULL, NULL)) < 0) {
		BAD("named: accept of the first waiting connection: %s", strerror(errno));
	} else {
		put(c2, "two", 3);
		expect_stream("named: first waiting is c2", x, "two", 3);
		expect_name("named: its name", x, 0, in_dir("l.sock"));
	}
	if ((x = accept(ls, NULL, NULL)) < 0) {
		BAD("named: accept of the second waiting connection: %s", strerror(errno));
	} else {
		put(c3, "three", 5);
		expect_stream("named: second waiting is c3", x, "three", 5);
	}
	if ((x = accept(la, NULL, NULL)) < 0) {
		BAD("named: accept on the abstract listener: %s", strerror(errno));
	} else {
		put(sc2, "s2", 2);
		expect("named: abstract waiting", x, "s2", 2);
	}
	/* a new client reaches the listener by its name */
	x = connected(SOCK_STREAM, in_dir("l.sock"));
	put(x, "new", 3);
	if ((x = accept(ls, NULL, NULL)) < 0)
		BAD("named: a new connection: %s", strerror(errno));
	else
		expect_stream("named: new connection", x, "new", 3);
	/* datagrams, with who sent them */
	for (int i = 0; i < 3; i++) {
		static const char *want[] = { "ping", "pong", "conn" };
		ssize_t n;

		l = sizeof(sa);
		n = recvfrom(ds, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sa, &l);
		from[0] = '\0';
		if (l > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0] == '\0')
			snprintf(from, sizeof(from), "@%.*s",
				 (int)(l - offsetof(struct sockaddr_un, sun_path) - 1), sa.sun_path + 1);
		if (n != 4 || memcmp(buf, want[i], 4) || strcmp(from, i == 1 ? dname : ""))
			BAD("named: datagram %d: %zd bytes from \"%s\"", i, n, from);
	}
	put(dcl, "again", 5);
	expect("named: dgram client still connected", ds, "again", 5);
	/* the server is not connected: anyone may send to it */
	if (sendto(dnamed, "y", 1, MSG_DONTWAIT, (struct sockaddr *)&sa, addr(in_dir("d.sock"), &sa)) != 1)
		BAD("named: the datagram server refuses others: %s", strerror(errno));
}

/* ---- creds ----------------------------------------------------------------- */

static int cd[2], cs[2];

static void send_creds(int fd, const char *m, int with)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} cb;
	struct ucred u = { getpid(), getuid(), getgid() };
	struct iovec iov = { (void *)m, strlen(m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (with) {
		h.msg_control = cb.b;
		h.msg_controllen = sizeof(cb.b);
		cb.h.cmsg_level = SOL_SOCKET;
		cb.h.cmsg_type = SCM_CREDENTIALS;
		cb.h.cmsg_len = CMSG_LEN(sizeof(u));
		memcpy(CMSG_DATA(&cb.h), &u, sizeof(u));
	}
	if (sendmsg(fd, &h, 0) != (ssize_t)strlen(m))
		die("sendmsg creds");
}

static void creds_setup(void)
{
	int one = 1;

	pair(SOCK_DGRAM, cd);
	pair(SOCK_STREAM, cs);
	send_creds(cd[0], "c0", 0);		/* no credentials: nobody asked */
	send_creds(cs[0], "s0", 0);
	setsockopt(cd[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	setsockopt(cs[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	send_creds(cd[0], "c1", 0);		/* added by the kernel */
	send_creds(cd[0], "c2", 1);		/* given */
	send_creds(cs[0], "s1", 1);
}

static void expect_creds(const char *what, int fd, const char *m, int pid, int uid, int gid)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} cb;
	char buf[16];
	struct iovec iov = { buf, strlen(m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			    .msg_controllen = sizeof(cb.b) };
	struct ucred u = { -1, 0, 0 };
	ssize_t n = recvmsg(fd, &h, MSG_DONTWAIT);

	if (h.msg_controllen >= CMSG_LEN(sizeof(u)) && cb.h.cmsg_type == SCM_CREDENTIALS)
		memcpy(&u, CMSG_DATA(&cb.h), sizeof(u));
	if (n != (ssize_t)strlen(m) || memcmp(buf, m, strlen(m)) || u.pid != pid ||
	    (int)u.uid != uid || (int)u.gid != gid)
		BAD("%s: %zd bytes, credentials pid %d uid %d gid %d, want \"%s\" %d %d %d", what, n,
		    u.pid, u.uid, u.gid, m, pid, uid, gid);
}

static void creds_check(void)
{
	int me = getpid(), uid = (int)getuid(), gid = (int)getgid();

	struct ucred pc = { 0, 0, 0 };
	socklen_t l = sizeof(pc);

	if (!opt(cd[1], SO_PASSCRED) || opt(cd[0], SO_PASSCRED) || !opt(cs[1], SO_PASSCRED))
		BAD("creds: SO_PASSCRED");
	/* the peer's credentials: this process's (a restart makes the pair as its user) */
	if (getsockopt(cs[0], SOL_SOCKET, SO_PEERCRED, &pc, &l) || pc.pid != me ||
	    (int)pc.uid != (int)geteuid() || (int)pc.gid != (int)getegid())
		BAD("creds: SO_PEERCRED pid %d uid %d gid %d", pc.pid, pc.uid, pc.gid);
	expect_creds("creds: dgram without", cd[1], "c0", 0, 65534, 65534);
	expect_creds("creds: dgram added", cd[1], "c1", me, uid, gid);
	expect_creds("creds: dgram given", cd[1], "c2", me, uid, gid);
	/* stream: a read stops where the writer's credentials change */
	expect_creds("creds: stream without", cs[1], "s0", 0, 65534, 65534);
	expect_creds("creds: stream given", cs[1], "s1", me, uid, gid);
}

/* ---- inflight -------------------------------------------------------------- */

static int fp[2], fs[2], held, q1;

static void send_fds(int fd, const char *m, const int *fds, int n)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} cb;
	struct iovec iov = { (void *)m, strlen(m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			    .msg_controllen = CMSG_SPACE(n * sizeof(int)) };

	cb.h.cmsg_level = SOL_SOCKET;
	cb.h.cmsg_type = SCM_RIGHTS;
	cb.h.cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(&cb.h), fds, n * sizeof(int));
	if (sendmsg(fd, &h, 0) != (ssize_t)strlen(m))
		die("sendmsg fds");
}

/* The next message's fds (n of them) into fds; its bytes must be m. */
static int recv_fds(const char *what, int fd, const char *m, int *fds, int n)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} cb;
	char buf[64];
	struct iovec iov = { buf, strlen(m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			    .msg_controllen = sizeof(cb.b) };
	ssize_t r = recvmsg(fd, &h, MSG_DONTWAIT);

	if (r != (ssize_t)strlen(m) || memcmp(buf, m, strlen(m)) ||
	    h.msg_controllen < CMSG_LEN(n * sizeof(int)) || cb.h.cmsg_type != SCM_RIGHTS ||
	    cb.h.cmsg_len != CMSG_LEN(n * sizeof(int))) {
		BAD("%s: %zd bytes, control %zu", what, r, (size_t)h.msg_controllen);
		return -1;
	}
	memcpy(fds, CMSG_DATA(&cb.h), n * sizeof(int));
	return 0;
}

static void inflight_setup(void)
{
	int f, q[2], two[2];

	pair(SOCK_DGRAM, fp);
	pair(SOCK_STREAM, fs);
	f = open(in_dir("file"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	held = open(in_dir("held"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f < 0 || held < 0 || write(f, "0123456789", 10) != 10 || lseek(f, 4, SEEK_SET) != 4 ||
	    write(held, "abcdef", 6) != 6 || lseek(held, 2, SEEK_SET) != 2)
		die("files");
	two[0] = f;
	two[1] = held;
	send_fds(fp[0], "files", two, 2);
	close(f);
	pair(SOCK_STREAM, q);
	put(q[1], "queued-in-q", 11);
	put(fs[0], "before", 6);
	send_fds(fs[0], "sock", &q[0], 1);
	put(fs[0], "after", 5);
	close(q[0]);
	q1 = q[1];
}

static void inflight_check(void)
{
	int two[2], q0;
	char buf[16] = { 0 };
	struct stat a, b;

	if (recv_fds("inflight: files", fp[1], "files", two, 2) == 0) {
		if (lseek(two[0], 0, SEEK_CUR) != 4 || read(two[0], buf, 6) != 6 || memcmp(buf, "456789", 6))
			BAD("inflight: the file in flight at offset %ld reads \"%s\"",
			    (long)lseek(two[0], 0, SEEK_CUR), buf);
		if (fstat(two[1], &a) || fstat(held, &b) || a.st_ino != b.st_ino ||
		    lseek(two[1], 0, SEEK_CUR) != 2 || lseek(held, 5, SEEK_SET) != 5 ||
		    lseek(two[1], 0, SEEK_CUR) != 5)
			BAD("inflight: the held file and its copy in flight are not one open file");
	}
	/*
	 * The bytes written before the fds since the last ones come with them
	 * after a restart (where that write ended cannot be seen): read as one.
	 */
	if (recv_fds("inflight: socket", fs[1], "beforesock", &q0, 1) == 0) {
		expect_stream("inflight: the socket's queue", q0, "queued-in-q", 11);
		put(q0, "hi", 2);
		expect_stream("inflight: its peer", q1, "hi", 2);
	}
	expect_stream("inflight: bytes after the fd", fs[1], "after", 5);
}

/* ---- shutdown -------------------------------------------------------------- */

static int sw[2], sr[2], gs[2], gd[2];

static void shutdown_setup(void)
{
	pair(SOCK_STREAM, sw);
	pair(SOCK_SEQPACKET, sr);
	pair(SOCK_STREAM, gs);
	pair(SOCK_DGRAM, gd);
	put(sw[0], "bye", 3);
	shutdown(sw[0], SHUT_WR);
	shutdown(sr[0], SHUT_RD);
	put(gs[1], "last", 4);
	put(gs[0], "unread", 6);
	close(gs[1]);
	close(gd[1]);
}

static void shutdown_check(void)
{
	char c;

	expect_stream("shutdown: before SHUT_WR", sw[1], "bye", 3);
	if (get(sw[1], &c, 1) != 0)
		BAD("shutdown: no EOF after SHUT_WR");
	if (send(sw[0], "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
		BAD("shutdown: a SHUT_WR end may write");
	put(sw[1], "ok", 2);
	expect_stream("shutdown: the other way still open", sw[0], "ok", 2);
	if (send(sr[1], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != -1 || errno != EPIPE)
		BAD("shutdown: writing to a SHUT_RD end: %s", strerror(errno));
	put(sr[0], "y", 1);
	expect("shutdown: SHUT_RD end writes", sr[1], "y", 1);
	expect_stream("shutdown: peer gone, its last bytes", gs[0], "last", 4);
	if (get(gs[0], &c, 1) != -ECONNRESET)
		BAD("shutdown: peer gone with bytes unread: no ECONNRESET");
	if (get(gs[0], &c, 1) != 0)
		BAD("shutdown: peer gone: no EOF");
	if (send(gd[0], "x", 1, MSG_DONTWAIT) != -1 || errno != ECONNREFUSED)
		BAD("shutdown: datagram peer gone: %s", strerror(errno));
}

/* ---- unlinked -------------------------------------------------------------- */

static int us, uc;

static void unlinked_setup(void)
{
	us = bound(SOCK_DGRAM, in_dir("u.sock"));
	uc = connected(SOCK_DGRAM, in_dir("u.sock"));
	put(uc, "via-conn", 8);
	if (unlink(in_dir("u.sock")))
		die("unlink");
}

static void unlinked_check(void)
{
	struct stat sb;

	expect_name("unlinked: name", us, 0, in_dir("u.sock"));
	if (stat(in_dir("u.sock"), &sb) == 0)
		BAD("unlinked: its file is back");
	expect("unlinked: queued", us, "via-conn", 8);
	put(uc, "again", 5);
	expect("unlinked: still connected", us, "again", 5);
}

/* ---- refusals -------------------------------------------------------------- */

static void outside_setup(void)
{
	int fd = connected(SOCK_STREAM, in_dir("outside.sock"));

	put(fd, "hi", 2);
}

static void uffd_setup(void)
{
	int sv[2], u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);

	if (u < 0)
		die("userfaultfd");
	pair(SOCK_DGRAM, sv);
	send_fds(sv[0], "uffd", &u, 1);
	close(u);
}

static void pendata_setup(void)
{
	int l = listener(SOCK_STREAM, in_dir("p.sock"), 4), c = connected(SOCK_STREAM, in_dir("p.sock"));

	(void)l;
	put(c, "early", 5);
}

static void childcreds_setup(void)
{
	int sv[2], one = 1;
	pid_t pid;

	pair(SOCK_DGRAM, sv);
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	if ((pid = fork()) == 0) {
		send(sv[0], "from the child", 14, 0);	/* the kernel adds its pid */
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		die("fork");
}

static void lockfd_setup(void)
{
	int sv[2], f = open(in_dir("locked"), O_RDWR | O_CREAT, 0600), g;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (f < 0 || fcntl(f, F_SETLK, &fl))
		die("lock");
	pair(SOCK_DGRAM, sv);
	g = open(in_dir("other"), O_RDWR | O_CREAT, 0600);
	send_fds(sv[0], "fd", &g, 1);
	close(g);
}

static void oob_setup(void)
{
	int sv[2];

	pair(SOCK_STREAM, sv);
	put(sv[0], "ab", 2);
	if (send(sv[0], "!", 1, MSG_OOB) != 1)
		die("MSG_OOB");
}

/* ---- a process tree -------------------------------------------------------- */

static int tst[2], tdg[2];
static pid_t tchild;

static void tree_setup(void)
{
	pair(SOCK_STREAM, tst);
	pair(SOCK_DGRAM, tdg);
	put(tst[0], "stream-data", 11);
	put(tdg[0], "d1", 2);
	put(tdg[0], "", 0);
	put(tdg[0], "d333", 4);
	if ((tchild = fork()) == 0) {	/* keeps copies of every socket */
		for (;;)
			pause();
	}
	if (tchild < 0)
		die("fork");
}

static void tree_check(void)
{
	expect_stream("tree: stream", tst[1], "stream-data", 11);
	expect("tree: dgram 1", tdg[1], "d1", 2);
	expect("tree: dgram 2 (empty)", tdg[1], "", 0);
	expect("tree: dgram 3", tdg[1], "d333", 4);
	expect_empty("tree: dgram", tdg[1]);
	kill(tchild, SIGKILL);
	waitpid(tchild, NULL, 0);
}

/* ---- big: 24 MiB queued on one stream ---- */

#define BIG_LEN		(24u << 20)
static int bst[2];

static unsigned char big_byte(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 11);
}

static void big_setup(void)
{
	static unsigned char chunk[1u << 16];
	int sz = 32 << 20;
	size_t at = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, bst) < 0)
		die("socketpair");
	if (setsockopt(bst[0], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0 ||
	    setsockopt(bst[1], SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		die("setsockopt SO_SNDBUFFORCE");
	while (at < BIG_LEN) {
		size_t n = BIG_LEN - at < sizeof(chunk) ? BIG_LEN - at : sizeof(chunk);
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			chunk[i] = big_byte(at + i);
		w = write(bst[0], chunk, n);
		if (w <= 0)
			die("write: 24 MiB do not fit the socket");
		at += (size_t)w;
	}
}

static void big_check(void)
{
	static unsigned char buf[1u << 16];
	size_t at = 0;

	while (at < BIG_LEN) {
		ssize_t n = read(bst[1], buf, sizeof(buf));

		if (n <= 0) {
			BAD("big: %zu of %u bytes, then %zd", at, BIG_LEN, n);
			return;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != big_byte(at + (size_t)i)) {
				BAD("big: byte %zu differs", at + (size_t)i);
				return;
			}
		at += (size_t)n;
	}
	expect_empty("big", bst[1]);
}

static const struct { const char *name; void (*setup)(void), (*check)(void); } cases[] = {
	{ "pairs", pairs_setup, pairs_check },
	{ "named", named_setup, named_check },
	{ "creds", creds_setup, creds_check },
	{ "inflight", inflight_setup, inflight_check },
	{ "shutdown", shutdown_setup, shutdown_check },
	{ "unlinked", unlinked_setup, unlinked_check },
	{ "outside", outside_setup, NULL },
	{ "uffd", uffd_setup, NULL },
	{ "pendata", pendata_setup, NULL },
	{ "childcreds", childcreds_setup, NULL },
	{ "lockfd", lockfd_setup, NULL },
	{ "oob", oob_setup, NULL },
	{ "tree", tree_setup, tree_check },
	{ "big", big_setup, big_check },
};

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve")) {
		int l;

		setvbuf(stdout, NULL, _IONBF, 0);
		unlink(argv[2]);
		l = listener(SOCK_STREAM, argv[2], 4);
		printf("READY %d\n", l);
		for (;;)		/* accepts, and keeps every connection */
			if (accept(l, NULL, NULL) < 0)
				pause();
	}
	if (argc != 4)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	dir = argv[2];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name))
			continue;
		cases[i].setup();
		printf("READY\n");
		wait_file(argv[3]);
		if (cases[i].check)
			cases[i].check();
		if (bad)
			return 1;
		printf("OK %s\n", cases[i].name);
		return 0;
	}
	return 2;
}
