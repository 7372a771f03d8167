/*
 * ckpt_maps.c - the memory map: read /proc/self/maps, decide what each
 * mapping is, refuse the ones the image cannot hold, write VMA records.
 *
 * What each kind becomes in the image:
 *   private anonymous, [heap], [stack]   VMA + its non-zero pages
 *   shared anonymous (/dev/zero)         VMA + its non-zero pages
 *   private file mapping                 VMA (path, identity) + the pages
 *                                        the process modified (COW copies);
 *                                        clean pages come from the file
 *   shared file mapping                  VMA only: the data is in the file
 *   SysV shared memory (/SYSV%08x)       VMA (its ino: the segment's id); the
 *                                        segment is a SYSV_SHM record (ckpt_sysv.c)
 *   deleted file, memfd, POSIX shm       VMA naming the FILE record that holds
 *   object (a file of /dev/shm)          its contents (ckpt_fmapped.c); private:
 *                                        + the pages the process modified
 *   anonymous huge pages                 VMA naming a HUGETLB FILE (its page
 *   (/anon_hugepage (deleted))           size) + its non-zero pages
 *   private /dev/zero                    as private anonymous memory
 *   [vdso]                               VMA + its pages (compared, not
 *                                        restored: the restarter moves its
 *                                        own vdso there and checks it is
 *                                        the same code)
 *   [vvar], [vvar_vclock]                VMA only
 *   [vsyscall]                           nothing (fixed by the kernel)
 * Refused: files replaced after they were mapped, other [special].
 *
 * Cost: one read of /proc/self/maps and one stat() per mapped file (a
 * library's four or five mappings in a row share one: struct last_stat).
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_tree.h"
#include "libckpt/ckpt_fmt.h"

#define MAPS_MAX_VMAS	65536

static int name_is(const char *p, size_t n, const char *lit)
{
	size_t l = ckpt_strlen(lit);

	return n == l && ckpt_memeq(p, lit, l);
}

static int name_starts(const char *p, size_t n, const char *lit)
{
	size_t l = ckpt_strlen(lit);

	return n >= l && ckpt_memeq(p, lit, l);
}

static int name_ends(const char *p, size_t n, const char *lit)
{
	size_t l = ckpt_strlen(lit);

	return n >= l && ckpt_memeq(p + n - l, lit, l);
}

/* Copies a path out of the maps text into a NUL-terminated buffer. */
static void path_copy(const struct ckpt_vma *v, char *buf, size_t len)
{
	size_t n = v->path_len < len - 1 ? v->path_len : len - 1;

	for (size_t i = 0; i < n; i++)
		buf[i] = v->path[i];
	buf[n] = '\0';
}

/*
 * The last file stat()ed in this parse, for the mappings after it that
 * name the same path with the same device and inode: one stat per
 * library instead of one per mapping (~25 fewer system calls for a small
 * program, issue #15).  Each parse starts empty: every checkpoint looks
 * at the files anew.
 */
struct last_stat {
	const char *path;		/* in the maps text, path_len bytes; NULL: none */
	size_t path_len;
	struct stat st;
};

