/*
 * usktree.c - unix sockets whose ends are held by different processes of
 * a tree (t_tree_unix.sh).  usktree CASE DIR [ARG]: sets the case up,
 * prints READY (the state to checkpoint), waits for DIR/go, then goes on
 * and checks everything itself; the root prints "DONE ok" (or BAD lines)
 * and exits 0 when all is well.
 *
 *   pair TYPE   (stream, dgram, seqpacket) a socketpair split by fork:
 *               messages queued both ways at checkpoint; after go each
 *               side reads the other's (bytes and boundaries), then a
 *               conversation goes on (ping, echo)
 *   server N    a pre-fork server: the root listens on DIR/srv.sock,
 *               forks N workers that accept on it, and N+1 clients (its
 *               children too); each client, once greeted, sends "req
 *               I.1", reads its answer, and at go "req I.2", then "bye".
 *               At checkpoint N conversations are half done and one
 *               connection waits to be accepted (workers take one at a
 *               time).  Workers print "ANS I.K" for every answer and
 *               count it in an anonymous shared counter (MAP_SHARED,
 *               made before the forks); each client checks its answers
 *               came once, then EOF, and the root that the counter
 *               holds every answer, 2 per client.
 *   dgrams      unconnected datagram sockets bound to DIR/a.sock (the root)
 *               and DIR/b.sock (its child), datagrams queued both ways
 *               (an empty one too), each from the other's name
 *   rights      fds in flight between the root and its child over a
 *               split pair: the child sends a file at offset 5 and a
 *               pipe's read end with bytes in it (closing both ends),
 *               the root sends the child its own file (keeping it: one
 *               description, one offset) - all still queued at
 *               checkpoint; after go each receives and checks them
 *   outside     (refused) a child connected to DIR/outside.sock, a server
 *               outside the tree
 *   pipewriter  (refused) the child sends its parent a pipe's read end
 *               and keeps the write end
 *   keepfd      (refused) the child sends its parent a file it keeps open
 *   sockflight  (refused) the root sends its child one end of a stream pair
 *               and closes it, keeping the other end
 *   creds       (refused) the root's end has SO_PASSCRED, the child sent
 *               to it: credentials of another process in flight
 *   creds2      (refused) the same the other way: the child's end reads
 *               credentials, the root sent (the child refuses, after the
 *               tree's cut)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BAD(...) do { printf("BAD [%d] ", (int)getpid()); printf(__VA_ARGS__); printf("\n"); \
		      bad++; } while (0)

static int bad;
static const char *dir;

static void die(const char *what)
{
	printf("setup: %s: %s\n", what, strerror(errno));
	exit(3);
}

static void nap(void)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static char *path(const char *name)
{
	static char buf[8][512];
	static int k;
	char *p = buf[k++ & 7];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

static int exists(const char *name)
{
	return access(path(name), F_OK) == 0;
}

static void wait_file(const char *name)
{
	while (!exists(name))
		nap();
}

static void touch(const char *name)
{
	/* O_EXCL: never through a planted name; one already there is the signal */
	int fd = open(path(name), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0 && errno != EEXIST)
		die(name);
	if (fd >= 0)
		close(fd);
}

/* Child processes: each exits 0 when all was well. */
static pid_t kids[64];
static int nkids;

static int reap_all(void)
{
	int ok = 1;

	for (int i = 0; i < nkids; i++) {
		int st;

		if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st)) {
			BAD("child %d ended with status %#x", (int)kids[i], st);
			ok = 0;
		}
	}
	return ok;
}

static int recv_exact(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* ---- pair ---- */

static const char *const p2c[] = { "from the parent, one", "", "three, parent" };
static const char *const c2p[] = { "child: 1", "child: second message", "" , "c4" };

static void send_all(int fd, int type, const char *const *m, int n)
{
	for (int i = 0; i < n; i++) {
		if (type != SOCK_DGRAM && !m[i][0])
			continue;	/* empty: datagrams only */
		if (send(fd, m[i], strlen(m[i]), 0) != (ssize_t)strlen(m[i]))
			die("send");
	}
}

/* Reads what send_all sent: records one by one, a stream's bytes all. */
static void recv_all(int fd, int type, const char *const *m, int n, const char *who)
{
	char buf[256], want[256] = "";

	if (type == SOCK_STREAM) {
		for (int i = 0; i < n; i++)
			strcat(want, m[i]);
		if (recv_exact(fd, buf, strlen(want)) < 0 || memcmp(buf, want, strlen(want)))
			BAD("%s: stream bytes differ", who);
		return;
	}
	for (int i = 0; i < n; i++) {
		ssize_t r;

		if (type != SOCK_DGRAM && !m[i][0])
			continue;
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r != (ssize_t)strlen(m[i]) || memcmp(buf, m[i], (size_t)r))
			BAD("%s: message %d: got %zd bytes, want \"%s\"", who, i, r, m[i]);
	}
	if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		BAD("%s: a message too many", who);
}

