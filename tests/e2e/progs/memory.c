/*
 * memory.c - every kind of memory a single-threaded process has, saved
 * and restored byte for byte.
 *
 *   memory IMAGE [mappable]
 * Fills heap (brk and mmap'd malloc), stack, bss, data, private anonymous
 * maps (incl. PROT_NONE and read-only ones with data, a guard page), a
 * MAP_SHARED anonymous map, a region grown by mremap, guard regions
 * (MADV_GUARD_INSTALL) inside a mapping, a private file map
 * with modified pages (one modified to zeros), then checksums all of them
 * with the code of the binary and libc, calls ckpt_save(IMAGE), and in the
 * restarted copy checksums again and compares ("mappable": saved with
 * CKPT_OPT_MAPPABLE, the page data stored to be mapped from the image).  Then it proves the
 * restored process still works: brk and the stack grow, mmap, malloc.
 * Prints "SAVED" / "RESTORED ok" ; exits 0 when all is equal.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "ckpt.h"

#define PG 4096
#define NREG 16

static char bss[3 * PG];
static char data[PG] = "initialised data";

struct region {
	const char *name;
	unsigned char *p;
	size_t len;
	uint64_t sum;
};
static struct region regs[NREG];
static int nreg;

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static void add(const char *name, void *p, size_t len)
{
	regs[nreg++] = (struct region){ name, p, len, 0 };
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 2654435761u % 251);
}

static unsigned deep(unsigned n)
{
	volatile char pad[4096];

	pad[0] = (char)n;
	return n ? deep(n - 1) + pad[0] : 0;
}

int main(int argc, char **argv)
{
	unsigned char stack_buf[2 * PG];
	char path[512];
	int fd, r;

	if (argc != 2 && !(argc == 3 && !strcmp(argv[2], "mappable")))
		return 2;
	/* heap: small (brk) and large (mmap) */
	unsigned char *small = malloc(10000), *large = malloc(4 << 20);
	fill(small, 10000, 1);
	fill(large, 4 << 20, 2);
	fill(stack_buf, sizeof(stack_buf), 3);
	fill((unsigned char *)bss + PG, PG, 4);	/* bss: one page untouched */
	data[100] = 42;

	unsigned char *anon = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(anon, 8 * PG, 5);
	fill(anon + 40 * PG, PG, 6);			/* sparse */
	unsigned char *ro = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(ro, 2 * PG, 7);
	mprotect(ro, 2 * PG, PROT_READ);
	unsigned char *none = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(none, 2 * PG, 8);
	mprotect(none, 2 * PG, PROT_NONE);		/* data behind PROT_NONE */
	unsigned char *guarded = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(guarded, PG, PROT_NONE);		/* guard page */
	fill(guarded + PG, 3 * PG, 9);
	unsigned char *shared = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fill(shared, 3 * PG, 10);
	unsigned char *grow = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(grow, 2 * PG, 11);
	grow = mremap(grow, 2 * PG, 16 * PG, MREMAP_MAYMOVE);
	fill(grow + 10 * PG, PG, 12);

	/*
	 * Guard regions (MADV_GUARD_INSTALL, Linux 6.13): pages that fault on
	 * any access, with no VMA of their own.  The checkpoint must not read
	 * them (it did, and died of SIGSEGV); the pages around them are data.
	 */
	unsigned char *gr = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(gr, 8 * PG, 14);
	int have_guard = madvise(gr + 3 * PG, 2 * PG, 102 /* MADV_GUARD_INSTALL */) == 0;

	if (!have_guard)
		printf("NOTE: no guard regions here (MADV_GUARD_INSTALL needs Linux 6.13)\n");

	/* a private file map, two pages modified (one to zeros) */
	snprintf(path, sizeof(path), "%s.data", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	for (int i = 0; i < 8; i++) {
		unsigned char pg[PG];

		fill(pg, PG, 100 + i);
		if (write(fd, pg, PG) != PG)
			return 3;
	}
	unsigned char *fmap = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	fill(fmap + PG, PG, 13);
	memset(fmap + 5 * PG, 0, PG);

	add("heap-small", small, 10000);
	add("heap-large", large, 4 << 20);
	add("stack", stack_buf, sizeof(stack_buf));
	add("bss", bss, sizeof(bss));
	add("data", data, sizeof(data));
	add("anon", anon, 64 * PG);
	add("readonly", ro, 2 * PG);
	add("guarded", guarded + PG, 3 * PG);
	add("shared", shared, 4 * PG);
	add("mremap", grow, 16 * PG);
	add("filemap", fmap, 8 * PG);
	add("code", (unsigned char *)main, 256);
	add("libc", (unsigned char *)memcpy, 256);
	if (have_guard) {
		add("before-guard", gr, 3 * PG);
		add("after-guard", gr + 5 * PG, 3 * PG);
	}
	for (int i = 0; i < nreg; i++)
		regs[i].sum = fnv(regs[i].p, regs[i].len);
	uint64_t brk0 = (uintptr_t)sbrk(0);

	struct ckpt_options opts = { .flags = argc == 3 ? CKPT_OPT_MAPPABLE : 0 };

	r = ckpt_save_opts(argv[1], &opts);
	if (r == CKPT_SAVED) {
		printf("SAVED\n");
		return 0;
	}
	if (r != CKPT_RESTORED) {
		printf("ckpt_save failed: %s\n", ckpt_last_error());
		return 1;
	}
	int bad = 0;
	mprotect(none, 2 * PG, PROT_READ);
	unsigned char expect[2 * PG];
	fill(expect, 2 * PG, 8);
	if (memcmp(none, expect, 2 * PG)) {
		printf("region PROT_NONE differs\n");
		bad++;
	}
	for (int i = 0; i < nreg; i++) {
		if (fnv(regs[i].p, regs[i].len) != regs[i].sum) {
			printf("region %s differs\n", regs[i].name);
			bad++;
		}
	}
	if ((uintptr_t)sbrk(0) != brk0) {
		printf("brk moved: %lx then, %lx now\n", (unsigned long)brk0, (unsigned long)(uintptr_t)sbrk(0));
		bad++;
	}
	/* the restored process keeps working */
	void *more = malloc(100000);
	void *brkmore = sbrk(1 << 20);
	if (!more || brkmore == (void *)-1) {
		printf("heap cannot grow after restore\n");
		bad++;
	} else {
		memset(brkmore, 1, 1 << 20);
	}
	if (deep(256) == 0xffffffff)		/* 1 MiB of new stack */
		bad++;
	printf("RESTORED %s\n", bad ? "BAD" : "ok");
	return bad ? 1 : 0;
}
