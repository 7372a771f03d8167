/*
 * test_ckpt.c - the checkpoint engine's parsing and chunking, in process:
 * maps text classified into VMA kinds (and refusals), and page data cut
 * into runs (zero and untouched pages skipped, at most IMG_PAGES_MAX
 * pages a record, modified file pages kept, zero ones as ZERO runs).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "tests/unit/unit.h"

#define PG IMG_PAGE_SIZE

static struct ckpt_ctx ctx;
static char file[64];
static struct stat fst;

static void ctx_open(void)
{
	memset(&ctx, 0, sizeof(ctx));
	ctx.img_fd = ctx.ctl_fd = -1;
	CU_ASSERT_FATAL(ckpt_scratch_map(&ctx) == 0);
}

static void ctx_close(void)
{
	munmap(ctx.scratch, ctx.scratch_len);
}

/* A real file, so the parser's stat() agrees with the maps line. */
static void make_file(void)
{
	char pg[PG];
	int fd;

	snprintf(file, sizeof(file), "/tmp/ckpt-unit.%d", (int)getpid());
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	for (int i = 0; i < 8; i++) {
		memset(pg, 'a' + i, PG);
		CU_ASSERT_FATAL(write(fd, pg, PG) == PG);
	}
	close(fd);
	CU_ASSERT_FATAL(stat(file, &fst) == 0);
}

static int parse(const char *text)
{
	ctx.error = 0;
	ctx.err[0] = '\0';
	return ckpt_maps_parse(&ctx, text, strlen(text));
}

static void test_maps_kinds(void)
{
	char text[4096];

	ctx_open();
	make_file();
	snprintf(text, sizeof(text),
		 "10000-12000 rw-p 00000000 00:00 0 \n"
		 "20000-21000 r--p 00001000 %02x:%02x %lu                 %s\n"
		 "22000-23000 rw-s 00000000 %02x:%02x %lu                 %s\n"
		 "30000-34000 rw-p 00000000 00:00 0                          [heap]\n"
		 "40000-41000 rw-s 00000000 00:01 77                         /dev/zero (deleted)\n"
		 "50000-51000 ---p 00000000 00:00 0 \n"
		 "7ff000000000-7ff000021000 rw-p 00000000 00:00 0                          [stack]\n"
		 "7ff100000000-7ff100004000 r--p 00000000 00:00 0                          [vvar]\n"
		 "7ff100004000-7ff100005000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
		 "7ff100005000-7ff100007000 r-xp 00000000 00:00 0                          [vdso]\n"
		 "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n",
		 major(fst.st_dev), minor(fst.st_dev), (unsigned long)fst.st_ino, file,
		 major(fst.st_dev), minor(fst.st_dev), (unsigned long)fst.st_ino, file);
	CU_ASSERT_EQUAL_FATAL(parse(text), 0);
	CU_ASSERT_EQUAL_FATAL(ctx.nvmas, 10);		/* vsyscall left out */

	struct ckpt_vma *v = ctx.vmas;
	CU_ASSERT(v[0].start == 0x10000 && v[0].end == 0x12000);
	CU_ASSERT(v[0].prot == (PROT_READ | PROT_WRITE));
	CU_ASSERT(v[0].flags == (IMG_VMA_ANON | IMG_VMA_PAGES));
	CU_ASSERT(v[1].flags == (IMG_VMA_FILE | IMG_VMA_PAGES));
	CU_ASSERT(v[1].pgoff == 0x1000 && v[1].ino == fst.st_ino && v[1].size == 8 * PG);
	CU_ASSERT(v[1].path_len == strlen(file) && !memcmp(v[1].path, file, v[1].path_len));
	CU_ASSERT(v[2].flags == (IMG_VMA_FILE | IMG_VMA_SHARED));	/* no pages: in the file */
	CU_ASSERT(v[3].flags == (IMG_VMA_ANON | IMG_VMA_HEAP | IMG_VMA_PAGES));
	CU_ASSERT(v[4].flags == (IMG_VMA_ANON | IMG_VMA_SHARED | IMG_VMA_PAGES));
	CU_ASSERT(v[4].path_len == 0);
	CU_ASSERT(v[5].prot == 0 && v[5].flags == (IMG_VMA_ANON | IMG_VMA_PAGES));
	CU_ASSERT(v[6].flags == (IMG_VMA_ANON | IMG_VMA_STACK | IMG_VMA_GROWSDOWN | IMG_VMA_PAGES));
	CU_ASSERT(v[7].flags == IMG_VMA_VVAR);
	CU_ASSERT(v[8].flags == IMG_VMA_VVAR_VCLOCK);
	CU_ASSERT(v[9].flags == (IMG_VMA_VDSO | IMG_VMA_PAGES));
	unlink(file);
	ctx_close();
}

