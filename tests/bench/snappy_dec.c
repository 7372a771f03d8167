/*
 * snappy_dec.c - decoding speed of img_snappy_decode() against libsnappy's
 * snappy_uncompress(), the decoder it replaced in ckpt-restart.
 *
 *   snappy_dec [MIB [REPS]]     (default 64 MiB, 7 repetitions)
 *
 * MIB MiB of data, cut into 64 KiB blocks (16 pages: a PAGES record holds
 * 1..64) and compressed with our encoder, are decoded by each decoder,
 * REPS times alternately.  Printed: the median of each in MB/s of decoded
 * output (10^6 bytes per second of the thread's CPU time, so that other
 * processes on the machine disturb it less), and the median of the
 * ratios of the alternate runs (ours / libsnappy: > 1 is faster).  Two
 * kinds of data:
 *   text   words and numbers, like the heap of a program that handles text
 *          (ratio ~0.3: short literals and copies)
 *   mixed  4 KiB pages alternately random bytes and text (the random ones
 *          are long literals)
 * Both outputs are compared with the input once, so a fast wrong decoder
 * is not reported as fast.  Exit status 1 on a mismatch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <snappy-c.h>
#include "libckpt/img.h"

#define BLOCK	(64u << 10)
#define PAGE	4096u

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill_text(unsigned char *p, size_t n)
{
	static const char *words[] = {
		"checkpoint", "restart", "the", "image", "of", "a", "process",
		"page", "0x7ffd1234", "thread", "\n", "signal", "=", "fd", "42",
		"memory", "kernel", "and", "/usr/lib/x86_64-linux-gnu", "1",
	};
	size_t i = 0;

	while (i < n) {
		const char *w = words[rnd() % (sizeof(words) / sizeof(words[0]))];
		size_t l = strlen(w);

		for (size_t k = 0; k < l && i < n; k++)
			p[i++] = (unsigned char)w[k];
		if (i < n)
			p[i++] = ' ';
	}
}

static void fill_mixed(unsigned char *p, size_t n)
{
	for (size_t at = 0; at < n; at += PAGE) {
		size_t len = n - at < PAGE ? n - at : PAGE;

		if ((at / PAGE) % 2 == 0)
			for (size_t i = 0; i < len; i++)
				p[at + i] = (unsigned char)rnd();
		else
			fill_text(p + at, len);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct blocks {
	size_t n;		/* number of blocks */
	unsigned char **z;	/* compressed blocks */
	size_t *zlen;
	size_t zbytes;
};

/* Decodes every block into out, with ours (which == 0) or libsnappy. */
static double run(const struct blocks *b, unsigned char *out, int which)
{
	double t0 = now_s();

	for (size_t i = 0; i < b->n; i++) {
		unsigned char *dst = out + i * BLOCK;

		if (which == 0) {
			if (img_snappy_decode(b->z[i], b->zlen[i], dst, BLOCK) != 0)
				return -1;
		} else {
			size_t len = BLOCK;

			if (snappy_uncompress((const char *)b->z[i], b->zlen[i], (char *)dst,
					      &len) != SNAPPY_OK || len != BLOCK)
				return -1;
		}
	}
	return now_s() - t0;
}

static int bench(const char *name, void (*fill)(unsigned char *, size_t), size_t total,
		 int reps)
{
	static uint16_t scratch[IMG_SNAPPY_SCRATCH / 2];
	unsigned char *in = malloc(total), *out = malloc(total);
	struct blocks b = { .n = total / BLOCK };
	double *t[3] = { calloc((size_t)reps, sizeof(double)), calloc((size_t)reps, sizeof(double)),
			 calloc((size_t)reps, sizeof(double)) };
	double mb[2];

	if (!in || !out || !t[0] || !t[1] || !t[2])
		return perror("snappy_dec"), 1;
	b.z = calloc(b.n, sizeof(*b.z));
	b.zlen = calloc(b.n, sizeof(*b.zlen));
	fill(in, total);
	for (size_t i = 0; i < b.n; i++) {
		b.z[i] = malloc(img_snappy_bound(BLOCK));
		b.zlen[i] = img_snappy_compress(in + i * BLOCK, BLOCK, b.z[i], scratch);
		b.zbytes += b.zlen[i];
	}
	for (int which = 0; which < 2; which++) {	/* correctness, and page faults */
		memset(out, 0xEE, total);
		if (run(&b, out, which) < 0 || memcmp(in, out, total) != 0) {
			fprintf(stderr, "snappy_dec: %s: %s decodes wrong\n", name,
				which ? "libsnappy" : "img_snappy_decode");
			return 1;
		}
	}
	for (int r = 0; r < reps; r++) {
		for (int which = 0; which < 2; which++)
			t[which][r] = run(&b, out, which);
		t[2][r] = t[1][r] / t[0][r];
	}
	for (int which = 0; which < 2; which++)
		mb[which] = (double)total / median(t[which], reps) / 1e6;
	printf("%-6s %8.3f %10.0f %10.0f %8.2f\n", name, (double)b.zbytes / (double)total,
	       mb[0], mb[1], median(t[2], reps));
	for (size_t i = 0; i < b.n; i++)
		free(b.z[i]);
	free(b.z);
	free(b.zlen);
	for (int i = 0; i < 3; i++)
		free(t[i]);
	free(in);
	free(out);
	return 0;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	int reps = argc > 2 ? atoi(argv[2]) : 7;
	int rc = 0;

	if (mib == 0 || reps < 1) {
		fprintf(stderr, "usage: snappy_dec [MIB [REPS]]\n");
		return 2;
	}
	printf("%zu MiB in %u KiB blocks, median of %d runs; MB/s of decoded output\n",
	       mib, BLOCK >> 10, reps);
	printf("%-6s %8s %10s %10s %8s\n", "data", "ratio", "ours", "libsnappy", "ours/lib");
	rc |= bench("text", fill_text, mib << 20, reps);
	rc |= bench("mixed", fill_mixed, mib << 20, reps);
	return rc;
}
