/*
 * test_img_lock.c - file locks (fds/fd_lock.c, libckpt/img_lock.c):
 *  - the save half reads this process's own locks from its fdinfo (POSIX
 *    ranges split by a later lock, to EOF, SEEK_END; flock; OFD; a lease
 *    with its F_SETSIG signal) and writes exactly those LOCK records;
 *  - it refuses a lease being broken, a lock class it does not know, and
 *    a lock on a file a restart does not reopen;
 *  - the reader's checker refuses every malformed LOCK record.
 */
/* the save half's interface (the library under test is built with it) */
#define FD_SAVE 1
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "libckpt/ckpt.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

static struct ckpt_ctx ctx;

static void lk_ctx(int img_fd)
{
	static unsigned char wbuf[4096];

	memset(&ctx, 0, sizeof(ctx));
	ctx.img_fd = ctx.ctl_fd = -1;
	img_writer_init(&ctx.w, img_fd, wbuf, sizeof(wbuf));
}

static void lk_fdinfo(int fd, char *buf, size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), "/proc/self/fdinfo/%d", fd);
	CU_ASSERT_FATAL(ckpt_read_file(name, buf, len) > 0);
}

static void lk_set(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };

	CU_ASSERT_FATAL(fcntl(fd, cmd, &fl) == 0);
}

/* Writes fd's locks as LOCK records (file id), reads them back into out: their number. */
static int lk_roundtrip(int fd, uint32_t file, struct img_lock *out, int max)
{
	static char info[16384];
	struct fd_probe p = { .fd = fd, .path = "/x", .info = info, .origin = "" };
	struct img_header h = { .pid = 1 };
	struct img_reader r;
	struct img_rec rec;
	int img = trw_memfd(), n = 0;

	lk_fdinfo(fd, info, sizeof(info));
	lk_ctx(img);
	CU_ASSERT_EQUAL(fd_locks_check(&ctx, &p, IMG_FILE_REG), 0);
	img_write_header(&ctx.w, &h);
	CU_ASSERT_EQUAL(fd_locks_write(&ctx, fd, info, file), 0);
	CU_ASSERT_EQUAL_FATAL(img_write_end(&ctx.w), 0);
	CU_ASSERT_FATAL(lseek(img, 0, SEEK_SET) == 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_open(&r, img), 0);
	while (img_reader_next(&r, &rec) == 1 && n < max) {
		const struct img_lock *l = img_get_lock(&r, &rec);

		CU_ASSERT_PTR_NOT_NULL_FATAL(l);
		out[n++] = *l;
	}
	CU_ASSERT_EQUAL(r.code, IMG_OK);
	img_reader_close(&r);
	close(img);
	return n;
}

static int lk_has(const struct img_lock *v, int n, uint32_t kind, uint32_t type, int64_t start,
		  int64_t len)
{
	for (int i = 0; i < n; i++)
		if (v[i].kind == kind && v[i].type == type && v[i].start == start && v[i].len == len &&
		    v[i].file == 7 && !v[i].reserved)
			return 1;
	return 0;
}

static void test_lock_save(void)
{
	char path[64];
	struct img_lock v[16];
	int fd, fd2, n;

	snprintf(path, sizeof(path), "/tmp/ckpt-unit-lock.%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fd2 = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0 && fd2 >= 0);
	CU_ASSERT_FATAL(ftruncate(fd, 1000) == 0);
	lk_set(fd, F_SETLK, F_RDLCK, SEEK_SET, 100, 0);		/* 100 to EOF */
	lk_set(fd, F_SETLK, F_WRLCK, SEEK_END, -500, 10);	/* 500-509 splits it */
	lk_set(fd, F_SETLK, F_WRLCK, SEEK_SET, 7, 1);
	CU_ASSERT_FATAL(flock(fd, LOCK_EX | LOCK_NB) == 0);
	lk_set(fd2, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 5);	/* the other description's */

	n = lk_roundtrip(fd, 7, v, 16);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT(lk_has(v, n, IMG_LOCK_POSIX, IMG_LOCK_WRITE, 7, 1));
	CU_ASSERT(lk_has(v, n, IMG_LOCK_POSIX, IMG_LOCK_READ, 100, 400));
	CU_ASSERT(lk_has(v, n, IMG_LOCK_POSIX, IMG_LOCK_WRITE, 500, 10));
	CU_ASSERT(lk_has(v, n, IMG_LOCK_POSIX, IMG_LOCK_READ, 510, 0));
	CU_ASSERT(lk_has(v, n, IMG_LOCK_FLOCK, IMG_LOCK_WRITE, 0, 0));
	/* fd2's description: its OFD lock only (the POSIX ones are fd's file's) */
	n = lk_roundtrip(fd2, 7, v, 16);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(lk_has(v, n, IMG_LOCK_OFD, IMG_LOCK_READ, 0, 5));
	close(fd2);		/* drops the POSIX locks too: the process's, on this file */
	close(fd);

	/* a read lease, its break signalled with SIGRTMIN+3 */
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(fcntl(fd, F_SETSIG, SIGRTMIN + 3) == 0);
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		n = lk_roundtrip(fd, 7, v, 16);
		CU_ASSERT_EQUAL(n, 1);
		CU_ASSERT(n == 1 && v[0].kind == IMG_LOCK_LEASE && v[0].type == IMG_LOCK_READ &&
			  v[0].sig == SIGRTMIN + 3);
		fcntl(fd, F_SETLEASE, F_UNLCK);
	}
	close(fd);
	unlink(path);
}

