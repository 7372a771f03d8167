/*
 * test_img_pipes.c - pipes' bytes in flight: read by the checkpoint from
 * a real pipe without taking them (the pipe still reads every byte after)
 * and written as PIPE_DATA records, a packet per record, plain bytes cut
 * in 64 KiB pieces; plain bytes followed by a packet refused; the
 * reader's refusals of PIPE_DATA records (alone and against their pipe's
 * FILE) and of PIPE and FIFO kind data.
 */
#define FD_SAVE		/* the save half of fds/ (the pic objects linked here have it) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "libckpt/ckpt.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

#define PG IMG_PAGE_SIZE

static int nread(int fd)
{
	int n = -1;

	ioctl(fd, FIONREAD, &n);
	return n;
}

/* A checkpoint context with its scratch, writing into a memfd. */
static void ctx_init(struct ckpt_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->img_fd = trw_memfd();
	c->ctl_fd = c->pagemap_fd = c->mem_fd = -1;
	CU_ASSERT_FATAL(ckpt_scratch_map(c) == 0);
}

static void ctx_free(struct ckpt_ctx *c)
{
	munmap(c->scratch, c->scratch_len);
	close(c->img_fd);
}

/* The probe the fd driver would make of fd. */
static void probe(struct fd_probe *p, int fd, char *path, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	CU_ASSERT_FATAL(fstat(fd, &p->st) == 0);
	snprintf(path, len, "pipe:[%llu]", (unsigned long long)p->st.st_ino);
	p->path = path;
	p->flags = (uint32_t)fcntl(fd, F_GETFL);
	p->origin = "";
	p->what = "fd 9";
	p->info = "";
}

/*
 * What goes in: packets of these sizes (> 0), plain bytes (< 0), in order;
 * the records the checkpoint writes are the same (plain bytes in 64 KiB
 * pieces).  A packet after plain bytes stays one only when their last
 * buffer is full (a write merges into a last buffer with room, packet or
 * not), and a read of plain bytes runs on into the next packet: the
 * reader's reads return `reads`.
 */
static const int pieces[] = { 100, 1, 4096, -65536, -65536, 4096, -3000 };
#define NPIECE (int)(sizeof(pieces) / sizeof(pieces[0]))
static const int reads[] = { 100, 1, 4096, 65536 + 65536 + 4096, 3000 };
#define NREAD (int)(sizeof(reads) / sizeof(reads[0]))

