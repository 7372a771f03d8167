/*
 * evfd.c - event fds across checkpoint, SIGKILL and restart
 * (tests/e2e/t_evfd.sh).  evfd CASE DIR GO: sets CASE up, prints READY,
 * waits for the file GO (made once the restarted copy runs), checks that
 * every fd behaves as before and prints "OK CASE", or "BAD ..." and exits 1.
 *
 *   eventfd   a counter above 2^32 (O_NONBLOCK), a semaphore of 3
 *             (EFD_CLOEXEC), an empty one
 *   timerfd   a one-shot of 5 s (the time between checkpoint and restart,
 *             which the test makes 1.5 s, does not count: what is left is
 *             more than 5 s minus the time since arming), a 100 ms period
 *             with expirations not read, 7 expirations set by
 *             TFD_IOC_SET_TICKS on a disarmed one (read back exactly), a
 *             CLOCK_REALTIME TFD_TIMER_ABSTIME|CANCEL_ON_SET one
 *   signalfd  SIGUSR2 and SIGRTMIN+1 (twice, with values) pending, blocked:
 *             the restored signalfd reads them, in order, then EAGAIN
 *   inotify   watches on DIR/a (wd 1), DIR/b, a removed one, DIR/c (so wd 4:
 *             a gap), IN_ONESHOT on DIR/c: after the restart the wds are the
 *             same and a file made in DIR/a and DIR/c is reported, each once
 *   rawwatch  a watch added by a raw system call (the wrappers never saw its
 *             path): found by its file handle with CAP_DAC_READ_SEARCH, else
 *             refused (t_evfd.sh runs it as root and as another user)
 *   queued    an inotify fd with an event queued: an IN_Q_OVERFLOW after the restart
 *   fanotify  a fanotify fd (refused)
 *   tree      an eventfd, a timerfd and an inotify fd shared by a parent and
 *             its child across fork: both add to the one counter before and
 *             after the restart; the child reads the timer's 4 expirations,
 *             which the parent then does not see; the parent reads the event
 *             of a file the child made, on the same wd
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TFD_IOC_SET_TICKS	_IOW('T', 0, uint64_t)

static const char *dir, *go;

#define CHECK(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			printf("BAD %s:%d: ", __FILE__, __LINE__);		\
			printf(__VA_ARGS__);					\
			printf(" (errno %s)\n", strerror(errno));		\
			fflush(stdout);						\
			exit(1);						\
		}								\
	} while (0)

static uint64_t now_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void wait_go(void)
{
	while (access(go, F_OK)) {
		struct timespec t = { 0, 5000000 };

		nanosleep(&t, NULL);
	}
}

/* fdinfo line starting with key, or "" */
static const char *fdinfo(int fd, const char *key)
{
	static char buf[512], line[512];
	char name[64];
	FILE *f;

	snprintf(name, sizeof(name), "/proc/self/fdinfo/%d", fd);
	line[0] = 0;
	if (!(f = fopen(name, "r")))
		return line;
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, key, strlen(key))) {
			snprintf(line, sizeof(line), "%s", buf);
			break;
		}
	fclose(f);
	return line;
}

static uint64_t rd(int fd)
{
	uint64_t v = 0;
	ssize_t n = read(fd, &v, sizeof(v));

	return n == sizeof(v) ? v : (uint64_t)-1;
}

