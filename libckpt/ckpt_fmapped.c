/*
 * ckpt_fmapped.c - mappings that name a FILE record instead of a path
 * (img_vma.file): deleted files, memfds and POSIX shm objects
 * (IMG_VMA_FILE), anonymous huge pages (IMG_VMA_ANON).  ckpt_maps.c marks them (ckpt_vma.byid);
 * this file gives each its FILE after the fds' FILE records.
 *
 * A deleted file or memfd that an fd holds too is already a FILE (written
 * by ckpt_fds.c): the mapping names the first FILE of that file (the one
 * with its contents), so a MAP_SHARED mapping and the fds meet on one file
 * again after a restart.  Files are told apart by the (dev, ino) of maps
 * and fstat.  One that only mappings hold (mapped, then closed) gets a
 * FILE of its own, read through /proc/self/map_files/START-END, which the
 * kernel opens for root or CAP_CHECKPOINT_RESTORE only: without it the
 * checkpoint is refused, saying to keep an fd open on it.  A POSIX shm
 * object (fds/fd_pshm.c) has a name: it is opened by its path instead (no
 * privilege needed), its identity checked against the mapping's, and
 * map_files is the fallback.  Such a FILE is in fdids with fd -1: no FD
 * record names it.  In a tree, the first process that maps such a file
 * writes its FILE, with an id computed from the inode, which every later
 * process names (ckpt_tree.h, ckpt_tree_first).
 *
 * Where maps and fstat disagree on a file's identity (a deleted file on
 * overlayfs: maps shows the inode underneath), an fd and a mapping of one
 * file would look like two files, and a restart would make two: so a
 * mapping that no fd matches but whose path an fd has too is refused.
 *
 * Anonymous huge pages: one FILE of kind HUGETLB per hugetlbfs object
 * (its maps inode), with the page size from /proc/self/smaps
 * ("KernelPageSize:"), read only when the process has such a mapping.
 * Their pages are PAGES records like any anonymous memory's.
 *
 * Cost: nothing without such mappings; else one open, fstat and contents
 * read per mapped-only file, one smaps read for huge pages.  (Also here:
 * the refusal of one shared anonymous object mapped twice.)
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"

/* The fdids entry of file (dev, ino), or NULL. */
static struct ckpt_fdid *fdid_of(struct ckpt_ctx *c, uint64_t dev, uint64_t ino)
{
	for (int i = 0; i < c->nfdids; i++)
		if (c->fdids[i].dev == dev && c->fdids[i].ino == ino)
			return &c->fdids[i];
	return NULL;
}

static void vma_name(const struct ckpt_vma *v, char *buf, size_t len)
{
	ckpt_fmt(buf, len, "mapping %lx-%lx", (unsigned long)v->start, (unsigned long)v->end);
}

static void vma_path(const struct ckpt_vma *v, char *buf, size_t len)
{
	size_t n = v->path_len < len - 1 ? v->path_len : len - 1;

	__builtin_memcpy(buf, v->path, n);
	buf[n] = '\0';
}

struct same_path {
	const char *path;
	int fd;
};

static int has_path(int fd, int dirfd, void *arg)
{
	struct same_path *sp = arg;
	char link[64], buf[4096];
	ssize_t n;

	ckpt_fmt(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0 || fd == dirfd)
		return 0;
	buf[n] = '\0';
	if (__builtin_strcmp(buf, sp->path))
		return 0;
	sp->fd = fd;
	return -1;			/* found: stop */
}

/*
 * A POSIX shm object's file, opened by its path when that is still the
 * mapped object (same dev and ino), else -1: map_files is tried then.
 */
static int open_by_path(struct ckpt_ctx *c, const struct ckpt_vma *v, const char *path)
{
	struct stat st;
	int fd;

	if (!ckpt_pshm_is(c, v->dev) ||
	    (fd = ckpt_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0)) < 0)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_dev == v->dev && st.st_ino == v->ino)
		return fd;
	ckpt_close(fd);
	return -1;
}

/*
 * Opens the file of mapping v (by path for a POSIX shm object, else
 * through map_files) and fills a probe of it (path into path, what into
 * what).  The fd, or -1 after ckpt_fail.
 */
