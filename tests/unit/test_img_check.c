/*
 * test_img_check.c - the payload checkers' refusals, one record at a time:
 * trw_expect_get() writes an image of that record alone and expects its
 * checker to refuse it with a message (the sample image's own checks are
 * in test_img_rw.c, which calls it too).  Here: SIGINFO, TIMER and the
 * PROC record's supplementary groups.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "libckpt/img.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

/* An image of header, one record (a||b), END; then its checker's verdict. */
void trw_expect_get(uint32_t type, const void *a, size_t alen,
		    const void *b, size_t blen, const char *part)
{
	static unsigned char buf[4096];
	struct img_writer w;
	struct img_header h = { .pid = 1 };
	struct img_reader r;
	struct img_rec rec;
	const void *got = NULL;
	int fd = trw_memfd();

	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, type, a, alen, b, blen);
	CU_ASSERT_EQUAL_FATAL(img_write_end(&w), 0);
	CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_open(&r, fd), 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_next(&r, &rec), 1);
	switch (part ? type : 0) {
	case IMG_REC_PROC:   got = img_get_proc(&r, &rec); break;
	case IMG_REC_FILE:   got = img_get_file(&r, &rec); break;
	case IMG_REC_FD:     got = img_get_fd(&r, &rec); break;
	case IMG_REC_FILE_DATA: got = img_get_file_data(&r, &rec); break;
	case IMG_REC_PIPE_DATA: got = img_get_pipe_data(&r, &rec); break;
	case IMG_REC_UNIX_MSG: got = img_get_unix_msg(&r, &rec); break;
	case IMG_REC_THREAD: got = img_get_thread(&r, &rec); break;
	case IMG_REC_VMA:    got = img_get_vma(&r, &rec); break;
	case IMG_REC_PAGES:  got = img_get_pages(&r, &rec); break;
	case IMG_REC_SIGINFO: got = img_get_siginfo(&r, &rec); break;
	case IMG_REC_TIMER:  got = img_get_timer(&r, &rec); break;
	case IMG_REC_LOCK:   got = img_get_lock(&r, &rec); break;
	case IMG_REC_EPOLL_ITEM: got = img_get_epoll_item(&r, &rec); break;
	case IMG_REC_PROC_ATTR: got = img_get_proc_attr(&r, &rec); break;
	case IMG_REC_SECCOMP: got = img_get_seccomp(&r, &rec); break;
	case IMG_REC_MLOCK:  got = img_get_mlock(&r, &rec); break;
	case IMG_REC_SYSV_SHM: got = img_get_sysv_shm(&r, &rec); break;
	case IMG_REC_SYSV_SEM: got = img_get_sysv_sem(&r, &rec); break;
	case IMG_REC_SYSV_MSG: got = img_get_sysv_msg(&r, &rec); break;
	case IMG_REC_MQ_MSGS: got = img_get_mq_msgs(&r, &rec); break;
	case IMG_REC_INOTIFY_WATCH: got = img_get_inotify_watch(&r, &rec); break;
	case IMG_REC_INET_QUEUE: got = img_get_inet_queue(&r, &rec); break;
	default:             got = img_get_vma(&r, &rec); break;	/* wrong type */
	}
	CU_ASSERT_PTR_NULL(got);
	CU_ASSERT_EQUAL(r.code, IMG_ERR_CORRUPT);
	if (part && !strstr(r.err, part))
		fprintf(stderr, "\nexpected \"%s\" in \"%s\"\n", part, r.err);
	CU_ASSERT(part == NULL || strstr(r.err, part) != NULL);
	CU_ASSERT(strstr(r.err, "offset 128") != NULL);
	img_reader_close(&r);
	close(fd);
}

static void test_check_siginfo(void)
{
	static const unsigned char data[8];
	static const int32_t bad_signo[] = { 0, SIGKILL, SIGSTOP, 65, -1 };
	/* a sigqueue()d SIGRTMIN+1 for thread 4243: signo, errno, code, pad, pid, uid */
	int32_t si[6] = { SIGRTMIN + 1, 0, -1, 0, 77, 1000 };
	struct img_siginfo good = { .tid = 4243 }, q;

	memcpy(good.info, si, sizeof(si));

	for (size_t i = 0; i < sizeof(bad_signo) / sizeof(bad_signo[0]); i++) {
		char want[32];

		q = good;
		memcpy(q.info, &bad_signo[i], sizeof(bad_signo[i]));
		snprintf(want, sizeof(want), "signal %d,", bad_signo[i]);
		trw_expect_get(IMG_REC_SIGINFO, &q, sizeof(q), NULL, 0, want);
	}
	q = good;
	q.tid = -5;
	trw_expect_get(IMG_REC_SIGINFO, &q, sizeof(q), NULL, 0, "tid -5");
	q = good;
	q.reserved = 1;
	trw_expect_get(IMG_REC_SIGINFO, &q, sizeof(q), NULL, 0, "reserved 1");
	trw_expect_get(IMG_REC_SIGINFO, &good, sizeof(good), data, 1, "fields say");
	trw_expect_get(IMG_REC_SIGINFO, &good, sizeof(good) - 1, NULL, 0, "too short");
}

