/*
 * test_evfd.c - the event fds: the fdinfo parsers (fds/fd_ev.h) on the
 * kernel's text, sample and real (an eventfd, a timerfd, a signalfd and
 * an inotify fd made here); the kinds' record checks (valid) and the
 * INOTIFY_WATCH checker's refusals, alone and against their FILE.
 */
#define FD_SAVE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "fds/fd_ev.h"
#include "fds/fd_kind.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

static char *fdinfo(int fd)
{
	static char buf[8192];
	char name[64];
	ssize_t n;
	int f;

	snprintf(name, sizeof(name), "/proc/self/fdinfo/%d", fd);
	f = open(name, O_RDONLY);
	n = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = '\0';
	if (f >= 0)
		close(f);
	return buf;
}

static void test_parse_samples(void)
{
	const char *ev = "pos:\t0\nflags:\t04002\nmnt_id:\t17\nino:\t1038\n"
			 "eventfd-count:               14\neventfd-id: 1\neventfd-semaphore: 1\n";
	const char *old = "pos:\t0\nflags:\t02\neventfd-count: ffffffff\n";
	const char *tm = "clockid: 1\nticks: 12\nsettime flags: 03\nit_value: (1, 999990386)\n"
			 "it_interval: (0, 300000000)\n";
	const char *in = "pos:\t0\nflags:\t04000\n"
		"inotify wd:2 ino:13 sdev:fe00000 mask:80000fff ignored_mask:0 fhandle-bytes:8 "
		"fhandle-type:1 f_handle:1300000000000000\n"
		"inotify wd:1389 ino:3c51a sdev:800011 mask:300 ignored_mask:0\n";
	struct fd_ev_timer t;
	struct fd_ev_watch w;
	uint64_t v;
	const char *s = in;
	int sem;

	CU_ASSERT_EQUAL(fd_ev_eventfd(ev, &v, &sem), 0);
	CU_ASSERT_EQUAL(v, 0x14);		/* hex */
	CU_ASSERT_EQUAL(sem, 1);
	CU_ASSERT_EQUAL(fd_ev_eventfd(old, &v, &sem), 0);
	CU_ASSERT_EQUAL(v, 0xffffffffu);
	CU_ASSERT_EQUAL(sem, -1);		/* a kernel that does not say */
	CU_ASSERT_EQUAL(fd_ev_eventfd("pos: 0\n", &v, &sem), -1);

	CU_ASSERT_EQUAL(fd_ev_timerfd(tm, &t), 0);
	CU_ASSERT_EQUAL(t.clock, 1);
	CU_ASSERT_EQUAL(t.ticks, 12);
	CU_ASSERT_EQUAL(t.flags, 3);		/* octal */
	CU_ASSERT_EQUAL(t.value_ns, 1999990386ull);
	CU_ASSERT_EQUAL(t.interval_ns, 300000000ull);
	CU_ASSERT_EQUAL(fd_ev_timerfd("clockid: 1\nticks: 0\nsettime flags: 0\nit_value: (1, 2\n"
				      "it_interval: (0, 0)\n", &t), -1);
	CU_ASSERT_EQUAL(fd_ev_timerfd("clockid: 1\nticks: 0\nsettime flags: 0\n"
				      "it_value: (0, 1000000000)\nit_interval: (0, 0)\n", &t), -1);

	CU_ASSERT_EQUAL(fd_ev_signalfd("sigmask:\t0000001000000200\n", &v), 0);
	CU_ASSERT_EQUAL(v, 0x1000000200ull);
	CU_ASSERT_EQUAL(fd_ev_signalfd("sigmask:\t\n", &v), -1);

	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), 1);
	CU_ASSERT_EQUAL(w.wd, 2);
	CU_ASSERT_EQUAL(w.ino, 0x13);
	CU_ASSERT_EQUAL(w.mask, 0x80000fffu);
	CU_ASSERT_EQUAL(w.handle_bytes, 8);
	CU_ASSERT_EQUAL(w.handle_type, 1);
	CU_ASSERT_EQUAL(w.handle[0], 0x13);
	CU_ASSERT_EQUAL(fd_ev_dev(w.sdev), makedev(254, 0));
	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), 1);
	CU_ASSERT_EQUAL(w.wd, 5001);		/* hex */
	CU_ASSERT_EQUAL(w.handle_bytes, 0);	/* none shown */
	CU_ASSERT_EQUAL(fd_ev_dev(w.sdev), makedev(8, 17));
	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), 0);
	/* malformed: wd 0, a handle longer than MAX_HANDLE_SZ, odd hex */
	s = "inotify wd:0 ino:1 sdev:0 mask:1 ignored_mask:0\n";
	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), -1);
	s = "inotify wd:1 ino:1 sdev:0 mask:1 ignored_mask:0 fhandle-bytes:81 fhandle-type:1 "
	    "f_handle:00\n";
	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), -1);
	s = "inotify wd:1 ino:1 sdev:0 mask:1 ignored_mask:0 fhandle-bytes:2 fhandle-type:1 "
	    "f_handle:0\n";
	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), -1);
	s = "inotify wd:1 ino:zz sdev:0 mask:1 ignored_mask:0\n";
	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), -1);
}

