/*
 * mapper.c - memory for the mappable-image tests (t_mappable.sh): a
 * process whose anonymous memory ckpt-restart maps from the image, and
 * which keeps checking it afterwards.
 *
 *   mapper IMAGE
 * Fills: a 24 MiB private anonymous region (more than one 16 MiB MPAGES
 * run), a sparse region (pages written with holes of 1..40 pages, so
 * runs carry short holes and break at long ones), a read-only region
 * with data, heap (malloc) blocks; records a checksum of each.  Prints
 * "ready PID" and then waits for signals, acting on each in order:
 *   SIGUSR1  checks every region: "verify ok N" or "verify BAD <region>"
 *            (N counts the checks)
 *   SIGUSR2  rewrites every 3rd page of the big region and part of the
 *            sparse one (new checksums): "modified N"
 *   SIGHUP   ckpt_save(IMAGE, CKPT_OPT_MAPPABLE): "SAVED" in this
 *            process, "RESTORED" in a restarted copy, or "save failed: ..."
 * Exits 0 on SIGTERM.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "ckpt.h"

#define PG	4096
#define BIG	(24u << 20)
#define SPARSE	(4u << 20)
#define NREG	8

struct region {
	const char *name;
	unsigned char *p;
	size_t len;
	uint64_t sum;
};
static struct region regs[NREG];
static int nreg;
static volatile sig_atomic_t got_usr1, got_usr2, got_hup, got_term;
static unsigned gen = 1;

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i += 8)
		h = (h ^ *(const uint64_t *)(p + i)) * 1099511628211ULL;
	return h;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL ^ seed;

	for (size_t i = 0; i < n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		*(uint64_t *)(p + i) = x;
	}
}

static void add(const char *name, void *p, size_t len)
{
	regs[nreg++] = (struct region){ name, p, len, fnv(p, len) };
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* Pages written with growing holes: 1, 2, ... 40 untouched pages between. */
static void fill_sparse(unsigned char *p, unsigned seed)
{
	size_t off = 0;

	for (unsigned hole = 1; off + PG <= SPARSE; hole = hole % 40 + 1) {
		fill(p + off, PG, seed + (unsigned)off);
		off += (size_t)(hole + 1) * PG;
	}
}

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void verify(void)
{
	static unsigned checks;

	for (int i = 0; i < nreg; i++)
		if (fnv(regs[i].p, regs[i].len) != regs[i].sum) {
			printf("verify BAD %s\n", regs[i].name);
			fflush(stdout);
			return;
		}
	printf("verify ok %u\n", ++checks);
	fflush(stdout);
}

static void modify(void)
{
	static unsigned mods;

	gen++;
	for (size_t off = 0; off < BIG; off += 3 * PG)
		fill(regs[0].p + off, PG, gen * 7919u + (unsigned)off);
	fill(regs[1].p, SPARSE / 4, gen);	/* fills some holes too */
	regs[0].sum = fnv(regs[0].p, regs[0].len);
	regs[1].sum = fnv(regs[1].p, regs[1].len);
	printf("modified %u\n", ++mods);
	fflush(stdout);
}

static void save(const char *image)
{
	struct ckpt_options o = { .flags = CKPT_OPT_MAPPABLE };
	int r = ckpt_save_opts(image, &o);

	if (r == CKPT_SAVED)
		printf("SAVED\n");
	else if (r == CKPT_RESTORED)
		printf("RESTORED\n");
	else
		printf("save failed: %s\n", ckpt_last_error());
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sig };
	sigset_t block, old;
	unsigned char *ro;

	if (argc != 2) {
		fprintf(stderr, "usage: mapper IMAGE\n");
		return 2;
	}
	regs[0].p = map(BIG);
	fill(regs[0].p, BIG, 1);
	add("big", regs[0].p, BIG);
	regs[1].p = map(SPARSE);
	fill_sparse(regs[1].p, 2);
	add("sparse", regs[1].p, SPARSE);
	ro = map(16 * PG);
	fill(ro, 16 * PG, 3);
	mprotect(ro, 16 * PG, PROT_READ);
	add("read-only", ro, 16 * PG);
	for (int i = 0; i < 4; i++) {
		size_t n = (size_t)(i + 1) * 3000 * 8;
		unsigned char *h = malloc(n);

		fill(h, n, 10 + i);
		add("heap", h, n);
	}

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (!got_term) {
		sigsuspend(&old);
		if (got_usr2) {
			got_usr2 = 0;
			modify();
		}
		if (got_usr1) {
			got_usr1 = 0;
			verify();
		}
		if (got_hup) {
			got_hup = 0;
			save(argv[1]);
		}
	}
	return 0;
}