static int cloexec(int fd)
{
	return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

static int nonblock(int fd)
{
	return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

/* ---- eventfd ---- */

static void t_eventfd(void)
{
	uint64_t big = 5000000000ull, v = 0;
	int e1 = eventfd(0, EFD_NONBLOCK), e2 = eventfd(3, EFD_SEMAPHORE | EFD_CLOEXEC);
	int e3 = eventfd(0, EFD_NONBLOCK);

	CHECK(e1 >= 0 && e2 >= 0 && e3 >= 0, "eventfd");
	CHECK(write(e1, &big, 8) == 8, "write");
	printf("READY\n");
	fflush(stdout);
	wait_go();
	CHECK(nonblock(e1) && !cloexec(e1) && !nonblock(e2) && cloexec(e2), "flags");
	CHECK((v = rd(e1)) == big, "e1 counter %llu", (unsigned long long)v);
	CHECK(rd(e1) == (uint64_t)-1 && errno == EAGAIN, "e1 empty after the read");
	for (int i = 0; i < 3; i++)
		CHECK((v = rd(e2)) == 1, "semaphore read %d gave %llu", i, (unsigned long long)v);
	{
		struct pollfd p = { e2, POLLIN, 0 };

		CHECK(poll(&p, 1, 0) == 0, "semaphore still readable after 3 reads");
	}
	CHECK(rd(e3) == (uint64_t)-1 && errno == EAGAIN, "e3 not empty");
	v = 9;
	CHECK(write(e3, &v, 8) == 8 && rd(e3) == 9, "e3 write/read");
	/* fdinfo says it from Linux 6.6 on (the reads above proved it anyway) */
	CHECK(!*fdinfo(e2, "eventfd-semaphore:") || strstr(fdinfo(e2, "eventfd-semaphore:"), "1"),
	      "semaphore mode");
}

/* ---- timerfd ---- */

static void wait_ticks(int fd, uint64_t n)
{
	for (;;) {
		struct itimerspec g;
		const char *l;

		timerfd_gettime(fd, &g);	/* brings a periodic timer's count up to date */
		l = fdinfo(fd, "ticks:");

		if (strtoull(l + 6, NULL, 10) >= n)
			return;
		usleep(5000);
	}
}

static void t_timerfd(void)
{
	struct itimerspec one = { { 0, 0 }, { 5, 0 } }, per = { { 0, 100000000 }, { 0, 50000000 } };
	struct itimerspec g, abs = { { 0, 0 }, { 0, 0 } };
	int t1 = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	int t2 = timerfd_create(CLOCK_MONOTONIC, 0);
	int t3 = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	int t4 = timerfd_create(CLOCK_REALTIME, 0);
	uint64_t seven = 7, armed, v, left, since, a, b;

	CHECK(t1 >= 0 && t2 >= 0 && t3 >= 0 && t4 >= 0, "timerfd_create");
	armed = now_ns(CLOCK_MONOTONIC);
	CHECK(timerfd_settime(t1, 0, &one, NULL) == 0, "settime t1");
	CHECK(timerfd_settime(t2, 0, &per, NULL) == 0, "settime t2");
	CHECK(ioctl(t3, TFD_IOC_SET_TICKS, &seven) == 0, "TFD_IOC_SET_TICKS");
	abs.it_value.tv_sec = time(NULL) + 20;
	CHECK(timerfd_settime(t4, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &abs, NULL) == 0,
	      "settime t4");
	wait_ticks(t2, 3);		/* expirations not read at the checkpoint */
	printf("READY\n");
	fflush(stdout);
	wait_go();
	since = now_ns(CLOCK_MONOTONIC) - armed;	/* includes the 1.5 s between */
	CHECK(timerfd_gettime(t1, &g) == 0, "gettime t1");
	left = (uint64_t)g.it_value.tv_sec * 1000000000 + g.it_value.tv_nsec;
	CHECK(left > 0 && left <= 5000000000ull, "t1: %llu ns left", (unsigned long long)left);
	/* had the time between counted, left would be <= 5 s - since */
	CHECK(left > 5000000000ull - since + 1000000000ull, "t1: %llu ns left %llu ns after "
	      "arming: the time between checkpoint and restart counted",
	      (unsigned long long)left, (unsigned long long)since);
	CHECK(g.it_interval.tv_sec == 0 && g.it_interval.tv_nsec == 0, "t1 period");
	CHECK(rd(t1) == (uint64_t)-1 && errno == EAGAIN, "t1 fired early");
	CHECK(nonblock(t1) && !cloexec(t1) && nonblock(t3) && cloexec(t3), "flags");
	/* the periodic one: its expirations not read, then every 100 ms */
	CHECK(timerfd_gettime(t2, &g) == 0 && g.it_interval.tv_sec == 0 &&
	      g.it_interval.tv_nsec == 100000000, "t2 period");
	CHECK((v = rd(t2)) >= 3, "t2: %llu expirations, want >= 3", (unsigned long long)v);
	rd(t2);
	a = now_ns(CLOCK_MONOTONIC);
	CHECK(rd(t2) >= 1, "t2 read");
	b = now_ns(CLOCK_MONOTONIC);
	CHECK(b - a > 50000000 && b - a < 150000000, "t2 fired %llu ns after the last",
	      (unsigned long long)(b - a));
	/* exactly the expirations it had, not re-armed */
	CHECK((v = rd(t3)) == 7, "t3: %llu expirations, want 7", (unsigned long long)v);
	CHECK(timerfd_gettime(t3, &g) == 0 && !g.it_value.tv_sec && !g.it_value.tv_nsec,
	      "t3 armed");
	CHECK(strstr(fdinfo(t4, "settime flags:"), "03") != NULL, "t4 flags: %s",
	      fdinfo(t4, "settime flags:"));
	CHECK(strstr(fdinfo(t4, "clockid:"), " 0") != NULL, "t4 clock");
	CHECK(timerfd_gettime(t4, &g) == 0 && g.it_value.tv_sec <= 20 &&
	      g.it_value.tv_sec >= 20 - 2 - (time_t)(since / 1000000000), "t4: %ld s left",
	      (long)g.it_value.tv_sec);
}

/* ---- signalfd ---- */

static void t_signalfd(void)
{
	sigset_t m;
	union sigval sv;
	struct signalfd_siginfo si;
	int s, rt = SIGRTMIN + 1;

	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, rt);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0, "block");
	s = signalfd(-1, &m, SFD_NONBLOCK);
	CHECK(s >= 0, "signalfd");
	sv.sival_int = 1;
	CHECK(sigqueue(getpid(), rt, sv) == 0, "sigqueue");
	sv.sival_int = 2;
	CHECK(sigqueue(getpid(), rt, sv) == 0, "sigqueue");
	sv.sival_int = 42;
	CHECK(sigqueue(getpid(), SIGUSR2, sv) == 0, "sigqueue");
	printf("READY\n");
	fflush(stdout);
	wait_go();
	CHECK(nonblock(s), "O_NONBLOCK");
	CHECK(read(s, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGUSR2 &&
	      si.ssi_int == 42 && si.ssi_pid == (uint32_t)getpid(), "first: signal %u value %d",
	      si.ssi_signo, si.ssi_int);
	CHECK(read(s, &si, sizeof(si)) == sizeof(si) && (int)si.ssi_signo == rt && si.ssi_int == 1,
	      "second: signal %u value %d", si.ssi_signo, si.ssi_int);
	CHECK(read(s, &si, sizeof(si)) == sizeof(si) && (int)si.ssi_signo == rt && si.ssi_int == 2,
	      "third: signal %u value %d", si.ssi_signo, si.ssi_int);
	CHECK(read(s, &si, sizeof(si)) < 0 && errno == EAGAIN, "a fourth signal");
	/* the mask: a new one is read */
	sv.sival_int = 7;
	CHECK(sigqueue(getpid(), SIGUSR2, sv) == 0 && read(s, &si, sizeof(si)) == sizeof(si) &&
	      si.ssi_signo == SIGUSR2 && si.ssi_int == 7, "a new SIGUSR2");
}

/* ---- inotify ---- */

static char *in_dir(const char *name)
{
	static char p[4][4096];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* The next event from fd (blocking, 5 s at most): its wd, mask and name. */
static int next_event(int fd, uint32_t *mask, char *name, size_t len)
{
	static char buf[4096] __attribute__((aligned(8)));
	static ssize_t have, at;
	struct inotify_event *e;

	if (at >= have) {
		struct pollfd p = { fd, POLLIN, 0 };

		CHECK(poll(&p, 1, 5000) == 1, "no inotify event in 5 s");
		have = read(fd, buf, sizeof(buf));
		CHECK(have > 0, "read inotify");
		at = 0;
	}
	e = (struct inotify_event *)(buf + at);
	at += sizeof(*e) + e->len;
	*mask = e->mask;
	snprintf(name, len, "%s", e->len ? e->name : "");
	return e->wd;
}

static void t_inotify(void)
{
	int in = inotify_init1(IN_CLOEXEC), in2, w1, w2, w3, w4, wd;
	uint32_t mask;
	char name[256];
	struct pollfd p;

	CHECK(in >= 0, "inotify_init1");
	mkdir(in_dir("a"), 0755);
	mkdir(in_dir("b"), 0755);
	mkdir(in_dir("c"), 0755);
	w1 = inotify_add_watch(in, in_dir("a"), IN_CREATE | IN_DELETE);
	w2 = inotify_add_watch(in, in_dir("b"), IN_ALL_EVENTS);
	w3 = inotify_add_watch(in, dir, IN_ATTRIB);
	CHECK(inotify_rm_watch(in, w3) == 0, "rm_watch");
	CHECK(next_event(in, &mask, name, sizeof(name)) == w3 && (mask & IN_IGNORED), "IN_IGNORED");
	w4 = inotify_add_watch(in, in_dir("c"), IN_CREATE | IN_ONESHOT);
	CHECK(w1 == 1 && w2 == 2 && w3 == 3 && w4 == 4, "wds %d %d %d %d", w1, w2, w3, w4);
	/* a second instance whose one watch is wd 5001: 5000 added and removed before */
	in2 = inotify_init1(IN_NONBLOCK);
	for (int i = 0; i < 5000; i++) {
		char junk[4096];

		CHECK(inotify_rm_watch(in2, inotify_add_watch(in2, dir, IN_ATTRIB)) == 0, "churn");
		while (read(in2, junk, sizeof(junk)) > 0)
			;		/* their IN_IGNORED: none queued at the checkpoint */
	}
	CHECK(inotify_add_watch(in2, in_dir("b"), IN_CREATE) == 5001, "wd 5001");
	printf("READY\n");
	fflush(stdout);
	wait_go();
	CHECK(cloexec(in) && !nonblock(in), "flags");
	CHECK(strstr(fdinfo(in, "inotify wd:4"), "mask:80000100"), "wd 4: %s",
	      fdinfo(in, "inotify wd:4"));
	CHECK(close(open(in_dir("a/new"), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0600)) == 0, "create in a");
	wd = next_event(in, &mask, name, sizeof(name));
	CHECK(wd == w1 && mask == IN_CREATE && !strcmp(name, "new"), "event wd %d mask %#x name %s",
	      wd, mask, name);
	CHECK(close(open(in_dir("c/x"), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0600)) == 0, "create in c");
	wd = next_event(in, &mask, name, sizeof(name));
	CHECK(wd == w4 && mask == IN_CREATE && !strcmp(name, "x"), "event wd %d mask %#x name %s",
	      wd, mask, name);
	wd = next_event(in, &mask, name, sizeof(name));	/* IN_ONESHOT: then removed */
	CHECK(wd == w4 && mask == IN_IGNORED, "after the one shot: wd %d mask %#x", wd, mask);
	CHECK(unlink(in_dir("a/new")) == 0, "unlink");
	wd = next_event(in, &mask, name, sizeof(name));
	CHECK(wd == w1 && mask == IN_DELETE, "delete: wd %d mask %#x", wd, mask);
	p = (struct pollfd){ in, POLLIN, 0 };
	CHECK(poll(&p, 1, 0) == 0, "more events");
	/* a new watch gets the next wd, as it would have */
	CHECK(inotify_add_watch(in, dir, IN_ATTRIB) == 5, "a new watch's wd");
	/* the second instance: its wd 5001, and nothing else queued (the placeholders' events) */
	CHECK(close(open(in_dir("b/y"), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0600)) == 0, "create in b");
	{
		char buf[4096] __attribute__((aligned(8)));
		struct inotify_event *e = (struct inotify_event *)buf;
		struct pollfd q = { in2, POLLIN, 0 };
		ssize_t n;

		CHECK(poll(&q, 1, 5000) == 1, "no event on the second instance");
		n = read(in2, buf, sizeof(buf));
		CHECK(n == (ssize_t)(sizeof(*e) + e->len) && e->wd == 5001 && e->mask == IN_CREATE &&
		      !strcmp(e->name, "y"), "second instance: %zd bytes, wd %d mask %#x", n, e->wd,
		      e->mask);
	}
}

static void t_rawwatch(void)
{
	int in = inotify_init1(IN_NONBLOCK), wd;
	uint32_t mask;
	char name[256];

	CHECK(in >= 0, "inotify_init1");
	mkdir(in_dir("raw"), 0755);
	CHECK(syscall(SYS_inotify_add_watch, in, in_dir("raw"), IN_CREATE) == 1, "raw watch");
	printf("READY\n");
	fflush(stdout);
	wait_go();
	CHECK(close(open(in_dir("raw/f"), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0600)) == 0, "create");
	wd = next_event(in, &mask, name, sizeof(name));
	CHECK(wd == 1 && mask == IN_CREATE && !strcmp(name, "f"), "event wd %d mask %#x name %s",
	      wd, mask, name);
}

static void t_queued(void)
{
	int in = inotify_init1(0), wd;
	uint32_t mask;
	char name[64];

	CHECK(in >= 0 && inotify_add_watch(in, dir, IN_CREATE) == 1, "watch");
	CHECK(close(open(in_dir("made"), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0600)) == 0, "create");
	printf("READY\n");
	fflush(stdout);
	wait_go();
	/* restarted: the event queued at the checkpoint is one IN_Q_OVERFLOW now */
	wd = next_event(in, &mask, name, sizeof(name));
	CHECK(wd == -1 && mask == IN_Q_OVERFLOW, "after the restart, event wd %d mask %#x", wd, mask);
	CHECK(close(open(in_dir("after"), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0600)) == 0, "create after");
	wd = next_event(in, &mask, name, sizeof(name));
	CHECK(wd == 1 && mask == IN_CREATE && !strcmp(name, "after"), "then wd %d mask %#x name %s",
	      wd, mask, name);
}

static void t_fanotify(void)
{
	int fa = fanotify_init(FAN_CLASS_NOTIF, O_RDONLY);

	CHECK(fa >= 0, "fanotify_init");
	printf("READY\n");
	fflush(stdout);
	wait_go();
}

/* ---- tree ---- */

static void t_tree(void)
{
	int e = eventfd(0, 0), t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	int in = inotify_init1(IN_NONBLOCK), st, wd;
	uint64_t v = 2, four = 4;
	uint32_t mask;
	char name[256];
	pid_t kid;

	CHECK(e >= 0 && t >= 0 && in >= 0, "eventfd, timerfd, inotify");
	CHECK(write(e, &v, 8) == 8, "parent write");
	CHECK(ioctl(t, TFD_IOC_SET_TICKS, &four) == 0, "TFD_IOC_SET_TICKS");
	CHECK(inotify_add_watch(in, dir, IN_CREATE) == 1, "watch");
	kid = fork();
	if (kid == 0) {
		v = 3;
		if (write(e, &v, 8) != 8)
			_exit(1);
		wait_go();
		/* after the restart, through the descriptions it shares with its parent */
		v = 10;
		if (write(e, &v, 8) != 8 || rd(t) != 4)
			_exit(2);
		close(open(in_dir("from-child"), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0600));
		_exit(0);
	}
	CHECK(kid > 0, "fork");
	/* the child has written: the counter is 5 */
	for (;;) {
		if (strstr(fdinfo(e, "eventfd-count:"), " 5\n"))
			break;
		usleep(2000);
	}
	printf("READY\n");
	fflush(stdout);
	wait_go();
	CHECK(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "child: status %#x", st);
	CHECK((v = rd(e)) == 15, "counter %llu, want 15 (5 before, 10 from the child after)",
	      (unsigned long long)v);
	/* the child read the 4 expirations: one timer */
	CHECK(rd(t) == (uint64_t)-1 && errno == EAGAIN, "the timerfd still had expirations");
	wd = next_event(in, &mask, name, sizeof(name));
	CHECK(wd == 1 && mask == IN_CREATE && !strcmp(name, "from-child"),
	      "the child's file: wd %d mask %#x name %s", wd, mask, name);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } cases[] = {
		{ "eventfd", t_eventfd }, { "timerfd", t_timerfd }, { "signalfd", t_signalfd },
		{ "inotify", t_inotify }, { "rawwatch", t_rawwatch }, { "queued", t_queued }, { "fanotify", t_fanotify },
		{ "tree", t_tree },
	};

	if (argc != 4) {
		fprintf(stderr, "usage: evfd CASE DIR GO\n");
		return 2;
	}
	dir = argv[2];
	go = argv[3];
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[1], cases[i].name)) {
			cases[i].fn();
			printf("OK %s\n", argv[1]);
			return 0;
		}
	fprintf(stderr, "evfd: no case %s\n", argv[1]);
	return 2;
}