static int sock_type(const char *t)
{
	return !strcmp(t, "stream") ? SOCK_STREAM : !strcmp(t, "dgram") ? SOCK_DGRAM :
	       !strcmp(t, "seqpacket") ? SOCK_SEQPACKET : -1;
}

static int pair_case(const char *t)
{
	int type = sock_type(t), sv[2];
	char buf[64];
	pid_t pid;

	if (type < 0 || socketpair(AF_UNIX, type, 0, sv) < 0)
		die("socketpair");
	if ((pid = fork()) == 0) {
		close(sv[0]);
		send_all(sv[1], type, c2p, 4);
		touch("child.sent");
		wait_file("go");
		recv_all(sv[1], type, p2c, 3, "child");
		touch("child.drained");		/* (before the first ping) */
		/* the conversation goes on: an echo of each ping */
		for (int i = 0; i < 3; i++) {
			ssize_t n = recv(sv[1], buf, sizeof(buf) - 1, 0);

			if (n <= 0)
				BAD("child: ping %d: %zd", i, n);
			else {
				buf[n] = '\0';
				char out[80];

				snprintf(out, sizeof(out), "echo %s", buf);
				if (send(sv[1], out, strlen(out), 0) < 0)
					BAD("child: echo: %s", strerror(errno));
			}
		}
		exit(bad ? 1 : 0);
	}
	kids[nkids++] = pid;
	close(sv[1]);
	send_all(sv[0], type, p2c, 3);
	wait_file("child.sent");
	printf("READY\n");
	fflush(stdout);
	wait_file("go");
	recv_all(sv[0], type, c2p, 4, "parent");
	{
		struct ucred cr;
		socklen_t cl = sizeof(cr);

		if (getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
			printf("PEERCRED %d (me %d, parent %d)\n", (int)cr.pid, (int)getpid(),
			       (int)getppid());
	}
	wait_file("child.drained");
	for (int i = 0; i < 3; i++) {
		char ping[32], want[64];

		snprintf(ping, sizeof(ping), "ping%d", i);
		snprintf(want, sizeof(want), "echo %s", ping);
		if (send(sv[0], ping, strlen(ping), 0) < 0)
			BAD("parent: ping: %s", strerror(errno));
		/* a stream may join an echo; each is read by its length */
		if (recv_exact(sv[0], buf, strlen(want)) < 0 || memcmp(buf, want, strlen(want)))
			BAD("parent: echo %d", i);
	}
	return reap_all();
}

/* ---- server ---- */

static socklen_t addr(struct sockaddr_un *sa, const char *p)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	strncpy(sa->sun_path, p, sizeof(sa->sun_path) - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1);
}

static unsigned long *answered;		/* the workers' shared counter */

static void worker(int l)
{
	for (;;) {
		int c = accept(l, NULL, NULL);
		char buf[64];

		if (c < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		if (send(c, "hello", 5, 0) != 5)
			die("hello");
		for (;;) {
			char id[16];

			/* requests are 7 bytes: "req I.K", or "bye" + 4 spaces */
			if (recv_exact(c, buf, 7) < 0)
				break;
			if (!memcmp(buf, "bye", 3))
				break;
			memcpy(id, buf + 4, 3);
			id[3] = '\0';
			snprintf(buf, sizeof(buf), "ans %s", id);
			if (send(c, buf, 7, 0) != 7)
				break;
			__atomic_add_fetch(answered, 1, __ATOMIC_SEQ_CST);
			printf("ANS %s\n", id);
			fflush(stdout);
		}
		close(c);
	}
}

static void client(int i)
{
	struct sockaddr_un sa;
	char buf[16], req[32], name[32];
	int c = socket(AF_UNIX, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (struct sockaddr *)&sa, addr(&sa, path("srv.sock"))) < 0)
		die("connect");
	snprintf(name, sizeof(name), "c%d.conn", i);
	touch(name);
	if (recv_exact(c, buf, 5) < 0 || memcmp(buf, "hello", 5))
		BAD("client %d: no greeting", i);
	for (int k = 1; k <= 2; k++) {
		if (k == 2)
			wait_file("go");
		snprintf(req, sizeof(req), "req %d.%d", i, k);
		if (send(c, req, 7, 0) != 7)
			BAD("client %d: send: %s", i, strerror(errno));
		if (recv_exact(c, buf, 7) < 0 || memcmp(buf, "ans", 3) || memcmp(buf + 4, req + 4, 3))
			BAD("client %d: no answer %d", i, k);
		if (k == 1) {
			snprintf(name, sizeof(name), "c%d.1", i);
			touch(name);
		}
	}
	if (send(c, "bye    ", 7, 0) != 7)
		BAD("client %d: bye", i);
	/* answered once each: nothing more, then EOF */
	if (recv(c, buf, sizeof(buf), 0) != 0)
		BAD("client %d: more than its answers", i);
	exit(bad ? 1 : 0);
}