/* Classifies one mapping; 0 keep, 1 skip, <0 refused. */
static int classify(struct ckpt_ctx *c, struct ckpt_vma *v, int shared, struct last_stat *ls)
{
	const char *p = v->path;
	size_t n = v->path_len;
	char path[4096];

	if (shared)
		v->flags |= IMG_VMA_SHARED;
	if (n == 0) {
		v->flags |= IMG_VMA_ANON | IMG_VMA_PAGES;
		return 0;
	}
	if (ckpt_mpages_backed(v, shared)) {
		/* Our own memory, mapped from the image we were restored from. */
		v->flags |= IMG_VMA_ANON | IMG_VMA_PAGES;
		v->backed = 1;
		v->path_len = 0;
		v->pgoff = v->dev = v->ino = 0;
		return 0;
	}
	if (p[0] == '[') {
		if (name_is(p, n, "[heap]"))
			v->flags |= IMG_VMA_ANON | IMG_VMA_HEAP | IMG_VMA_PAGES;
		else if (name_is(p, n, "[stack]"))
			v->flags |= IMG_VMA_ANON | IMG_VMA_STACK | IMG_VMA_GROWSDOWN | IMG_VMA_PAGES;
		else if (name_is(p, n, "[vdso]"))
			v->flags |= IMG_VMA_VDSO | IMG_VMA_PAGES;
		else if (name_is(p, n, "[vvar]"))
			v->flags |= IMG_VMA_VVAR;
		else if (name_is(p, n, "[vvar_vclock]"))
			v->flags |= IMG_VMA_VVAR_VCLOCK;
		else if (name_is(p, n, "[vsyscall]"))
			return 1;
		else if (name_starts(p, n, "[anon:") || name_starts(p, n, "[anon_shmem:"))
			v->flags |= IMG_VMA_ANON | IMG_VMA_PAGES;
		else {
			path_copy(v, path, sizeof(path));
			return ckpt_fail(c, -ENOTSUP, "mapping %lx-%lx: %s is a special kernel mapping libckpt cannot restore",
					 (unsigned long)v->start, (unsigned long)v->end, path);
		}
		/* Names without a file: drop them from the record. */
		if (!(v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VVAR_VCLOCK)) ||
		    !name_starts(p, n, "[v"))
			v->path_len = 0;
		return 0;
	}
	path_copy(v, path, sizeof(path));
	/* shared anonymous memory: MAP_SHARED|MAP_ANONYMOUS, or of /dev/zero */
	if (shared && name_is(p, n, "/dev/zero (deleted)")) {
		v->flags |= IMG_VMA_ANON | IMG_VMA_PAGES;
		v->path_len = 0;
		return 0;
	}
	if (name_is(p, n, "/anon_hugepage (deleted)")) {
		v->flags |= IMG_VMA_ANON | IMG_VMA_PAGES;
		v->byid = CKPT_BYID_HUGETLB;
		v->path_len = 0;
		return 0;
	}
	/* a SysV segment: its inode number is its id; ckpt_sysv.c saves it */
	if (name_starts(p, n, "/SYSV") && name_ends(p, n, " (deleted)") && shared) {
		v->flags |= IMG_VMA_FILE;
		v->byid = CKPT_BYID_SYSV;
		return 0;
	}
	/* no path to map it from: a FILE record holds it (ckpt_fmapped.c) */
	if (name_starts(p, n, "/memfd:") || name_ends(p, n, " (deleted)")) {
		v->flags |= IMG_VMA_FILE | (shared ? 0 : IMG_VMA_PAGES);
		v->byid = CKPT_BYID_FILE;
		return 0;
	}

	struct stat st;
	if (ls->path && ls->path_len == n && ckpt_memeq(ls->path, p, n) &&
	    ls->st.st_ino == v->ino && ls->st.st_dev == v->dev) {
		st = ls->st;
	} else {
		if (stat(path, &st) < 0)
			return ckpt_fail(c, -errno, "mapping %lx-%lx: cannot stat mapped file %s",
					 (unsigned long)v->start, (unsigned long)v->end, path);
		ls->path = p;
		ls->path_len = n;
		ls->st = st;
	}
	/* a private mapping of /dev/zero is anonymous memory */
	if (!shared && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5) && st.st_ino == v->ino) {
		v->flags |= IMG_VMA_ANON | IMG_VMA_PAGES;
		v->path_len = 0;
		v->pgoff = v->dev = v->ino = 0;
		return 0;
	}
	if (st.st_ino != v->ino || st.st_dev != v->dev)
		return ckpt_fail(c, -ESTALE, "mapping %lx-%lx: %s was replaced after it was mapped; "
				 "the mapped contents are no longer on disk",
				 (unsigned long)v->start, (unsigned long)v->end, path);
	/* a POSIX shm object: its contents are saved, a FILE record holds it (fds/fd_pshm.c) */
	if (ckpt_pshm_is(c, st.st_dev)) {
		v->flags |= IMG_VMA_FILE | (shared ? 0 : IMG_VMA_PAGES);
		v->byid = CKPT_BYID_FILE;
		return 0;
	}
	v->flags |= IMG_VMA_FILE;
	if (!shared)
		v->flags |= IMG_VMA_PAGES;
	v->size = st.st_size;
	v->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 0;
}

