/*
 * inet.c - TCP, UDP and netlink sockets across a checkpoint
 * (tests/e2e/t_inet.sh).  usage: inet CASE GOFILE PORT
 *   one     one process: a TCP listener on 127.0.0.1:PORT with options
 *           (SO_REUSEADDR, TCP_NODELAY, keepalive, TCP_DEFER_ACCEPT,
 *           SO_LINGER, backlog 7, O_NONBLOCK), a connection to it with
 *           bytes in flight both ways (not read), an IPv6 listener on
 *           [::1]:PORT+1 (IPV6_V6ONLY), UDP bound on 127.0.0.1:PORT+2, UDP
 *           over IPv6 connected to [::1]:PORT+3, a NETLINK_ROUTE socket in
 *           group RTNLGRP_LINK.  After GOFILE appears: every address,
 *           option and byte in flight is as it was, exactly once, and
 *           each socket still works (a new connection is accepted, the
 *           connection carries more bytes, a datagram goes round); a TCP
 *           connection over IPv6 with bytes in flight both ways.
 *   tree    a listener; a child connects, each end writes and reads
 *           nothing until GOFILE: then each reads its bytes once.
 *   client  a connection to a server outside (127.0.0.1:PORT): after
 *           GOFILE, its next read fails ECONNRESET (ckpt-restart --tcp=close).
 *   server  (not under the shim) accepts on 127.0.0.1:PORT and holds the
 *           connection until killed.
 *   raw, packet, diag, halfclosed   a raw IPv4 socket, a packet socket, a
 *           sock_diag netlink socket, a connection whose peer shut down
 *           writing: the checkpoint refuses them.
 * Prints READY, then OK or BAD with what differs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

static const char *go;
static int bad;

#define CHECK(cond, ...) do { if (!(cond)) { printf("BAD " __VA_ARGS__); printf("\n"); bad = 1; } } while (0)

static void die(const char *what)
{
	printf("setup %s: %s\n", what, strerror(errno));
	exit(1);
}

static void wait_go(void)
{
	while (access(go, F_OK))
		poll(NULL, 0, 5);
}

static int opt(int fd, int level, int o)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, o, &v, &len);
	return v;
}

static void setopt(int fd, int level, int o, int v)
{
	if (setsockopt(fd, level, o, &v, sizeof(v)) < 0)
		die("setsockopt");
}

static struct sockaddr_in v4(const char *a, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, a, &sa.sin_addr);
	return sa;
}

static struct sockaddr_in6 v6(int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	return sa;
}

/* "127.0.0.1:80 127.0.0.1:4000" of a socket (local, peer) */
static void names(int fd, char *buf, size_t len)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);
	char x[64] = "-", y[64] = "-";

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (getsockname(fd, (struct sockaddr *)&a, &la) == 0) {
		if (a.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&a)->sin_addr, x, sizeof(x));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a)->sin6_addr, x, sizeof(x));
	}
	if (getpeername(fd, (struct sockaddr *)&b, &lb) == 0) {
		if (b.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&b)->sin_addr, y, sizeof(y));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&b)->sin6_addr, y, sizeof(y));
	}
	snprintf(buf, len, "%s:%d %s:%d", x, ntohs(((struct sockaddr_in *)&a)->sin_port), y,
		 lb && b.ss_family ? ntohs(((struct sockaddr_in *)&b)->sin_port) : 0);
}

/* Reads exactly want (and then nothing more is there: non-blocking read says EAGAIN). */
static void read_exact(int fd, const char *want, const char *what)
{
	char buf[256];
	size_t n = strlen(want), got = 0;
	ssize_t r;

	while (got < n) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 5000) != 1) {
			CHECK(0, "%s: only %zu of %zu bytes arrived", what, got, n);
			return;
		}
		if ((r = recv(fd, buf + got, n - got, 0)) <= 0) {
			CHECK(0, "%s: recv: %zd %s", what, r, strerror(errno));
			return;
		}
		got += (size_t)r;
	}
	CHECK(!memcmp(buf, want, n), "%s: read '%.*s', want '%s'", what, (int)n, buf, want);
	r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	/* (0: the peer is gone already, having read its own) */
	CHECK(r == 0 || (r < 0 && errno == EAGAIN), "%s: %zd more bytes after the data (twice?)",
	      what, r);
}