/* The same parsers on what this kernel shows. */
static void test_parse_real(void)
{
	struct itimerspec its = { { 0, 250000000 }, { 100, 0 } };
	struct fd_ev_timer t;
	struct fd_ev_watch w;
	struct stat st;
	const char *s;
	uint64_t v;
	sigset_t m;
	int e = eventfd(1u << 31, EFD_SEMAPHORE), tf = timerfd_create(CLOCK_BOOTTIME, 0), sf, in, sem;

	CU_ASSERT_FATAL(e >= 0 && tf >= 0);
	v = 1u << 31;
	CU_ASSERT_EQUAL(write(e, &v, 8), 8);
	CU_ASSERT_EQUAL(fd_ev_eventfd(fdinfo(e), &v, &sem), 0);
	CU_ASSERT_EQUAL(v, 1ull << 32);
	CU_ASSERT(sem == 1 || sem == -1);
	CU_ASSERT_EQUAL(timerfd_settime(tf, 0, &its, NULL), 0);
	CU_ASSERT_EQUAL(fd_ev_timerfd(fdinfo(tf), &t), 0);
	CU_ASSERT_EQUAL(t.clock, CLOCK_BOOTTIME);
	CU_ASSERT(t.value_ns > 99000000000ull && t.value_ns <= 100000000000ull);
	CU_ASSERT_EQUAL(t.interval_ns, 250000000);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGRTMIN + 2);
	sf = signalfd(-1, &m, 0);
	CU_ASSERT_FATAL(sf >= 0);
	CU_ASSERT_EQUAL(fd_ev_signalfd(fdinfo(sf), &v), 0);
	CU_ASSERT_EQUAL(v, 1ull << (SIGUSR2 - 1) | 1ull << (SIGRTMIN + 1));
	in = inotify_init1(0);
	CU_ASSERT_FATAL(in >= 0);
	CU_ASSERT_EQUAL(inotify_add_watch(in, "/", IN_CREATE | IN_ONESHOT), 1);
	CU_ASSERT_EQUAL(stat("/", &st), 0);
	s = fdinfo(in);
	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), 1);
	CU_ASSERT_EQUAL(w.wd, 1);
	CU_ASSERT_EQUAL(w.ino, st.st_ino);
	CU_ASSERT_EQUAL(fd_ev_dev(w.sdev), st.st_dev);
	CU_ASSERT_EQUAL(w.mask, IN_CREATE | IN_ONESHOT);
	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), 0);
	/* wd 26 (fdinfo: "wd:1a") */
	CU_ASSERT_EQUAL(inotify_rm_watch(in, 1), 0);
	for (int i = 2; i < 26; i++)
		CU_ASSERT_EQUAL(inotify_rm_watch(in, inotify_add_watch(in, "/", IN_CREATE)), 0);
	CU_ASSERT_EQUAL(inotify_add_watch(in, "/", IN_CREATE), 26);
	s = fdinfo(in);
	CU_ASSERT_EQUAL(fd_ev_inotify_next(&s, &w), 1);
	CU_ASSERT_EQUAL(w.wd, 26);
	close(e);
	close(tf);
	close(sf);
	close(in);
}

static int kind_ok(uint32_t kind, uint32_t flags, const void *d, uint32_t dlen)
{
	struct img_file f = { .id = 1, .kind = kind, .flags = flags, .data_len = dlen };
	char err[200];

	return fd_kind_info(kind)->valid(&f, "anon_inode:x", d, err, sizeof(err));
}

