/*
 * test_img_mpages.c - MPAGES records (mappable images): written with the
 * writer the engine uses, read back from a file and from a pipe, and
 * every way one can be wrong refused with its message.  Plus the
 * engine's refusal of a mappable image to a pipe, and which mappings go
 * into MPAGES records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/img.h"
#include "tests/unit/unit.h"

#define TMP_PG		IMG_PAGE_SIZE
#define TMP_ADDR	0x10000000ull

static const unsigned char tmp_zeros[TMP_PG];

struct tmp_run {
	uint64_t addr, npages;
	int64_t off_delta;	/* added to data_off (0: right) */
	uint32_t reserved;
};

/*
 * A small image: header (flags), one VMA covering the runs, the runs
 * (page i of a run filled with byte 'A' + i), END.  Into fd; returns the
 * data offset of the last run.
 */
static uint64_t tmp_write(int fd, uint32_t flags, const struct tmp_run *runs, int n)
{
	static unsigned char buf[1 << 16], data[4 * TMP_PG];
	struct img_writer w;
	struct img_header h = { .flags = flags, .pid = 1 };
	struct img_vma v = { .start = TMP_ADDR, .end = TMP_ADDR + 64 * TMP_PG,
			     .prot = 3, .flags = IMG_VMA_ANON | IMG_VMA_PAGES };
	uint64_t last = 0;

	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_VMA, &v, sizeof(v), NULL, 0);
	for (int i = 0; i < n; i++) {
		uint64_t np = runs[i].npages <= 4 ? runs[i].npages : 1;
		uint64_t end = w.nbytes + sizeof(struct img_rec_hdr) + sizeof(struct img_mpages);
		uint64_t off = (end + TMP_PG - 1) & ~(uint64_t)(TMP_PG - 1);
		struct img_mpages m = { .addr = runs[i].addr, .npages = runs[i].npages,
					.data_off = off + runs[i].off_delta,
					.reserved = runs[i].reserved };

		for (uint64_t p = 0; p < np; p++)
			memset(data + p * TMP_PG, 'A' + (int)p, TMP_PG);
		m.data_crc = img_crc32c(0, data, np * TMP_PG);
		img_write_record(&w, IMG_REC_MPAGES, &m, sizeof(m), tmp_zeros, off - end);
		img_write_raw(&w, data, np * TMP_PG);
		last = off;
	}
	CU_ASSERT_EQUAL(img_write_end(&w), 0);
	return last;
}

static int tmp_memfd(void)
{
	int fd = memfd_create("mpages", MFD_CLOEXEC);

	CU_ASSERT_FATAL(fd >= 0);
	return fd;
}

/* Reads the whole image from fd (from its start if a file); counts MPAGES. */
static int tmp_read(int fd, int *nmpages, int verify, char *err, size_t errlen)
{
	struct img_reader r;
	struct img_rec rec;
	int k, rc = -1;

	*nmpages = 0;
	lseek(fd, 0, SEEK_SET);
	if (img_reader_open(&r, fd) < 0)
		goto out;
	while ((k = img_reader_next(&r, &rec)) == 1) {
		if (rec.type != IMG_REC_MPAGES)
			continue;
		const struct img_mpages *p = img_get_mpages(&r, &rec);

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL(p->data_off % TMP_PG, 0);
		(*nmpages)++;
		if (verify && img_mpages_verify(fd, r.base, p, err, errlen) < 0) {
			img_reader_close(&r);
			return -2;
		}
	}
	rc = k == 0 ? 0 : -1;
out:
	snprintf(err, errlen, "%s", r.err);
	img_reader_close(&r);
	return rc;
}

static const struct tmp_run tmp_good[] = {
	{ TMP_ADDR, 3, 0, 0 },
	{ TMP_ADDR + 8 * TMP_PG, 1, 0, 0 },
	{ TMP_ADDR + 20 * TMP_PG, 4, 0, 0 },
};

