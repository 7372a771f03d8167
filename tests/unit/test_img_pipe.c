/*
 * test_img_pipe.c - images through pipes (short reads and writes, EINTR
 * from a storm of signals on either side) and the writer's errors.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/time.h>
#include "libckpt/img.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

struct trw_pipe_reader {
	int fd;
	int block_alarm;
	int rc;
	enum img_err code;
	char err[256];
	uint64_t nrecords;
};

static void *trw_pipe_read(void *arg)
{
	struct trw_pipe_reader *pr = arg;
	struct img_reader r;
	struct img_rec rec;
	int k;

	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	pthread_sigmask(pr->block_alarm ? SIG_BLOCK : SIG_UNBLOCK, &s, NULL);
	pr->rc = -1;
	if (img_reader_open(&r, pr->fd) == 0) {
		while ((k = img_reader_next(&r, &rec)) == 1)
			;
		if (k == 0)
			pr->rc = 0;
	}
	pr->code = r.code;
	pr->nrecords = r.nrecords;
	snprintf(pr->err, sizeof(pr->err), "%s", r.err);
	img_reader_close(&r);
	return NULL;
}

static volatile sig_atomic_t trw_alarms;

static void trw_on_alarm(int sig)
{
	(void)sig;
	trw_alarms++;
}

/*
 * A 16 MiB image through a pipe while SIGALRM (no SA_RESTART) fires every
 * 50 us at the writer or the reader: writes and reads come back short or
 * with EINTR, and both sides must carry on.
 */
static void trw_pipe_run(int writer_gets_signals)
{
	static unsigned char buf[64 << 10], pages[IMG_PAGES_MAX * IMG_PAGE_SIZE];
	struct sigaction sa = { .sa_handler = trw_on_alarm }, old_alrm, old_pipe;
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct itimerval it = { { 0, 50 }, { 0, 50 } }, off = { { 0, 0 }, { 0, 0 } };
	struct trw_pipe_reader pr = { .block_alarm = writer_gets_signals };
	struct img_header h = { .pid = 7 };
	struct img_writer w;
	sigset_t s, olds;
	pthread_t th;
	int p[2], nrec = 64;

	for (size_t k = 0; k < sizeof(pages); k++)
		pages[k] = (unsigned char)trw_rand();
	CU_ASSERT_FATAL(pipe(p) == 0);
	pr.fd = p[0];
	sigaction(SIGALRM, &sa, &old_alrm);
	sigaction(SIGPIPE, &ign, &old_pipe);
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	pthread_sigmask(writer_gets_signals ? SIG_UNBLOCK : SIG_BLOCK, &s, &olds);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, trw_pipe_read, &pr) == 0);
	trw_alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);

	img_writer_init(&w, p[1], buf, sizeof(buf));
	img_write_header(&w, &h);
	for (int i = 0; i < nrec; i++) {
		struct img_pages pg = { .addr = 0x10000000ull + (uint64_t)i * sizeof(pages),
					.npages = IMG_PAGES_MAX, .codec = IMG_CODEC_RAW };
		img_write_record(&w, IMG_REC_PAGES, &pg, sizeof(pg), pages, sizeof(pages));
	}
	CU_ASSERT_EQUAL(img_write_end(&w), 0);
	/* The reader on a pipe ignores what follows END. */
	CU_ASSERT_EQUAL(write(p[1], "extra", 5), 5);
	close(p[1]);
	pthread_join(th, NULL);

	setitimer(ITIMER_REAL, &off, NULL);
	pthread_sigmask(SIG_SETMASK, &olds, NULL);
	sigaction(SIGALRM, &old_alrm, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	close(p[0]);

	if (pr.rc)
		fprintf(stderr, "\npipe reader: %s\n", pr.err);
	CU_ASSERT_EQUAL(pr.rc, 0);
	CU_ASSERT_EQUAL(pr.code, IMG_OK);
	CU_ASSERT_EQUAL(pr.nrecords, (uint64_t)nrec);
	CU_ASSERT(trw_alarms > 0);
}

static void test_rw_pipe_writer_interrupted(void) { trw_pipe_run(1); }
static void test_rw_pipe_reader_interrupted(void) { trw_pipe_run(0); }

