/*
 * restart_pool.c - PAGES payloads decoded by one thread per CPU while the
 * main thread goes on reading the image.
 *
 * The main thread reads and checks every record (crc, bounds, which
 * mapping) and makes the staging memory; for a PAGES record it takes the
 * payload buffer from the reader (img_reader_take_payload), giving it a
 * free one instead, and queues (payload, destination) as a job.  Workers
 * decode jobs into the staging memory and give the buffers back.
 *
 * Invariants:
 *  1. Jobs write disjoint destinations (each page of a mapping is saved
 *     once; a duplicate would only make two jobs write the same bytes of
 *     staging, which the image's own checks do not forbid, so decoding
 *     order never changes the result of a valid image).
 *  2. A bounded number of buffers (2 per thread, plus one) is in flight:
 *     when none is free, the main thread decodes a queued job itself
 *     instead of waiting, or waits for a worker to give one back.
 *  3. Threads exist only between the first PAGES record and
 *     rst_pool_finish(), which joins them all and waits until their tids
 *     are free again (the image may need them for its own threads).  So
 *     everything after rst_load_rest (restart_jump.c) runs single-threaded.
 *  4. A failed job is remembered (the one at the lowest image offset) and
 *     reported by rst_pool_finish; after a failure the main thread stops
 *     reading.  Nothing of the target process exists before then.
 *
 * CKPT_THREADS (environment) sets the number of threads; 1 decodes every
 * payload in the main thread, as a plain loop would.
 *
 * Cost: no copy of the payload (buffers change hands); per job one mutex
 * round trip and a condition signal (~1 us per 256 KiB).  Decoding runs on
 * every CPU, page faults of the staging memory included.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "restart/rst.h"

#define POOL_MAX_THREADS	64
#define POOL_STACK		(256u << 10)
#define POOL_INLINE		32	/* records (up to 8 MiB) decoded before threads start */

struct rst_job {
	struct img_pages p;
	void *buf;		/* the payload buffer, owned by the job; NULL when
				 * the payload is a view into the mapped image */
	size_t cap;
	const void *data;	/* the page data (in buf, or in the image) */
	size_t len;		/* data bytes after the struct img_pages */
	void *dst;
	uint64_t offset;	/* of the record, for messages */
	int drop;		/* --check: release the staging pages afterwards */
	int uffd;		/* >= 0: dst is registered there (restart_fill.c) */
	struct rst_piece *pieces;	/* a 2 MiB window's records (owned), or NULL */
	int npieces;
	struct rst_fill *fill;		/* the window's */
};

struct rst_pool {
	pthread_mutex_t mu;
	pthread_cond_t more;	/* a job was queued, or stop */
	pthread_cond_t room;	/* a buffer came back */
	struct rst_job *q;	/* ring of queued jobs, nbufs long */
	int qhead, qlen;
	void **free_buf;	/* buffers no job holds */
	size_t *free_cap;
	int nfree, nbufs, maxbufs;
	int nthreads;
	pthread_t *threads;
	pid_t *tids;
	int stop;
	int failed;		/* a job failed: err/fail_offset, exit code fail_code */
	int fail_code;
	uint64_t fail_offset, fail_addr;
	struct rst_runner main_runner;	/* buffers for jobs the main thread runs */
	char err[256];
};

