/*
 * restart_chain.c - restarting from an incremental image: follow its
 * chain of parents and fill in the pages it inherits.
 *
 * The newest image is read first, as any image (restart_load.c), and its
 * pages are marked in each mapping's `have` bitmap.  Then each parent in
 * turn, newest to oldest: a page of a parent is used only where
 *   - it lies in the ranges inherited by every image after it (the
 *     "allowed" set: the newest image's ranges, intersected with its
 *     parent's, and so on — a range not tracked at some link was saved
 *     whole there and nothing older applies), and
 *   - no newer image holds it (`have`).
 * The walk stops at a full image, or early when nothing is allowed any
 * more.  Every parent is read whole: its END checksum is verified like
 * the newest image's, and nothing of the process exists before that.
 *
 * Finding a parent: the path the PARENT record stores (absolute when
 * libckpt knew it), then the same file name in the directory of the
 * image that names it (a chain moved or copied together).  A candidate
 * must carry the identity the record names (header ctime_ns, pid,
 * hdr_crc); a missing or replaced parent is an error that says which.
 * Trust: a parent gives the process its memory, so under a trusted image
 * (root's, restart_trust.c) every parent must be root's too, or the
 * restart is refused; under an untrusted one they are read as its owner.
 *
 * Cost: every saved page of every needed parent is decoded once; pages
 * overridden by newer images are decoded and dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "restart/rst.h"

#define CHAIN_MAX	4096		/* images in a chain: beyond, a loop */

struct rst_chain {
	struct img_parent p;		/* the newest image's PARENT */
	struct img_range *ranges;
	char *path;
};