static void test_maps_path_with_spaces(void)
{
	char dir[64], path[128], text[1024];
	struct stat st;
	int fd;

	ctx_open();
	snprintf(dir, sizeof(dir), "/tmp/ckpt unit %d", (int)getpid());
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/a file", dir);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	CU_ASSERT_FATAL(fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);
	stat(path, &st);
	snprintf(text, sizeof(text), "20000-21000 r--p 00000000 %02x:%02x %lu    %s\n",
		 major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino, path);
	CU_ASSERT_EQUAL(parse(text), 0);
	CU_ASSERT(ctx.nvmas == 1 && ctx.vmas[0].path_len == strlen(path) &&
		  !memcmp(ctx.vmas[0].path, path, strlen(path)));
	unlink(path);
	rmdir(dir);
	ctx_close();
}

/* Each refused mapping gives an error naming it. */
static void test_maps_refusals(void)
{
	static const struct { const char *line, *want; } cases[] = {
		{ "20000-21000 r-xp 00000000 00:00 0 [uprobes]\n", "[uprobes]" },
		{ "20000-21000 r--p 00000000 00:00 1 /nonexistent/file\n", "cannot stat" },
	};
	char text[512];

	ctx_open();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT(parse(cases[i].line) < 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(ctx.err, cases[i].want));
		CU_ASSERT_PTR_NOT_NULL(strstr(ctx.err, "20000-21000"));
	}
	/* A file replaced after mapping: the maps inode is not the file's. */
	make_file();
	snprintf(text, sizeof(text), "20000-21000 r--p 00000000 %02x:%02x %lu %s\n",
		 major(fst.st_dev), minor(fst.st_dev), (unsigned long)fst.st_ino + 1, file);
	CU_ASSERT(parse(text) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.err, "was replaced"));
	unlink(file);
	ctx_close();
}

/*
 * Mappings named by a FILE record (ckpt_fmapped.c gives the id later):
 * deleted files and memfds are file mappings (private ones with their
 * modified pages), anonymous huge pages anonymous memory; a private
 * mapping of /dev/zero is plain anonymous memory; a SysV attach names its
 * segment by its id (ckpt_sysv.c).
 */