/*
 * Adds v to the list, less the scratch: the scratch is not the
 * application's memory, and the kernel may have merged it with an
 * adjacent anonymous mapping, so cut it out rather than match it.
 */
static int keep(struct ckpt_ctx *c, struct ckpt_vma *v)
{
	uint64_t s0 = (uintptr_t)c->scratch, s1 = s0 + c->scratch_len, t0, t1;
	struct ckpt_vma whole = *v;

	/* a tree's scratch: its own shared mapping, never merged with another */
	if (ckpt_tree_scratch(c, &t0, &t1) && v->start >= t0 && v->end <= t1)
		return 0;

	if (whole.end <= s0 || whole.start >= s1) {
		c->nvmas++;
	} else {
		if (whole.start < s0) {
			c->vmas[c->nvmas] = whole;
			c->vmas[c->nvmas].end = s0;
			c->nvmas++;
		}
		if (whole.end > s1) {
			c->vmas[c->nvmas] = whole;
			c->vmas[c->nvmas].start = s1;
			c->nvmas++;
		}
	}
	if (c->nvmas >= MAPS_MAX_VMAS - 1)
		return ckpt_fail(c, -E2BIG, "more than %d mappings", MAPS_MAX_VMAS - 2);
	return 0;
}

int ckpt_maps_read(struct ckpt_ctx *c)
{
	ssize_t len = ckpt_read_file("/proc/self/maps", c->maps, c->maps_len);

	if (len < 0)
		return ckpt_fail(c, (int)len, "cannot read /proc/self/maps: %s", ckpt_strerror((int)len));
	return ckpt_maps_parse(c, c->maps, len);
}

int ckpt_maps_parse(struct ckpt_ctx *c, const char *text, size_t len)
{
	const char *s = text, *end = text + len;
	struct last_stat ls = { .path = NULL };

	c->nvmas = 0;
	while (s < end) {
		struct ckpt_vma *v = &c->vmas[c->nvmas];
		const char *eol = s;
		int shared, r;

		while (eol < end && *eol != '\n')
			eol++;
		*v = (struct ckpt_vma){ 0 };
		v->start = ckpt_parse_hex(&s);
		s++;				/* '-' */
		v->end = ckpt_parse_hex(&s);
		s++;				/* ' ' */
		v->prot = (s[0] == 'r' ? PROT_READ : 0) | (s[1] == 'w' ? PROT_WRITE : 0) |
			  (s[2] == 'x' ? PROT_EXEC : 0);
		shared = s[3] == 's';
		s += 5;
		v->pgoff = ckpt_parse_hex(&s);
		s++;
		unsigned maj = ckpt_parse_hex(&s);
		s++;
		unsigned min = ckpt_parse_hex(&s);
		v->dev = makedev(maj, min);
		s++;
		v->ino = ckpt_parse_dec(&s);
		while (s < eol && *s == ' ')
			s++;
		v->path = s;
		v->path_len = eol - s;
		s = eol + 1;

		r = classify(c, v, shared, &ls);
		if (r < 0)
			return r;
		if (r == 0 && (r = keep(c, v)) < 0)
			return r;
	}
	return 0;
}

/*
 * One VMA record per mapping: the struct, then its path and its guard
 * regions (ckpt_memattr.c scans for them as it goes, in address order),
 * gathered in c->vmatail.
 */
