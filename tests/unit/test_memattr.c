/*
 * test_memattr.c - memory attributes in the image (VMA attrs, guard
 * regions, the MLOCK record): the reader takes what a checkpoint writes
 * and refuses every inconsistency with a message; and libckpt's private
 * libc (libckpt/ckpt_libc.c), which this executable links in place of
 * libc's for the same names, against byte-by-byte references.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/img.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

#define PG IMG_PAGE_SIZE

/* An anonymous private VMA record with attrs and guards; path "". */
static struct img_vma vma(uint32_t attrs, uint32_t nguards)
{
	return (struct img_vma){ .start = 0x10000, .end = 0x20000, .prot = 3,
				 .flags = IMG_VMA_ANON | IMG_VMA_PAGES, .attrs = attrs,
				 .nguards = nguards };
}

/* Writes one VMA record (struct, tail) and reads it back: the checker's result. */
static int vma_ok(const struct img_vma *v, const void *tail, size_t tlen, struct img_range *g0)
{
	static unsigned char buf[4096];
	struct img_writer w;
	struct img_header h = { .pid = 1 };
	struct img_reader r;
	struct img_rec rec;
	const struct img_vma *got;
	int fd = trw_memfd();

	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_VMA, v, sizeof(*v), tail, tlen);
	CU_ASSERT_EQUAL_FATAL(img_write_end(&w), 0);
	CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_open(&r, fd), 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_next(&r, &rec), 1);
	got = img_get_vma(&r, &rec);
	if (got && g0 && got->nguards)
		*g0 = img_vma_guard(got, got->nguards - 1);
	img_reader_close(&r);
	close(fd);
	return got != NULL;
}

static void test_vma_attrs(void)
{
	const uint32_t V = IMG_VMA_ATTR_VMFLAGS;
	struct img_vma v;

	v = vma(V | IMG_VMA_ATTR_DONTFORK | IMG_VMA_ATTR_LOCKED | IMG_VMA_ATTR_LOCKONFAULT |
		IMG_VMA_ATTR_WIPEONFORK | IMG_VMA_ATTR_NORESERVE | IMG_VMA_ATTR_SEALED, 0);
	CU_ASSERT(vma_ok(&v, NULL, 0, NULL));
	v = vma(0, 0);			/* not read: nothing known */
	CU_ASSERT(vma_ok(&v, NULL, 0, NULL));

	v = vma(0x8000, 0);
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "unknown attribute bits");
	v = vma(IMG_VMA_ATTR_DONTDUMP, 0);
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "attributes without VmFlags");
	v = vma(V | IMG_VMA_ATTR_HUGEPAGE | IMG_VMA_ATTR_NOHUGEPAGE, 0);
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "both HUGEPAGE and NOHUGEPAGE");
	v = vma(V | IMG_VMA_ATTR_SEQUENTIAL | IMG_VMA_ATTR_RANDOM, 0);
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "both SEQUENTIAL and RANDOM");
	v = vma(V | IMG_VMA_ATTR_LOCKONFAULT, 0);
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "LOCKONFAULT without LOCKED");
	v = vma(V | IMG_VMA_ATTR_WIPEONFORK, 0);
	v.flags = IMG_VMA_FILE | IMG_VMA_PAGES;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "WIPEONFORK on shared or file");
	v = vma(IMG_VMA_ATTR_MAYWRITE, 0);
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "MAYWRITE on a mapping that is not");
	v = vma(0, 0);
	v.flags = IMG_VMA_SHARED | IMG_VMA_FILE;	/* writable shared file mapping */
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "without MAYWRITE");
	v.attrs = IMG_VMA_ATTR_MAYWRITE;
	CU_ASSERT(vma_ok(&v, NULL, 0, NULL));
	v = vma(V | IMG_VMA_ATTR_LOCKED, 0);
	v.flags = IMG_VMA_VDSO | IMG_VMA_PAGES;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "attributes on a kernel mapping");
}

