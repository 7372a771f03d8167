/*
 * ckpt_pool.c - page data compressed and checksummed on every CPU, written
 * in order by the leader.
 *
 * The leader (ckpt_mem.c) walks the mappings, reads pagemap, cuts runs of
 * at most IMG_PAGES_MAX pages and posts each run as a job into a ring of
 * slots.  Worker threads (one per CPU but the leader's) take jobs in post
 * order, compress and checksum each into its slot; the finished slots are
 * written strictly in post order, with img_write_record_crc, by whichever
 * thread holds the write token (invariant 5).  So the image is byte for
 * byte the one a single thread writes: same records, same order, same
 * bytes (compression of a run depends on the run alone).
 *
 *   slot state:  FREE --post (leader)--> QUEUED --claim (any thread)-->
 *                computing --> DONE --written (leader)--> FREE
 *
 * Invariants:
 *  1. tail <= claim <= head and head - tail <= nslots.  Job j lives in
 *     slot j % nslots from its post until it is written; only the leader
 *     moves head and tail, and claim only moves by compare-and-swap, so a
 *     job is computed exactly once, by whoever claimed it.
 *  2. The leader never just waits when there is work: while the slot it
 *     must write next is not done it claims and computes queued jobs
 *     itself.  With no workers (CKPT_THREADS=1, one CPU, clone refused)
 *     the ring has one slot and the leader computes every job itself,
 *     exactly as a plain loop would.
 *  3. Workers exist only inside ckpt_pool_start()..ckpt_pool_finish(),
 *     i.e. while page data is written: after the THREAD records are taken
 *     and after park_all, so they are never in an image and never asked to
 *     park.  They are made with a raw clone (no libc: the leader runs in a
 *     signal handler and may have interrupted the application inside
 *     pthread_create or malloc), live on stacks inside the pool mapping,
 *     start with every signal blocked (the leader blocks all around the
 *     clone, so there is no window), call nothing but the encoder, the
 *     crc and memcpy, never touch errno or TLS, and leave with SYS_exit.
 *     finish waits until the kernel has cleared each one's tid word
 *     (CLONE_CHILD_CLEARTID: the thread no longer touches its stack) and
 *     until the thread is gone from the process (tgkill(0) says ESRCH), so
 *     the next checkpoint's scan of /proc/self/task cannot meet it.
 *  4. The pool mapping is made after the memory map was read: it is not
 *     in c->vmas, so no page of it is saved; it is unmapped by finish.
 *  5. Only the holder of the write token (pl->writing, taken by
 *     compare-and-swap) touches the image writer while the pool runs, and
 *     it writes DONE slots from the tail on, moving tail.  A worker that
 *     finishes a job tries to take it; with workers the leader writes
 *     only when its ring is full (it is the busier thread: pagemap, the
 *     zero test, cutting runs).  Page-cache writes were the leader's and
 *     the longest part of a 1 GiB save (~60 % of its CPU, issue #15);
 *     they now go to whoever is free.  The writer makes raw system calls
 *     (img_write.c), so a worker writing touches no errno.
 *
 * Incompressible fast path: a run's first 64 KiB fragment is compressed
 * (for good: fragments are independent, so its output is the start of the
 * run's block); if it does not shrink by 1/16, an 8 KiB sample from the
 * middle of the rest is compressed too, and if that does not shrink
 * either, the run is stored raw without compressing the rest.  Random
 * data then costs a quarter of an encoder pass, one copy and one crc, not
 * a whole encoder pass that fails (the encoder crosses random data at
 * ~1.3 GB/s, a copy and a crc run at ~5 GB/s).  The first fragment, not a
 * small sample, is the probe because data that repeats a page (a random
 * page copied over and over) compresses only across pages.  A run whose
 * two probes are incompressible but which compresses elsewhere is stored
 * raw: the price is ratio, never correctness, and the choice depends on
 * the run's bytes alone, so 1 and N threads write the same image.
 *
 * Cost: a futex wake per job only when a worker (or the leader) sleeps:
 * the sleeper announces itself (sleepers / leader_waits) and looks at the
 * futex word again before it waits, the waker bumps the word before it
 * looks at the announcement (sequentially consistent both), so a wake is
 * never lost; the waits are also timed (1 ms).  Memory: per slot 256 KiB
 * + the encoder's bound, per worker 64 KiB of stack and the encoder's
 * table, touched only as used (MAP_NORESERVE).
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"

#define POOL_RAW	((size_t)IMG_PAGES_MAX * IMG_PAGE_SIZE)
#define POOL_STACK	(64u << 10)
#define POOL_MAX_SLOTS	(2 * CKPT_POOL_MAX_THREADS)
#define POOL_SAMPLE	(2 * IMG_PAGE_SIZE)	/* the middle sample */
#define POOL_ALIGN(n)	(((n) + IMG_PAGE_SIZE - 1) & ~(size_t)(IMG_PAGE_SIZE - 1))

