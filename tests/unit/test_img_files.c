/*
 * test_img_files.c - the contents of deleted files and memfds: written by
 * the checkpoint's FILE_DATA writer (libckpt/ckpt_fdata.c) from a real
 * sparse file and read back by the reader (holes left out, zero pages as
 * ZERO runs, text compressed, random data raw, the last partial page);
 * the contents limit; the reader's refusals of FILE_DATA records, of the
 * new kinds' data (ghost, memfd, pidfd, huge pages, POSIX shm) and of VMAs that name
 * a FILE with flags that cannot map one.
 */
#define FD_SAVE		/* the save half of fds/ (the pic objects linked here have it) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "libckpt/ckpt.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

#define PG IMG_PAGE_SIZE
#define F_SIZE (600 * 1024 + 123)	/* a last partial page */

/*
 * A deleted file: [0, 2 pages) text, a hole, [256K, 256K + 3 pages) a zero
 * page (allocated) and two random pages, a hole, the last 123 bytes and
 * the page before them text.
 */
static int sparse_file(unsigned char *want)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/ckpt-unit-ghost.%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	unlink(path);
	memset(want, 0, F_SIZE);
	unit_fill_text(want, 2 * PG);
	unit_fill_random(want + (256 << 10) + PG, 2 * PG);
	unit_fill_text(want + 600 * 1024 - PG, PG + 123);
	CU_ASSERT_FATAL(ftruncate(fd, F_SIZE) == 0);
	CU_ASSERT_FATAL(pwrite(fd, want, 2 * PG, 0) == 2 * PG);
	CU_ASSERT_FATAL(pwrite(fd, want + (256 << 10), 3 * PG, 256 << 10) == 3 * PG);
	CU_ASSERT_FATAL(pwrite(fd, want + 600 * 1024 - PG, PG + 123, 600 * 1024 - PG) == PG + 123);
	return fd;
}

static void test_fdata_roundtrip(void)
{
	static unsigned char wbuf[1 << 16];
	unsigned char *want = malloc(F_SIZE), *got = calloc(1, F_SIZE + PG);
	struct ckpt_ctx c;
	struct img_reader r;
	struct img_rec rec;
	struct img_header h = { .pid = 1 };
	struct img_file f = { .id = 5, .kind = IMG_FILE_GHOST, .size = F_SIZE };
	char err[256], what[] = "fd 9";
	int fd = sparse_file(want), k, nzero = 0, nsnappy = 0, nraw = 0;
	uint64_t end = 0;

	memset(&c, 0, sizeof(c));
	c.img_fd = trw_memfd();
	CU_ASSERT_FATAL(ckpt_scratch_map(&c) == 0);
	struct fd_probe p = { .fd = fd, .path = "/tmp/x (deleted)", .origin = "", .what = what,
			      .flags = O_RDWR };
	CU_ASSERT_FATAL(fstat(fd, &p.st) == 0);
	CU_ASSERT_EQUAL(ckpt_fdata_check(&c, &p), 0);
	img_writer_init(&c.w, c.img_fd, wbuf, sizeof(wbuf));
	img_write_header(&c.w, &h);
	CU_ASSERT_EQUAL(ckpt_fdata_contents(&c, &p, &f), 0);
	CU_ASSERT_EQUAL_FATAL(img_write_end(&c.w), 0);
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_CUR), 0);	/* the process's offset untouched */

	CU_ASSERT_FATAL(lseek(c.img_fd, 0, SEEK_SET) == 0);
	CU_ASSERT_FATAL(img_reader_open(&r, c.img_fd) == 0);
	while ((k = img_reader_next(&r, &rec)) == 1) {
		const struct img_file_data *d = img_get_file_data(&r, &rec);

		CU_ASSERT_FATAL(d != NULL);
		CU_ASSERT(d->file == 5 && d->offset >= end && d->offset % PG == 0);
		/* no record for a hole: nothing between 2 pages and 256K, 256K + 3 pages and the end */
		CU_ASSERT(d->offset < 2 * PG || (d->offset >= (256 << 10) && d->offset < (256 << 10) + 3 * PG) ||
			  d->offset >= 600 * 1024 - PG);
		CU_ASSERT_EQUAL(img_file_data_decode(d, d + 1, rec.len - sizeof(*d), got + d->offset, err,
						     sizeof(err)), 0);
		nzero += d->codec == IMG_CODEC_ZERO;
		nsnappy += d->codec == IMG_CODEC_SNAPPY;
		nraw += d->codec == IMG_CODEC_RAW;
		end = d->offset + d->len;
	}
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(end, F_SIZE);			/* the last record ends at the size */
	CU_ASSERT(nzero == 1 && nraw == 1 && nsnappy == 2);
	CU_ASSERT(memcmp(got, want, F_SIZE) == 0);
	img_reader_close(&r);

	/* the limit: refused before a byte, with the size, the limit and the variable */
	c.fdata_limit = 4 * PG;
	c.error = 0;
	CU_ASSERT(ckpt_fdata_check(&c, &p) < 0);
	/* 2 + 3 pages and the last page and 123 bytes (pages of the extents) */
	CU_ASSERT(strstr(c.err, "fd 9: /tmp/x (deleted) holds 24699 bytes of data, more than the "
			 "limit of 16384 bytes") != NULL);
	CU_ASSERT(strstr(c.err, "CKPT_GHOST_LIMIT=1M") != NULL);
	munmap(c.scratch, c.scratch_len);
	close(c.img_fd);
	close(fd);
	free(want);
	free(got);
}

