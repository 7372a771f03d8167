/*
 * pipes.c - pipes and FIFOs survive checkpoint, SIGKILL and restart, with
 * their bytes in flight, and the original that runs on after a checkpoint
 * still reads every byte once.
 *
 *   pipes CASE DIR GOFILE [ARG...]
 * Makes CASE's pipes, prints "READY" (and what the test needs: "TIDS ..."),
 * waits for GOFILE to appear (meanwhile the test checkpoints the process,
 * and kills and restarts it, or not), then checks them and prints
 * "OK CASE" (exit 0) or "BAD ..." lines (exit 1).  "GOT n crc" lines say
 * what was read, so that the test can compare the original's with the
 * copy's.  CASEs:
 *   self N CAP   a pipe to itself (both ends O_NONBLOCK, the read end
 *                dup'ed, the write end FD_CLOEXEC), capacity CAP, N
 *                pattern bytes in flight (0: empty; CAP: full, a write
 *                gets EAGAIN): flags, FD_CLOEXEC, capacity, owner (the
 *                process's user), the dup's shared description, every
 *                byte once, then the pipe works
 *   packets      pipe2(O_DIRECT), capacity 256 KiB: packets of 1, 100,
 *                4096, 7, 2000 and 1 bytes, 64 KiB of plain bytes, a
 *                packet of 10, 5000 plain bytes (O_DIRECT cleared on the
 *                write end at the end), O_DIRECT set on the read end: each
 *                read returns one packet or the plain bytes between; a
 *                short read of a new packet drops the rest of it
 *   eof N        a read end whose write end was closed: N bytes, then EOF
 *                (and POLLHUP)
 *   epipe N      a write end whose read end was closed: EPIPE, POLLERR,
 *                and FIONREAD still shows the N bytes
 *   threads      pipe A: a thread writes 2 MiB in 100000-byte writes into
 *                it, blocking while another reads it slowly (4 KiB a
 *                millisecond); pipe B: a thread blocked in read() on it,
 *                empty, until after GOFILE another writes 5 bytes.  Every
 *                byte of A arrives once and in order, B's read returns
 *                them.  Prints "TIDS <A's writer> <B's reader>"
 *   fifo N       FIFO DIR/ff (mode 0640): open O_RDWR, O_WRONLY|O_NONBLOCK
 *                and O_RDONLY|O_NONBLOCK, N bytes in flight: its path,
 *                flags, mode and owner (the process's user), bytes, and it
 *                is still the FIFO at DIR/ff (another open of it reaches
 *                the process)
 *   nohup        FIFO DIR/f1 read O_NONBLOCK with no writer ever: poll
 *                shows nothing; FIFO DIR/f2 read whose writer came and
 *                went: POLLHUP.  Both stay so
 *   std          fds 0 and 2 are the two ends of the process's own pipe
 *                (not ckpt-restart's), 10 bytes in flight
 *   tree         a pipeline of processes: the root forks a producer and
 *                a consumer; pipe x from the producer (30000 bytes in
 *                flight, 30000 more after GOFILE, then EOF) to the
 *                consumer, which reads it to EOF after GOFILE and writes
 *                what it read into pipe y to the root; no process holds
 *                both ends of x
 *   outside PID FD MODE   opens /proc/PID/fd/FD (a pipe another process
 *                holds) for reading (r) or writing (w): refused
 *   mixed        plain bytes then a packet, unread: refused
 *   gone         a FIFO removed while open: refused
 *   async        a pipe with O_ASYNC: refused
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define K_LARGEFILE 0100000
#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); fflush(stdout); bad++; } while (0)
#define SETUP(c) do { if (!(c)) { printf("setup: %s: %s\n", #c, strerror(errno)); exit(3); } } while (0)

static int bad;
static const char *dir, *go;

static unsigned char pat(uint64_t i)
{
	return (unsigned char)(i * 131 + (i >> 9) * 7 + 3);
}

static void fill(unsigned char *p, uint64_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pat(from + i);
}

static int is_pat(const unsigned char *p, uint64_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pat(from + i))
			return 0;
	return 1;
}

static uint32_t crc(uint32_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void msleep(int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static void wait_go(void)
{
	while (access(go, F_OK))
		msleep(5);
}

static int nread(int fd)
{
	int n = -1;

	return ioctl(fd, FIONREAD, &n) < 0 ? -1 : n;
}

static short revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static void want_flags(const char *what, int fd, int want)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl != want)
		BAD("%s: flags %#o, want %#o", what, fl, want);
}

static void want_cloexec(const char *what, int fd, int want)
{
	if (!!(fcntl(fd, F_GETFD) & FD_CLOEXEC) != want)
		BAD("%s: FD_CLOEXEC %d, want %d", what, !want, want);
}

/* Writes n pattern bytes from offset `from` (all of them: the pipe has room). */
static void put(int fd, uint64_t from, size_t n)
{
	unsigned char *b = malloc(n + 1);

	fill(b, from, n);
	SETUP(write(fd, b, n) == (ssize_t)n);
	free(b);
}

