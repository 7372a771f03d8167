/*
 * test_pool.c - page data written by the compression pool (ckpt_pool.c)
 * and the crc plumbing under it, in process:
 *   - img_crc32c_combine() equals the crc of the concatenation;
 *   - img_write_record_crc() writes the very bytes img_write_record() does;
 *   - a mapping of random, text, zero, untouched and repeated pages, part
 *     of it unreadable (PROT_NONE: copied through /proc/self/mem), written
 *     with 1, 2 and 5 threads: the images are byte-identical, decode to
 *     the memory, random runs are stored raw (the incompressible fast
 *     path), text runs and a run of one random page repeated compressed;
 *     no worker thread is left behind.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "tests/unit/unit.h"

#define PG IMG_PAGE_SIZE

static uint64_t tp_x = 88172645463325252ULL;

static void tp_random(unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		tp_x ^= tp_x << 13;
		tp_x ^= tp_x >> 7;
		tp_x ^= tp_x << 17;
		memcpy(p + i, &tp_x, 8);
	}
}

static void tp_text(unsigned char *p, size_t n)
{
	static const char *w[] = { "alpha ", "beta ", "gamma ", "delta\n" };

	for (size_t i = 0; i < n; i++) {
		const char *s = w[(i / 7) % 4];

		p[i] = s[i % strlen(s)];
	}
}

static void test_crc_combine(void)
{
	static unsigned char buf[70000];
	size_t cuts[] = { 0, 1, 7, 8, 4096, 65536, 69999, 70000 };

	tp_random(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		size_t a = cuts[i], b = sizeof(buf) - a;
		uint32_t ca = img_crc32c(0, buf, a), cb = img_crc32c(0, buf + a, b);

		CU_ASSERT_EQUAL(img_crc32c_combine(ca, cb, b), img_crc32c(0, buf, sizeof(buf)));
	}
	CU_ASSERT_EQUAL(img_crc32c_combine(0x12345678, 0, 0), 0x12345678);
}

/* The bytes of an image holding one record, written either way. */
static size_t tp_image(int precomputed, unsigned char *out, size_t cap)
{
	static unsigned char wbuf[1 << 12], data[100000];
	struct img_header h = { .pid = 1, .ctime_ns = 42 };
	struct img_pages p = { .addr = 0x10000, .npages = 3, .codec = IMG_CODEC_RAW };
	struct img_writer w;
	int fd = memfd_create("tp", 0);
	ssize_t n;

	tp_x = 1;
	tp_random(data, sizeof(data));
	img_writer_init(&w, fd, wbuf, sizeof(wbuf));
	img_write_header(&w, &h);
	if (precomputed) {
		uint32_t bc = img_crc32c(0, data, sizeof(data));

		img_write_record_crc(&w, IMG_REC_PAGES, &p, sizeof(p), data, sizeof(data), bc,
				     img_record_crc(IMG_REC_PAGES, &p, sizeof(p), bc, sizeof(data)));
	} else {
		img_write_record(&w, IMG_REC_PAGES, &p, sizeof(p), data, sizeof(data));
	}
	CU_ASSERT_EQUAL(img_write_end(&w), 0);
	n = pread(fd, out, cap, 0);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

static void test_write_record_crc(void)
{
	static unsigned char a[200000], b[200000];
	size_t na = tp_image(0, a, sizeof(a)), nb = tp_image(1, b, sizeof(b));

	CU_ASSERT(na > 100000);
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT(memcmp(a, b, na) == 0);
}

static int tp_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

#define TP_PAGES 700
#define TP_RUN ((uintptr_t)64 * PG)	/* a run's alignment (ckpt_mem.c) */

/* The mapping's image (header with fixed fields) written with `threads`. */
static size_t tp_pool_image(unsigned char *m, int threads, unsigned char *out, size_t cap)
{
	static unsigned char wbuf[1 << 16];
	struct img_header h = { .pid = 1, .ctime_ns = 42 };
	struct ckpt_vma v = { .start = (uintptr_t)m, .end = (uintptr_t)m + TP_PAGES * PG,
			      .prot = PROT_READ | PROT_WRITE, .flags = IMG_VMA_ANON | IMG_VMA_PAGES };
	struct ckpt_vma hidden = v;
	struct ckpt_ctx c;
	int fd = memfd_create("tp", 0);
	ssize_t n;

	/* The last 100 pages are PROT_NONE: read through /proc/self/mem. */
	v.end -= 100 * PG;
	hidden.start = v.end;
	hidden.prot = PROT_NONE;
	memset(&c, 0, sizeof(c));
	c.img_fd = fd;
	c.ctl_fd = -1;
	c.threads = threads;
	CU_ASSERT_FATAL(ckpt_scratch_map(&c) == 0);
	CU_ASSERT_FATAL(ckpt_open_proc(&c) == 0);
	img_writer_init(&c.w, fd, wbuf, sizeof(wbuf));
	img_write_header(&c.w, &h);
	CU_ASSERT_FATAL(ckpt_pool_start(&c) == 0);
	CU_ASSERT_EQUAL(ckpt_mem_write_vma(&c, &v), 0);
	CU_ASSERT_EQUAL(ckpt_mem_write_vma(&c, &hidden), 0);
	CU_ASSERT_EQUAL(ckpt_pool_finish(&c), 0);
	CU_ASSERT_PTR_NULL(c.pool);
	CU_ASSERT_EQUAL(img_write_end(&c.w), 0);
	close(c.pagemap_fd);
	close(c.mem_fd);
	munmap(c.scratch, c.scratch_len);
	n = pread(fd, out, cap, 0);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

static void test_pool_threads_identical(void)
{
	/* 256 KiB aligned: runs are cut at every 64 pages of address too */
	unsigned char *map = mmap(NULL, TP_PAGES * PG + TP_RUN, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *m = (unsigned char *)(((uintptr_t)map + TP_RUN - 1) & ~(uintptr_t)(TP_RUN - 1));
	size_t cap = 2 * TP_PAGES * PG, n1, n;
	unsigned char *img1 = malloc(cap), *img = malloc(cap), *copy = calloc(TP_PAGES, PG);
	int tasks = tp_tasks(), raw = 0, snappy = 0, zero = 0;
	struct img_reader r;
	struct img_rec rec;

	CU_ASSERT_FATAL(map != MAP_FAILED && img1 && img && copy);
	/* 0-199 random, 200-399 text, 400-409 zero, 410-411 untouched,
	 * 412-475 one random page repeated (a run of its own: compresses
	 * only across pages), 476-599 random and text by page, 600-699
	 * (hidden) text */
	tp_x = 7;
	tp_random(m, 200 * PG);
	tp_text(m + 200 * PG, 200 * PG);
	m[400 * PG] = 0;
	tp_random(m + 412 * PG, PG);
	for (int i = 413; i < 476; i++)
		memcpy(m + (size_t)i * PG, m + 412 * PG, PG);
	for (int i = 476; i < 600; i++)
		(i % 3 ? tp_text : tp_random)(m + (size_t)i * PG, PG);
	tp_text(m + 600 * PG, 100 * PG);
	CU_ASSERT_FATAL(mprotect(m + 600 * PG, 100 * PG, PROT_NONE) == 0);

	n1 = tp_pool_image(m, 1, img1, cap);
	CU_ASSERT(n1 > 0);
	CU_ASSERT_EQUAL(tp_tasks(), tasks);
	for (int t = 2; t <= 5; t += 3) {
		n = tp_pool_image(m, t, img, cap);
		CU_ASSERT_EQUAL(n, n1);
		CU_ASSERT(n == n1 && memcmp(img, img1, n) == 0);
		CU_ASSERT_EQUAL(tp_tasks(), tasks);	/* workers gone */
	}

	/* It decodes to the memory; the codecs are the expected ones. */
	int fd = memfd_create("tp", 0);
	CU_ASSERT_FATAL(write(fd, img1, n1) == (ssize_t)n1);
	lseek(fd, 0, SEEK_SET);
	CU_ASSERT_FATAL(img_reader_open(&r, fd) == 0);
	while (img_reader_next(&r, &rec) > 0) {
		const struct img_pages *p = img_get_pages(&r, &rec);
		uint64_t first;
		char err[128];

		CU_ASSERT_FATAL(p != NULL);
		first = (p->addr - (uintptr_t)m) / PG;
		CU_ASSERT(img_pages_decode(p, p + 1, rec.len - sizeof(*p), copy + first * PG,
					   err, sizeof(err)) == 0);
		if (first + p->npages <= 200)
			CU_ASSERT(p->codec == IMG_CODEC_RAW);		/* random */
		if (first >= 200 && first + p->npages <= 400)
			CU_ASSERT(p->codec == IMG_CODEC_SNAPPY);	/* text */
		if (first == 412) {	/* to page 448, a multiple of 64 */
			CU_ASSERT(p->npages == 36 && p->codec == IMG_CODEC_SNAPPY);
			CU_ASSERT(rec.len < 36 * PG / 4);	/* the fast path did not give up */
		}
		CU_ASSERT(first / 64 == (first + p->npages - 1) / 64);	/* no record straddles */
		raw += p->codec == IMG_CODEC_RAW;
		snappy += p->codec == IMG_CODEC_SNAPPY;
		zero += p->codec == IMG_CODEC_ZERO;
	}
	img_reader_close(&r);
	close(fd);
	/* runs: 3 random ones below page 192; the rest holds text */
	CU_ASSERT(raw == 3 && snappy >= 6 && zero == 0);
	CU_ASSERT_FATAL(mprotect(m + 600 * PG, 100 * PG, PROT_READ) == 0);
	CU_ASSERT(memcmp(copy, m, TP_PAGES * PG) == 0);
	munmap(map, TP_PAGES * PG + TP_RUN);
	free(img1);
	free(img);
	free(copy);
}

UNIT_SUITE(ckpt_pool,
	   { "crc32c combine equals the crc of the concatenation", test_crc_combine },
	   { "a record with a precomputed crc is the same bytes", test_write_record_crc },
	   { "1, 2 and 5 threads write the same image; fast path; workers gone",
	     test_pool_threads_identical });
