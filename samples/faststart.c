/*
 * faststart.c - the fast-startup pattern: initialise once, save a
 * mappable snapshot, start every later instance from the snapshot.
 *
 *   faststart SNAPSHOT [N]          (run it with `make faststart`)
 *
 * Initialisation is real work: a linear sieve up to N (default 100
 * million) builds Euler's totient phi(n) for every n, prefix sums of it
 * and the list of primes - about 470 MiB of tables, 1.5-2 s of CPU here.
 * Then the program saves itself with ckpt_save(SNAPSHOT,
 * CKPT_OPT_MAPPABLE) and serves: it reads queries from stdin, one a line,
 *
 *   phi N          Euler's totient of N
 *   sumphi A B     phi(A) + ... + phi(B)
 *   prime K        the K-th prime
 *
 * and prints one answer a line.  `ckpt-restart SNAPSHOT` starts a new
 * instance at the point where ckpt_save() returned (CKPT_RESTORED): the
 * tables are not rebuilt, and not even read - ckpt-restart maps them from
 * the snapshot, and the pages a query needs come from the page cache.
 *
 * On stderr: how long initialisation and the save took, and when the
 * first answer was printed ("first_answer_at_ns", CLOCK_REALTIME), so
 * that samples/faststart.sh can compare cold start and restart.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "ckpt.h"

static uint32_t *phi;		/* phi[n], n <= limit */
static uint64_t *sum;		/* sum[k] = phi[1] + ... + phi[16 k] */
static uint32_t *primes;
static uint64_t nprimes, limit;

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *table(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("faststart: mmap");
		exit(1);
	}
	return p;
}

/* Linear sieve: every composite is crossed out once, by its least prime. */
static void build(uint64_t n)
{
	limit = n;
	phi = table((n + 1) * sizeof(*phi));
	sum = table((n / 16 + 1) * sizeof(*sum));
	primes = table((n / 10 + 1000) * sizeof(*primes));	/* pi(n) < n/10 here */
	phi[1] = 1;
	for (uint64_t i = 2; i <= n; i++) {
		if (!phi[i]) {
			phi[i] = (uint32_t)(i - 1);
			primes[nprimes++] = (uint32_t)i;
		}
		for (uint64_t k = 0; k < nprimes && i * primes[k] <= n; k++) {
			uint64_t p = primes[k];

			if (i % p == 0) {
				phi[i * p] = phi[i] * (uint32_t)p;
				break;
			}
			phi[i * p] = phi[i] * (uint32_t)(p - 1);
		}
	}
	for (uint64_t i = 1, s = 0; i <= n; i++) {
		s += phi[i];
		if (i % 16 == 0)
			sum[i / 16] = s;
	}
}

/* phi[1] + ... + phi[x]: a stored prefix, then at most 15 entries. */
static uint64_t prefix(uint64_t x)
{
	uint64_t s = sum[x / 16];

	for (uint64_t i = x / 16 * 16 + 1; i <= x; i++)
		s += phi[i];
	return s;
}

static void answer(const char *line)
{
	unsigned long long a, b;

	if (sscanf(line, "phi %llu", &a) == 1 && a >= 1 && a <= limit)
		printf("phi(%llu) = %u\n", a, phi[a]);
	else if (sscanf(line, "sumphi %llu %llu", &a, &b) == 2 && a >= 1 && a <= b && b <= limit)
		printf("sumphi(%llu..%llu) = %llu\n", a, b,
		       (unsigned long long)(prefix(b) - prefix(a - 1)));
	else if (sscanf(line, "prime %llu", &a) == 1 && a >= 1 && a <= nprimes)
		printf("prime(%llu) = %u\n", a, primes[a - 1]);
	else
		printf("? %s", line);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct ckpt_options o = { .flags = CKPT_OPT_MAPPABLE };
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : 100000000;
	uint64_t t0, t1, t2;
	char line[256];
	int r, first = 1;

	if (argc < 2 || n < 10 || n > 400000000) {
		fprintf(stderr, "usage: faststart SNAPSHOT [N (10..4e8)]\n");
		return 1;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	build(n);
	t1 = now_ns(CLOCK_MONOTONIC);

	r = ckpt_save_opts(argv[1], &o);
	t2 = now_ns(CLOCK_MONOTONIC);
	if (r == CKPT_SAVED)
		fprintf(stderr, "faststart: initialised in %.0f ms (%llu primes up to %llu), "
			"snapshot %s saved in %.0f ms\n", (t1 - t0) / 1e6,
			(unsigned long long)nprimes, (unsigned long long)limit, argv[1],
			(t2 - t1) / 1e6);
	else if (r == CKPT_RESTORED)
		fprintf(stderr, "faststart: started from the snapshot %s\n", argv[1]);
	else	/* still serves: only the next start will be slow */
		fprintf(stderr, "faststart: no snapshot: %s\n", ckpt_last_error());

	while (fgets(line, sizeof(line), stdin)) {
		answer(line);
		if (first) {
			fprintf(stderr, "first_answer_at_ns %llu\n",
				(unsigned long long)now_ns(CLOCK_REALTIME));
			first = 0;
		}
	}
	return 0;
}