/* Reads the non-blocking fd until EAGAIN (or EOF); checks the pattern; "GOT n crc". */
static long drain(const char *what, int fd, long want)
{
	static unsigned char b[1 << 16];
	long got = 0;
	uint32_t h = 2166136261u;
	ssize_t n;

	while ((n = read(fd, b, sizeof(b))) > 0) {
		if (!is_pat(b, got, n))
			BAD("%s: bytes %ld-%ld are not what was written", what, got, got + n);
		h = crc(h, b, n);
		got += n;
	}
	if (n < 0 && errno != EAGAIN)
		BAD("%s: read: %s", what, strerror(errno));
	if (got != want)
		BAD("%s: read %ld bytes, want %ld", what, got, want);
	printf("GOT %s %ld %08x\n", what, got, h);
	return got;
}

/* The pipe still carries bytes: w to r. */
static void works(const char *what, int r, int w)
{
	char b[8] = "";

	if (write(w, "xyz", 3) != 3 || read(r, b, sizeof(b)) != 3 || memcmp(b, "xyz", 3))
		BAD("%s: the pipe does not carry bytes any more: %s", what, strerror(errno));
}

/* --- self ---------------------------------------------------------------- */

static struct { int r, w, rd; long n, cap; } S;

static void self_setup(long n, long cap)
{
	int p[2];

	S.n = n;
	S.cap = cap;
	SETUP(pipe2(p, O_NONBLOCK) == 0);
	S.r = p[0];
	S.w = p[1];
	SETUP(fcntl(S.w, F_SETPIPE_SZ, cap) == cap);
	SETUP((S.rd = dup(S.r)) >= 0);
	SETUP(fcntl(S.w, F_SETFD, FD_CLOEXEC) == 0);
	if (n)
		put(S.w, 0, n);
}

static void self_check(void)
{
	struct stat st;

	want_flags("read end", S.r, O_RDONLY | O_NONBLOCK);
	want_flags("write end", S.w, O_WRONLY | O_NONBLOCK);
	want_cloexec("read end", S.r, 0);
	want_cloexec("write end", S.w, 1);
	want_cloexec("dup", S.rd, 0);
	if (fstat(S.r, &st) || st.st_uid != geteuid())
		BAD("the pipe belongs to uid %u, the process is uid %u", st.st_uid, geteuid());
	if (fcntl(S.r, F_GETPIPE_SZ) != S.cap)
		BAD("capacity %d, want %ld", fcntl(S.r, F_GETPIPE_SZ), S.cap);
	/* the dup shares the description: its flags are the read end's */
	if (fcntl(S.rd, F_SETFL, 0) < 0 || fcntl(S.r, F_GETFL) != O_RDONLY ||
	    fcntl(S.rd, F_SETFL, O_NONBLOCK) < 0)
		BAD("the read end and its dup do not share one open file description");
	if (nread(S.r) != S.n)
		BAD("FIONREAD %d, want %ld", nread(S.r), S.n);
	if (S.n == S.cap && (write(S.w, "x", 1) != -1 || errno != EAGAIN))
		BAD("a full pipe took another byte (%s)", strerror(errno));
	drain("self", S.rd, S.n);
	works("self", S.r, S.w);
}

/* --- packets ------------------------------------------------------------- */

/*
 * What the reads return, in order: packets (p 1), plain bytes (p 0).  The
 * 64 KiB of plain bytes fill their pages, so the packet after them stays
 * one (a write merges into a last buffer with room, O_DIRECT or not).
 */