int ckpt_maps_write(struct ckpt_ctx *c)
{
	c->gscan_next = 0;
	c->gscan_n = c->gscan_i = 0;
	for (int i = 0; i < c->nvmas; i++) {
		const struct ckpt_vma *v = &c->vmas[i];
		struct img_range *guards = (struct img_range *)(c->vmatail + CKPT_PATH_MAX);
		int ng = ckpt_memattr_guards(c, v, guards);
		struct img_vma r = {
			.start = v->start, .end = v->end, .pgoff = v->pgoff,
			.dev = v->dev, .ino = v->ino, .size = v->size,
			.mtime_ns = v->mtime_ns, .prot = v->prot, .flags = v->flags,
			.path_len = v->path_len, .file = v->file, .attrs = v->attrs,
		};
		size_t plen = v->path_len;

		if (ng < 0)
			return c->error;
		r.nguards = ng;
		/* the path right before the guards: the two are one tail */
		if (plen > CKPT_PATH_MAX)
			return ckpt_fail(c, -ENAMETOOLONG, "mapping %lx-%lx: path longer than %d bytes",
					 (unsigned long)v->start, (unsigned long)v->end, CKPT_PATH_MAX);
		for (size_t k = 0; k < plen; k++)
			c->vmatail[CKPT_PATH_MAX - plen + k] = v->path[k];
		img_write_record(&c->w, IMG_REC_VMA, &r, sizeof(r), c->vmatail + CKPT_PATH_MAX - plen,
				 plen + (size_t)ng * sizeof(struct img_range));
	}
	return c->w.error;
}

/* ---- will a restart have room to stage it? ---- */

#define STAGE_TOP	0x7ffffffff000ull	/* end of the user address space */
#define STAGE_BIG	(1ull << 30)		/* smaller mappings always find room */

static int first_page(struct ckpt_ctx *c, const struct ckpt_vma *v, uint64_t addr,
		      uint64_t npages, int kind, void *arg)
{
	return kind == CKPT_RUN_PAGE;		/* stops the walk: it has one */
}

/*
 * ckpt-restart decodes each mapping's saved pages into a staging area of
 * the mapping's size, outside every range of the image, and moves it into
 * place whole (restart/restart_load.c).  A process that fills nearly all
 * of its address space (ThreadSanitizer's shadow: 3.6 TB mappings with a
 * few pages) leaves no room for that, and its image could never be
 * restarted: refused here, before a byte is written, rather than at
 * restart.  First fit of every big mapping with pages into the gaps
 * between the mappings; small ones (under 1 GiB) always fit somewhere.
 * Cost: one PAGEMAP_SCAN walk of each mapping over 1 GiB, stopped at its
 * first page.
 */
int ckpt_maps_stageable(struct ckpt_ctx *c)
{
	uint64_t used[64] = { 0 };	/* what first fit took of the first 64 gaps */

	for (int i = 0; i < c->nvmas; i++) {
		const struct ckpt_vma *v = &c->vmas[i];
		uint64_t len = v->end - v->start, prev = 0x10000;
		int placed = 0, g = 0;

		if (len < STAGE_BIG || !(v->flags & IMG_VMA_PAGES) ||
		    ckpt_mem_each_run(c, v, first_page, NULL) <= 0)
			continue;
		for (int k = 0; k <= c->nvmas && !placed; k++, g++) {
			uint64_t end = k < c->nvmas ? c->vmas[k].start : STAGE_TOP;
			uint64_t gap = end > prev ? end - prev : 0, *u = g < 64 ? &used[g] : NULL;

			if (u && gap >= *u + len) {
				*u += len;
				placed = 1;
			}
			if (k < c->nvmas)
				prev = c->vmas[k].end;
		}
		if (!placed)
			return ckpt_fail(c, -ENOMEM, "mapping %lx-%lx (%lu MiB, with pages to save) "
					 "is larger than any room the process leaves in its address "
					 "space; a restart stages it there, so its image could not be "
					 "restarted (a ThreadSanitizer program?): not supported",
					 (unsigned long)v->start, (unsigned long)v->end,
					 (unsigned long)(len >> 20));
	}
	return 0;
}