static int tcp_listener(int port, int backlog)
{
	struct sockaddr_in sa = v4("127.0.0.1", port);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0)
		die("socket");
	setopt(l, SOL_SOCKET, SO_REUSEADDR, 1);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, backlog) < 0)
		die("bind/listen");
	return l;
}

static int tcp_connect(int port)
{
	struct sockaddr_in sa = v4("127.0.0.1", port);
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	return c;
}

static int one(int port)
{
	struct linger lg = { 1, 3 }, lg2;
	socklen_t len = sizeof(lg2);
	int l, c, a, l6, c6, a6, u, u6, nl, n;
	char before[4][128], after[128], before6[128];
	struct sockaddr_in6 s6;
	struct sockaddr_in ua = v4("127.0.0.1", port + 2);
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK }, snl2;
	struct tcp_info ti;
	uint32_t groups[4] = { 0 };
	socklen_t glen = sizeof(groups);

	l = tcp_listener(port, 7);
	setopt(l, SOL_SOCKET, SO_KEEPALIVE, 1);
	setopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5);
	if (setsockopt(l, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		die("linger");
	c = tcp_connect(port);
	if ((a = accept(l, NULL, NULL)) < 0)
		die("accept");
	fcntl(l, F_SETFL, O_NONBLOCK);
	setopt(c, IPPROTO_TCP, TCP_NODELAY, 1);
	setopt(c, SOL_SOCKET, SO_KEEPALIVE, 1);
	setopt(c, IPPROTO_TCP, TCP_KEEPIDLE, 77);
	setopt(c, IPPROTO_TCP, TCP_KEEPINTVL, 11);
	setopt(c, IPPROTO_TCP, TCP_KEEPCNT, 4);
	setopt(c, SOL_SOCKET, SO_RCVBUF, 100000);
	if (write(c, "from-client", 11) != 11 || write(a, "from-server", 11) != 11)
		die("write");
	l6 = socket(AF_INET6, SOCK_STREAM, 0);
	setopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	s6 = v6(port + 1);
	if (bind(l6, (struct sockaddr *)&s6, sizeof(s6)) < 0 || listen(l6, 3) < 0)
		die("v6 listen");
	c6 = socket(AF_INET6, SOCK_STREAM, 0);
	if (connect(c6, (struct sockaddr *)&s6, sizeof(s6)) < 0 || (a6 = accept(l6, NULL, NULL)) < 0 ||
	    write(c6, "six-up", 6) != 6 || write(a6, "six-down", 8) != 8)
		die("v6 connection");
	names(c6, before6, sizeof(before6));
	u = socket(AF_INET, SOCK_DGRAM, 0);
	setopt(u, SOL_SOCKET, SO_REUSEADDR, 1);
	if (bind(u, (struct sockaddr *)&ua, sizeof(ua)) < 0)
		die("udp bind");
	u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	s6 = v6(port + 3);
	if (connect(u6, (struct sockaddr *)&s6, sizeof(s6)) < 0)
		die("udp6 connect");
	if ((nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)) < 0 ||
	    bind(nl, (struct sockaddr *)&snl, sizeof(snl)) < 0)
		die("netlink");
	setopt(nl, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
	len = sizeof(snl);
	getsockname(nl, (struct sockaddr *)&snl, &len);
	names(c, before[0], sizeof(before[0]));
	names(a, before[1], sizeof(before[1]));
	names(u6, before[2], sizeof(before[2]));
	names(l6, before[3], sizeof(before[3]));
	printf("READY %s | %s\n", before[0], before[1]);
	wait_go();

	/* the listener */
	names(l, after, sizeof(after));
	n = snprintf(before[0] + 64, 64, "127.0.0.1:%d -:0", port);
	CHECK(!strcmp(after, before[0] + 64), "listener at %s", after);
	CHECK(opt(l, SOL_SOCKET, SO_REUSEADDR) == 1, "listener SO_REUSEADDR");
	CHECK(opt(l, SOL_SOCKET, SO_KEEPALIVE) == 1, "listener SO_KEEPALIVE");
	CHECK(opt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT) > 0, "listener TCP_DEFER_ACCEPT %d",
	      opt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT));
	len = sizeof(lg2);
	CHECK(getsockopt(l, SOL_SOCKET, SO_LINGER, &lg2, &len) == 0 && lg2.l_onoff &&
	      lg2.l_linger == 3, "listener SO_LINGER");
	CHECK(fcntl(l, F_GETFL) & O_NONBLOCK, "listener O_NONBLOCK");
	len = sizeof(ti);
	CHECK(getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_state == 10 &&
	      ti.tcpi_sacked == 7, "listener backlog %u", ti.tcpi_sacked);
	/* the connection: same addresses, bytes once each way, options */
	names(c, after, sizeof(after));
	CHECK(!strcmp(after, before[0]), "client is %s, was %s", after, before[0]);
	names(a, after, sizeof(after));
	CHECK(!strcmp(after, before[1]), "server end is %s, was %s", after, before[1]);
	read_exact(a, "from-client", "server end");
	read_exact(c, "from-server", "client");
	CHECK(opt(c, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY");
	CHECK(opt(a, SOL_SOCKET, SO_REUSEADDR) == 1, "the accepted end's SO_REUSEADDR (its listener's)");
	CHECK(opt(c, SOL_SOCKET, SO_REUSEADDR) == 0, "the client's SO_REUSEADDR");
	CHECK(opt(c, SOL_SOCKET, SO_KEEPALIVE) == 1, "client SO_KEEPALIVE");
	CHECK(opt(c, IPPROTO_TCP, TCP_KEEPIDLE) == 77 && opt(c, IPPROTO_TCP, TCP_KEEPINTVL) == 11 &&
	      opt(c, IPPROTO_TCP, TCP_KEEPCNT) == 4, "keepalive times");
	CHECK(opt(c, SOL_SOCKET, SO_RCVBUF) >= 100000 && opt(c, SOL_SOCKET, SO_RCVBUF) <= 200000,
	      "SO_RCVBUF %d", opt(c, SOL_SOCKET, SO_RCVBUF));
	if (write(c, "again", 5) != 5 || write(a, "back", 4) != 4)
		CHECK(0, "write after: %s", strerror(errno));
	read_exact(a, "again", "server end, new bytes");
	read_exact(c, "back", "client, new bytes");
	/* the listener takes a new connection */
	{
		int c2 = tcp_connect(port), a2 = -1;
		struct pollfd p = { l, POLLIN, 0 };

		write(c2, "x", 1);	/* TCP_DEFER_ACCEPT waits for data */
		poll(&p, 1, 10000);
		a2 = accept(l, NULL, NULL);
		CHECK(a2 >= 0, "accept after: %s", strerror(errno));
		close(c2);
		close(a2);
	}
	/* IPv6 listener */
	names(l6, after, sizeof(after));
	CHECK(!strcmp(after, before[3]), "v6 listener is %s, was %s", after, before[3]);
	CHECK(opt(l6, IPPROTO_IPV6, IPV6_V6ONLY) == 1, "IPV6_V6ONLY");
	names(c6, after, sizeof(after));
	CHECK(!strcmp(after, before6), "v6 client is %s, was %s", after, before6);
	read_exact(a6, "six-up", "v6 server end");
	read_exact(c6, "six-down", "v6 client");
	/* UDP */
	CHECK(sendto(u, "dg", 2, 0, (struct sockaddr *)&ua, sizeof(ua)) == 2, "udp send");
	{
		char b[8];
		struct pollfd p = { u, POLLIN, 0 };

		CHECK(poll(&p, 1, 5000) == 1 && recv(u, b, sizeof(b), 0) == 2, "udp receive");
	}
	names(u6, after, sizeof(after));
	CHECK(!strcmp(after, before[2]), "udp6 is %s, was %s", after, before[2]);
	/* netlink */
	len = sizeof(snl2);
	CHECK(getsockname(nl, (struct sockaddr *)&snl2, &len) == 0 && snl2.nl_pid == snl.nl_pid,
	      "netlink port id %u, was %u", snl2.nl_pid, snl.nl_pid);
	CHECK(getsockopt(nl, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, groups, &glen) == 0 &&
	      (groups[0] & (1u << (RTNLGRP_LINK - 1))), "netlink groups 0x%x", groups[0]);
	(void)n;
	printf(bad ? "FAILED\n" : "OK\n");
	return bad;
}

static int tree(int port)
{
	int l = tcp_listener(port, 5), a, st;
	pid_t kid = fork();

	if (kid == 0) {
		int c = tcp_connect(port);

		if (write(c, "from-child", 10) != 10)
			die("write");
		wait_go();
		read_exact(c, "from-parent", "child");
		printf(bad ? "child FAILED\n" : "child OK\n");
		_exit(bad);
	}
	if ((a = accept(l, NULL, NULL)) < 0 || write(a, "from-parent", 11) != 11)
		die("accept");
	printf("READY %d\n", kid);
	wait_go();
	read_exact(a, "from-child", "parent");
	while (waitpid(kid, &st, 0) < 0 && errno == EINTR)
		;
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
	printf(bad ? "FAILED\n" : "OK\n");
	return bad;
}

/* pattern byte i of a stream */
static unsigned char pat(uint64_t i, int salt)
{
	return (unsigned char)((i * 131 + salt) ^ (i >> 9));
}

/* Writes the pattern into fd (non-blocking) until the kernel takes no more: the count. */
static uint64_t fill(int fd, int salt)
{
	unsigned char b[4096];
	uint64_t n = 0;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t w;

		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = pat(n + i, salt);
		if ((w = write(fd, b, sizeof(b))) <= 0)
			break;
		n += (uint64_t)w;
	}
	fcntl(fd, F_SETFL, 0);
	return n;
}