/* Threads to use: CKPT_THREADS, else one per CPU we may run on. */
static int pool_nthreads(void)
{
	const char *v = getenv("CKPT_THREADS");
	cpu_set_t set;
	int n = 0;

	if (v && *v) {
		char *end;
		long k = strtol(v, &end, 10);

		if (!*end && k > 0)
			n = (int)k;
	}
	if (n <= 0)
		n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
	return n > POOL_MAX_THREADS ? POOL_MAX_THREADS : n;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14; older kernels: EINVAL, ignored */
#endif

/*
 * One record's pages into dst (staging).  They are allocated first with
 * one system call: a page fault per page costs about half as much again
 * (measured here: 2.5 against 1.7 us a page).  drop (--check): the
 * decoded memory is not needed, so it is neither allocated ahead nor kept.
 */
static int pages_decode(const struct img_pages *p, const void *data, size_t len, void *dst,
			int drop, char *err, size_t errlen)
{
	size_t n = (size_t)p->npages * IMG_PAGE_SIZE;

	if (!drop && p->codec != IMG_CODEC_ZERO && p->npages <= IMG_PAGES_MAX)
		madvise(dst, n, MADV_POPULATE_WRITE);
	if (img_pages_decode(p, data, len, dst, err, errlen) < 0)
		return -1;
	if (drop)
		madvise(dst, n, MADV_DONTNEED);
	return 0;
}

/* One job's work: 0, or an exit code with err set. */
static int job_fill(const struct rst_job *j, struct rst_runner *rn, char *err, size_t errlen)
{
	int r;

	if (j->pieces) {
		r = rst_fill_window(j->fill, rn, j->pieces, j->npieces, j->dst, err, errlen);
		free(j->pieces);
		return r;
	}
	if (j->uffd >= 0)
		return rst_fill_one(j->uffd, rn, &j->p, j->data, j->len, j->dst, err, errlen);
	return pages_decode(&j->p, j->data, j->len, j->dst, j->drop, err, errlen) < 0 ?
	       RST_EXIT_IMAGE : 0;
}

/* Decodes one job (any thread, no lock held); records a failure. */
static void job_run(struct rst_pool *pl, struct rst_job *j, struct rst_runner *rn)
{
	char err[256];
	int r = job_fill(j, rn, err, sizeof(err));

	if (r) {
		pthread_mutex_lock(&pl->mu);
		if (!pl->failed || j->offset < pl->fail_offset) {
			pl->failed = 1;
			pl->fail_code = r;
			pl->fail_offset = j->offset;
			pl->fail_addr = j->pieces ? j->pieces[0].p.addr : j->p.addr;
			snprintf(pl->err, sizeof(pl->err), "%s", err);
		}
		pthread_mutex_unlock(&pl->mu);
	}
}

/* Gives a finished job's buffer back (mu held). */
static void job_done(struct rst_pool *pl, struct rst_job *j)
{
	if (!j->buf)
		return;
	pl->free_buf[pl->nfree] = j->buf;
	pl->free_cap[pl->nfree++] = j->cap;
	pthread_cond_signal(&pl->room);
}

/*
 * Takes the oldest queued job and runs it without the lock (mu held,
 * qlen > 0), with rn's buffers (NULL: the main thread's).
 */
static void job_next(struct rst_pool *pl, struct rst_runner *rn)
{
	struct rst_job j = pl->q[pl->qhead];

	pl->qhead = (pl->qhead + 1) % pl->maxbufs;
	pl->qlen--;
	pthread_mutex_unlock(&pl->mu);
	job_run(pl, &j, rn ? rn : &pl->main_runner);
	pthread_mutex_lock(&pl->mu);
	job_done(pl, &j);
}

static void *pool_worker(void *arg)
{
	struct rst_pool *pl = arg;
	struct rst_runner rn = { 0 };
	int me;

	pthread_mutex_lock(&pl->mu);
	me = pl->nthreads;	/* not yet counted: our index */
	pl->tids[me] = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&pl->room);
	for (;;) {
		while (!pl->qlen && !pl->stop)
			pthread_cond_wait(&pl->more, &pl->mu);
		if (!pl->qlen)
			break;		/* stop, and nothing left */
		job_next(pl, &rn);
	}
	pthread_mutex_unlock(&pl->mu);
	rst_runner_free(&rn);
	return NULL;
}

static int pool_stop(struct rst_state *s);

/* The pool, made on the first PAGES record; NULL when one thread decodes. */
static struct rst_pool *pool_start(struct rst_state *s)
{
	int n = pool_nthreads();
	struct rst_pool *pl;
	pthread_attr_t attr;

	if (n <= 1) {
		s->pool_off = 1;
		return NULL;
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		abort();
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->more, NULL);
	pthread_cond_init(&pl->room, NULL);
	pl->maxbufs = 2 * n + 1;
	pl->q = calloc(pl->maxbufs, sizeof(*pl->q));
	pl->free_buf = calloc(pl->maxbufs, sizeof(*pl->free_buf));
	pl->free_cap = calloc(pl->maxbufs, sizeof(*pl->free_cap));
	pl->threads = calloc(n, sizeof(*pl->threads));
	pl->tids = calloc(n, sizeof(*pl->tids));
	if (!pl->q || !pl->free_buf || !pl->free_cap || !pl->threads || !pl->tids)
		abort();
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, POOL_STACK);
	pthread_mutex_lock(&pl->mu);
	for (int i = 0; i < n; i++) {
		int r = pthread_create(&pl->threads[i], &attr, pool_worker, pl);

		if (r)
			break;		/* fewer threads: slower, not wrong */
		/* Wait until it has taken its index, so indexes are unique. */
		while (pl->tids[pl->nthreads] == 0)
			pthread_cond_wait(&pl->room, &pl->mu);
		pl->nthreads++;
	}
	pthread_mutex_unlock(&pl->mu);
	pthread_attr_destroy(&attr);
	s->pool = pl;
	if (pl->nthreads == 0) {	/* none at all: decode in this one */
		pool_stop(s);
		s->pool_off = 1;
		return NULL;
	}
	return pl;
}

/*
 * A free buffer for the reader (mu held): recycled, new while fewer than
 * maxbufs exist, else one a job gives back (the main thread decoding a
 * queued job itself meanwhile, invariant 2).
 */
static void *pool_buffer(struct rst_pool *pl, size_t *cap)
{
	while (!pl->nfree) {
		if (pl->nbufs < pl->maxbufs) {
			*cap = sizeof(struct img_pages) + img_snappy_bound(IMG_PAGES_MAX * IMG_PAGE_SIZE);
			pl->nbufs++;
			return malloc(*cap);	/* NULL: the reader allocates */
		}
		if (pl->qlen) {
			job_next(pl, NULL);
			continue;
		}
		pthread_cond_wait(&pl->room, &pl->mu);
	}
	*cap = pl->free_cap[--pl->nfree];
	return pl->free_buf[pl->nfree];
}