enum { SLOT_FREE, SLOT_QUEUED, SLOT_DONE };

struct pool_slot {
	int state;
	int stable;			/* src does not change: raw pages go out from it */
	struct img_pages p;		/* the record's fixed part; codec set by compute */
	const void *src;		/* the pages (live memory or in) */
	const void *data;		/* the payload: out, or src (stable raw pages) */
	size_t len;			/* payload bytes at data */
	uint32_t b_crc, rec_crc;
	unsigned char *in;		/* POOL_RAW: pages of unreadable mappings */
	unsigned char *out;		/* img_snappy_bound(POOL_RAW): the payload */
};

struct pool_worker {
	int tid;			/* set by clone, cleared by the kernel at exit */
	struct ckpt_pool *pool;
	unsigned char *ztab;
	unsigned char *stack_top;
};

struct ckpt_pool {
	uint64_t head, claim, tail;	/* invariant 1 */
	int writing;			/* the write token (invariant 5) */
	struct img_writer *w;
	uint32_t work;			/* futex: bumped at every post and at stop */
	uint32_t done;			/* futex: bumped at every finished job */
	int sleepers;			/* workers in (or entering) a wait on work */
	int leader_waits;		/* the leader is in (or entering) a wait on done */
	int stop;
	int nslots, nworkers;
	int no_compress;
	size_t map_len;
	struct pool_slot slots[POOL_MAX_SLOTS];
	struct pool_worker workers[CKPT_POOL_MAX_THREADS];
};

static long pool_futex(void *uaddr, int op, uint32_t val)
{
	struct timespec ms = { 0, 1000000 };

	/* Timed: a missed wake costs a millisecond, never a hang. */
	return arch_sys4(SYS_futex, uaddr, op, val, op == FUTEX_WAKE ? NULL : &ms);
}

int ckpt_pool_ncpus(void)
{
	unsigned long mask[16];		/* 1024 CPUs */
	long n = arch_sys3(SYS_sched_getaffinity, 0, sizeof(mask), mask);
	int cpus = 0;

	if (n <= 0)
		return 1;
	for (long i = 0; i < n / (long)sizeof(mask[0]); i++)
		cpus += __builtin_popcountl(mask[i]);
	return cpus > 0 ? cpus : 1;
}

/*
 * Compresses a run into out unless it looks incompressible: returns the
 * block's length, or raw when the run is to be stored raw (not compressed
 * past the probe).  The probe is the run's first fragment (compressed for
 * good: its output is the start of the block) and, if that does not
 * shrink by 1/16, a sample from the middle of the rest.
 */
static size_t pool_compress(const unsigned char *src, size_t raw, unsigned char *out,
			    unsigned char *ztab)
{
	size_t k = img_snappy_prefix(raw, out), first, z0, mid;
	unsigned char *op = out + k;

	first = raw < IMG_SNAPPY_FRAGMENT ? raw : IMG_SNAPPY_FRAGMENT;
	z0 = img_snappy_part(src, first, op, ztab);
	if (raw > first && z0 >= first - first / 16) {
		if (raw - first < 2 * POOL_SAMPLE)
			return raw;
		/* The sample's output goes where the rest's would. */
		mid = (first + (raw - first) / 2) & ~(size_t)(IMG_PAGE_SIZE - 1);
		if (img_snappy_part(src + mid, POOL_SAMPLE, op + z0, ztab) >=
		    POOL_SAMPLE - POOL_SAMPLE / 16)
			return raw;
	}
	return k + z0 + img_snappy_part(src + first, raw - first, op + z0, ztab);
}