static const struct { int len, packet; } pieces[] = {
	{ 1, 1 }, { 100, 1 }, { 4096, 1 }, { 7, 1 }, { 2000, 1 }, { 1, 1 },
	{ 65536, 0 }, { 10, 1 }, { 5000, 0 },
};
#define NPIECE (int)(sizeof(pieces) / sizeof(pieces[0]))
static int P[2];

static void packets_setup(void)
{
	uint64_t off = 0;

	SETUP(pipe2(P, O_DIRECT | O_NONBLOCK) == 0);
	SETUP(fcntl(P[1], F_SETPIPE_SZ, 1 << 18) == 1 << 18);
	for (int i = 0; i < NPIECE; i++) {
		SETUP(fcntl(P[1], F_SETFL, O_NONBLOCK | (pieces[i].packet ? O_DIRECT : 0)) == 0);
		put(P[1], off, pieces[i].len);
		off += pieces[i].len;
	}
	/* (pipe2 gives O_DIRECT to the write end only: a read end's is its own) */
	SETUP(fcntl(P[0], F_SETFL, O_NONBLOCK | O_DIRECT) == 0);
}

static void packets_check(void)
{
	static unsigned char b[1 << 16];
	uint64_t off = 0;
	ssize_t n;

	want_flags("packet read end", P[0], O_RDONLY | O_NONBLOCK | O_DIRECT);
	want_flags("write end", P[1], O_WRONLY | O_NONBLOCK);
	for (int i = 0; i < NPIECE; i++) {
		n = read(P[0], b, sizeof(b));
		if (n != pieces[i].len || !is_pat(b, off, n))
			BAD("read %d: %zd bytes, want the %d of the %s", i, n, pieces[i].len,
			    pieces[i].packet ? "packet" : "plain bytes");
		off += pieces[i].len;
	}
	/* packet mode again: a short read drops the rest of the packet */
	if (fcntl(P[1], F_SETFL, O_NONBLOCK | O_DIRECT) < 0 || write(P[1], "0123456789", 10) != 10 ||
	    read(P[0], b, 3) != 3 || nread(P[0]) != 0)
		BAD("packet mode after the restart: %d bytes left of a 10-byte packet read 3",
		    nread(P[0]));
}

/* --- eof, epipe ---------------------------------------------------------- */

static struct { int fd; long n; } E;

static void eof_setup(long n, int keep_read)
{
	int p[2];

	SETUP(pipe(p) == 0);
	E.n = n;
	put(p[1], 0, n);
	E.fd = keep_read ? p[0] : p[1];
	close(keep_read ? p[1] : p[0]);
}

static void eof_check(void)
{
	short ev = revents(E.fd);

	if (!(ev & POLLHUP))
		BAD("poll of a read end without a writer: %#x, no POLLHUP", ev);
	fcntl(E.fd, F_SETFL, O_NONBLOCK);
	drain("eof", E.fd, E.n);
	if (read(E.fd, &ev, 1) != 0)
		BAD("no EOF after the bytes: %s", strerror(errno));
}

static void epipe_check(void)
{
	short ev = revents(E.fd);

	if (!(ev & POLLERR))
		BAD("poll of a write end without a reader: %#x, no POLLERR", ev);
	if (nread(E.fd) != E.n)
		BAD("FIONREAD of the write end %d, want %ld", nread(E.fd), E.n);
	signal(SIGPIPE, SIG_IGN);
	if (write(E.fd, "x", 1) != -1 || errno != EPIPE)
		BAD("write without a reader: %s, want EPIPE", strerror(errno));
}

/* --- threads ------------------------------------------------------------- */

#define T_TOTAL	(2 << 20)
#define T_WRITE	100000
static int A[2], B[2];
static volatile pid_t wtid, rtid;
static long wrote, got_a;
static char got_b[8];

static void *a_writer(void *x)
{
	static unsigned char b[T_WRITE];

	wtid = syscall(SYS_gettid);
	while (wrote < T_TOTAL) {
		size_t n = T_TOTAL - wrote < T_WRITE ? T_TOTAL - wrote : T_WRITE;
		ssize_t w;

		fill(b, wrote, n);
		if ((w = write(A[1], b, n)) < 0) {	/* a partial write is fine: go on */
			if (errno == EINTR)
				continue;
			BAD("writer: %s", strerror(errno));
			return NULL;
		}
		wrote += w;
	}
	return NULL;
}