static void test_check_file_data(void)
{
	static unsigned char data[PG];
	const struct img_file_data good = { .file = 3, .codec = IMG_CODEC_RAW, .offset = PG, .len = PG };
	struct img_file_data d;
	char err[128];

	/* file 0: the contents of the SYSV_SHM before it, which its caller checks */
	d = good;
	d.offset = 100;
	trw_expect_get(IMG_REC_FILE_DATA, &d, sizeof(d), data, PG, "at offset 100");
	d = good;
	d.len = 0;
	trw_expect_get(IMG_REC_FILE_DATA, &d, sizeof(d), NULL, 0, "0 bytes at");
	d = good;
	d.len = IMG_FILE_CHUNK + 1;
	trw_expect_get(IMG_REC_FILE_DATA, &d, sizeof(d), NULL, 0, "262145 bytes");
	d = good;
	d.offset = 0 - (uint64_t)PG;
	trw_expect_get(IMG_REC_FILE_DATA, &d, sizeof(d), data, PG, "bytes at offset");
	d = good;
	d.reserved[1] = 1;
	trw_expect_get(IMG_REC_FILE_DATA, &d, sizeof(d), data, PG, "file 3");
	d = good;
	d.codec = 7;
	trw_expect_get(IMG_REC_FILE_DATA, &d, sizeof(d), data, PG, "unknown codec 7");
	trw_expect_get(IMG_REC_FILE_DATA, &good, sizeof(good), data, PG - 1, "4095 data bytes");
	d = good;
	d.codec = IMG_CODEC_ZERO;
	trw_expect_get(IMG_REC_FILE_DATA, &d, sizeof(d), data, 1, "1 data bytes");
	d.codec = IMG_CODEC_SNAPPY;
	trw_expect_get(IMG_REC_FILE_DATA, &d, sizeof(d), NULL, 0, "0 data bytes");
	trw_expect_get(IMG_REC_FILE_DATA, &good, 10, NULL, 0, "too short");
	/* snappy data that does not decode to len bytes */
	d = good;
	d.codec = IMG_CODEC_SNAPPY;
	CU_ASSERT(img_file_data_decode(&d, "\x05\x10hello", 7, data, err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "snappy data is corrupt") != NULL);
}

/* A FILE record of kind with path and kind data (a || b), refused with part. */
static void expect_file(uint32_t kind, uint32_t mode, int64_t size, uint32_t flags,
			const char *path, const void *data, size_t dlen, const char *part)
{
	unsigned char tail[512];
	struct img_file f = { .id = 4, .kind = kind, .mode = mode, .size = size, .flags = flags,
			      .path_len = strlen(path), .data_len = dlen };

	memcpy(tail, data, dlen);		/* kind data, then the path */
	memcpy(tail + dlen, path, f.path_len);
	trw_expect_get(IMG_REC_FILE, &f, sizeof(f), tail, f.path_len + dlen, part);
}