static int server_case(int n)
{
	struct sockaddr_un sa;
	pid_t workers[16];
	int l = socket(AF_UNIX, SOCK_STREAM, 0), done;
	char name[32];

	if (n < 1 || n > 8)
		die("workers");
	answered = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (answered == MAP_FAILED)
		die("mmap");
	unlink(path("srv.sock"));
	if (l < 0 || bind(l, (struct sockaddr *)&sa, addr(&sa, path("srv.sock"))) < 0 ||
	    listen(l, 16) < 0)
		die("listen");
	for (int i = 0; i < n; i++)
		if ((workers[i] = fork()) == 0)
			worker(l);
	/* one client more than workers: it waits to be accepted */
	for (int i = 0; i <= n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			close(l);
			client(i);
		}
		kids[nkids++] = pid;
	}
	/* every client connected, n of them half-way through */
	do {
		nap();
		done = 0;
		for (int i = 0; i <= n; i++) {
			snprintf(name, sizeof(name), "c%d.conn", i);
			done += exists(name) ? 100 : 0;
			snprintf(name, sizeof(name), "c%d.1", i);
			done += exists(name);
		}
	} while (done != 101 * n + 100);
	printf("READY\n");
	fflush(stdout);
	wait_file("go");
	done = reap_all();
	for (int i = 0; i < n; i++)
		kill(workers[i], SIGTERM);
	for (int i = 0; i < n; i++)
		waitpid(workers[i], NULL, 0);
	if (__atomic_load_n(answered, __ATOMIC_SEQ_CST) != 2ul * (n + 1))
		BAD("the workers' shared counter holds %lu answers, not %d",
		    __atomic_load_n(answered, __ATOMIC_SEQ_CST), 2 * (n + 1));
	return done;
}

/* ---- named datagrams ---- */

/* A datagram socket bound to DIR/name. */
static int dgram_bound(const char *name)
{
	struct sockaddr_un sa;
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);

	unlink(path(name));
	if (s < 0 || bind(s, (struct sockaddr *)&sa, addr(&sa, path(name))) < 0)
		die("bind");
	return s;
}

static void send_to(int s, const char *name, const char *msg)
{
	struct sockaddr_un sa;
	socklen_t len = addr(&sa, path(name));

	if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&sa, len) != (ssize_t)strlen(msg))
		die("sendto");
}

/* The next datagram: msg, from DIR/name. */
static void recv_from(int s, const char *name, const char *msg, int wait)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	char buf[64];
	ssize_t n = recvfrom(s, buf, sizeof(buf), wait ? 0 : MSG_DONTWAIT, (struct sockaddr *)&sa,
			     &len);

	if (n != (ssize_t)strlen(msg) || memcmp(buf, msg, (size_t)n))
		BAD("datagram \"%s\": got %zd bytes", msg, n);
	else if (strcmp(sa.sun_path, path(name)))
		BAD("datagram \"%s\" from %s, want %s", msg, sa.sun_path, path(name));
}