static int probe_mapping(struct ckpt_ctx *c, const struct ckpt_vma *v, struct fd_probe *p,
			 char *path, char *what)
{
	char name[80];
	int fd;

	vma_name(v, what, 48);
	vma_path(v, path, 4096);
	ckpt_pshm_rename(c, v->dev, v->ino, path, 4096);	/* (sem_open's: the name it has now) */
	ckpt_fmt(name, sizeof(name), "/proc/self/map_files/%lx-%lx", (unsigned long)v->start,
		 (unsigned long)v->end);
	fd = open_by_path(c, v, path);
	if (fd < 0)
		fd = ckpt_open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		int e = errno;

		ckpt_fail(c, -e, "%s: no fd holds %s; keep one open on it until the checkpoint "
			  "(the contents of a file only mappings hold are read through "
			  "/proc/self/map_files: root or CAP_CHECKPOINT_RESTORE; errno %d)", what,
			  path, e);
		return -1;
	}
	*p = (struct fd_probe){ .fd = fd, .path = path, .origin = "", .what = what,
				.flags = O_RDONLY };
	if (fstat(fd, &p->st) < 0 || !S_ISREG(p->st.st_mode)) {
		ckpt_close(fd);
		ckpt_fail(c, -ENOTSUP, "%s: %s is a deleted special file, which cannot be saved",
			  what, path);
		return -1;
	}
	return fd;
}

/* The kind (GHOST, MEMFD or PSHM) that saves a mapped-only file, or NULL after ckpt_fail. */
static const struct fd_save_ops *mapped_kind(struct ckpt_ctx *c, const struct fd_probe *p)
{
	const struct fd_save_ops *k = fd_save_find(c, p);

	if (!k || (k->kind != IMG_FILE_GHOST && k->kind != IMG_FILE_MEMFD &&
		   k->kind != IMG_FILE_PSHM)) {
		ckpt_fail(c, -ENOTSUP, "%s: %s cannot be saved", p->what, p->path);
		return NULL;
	}
	return k;
}

/* --- huge pages: the page size of each mapping, from smaps ---------------- */

struct huge_walk {
	struct ckpt_ctx *c;
	int i;				/* the vma whose smaps entry is being read */
};

/* "KernelPageSize:    2048 kB" of the mapping that starts at start. */
static void huge_line(struct huge_walk *hw, const char *line)
{
	struct ckpt_ctx *c = hw->c;
	const char *p = line;
	uint64_t a = ckpt_parse_hex(&p);

	if (p != line && *p == '-') {
		hw->i = -1;
		for (int i = 0; i < c->nvmas; i++)
			if (c->vmas[i].byid == CKPT_BYID_HUGETLB && c->vmas[i].start <= a &&
			    a < c->vmas[i].end)
				hw->i = i;
		return;
	}
	if (hw->i >= 0 && !__builtin_strncmp(line, "KernelPageSize:", 15)) {
		uint64_t kb;

		p = line + 15;
		while (*p == ' ')
			p++;
		kb = ckpt_parse_dec(&p);
		if (kb >= 4 && !(kb & (kb - 1)))
			c->vmas[hw->i].huge_shift = __builtin_ctzll(kb) + 10;
	}
}

static int huge_sizes(struct ckpt_ctx *c)
{
	struct huge_walk hw = { c, -1 };
	char *buf = (char *)c->bounce;
	size_t cap = IMG_PAGES_MAX * IMG_PAGE_SIZE - 1, keep = 0;
	ssize_t n = 0;
	int fd = ckpt_open("/proc/self/smaps", O_RDONLY | O_CLOEXEC, 0);

	if (fd < 0)
		return ckpt_fail(c, -errno, "cannot read /proc/self/smaps for the huge page sizes");
	while ((n = read(fd, buf + keep, cap - keep)) > 0) {
		size_t len = keep + n;
		char *line = buf, *eol;

		buf[len] = '\0';
		while ((eol = __builtin_strchr(line, '\n'))) {
			*eol = '\0';
			huge_line(&hw, line);
			line = eol + 1;
		}
		keep = len - (size_t)(line - buf);
		if (keep == cap)
			break;
		__builtin_memmove(buf, line, keep);
	}
	ckpt_close(fd);
	for (int i = 0; i < c->nvmas; i++)
		if (c->vmas[i].byid == CKPT_BYID_HUGETLB &&
		    c->vmas[i].huge_shift != 21 && c->vmas[i].huge_shift != 30)
			return ckpt_fail(c, -ENOTSUP, "mapping %lx-%lx: anonymous huge pages of a "
					 "size libckpt cannot tell (smaps says shift %u)",
					 (unsigned long)c->vmas[i].start, (unsigned long)c->vmas[i].end,
					 c->vmas[i].huge_shift);
	return 0;
}