static void *a_reader(void *x)
{
	static unsigned char b[4096];

	while (got_a < T_TOTAL) {
		ssize_t n = read(A[0], b, sizeof(b));

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			BAD("slow reader: read %zd: %s", n, strerror(errno));
			return NULL;
		}
		if (!is_pat(b, got_a, n)) {
			BAD("slow reader: bytes %ld-%ld are not what was written", got_a, got_a + n);
			return NULL;
		}
		got_a += n;
		msleep(1);
	}
	return NULL;
}

static void *b_reader(void *x)
{
	rtid = syscall(SYS_gettid);
	if (read(B[0], got_b, 5) != 5)	/* blocked here until after the restart */
		BAD("blocked reader: %s", strerror(errno));
	return NULL;
}

static pthread_t ta, tr, tb;

static void threads_setup(void)
{
	SETUP(pipe(A) == 0 && pipe(B) == 0);
	SETUP(pthread_create(&ta, NULL, a_writer, NULL) == 0);
	SETUP(pthread_create(&tb, NULL, b_reader, NULL) == 0);
	SETUP(pthread_create(&tr, NULL, a_reader, NULL) == 0);
	while (!wtid || !rtid)
		msleep(1);
	printf("TIDS %d %d\n", (int)wtid, (int)rtid);
}

static void threads_check(void)
{
	SETUP(write(B[1], "hello", 5) == 5);
	pthread_join(ta, NULL);
	pthread_join(tr, NULL);
	pthread_join(tb, NULL);
	if (wrote != T_TOTAL || got_a != T_TOTAL)
		BAD("wrote %ld, read %ld, want %d", wrote, got_a, T_TOTAL);
	if (memcmp(got_b, "hello", 5))
		BAD("the blocked reader got \"%.5s\"", got_b);
	if (nread(A[0]) != 0)
		BAD("%d bytes more than were written", nread(A[0]));
}

/* --- FIFOs --------------------------------------------------------------- */

static struct { int rw, w, r; long n; char path[4096]; } F;

static void fifo_setup(long n)
{
	snprintf(F.path, sizeof(F.path), "%s/ff", dir);
	SETUP(mkfifo(F.path, 0600) == 0 && chmod(F.path, 0640) == 0);
	SETUP((F.rw = open(F.path, O_RDWR)) >= 0);
	SETUP((F.w = open(F.path, O_WRONLY | O_NONBLOCK)) >= 0);
	SETUP((F.r = open(F.path, O_RDONLY | O_NONBLOCK)) >= 0);
	SETUP(fcntl(F.rw, F_SETPIPE_SZ, 1 << 18) == 1 << 18);
	F.n = n;
	put(F.w, 0, n);
}

static void fifo_check(void)
{
	char l[64], link[4096] = "";
	struct stat st;
	int o;

	snprintf(l, sizeof(l), "/proc/self/fd/%d", F.r);
	if (readlink(l, link, sizeof(link) - 1) < 0 || strcmp(link, F.path))
		BAD("fd %d is %s, want %s", F.r, link, F.path);
	if (stat(F.path, &st) || !S_ISFIFO(st.st_mode) || (st.st_mode & 0777) != 0640 ||
	    st.st_uid != geteuid())
		BAD("%s: mode %o, uid %u, want a FIFO 0640 of uid %u", F.path, st.st_mode, st.st_uid,
		    geteuid());
	/* open() sets O_LARGEFILE (pipe() does not): the kernel's, 0 in the headers */
	want_flags("FIFO O_RDWR", F.rw, O_RDWR | K_LARGEFILE);
	want_flags("FIFO writer", F.w, O_WRONLY | O_NONBLOCK | K_LARGEFILE);
	want_flags("FIFO reader", F.r, O_RDONLY | O_NONBLOCK | K_LARGEFILE);
	if (fcntl(F.r, F_GETPIPE_SZ) != 1 << 18)
		BAD("FIFO capacity %d", fcntl(F.r, F_GETPIPE_SZ));
	drain("fifo", F.r, F.n);
	works("fifo", F.r, F.rw);
	/* still the FIFO at its path: someone else's open reaches the process */
	if ((o = open(F.path, O_WRONLY | O_NONBLOCK)) < 0 || write(o, "abc", 3) != 3 ||
	    nread(F.r) != 3)
		BAD("an open of %s does not reach the process: %s", F.path, strerror(errno));
	if (o >= 0)
		close(o);
}