/* fd_locks_check on made-up fdinfo text: refused with a message containing want. */
static void lk_refused(const char *info, uint32_t kind, const char *want)
{
	struct fd_probe p = { .fd = 9, .path = "/tmp/f", .info = info, .origin = "" };

	lk_ctx(-1);
	CU_ASSERT(fd_locks_check(&ctx, &p, kind) < 0);
	if (!strstr(ctx.err, want))
		fprintf(stderr, "\nexpected \"%s\" in \"%s\"\n", want, ctx.err);
	CU_ASSERT(strstr(ctx.err, want) != NULL);
}

static void test_lock_refusals(void)
{
	static const char head[] = "pos:\t0\nflags:\t02\nmnt_id:\t27\nino:\t5\n";
	char info[512];

	snprintf(info, sizeof(info), "%slock:\t1: LEASE  BREAKING  READ 42 fe:00:5 0 EOF\n", head);
	lk_refused(info, IMG_FILE_REG, "being broken");
	snprintf(info, sizeof(info), "%slock:\t1: DELEG  ACTIVE    READ 42 fe:00:5 0 EOF\n", head);
	lk_refused(info, IMG_FILE_REG, "does not know");
	snprintf(info, sizeof(info), "%slock:\t1: POSIX  ADVISORY  WRITE 42 fe:00:5 9 3\n", head);
	lk_refused(info, IMG_FILE_REG, "does not know");		/* end before start */
	snprintf(info, sizeof(info), "%slock:\t1: FLOCK  ADVISORY  WRITE 42 fe:00:5 0 EOF\n", head);
	lk_refused(info, IMG_FILE_INHERIT, "does not reopen");
	CU_ASSERT(!fd_locks_has(head));
	CU_ASSERT(fd_locks_has(info));
}

static void test_lock_check(void)
{
	const struct img_lock good = { .file = 3, .kind = IMG_LOCK_POSIX, .type = IMG_LOCK_WRITE,
				       .start = 10, .len = 5 };
	struct img_lock l;

	l = good;
	l.file = 0;
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "file 0");
	l = good;
	l.kind = 5;
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "kind 5");
	l = good;
	l.type = 3;
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "type 3");
	l = good;
	l.reserved = 1;
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "reserved 1");
	l = good;
	l.start = -1;
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "bytes -1+5");
	l = good;
	l.len = -2;
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "bytes 10+-2");
	l = good;
	l.start = INT64_MAX;
	l.len = 2;				/* its last byte overflows */
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "posix lock on bytes");
	l = good;
	l.kind = IMG_LOCK_FLOCK;		/* a flock has no range */
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "flock lock on bytes 10+5");
	l = good;
	l.sig = 10;				/* only a lease has a signal */
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "signal 10");
	l = (struct img_lock){ .file = 3, .kind = IMG_LOCK_LEASE, .type = IMG_LOCK_READ, .sig = 65 };
	trw_expect_get(IMG_REC_LOCK, &l, sizeof(l), NULL, 0, "signal 65");
	trw_expect_get(IMG_REC_LOCK, &good, sizeof(good) - 4, NULL, 0, "not a valid LOCK");
	trw_expect_get(IMG_REC_LOCK, &good, sizeof(good), "x", 1, "not a valid LOCK");
}

UNIT_SUITE(img_lock,
	{ "save: this process's POSIX, flock, OFD locks and lease", test_lock_save },
	{ "save: refusals (breaking lease, unknown class, file not reopened)", test_lock_refusals },
	{ "LOCK checker: file, kind, type, range, signal, length", test_lock_check },
);