static void test_vma_guards(void)
{
	struct img_range g[3] = { { 0x11000, 0x13000 }, { 0x15000, 0x16000 }, { 0x1f000, 0x20000 } };
	struct img_range last = { 0, 0 };
	unsigned char tail[5 + sizeof(g)];
	struct img_vma v = vma(0, 3);

	/* after a 5-byte path: the ranges are not aligned in the record */
	memcpy(tail, "/a/bc", 5);
	memcpy(tail + 5, g, sizeof(g));
	v.path_len = 5;
	v.flags = IMG_VMA_FILE | IMG_VMA_PAGES;
	CU_ASSERT(vma_ok(&v, tail, sizeof(tail), &last));
	CU_ASSERT(last.start == 0x1f000 && last.end == 0x20000);

	v = vma(0, 3);
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), g, sizeof(g) - 1, "fields say");
	g[1].start = 0x12000;		/* overlaps the first */
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), g, sizeof(g), "guard region 1");
	g[1].start = 0x15800;		/* not aligned */
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), g, sizeof(g), "guard region 1");
	g[1].start = 0x15000;
	g[2].end = 0x21000;		/* past the VMA */
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), g, sizeof(g), "guard region 2");
	g[2] = (struct img_range){ 0x1f000, 0x1f000 };	/* empty */
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), g, sizeof(g), "guard region 2");
	v.nguards = IMG_VMA_GUARDS_MAX + 1;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "guard regions (limit");
	v = vma(0, 1);
	v.flags = IMG_VMA_VVAR;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), g, sizeof(g[0]), "guard regions in a kernel mapping");
}

static void test_mlock_record(void)
{
	struct img_mlock m = { IMG_MCL_ONFAULT, 0 };

	trw_expect_get(IMG_REC_MLOCK, &m, sizeof(m), NULL, 0, "mlockall flags 0x2");
	m = (struct img_mlock){ IMG_MCL_FUTURE | 4, 0 };
	trw_expect_get(IMG_REC_MLOCK, &m, sizeof(m), NULL, 0, "mlockall flags 0x5");
	m = (struct img_mlock){ IMG_MCL_FUTURE, 7 };
	trw_expect_get(IMG_REC_MLOCK, &m, sizeof(m), NULL, 0, "reserved 7");
	m = (struct img_mlock){ IMG_MCL_FUTURE, 0 };
	trw_expect_get(IMG_REC_MLOCK, &m, sizeof(m), &m, 1, "MLOCK has 8");
}

/* ---- the private libc (libckpt/ckpt_libc.c) ---- */

static unsigned char ref_a[600], ref_b[600], got_a[600];

static void ref_copy(volatile unsigned char *d, const volatile unsigned char *s, size_t n, int back)
{
	if (back)
		for (size_t i = n; i-- > 0; )
			d[i] = s[i];
	else
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
}

static void test_private_mem(void)
{
	unit_fill_random(ref_a, sizeof(ref_a));
	for (size_t n = 0; n <= 300; n++) {
		for (size_t off = 0; off < 9; off++) {
			/* memcpy */
			memset(got_a, 0xee, sizeof(got_a));
			memcpy(ref_b, got_a, sizeof(ref_b));
			memcpy(got_a + off, ref_a + 3, n);
			ref_copy(ref_b + off, ref_a + 3, n, 0);
			CU_ASSERT_FATAL(memcmp(got_a, ref_b, sizeof(ref_b)) == 0);
			/* memmove, both directions, overlapping */
			memcpy(got_a, ref_a, sizeof(ref_a));
			memcpy(ref_b, ref_a, sizeof(ref_a));
			memmove(got_a + 100 + off, got_a + 100, n);
			ref_copy(ref_b + 100 + off, ref_b + 100, n, 1);
			CU_ASSERT_FATAL(memcmp(got_a, ref_b, sizeof(ref_b)) == 0);
			memmove(got_a + 100, got_a + 100 + off, n);
			ref_copy(ref_b + 100, ref_b + 100 + off, n, 0);
			CU_ASSERT_FATAL(memcmp(got_a, ref_b, sizeof(ref_b)) == 0);
			/* memset */
			memset(got_a + off, (int)(n + 0x100), n);
			for (size_t i = 0; i < n; i++)
				ref_b[off + i] = (unsigned char)n;
			CU_ASSERT_FATAL(memcmp(got_a, ref_b, sizeof(ref_b)) == 0);
		}
	}
	CU_ASSERT(memcmp("abc", "abd", 3) < 0 && memcmp("abd", "abc", 3) > 0);
	CU_ASSERT(memcmp("\x80", "\x01", 1) > 0);	/* unsigned */
	const char *hello = "hello";

	CU_ASSERT(memchr(hello, 'l', 5) == hello + 2 && memchr(hello, 'z', 5) == NULL);
}