static int dgrams_case(void)
{
	int a = dgram_bound("a.sock");
	pid_t pid;

	if ((pid = fork()) == 0) {
		int b = dgram_bound("b.sock");

		close(a);
		send_to(b, "a.sock", "to a, 1");
		send_to(b, "a.sock", "");
		send_to(b, "a.sock", "to a, 3");
		touch("child.sent");
		wait_file("go");
		recv_from(b, "a.sock", "to b", 0);
		recv_from(b, "a.sock", "ping", 1);
		send_to(b, "a.sock", "pong");
		exit(bad ? 1 : 0);
	}
	kids[nkids++] = pid;
	wait_file("child.sent");
	send_to(a, "b.sock", "to b");
	printf("READY\n");
	fflush(stdout);
	wait_file("go");
	recv_from(a, "b.sock", "to a, 1", 0);
	recv_from(a, "b.sock", "", 0);
	recv_from(a, "b.sock", "to a, 3", 0);
	send_to(a, "b.sock", "ping");
	recv_from(a, "b.sock", "pong", 1);
	return reap_all();
}

/* ---- rights ---- */

static void send_fd(int s, const char *what, int fd)
{
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } cb;
	struct iovec iov = { (void *)what, strlen(what) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			    .msg_controllen = sizeof(cb.b) };

	memset(&cb, 0, sizeof(cb));
	cb.h.cmsg_level = SOL_SOCKET;
	cb.h.cmsg_type = SCM_RIGHTS;
	cb.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&cb.h), &fd, sizeof(int));
	if (sendmsg(s, &m, 0) != (ssize_t)strlen(what))
		die("sendmsg");
}

/* One message of what.len bytes and its fd: the fd, or -1. */
static int recv_fd(int s, const char *what)
{
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } cb;
	char buf[64];
	struct iovec iov = { buf, strlen(what) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			    .msg_controllen = sizeof(cb.b) };
	int fd = -1;
	ssize_t n = recvmsg(s, &m, MSG_DONTWAIT);

	if (n != (ssize_t)strlen(what) || memcmp(buf, what, (size_t)n)) {
		BAD("message \"%s\": got %zd bytes", what, n);
		return -1;
	}
	if (m.msg_controllen >= CMSG_LEN(sizeof(int)) && cb.h.cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(&cb.h), sizeof(int));
	if (fd < 0)
		BAD("message \"%s\": no fd with it", what);
	return fd;
}

static int data_file(const char *name, const char *text)
{
	int fd = open(path(name), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(name);
	return fd;
}

static int read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void expect(int fd, const char *want, const char *what)
{
	char buf[64];

	if (read_n(fd, buf, strlen(want)) < 0 || memcmp(buf, want, strlen(want)))
		BAD("%s: did not read \"%s\"", what, want);
}

static int rights_case(void)
{
	int sv[2], mine = data_file("root.data", "0123456789abcdef");
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		die("socketpair");
	lseek(mine, 2, SEEK_SET);
	if ((pid = fork()) == 0) {
		int f = data_file("child.data", "ABCDEFGHIJ"), p[2];

		close(sv[0]);
		close(mine);		/* the root sends it again */
		if (pipe2(p, O_CLOEXEC) < 0 || write(p[1], "in the pipe", 11) != 11)
			die("pipe");
		lseek(f, 5, SEEK_SET);
		send_fd(sv[1], "file", f);
		send_fd(sv[1], "pipe", p[0]);
		close(f);
		close(p[0]);
		close(p[1]);		/* the bytes, then EOF */
		touch("child.sent");
		wait_file("go");
		/* the root's file: one description with the root's fd (offset 2) */
		f = recv_fd(sv[1], "yours");
		if (f >= 0) {
			if (lseek(f, 0, SEEK_CUR) != 2)
				BAD("child: the root's file at %ld, want 2", (long)lseek(f, 0, SEEK_CUR));
			expect(f, "234", "child: the root's file");
			touch("child.read");
		}
		exit(bad ? 1 : 0);
	}
	kids[nkids++] = pid;
	close(sv[1]);
	send_fd(sv[0], "yours", mine);	/* kept: the child's copy shares its offset */
	wait_file("child.sent");
	printf("READY\n");
	fflush(stdout);
	wait_file("go");
	{
		int f = recv_fd(sv[0], "file"), p = recv_fd(sv[0], "pipe");
		char buf[8];

		if (f >= 0) {
			if (lseek(f, 0, SEEK_CUR) != 5)
				BAD("root: the child's file at %ld, want 5", (long)lseek(f, 0, SEEK_CUR));
			expect(f, "FGHIJ", "root: the child's file");
		}
		wait_file("child.read");
		if (lseek(mine, 0, SEEK_CUR) != 5)
			BAD("root: its file at %ld after the child read 3 bytes, want 5 (one "
			    "description)", (long)lseek(mine, 0, SEEK_CUR));
		if (p >= 0) {
			expect(p, "in the pipe", "root: the pipe");
			if (read(p, buf, sizeof(buf)) != 0)
				BAD("root: the pipe: no EOF after its bytes (no writer left)");
		}
	}
	return reap_all();
}

/* ---- refused ---- */

static int outside_case(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sockaddr_un sa;
		int c = socket(AF_UNIX, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&sa, addr(&sa, path("outside.sock"))) < 0)
			die("connect");
		touch("child.sent");
		wait_file("go");
		exit(0);
	}
	kids[nkids++] = pid;
	wait_file("child.sent");
	printf("READY\n");
	fflush(stdout);
	wait_file("go");
	return reap_all();
}

