/*
 * thr_gen.c - 8 threads doing verifiable work, for many generations of
 * checkpoint, kill and restart.
 *
 *   thr_gen LOGDIR STOPFILE
 * Thread i (0..7), step n = 1, 2, ...: mutates 64 bytes of its own 64 KiB
 * heap buffer at a place chosen by the hash, chains
 * h_i(n) = mix(h_i(n-1), i, n, those bytes) (every 64 steps the whole
 * buffer too), appends "n h" to LOGDIR/log.i (O_APPEND, one write()),
 * adds 1 to a mutex-protected total and sleeps 1 ms.  main prints
 * "READY pid" and polls for STOPFILE; then the threads stop, main joins
 * them, checks the total is the sum of their steps and prints
 * "DONE i n h pid" for each, then "ALL OK" (exit 0) or "BAD ...".
 *
 *   thr_gen --chain I N
 * Prints "N h_I(N)" of an uninterrupted run.
 *
 *   thr_gen --check LOGDIR MAXREWINDS
 * Verifies every log.i against an uninterrupted run: it starts at 1,
 * every line follows the one before or goes back to a step already
 * logged (a restarted copy repeating work: at most MAXREWINDS times),
 * and every h is the uninterrupted run's.  Prints "CHAIN ok" and exits 0,
 * or "CHAIN BAD log.i line L: why" and exits 1.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NT	8
#define BUFSZ	(64 << 10)

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static uint64_t step(unsigned char *buf, uint64_t h, int t, uint64_t n)
{
	size_t at = (size_t)(h % (BUFSZ - 64));

	for (int i = 0; i < 64; i++)
		buf[at + i] = (unsigned char)(buf[at + i] * 31 + n + i + t);
	h = fnv(h ^ (n * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)t << 56), buf + at, 64);
	if (n % 64 == 0)
		h = fnv(h, buf, BUFSZ);
	return h;
}

static unsigned char *newbuf(int t)
{
	unsigned char *buf = malloc(BUFSZ);

	if (!buf)
		exit(3);
	for (size_t i = 0; i < BUFSZ; i++)
		buf[i] = (unsigned char)((i + t) * 2654435761u >> 13);
	return buf;
}

static uint64_t h0(int t)
{
	return 1469598103934665603ULL ^ (uint64_t)t;
}

/* --check: one log */
static int check_log(const char *dir, int t, long maxrew)
{
	unsigned char *buf = newbuf(t);
	uint64_t *canon = NULL, h = h0(t), max = 0, cap = 0, prev = 0;
	unsigned long n, v;
	long lineno = 0, rew = 0;
	char path[4096], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/log.%d", dir, t);
	if (!(f = fopen(path, "r"))) {
		printf("CHAIN BAD log.%d: cannot open\n", t);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (sscanf(line, "%lu %lx", &n, &v) != 2 || !strchr(line, '\n')) {
			printf("CHAIN BAD log.%d line %ld: garbled \"%s\"\n", t, lineno, line);
			return 1;
		}
		if (n == 0 || n > prev + 1) {
			printf("CHAIN BAD log.%d line %ld: step %lu after step %lu (lost work)\n", t,
			       lineno, n, (unsigned long)prev);
			return 1;
		}
		if (n <= prev && ++rew > maxrew) {
			printf("CHAIN BAD log.%d line %ld: step %lu after %lu: %ld repeats, at most %ld\n",
			       t, lineno, n, (unsigned long)prev, rew, maxrew);
			return 1;
		}
		while (max < n) {
			if (max == cap) {
				cap = cap ? 2 * cap : 4096;
				canon = realloc(canon, (cap + 1) * sizeof(*canon));
				if (!canon)
					return 3;
			}
			max++;
			canon[max] = h = step(buf, h, t, max);
		}
		if (canon[n] != v) {
			printf("CHAIN BAD log.%d line %ld: step %lu has %016lx, an uninterrupted run %016lx\n",
			       t, lineno, n, v, (unsigned long)canon[n]);
			return 1;
		}
		prev = n;
	}
	fclose(f);
	free(canon);
	free(buf);
	if (!lineno) {
		printf("CHAIN BAD log.%d is empty\n", t);
		return 1;
	}
	return 0;
}

static const char *logdir;
static int stop;
static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t total;
static uint64_t final_n[NT], final_h[NT];
static int bad;

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg, fd;
	unsigned char *buf = newbuf(t);
	uint64_t h = h0(t), n = 0;
	char path[4096], line[64];

	snprintf(path, sizeof(path), "%s/log.%d", logdir, t);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0) {
		printf("BAD cannot open %s\n", path);
		exit(3);
	}
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		n++;
		h = step(buf, h, t, n);
		int len = snprintf(line, sizeof(line), "%lu %016lx\n", (unsigned long)n,
				   (unsigned long)h);
		if (write(fd, line, len) != len) {
			printf("BAD log write of thread %d\n", t);
			__atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
			break;
		}
		pthread_mutex_lock(&total_lock);
		total++;
		pthread_mutex_unlock(&total_lock);
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	final_n[t] = n;
	final_h[t] = h;
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NT];

	if (argc == 4 && !strcmp(argv[1], "--chain")) {
		int t = atoi(argv[2]);
		uint64_t last = strtoull(argv[3], NULL, 10), h = h0(t);
		unsigned char *buf = newbuf(t);

		for (uint64_t n = 1; n <= last; n++)
			h = step(buf, h, t, n);
		printf("%lu %016lx\n", (unsigned long)last, (unsigned long)h);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "--check")) {
		for (int t = 0; t < NT; t++)
			if (check_log(argv[2], t, atol(argv[3])))
				return 1;
		printf("CHAIN ok\n");
		return 0;
	}
	if (argc != 3)
		return 2;
	logdir = argv[1];
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int t = 0; t < NT; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	printf("READY %d\n", (int)getpid());
	while (access(argv[2], F_OK)) {
		struct timespec ts = { 0, 2000000 };

		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	uint64_t sum = 0;
	for (int t = 0; t < NT; t++) {
		pthread_join(th[t], NULL);
		sum += final_n[t];
	}
	if (sum != total) {
		printf("BAD total %lu, the threads' steps add up to %lu\n", (unsigned long)total,
		       (unsigned long)sum);
		bad++;
	}
	for (int t = 0; t < NT; t++)
		printf("DONE %d %lu %016lx %d\n", t, (unsigned long)final_n[t],
		       (unsigned long)final_h[t], (int)getpid());
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}