static void test_check_kinds(void)
{
	const struct img_file_ghost g = { 0, 0 }, g_bad = { 0, 1 };
	struct { struct img_file_memfd m; char name[4]; } m = { { 0, 0, 0, 4 }, "name" };
	const struct img_file_pidfd pd = { 0, 0 };
	const struct img_file_hugetlb hg = { 12, 0 };

	expect_file(IMG_FILE_GHOST, 0100600, 10, 2, "/tmp/a (deleted)", &g, 4, "4 bytes of kind data");
	expect_file(IMG_FILE_GHOST, 0100600, 10, 2, "/tmp/a (deleted)", &g_bad, 8, "bytes of kind data");
	expect_file(IMG_FILE_GHOST, 040700, 10, 2, "/tmp/a (deleted)", &g, 8, "not a deleted regular file");
	expect_file(IMG_FILE_GHOST, 0100600, 10, 2, "/tmp/a", &g, 8, "not a deleted regular file");
	expect_file(IMG_FILE_GHOST, 0100600, -1, 2, "/tmp/a (deleted)", &g, 8, "size -1");
	expect_file(IMG_FILE_MEMFD, 0100777, 10, 2, "/memfd:name (deleted)", &m, sizeof(m) - 1,
		    "do not hold its name");
	m.m.name_len = 300;
	expect_file(IMG_FILE_MEMFD, 0100777, 10, 2, "/memfd:name (deleted)", &m, sizeof(m),
		    "do not hold its name");
	m.m.name_len = 4;
	m.m.seals = 0x40;
	expect_file(IMG_FILE_MEMFD, 0100777, 10, 2, "/memfd:name (deleted)", &m, sizeof(m), "seals 0x40");
	m.m.seals = 0;
	m.m.hugetlb_shift = 22;
	expect_file(IMG_FILE_MEMFD, 0100777, 2 << 20, 2, "/memfd:name (deleted)", &m, sizeof(m),
		    "huge page shift 22");
	m.m.hugetlb_shift = 21;		/* a hugetlbfs file's size is whole pages */
	expect_file(IMG_FILE_MEMFD, 0100777, 4096, 2, "/memfd:name (deleted)", &m, sizeof(m),
		    "size 4096");
	expect_file(IMG_FILE_PIDFD, 0, 0, 2, "anon_inode:[pidfd]", &pd, sizeof(pd), "pid 0");
	expect_file(IMG_FILE_PIDFD, 0, 0, O_WRONLY, "anon_inode:[pidfd]", &(struct img_file_pidfd){ 7, 0 },
		    sizeof(pd), "flags 01");
	expect_file(IMG_FILE_HUGETLB, 0100600, 0, 0, "/anon_hugepage (deleted)", &hg, sizeof(hg),
		    "page shift 12");
	/* a node of /dev/mem (1:1) is no portable device */
	struct img_file f = { .id = 4, .kind = IMG_FILE_CHR, .mode = 020600, .rdev = 0x101,
			      .path_len = 8 };
	trw_expect_get(IMG_REC_FILE, &f, sizeof(f), "/dev/mem", 8, "not a memory device");
}

/* A POSIX shm object's FILE: accepted as written, and each field's refusal. */
static void test_check_pshm(void)
{
	const struct fd_kind_info *k = fd_kind_info(IMG_FILE_PSHM);
	struct img_file_pshm m = { .flags = IMG_PSHM_DATA, .uid = 1000, .gid = 1000,
				   .btime_ns = 1765000000123456789ll };
	struct img_file f = { .id = 4, .kind = IMG_FILE_PSHM, .mode = 0100640, .size = 12298,
			      .flags = O_RDWR | O_NOFOLLOW, .pos = 100, .data_len = sizeof(m) };
	static const char *const bad_paths[] = {
		"dev/shm/x", "/dev/shm/x (deleted)", "/dev/shm/../../etc/x", "/dev/shm//x",
		"/dev/shm/./x", "/dev/shm/x/", "/dev/shm/..", "/", "",
	};
	char err[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	f.path_len = strlen("/dev/shm/x");
	CU_ASSERT_EQUAL(k->valid(&f, "/dev/shm/x", &m, err, sizeof(err)), 0);
	f.path_len = strlen("/dev/shm/sem.a b");
	m.flags = 0;			/* a later FILE of the object: no contents */
	m.btime_ns = -1;		/* a kernel without birth times */
	CU_ASSERT_EQUAL(k->valid(&f, "/dev/shm/sem.a b", &m, err, sizeof(err)), 0);
	m = (struct img_file_pshm){ .flags = IMG_PSHM_DATA };
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++)
		expect_file(IMG_FILE_PSHM, 0100640, 10, 2, bad_paths[i], &m, sizeof(m),
			    "not absolute and plain");
	expect_file(IMG_FILE_PSHM, 040700, 10, 2, "/dev/shm/x", &m, sizeof(m), "mode 040700");
	expect_file(IMG_FILE_PSHM, 0300640, 10, 2, "/dev/shm/x", &m, sizeof(m), "mode 0300640");
	expect_file(IMG_FILE_PSHM, 0100640, -1, 2, "/dev/shm/x", &m, sizeof(m), "size -1");
	expect_file(IMG_FILE_PSHM, 0100640, 10, O_PATH, "/dev/shm/x", &m, sizeof(m), "flags 010000000");
	expect_file(IMG_FILE_PSHM, 0100640, 10, 2, "/dev/shm/x", &m, sizeof(m) - 8,
		    "16 bytes of kind data (want 24)");
	m.flags = 2;
	expect_file(IMG_FILE_PSHM, 0100640, 10, 2, "/dev/shm/x", &m, sizeof(m), "flags 0x2");
	m.flags = IMG_PSHM_DATA;
	m.reserved = 1;
	expect_file(IMG_FILE_PSHM, 0100640, 10, 2, "/dev/shm/x", &m, sizeof(m), "bytes of kind data");
	m.reserved = 0;
	m.btime_ns = -2;
	expect_file(IMG_FILE_PSHM, 0100640, 10, 2, "/dev/shm/x", &m, sizeof(m), "birth time -2");
}