/*
 * Shared anonymous memory (and shared huge pages) is restored one object
 * per mapping: two mappings of one object at overlapping offsets (made by
 * mremap with an old size of 0) would come back as two, and a write
 * through one would no longer show through the other.  Refused.  Split
 * mappings of one object (mprotect of a part) have disjoint offsets and
 * are fine.  O(n^2) over the shared anonymous mappings only.
 */
static int shared_twice(struct ckpt_ctx *c)
{
	for (int i = 0; i < c->nvmas; i++) {
		const struct ckpt_vma *a = &c->vmas[i];

		if ((a->flags & (IMG_VMA_ANON | IMG_VMA_SHARED)) != (IMG_VMA_ANON | IMG_VMA_SHARED))
			continue;
		for (int j = i + 1; j < c->nvmas; j++) {
			const struct ckpt_vma *b = &c->vmas[j];

			if ((b->flags & (IMG_VMA_ANON | IMG_VMA_SHARED)) != (IMG_VMA_ANON | IMG_VMA_SHARED) ||
			    b->dev != a->dev || b->ino != a->ino ||
			    b->pgoff >= a->pgoff + (a->end - a->start) ||
			    a->pgoff >= b->pgoff + (b->end - b->start))
				continue;
			return ckpt_fail(c, -ENOTSUP, "mappings %lx-%lx and %lx-%lx share memory: one "
					 "shared anonymous object mapped twice (mremap), which a "
					 "restart would make two; not supported", (unsigned long)a->start,
					 (unsigned long)a->end, (unsigned long)b->start,
					 (unsigned long)b->end);
		}
	}
	return 0;
}

/* --- the two passes ------------------------------------------------------ */

int ckpt_fmapped_check(struct ckpt_ctx *c)
{
	char path[4096], what[48];
	int huge = 0;

	if (shared_twice(c) < 0)
		return c->error;

	for (int i = 0; i < c->nvmas; i++) {
		const struct ckpt_vma *v = &c->vmas[i];
		const struct fd_save_ops *k;
		struct same_path sp = { path, -1 };
		struct fd_probe p;
		int fd, r;

		huge |= v->byid == CKPT_BYID_HUGETLB;
		if (v->byid != CKPT_BYID_FILE || fdid_of(c, v->dev, v->ino))
			continue;		/* an fd holds it (checked), or done already */
		vma_path(v, path, sizeof(path));
		ckpt_proc_each("/proc/self/fd", has_path, &sp);
		if (sp.fd >= 0) {
			vma_name(v, what, sizeof(what));
			return ckpt_fail(c, -ENOTSUP, "%s maps %s, which fd %d has open too, but the "
					 "two do not show the same inode (overlayfs?): libckpt cannot "
					 "tell whether they are one file", what, path, sp.fd);
		}
		if ((fd = probe_mapping(c, v, &p, path, what)) < 0)
			return c->error;
		k = mapped_kind(c, &p);
		r = !k ? c->error : k->check ? k->check(c, &p) : 0;
		ckpt_close(fd);
		if (r < 0)
			return r;
		if (c->nfdids < CKPT_MAX_FDS)	/* the next mapping of it is done */
			c->fdids[c->nfdids++] = (struct ckpt_fdid){ .fd = -1, .dev = v->dev, .ino = v->ino };
	}
	return huge ? huge_sizes(c) : 0;
}

/* The FILE record of the hugetlbfs object of v: its id. */
static int write_hugetlb(struct ckpt_ctx *c, const struct ckpt_vma *v)
{
	static const char path[] = "/anon_hugepage (deleted)";
	struct img_file f = { .id = c->tree ? ckpt_tree_mapped_id(c->tree->index, v->ino) :
					      ++c->nfiles,
			      .kind = IMG_FILE_HUGETLB, .dev = v->dev,
			      .ino = v->ino, .mode = S_IFREG | 0600, .size = 0,
			      .path_len = sizeof(path) - 1 };
	struct img_file_hugetlb h = { v->huge_shift, 0 };
	unsigned char *buf = c->bounce;

	f.data_len = sizeof(h);
	__builtin_memcpy(buf, &h, sizeof(h));		/* kind data, then the path */
	__builtin_memcpy(buf + sizeof(h), path, f.path_len);
	if (img_write_record(&c->w, IMG_REC_FILE, &f, sizeof(f), buf, sizeof(h) + f.path_len) < 0)
		return c->w.error;
	return f.id;
}

