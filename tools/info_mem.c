/*
 * info_mem.c - the saved process's memory for ckpt-info (info_mem.h):
 * page runs by address, decoded on demand from the image (each record's
 * checksum checked again: the image may have changed since it was
 * loaded), file mappings read from the files they map when those are
 * still the files the image recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/info_mem.h"
#include "tools/info_diff.h"

#define PAGE	IMG_PAGE_SIZE

void info_run_add(struct info *in, uint64_t addr, uint64_t npages, uint64_t off, uint64_t len,
		  uint8_t codec, uint8_t mapped)
{
	in->runs = info_grow(in->runs, in->nrun, sizeof(*in->runs));
	in->runs[in->nrun++] = (struct info_run){ addr, npages, off, len, codec, mapped };
}

static int run_cmp(const void *a, const void *b)
{
	const struct info_run *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void info_runs_sort(struct info *in)
{
	if (in->nrun > 1)
		qsort(in->runs, in->nrun, sizeof(*in->runs), run_cmp);
}

const struct info_vma *info_mem_vma(const struct info *in, uint64_t addr)
{
	size_t lo = 0, hi = in->nvma;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < in->vmas[mid].v.start)
			hi = mid;
		else if (addr >= in->vmas[mid].v.end)
			lo = mid + 1;
		else
			return &in->vmas[mid];
	}
	return NULL;
}

const struct info_run *info_mem_run(const struct info *in, uint64_t addr)
{
	size_t lo = 0, hi = in->nrun;

	/* runs may repeat a page (an image's later run wins): take the last that holds it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in->runs[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k > 0 && lo - k < 4; k--) {
		const struct info_run *r = &in->runs[k - 1];

		if (addr - r->addr < r->npages * PAGE)
			return r;
	}
	return NULL;
}

/* ---- modules: the files that file mappings map ---- */

static struct info_mod **mods;
static size_t nmods;

static void parents_free(void);