/* Reads want pattern bytes from fd, checked, and then nothing more. */
static void drain(int fd, uint64_t want, int salt, const char *what)
{
	unsigned char b[4096];
	uint64_t n = 0;

	while (n < want) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		/*
		 * 30 s: a restored sender whose peer's window was full waits
		 * for a window update or its persist timer, which backs off;
		 * under emulation on a loaded machine 5 s was seen to pass
		 * with the bytes still coming.
		 */
		if (poll(&p, 1, 30000) != 1 || (r = recv(fd, b, sizeof(b), 0)) <= 0) {
			CHECK(0, "%s: %llu of %llu bytes", what, (unsigned long long)n,
			      (unsigned long long)want);
			return;
		}
		for (ssize_t i = 0; i < r; i++)
			if (b[i] != pat(n + (uint64_t)i, salt)) {
				CHECK(0, "%s: byte %llu differs", what, (unsigned long long)(n + i));
				return;
			}
		n += (uint64_t)r;
	}
	{
		ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);

		CHECK(r == 0 || (r < 0 && errno == EAGAIN), "%s: %zd more bytes", what, r);
	}
}

/* a connection whose both queues are full both ways: every byte exactly once */
static int bulk(int port)
{
	int l = tcp_listener(port, 5), c, a;
	uint64_t n1, n2;

	c = socket(AF_INET, SOCK_STREAM, 0);
	setopt(c, SOL_SOCKET, SO_RCVBUF, 32768);
	{
		struct sockaddr_in sa = v4("127.0.0.1", port);

		if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("connect");
	}
	if ((a = accept(l, NULL, NULL)) < 0)
		die("accept");
	n1 = fill(c, 1);
	n2 = fill(a, 2);
	printf("READY %llu %llu\n", (unsigned long long)n1, (unsigned long long)n2);
	wait_go();
	drain(a, n1, 1, "server end");
	drain(c, n2, 2, "client");
	printf(bad ? "FAILED\n" : "OK\n");
	return bad;
}

