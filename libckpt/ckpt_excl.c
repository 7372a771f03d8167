/*
 * ckpt_excl.c - memory the program asked not to be saved (ckpt_exclude,
 * include/ckpt.h): a cache it can rebuild, a secret that must not reach
 * a file.  Its pages are left out of every image and read as zeros in a
 * restarted process.
 *
 * What is excluded: the private anonymous pages (heap, anonymous
 * mappings, stacks) in the ranges; that is where a program keeps such
 * data.  Pages of other mappings in a range (a file mapped privately or
 * shared, shared memory) are saved as usual: leaving them out would
 * bring back the file's bytes or another process's, not zeros.
 *
 * How "zero after a restart" holds in every mode: a full image simply
 * has no page there (anonymous memory comes back zero); a mappable image
 * likewise; an incremental image also cuts the ranges out of the ones it
 * inherits from its parent (ckpt_parent.c), so that a page an older
 * image holds (saved before the exclusion) is not taken from it, and
 * writes none of the dirty pages there (ckpt_dirty.c).  After a
 * ckpt_include() the next image is full: the pages put back are in no
 * image since they were excluded, dirty or not.
 *
 * The set is changed by ckpt_exclude/ckpt_include (normal context, under
 * a lock) and read by the checkpoint (signal context): two copies, the
 * change made in the one not in use and published by one atomic store.
 * A reader takes the published copy while every other thread is parked
 * (or in a forked copy of the process), so no second change can start
 * on the copy it reads.  Ranges are sorted, disjoint, not adjacent, page
 * aligned.
 */
#include <errno.h>
#include <pthread.h>
#include "libckpt/ckpt.h"

struct excl_set {
	uint32_t n;
	struct img_range r[CKPT_EXCL_MAX];
};

static struct excl_set excl_sets[2];
static int excl_cur;			/* the published copy */
static unsigned excl_gen;		/* ckpt_include() calls that took something away */
static pthread_mutex_t excl_lock = PTHREAD_MUTEX_INITIALIZER;

const struct img_range *ckpt_excl_ranges(uint32_t *n)
{
	const struct excl_set *s = &excl_sets[__atomic_load_n(&excl_cur, __ATOMIC_ACQUIRE)];

	*n = s->n;
	return s->r;
}

/* out = in with [start, end) added (add) or taken away: 0, or -ENOSPC. */
static int excl_change(const struct excl_set *in, struct excl_set *out, uint64_t start,
		       uint64_t end, int add)
{
	uint32_t i = 0;

	out->n = 0;
#define PUT(s, e)							\
	do {								\
		if (out->n == CKPT_EXCL_MAX)				\
			return -ENOSPC;					\
		out->r[out->n++] = (struct img_range){ (s), (e) };	\
	} while (0)
	/* ranges wholly before the new one, not touching it */
	for (; i < in->n && in->r[i].end < start; i++)
		PUT(in->r[i].start, in->r[i].end);
	if (add) {
		uint64_t s = start, e = end;

		for (; i < in->n && in->r[i].start <= end; i++) {
			s = in->r[i].start < s ? in->r[i].start : s;
			e = in->r[i].end > e ? in->r[i].end : e;
		}
		PUT(s, e);
	} else {
		for (; i < in->n && in->r[i].start < end; i++) {
			if (in->r[i].start < start)
				PUT(in->r[i].start, start);
			if (in->r[i].end > end)
				PUT(end, in->r[i].end);
		}
	}
	for (; i < in->n; i++)
		PUT(in->r[i].start, in->r[i].end);
#undef PUT
	return 0;
}

int ckpt_excl_set(uint64_t start, uint64_t len, int add)
{
	int cur, r;

	if (!len || (start | len) & (IMG_PAGE_SIZE - 1) || start + len < start)
		return -EINVAL;
	pthread_mutex_lock(&excl_lock);
	cur = excl_cur;
	r = excl_change(&excl_sets[cur], &excl_sets[!cur], start, start + len, add);
	if (r == 0 && !add)
		__atomic_add_fetch(&excl_gen, 1, __ATOMIC_RELEASE);
	if (r == 0)
		__atomic_store_n(&excl_cur, !cur, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&excl_lock);
	return r;
}

unsigned ckpt_excl_gen(void)
{
	return __atomic_load_n(&excl_gen, __ATOMIC_ACQUIRE);
}

void ckpt_excl_forked(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	__builtin_memcpy(&excl_lock, &fresh, sizeof(fresh));
}

int ckpt_excl_applies(const struct ckpt_vma *v)
{
	return (v->flags & (IMG_VMA_ANON | IMG_VMA_SHARED)) == IMG_VMA_ANON &&
	       !(v->flags & IMG_VMA_VDSO) && !v->backed;
}

int ckpt_excl_each(uint64_t start, uint64_t end,
		   int (*fn)(uint64_t s, uint64_t e, int excluded, void *arg), void *arg)
{
	uint32_t n, i;
	const struct img_range *x = ckpt_excl_ranges(&n);
	int r;

	for (i = 0; i < n && start < end; i++) {
		uint64_t xs = x[i].start > start ? x[i].start : start;
		uint64_t xe = x[i].end < end ? x[i].end : end;

		if (x[i].end <= start)
			continue;
		if (x[i].start >= end)
			break;
		if (xs > start && (r = fn(start, xs, 0, arg)))
			return r;
		if ((r = fn(xs, xe, 1, arg)))
			return r;
		start = xe;
	}
	return start < end ? fn(start, end, 0, arg) : 0;
}