static struct { int a, b; } N;

static void nohup_setup(void)
{
	char p1[4096], p2[4096];
	int w;

	snprintf(p1, sizeof(p1), "%s/f1", dir);
	snprintf(p2, sizeof(p2), "%s/f2", dir);
	SETUP(mkfifo(p1, 0600) == 0 && mkfifo(p2, 0600) == 0);
	SETUP((N.a = open(p1, O_RDONLY | O_NONBLOCK)) >= 0);
	SETUP((N.b = open(p2, O_RDONLY | O_NONBLOCK)) >= 0);
	SETUP((w = open(p2, O_WRONLY | O_NONBLOCK)) >= 0);
	close(w);
	if (revents(N.a) || revents(N.b) != POLLHUP)
		printf("setup: this kernel's FIFOs poll %#x and %#x\n", revents(N.a), revents(N.b)),
			exit(3);
}

static void nohup_check(void)
{
	char p1[4096];
	int w;

	if (revents(N.a))
		BAD("FIFO f1 never had a writer, polls %#x", revents(N.a));
	if (revents(N.b) != POLLHUP)
		BAD("FIFO f2's writer went, polls %#x, want POLLHUP", revents(N.b));
	snprintf(p1, sizeof(p1), "%s/f1", dir);
	if ((w = open(p1, O_WRONLY | O_NONBLOCK)) < 0 || write(w, "q", 1) != 1 ||
	    !(revents(N.a) & POLLIN))
		BAD("FIFO f1 does not reach the process: %s", strerror(errno));
	if (w >= 0)
		close(w);
	if (!(revents(N.a) & POLLHUP))
		BAD("FIFO f1 without its writer again: no POLLHUP");
}

/* --- std: fds 0 and 2 are the process's own pipe ----------------------- */

static void std_setup(void)
{
	int p[2];

	close(0);
	close(2);
	SETUP(pipe(p) == 0 && p[0] == 0 && p[1] == 2);
	put(2, 0, 10);
}

static void std_check(void)
{
	fcntl(0, F_SETFL, O_NONBLOCK);
	drain("std", 0, 10);
	works("std", 0, 2);
}

/* --- tree: a pipeline between processes ----------------------------------- */

#define TREE_N	30000
static struct { int y; pid_t p, c; } TR;

/* child P: (N bytes into x already) N more after go, then its end closes (exit) */
static int producer(int x)
{
	wait_go();
	put(x, TREE_N, TREE_N);
	return 0;
}

/* child C: after go, x to EOF (2N pattern bytes), then "n crc" into y */
static int consumer(int x, int y)
{
	static unsigned char b[1 << 16];
	long got = 0;
	uint32_t h = 2166136261u;
	char line[64];
	ssize_t n;
	int ok = 1;

	wait_go();
	while ((n = read(x, b, sizeof(b))) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		ok &= is_pat(b, got, n);
		h = crc(h, b, n);
		got += n;
	}
	n = snprintf(line, sizeof(line), "%ld %08x %d", got, h, ok);
	return write(y, line, n) == n ? 0 : 1;
}

static void tree_setup(void)
{
	int x[2], y[2], z[2];
	char c;

	SETUP(pipe(x) == 0 && pipe(y) == 0 && pipe(z) == 0);
	SETUP((TR.p = fork()) >= 0);
	if (!TR.p) {
		close(x[0]), close(y[0]), close(y[1]), close(z[0]);
		put(x[1], 0, TREE_N);		/* (64 KiB hold them) */
		if (write(z[1], "p", 1) != 1)
			_exit(3);
		close(z[1]);
		_exit(producer(x[1]));
	}
	SETUP((TR.c = fork()) >= 0);
	if (!TR.c) {
		close(x[1]), close(y[0]), close(z[0]);
		if (write(z[1], "c", 1) != 1)
			_exit(3);
		close(z[1]);
		_exit(consumer(x[0], y[1]));
	}
	close(x[0]), close(x[1]), close(y[1]), close(z[1]);
	TR.y = y[0];
	SETUP(read(z[0], &c, 1) == 1 && read(z[0], &c, 1) == 1);
	close(z[0]);
}