static void test_maps_byid(void)
{
	struct stat z;
	char text[1024];

	ctx_open();
	CU_ASSERT_FATAL(stat("/dev/zero", &z) == 0);
	snprintf(text, sizeof(text),
		 "20000-21000 r--p 00001000 08:01 12 /gone/lib.so (deleted)\n"
		 "22000-23000 rw-s 00000000 00:01 5 /memfd:x (deleted) (deleted)\n"
		 "24000-25000 rw-p 00000000 00:01 6 /memfd:y (deleted)\n"
		 "200000-600000 rw-s 00000000 00:10 7 /anon_hugepage (deleted)\n"
		 "800000-802000 rw-p 00000000 %02x:%02x %lu /dev/zero\n"
		 "900000-903000 r--s 00001000 00:01 32769 /SYSV5e000000 (deleted)\n",
		 major(z.st_dev), minor(z.st_dev), (unsigned long)z.st_ino);
	CU_ASSERT_EQUAL_FATAL(parse(text), 0);
	CU_ASSERT_EQUAL_FATAL(ctx.nvmas, 6);
	struct ckpt_vma *v = ctx.vmas;
	CU_ASSERT(v[0].flags == (IMG_VMA_FILE | IMG_VMA_PAGES) && v[0].byid == CKPT_BYID_FILE);
	CU_ASSERT(v[0].pgoff == 0x1000 && v[0].ino == 12 && v[0].path_len == 22);
	CU_ASSERT(v[1].flags == (IMG_VMA_FILE | IMG_VMA_SHARED) && v[1].byid == CKPT_BYID_FILE);
	CU_ASSERT(v[2].flags == (IMG_VMA_FILE | IMG_VMA_PAGES) && v[2].byid == CKPT_BYID_FILE);
	CU_ASSERT(v[3].flags == (IMG_VMA_ANON | IMG_VMA_SHARED | IMG_VMA_PAGES));
	CU_ASSERT(v[3].byid == CKPT_BYID_HUGETLB && v[3].path_len == 0 && v[3].ino == 7);
	CU_ASSERT(v[4].flags == (IMG_VMA_ANON | IMG_VMA_PAGES) && v[4].byid == CKPT_BYID_NONE);
	CU_ASSERT(v[4].path_len == 0 && v[4].ino == 0);
	/* a SysV attach: its id is the inode number, its segment a SYSV_SHM record */
	CU_ASSERT(v[5].flags == (IMG_VMA_FILE | IMG_VMA_SHARED) && v[5].byid == CKPT_BYID_SYSV);
	CU_ASSERT(v[5].ino == 32769 && v[5].pgoff == 0x1000 && v[5].path_len == 23);
	ctx_close();
}

/* The scratch never appears in the map, even merged with a neighbour. */
static void test_maps_scratch_cut_out(void)
{
	char text[256];
	uint64_t s0, s1;

	ctx_open();
	s0 = (uintptr_t)ctx.scratch;
	s1 = s0 + ctx.scratch_len;
	snprintf(text, sizeof(text), "%lx-%lx rw-p 00000000 00:00 0 \n",
		 (unsigned long)(s0 - 4 * PG), (unsigned long)(s1 + 2 * PG));
	CU_ASSERT_EQUAL(parse(text), 0);
	CU_ASSERT_EQUAL_FATAL(ctx.nvmas, 2);
	CU_ASSERT(ctx.vmas[0].start == s0 - 4 * PG && ctx.vmas[0].end == s0);
	CU_ASSERT(ctx.vmas[1].start == s1 && ctx.vmas[1].end == s1 + 2 * PG);
	ctx_close();
}

/* Writes one VMA's pages to a memfd image and reads the runs back. */
struct run { uint64_t addr; uint32_t n; uint8_t codec; };

static int chunk(const struct ckpt_vma *v, struct run *runs, int max, unsigned char *copy)
{
	static unsigned char wbuf[1 << 16];
	struct img_header h = { .pid = 1 };
	struct img_reader r;
	struct img_rec rec;
	int fd = memfd_create("chunks", 0), n = 0;

	CU_ASSERT_FATAL(fd >= 0);
	ctx.img_fd = fd;
	CU_ASSERT_FATAL(ckpt_open_proc(&ctx) == 0);
	img_writer_init(&ctx.w, fd, wbuf, sizeof(wbuf));
	img_write_header(&ctx.w, &h);
	CU_ASSERT_EQUAL(ckpt_mem_write_vma(&ctx, v), 0);
	CU_ASSERT_EQUAL(img_write_end(&ctx.w), 0);
	close(ctx.pagemap_fd);
	close(ctx.mem_fd);
	lseek(fd, 0, SEEK_SET);
	CU_ASSERT_FATAL(img_reader_open(&r, fd) == 0);
	while (img_reader_next(&r, &rec) > 0 && n < max) {
		const struct img_pages *p = img_get_pages(&r, &rec);
		char err[128];

		CU_ASSERT_FATAL(p != NULL);
		runs[n++] = (struct run){ p->addr, p->npages, p->codec };
		CU_ASSERT(img_pages_decode(p, p + 1, rec.len - sizeof(*p),
					   copy + (p->addr - v->start), err, sizeof(err)) == 0);
	}
	img_reader_close(&r);
	close(fd);
	return n;
}