/* A job's record: payload, codec, crcs.  Pure computation (any thread). */
static void pool_compute(struct ckpt_pool *pl, struct pool_slot *s, unsigned char *ztab)
{
	size_t raw = (size_t)s->p.npages * IMG_PAGE_SIZE, z = raw;

	s->data = s->out;
	if (s->p.codec == IMG_CODEC_ZERO) {
		s->len = 0;
		s->b_crc = 0;
	} else {
		if (!pl->no_compress)
			z = pool_compress(s->src, raw, s->out, ztab);
		if (z < raw - raw / 8) {
			s->p.codec = IMG_CODEC_SNAPPY;
			s->len = z;
		} else {
			/*
			 * Raw pages go out from a copy: the checksum and the
			 * bytes written must be the same bytes, and some saved
			 * pages (the handler's stack, libckpt's data) change
			 * while the image is written.  Not where they cannot
			 * change (stable: the forked copy's private memory,
			 * ckpt_mem.c), which saves a pass over every raw byte.
			 */
			if (s->stable)
				s->data = s->src;
			else
				__builtin_memcpy(s->out, s->src, raw);
			s->p.codec = IMG_CODEC_RAW;
			s->len = raw;
		}
		s->b_crc = img_crc32c(0, s->data, s->len);
	}
	s->rec_crc = img_record_crc(IMG_REC_PAGES, &s->p, sizeof(s->p), s->b_crc, s->len);
}

/*
 * Writes the finished slots at the tail, in order, while holding the
 * write token (invariant 5); any thread.  After giving the token back it
 * looks again, so a slot finished while the holder was leaving is not
 * left behind (its finisher's try failed while the token was held).
 */
static void pool_write_ready(struct ckpt_pool *pl)
{
	for (;;) {
		uint64_t t = __atomic_load_n(&pl->tail, __ATOMIC_SEQ_CST);
		struct pool_slot *s;
		int free_token = 0;

		if (t == __atomic_load_n(&pl->head, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&pl->slots[t % pl->nslots].state, __ATOMIC_SEQ_CST) != SLOT_DONE ||
		    !__atomic_compare_exchange_n(&pl->writing, &free_token, 1, 0, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			return;
		while ((t = pl->tail) < __atomic_load_n(&pl->head, __ATOMIC_ACQUIRE) &&
		       __atomic_load_n(&(s = &pl->slots[t % pl->nslots])->state,
				       __ATOMIC_ACQUIRE) == SLOT_DONE) {
			img_write_record_crc(pl->w, IMG_REC_PAGES, &s->p, sizeof(s->p), s->data,
					     s->len, s->b_crc, s->rec_crc);
			__atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELAXED);
			__atomic_store_n(&pl->tail, t + 1, __ATOMIC_RELEASE);
			__atomic_add_fetch(&pl->done, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&pl->leader_waits, __ATOMIC_SEQ_CST))
				pool_futex(&pl->done, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1);
		}
		__atomic_store_n(&pl->writing, 0, __ATOMIC_SEQ_CST);
	}
}

/* Claims and computes one queued job: 1 if it did, 0 if none was queued. */
static int pool_run_one(struct ckpt_pool *pl, unsigned char *ztab)
{
	uint64_t j = __atomic_load_n(&pl->claim, __ATOMIC_ACQUIRE);

	while (j < __atomic_load_n(&pl->head, __ATOMIC_ACQUIRE)) {
		if (__atomic_compare_exchange_n(&pl->claim, &j, j + 1, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			struct pool_slot *s = &pl->slots[j % pl->nslots];

			pool_compute(pl, s, ztab);
			__atomic_store_n(&s->state, SLOT_DONE, __ATOMIC_SEQ_CST);
			__atomic_add_fetch(&pl->done, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&pl->leader_waits, __ATOMIC_SEQ_CST))
				pool_futex(&pl->done, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1);
			pool_write_ready(pl);
			return 1;
		}
	}
	return 0;
}