static void mod_open(struct info_mod *md)
{
	struct stat st;
	void *p;
	char err[128];
	int fd;

	/*
	 * Only a regular file is opened: the path comes from the image, and
	 * opening a FIFO would hang, a device could act (a tape rewinds).
	 */
	if (stat(md->path, &st) == 0 && !S_ISREG(st.st_mode)) {
		md->state = MOD_CHANGED;
		snprintf(md->why, sizeof(md->why), "%s: not a regular file here: addresses shown raw",
			 md->path);
		return;
	}
	fd = open(md->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		md->state = MOD_MISSING;
		snprintf(md->why, sizeof(md->why), "%s: cannot open here: %s", md->path,
			 strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_ino != md->ino ||
	    st.st_size != md->size ||
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != md->mtime_ns) {
		md->state = MOD_CHANGED;
		snprintf(md->why, sizeof(md->why), "%s: not the file the image recorded (inode, "
			 "size or modification time differ): addresses shown raw", md->path);
		close(fd);
		return;
	}
	p = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (p == MAP_FAILED) {
		md->state = MOD_MISSING;
		snprintf(md->why, sizeof(md->why), "%s: cannot map it: %s", md->path,
			 st.st_size ? strerror(errno) : "empty");
		return;
	}
	md->map = p;
	md->len = (size_t)st.st_size;
	if (elfr_parse(&md->elf, md->map, md->len, err, sizeof(err)) < 0) {
		md->state = MOD_NOTELF;
		snprintf(md->why, sizeof(md->why), "%s: %s: no symbols", md->path, err);
		return;
	}
	md->state = MOD_OK;
}

struct info_mod *info_mod_of(const struct info_vma *v)
{
	struct info_mod *md;

	if (!(v->v.flags & IMG_VMA_FILE) || v->v.file || !v->path.n || v->path.s[0] != '/' ||
	    strlen(v->path.s) != v->path.n)
		return NULL;
	for (size_t i = 0; i < nmods; i++)
		if (mods[i]->ino == v->v.ino && mods[i]->size == v->v.size &&
		    mods[i]->mtime_ns == v->v.mtime_ns && !strcmp(mods[i]->path, v->path.s))
			return mods[i];
	md = calloc(1, sizeof(*md));
	if (!md || !(md->path = strdup(v->path.s))) {
		fprintf(stderr, "ckpt-info: out of memory\n");
		exit(INFO_EXIT_CORRUPT);
	}
	md->ino = v->v.ino;
	md->size = v->v.size;
	md->mtime_ns = v->v.mtime_ns;
	mod_open(md);
	mods = info_grow(mods, nmods, sizeof(*mods));
	mods[nmods++] = md;
	return md;
}

void info_mods_free(void)
{
	for (size_t i = 0; i < nmods; i++) {
		elfr_free(&mods[i]->elf);
		if (mods[i]->map)
			munmap((void *)mods[i]->map, mods[i]->len);
		free(mods[i]->path);
		free(mods[i]);
	}
	free(mods);
	mods = NULL;
	nmods = 0;
	parents_free();
}

/* ---- parents: an incremental image's chain ---- */

#define INFO_CHAIN_MAX	256	/* parents followed, at most */

struct info_parent {
	struct info in;
	int fd;
	char *path;
};

static struct info_parent **parents;
static size_t nparents;

/* Opens and loads one candidate file for in's parent: 0, or -1 with why. */
static int parent_try(const struct info *in, const char *path, struct info_parent *p,
		      char *why, size_t len)
{
	struct stat st;
	int rc;

	memset(p, 0, sizeof(*p));
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))	/* (as mod_open: no device opened) */
		return snprintf(why, len, "%s: not a regular file", path), -1;
	p->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (p->fd < 0)
		return snprintf(why, len, "%s: %s", path, strerror(errno)), -1;
	if (fstat(p->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(p->fd);
		return snprintf(why, len, "%s: not a regular file", path), -1;
	}
	p->in.name = path;
	if ((rc = info_load(&p->in, p->fd)) || p->in.nsection ||
	    p->in.hdr.ctime_ns != in->parent.ctime_ns || p->in.hdr.pid != in->parent.pid ||
	    p->in.hdr.hdr_crc != in->parent.hdr_crc) {
		snprintf(why, len, "%.150s: %.200s", path, rc ? p->in.err :
			 "not the image this one was made from (another header)");
		info_free(&p->in);
		close(p->fd);
		return -1;
	}
	return 0;
}

/* in's parent image, loaded (once per run), or NULL with why. */
static struct info_parent *parent_load(const struct info *in, char *why, size_t len)
{
	const char *stored = in->parent_path.s, *child = in->name ? in->name : "";
	const char *slash = strrchr(child, '/'), *base = strrchr(stored, '/');
	char *cand[2] = { NULL, NULL };
	struct info_parent *p;

	for (size_t i = 0; i < nparents; i++)
		if (parents[i]->in.hdr.ctime_ns == in->parent.ctime_ns &&
		    parents[i]->in.hdr.pid == in->parent.pid &&
		    parents[i]->in.hdr.hdr_crc == in->parent.hdr_crc)
			return parents[i];
	base = base ? base + 1 : stored;
	if (stored[0] == '/' || !slash)
		cand[0] = strdup(stored);
	else if (asprintf(&cand[0], "%.*s/%s", (int)(slash - child), child, stored) < 0)
		cand[0] = NULL;
	if (asprintf(&cand[1], "%.*s%s", slash ? (int)(slash - child + 1) : 0, child, base) < 0)
		cand[1] = NULL;
	if (!(p = calloc(1, sizeof(*p))) || !cand[0] || !cand[1]) {
		fprintf(stderr, "ckpt-info: out of memory\n");
		exit(INFO_EXIT_CORRUPT);
	}
	snprintf(why, len, "the parent image %s cannot be read", stored);
	for (int k = 0; k < 2; k++) {
		char err[360];

		if (k && !strcmp(cand[0], cand[1]))
			break;
		if (parent_try(in, cand[k], p, err, sizeof(err)) == 0) {
			p->path = cand[k];
			p->in.name = p->path;
			free(cand[!k]);
			parents = info_grow(parents, nparents, sizeof(*parents));
			parents[nparents++] = p;
			return p;
		}
		snprintf(why, len, "parent image: %.200s", err);
	}
	free(cand[0]);
	free(cand[1]);
	free(p);
	return NULL;
}