static void test_check_timer(void)
{
	static const unsigned char data[8];
	/* alarm(), and a periodic POSIX timer signalling thread 4243 */
	const struct img_timer itimer = { .kind = IMG_TIMER_ITIMER, .id = 0, .value_ns = 1500000000 };
	const struct img_timer posix = { .kind = IMG_TIMER_POSIX, .id = 3, .clock = 1,
		.notify = IMG_SIGEV_THREAD_ID, .signo = SIGUSR2, .notify_tid = 4243, .sigval = 99,
		.value_ns = 250000000, .interval_ns = 100000000 };
	static const struct { int field, value; const char *want; } bad[] = {
		{ 0, 3, "kind 3" },		/* kind */
		{ 1, 3, "kind 1, id 3" },	/* an ITIMER other than REAL/VIRTUAL/PROF */
		{ 2, 5, "notify 5" },		/* notify */
		{ 3, 0, "signal 0" },		/* a signalling timer without a signal */
		{ 3, 65, "signal 65" },
		{ 4, 0, "tid 0" },		/* SIGEV_THREAD_ID without a thread */
	};
	struct img_timer tm;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tm = bad[i].field == 1 ? itimer : posix;
		switch (bad[i].field) {
		case 0: tm.kind = bad[i].value; break;
		case 1: tm.id = bad[i].value; break;
		case 2: tm.notify = bad[i].value; break;
		case 3: tm.signo = bad[i].value; break;
		case 4: tm.notify_tid = bad[i].value; break;
		}
		trw_expect_get(IMG_REC_TIMER, &tm, sizeof(tm), NULL, 0, bad[i].want);
	}
	tm = itimer;
	tm.signo = SIGALRM;			/* an ITIMER's signal is not recorded */
	trw_expect_get(IMG_REC_TIMER, &tm, sizeof(tm), NULL, 0, "signal 14");
	tm = posix;
	tm.notify = IMG_SIGEV_SIGNAL;		/* a thread without SIGEV_THREAD_ID */
	trw_expect_get(IMG_REC_TIMER, &tm, sizeof(tm), NULL, 0, "tid 4243");
	trw_expect_get(IMG_REC_TIMER, &posix, sizeof(posix), data, 8, "fields say");
}

/* PROC + "/" + "/x" + groups: the tail holds ngroups gids, no more, no less. */
static void test_check_proc_groups(void)
{
	static unsigned char tail[3 + 4 * 3] = "//x";
	struct img_proc p = { .pid = 7, .cwd_len = 1, .exe_len = 2, .ngroups = 3 };
	struct img_reader r;
	struct img_rec rec;
	const struct img_proc *got;
	static unsigned char buf[4096];
	struct img_writer w;
	struct img_header h = { .pid = 7 };
	uint32_t g[3] = { 10, 27, 1002 }, back[3];
	int fd = trw_memfd();

	memcpy(tail + 3, g, sizeof(g));
	/* the good one reads back, gids and all */
	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_PROC, &p, sizeof(p), tail, sizeof(tail));
	CU_ASSERT_EQUAL_FATAL(img_write_end(&w), 0);
	CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_open(&r, fd), 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_next(&r, &rec), 1);
	got = img_get_proc(&r, &rec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(got->ngroups, 3);
	memcpy(back, (const char *)(got + 1) + 3, sizeof(back));
	CU_ASSERT(memcmp(back, g, sizeof(g)) == 0);
	img_reader_close(&r);
	close(fd);

	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), tail, sizeof(tail) - 4, "fields say");
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), tail, sizeof(tail) - 12, "fields say");
	p.ngroups = IMG_NGROUPS_MAX + 1;
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), tail, sizeof(tail), "supplementary groups");
	p.ngroups = 0xffffffffu;	/* 4 * ngroups must not wrap into a "good" length */
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), tail, 3, "supplementary groups");
	p.ngroups = 3;
	p.reserved = 1;
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), tail, sizeof(tail), "reserved");
}

UNIT_SUITE(img_check,
	{ "PROC: supplementary groups, their count, reserved", test_check_proc_groups },
	{ "SIGINFO: signal, tid, reserved, length", test_check_siginfo },
	{ "TIMER: kind, id, notification, signal, tid, length", test_check_timer },
);