static void test_kind_checks(void)
{
	struct img_file_eventfd e = { 5, IMG_EVENTFD_SEMAPHORE, 0 };
	struct img_file_timerfd t = { CLOCK_MONOTONIC, IMG_TIMERFD_ABSTIME, 1, 2, 3 };
	struct img_file_signalfd s = { 0x200 };
	struct img_file_inotify in = { 2, 0 };

	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_EVENTFD, O_RDWR | O_NONBLOCK, &e, sizeof(e)), 0);
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_EVENTFD, O_RDONLY, &e, sizeof(e)), -1);
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_EVENTFD, O_RDWR | O_APPEND, &e, sizeof(e)), -1);
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_EVENTFD, O_RDWR, &e, 8), -1);
	e.count = UINT64_MAX;
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_EVENTFD, O_RDWR, &e, sizeof(e)), -1);
	e.count = 0, e.flags = 2;
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_EVENTFD, O_RDWR, &e, sizeof(e)), -1);

	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_TIMERFD, O_RDWR, &t, sizeof(t)), 0);
	t.clock = 4;		/* CLOCK_MONOTONIC_RAW: timerfd has none */
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_TIMERFD, O_RDWR, &t, sizeof(t)), -1);
	t.clock = CLOCK_REALTIME, t.flags = 4;
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_TIMERFD, O_RDWR, &t, sizeof(t)), -1);
	t.flags = 0, t.value_ns = 1ull << 63;
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_TIMERFD, O_RDWR, &t, sizeof(t)), -1);

	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_SIGNALFD, O_RDWR, &s, sizeof(s)), 0);
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_SIGNALFD, O_RDWR, &s, 4), -1);

	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_INOTIFY, O_RDONLY | O_NONBLOCK, &in, sizeof(in)), 0);
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_INOTIFY, O_RDWR, &in, sizeof(in)), -1);
	in.flags = IMG_INOTIFY_OVERFLOW;
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_INOTIFY, O_RDONLY, &in, sizeof(in)), 0);
	in.flags = 2;
	CU_ASSERT_EQUAL(kind_ok(IMG_FILE_INOTIFY, O_RDONLY, &in, sizeof(in)), -1);
}

static void expect_watch(const struct img_inotify_watch *w, const char *path, const char *part)
{
	trw_expect_get(IMG_REC_INOTIFY_WATCH, w, sizeof(*w), path, strlen(path), part);
}

static void test_check_watch(void)
{
	const struct img_inotify_watch good = { .file = 3, .wd = 2, .mask = IN_CREATE,
						.path_len = 4 };
	struct img_inotify_watch w;
	struct img_file f = { .id = 3, .kind = IMG_FILE_INOTIFY, .data_len = 8 };
	struct img_file_inotify d = { 2, 0 };
	char err[200];

	w = good, w.file = 0;
	expect_watch(&w, "/tmp", "file 0,");
	w = good, w.wd = 0;
	expect_watch(&w, "/tmp", "wd 0,");
	w = good, w.mask = IN_MASK_ADD;
	expect_watch(&w, "/tmp", "mask 0x20000000");
	w = good, w.flags = 2;
	expect_watch(&w, "/tmp", "flags 0x2");
	expect_watch(&good, "tmp/", "4 bytes of path");		/* not absolute */
	expect_watch(&good, "/tm", "4 bytes of path (3 in the record)");
	w = good, w.path_len = 5;
	expect_watch(&w, "/t\0mp", "5 bytes of path");		/* a NUL in it */
	w = good, w.reserved = 1;
	expect_watch(&w, "/tmp", "corrupt");

	/* against the FILE: its own, as many as it says, wds increasing */
	CU_ASSERT_EQUAL(img_inotify_watch_next(&f, &d, &good, 0, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(img_inotify_watch_next(&f, &d, &good, 1, 2, err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "increasing") != NULL);
	CU_ASSERT_EQUAL(img_inotify_watch_next(&f, &d, &good, 2, 1, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(img_inotify_watch_next(NULL, NULL, &good, 0, 0, err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "does not follow") != NULL);
	f.kind = IMG_FILE_EVENTFD;
	CU_ASSERT_EQUAL(img_inotify_watch_next(&f, &d, &good, 0, 0, err, sizeof(err)), -1);
	f.kind = IMG_FILE_INOTIFY;
	CU_ASSERT_EQUAL(img_inotify_end(&f, &d, 2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(img_inotify_end(&f, &d, 1, err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "has 2 watches, 1 INOTIFY_WATCH") != NULL);
}

UNIT_SUITE(evfd,
	{ "event fds: fdinfo parsers on sample text", test_parse_samples },
	{ "event fds: fdinfo parsers on this kernel's", test_parse_real },
	{ "event fds: the kinds' record checks", test_kind_checks },
	{ "INOTIFY_WATCH: the reader's refusals", test_check_watch },
);