/* m's parent memory (made the first time), or NULL with m->parent_why. */
static struct info_mem *mem_parent(struct info_mem *m)
{
	struct info_parent *p;

	if (m->parent || m->parent_tried)
		return m->parent;
	m->parent_tried = 1;
	if (m->depth >= INFO_CHAIN_MAX) {
		snprintf(m->parent_why, sizeof(m->parent_why), "more than %d parent images",
			 INFO_CHAIN_MAX);
		return NULL;
	}
	if (!(p = parent_load(m->in, m->parent_why, sizeof(m->parent_why))))
		return NULL;
	if (!(m->parent = malloc(sizeof(*m->parent)))) {
		fprintf(stderr, "ckpt-info: out of memory\n");
		exit(INFO_EXIT_CORRUPT);
	}
	info_mem_init(m->parent, &p->in);
	m->parent->depth = m->depth + 1;
	m->parent->deadline = m->deadline;
	m->parent_owned = 1;
	return m->parent;
}

static void parents_free(void)
{
	for (size_t i = 0; i < nparents; i++) {
		info_free(&parents[i]->in);
		close(parents[i]->fd);
		free(parents[i]->path);
		free(parents[i]);
	}
	free(parents);
	parents = NULL;
	nparents = 0;
}

/* ---- pages ---- */

void info_mem_init(struct info_mem *m, const struct info *in)
{
	memset(m, 0, sizeof(*m));
	m->in = in;
}

void info_mem_done(struct info_mem *m)
{
	for (int i = 0; i < INFO_MEM_CACHE; i++)
		free(m->cache[i].data);
	memset(m->cache, 0, sizeof(m->cache));
	if (m->parent_owned) {
		info_mem_done(m->parent);
		free(m->parent);
	}
	m->parent = NULL;
	m->parent_owned = m->parent_tried = 0;
}

__attribute__((format(printf, 2, 3)))
static int mem_fail(struct info_mem *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	return -1;
}

int info_mem_load_run(struct info_mem *m, const struct info_run *r, unsigned char *dst)
{
	size_t want = (size_t)r->npages * PAGE;

	if (r->mapped) {
		size_t got = 0;

		while (got < want) {
			ssize_t k = pread(m->in->img_fd, dst + got, want - got, (off_t)(r->off + got));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return mem_fail(m, "the image's pages at offset %llu cannot be read",
						(unsigned long long)r->off);
			got += (size_t)k;
		}
		return 0;
	}
	{
		size_t blen = sizeof(struct img_rec_hdr) + (size_t)r->len;
		unsigned char *buf = malloc(blen);
		const struct img_pages *p;
		char err[256];
		int rc;

		if (!buf)
			return mem_fail(m, "out of memory");
		if (r->len < sizeof(*p) ||
		    img_pread_record(m->in->img_fd, r->off, IMG_REC_PAGES, r->len, buf, err,
				     sizeof(err)) < 0) {
			free(buf);
			return mem_fail(m, "%s", r->len < sizeof(*p) ? "a page run is short" : err);
		}
		p = (const struct img_pages *)(buf + sizeof(struct img_rec_hdr));
		if (p->npages != r->npages || p->addr != r->addr)
			snprintf(err, sizeof(err), "changed since it was read");
		rc = p->npages == r->npages && p->addr == r->addr ?
		     img_pages_decode(p, p + 1, (size_t)(r->len - sizeof(*p)), dst, err, sizeof(err)) : -1;
		free(buf);
		return rc < 0 ? mem_fail(m, "page run at offset %llu: %s", (unsigned long long)r->off,
					 err) : 0;
	}
}