static void test_check_vma_file(void)
{
	struct img_vma v = { .start = 0x10000, .end = 0x20000, .prot = 3, .file = 3,
			     .flags = IMG_VMA_FILE | IMG_VMA_ANON };

	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "cannot map file 3");
	v.flags = IMG_VMA_SHARED;			/* neither file nor anonymous */
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "cannot map file 3");
	v.flags = IMG_VMA_ANON | IMG_VMA_STACK | IMG_VMA_GROWSDOWN;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "cannot map file 3");
	v.flags = IMG_VMA_VDSO | IMG_VMA_FILE;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "cannot map file 3");
}

/* TTY: the image's terminal, /dev/tty, a pty pair; every field's refusal */
static void test_check_tty(void)
{
	const struct fd_kind_info *k = fd_kind_info(IMG_FILE_TTY);
	struct img_file_tty t = { .role = IMG_TTY_TERMINAL, .tclass = IMG_TTY_PTY,
				  .flags = IMG_TTY_CTTY, .major = 136, .minor = 3, .fg_pgid = 50,
				  .sid = 40, .ws_row = 24, .ws_col = 80 }, b;
	struct img_file f = { .id = 4, .kind = IMG_FILE_TTY, .mode = 020620, .flags = O_RDWR,
			      .path_len = 10, .data_len = sizeof(t) };
	char err[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->valid(&f, "/dev/pts/3", &t, err, sizeof(err)), 0);
	b = t;
	b.role = IMG_TTY_DEVTTY;
	CU_ASSERT_EQUAL(k->valid(&f, "/dev/tty", &b, err, sizeof(err)), 0);
	b = (struct img_file_tty){ .role = IMG_TTY_MASTER, .tclass = IMG_TTY_PTY, .major = 136,
				   .minor = 300, .index = 300, .flags = IMG_TTY_PKT | IMG_TTY_LOCKED };
	CU_ASSERT_EQUAL(k->valid(&f, "/dev/ptmx", &b, err, sizeof(err)), 0);
	b.role = IMG_TTY_SLAVE;		/* packet mode and lock are a master's */
	expect_file(IMG_FILE_TTY, 020620, 0, 2, "/dev/pts/300", &b, sizeof(b), "flags 0x6");
	b.flags = 0;
	b.index = 299;
	expect_file(IMG_FILE_TTY, 020620, 0, 2, "/dev/pts/300", &b, sizeof(b), "index 299");
	b = t;
	b.role = 5;
	expect_file(IMG_FILE_TTY, 020620, 0, 2, "/dev/pts/3", &b, sizeof(b), "role 5");
	b = t;
	b.tclass = IMG_TTY_VT;		/* a vt is major 4 */
	expect_file(IMG_FILE_TTY, 020620, 0, 2, "/dev/pts/3", &b, sizeof(b), "class 2");
	b = t;
	b.flags = 0;			/* a foreground group only for the controlling terminal */
	expect_file(IMG_FILE_TTY, 020620, 0, 2, "/dev/pts/3", &b, sizeof(b), "foreground group 50");
	b = t;
	b.major = 4;			/* a pty is 136..143 */
	expect_file(IMG_FILE_TTY, 020620, 0, 2, "/dev/pts/3", &b, sizeof(b), "device 4:3");
	b = t;
	b.reserved = 1;
	expect_file(IMG_FILE_TTY, 020620, 0, 2, "/dev/pts/3", &b, sizeof(b), "role 1");
	b = t;
	b.sid = -1;
	expect_file(IMG_FILE_TTY, 020620, 0, 2, "/dev/pts/3", &b, sizeof(b), "session -1");
	expect_file(IMG_FILE_TTY, 020620, 0, 2, "/dev/pts/3", &t, sizeof(t) - 8, "bytes of kind data");
	expect_file(IMG_FILE_TTY, 0100600, 0, 2, "/dev/pts/3", &t, sizeof(t), "mode 0100600");
}

UNIT_SUITE(img_files,
	{ "FILE_DATA: a sparse deleted file written and read back, the limit", test_fdata_roundtrip },
	{ "FILE_DATA: the reader's refusals", test_check_file_data },
	{ "FILE kinds: ghost, memfd, pidfd, huge pages, devices refused", test_check_kinds },
	{ "FILE kind pshm: accepted, and every field's refusal", test_check_pshm },
	{ "VMA: flags that cannot map a FILE", test_check_vma_file },
	{ "FILE kind tty: terminal, /dev/tty, pty pair; every field's refusal", test_check_tty },
);