static void tree_check(void)
{
	char line[64] = "", want[64];
	uint32_t h = 2166136261u;
	unsigned char *b = malloc(2 * TREE_N);
	int st;
	ssize_t n, got = 0;

	while ((n = read(TR.y, line + got, sizeof(line) - 1 - got)) > 0)
		got += n;
	fill(b, 0, 2 * TREE_N);
	h = crc(h, b, 2 * TREE_N);
	snprintf(want, sizeof(want), "%d %08x 1", 2 * TREE_N, h);
	if (strcmp(line, want))
		BAD("the consumer read \"%s\", want \"%s\"", line, want);
	if (waitpid(TR.p, &st, 0) != TR.p || !WIFEXITED(st) || WEXITSTATUS(st))
		BAD("the producer ended with status %#x", st);
	if (waitpid(TR.c, &st, 0) != TR.c || !WIFEXITED(st) || WEXITSTATUS(st))
		BAD("the consumer ended with status %#x", st);
	free(b);
}

/* --- refusals ------------------------------------------------------------ */

static int refused_setup(const char *c, char **argv)
{
	char name[64], path[4096];
	int p[2], fd = -1;

	if (!strcmp(c, "outside")) {
		snprintf(name, sizeof(name), "/proc/%s/fd/%s", argv[0], argv[1]);
		struct stat st;

		SETUP((fd = open(name, argv[2][0] == 'w' ? O_WRONLY : O_RDONLY)) >= 0);
		SETUP(fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode));
	} else if (!strcmp(c, "mixed")) {
		/* (a shorter packet would go into the plain bytes' buffer: no packet) */
		SETUP(pipe(p) == 0);
		put(p[1], 0, 100);
		SETUP(fcntl(p[1], F_SETFL, O_DIRECT) == 0);
		put(p[1], 100, 4096);
		fd = p[0];
	} else if (!strcmp(c, "gone")) {
		snprintf(path, sizeof(path), "%s/gone", dir);
		SETUP(mkfifo(path, 0600) == 0 && (fd = open(path, O_RDWR)) >= 0 && unlink(path) == 0);
	} else if (!strcmp(c, "async")) {
		SETUP(pipe(p) == 0 && fcntl(p[0], F_SETOWN, getpid()) == 0 &&
		      fcntl(p[0], F_SETFL, O_ASYNC) == 0);
		fd = p[0];
	} else {
		return -1;
	}
	printf("FD %d\n", fd);
	return fd;
}

int main(int argc, char **argv)
{
	const char *c;
	int fd = -1;

	if (argc < 4) {
		fprintf(stderr, "usage: pipes CASE DIR GOFILE [ARG...]\n");
		return 2;
	}
	c = argv[1];
	dir = argv[2];
	go = argv[3];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(c, "self") && argc == 6)
		self_setup(atol(argv[4]), atol(argv[5]));
	else if (!strcmp(c, "packets"))
		packets_setup();
	else if (!strcmp(c, "eof") && argc == 5)
		eof_setup(atol(argv[4]), 1);
	else if (!strcmp(c, "epipe") && argc == 5)
		eof_setup(atol(argv[4]), 0);
	else if (!strcmp(c, "threads"))
		threads_setup();
	else if (!strcmp(c, "fifo") && argc == 5)
		fifo_setup(atol(argv[4]));
	else if (!strcmp(c, "nohup"))
		nohup_setup();
	else if (!strcmp(c, "std"))
		std_setup();
	else if (!strcmp(c, "tree"))
		tree_setup();
	else if ((fd = refused_setup(c, argv + 4)) < 0) {
		fprintf(stderr, "pipes: unknown case %s\n", c);
		return 2;
	}
	printf("READY\n");
	wait_go();
	if (!strcmp(c, "self"))
		self_check();
	else if (!strcmp(c, "packets"))
		packets_check();
	else if (!strcmp(c, "eof"))
		eof_check();
	else if (!strcmp(c, "epipe"))
		epipe_check();
	else if (!strcmp(c, "threads"))
		threads_check();
	else if (!strcmp(c, "fifo"))
		fifo_check();
	else if (!strcmp(c, "nohup"))
		nohup_check();
	else if (!strcmp(c, "std"))
		std_check();
	else if (!strcmp(c, "tree"))
		tree_check();
	else if (fcntl(fd, F_GETFD) < 0)
		BAD("fd %d is gone after the refused checkpoint", fd);
	if (bad)
		return 1;
	printf("OK %s\n", c);
	return 0;
}