/* The decoded pages of run r (cached), or NULL with m->why. */
static const unsigned char *run_data(struct info_mem *m, const struct info_run *r)
{
	size_t idx = (size_t)(r - m->in->runs);
	int slot;

	for (int i = 0; i < INFO_MEM_CACHE; i++)
		if (m->cache[i].data && m->cache[i].run == idx)
			return m->cache[i].data;
	if (r->npages > IMG_MPAGES_MAX)
		return mem_fail(m, "a page run is too long"), NULL;
	slot = m->next;
	m->next = (m->next + 1) % INFO_MEM_CACHE;
	free(m->cache[slot].data);
	m->cache[slot].data = malloc((size_t)r->npages * PAGE);
	if (!m->cache[slot].data)
		return mem_fail(m, "out of memory"), NULL;
	if (info_mem_load_run(m, r, m->cache[slot].data) < 0) {
		free(m->cache[slot].data);
		m->cache[slot].data = NULL;
		return NULL;
	}
	m->cache[slot].run = idx;
	return m->cache[slot].data;
}

/* Part of one page: n bytes at addr, addr + n within the page. */
static int page_read(struct info_mem *m, uint64_t addr, unsigned char *buf, size_t n)
{
	const struct info *in = m->in;
	const struct info_vma *v = info_mem_vma(in, addr);
	const struct info_run *r;
	struct info_mod *md;
	uint64_t off;

	if (m->deadline.tv_sec) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > m->deadline.tv_sec ||
		    (now.tv_sec == m->deadline.tv_sec && now.tv_nsec > m->deadline.tv_nsec)) {
			m->timed_out = 1;
			return mem_fail(m, "out of time");
		}
	}
	if (!v)
		return mem_fail(m, "0x%llx is in no memory area", (unsigned long long)addr);
	if ((r = info_mem_run(in, addr))) {
		const unsigned char *d = run_data(m, r);

		if (!d)
			return -1;
		memcpy(buf, d + (addr - r->addr), n);
		return 0;
	}
	if ((v->v.flags & IMG_VMA_ANON) && !(v->v.flags & (IMG_VMA_SHARED | IMG_VMA_TREESHM)) &&
	    !v->v.file) {
		if (info_inherited(in, addr)) {
			struct info_mem *pm = mem_parent(m);

			if (!pm)
				return mem_fail(m, "0x%llx: the page is in the parent image, which "
						"cannot be read: %s", (unsigned long long)addr,
						m->parent_why);
			if (info_mem_read(pm, addr, buf, n) < 0)
				return mem_fail(m, "%s", pm->why);
			if (pm->timed_out)
				m->timed_out = 1;
			return 0;
		}
		memset(buf, 0, n);
		return 0;
	}
	if (!(md = info_mod_of(v)))
		return mem_fail(m, "0x%llx: its page is not in the image (%s area)",
				(unsigned long long)addr, info_vma_kind(&v->v));
	if (md->state != MOD_OK && md->state != MOD_NOTELF)
		return mem_fail(m, "%s", md->why);
	off = v->v.pgoff + (addr - v->v.start);
	if (off < v->v.pgoff || off > md->len || n > md->len - off)
		return mem_fail(m, "0x%llx: beyond the end of %s", (unsigned long long)addr, md->path);
	memcpy(buf, md->map + off, n);
	return 0;
}

int info_mem_read(struct info_mem *m, uint64_t addr, void *buf, size_t n)
{
	unsigned char *b = buf;

	while (n) {
		size_t k = PAGE - (size_t)(addr % PAGE);

		if (k > n)
			k = n;
		if (addr + k < addr)
			return mem_fail(m, "address wraps");
		if (page_read(m, addr, b, k) < 0)
			return -1;
		addr += k;
		b += k;
		n -= k;
	}
	return 0;
}