static void test_mem_anon_runs(void)
{
	const int np = 200;
	unsigned char *m = mmap(NULL, np * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *copy = calloc(np, PG);
	struct ckpt_vma v = { .start = (uintptr_t)m, .end = (uintptr_t)m + np * PG,
			      .prot = PROT_READ | PROT_WRITE, .flags = IMG_VMA_ANON | IMG_VMA_PAGES };
	struct run runs[32];
	int n, covered = 0;

	ctx_open();
	for (int i = 0; i < np; i++) {
		if (i >= 100 && i < 110)
			m[i * PG] = 0;		/* touched, all zero */
		else if (i == 150 || i == 151)
			continue;		/* never touched */
		else
			memset(m + i * PG, i + 1, PG);
	}
	n = chunk(&v, runs, 32, copy);
	for (int i = 0; i < n; i++) {
		CU_ASSERT(runs[i].n >= 1 && runs[i].n <= IMG_PAGES_MAX);
		CU_ASSERT(runs[i].codec != IMG_CODEC_ZERO);
		covered += runs[i].n;
		for (uint32_t k = 0; k < runs[i].n; k++) {
			int pg = (runs[i].addr - v.start) / PG + k;

			CU_ASSERT(!(pg >= 100 && pg < 110) && pg != 150 && pg != 151);
		}
	}
	CU_ASSERT_EQUAL(covered, np - 12);
	CU_ASSERT(n >= 4);			/* 0-99 needs 2 runs, 110-149, 152-199 */
	CU_ASSERT(memcmp(copy, m, np * PG) == 0);	/* zero/untouched pages read as zero */
	CU_ASSERT(ctx.zero_pages == 10);
	munmap(m, np * PG);
	free(copy);
	ctx_close();
}

static void test_mem_file_runs(void)
{
	unsigned char *m, *copy = calloc(8, PG);
	struct ckpt_vma v = { .prot = PROT_READ | PROT_WRITE, .flags = IMG_VMA_FILE | IMG_VMA_PAGES };
	struct run runs[8];
	int fd, n;

	ctx_open();
	make_file();
	fd = open(file, O_RDONLY);
	m = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	v.start = (uintptr_t)m;
	v.end = v.start + 8 * PG;
	(void)*(volatile unsigned char *)(m + 3 * PG);	/* read: still the file's page */
	memset(m + 2 * PG, 'Z', PG);			/* modified */
	memset(m + 5 * PG, 0, PG);			/* modified to zeros */
	n = chunk(&v, runs, 8, copy);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT(runs[0].addr == v.start + 2 * PG && runs[0].n == 1 && runs[0].codec != IMG_CODEC_ZERO);
	CU_ASSERT(runs[1].addr == v.start + 5 * PG && runs[1].n == 1 && runs[1].codec == IMG_CODEC_ZERO);
	CU_ASSERT(memcmp(copy + 2 * PG, m + 2 * PG, PG) == 0);
	munmap(m, 8 * PG);
	unlink(file);
	free(copy);
	ctx_close();
}

UNIT_SUITE(ckpt_engine,
	   { "maps: every kind classified", test_maps_kinds },
	   { "maps: paths with spaces", test_maps_path_with_spaces },
	   { "maps: refusals name the mapping", test_maps_refusals },
	   { "maps: deleted files, memfds, huge pages, /dev/zero", test_maps_byid },
	   { "maps: the scratch is cut out", test_maps_scratch_cut_out },
	   { "pages: anonymous runs skip zero and untouched pages", test_mem_anon_runs },
	   { "pages: file runs keep modified pages, zero ones as ZERO", test_mem_file_runs });