/* A worker's life: compute jobs until told to stop. */
static void pool_worker_main(void *arg)
{
	struct pool_worker *w = arg;
	struct ckpt_pool *pl = w->pool;

	for (;;) {
		uint32_t seen = __atomic_load_n(&pl->work, __ATOMIC_ACQUIRE);

		if (pool_run_one(pl, w->ztab))
			continue;
		pool_write_ready(pl);
		if (__atomic_load_n(&pl->stop, __ATOMIC_ACQUIRE))
			return;
		/* Announce the wait, then look again (pairs with ckpt_pool_post). */
		__atomic_add_fetch(&pl->sleepers, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&pl->work, __ATOMIC_SEQ_CST) == seen)
			pool_futex(&pl->work, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, seen);
		__atomic_sub_fetch(&pl->sleepers, 1, __ATOMIC_SEQ_CST);
	}
}

/*
 * A thread of this process running fn(arg) on stack_top, without libc:
 * the tid goes to *tidp (CLONE_PARENT_SETTID) before clone returns, and
 * the kernel clears it when the thread exits.  tid, or -errno.
 */
static long pool_clone(struct pool_worker *w, void (*fn)(void *))
{
	unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			      CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	void **sp = (void **)w->stack_top;
	register long r10 __asm__("r10") = (long)&w->tid;
	register long r8 __asm__("r8") = 0;
	long ret;

	*--sp = w;			/* popped by the child: fn, then arg */
	*--sp = (void *)fn;
	__asm__ volatile(
		"syscall\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		/* child: on its own stack, nothing of the parent's frame */
		"xor %%ebp, %%ebp\n\t"
		"pop %%rax\n\t"
		"pop %%rdi\n\t"
		"and $-16, %%rsp\n\t"
		"call *%%rax\n\t"
		"mov %[nr_exit], %%eax\n\t"
		"xor %%edi, %%edi\n\t"
		"syscall\n\t"
		"hlt\n\t"
		"1:\n\t"
		: "=a"(ret)
		: "0"((long)SYS_clone), "D"(flags), "S"(sp), "d"(&w->tid), "r"(r10), "r"(r8),
		  [nr_exit] "i"(SYS_exit)
		: "rcx", "r11", "memory");
	return ret;
}

/*
 * Threads for a process of this size: every CPU, unless CKPT_THREADS says,
 * or the process never held POOL_SMALL bytes (its peak RSS, one system
 * call): a few MiB compress on one thread in about a millisecond, which
 * is what starting, waking and joining workers costs.
 */
#define POOL_SMALL	(16ull << 20)

static int pool_threads(const struct ckpt_ctx *c)
{
	struct { struct { long s, us; } ut, st; long maxrss_kib, rest[13]; } ru;

	if (c->threads > 0)
		return c->threads;
	if (arch_sys2(SYS_getrusage, 0 /* RUSAGE_SELF */, &ru) == 0 &&
	    (uint64_t)ru.maxrss_kib * 1024 < POOL_SMALL)
		return 1;
	return ckpt_pool_ncpus();
}

int ckpt_pool_start(struct ckpt_ctx *c)
{
	int n = pool_threads(c);
	int nworkers, nslots;
	size_t len, out_len = POOL_ALIGN(img_snappy_bound(POOL_RAW));
	struct ckpt_pool *pl;
	unsigned char *p;
	uint64_t all = ~0ull, old;

	if (n > CKPT_POOL_MAX_THREADS)
		n = CKPT_POOL_MAX_THREADS;
	nworkers = n - 1;
	nslots = nworkers ? 2 * n : 1;
	len = POOL_ALIGN(sizeof(*pl)) + nworkers * (size_t)(POOL_STACK + IMG_SNAPPY_SCRATCH) +
	      nslots * (POOL_RAW + out_len);
	p = ckpt_map_anon(len, PROT_READ | PROT_WRITE);	/* never locked (MCL_FUTURE) */
	if (p == MAP_FAILED)
		return ckpt_fail(c, -errno, "cannot map %zu bytes for the compression threads", len);
	pl = (struct ckpt_pool *)p;
	pl->map_len = len;
	pl->nslots = nslots;
	pl->no_compress = c->no_compress;
	pl->w = &c->w;
	p += POOL_ALIGN(sizeof(*pl));
	for (int i = 0; i < nslots; i++) {
		pl->slots[i].in = p;
		pl->slots[i].out = p + POOL_RAW;
		p += POOL_RAW + out_len;
	}
	c->pool = pl;

	/* Workers inherit the mask: all blocked from their first instruction. */
	arch_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(all));
	for (int i = 0; i < nworkers; i++) {
		struct pool_worker *w = &pl->workers[i];

		w->pool = pl;
		w->ztab = p;
		w->stack_top = p + IMG_SNAPPY_SCRATCH + POOL_STACK;
		p += IMG_SNAPPY_SCRATCH + POOL_STACK;
		if (pool_clone(w, pool_worker_main) < 0)
			break;		/* fewer workers: slower, not wrong */
		pl->nworkers++;
	}
	arch_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(old));
	return 0;
}