/* The FILE record (and contents) of a file only mappings hold: its id. */
static int write_mapped(struct ckpt_ctx *c, const struct ckpt_vma *v)
{
	char path[4096], what[48];
	unsigned char *buf = c->bounce;
	const struct fd_save_ops *k;
	struct img_file f = { 0 };
	struct fd_probe p;
	int fd, n = 0;

	if ((fd = probe_mapping(c, v, &p, path, what)) < 0)
		return c->error;
	if (!(k = mapped_kind(c, &p)))
		goto out;
	/* no description: the file itself (size, mode, mtime, contents) is what is saved */
	f.id = c->tree ? ckpt_tree_mapped_id(c->tree->index, v->ino) : ++c->nfiles;
	f.kind = k->kind;
	f.flags = O_RDONLY;
	f.dev = p.st.st_dev;
	f.ino = p.st.st_ino;
	f.size = p.st.st_size;
	f.mtime_ns = (int64_t)p.st.st_mtim.tv_sec * 1000000000 + p.st.st_mtim.tv_nsec;
	f.mode = p.st.st_mode;
	f.path_len = ckpt_strlen(path);
	if (k->save && (n = k->save(c, &p, &f, buf, 4096)) < 0)	/* kind data, then the path */
		goto out;
	f.data_len = n;
	__builtin_memcpy(buf + n, path, f.path_len);
	if (img_write_record(&c->w, IMG_REC_FILE, &f, sizeof(f), buf, n + f.path_len) < 0) {
		ckpt_fail(c, c->w.error, "cannot write the image");
		goto out;
	}
	if (k->contents)
		k->contents(c, &p, &f);
out:
	ckpt_close(fd);
	return c->error ? c->error : (int)f.id;
}

int ckpt_fmapped_write(struct ckpt_ctx *c)
{
	for (int i = 0; i < c->nvmas; i++) {
		struct ckpt_vma *v = &c->vmas[i];
		struct ckpt_fdid *o;
		int id;

		if (v->byid == CKPT_BYID_NONE || v->byid == CKPT_BYID_SYSV)
			continue;	/* (a SysV attach: its segment is ckpt_sysv.c's) */
		/* an fd's FILE (the first of its file), or one written for an earlier mapping */
		if ((o = fdid_of(c, v->dev, v->ino))) {
			v->file = o->file;
			continue;
		}
		/*
		 * In a tree, the FILE an earlier member writes for its fd on the
		 * file, or for its own mapping of it (ckpt_tree_first).  Shared
		 * huge pages only mappings hold stay one process's: a restart
		 * makes each hugetlb FILE an object of its own.
		 */
		if ((id = (int)ckpt_tree_first(c, v->dev, v->ino))) {
			if (v->byid == CKPT_BYID_HUGETLB && (id & CKPT_TREE_ID_MAPPED))
				return ckpt_fail(c, -ENOTSUP, "mapping %lx-%lx: shared huge pages that "
						 "an earlier process of the tree maps too, and no process "
						 "holds an fd on: not supported",
						 (unsigned long)v->start, (unsigned long)v->end);
			v->file = (uint32_t)id;
			continue;
		}
		/* its id is its inode's: two such files must not share one */
		if (c->tree) {
			uint32_t mine = ckpt_tree_mapped_id(c->tree->index, v->ino);

			for (int k = 0; k < c->nfdids; k++)
				if (c->fdids[k].file == mine)
					return ckpt_fail(c, -ENOTSUP, "mapping %lx-%lx: two files that "
							 "only mappings hold (inodes %llu and %llu) "
							 "would get one id in the tree's image: not "
							 "supported (keep an fd open on one)",
							 (unsigned long)v->start, (unsigned long)v->end,
							 (unsigned long long)c->fdids[k].ino,
							 (unsigned long long)v->ino);
		}
		id = v->byid == CKPT_BYID_HUGETLB ? write_hugetlb(c, v) : write_mapped(c, v);
		if (id < 0)
			return c->error ? c->error : id;
		if (c->nfdids >= CKPT_MAX_FDS)
			return ckpt_fail(c, -EMFILE, "more than %d open and mapped files", CKPT_MAX_FDS);
		c->fdids[c->nfdids++] = (struct ckpt_fdid){ .fd = -1, .dev = v->dev, .ino = v->ino, .file = (uint32_t)id };
		v->file = id;
	}
	return 0;
}