static void test_pipe_roundtrip(void)
{
	static unsigned char wbuf[1 << 16], want[1 << 18], got[1 << 18];
	struct ckpt_ctx c;
	struct img_reader r;
	struct img_rec rec;
	struct img_header h = { .pid = 1 };
	struct img_file f = { .id = 7, .kind = IMG_FILE_PIPE };
	struct img_file_pipe d;
	struct fd_probe p;
	char path[64];
	size_t total = 0, off = 0;
	int fds[2], k, n = 0;

	unit_fill_random(want, sizeof(want));
	CU_ASSERT_FATAL(pipe2(fds, O_NONBLOCK) == 0);
	CU_ASSERT_FATAL(fcntl(fds[1], F_SETPIPE_SZ, 1 << 18) == 1 << 18);
	for (int i = 0; i < NPIECE; i++) {
		int len = abs(pieces[i]);

		CU_ASSERT_FATAL(fcntl(fds[1], F_SETFL, O_NONBLOCK | (pieces[i] > 0 ? O_DIRECT : 0)) == 0);
		CU_ASSERT_FATAL(write(fds[1], want + total, len) == len);
		total += len;
	}
	ctx_init(&c);
	probe(&p, fds[0], path, sizeof(path));
	CU_ASSERT_EQUAL(ckpt_pipe_check(&c, &p), 0);
	CU_ASSERT_EQUAL(nread(fds[0]), (int)total);		/* nothing taken */
	CU_ASSERT_EQUAL(ckpt_pipe_save(&c, &p, &f, &d, sizeof(d)), (int)sizeof(d));
	CU_ASSERT(d.same_as == 0 && d.capacity == 1 << 18 && d.bytes == total && d.flags == 0);
	img_writer_init(&c.w, c.img_fd, wbuf, sizeof(wbuf));
	img_write_header(&c.w, &h);
	CU_ASSERT_EQUAL(ckpt_pipe_contents(&c, &p, &f), 0);
	CU_ASSERT_EQUAL_FATAL(img_write_end(&c.w), 0);
	CU_ASSERT_EQUAL(nread(fds[0]), (int)total);

	/* the records: one per packet, plain bytes in pieces of at most 64 KiB, in order */
	CU_ASSERT_FATAL(lseek(c.img_fd, 0, SEEK_SET) == 0);
	CU_ASSERT_FATAL(img_reader_open(&r, c.img_fd) == 0);
	f.data_len = sizeof(d);
	while ((k = img_reader_next(&r, &rec)) == 1) {
		const struct img_pipe_data *pd = img_get_pipe_data(&r, &rec);
		char err[160];

		CU_ASSERT_FATAL(pd != NULL);
		CU_ASSERT_FATAL(n < NPIECE);
		CU_ASSERT_EQUAL(img_pipe_data_next(&f, &d, pd, off, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(pd->len, (uint32_t)abs(pieces[n]));
		CU_ASSERT_EQUAL(!!(pd->flags & IMG_PIPE_PACKET), pieces[n] > 0);
		memcpy(got + off, pd + 1, pd->len);
		off += pd->len;
		n++;
	}
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(n, NPIECE);
	CU_ASSERT(off == total && memcmp(got, want, total) == 0);
	img_reader_close(&r);

	/* and the pipe's own reader still gets every byte, packets as packets */
	off = 0;
	for (int i = 0; i < NREAD; i++) {
		ssize_t m = read(fds[0], got, sizeof(got));

		CU_ASSERT(m == reads[i] && !memcmp(got, want + off, m));
		off += m > 0 ? m : 0;
	}
	CU_ASSERT_EQUAL(nread(fds[0]), 0);
	ctx_free(&c);
	close(fds[0]);
	close(fds[1]);
}

/* Through the write end: the checkpoint reads through a read end of its own. */
static void test_pipe_write_end(void)
{
	static unsigned char wbuf[1 << 16];
	struct ckpt_ctx c;
	struct img_reader r;
	struct img_rec rec;
	struct img_header h = { .pid = 1 };
	struct img_file f = { .id = 3, .kind = IMG_FILE_PIPE };
	struct img_file_pipe d;
	struct fd_probe p;
	char path[64];
	int fds[2];

	CU_ASSERT_FATAL(pipe(fds) == 0);
	CU_ASSERT_FATAL(write(fds[1], "hello, pipe", 11) == 11);
	close(fds[0]);				/* EPIPE for the writer; the bytes stay */
	ctx_init(&c);
	probe(&p, fds[1], path, sizeof(path));
	CU_ASSERT_EQUAL(ckpt_pipe_check(&c, &p), 0);
	CU_ASSERT_EQUAL(ckpt_pipe_save(&c, &p, &f, &d, sizeof(d)), (int)sizeof(d));
	CU_ASSERT_EQUAL(d.bytes, 11);
	img_writer_init(&c.w, c.img_fd, wbuf, sizeof(wbuf));
	img_write_header(&c.w, &h);
	CU_ASSERT_EQUAL(ckpt_pipe_contents(&c, &p, &f), 0);
	CU_ASSERT_EQUAL_FATAL(img_write_end(&c.w), 0);
	CU_ASSERT_FATAL(lseek(c.img_fd, 0, SEEK_SET) == 0);
	CU_ASSERT_FATAL(img_reader_open(&r, c.img_fd) == 0);
	CU_ASSERT_FATAL(img_reader_next(&r, &rec) == 1);
	const struct img_pipe_data *pd = img_get_pipe_data(&r, &rec);
	CU_ASSERT(pd && pd->len == 11 && !pd->flags && !memcmp(pd + 1, "hello, pipe", 11));
	img_reader_close(&r);
	CU_ASSERT_EQUAL(nread(fds[1]), 11);
	ctx_free(&c);
	close(fds[1]);
}

/* Plain bytes, then a packet that did not merge into them: refused by name. */
static void test_pipe_mixed(void)
{
	static unsigned char b[PG];
	struct ckpt_ctx c;
	struct fd_probe p;
	char path[64];
	int fds[2];

	CU_ASSERT_FATAL(pipe(fds) == 0);
	CU_ASSERT_FATAL(write(fds[1], b, 100) == 100);
	CU_ASSERT_FATAL(fcntl(fds[1], F_SETFL, O_DIRECT) == 0);
	CU_ASSERT_FATAL(write(fds[1], b, PG) == PG);
	ctx_init(&c);
	probe(&p, fds[0], path, sizeof(path));
	CU_ASSERT(ckpt_pipe_check(&c, &p) < 0);
	CU_ASSERT(strstr(c.err, "fd 9: pipe:[") && strstr(c.err, "holds plain bytes followed by a "
							   "packet"));
	CU_ASSERT_EQUAL(nread(fds[0]), 100 + PG);
	ctx_free(&c);
	close(fds[0]);
	close(fds[1]);
}

static void test_check_pipe_data(void)
{
	static unsigned char data[IMG_PIPE_CHUNK + 1];
	const struct img_pipe_data good = { .file = 3, .len = 10 };
	const struct img_file owner = { .id = 3, .kind = IMG_FILE_PIPE, .data_len = 24 };
	const struct img_file_pipe od = { 0, 0, 65536, 0, 30 }, later = { 3, 0, 0, 0, 0 };
	struct img_file other = owner;
	struct img_pipe_data d;
	char err[160];

	d = good, d.file = 0;
	trw_expect_get(IMG_REC_PIPE_DATA, &d, sizeof(d), data, 10, "file 0,");
	d = good, d.flags = 2;
	trw_expect_get(IMG_REC_PIPE_DATA, &d, sizeof(d), data, 10, "flags 0x2");
	d = good, d.reserved = 1;
	trw_expect_get(IMG_REC_PIPE_DATA, &d, sizeof(d), data, 10, "10 bytes");
	d = good, d.len = 0;
	trw_expect_get(IMG_REC_PIPE_DATA, &d, sizeof(d), NULL, 0, "0 bytes");
	d = good, d.len = IMG_PIPE_CHUNK + 1;
	trw_expect_get(IMG_REC_PIPE_DATA, &d, sizeof(d), data, d.len, "65537 bytes");
	d = good, d.flags = IMG_PIPE_PACKET, d.len = PG + 1;
	trw_expect_get(IMG_REC_PIPE_DATA, &d, sizeof(d), data, d.len, "4097 bytes");
	trw_expect_get(IMG_REC_PIPE_DATA, &good, sizeof(good), data, 9, "(9 in the record)");
	trw_expect_get(IMG_REC_PIPE_DATA, &good, 12, NULL, 0, "too short");

	/* against the pipe's first FILE */
	CU_ASSERT_EQUAL(img_pipe_data_next(&owner, &od, &good, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(img_pipe_data_next(&owner, &od, &good, 20, err, sizeof(err)), 0);
	CU_ASSERT(img_pipe_data_next(&owner, &od, &good, 21, err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "holds 30 bytes, its records more") != NULL);
	CU_ASSERT(img_pipe_data_next(NULL, NULL, &good, 0, err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "do not follow the first FILE of its pipe") != NULL);
	CU_ASSERT(img_pipe_data_next(&owner, &later, &good, 0, err, sizeof(err)) < 0);
	other.kind = IMG_FILE_GHOST;
	CU_ASSERT(img_pipe_data_next(&other, &od, &good, 0, err, sizeof(err)) < 0);
	other = owner, other.id = 4;
	CU_ASSERT(img_pipe_data_next(&other, &od, &good, 0, err, sizeof(err)) < 0);
	CU_ASSERT_EQUAL(img_pipe_data_end(&owner, &od, 30, err, sizeof(err)), 0);
	CU_ASSERT(img_pipe_data_end(&owner, &od, 29, err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "holds 30 bytes, its records only 29") != NULL);
	CU_ASSERT_EQUAL(img_pipe_data_end(&owner, &later, 0, err, sizeof(err)), 0);
	other.kind = IMG_FILE_REG;
	CU_ASSERT_EQUAL(img_pipe_data_end(&other, NULL, 0, err, sizeof(err)), 0);
}

/* A FILE record of kind with path and kind data, refused with part (NULL: accepted). */
static void expect_pipe(uint32_t kind, uint32_t mode, uint32_t flags, const char *path,
			const struct img_file_pipe *d, size_t dlen, const char *part)
{
	unsigned char tail[512];
	struct img_file f = { .id = 4, .kind = kind, .mode = mode, .flags = flags,
			      .path_len = strlen(path), .data_len = dlen };

	memcpy(tail, d, dlen);
	memcpy(tail + dlen, path, f.path_len);
	if (part) {
		trw_expect_get(IMG_REC_FILE, &f, sizeof(f), tail, f.path_len + dlen, part);
	} else {
		char err[160] = "";

		if (fd_pipe_valid(&f, path, d, err, sizeof(err)) < 0)
			fprintf(stderr, "\n%s: refused: %s\n", path, err);
		CU_ASSERT_EQUAL(fd_pipe_valid(&f, path, d, err, sizeof(err)), 0);
	}
}

static void test_check_pipe_kinds(void)
{
	const struct img_file_pipe ok = { 0, 0, 65536, 0, 100 }, later = { 2, 0, 0, 0, 0 };
	struct img_file_pipe d;
	const uint32_t fifo = 010640;

	expect_pipe(IMG_FILE_PIPE, fifo, O_RDONLY | O_NONBLOCK, "pipe:[12]", &ok, sizeof(ok), NULL);
	expect_pipe(IMG_FILE_PIPE, fifo, O_WRONLY | O_DIRECT, "pipe:[12]", &later, sizeof(later), NULL);
	expect_pipe(IMG_FILE_FIFO, fifo, O_RDWR | IMG_O_LARGEFILE, "/tmp/ff", &ok, sizeof(ok), NULL);
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "pipe:[12]", &ok, 16, "16 bytes of kind data");
	d = ok, d.reserved = 1;
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "pipe:[12]", &d, sizeof(d), "24 bytes of kind data");
	d = ok, d.flags = 2;
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "pipe:[12]", &d, sizeof(d), "flags 0x2");
	expect_pipe(IMG_FILE_PIPE, 0100600, 0, "pipe:[12]", &ok, sizeof(ok), "not an end of a pipe");
	expect_pipe(IMG_FILE_PIPE, fifo, O_ACCMODE, "pipe:[12]", &ok, sizeof(ok), "flags 03");
	expect_pipe(IMG_FILE_PIPE, fifo, O_CREAT, "pipe:[12]", &ok, sizeof(ok), "flags 0100");
	d = ok, d.capacity = 65535;
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "pipe:[12]", &d, sizeof(d), "capacity 65535");
	d = ok, d.capacity = 2048;
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "pipe:[12]", &d, sizeof(d), "capacity 2048");
	d = ok, d.bytes = 65537;
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "pipe:[12]", &d, sizeof(d), "65537 bytes in flight");
	d = later, d.capacity = 4096;
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "pipe:[12]", &d, sizeof(d), "same as file 2, capacity 4096");
	d = later, d.bytes = 1;
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "pipe:[12]", &d, sizeof(d), "1 bytes in flight");
	d = ok, d.flags = IMG_PIPE_NOHUP;
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "pipe:[12]", &d, sizeof(d), "only a FIFO's read end");
	expect_pipe(IMG_FILE_FIFO, fifo, O_RDWR, "/tmp/ff", &d, sizeof(d), "only a FIFO's read end");
	expect_pipe(IMG_FILE_FIFO, fifo, O_RDONLY, "/tmp/ff", &d, sizeof(d), NULL);
	expect_pipe(IMG_FILE_PIPE, fifo, 0, "/tmp/ff", &ok, sizeof(ok), "not pipe:[...]");
	expect_pipe(IMG_FILE_FIFO, fifo, 0, "pipe:[12]", &ok, sizeof(ok), "not the FIFO's absolute path");
	expect_pipe(IMG_FILE_FIFO, fifo, 0, "/tmp/ff (deleted)", &ok, sizeof(ok),
		    "not the FIFO's absolute path");
}

UNIT_SUITE(img_pipes,
	{ "PIPE_DATA: packets and plain bytes read without taking them, written, read back",
	  test_pipe_roundtrip },
	{ "PIPE_DATA: a write end's bytes, its read end closed", test_pipe_write_end },
	{ "pipes: plain bytes followed by a packet refused", test_pipe_mixed },
	{ "PIPE_DATA: the reader's refusals", test_check_pipe_data },
	{ "FILE kinds: pipe and FIFO kind data", test_check_pipe_kinds },
);