static void test_rw_pipe_sample(void)
{
	int p[2];
	enum img_err code;
	char err[256];

	CU_ASSERT_FATAL(pipe(p) == 0);
	/* The sample (~15 KiB) fits in the pipe's 64 KiB. */
	CU_ASSERT_EQUAL_FATAL(trw_write_sample(p[1], NULL, 0), 0);
	close(p[1]);
	CU_ASSERT_EQUAL(trw_parse(p[0], &code, err, sizeof(err)), 0);
	close(p[0]);

	/* A truncated image through a pipe. */
	size_t len;
	unsigned char *img = trw_sample_bytes(&len);
	CU_ASSERT_FATAL(pipe(p) == 0);
	CU_ASSERT_FATAL(write(p[1], img, len - 30) == (ssize_t)len - 30);
	close(p[1]);
	CU_ASSERT_EQUAL(trw_parse(p[0], &code, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(code, IMG_ERR_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated at offset"));
	close(p[0]);
	free(img);
}

static void test_rw_write_errors(void)
{
	static unsigned char buf[4096];
	struct img_writer w;
	struct img_header h = { .pid = 1 };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int p[2], x = 0;

	/* Bad fd: the error appears at the first real write, then sticks. */
	img_writer_init(&w, -1, NULL, 0);
	CU_ASSERT_EQUAL(img_write_header(&w, &h), -EBADF);
	CU_ASSERT_EQUAL(img_write_record(&w, IMG_REC_FD, &x, 4, NULL, 0), -EBADF);
	CU_ASSERT_EQUAL(img_write_end(&w), -EBADF);

	/* Buffered: the error comes at the flush in img_write_end(). */
	img_writer_init(&w, -1, buf, 256);
	CU_ASSERT_EQUAL(img_write_header(&w, &h), -EBADF);	/* 128 >= cap/2 */
	img_writer_init(&w, -1, buf, sizeof(buf));
	CU_ASSERT_EQUAL(img_write_header(&w, &h), 0);
	CU_ASSERT_EQUAL(img_write_end(&w), -EBADF);
	CU_ASSERT_EQUAL(w.error, -EBADF);

	/* Reader gone: EPIPE (SIGPIPE ignored, as the checkpoint does). */
	sigaction(SIGPIPE, &ign, &old);
	CU_ASSERT_FATAL(pipe(p) == 0);
	close(p[0]);
	img_writer_init(&w, p[1], NULL, 0);
	CU_ASSERT_EQUAL(img_write_header(&w, &h), -EPIPE);
	CU_ASSERT_EQUAL(img_write_end(&w), -EPIPE);
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);

	/* Misuse: a record before the header, END as a plain record, an
	 * oversized record (refused before any byte is read from it). */
	int fd = trw_memfd();
	img_writer_init(&w, fd, NULL, 0);
	CU_ASSERT_EQUAL(img_write_record(&w, IMG_REC_FD, &x, 4, NULL, 0), -EINVAL);
	img_writer_init(&w, fd, NULL, 0);
	CU_ASSERT_EQUAL(img_write_end(&w), -EINVAL);
	img_writer_init(&w, fd, NULL, 0);
	CU_ASSERT_EQUAL(img_write_header(&w, &h), 0);
	CU_ASSERT_EQUAL(img_write_header(&w, &h), -EINVAL);
	img_writer_init(&w, fd, NULL, 0);
	CU_ASSERT_EQUAL(img_write_header(&w, &h), 0);
	CU_ASSERT_EQUAL(img_write_record(&w, IMG_REC_END, &x, 4, NULL, 0), -EINVAL);
	img_writer_init(&w, fd, NULL, 0);
	CU_ASSERT_EQUAL(img_write_header(&w, &h), 0);
	CU_ASSERT_EQUAL(img_write_record(&w, IMG_REC_PAGES, &x, 16,
					 &x, (size_t)IMG_REC_MAX), -EFBIG);
	close(fd);
}


UNIT_SUITE(img_pipe,
	{ "pipe: sample and truncated", test_rw_pipe_sample },
	{ "pipe: writer interrupted by signals", test_rw_pipe_writer_interrupted },
	{ "pipe: reader interrupted by signals", test_rw_pipe_reader_interrupted },
	{ "write errors and misuse", test_rw_write_errors },
);