static void test_mpages_file(void)
{
	int fd = tmp_memfd(), n;
	char err[256];

	tmp_write(fd, IMG_F_MAPPABLE, tmp_good, 3);
	CU_ASSERT_EQUAL(tmp_read(fd, &n, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(n, 3);
	close(fd);
}

static void test_mpages_pipe(void)
{
	int p[2], n;
	char err[256];

	CU_ASSERT_FATAL(pipe(p) == 0);
	tmp_write(p[1], IMG_F_MAPPABLE, tmp_good, 3);	/* < 64 KiB: fits the pipe */
	close(p[1]);
	CU_ASSERT_EQUAL(tmp_read(p[0], &n, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(n, 3);
	close(p[0]);
}

static void test_mpages_data_not_in_image_crc(void)
{
	int fd = tmp_memfd(), n;
	uint64_t data = tmp_write(fd, IMG_F_MAPPABLE, tmp_good, 3);
	char err[256];

	CU_ASSERT_FATAL(pwrite(fd, "Z", 1, (off_t)data + 5000) == 1);
	/* The structure still reads (a restart maps the data unread)... */
	CU_ASSERT_EQUAL(tmp_read(fd, &n, 0, err, sizeof(err)), 0);
	/* ...and the check finds the flipped byte. */
	CU_ASSERT_EQUAL(tmp_read(fd, &n, 1, err, sizeof(err)), -2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "data checksum mismatch"));
	close(fd);
}

/* Every byte outside the page data, flipped, is refused. */
static void test_mpages_flip_metadata(void)
{
	int fd = tmp_memfd(), n;
	char err[256];
	off_t len;
	unsigned char *img;

	tmp_write(fd, IMG_F_MAPPABLE, tmp_good, 3);
	len = lseek(fd, 0, SEEK_END);
	img = malloc(len);
	CU_ASSERT_FATAL(pread(fd, img, len, 0) == len);
	/* the data ranges, from a clean read */
	struct { uint64_t a, b; } data[3];
	int nd = 0;
	struct img_reader r;
	struct img_rec rec;

	lseek(fd, 0, SEEK_SET);
	CU_ASSERT_FATAL(img_reader_open(&r, fd) == 0);
	while (img_reader_next(&r, &rec) == 1)
		if (rec.type == IMG_REC_MPAGES) {
			const struct img_mpages *p = rec.data;

			data[nd].a = p->data_off;
			data[nd++].b = p->data_off + p->npages * TMP_PG;
		}
	img_reader_close(&r);
	CU_ASSERT_EQUAL_FATAL(nd, 3);
	for (off_t i = 0; i < len; i++) {
		int in_data = 0;

		for (int k = 0; k < nd; k++)
			in_data |= (uint64_t)i >= data[k].a && (uint64_t)i < data[k].b;
		if (in_data)
			continue;
		img[i] ^= 0x01;
		CU_ASSERT_FATAL(pwrite(fd, img, len, 0) == len);
		if (tmp_read(fd, &n, 0, err, sizeof(err)) != -1)
			CU_FAIL("a flipped metadata byte was accepted");
		img[i] ^= 0x01;
	}
	free(img);
	close(fd);
}

static void tmp_expect(uint32_t flags, const struct tmp_run *runs, int n, const char *msg)
{
	int fd = tmp_memfd(), k;
	char err[256];

	tmp_write(fd, flags, runs, n);
	CU_ASSERT_EQUAL(tmp_read(fd, &k, 0, err, sizeof(err)), -1);
	if (!strstr(err, msg)) {
		fprintf(stderr, "\nexpected \"%s\", got \"%s\"\n", msg, err);
		CU_FAIL("wrong message");
	}
	close(fd);
}

static void test_mpages_refusals(void)
{
	struct tmp_run r = { TMP_ADDR, 1, 0, 0 };

	tmp_expect(0, &r, 1, "in an image not marked mappable");
	r.npages = 0;
	tmp_expect(IMG_F_MAPPABLE, &r, 1, "0 pages (must be 1..16384)");
	r.npages = IMG_MPAGES_MAX + 1;
	tmp_expect(IMG_F_MAPPABLE, &r, 1, "16385 pages");
	r.npages = 1;
	r.addr = TMP_ADDR + 1;
	tmp_expect(IMG_F_MAPPABLE, &r, 1, "bad address");
	r.addr = 0x800000000000ull - TMP_PG;
	r.npages = 2;
	tmp_expect(IMG_F_MAPPABLE, &r, 1, "bad address");
	r.addr = TMP_ADDR;
	r.npages = 1;
	r.off_delta = TMP_PG;
	tmp_expect(IMG_F_MAPPABLE, &r, 1, "does not follow");
	r.off_delta = 0;
	r.reserved = 1;
	tmp_expect(IMG_F_MAPPABLE, &r, 1, "reserved field is not zero");
}

static void test_mpages_truncated(void)
{
	int fd = tmp_memfd(), n, p[2];
	uint64_t data = tmp_write(fd, IMG_F_MAPPABLE, tmp_good, 3);
	char err[256], *img = malloc(data + 100);

	CU_ASSERT_FATAL(pread(fd, img, data + 100, 0) == (ssize_t)(data + 100));
	CU_ASSERT_FATAL(ftruncate(fd, data + 100) == 0);
	CU_ASSERT_EQUAL(tmp_read(fd, &n, 0, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated"));
	CU_ASSERT_FATAL(pipe(p) == 0);
	CU_ASSERT_FATAL(write(p[1], img, data + 100) == (ssize_t)(data + 100));
	close(p[1]);
	CU_ASSERT_EQUAL(tmp_read(p[0], &n, 0, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "image ends inside the pages"));
	close(p[0]);
	free(img);
	close(fd);
}

/* The engine refuses a mappable image to a pipe before writing a byte. */
static void test_mpages_engine_pipe(void)
{
	static struct ckpt_ctx c;
	int p[2];

	CU_ASSERT_FATAL(pipe(p) == 0);
	memset(&c, 0, sizeof(c));
	c.img_fd = p[1];
	c.mappable = 1;
	CU_ASSERT_EQUAL(ckpt_mpages_check(&c), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "cannot be written to a pipe"));
	close(p[0]);
	close(p[1]);
	memset(&c, 0, sizeof(c));
	c.img_fd = tmp_memfd();
	c.mappable = 1;
	CU_ASSERT_EQUAL(ckpt_mpages_check(&c), 0);
	close(c.img_fd);
}

static void test_mpages_eligible(void)
{
	static struct ckpt_ctx c;
	struct ckpt_vma v = { .start = TMP_ADDR, .end = TMP_ADDR + TMP_PG,
			      .prot = PROT_READ | PROT_WRITE,
			      .flags = IMG_VMA_ANON | IMG_VMA_PAGES };
	int here;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_FALSE(ckpt_mpages_eligible(&c, &v));	/* not a mappable image */
	c.mappable = 1;
	CU_ASSERT_TRUE(ckpt_mpages_eligible(&c, &v));
	v.flags |= IMG_VMA_HEAP;
	CU_ASSERT_TRUE(ckpt_mpages_eligible(&c, &v));
	v.flags = IMG_VMA_ANON | IMG_VMA_PAGES | IMG_VMA_SHARED;
	CU_ASSERT_FALSE(ckpt_mpages_eligible(&c, &v));
	v.flags = IMG_VMA_ANON | IMG_VMA_PAGES | IMG_VMA_STACK | IMG_VMA_GROWSDOWN;
	CU_ASSERT_FALSE(ckpt_mpages_eligible(&c, &v));
	v.flags = IMG_VMA_FILE | IMG_VMA_PAGES;
	CU_ASSERT_FALSE(ckpt_mpages_eligible(&c, &v));
	v.flags = IMG_VMA_ANON | IMG_VMA_PAGES;
	v.prot = PROT_READ | PROT_EXEC;
	CU_ASSERT_FALSE(ckpt_mpages_eligible(&c, &v));
	v.prot = PROT_NONE;
	CU_ASSERT_FALSE(ckpt_mpages_eligible(&c, &v));
	v.prot = PROT_READ;
	CU_ASSERT_TRUE(ckpt_mpages_eligible(&c, &v));
	/* the stack this code runs on changes while it is written */
	v.start = ((uintptr_t)&here & ~(uintptr_t)(TMP_PG - 1)) - 16 * TMP_PG;
	v.end = v.start + 64 * TMP_PG;
	CU_ASSERT_FALSE(ckpt_mpages_eligible(&c, &v));
}

UNIT_SUITE(img_mpages,
	   { "MPAGES read from a file, data verified", test_mpages_file },
	   { "MPAGES read from a pipe (data dropped)", test_mpages_pipe },
	   { "page data outside the image crc, in data_crc", test_mpages_data_not_in_image_crc },
	   { "every flipped metadata byte refused", test_mpages_flip_metadata },
	   { "bad MPAGES records refused with their message", test_mpages_refusals },
	   { "truncated inside the page data", test_mpages_truncated },
	   { "engine: mappable image to a pipe refused", test_mpages_engine_pipe },
	   { "engine: which mappings are mappable", test_mpages_eligible });