static int pipewriter_case(void)
{
	int sv[2], p[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		die("socketpair");
	if ((pid = fork()) == 0) {
		close(sv[0]);
		if (pipe2(p, O_CLOEXEC) < 0)
			die("pipe");
		send_fd(sv[1], "pipe", p[0]);
		close(p[0]);
		touch("child.sent");
		wait_file("go");
		exit(0);
	}
	kids[nkids++] = pid;
	close(sv[1]);
	wait_file("child.sent");
	printf("READY\n");
	fflush(stdout);
	wait_file("go");
	return reap_all();
}

static int keepfd_case(void)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		die("socketpair");
	if ((pid = fork()) == 0) {
		int f = data_file("kept.data", "kept");

		close(sv[0]);
		send_fd(sv[1], "file", f);	/* and keeps f */
		touch("child.sent");
		wait_file("go");
		exit(0);
	}
	kids[nkids++] = pid;
	close(sv[1]);
	wait_file("child.sent");
	printf("READY\n");
	fflush(stdout);
	wait_file("go");
	return reap_all();
}

static int sockflight_case(void)
{
	int sv[2], x[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, x) < 0)
		die("socketpair");
	if ((pid = fork()) == 0) {
		close(sv[0]);
		close(x[0]);
		close(x[1]);
		touch("child.sent");
		wait_file("go");
		exit(0);
	}
	kids[nkids++] = pid;
	close(sv[1]);
	send_fd(sv[0], "end", x[1]);	/* to the child, not received yet */
	close(x[1]);
	wait_file("child.sent");
	printf("READY\n");
	fflush(stdout);
	wait_file("go");
	return reap_all();
}

/* to_child: the child's end reads credentials, the root sends; else the other way. */
static int creds_case(int to_child)
{
	int sv[2], on = 1;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0 ||
	    setsockopt(sv[!!to_child], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
		die("socketpair");
	if ((pid = fork()) == 0) {
		close(sv[0]);
		if (!to_child && send(sv[1], "who", 3, 0) != 3)
			die("send");
		touch("child.sent");
		wait_file("go");
		exit(0);
	}
	kids[nkids++] = pid;
	close(sv[1]);
	if (to_child && send(sv[0], "who", 3, 0) != 3)
		die("send");
	wait_file("child.sent");
	printf("READY\n");
	fflush(stdout);
	wait_file("go");
	return reap_all();
}

int main(int argc, char **argv)
{
	int ok;

	if (argc < 3)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	dir = argv[2];
	if (!strcmp(argv[1], "pair") && argc == 4)
		ok = pair_case(argv[3]);
	else if (!strcmp(argv[1], "server") && argc == 4)
		ok = server_case(atoi(argv[3]));
	else if (!strcmp(argv[1], "dgrams"))
		ok = dgrams_case();
	else if (!strcmp(argv[1], "rights"))
		ok = rights_case();
	else if (!strcmp(argv[1], "outside"))
		ok = outside_case();
	else if (!strcmp(argv[1], "pipewriter"))
		ok = pipewriter_case();
	else if (!strcmp(argv[1], "keepfd"))
		ok = keepfd_case();
	else if (!strcmp(argv[1], "sockflight"))
		ok = sockflight_case();
	else if (!strcmp(argv[1], "creds"))
		ok = creds_case(0);
	else if (!strcmp(argv[1], "creds2"))
		ok = creds_case(1);
	else
		return 2;
	if (ok && !bad)
		printf("DONE ok\n");
	return ok && !bad ? 0 : 1;
}