/* pre-forked workers on one listener, each answering one connection after the restart */
static int prefork(int port)
{
	int l = tcp_listener(port, 16), st;
	pid_t kids[3];

	for (int i = 0; i < 3; i++) {
		if ((kids[i] = fork()) == 0) {
			int a = accept(l, NULL, NULL);
			char b[16];
			ssize_t r;

			if (a < 0)
				_exit(3);
			r = read(a, b, sizeof(b));
			if (r > 0)
				write(a, b, (size_t)r);
			close(a);
			_exit(r > 0 ? 0 : 4);
		}
	}
	printf("READY\n");
	wait_go();
	for (int i = 0; i < 3; i++) {
		int c = tcp_connect(port);
		char b[16];

		if (write(c, "hi", 2) != 2)
			CHECK(0, "write: %s", strerror(errno));
		CHECK(read(c, b, sizeof(b)) == 2 && !memcmp(b, "hi", 2), "answer %d", i);
		close(c);
	}
	for (int i = 0; i < 3; i++) {
		while (waitpid(kids[i], &st, 0) < 0 && errno == EINTR)
			;
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker %d status 0x%x", i, st);
	}
	printf(bad ? "FAILED\n" : "OK\n");
	return bad;
}

/* a connection to an echo server outside, migrated (--exit, --tcp=repair) */
static int migrate(int port)
{
	int c = tcp_connect(port);

	printf("READY\n");
	wait_go();
	read_exact(c, "hello", "greeting");
	if (write(c, "ping", 4) != 4)
		CHECK(0, "write: %s", strerror(errno));
	read_exact(c, "ping", "echo");
	printf(bad ? "FAILED\n" : "OK\n");
	return bad;
}