/* One link being followed: who the parent is, and what it may give. */
struct chain_link {
	uint64_t ctime_ns;
	int32_t pid;
	uint32_t hdr_crc;
	char *path;
	struct img_range *allowed;
	uint32_t nallowed;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int rst_chain_note(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_parent *p = img_get_parent(&s->r, rec);
	struct rst_chain *ch;

	if (!p) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	if (s->chain || !(s->r.hdr.flags & IMG_F_INCREMENTAL)) {
		rst_error(s, "corrupt: PARENT record at offset %lu in %s",
			  (unsigned long)rec->offset, s->chain ? "an image that already has one" :
			  "an image that is not incremental");
		return RST_EXIT_IMAGE;
	}
	ch = xmalloc(sizeof(*ch));
	ch->p = *p;
	ch->ranges = xmalloc(p->nranges * sizeof(*ch->ranges));
	memcpy(ch->ranges, p + 1, p->nranges * sizeof(*ch->ranges));
	ch->path = xstrndup((const char *)(p + 1) + p->nranges * sizeof(struct img_range),
			    p->path_len);
	s->chain = ch;
	return 0;
}

/* The mapping holding addr (s->vmas is sorted and disjoint), or NULL. */
static struct rst_vma *chain_vma(struct rst_state *s, uint64_t addr)
{
	int lo = 0, hi = s->nvmas;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (s->vmas[mid].v.end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nvmas && s->vmas[lo].v.start <= addr ? &s->vmas[lo] : NULL;
}

static int have_page(const struct rst_vma *v, uint64_t addr)
{
	uint64_t i = (addr - v->v.start) / IMG_PAGE_SIZE;

	return v->have && (v->have[i / 8] & (1 << (i % 8)));
}

void rst_chain_mark(struct rst_state *s, struct rst_vma *v, uint64_t addr, uint32_t npages)
{
	uint64_t first = (addr - v->v.start) / IMG_PAGE_SIZE;

	if (!(s->r.hdr.flags & IMG_F_INCREMENTAL))
		return;
	if (!v->have) {
		v->have = calloc((v->v.end - v->v.start) / IMG_PAGE_SIZE / 8 + 1, 1);
		if (!v->have)
			abort();
	}
	for (uint64_t i = first; i < first + npages; i++)
		v->have[i / 8] |= 1 << (i % 8);
}

/* 1 when addr lies in one of the sorted ranges. */
static int in_ranges(const struct img_range *rg, uint32_t n, uint64_t addr)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (rg[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && rg[lo].start <= addr;
}

/*
 * *a ∩ b of two sorted, disjoint range lists, into *a (a new array: a
 * range of one list may hold several of the other, as when an image
 * inherits a mapping less the ranges the program excluded, so the result
 * can have more ranges than either).
 */
static uint32_t intersect(struct img_range **ap, uint32_t na, const struct img_range *b,
			  uint32_t nb)
{
	struct img_range *a = *ap, *out = xmalloc((na + nb) * sizeof(*out));
	uint32_t i = 0, j = 0, n = 0;

	while (i < na && j < nb) {
		uint64_t lo = a[i].start > b[j].start ? a[i].start : b[j].start;
		uint64_t hi = a[i].end < b[j].end ? a[i].end : b[j].end;

		if (lo < hi)
			out[n++] = (struct img_range){ lo, hi };
		if (a[i].end < b[j].end)
			i++;
		else
			j++;
	}
	free(a);
	*ap = out;
	return n;
}

/* Applies the pages of one parent PAGES record that are allowed and not had. */
static int chain_pages(struct rst_state *s, struct img_reader *r, const struct img_rec *rec,
		       const struct chain_link *l, const char *name)
{
	static unsigned char buf[IMG_PAGES_MAX * IMG_PAGE_SIZE];
	const struct img_pages *p = img_get_pages(r, rec);
	uint64_t want = 0;		/* bit j: page j is used */
	struct rst_vma *v = NULL;
	unsigned char *dst = buf;
	char err[256];

	if (!p) {
		rst_error(s, "parent %s: %s", name, r->err);
		return RST_EXIT_IMAGE;
	}
	for (uint32_t j = 0; j < p->npages; j++) {
		uint64_t a = p->addr + (uint64_t)j * IMG_PAGE_SIZE;
		struct rst_vma *pv;

		if (!in_ranges(l->allowed, l->nallowed, a) || !(pv = chain_vma(s, a)) ||
		    have_page(pv, a))
			continue;
		want |= 1ull << j;
		v = pv;
	}
	if (!want)
		return 0;
	if (!s->check_only) {
		if (!s->reserved)
			rst_reserve(s);
		for (uint32_t j = 0; j < p->npages; j++) {
			struct rst_vma *pv = chain_vma(s, p->addr + (uint64_t)j * IMG_PAGE_SIZE);
			int rc;

			if ((want >> j & 1) && !pv->staging && (rc = rst_stage(s, pv)))
				return rc;
		}
		/* every page used, in one mapping: decode in place, no copy */
		if (want == (p->npages == 64 ? ~0ull : (1ull << p->npages) - 1) &&
		    chain_vma(s, p->addr) == v &&
		    p->addr + (uint64_t)p->npages * IMG_PAGE_SIZE <= v->v.end)
			dst = (unsigned char *)v->staging + (p->addr - v->v.start);
	}
	if (img_pages_decode(p, p + 1, rec->len - sizeof(*p), dst, err, sizeof(err)) < 0) {
		rst_error(s, "parent %s: corrupt page data at %lx (offset %lu): %s", name,
			  (unsigned long)p->addr, (unsigned long)rec->offset, err);
		return RST_EXIT_IMAGE;
	}
	for (uint32_t j = 0; j < p->npages; j++) {
		uint64_t a = p->addr + (uint64_t)j * IMG_PAGE_SIZE;

		if (!(want >> j & 1))
			continue;
		v = chain_vma(s, a);
		rst_chain_mark(s, v, a, 1);
		if (!s->check_only && dst == buf)
			memcpy((char *)v->staging + (a - v->v.start), buf + (size_t)j * IMG_PAGE_SIZE,
			       IMG_PAGE_SIZE);
	}
	return 0;
}

/*
 * Opens the parent the link names: its stored path, then its file name
 * next to `child`.  The reader is open on success; exit code otherwise.
 */
static int chain_open(struct rst_state *s, const char *child, const struct chain_link *l,
		      struct img_reader *r, int *fdp, char **used)
{
	char *cand[2] = { NULL, NULL };
	const char *base = strrchr(l->path, '/');
	const char *slash = strcmp(child, "-") ? strrchr(child, '/') : NULL;
	char why[512] = "";

	base = base ? base + 1 : l->path;
	if (l->path[0] == '/' || !slash)
		cand[0] = strdup(l->path);
	else if (asprintf(&cand[0], "%.*s/%s", (int)(slash - child), child, l->path) < 0)
		abort();
	if (strcmp(child, "-") &&
	    asprintf(&cand[1], "%.*s%s", slash ? (int)(slash - child + 1) : 0, child, base) < 0)
		abort();
	if (cand[1] && !strcmp(cand[0], cand[1])) {
		free(cand[1]);
		cand[1] = NULL;
	}
	for (int k = 0; k < 2 && cand[k]; k++) {
		/* O_NONBLOCK: a FIFO planted at the name must not hang us */
		int fd = open(cand[k], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		int rc;

		if (fd < 0) {
			if (!why[0] || errno != ENOENT)
				snprintf(why, sizeof(why), "cannot open %s: %s", cand[k], strerror(errno));
			continue;
		}
		/* Its owner, before a byte of it is believed (restart_trust.c). */
		if ((rc = rst_trust_parent(s, fd, cand[k]))) {
			close(fd);
			free(cand[0]);
			free(cand[1]);
			return rc;
		}
		memset(r, 0, sizeof(*r));
		if (rst_seal_parent(s, fd, cand[k])) {
			close(fd);
			free(cand[0]);
			free(cand[1]);
			return RST_EXIT_IMAGE;
		}
		if (img_reader_open(r, fd) < 0) {
			snprintf(why, sizeof(why), "%s: %s", cand[k], r->err);
		} else if (r->hdr.ctime_ns != l->ctime_ns || r->hdr.pid != l->pid ||
			   r->hdr.hdr_crc != l->hdr_crc) {
			snprintf(why, sizeof(why), "%s was replaced: it holds another image "
				 "(pid %d, saved at %llu ns, not pid %d at %llu ns)", cand[k],
				 r->hdr.pid, (unsigned long long)r->hdr.ctime_ns, l->pid,
				 (unsigned long long)l->ctime_ns);
		} else {
			*fdp = fd;
			*used = cand[k];
			free(cand[1 - k]);
			rst_map(s, r);
			return 0;
		}
		img_reader_close(r);
		close(fd);
	}
	rst_error(s, "parent image %s of %s is missing or not the same: %s", l->path, child, why);
	free(cand[0]);
	free(cand[1]);
	return RST_EXIT_IMAGE;
}

/* Reads one parent whole; its own PARENT, if any, into *next. */
static int chain_read(struct rst_state *s, struct img_reader *r, const struct chain_link *l,
		      const char *name, struct chain_link *next, int *more)
{
	struct img_rec rec;
	int rc, saw_parent = 0;

	*more = (r->hdr.flags & IMG_F_INCREMENTAL) != 0;
	while ((rc = img_reader_next(r, &rec)) > 0) {
		if (rec.type == IMG_REC_PAGES) {
			if ((rc = chain_pages(s, r, &rec, l, name)))
				return rc;
		} else if (rec.type == IMG_REC_PARENT) {
			const struct img_parent *p = img_get_parent(r, &rec);

			if (!p) {
				rst_error(s, "parent %s: %s", name, r->err);
				return RST_EXIT_IMAGE;
			}
			if (!*more || saw_parent++) {
				rst_error(s, "parent %s: corrupt: unexpected PARENT record at offset %lu",
					  name, (unsigned long)rec.offset);
				return RST_EXIT_IMAGE;
			}
			next->ctime_ns = p->ctime_ns;
			next->pid = p->pid;
			next->hdr_crc = p->hdr_crc;
			next->path = xstrndup((const char *)(p + 1) +
					      p->nranges * sizeof(struct img_range), p->path_len);
			next->allowed = xmalloc(p->nranges * sizeof(struct img_range));
			memcpy(next->allowed, p + 1, p->nranges * sizeof(struct img_range));
			next->nallowed = p->nranges;
		} else if (rec.type == IMG_REC_MPAGES) {
			/*
			 * Page data in a form this walk does not apply: never skip
			 * it.  Every other record of a parent (its process, files,
			 * threads, maps) is the parent's instant, not ours.
			 */
			rst_error(s, "parent %s: record type %u at offset %lu cannot be applied "
				  "to an incremental restart", name, rec.type,
				  (unsigned long)rec.offset);
			return RST_EXIT_INCOMPAT;
		}
	}
	if (rc < 0) {
		rst_error(s, "parent %s: %s", name, r->err);
		return r->code == IMG_ERR_INCOMPAT ? RST_EXIT_INCOMPAT : RST_EXIT_IMAGE;
	}
	if (*more && !saw_parent) {
		rst_error(s, "parent %s: corrupt: incremental image without a PARENT record", name);
		return RST_EXIT_IMAGE;
	}
	return 0;
}

/* The newest image's ranges must lie in its own private anonymous mappings. */
static int chain_check_ranges(struct rst_state *s)
{
	const struct rst_chain *ch = s->chain;

	for (uint32_t i = 0; i < ch->p.nranges; i++) {
		const struct img_range *rg = &ch->ranges[i];
		struct rst_vma *v = chain_vma(s, rg->start);

		if (!v || rg->end > v->v.end || !(v->v.flags & IMG_VMA_ANON) || v->v.file ||
		    (v->v.flags & (IMG_VMA_SHARED | IMG_VMA_FILE)) || !(v->v.flags & IMG_VMA_PAGES)) {
			rst_error(s, "corrupt: inherited range %lx-%lx is not inside one private "
				  "anonymous mapping of the image", (unsigned long)rg->start,
				  (unsigned long)rg->end);
			return RST_EXIT_IMAGE;
		}
	}
	return 0;
}

int rst_chain_load(struct rst_state *s)
{
	struct chain_link l = { 0 };
	char *child = xstrndup(s->image, strlen(s->image));
	int rc = 0, depth;

	if (!(s->r.hdr.flags & IMG_F_INCREMENTAL))
		return 0;
	if (!s->chain) {
		rst_error(s, "corrupt: incremental image without a PARENT record");
		return RST_EXIT_IMAGE;
	}
	if ((rc = chain_check_ranges(s)))
		return rc;
	l.ctime_ns = s->chain->p.ctime_ns;
	l.pid = s->chain->p.pid;
	l.hdr_crc = s->chain->p.hdr_crc;
	l.path = xstrndup(s->chain->path, strlen(s->chain->path));
	l.nallowed = s->chain->p.nranges;
	l.allowed = xmalloc(l.nallowed * sizeof(*l.allowed));
	memcpy(l.allowed, s->chain->ranges, l.nallowed * sizeof(*l.allowed));

	for (depth = 1; l.nallowed; depth++) {
		struct chain_link next = { 0 };
		struct img_reader r;
		char *used = NULL;
		int fd = -1, more = 0;

		if (depth > CHAIN_MAX) {
			rst_error(s, "the chain of parents is longer than %d images (a loop?)", CHAIN_MAX);
			rc = RST_EXIT_IMAGE;
			break;
		}
		if ((rc = chain_open(s, child, &l, &r, &fd, &used)))
			break;
		if (r.hdr.pid != s->proc.pid) {
			rst_error(s, "parent %s is an image of pid %d, not %d", used, r.hdr.pid,
				  s->proc.pid);
			rc = RST_EXIT_IMAGE;
		} else {
			rc = chain_read(s, &r, &l, used, &next, &more);
		}
		img_reader_close(&r);
		close(fd);
		free(child);
		child = used;
		free(l.path);
		if (rc || !more) {
			free(l.allowed);
			free(next.path);
			free(next.allowed);
			l.allowed = NULL;
			l.path = NULL;
			break;
		}
		/* older images apply only where every newer link inherited */
		l.nallowed = intersect(&l.allowed, l.nallowed, next.allowed, next.nallowed);
		free(next.allowed);
		l.ctime_ns = next.ctime_ns;
		l.pid = next.pid;
		l.hdr_crc = next.hdr_crc;
		l.path = next.path;
	}
	free(l.allowed);
	free(l.path);
	free(child);
	return rc;
}

void rst_chain_free(struct rst_state *s)
{
	if (!s->chain)
		return;
	free(s->chain->ranges);
	free(s->chain->path);
	free(s->chain);
	s->chain = NULL;
}