static void test_private_str(void)
{
	const char *s = "VmFlags: rd wr mr";

	CU_ASSERT_EQUAL(strlen(""), 0);
	CU_ASSERT_EQUAL(strlen(s), 17);
	CU_ASSERT(strchr(s, 'w') == s + 12);
	CU_ASSERT(strchr(s, 0) == s + 17);
	CU_ASSERT(strchr(s, 'z') == NULL);
	CU_ASSERT(strcmp("a", "b") < 0 && strcmp("b", "a") > 0 && strcmp("ab", "ab") == 0);
	CU_ASSERT(strcmp("a", "ab") < 0 && strcmp("\xff", "a") > 0);
	CU_ASSERT(strncmp("abcx", "abcy", 3) == 0 && strncmp("abcx", "abcy", 4) < 0);
	CU_ASSERT(strstr(s, "mr") == s + 15 && strstr(s, "") == s && strstr(s, "rx") == NULL);
}

static void test_private_sigset(void)
{
	sigset_t set;

	CU_ASSERT(sigfillset(&set) == 0);
	/* glibc's rule: its internal signals 32 and 33 stay out */
	CU_ASSERT(sigismember(&set, 1) == 1 && sigismember(&set, 64) == 1);
	CU_ASSERT(sigismember(&set, 32) == 0 && sigismember(&set, 33) == 0);
	CU_ASSERT(sigemptyset(&set) == 0 && sigismember(&set, 10) == 0);
	CU_ASSERT(sigaddset(&set, 10) == 0 && sigismember(&set, 10) == 1);
	CU_ASSERT(sigdelset(&set, 10) == 0 && sigismember(&set, 10) == 0);
	errno = 0;
	CU_ASSERT(sigaddset(&set, 32) == -1 && errno == EINVAL);
	CU_ASSERT(sigaddset(&set, 0) == -1 && sigaddset(&set, 65) == -1);
}

static void test_private_syscalls(void)
{
	char buf[8];
	int fd = trw_memfd();

	CU_ASSERT_EQUAL(write(fd, "abcdef", 6), 6);
	CU_ASSERT_EQUAL(pread(fd, buf, 3, 2), 3);
	CU_ASSERT(memcmp(buf, "cde", 3) == 0);
	CU_ASSERT_EQUAL(lseek(fd, 1, SEEK_SET), 1);
	CU_ASSERT_EQUAL(read(fd, buf, 2), 2);
	CU_ASSERT(memcmp(buf, "bc", 2) == 0);
	close(fd);
	errno = 0;
	CU_ASSERT_EQUAL(read(-1, buf, 1), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
	CU_ASSERT(readlink("/proc/self/exe", buf, sizeof(buf)) > 0);
}

/* smaps' Rss and Swap of the mapping at want (ckpt_smaps_sizes inside ckpt_smaps_each). */
struct sizes_at {
	uint64_t want, rss, swap;
	int seen;
};

static int sizes_one(uint64_t start, uint64_t end, const char *flags, void *arg)
{
	struct sizes_at *s = arg;

	if (start == s->want) {
		ckpt_smaps_sizes(&s->rss, &s->swap);
		s->seen++;
	}
	return 0;
}

static void test_smaps_sizes(void)
{
	static unsigned char bounce[IMG_PAGES_MAX * PG];
	static struct ckpt_ctx c;
	const size_t len = 64u << 20;
	char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct sizes_at s = { (uintptr_t)a, 1, 1, 0 };

	CU_ASSERT_FATAL(a != MAP_FAILED);
	madvise(a, len, MADV_NOHUGEPAGE);	/* a write faults one page, not 2 MiB */
	c.bounce = bounce;
	/* untouched: the walk without PAGEMAP_SCAN skips it (CKPT_SM_EMPTY) */
	CU_ASSERT_EQUAL(ckpt_smaps_each(&c, sizes_one, &s), 0);
	CU_ASSERT(s.seen == 1 && s.rss == 0 && s.swap == 0);
	a[0] = a[len / 2] = a[len - 1] = 1;
	s.seen = 0;
	CU_ASSERT_EQUAL(ckpt_smaps_each(&c, sizes_one, &s), 0);
	CU_ASSERT(s.seen == 1 && s.rss == 12);
	munmap(a, len);
}

UNIT_SUITE(memattr,
	   { "smaps: Rss and Swap of a mapping, 0 until written", test_smaps_sizes },
	   { "VMA attrs: read back, each inconsistency refused", test_vma_attrs },
	   { "VMA guard regions: unaligned tail read back, bad ranges refused", test_vma_guards },
	   { "MLOCK: flags and reserved checked", test_mlock_record },
	   { "private libc: memcpy, memmove, memset at every size and offset", test_private_mem },
	   { "private libc: string functions", test_private_str },
	   { "private libc: signal sets keep glibc's rules", test_private_sigset },
	   { "private libc: system calls set errno", test_private_syscalls });
