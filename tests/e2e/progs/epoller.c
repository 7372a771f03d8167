/*
 * epoller - epoll instances for tests/e2e/t_epoll.sh.
 *
 *   epoller CASE GOFILE
 *
 * Sets CASE up, prints READY, waits for GOFILE to exist (the test
 * checkpoints, kills and restarts it meanwhile), then checks that the
 * interest lists are the same (fdinfo: fd, events, data of each item) and
 * that the event loop goes on exactly as the kernel would have let it:
 * prints OK, or BAD lines and exits 1.
 *
 *   one     one process, epoll 1 holding: a pipe with bytes (level-
 *           triggered), a pipe with bytes (edge-triggered, not yet
 *           reported: pending), an EPOLLONESHOT item that fired and stays
 *           disabled (bytes still in its pipe), an EPOLLONESHOT item armed
 *           on an empty pipe, an item added under an fd since closed (a
 *           dup keeps its file), an EPOLLEXCLUSIVE item, a write end
 *           (EPOLLOUT|EPOLLET), a nested epoll (epoll 2 with a ready pipe),
 *           64-bit data; epoll 3 non-blocking with one item on a number
 *           that now holds another file
 *   tree    an epoll made before fork, shared: the parent's items (made
 *           before the fork) and the child's (after it, on a pipe only the
 *           child holds, and on one only the parent holds); the child's own
 *           epoll with an item on a file only the parent still holds; both
 *           processes wait on it after the restart
 *   stdin   an item on fd 0, a pipe from outside the image (a restart gives
 *           the process ckpt-restart's own fd 0): once GOFILE exists, it
 *           waits (no limit) until fd 0 is readable, reads a byte
 *   gone    refused: an item whose file only a message in flight holds
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *go;
static int bad;

#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad = 1; } while (0)

static void wait_go(void)
{
	struct timespec t = { 0, 5000000 };

	while (access(go, F_OK))
		nanosleep(&t, NULL);
}

static void xpipe(int p[2], int bytes)
{
	if (pipe(p) < 0) {
		perror("pipe");
		exit(2);
	}
	if (bytes && write(p[1], "xxxxxxxx", bytes) != bytes) {
		perror("write");
		exit(2);
	}
}

static void add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		printf("setup: EPOLL_CTL_ADD fd %d: %s\n", fd, strerror(errno));
		exit(2);
	}
}

/* The items of epoll fd ep as "tfd events data" lines, sorted (fdinfo's order is the kernel's). */
static int cmp_line(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void items(int ep, char *out, size_t len)
{
	char name[64], buf[8192], lines[64][64];
	int n = 0, fd;
	ssize_t got;
	const char *s = buf;

	snprintf(name, sizeof(name), "/proc/self/fdinfo/%d", ep);
	fd = open(name, O_RDONLY);
	got = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[got < 0 ? 0 : got] = 0;
	while ((s = strstr(s, "tfd:")) && n < 64) {
		int tfd;
		unsigned ev;
		unsigned long long data;

		if (sscanf(s, "tfd: %d events: %x data: %llx", &tfd, &ev, &data) == 3)
			snprintf(lines[n++], 64, "%d %x %llx", tfd, ev, data);
		s += 4;
	}
	qsort(lines, n, sizeof(lines[0]), cmp_line);
	out[0] = 0;
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s;", lines[i]);
}

/* epoll_wait(ep, 0): the data of what it reports, sorted, as "a,b,c". */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void ready(int ep, char *out, size_t len)
{
	struct epoll_event ev[32];
	uint64_t d[32];
	int n = epoll_wait(ep, ev, 32, 0);

	out[0] = 0;
	if (n < 0) {
		snprintf(out, len, "error %s", strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++)
		d[i] = ev[i].data.u64;
	qsort(d, n, sizeof(d[0]), cmp_u64);
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%llx", i ? "," : "",
			 (unsigned long long)d[i]);
}

static void expect_ready(const char *what, int ep, const char *want)
{
	char got[512];

	ready(ep, got, sizeof(got));
	if (strcmp(got, want))
		BAD("%s: epoll_wait reports {%s}, want {%s}", what, got, want);
}

static void expect_items(const char *what, int ep, const char *before)
{
	char now[4096];

	items(ep, now, sizeof(now));
	if (strcmp(now, before))
		BAD("%s: interest list %s, was %s", what, now, before);
}

/* --- one ------------------------------------------------------------------ */

static int ep1, ep2, ep3, pa[2], pb[2], pc[2], pd[2], pe[2], pg[2], pw[2], pf[2], ph[2], pi[2];
static int e_kept, h_num, ep4, sv[2], lsn, cli;
static char before1[4096], before2[4096], before3[4096], before4[4096];

static void one_setup(void)
{
	struct epoll_event ev;

	ep1 = epoll_create1(EPOLL_CLOEXEC);
	ep2 = epoll_create1(0);
	ep3 = epoll_create1(EPOLL_CLOEXEC);
	fcntl(ep3, F_SETFL, O_NONBLOCK);
	xpipe(pc, 1);
	add(ep1, pc[0], EPOLLIN | EPOLLONESHOT, 0xc);
	if (epoll_wait(ep1, &ev, 1, 0) != 1 || ev.data.u64 != 0xc) {
		printf("setup: the oneshot item did not fire\n");
		exit(2);
	}
	xpipe(pa, 1);
	add(ep1, pa[0], EPOLLIN, 0xa);
	xpipe(pb, 1);
	add(ep1, pb[0], EPOLLIN | EPOLLET, 0xb);
	xpipe(pd, 0);
	add(ep1, pd[0], EPOLLIN | EPOLLONESHOT, 0xd);
	xpipe(pe, 1);
	e_kept = dup(pe[0]);
	add(ep1, pe[0], EPOLLIN | EPOLLRDHUP, 0xe);
	close(pe[0]);			/* the item lives on: e_kept holds its file */
	xpipe(pg, 0);
	add(ep1, pg[0], EPOLLIN | EPOLLEXCLUSIVE, 0x6);
	xpipe(pw, 0);
	add(ep1, pw[1], EPOLLOUT | EPOLLET, 0x77);
	xpipe(pf, 1);
	add(ep2, pf[0], EPOLLIN, 0xf);
	add(ep1, ep2, EPOLLIN, 0xdeadbeefcafef00dull);
	/* ep3: an item added as fd h_num, whose number now holds another file */
	xpipe(ph, 1);
	xpipe(pi, 0);
	h_num = dup(ph[0]);
	add(ep3, h_num, EPOLLIN, 0x4);
	dup2(pi[0], h_num);
	/* ep4: unix sockets: a pair with a byte queued, a listener with a connection waiting */
	ep4 = epoll_create1(0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || write(sv[1], "s", 1) != 1)
		exit(2);
	add(ep4, sv[0], EPOLLIN, 0x5a);
	add(ep4, sv[1], EPOLLOUT | EPOLLET, 0x5b);
	{
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		snprintf(a.sun_path, sizeof(a.sun_path), "%s.sock", go);
		unlink(a.sun_path);
		if ((lsn = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    bind(lsn, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lsn, 4) < 0 ||
		    (cli = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    connect(cli, (struct sockaddr *)&a, sizeof(a)) < 0) {
			printf("setup: unix listener: %s\n", strerror(errno));
			exit(2);
		}
	}
	add(ep4, lsn, EPOLLIN, 0x11);
	items(ep1, before1, sizeof(before1));
	items(ep2, before2, sizeof(before2));
	items(ep3, before3, sizeof(before3));
	items(ep4, before4, sizeof(before4));
}

static void one_check(void)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 0xc };
	char buf[8];

	expect_items("epoll 1", ep1, before1);
	expect_items("epoll 2", ep2, before2);
	expect_items("epoll 3", ep3, before3);
	expect_items("epoll 4", ep4, before4);
	expect_ready("unix sockets", ep4, "11,5a,5b");
	expect_ready("unix sockets again", ep4, "11,5a");
	{
		int c = accept(lsn, NULL, NULL);

		if (c < 0 || read(sv[0], buf, 1) != 1)
			BAD("accept or read: %s", strerror(errno));
		close(c);
	}
	/* (the read made room: the writer's edge-triggered EPOLLOUT fires again) */
	expect_ready("unix sockets read", ep4, "5b");
	if (!(fcntl(ep3, F_GETFL) & O_NONBLOCK))
		BAD("epoll 3 lost O_NONBLOCK");
	/* pending: level a, edge b (never reported), e, the nested epoll, the write end */
	expect_ready("first wait", ep1, "a,b,e,77,deadbeefcafef00d");
	/* level-triggered ones again; the edge-triggered were reported */
	expect_ready("second wait", ep1, "a,e,deadbeefcafef00d");
	expect_ready("nested epoll", ep2, "f");
	expect_ready("epoll 3", ep3, "4");
	/* the oneshot armed on an empty pipe fires once on a write */
	if (write(pd[1], "y", 1) != 1)
		BAD("write: %s", strerror(errno));
	expect_ready("oneshot d written", ep1, "a,d,e,deadbeefcafef00d");
	expect_ready("oneshot d again", ep1, "a,e,deadbeefcafef00d");
	/* the disabled oneshot c stays disabled until re-armed */
	if (epoll_ctl(ep1, EPOLL_CTL_MOD, pc[0], &ev) < 0)
		BAD("EPOLL_CTL_MOD of c: %s", strerror(errno));
	expect_ready("c re-armed", ep1, "a,c,e,deadbeefcafef00d");
	/* the exclusive item wakes on a write */
	if (write(pg[1], "y", 1) != 1)
		BAD("write: %s", strerror(errno));
	expect_ready("exclusive g written", ep1, "6,a,e,deadbeefcafef00d");
	/* the app's own calls by fd number: DEL a, then a's reads */
	if (epoll_ctl(ep1, EPOLL_CTL_DEL, pa[0], NULL) < 0)
		BAD("EPOLL_CTL_DEL of a: %s", strerror(errno));
	if (read(e_kept, buf, 1) != 1 || read(pf[0], buf, 1) != 1 || read(pc[0], buf, 1) != 1)
		BAD("read: %s", strerror(errno));
	expect_ready("after reads", ep1, "6");
	if (read(pg[0], buf, 1) != 1)
		BAD("read: %s", strerror(errno));
	expect_ready("all read", ep1, "");
	/* the edge-triggered b fires again on new bytes */
	if (write(pb[1], "y", 1) != 1)
		BAD("write: %s", strerror(errno));
	expect_ready("b written", ep1, "b");
}

/* --- tree ----------------------------------------------------------------- */

static int eps, epc, t1[2], t2[2], t3[2], t4[2], sync_p[2], sync2[2], t3_kept;
static pid_t kid;
static char tb_shared[4096], tb_child[4096];

static void tree_setup(void)
{
	char c;

	eps = epoll_create1(0);
	xpipe(t1, 1);
	add(eps, t1[0], EPOLLIN, 0x1);
	xpipe(t4, 1);
	if (pipe(sync_p) < 0 || pipe(sync2) < 0)
		exit(2);
	kid = fork();
	if (kid == 0) {
		xpipe(t2, 1);		/* only the child holds it */
		add(eps, t2[0], EPOLLIN, 0x2);
		xpipe(t3, 1);
		t3_kept = dup(t3[0]);
		add(eps, t3[0], EPOLLIN | EPOLLET, 0x3);
		close(t3[0]);
		/* its own epoll, on a pipe only the parent keeps */
		epc = epoll_create1(0);
		add(epc, t4[0], EPOLLIN, 0x4);
		close(t4[0]);
		close(t4[1]);
		items(eps, tb_shared, sizeof(tb_shared));
		items(epc, tb_child, sizeof(tb_child));
		if (write(sync_p[1], "k", 1) != 1)
			exit(2);
		wait_go();
		/* after the parent's checks (its pipes are gone with it) */
		if (read(sync2[0], &c, 1) != 1)
			BAD("child: read: %s", strerror(errno));
		expect_items("child: shared epoll", eps, tb_shared);
		expect_items("child: own epoll", epc, tb_child);
		expect_ready("child: own epoll", epc, "4");
		/* the parent waited first: the edge-triggered 3 was reported to it */
		expect_ready("child: shared epoll", eps, "1,2");
		exit(bad);
	}
	if (read(sync_p[0], &c, 1) != 1)
		exit(2);
	items(eps, tb_shared, sizeof(tb_shared));
}

static void tree_check(void)
{
	int st = 0;

	expect_items("parent: shared epoll", eps, tb_shared);
	expect_ready("parent: shared epoll", eps, "1,2,3");
	if (write(sync2[1], "p", 1) != 1)
		BAD("write: %s", strerror(errno));
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		BAD("the child failed (status 0x%x)", st);
}

/* --- gone: an item whose file only a message in flight holds ---------------- */

static void gone_setup(void)
{
	int sp[2], p[2], ep = epoll_create1(0);
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	xpipe(p, 1);
	add(ep, p[0], EPOLLIN, 0x9);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
		exit(2);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
	if (sendmsg(sp[0], &m, 0) != 1)
		exit(2);
	close(p[0]);
}

/* --- stdin: an item on an fd the restart inherits ------------------------- */

static int eps0;

static void stdin_check(void)
{
	struct epoll_event ev;
	char c;
	int n = epoll_wait(eps0, &ev, 1, -1);

	if (n != 1 || ev.data.u64 != 0x57)
		BAD("stdin: epoll_wait returned %d (data 0x%llx): %s", n,
		    (unsigned long long)ev.data.u64, strerror(errno));
	else if (read(0, &c, 1) != 1 || c != 'x')
		BAD("stdin: read: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *c;

	if (argc < 3) {
		fprintf(stderr, "usage: epoller CASE GOFILE\n");
		return 2;
	}
	c = argv[1];
	go = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(c, "one"))
		one_setup();
	else if (!strcmp(c, "tree"))
		tree_setup();
	else if (!strcmp(c, "gone"))
		gone_setup();
	else if (!strcmp(c, "stdin")) {
		eps0 = epoll_create1(0);
		add(eps0, 0, EPOLLIN, 0x57);
	} else {
		fprintf(stderr, "epoller: unknown case %s\n", c);
		return 2;
	}
	printf("READY\n");
	wait_go();
	if (!strcmp(c, "one"))
		one_check();
	else if (!strcmp(c, "tree"))
		tree_check();
	else if (!strcmp(c, "stdin"))
		stdin_check();
	if (bad)
		return 1;
	printf("OK %s\n", c);
	return 0;
}