/* Writes done slots in order; waits (helping) until every job below `upto` is written. */
static void pool_drain(struct ckpt_ctx *c, uint64_t upto)
{
	struct ckpt_pool *pl = c->pool;

	for (;;) {
		uint32_t d;

		pool_write_ready(pl);
		if (__atomic_load_n(&pl->tail, __ATOMIC_ACQUIRE) >= upto)
			return;
		if (pool_run_one(pl, c->ztab))
			continue;
		/* Announce the wait, then look again (pairs with the wakes above). */
		d = __atomic_load_n(&pl->done, __ATOMIC_SEQ_CST);
		__atomic_store_n(&pl->leader_waits, 1, __ATOMIC_SEQ_CST);
		pool_write_ready(pl);
		if (__atomic_load_n(&pl->tail, __ATOMIC_SEQ_CST) < upto &&
		    __atomic_load_n(&pl->done, __ATOMIC_SEQ_CST) == d)
			pool_futex(&pl->done, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, d);
		__atomic_store_n(&pl->leader_waits, 0, __ATOMIC_RELAXED);
	}
}

void *ckpt_pool_next_buf(struct ckpt_ctx *c)
{
	struct ckpt_pool *pl = c->pool;

	if (pl->head - __atomic_load_n(&pl->tail, __ATOMIC_ACQUIRE) >= (uint64_t)pl->nslots)
		pool_drain(c, pl->head - pl->nslots + 1);
	return pl->slots[pl->head % pl->nslots].in;
}

int ckpt_pool_post(struct ckpt_ctx *c, uint64_t addr, uint32_t npages, int zero, const void *src,
		   int stable)
{
	struct ckpt_pool *pl = c->pool;
	struct pool_slot *s;

	ckpt_pool_next_buf(c);		/* a free slot (invariant 1) */
	s = &pl->slots[pl->head % pl->nslots];
	__builtin_memset(&s->p, 0, sizeof(s->p));
	s->p.addr = addr;
	s->p.npages = npages;
	s->p.codec = zero ? IMG_CODEC_ZERO : IMG_CODEC_RAW;
	s->src = src;
	s->stable = stable;
	s->state = SLOT_QUEUED;
	__atomic_store_n(&pl->head, pl->head + 1, __ATOMIC_RELEASE);
	if (pl->nworkers) {
		/* Wake a worker only if one waits: a futex call per job otherwise. */
		__atomic_add_fetch(&pl->work, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&pl->sleepers, __ATOMIC_SEQ_CST))
			pool_futex(&pl->work, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1);
	}
	/* Alone, write what is done; with workers they write (invariant 5). */
	if (!pl->nworkers)
		pool_drain(c, 0);
	return __atomic_load_n(&c->w.error, __ATOMIC_ACQUIRE);
}

int ckpt_pool_finish(struct ckpt_ctx *c)
{
	struct ckpt_pool *pl = c->pool;
	long pid = arch_sys0(SYS_getpid);

	if (!pl)
		return c->w.error;
	pool_drain(c, pl->head);
	__atomic_store_n(&pl->stop, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&pl->work, 1, __ATOMIC_RELEASE);
	pool_futex(&pl->work, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 0x7fffffff);
	for (int i = 0; i < pl->nworkers; i++) {
		struct pool_worker *w = &pl->workers[i];
		int tid = w->tid, t;

		/* The kernel's CLONE_CHILD_CLEARTID wake is a shared futex. */
		while ((t = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE)) != 0)
			pool_futex(&w->tid, FUTEX_WAIT, (uint32_t)t);
		for (int k = 0; k < 100000 && arch_sys3(SYS_tgkill, pid, tid, 0) == 0; k++)
			arch_sys0(SYS_sched_yield);
	}
	munmap(pl, pl->map_len);
	c->pool = NULL;
	return c->w.error;
}