/* Sends a redis command (inline form), reads one reply line into buf. */
static int redis_cmd(int fd, const char *cmd, char *buf, size_t len)
{
	size_t n = 0;

	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return -1;
	while (n + 1 < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, 10000) != 1 || (r = read(fd, buf + n, len - 1 - n)) <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n") && (buf[0] != '$' || strstr(strstr(buf, "\r\n") + 2, "\r\n")))
			return 0;
	}
	return -1;
}

/*
 * redis: the tree's root runs redis-server (argv after PORT) as its child
 * and is its client over TCP, connected across the checkpoint: after
 * GOFILE, the same connection reads back what the test wrote.
 */
static int redis(int port, char **argv)
{
	char buf[256];
	pid_t kid = fork();
	int c = -1;

	if (kid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 1000 && c < 0; i++) {
		struct sockaddr_in sa = v4("127.0.0.1", port);

		c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(c);
			c = -1;
			poll(NULL, 0, 10);
		}
	}
	if (c < 0 || redis_cmd(c, "PING\r\n", buf, sizeof(buf)) < 0 || strncmp(buf, "+PONG", 5))
		die("redis ping");
	printf("READY %d\n", kid);
	wait_go();
	CHECK(redis_cmd(c, "DBSIZE\r\n", buf, sizeof(buf)) == 0 && !strncmp(buf, ":10000\r\n", 8),
	      "DBSIZE on the old connection: %s", buf);
	CHECK(redis_cmd(c, "GET key:7777\r\n", buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "$8\r\nval:7777\r\n"), "GET on the old connection: %s", buf);
	printf(bad ? "FAILED\n" : "OK\n");
	return bad;
}

static int client(int port)
{
	int c = tcp_connect(port);
	char b[8];
	ssize_t r;

	printf("READY\n");
	wait_go();
	r = read(c, b, sizeof(b));
	CHECK(r < 0 && errno == ECONNRESET, "read after --tcp=close: %zd %s", r,
	      r < 0 ? strerror(errno) : "");
	printf(bad ? "FAILED\n" : "OK\n");
	return bad;
}

static int server(int port)
{
	int l = tcp_listener(port, 5), a;

	char b[64];
	ssize_t r;

	printf("LISTENING\n");
	a = accept(l, NULL, NULL);
	printf("READY %d\n", a);
	if (access(go, F_OK) == 0)	/* GOFILE "echo": greet, then echo */
		write(a, "hello", 5);
	while (access(go, F_OK) == 0 && (r = read(a, b, sizeof(b))) > 0)
		write(a, b, (size_t)r);
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	int port, fd = -1;

	if (argc > 4 && !strcmp(argv[1], "redis")) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		go = argv[2];
		return redis(atoi(argv[3]), argv + 4);
	}
	if (argc != 4) {
		fprintf(stderr, "usage: inet CASE GOFILE PORT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	go = argv[2];
	port = atoi(argv[3]);
	if (!strcmp(argv[1], "one"))
		return one(port);
	if (!strcmp(argv[1], "tree"))
		return tree(port);
	if (!strcmp(argv[1], "bulk"))
		return bulk(port);
	if (!strcmp(argv[1], "prefork"))
		return prefork(port);
	if (!strcmp(argv[1], "migrate"))
		return migrate(port);
	if (!strcmp(argv[1], "client"))
		return client(port);
	if (!strcmp(argv[1], "server"))
		return server(port);
	if (!strcmp(argv[1], "halfclosed")) {
		int l = tcp_listener(port, 1), c = tcp_connect(port), a = accept(l, NULL, NULL);

		if (a < 0 || shutdown(a, SHUT_WR) < 0)
			die("shutdown");
		fd = c;		/* c: CLOSE_WAIT; a: FIN_WAIT2 */
	} else if (!strcmp(argv[1], "raw"))
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	else if (!strcmp(argv[1], "packet"))
		fd = socket(AF_PACKET, SOCK_RAW, htons(3));
	else if (!strcmp(argv[1], "diag"))
		fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
	if (fd < 0)
		die(argv[1]);
	printf("READY\n");
	wait_go();
	printf("OK\n");
	return 0;
}