/* A job to a worker, or run here while the pool is not (yet) used. */
static int pool_submit(struct rst_state *s, struct rst_job *j)
{
	/*
	 * The first records are decoded here: a small image (a 1 MiB process
	 * has a few dozen) is done before threads would have started, and
	 * their start and join cost a restart of it about a millisecond.
	 */
	struct rst_pool *pl = s->pool ? s->pool :
			      s->pool_off || s->pool_inline++ < POOL_INLINE ? NULL : pool_start(s);
	void *nbuf;
	size_t ncap;

	if (!pl) {		/* one thread: decode here */
		char err[256];
		int r = job_fill(j, j->uffd >= 0 ? rst_fill_main_runner(s) : NULL, err, sizeof(err));

		if (r)
			rst_error(s, "%spage data at %lx (offset %lu): %s",
				  r == RST_EXIT_IMAGE ? "corrupt: " : "",
				  (unsigned long)j->p.addr, (unsigned long)j->offset, err);
		return r;
	}
	pthread_mutex_lock(&pl->mu);
	if (pl->failed) {
		pthread_mutex_unlock(&pl->mu);
		free(j->pieces);
		return pl->fail_code;	/* reported by rst_pool_finish */
	}
	if (s->r.map || j->pieces) {
		/* A view into the mapped image: no buffer, only room in the ring
		 * (running a queued job here meanwhile, as pool_buffer does). */
		while (pl->qlen == pl->maxbufs)
			job_next(pl, NULL);
		j->buf = NULL;
	} else {
		/* the current record's payload: the reader's buffer changes hands */
		nbuf = pool_buffer(pl, &ncap);
		j->buf = img_reader_take_payload(&s->r, nbuf, ncap, &j->cap);
	}
	pl->q[(pl->qhead + pl->qlen) % pl->maxbufs] = *j;
	pl->qlen++;
	pthread_cond_signal(&pl->more);
	pthread_mutex_unlock(&pl->mu);
	return 0;
}

int rst_pool_decode(struct rst_state *s, const struct img_rec *rec, const struct img_pages *p,
		    void *dst, int drop)
{
	struct rst_job j = { .p = *p, .data = p + 1, .len = rec->len - sizeof(*p), .dst = dst,
			     .offset = rec->offset, .drop = drop, .uffd = -1 };

	return pool_submit(s, &j);
}

int rst_pool_piece(struct rst_state *s, const struct rst_piece *q, void *dst)
{
	struct rst_job j = { .p = q->p, .data = q->data, .len = q->len, .dst = dst,
			     .offset = q->offset, .uffd = rst_fill_uffd(s) };

	return pool_submit(s, &j);
}

int rst_pool_window(struct rst_state *s, struct rst_piece *pc, int npc, void *dst)
{
	struct rst_job j = { .p = pc[0].p, .dst = dst, .offset = pc[0].offset,
			     .uffd = rst_fill_uffd(s), .pieces = pc, .npieces = npc,
			     .fill = rst_fill_of(s) };

	return pool_submit(s, &j);
}

/* Joins the threads, frees the pool, reports a failed job: 0 or its exit code. */
static int pool_stop(struct rst_state *s)
{
	struct rst_pool *pl = s->pool;
	int r = 0;

	if (!pl)
		return 0;
	pthread_mutex_lock(&pl->mu);
	pl->stop = 1;
	pthread_cond_broadcast(&pl->more);
	pthread_mutex_unlock(&pl->mu);
	for (int i = 0; i < pl->nthreads; i++)
		pthread_join(pl->threads[i], NULL);
	/* The kernel frees a tid just after the join can see the thread gone. */
	for (int i = 0; i < pl->nthreads; i++)
		for (int k = 0; k < 100000 && syscall(SYS_tgkill, getpid(), pl->tids[i], 0) == 0; k++)
			sched_yield();
	/* Jobs left queued (no thread ran them) cannot exist: workers drain
	 * the queue before they stop. */
	if (pl->failed) {
		rst_error(s, "%spage data at %lx (offset %lu): %s",
			  pl->fail_code == RST_EXIT_IMAGE ? "corrupt: " : "",
			  (unsigned long)pl->fail_addr, (unsigned long)pl->fail_offset, pl->err);
		r = pl->fail_code;
	}
	rst_runner_free(&pl->main_runner);
	for (int i = 0; i < pl->nfree; i++)
		free(pl->free_buf[i]);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->more);
	pthread_cond_destroy(&pl->room);
	free(pl->q);
	free(pl->free_buf);
	free(pl->free_cap);
	free(pl->threads);
	free(pl->tids);
	free(pl);
	s->pool = NULL;
	return r;
}

int rst_pool_finish(struct rst_state *s)
{
	int r = rst_fill_flush(s);	/* a window left incomplete */
	int pr = pool_stop(s);

	rst_fill_done(s);		/* every job done: unregistered */
	return pr ? pr : r;
}
