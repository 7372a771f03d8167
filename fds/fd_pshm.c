/*
 * fd_pshm.c - POSIX shared memory objects (shm_open(), and sem_open()'s
 * "sem.NAME"): regular files of the tmpfs mounted on /dev/shm, open
 * through fds, mapped, or both, and like SysV segments shared state that
 * outlives its processes.  Their contents are saved once in the image and
 * put back at restart, into the object itself when it is still there
 * (after a crash), into one made again under its name when it is gone
 * (after a reboot).
 *
 * Recognised (ckpt_pshm_is): a regular file, not deleted, whose st_dev
 * is that of /dev/shm in the process's mount namespace, /dev/shm being a
 * tmpfs (statfs TMPFS_MAGIC).  By device, not by path: a path can lie
 * (a bind mount, /dev/shm a link to /run/shm), a device cannot; and a
 * file of another tmpfs (/tmp, /run) is a plain file, reopened by path
 * as before.  `ckpt-run --pidns/--ipcns` processes see the host's
 * /dev/shm through their own mount namespace: the same device.  A file
 * deleted while open or mapped ("/dev/shm/x (deleted)": shm_unlink) is a
 * ghost (fd_ghost.c): it has no name to come back under.  But one whose
 * name was removed while it has another (st_nlink 1: sem_open() makes
 * "sem.XXXXXX", maps it, links it to "sem.NAME" and removes the first
 * name, so its mapping says "/dev/shm/sem.XXXXXX (deleted)") is looked
 * for by its inode in /dev/shm (ckpt_pshm_rename), and saved under the
 * name it has.
 *
 * Save (the driver, ckpt_fmapped.c and ckpt_fdata.c do the rest):
 *  - every description of the object is a FILE of this kind, and so is
 *    the object when only mappings hold it (then opened by its path,
 *    identity checked: no privilege needed, unlike map_files); every
 *    mapping of it, shared or private, names such a FILE, so the
 *    mappings and the fds are of one file after a restart;
 *  - the FIRST FILE of the object in the image (ckpt_fds_first: this
 *    process's and earlier processes' fds of a tree; and, in a tree, no
 *    earlier process maps it: pshm_first) carries the contents (FILE_DATA
 *    records: data extents only, holes stay holes; CKPT_GHOST_LIMIT) and
 *    IMG_PSHM_DATA; every other FILE of the object has none.  Objects are
 *    told apart by (dev, ino): a later process of a tree cannot know the
 *    id an earlier one gave a FILE only mappings hold;
 *  - its size, mode, mtime (img_file), owner and birth time (statx
 *    STATX_BTIME: tmpfs keeps it) in the kind data.
 *  - refused: an object with another name (st_nlink > 1: a restart after
 *    a reboot would make only one).
 *
 * Restore ("the same object": dev, ino, and birth time when both the
 * image and this kernel know it.  Not ctime, which any write moves, nor
 * mtime: the crash case is precisely an object written since.  After a
 * reboot tmpfs hands out small inode numbers again, the same ones to a
 * program that makes its objects in the same order, and the device
 * number of /dev/shm is often the same too: only the birth time tells a
 * new object from the saved one there):
 *  - verify: the object under the path is the saved one (reused), or the
 *    name is free and its directory a tmpfs where this user may make a
 *    file (made again), else refused, exit 4, naming what is there and
 *    the rm that frees the name;
 *  - make (once per object, from the FILE with IMG_PSHM_DATA, whatever
 *    FILE of it is opened first: restart_fds.c rst_obj):
 *      reused  opened by its path (O_NOFOLLOW), its identity checked
 *              again, emptied (FALLOC_FL_PUNCH_HOLE) and given the saved
 *              size and contents: what other processes wrote since the
 *              checkpoint is undone, as for a SysV segment.  A user who
 *              may only read it: reused only when it still holds exactly
 *              the saved contents, else refused;
 *      made    O_CREAT|O_EXCL|O_NOFOLLOW, 0600, in its directory (opened
 *              first, and required to be a tmpfs), as the image's user
 *              when root restarts a user's image (rst_fs_owner): never
 *              through a link, never over a file, never somewhere this
 *              user could not make one; the contents written;
 *  - every description is a reopen of it (rst_obj_open; one opened
 *    O_NOFOLLOW, as shm_open does, by its name, the object checked),
 *    every mapping too (rst_open_files): one file behind all of them;
 *  - finish, for an object made again: the saved owner (fchown: only
 *    where the kernel lets ckpt-restart, i.e. root restarting a trusted
 *    image, or a group of the user's own; else a note), permission bits
 *    and mtime.  A reused object keeps its own mode and owner.
 *  - a restart that fails before the process runs removes an object it
 *    made (rst_pshm_unmake): left there, it would be "another object" to
 *    the next restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

static const char deleted[] = " (deleted)";
#define DELETED_LEN	(sizeof(deleted) - 1)

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC	0x01021994
#endif
#define PSHM_STATX_BTIME	0x800u		/* STATX_BTIME */
#define PSHM_AT_EMPTY_PATH	0x1000		/* AT_EMPTY_PATH */
#define PSHM_AT_NOFOLLOW	0x100		/* AT_SYMLINK_NOFOLLOW */

/*
 * struct statx as the kernel writes it (256 bytes, a stable ABI), named
 * here: musl's headers have none, glibc's clash with <linux/stat.h>.
 */
struct pshm_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	struct { int64_t sec; uint32_t nsec; int32_t spare; } atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};
_Static_assert(sizeof(struct pshm_statx) == 256, "struct statx");

static int ends_deleted(const char *path, size_t n)
{
	return n > DELETED_LEN && !memcmp(path + n - DELETED_LEN, deleted, DELETED_LEN);
}

/* Absolute, plain (no empty, "." or ".." component, no trailing '/'), not deleted. */
static int pshm_path_ok(const char *path, size_t n)
{
	if (n < 2 || path[0] != '/' || path[n - 1] == '/' || ends_deleted(path, n))
		return 0;
	for (size_t i = 0; i < n; ) {
		size_t j = i + 1, e = j;

		while (e < n && path[e] != '/')
			e++;
		if (e == j || (e - j == 1 && path[j] == '.') ||
		    (e - j == 2 && path[j] == '.' && path[j + 1] == '.'))
			return 0;
		i = e;
	}
	return 1;
}

static int pshm_valid(const struct img_file *f, const char *path, const void *data, char *err,
		      size_t len)
{
	const struct img_file_pshm *m = data;

	if (f->data_len != sizeof(*m) || m->reserved || (m->flags & ~(uint32_t)IMG_PSHM_DATA) ||
	    m->btime_ns < -1) {
		snprintf(err, len, "%u bytes of kind data (want %zu), flags %#x, birth time %lld",
			 f->data_len, sizeof(*m), f->data_len == sizeof(*m) ? m->flags : 0,
			 f->data_len == sizeof(*m) ? (long long)m->btime_ns : 0);
		return -1;
	}
	if (!S_ISREG(f->mode) || (f->mode & ~(uint32_t)(S_IFMT | 07777)) || f->size < 0 ||
	    f->pos < 0 || (f->flags & O_PATH) || !pshm_path_ok(path, f->path_len)) {
		snprintf(err, len, "mode %#o, size %lld, offset %lld, flags %#o, or a path that is "
			 "not absolute and plain: not a POSIX shared memory object", f->mode,
			 (long long)f->size, (long long)f->pos, f->flags);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_pshm_info = { IMG_FILE_PSHM, "POSIX shared memory object",
					   pshm_valid };

#ifdef FD_SAVE
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"

int ckpt_pshm_is(struct ckpt_ctx *c, uint64_t dev)
{
	if (major(dev) != 0)		/* tmpfs devices are anonymous: most files stop here */
		return 0;
	if (!c->shm_known) {
		struct stat st;
		struct statfs sf;

		c->shm_known = -1;
		if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		    arch_sys2(SYS_statfs, "/dev/shm", &sf) == 0 &&
		    (uint32_t)sf.f_type == TMPFS_MAGIC) {
			c->shm_dev = st.st_dev;
			c->shm_known = 1;
		}
	}
	return c->shm_known > 0 && dev == c->shm_dev;
}

struct pshm_dirent {			/* struct linux_dirent64 */
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

int ckpt_pshm_rename(struct ckpt_ctx *c, uint64_t dev, uint64_t ino, char *path, size_t len)
{
	char buf[2048], name[300];
	size_t n = ckpt_strlen(path);
	int dfd, found = 0;
	long got;

	if (!ends_deleted(path, n) || !ckpt_pshm_is(c, dev) ||
	    (dfd = ckpt_open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)) < 0)
		return 0;
	while (!found && (got = arch_sys3(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < got && !found; ) {
			const struct pshm_dirent *d = (const void *)(buf + off);
			struct stat st;
			int fd;

			off += d->reclen;
			if (d->ino != ino || d->name[0] == '.' || ckpt_strlen(d->name) > 255)
				continue;
			/* the entry's inode number is the mapped file's: is it (same device)? */
			ckpt_fmt(name, sizeof(name), "/dev/shm/%s", d->name);
			if ((fd = ckpt_open(name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0)) < 0)
				continue;
			found = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == dev &&
				st.st_ino == ino && ckpt_strlen(name) < len;
			ckpt_close(fd);
		}
	}
	ckpt_close(dfd);
	if (found)
		__builtin_memcpy(path, name, ckpt_strlen(name) + 1);
	return found;
}

static int pshm_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return S_ISREG(p->st.st_mode) && !(p->flags & O_PATH) && p->path[0] == '/' &&
	       !ends_deleted(p->path, ckpt_strlen(p->path)) && ckpt_pshm_is(c, p->st.st_dev);
}

/* One line of a maps file: whether it maps (dev, ino). */
static int maps_line_is(const char *s, uint64_t dev, uint64_t ino)
{
	uint64_t maj, min;

	ckpt_parse_hex(&s);		/* start-end */
	if (*s++ != '-')
		return 0;
	ckpt_parse_hex(&s);
	while (*s == ' ')
		s++;
	while (*s && *s != ' ')		/* perms */
		s++;
	while (*s == ' ')
		s++;
	ckpt_parse_hex(&s);		/* offset */
	while (*s == ' ')
		s++;
	maj = ckpt_parse_hex(&s);
	if (*s++ != ':')
		return 0;
	min = ckpt_parse_hex(&s);
	while (*s == ' ')
		s++;
	return makedev(maj, min) == dev && (uint64_t)ckpt_parse_dec(&s) == ino;
}

/*
 * Whether /proc/PID/maps shows a mapping of (dev, ino): 1, 0, or -errno.
 * Read in pieces through a small buffer (this runs on the signal stack);
 * a line longer than it (a path of thousands of bytes) is skipped: its
 * start was looked at already.
 */
static int maps_has(pid_t pid, uint64_t dev, uint64_t ino)
{
	char name[48], buf[4096];
	size_t keep = 0;
	ssize_t n;
	int fd, found = 0, skip = 0;

	ckpt_fmt(name, sizeof(name), "/proc/%d/maps", (int)pid);
	if ((fd = ckpt_open(name, O_RDONLY | O_CLOEXEC, 0)) < 0)
		return -errno;
	while (!found && (n = read(fd, buf + keep, sizeof(buf) - 1 - keep)) > 0) {
		size_t len = keep + (size_t)n;
		char *line = buf, *eol;

		buf[len] = '\0';
		while (!found && (eol = __builtin_strchr(line, '\n'))) {
			*eol = '\0';
			found = !skip && maps_line_is(line, dev, ino);
			skip = 0;
			line = eol + 1;
		}
		keep = len - (size_t)(line - buf);
		if (keep == sizeof(buf) - 1) {	/* no end of line in a full buffer */
			if (!skip)
				found = maps_line_is(buf, dev, ino);
			skip = 1;
			keep = 0;
		}
		__builtin_memmove(buf, line, keep);
	}
	ckpt_close(fd);
	return n < 0 && !found ? -EIO : found;
}

/*
 * Whether this process is the first of its tree to hold object (dev, ino)
 * by a mapping only: no earlier process (section) of the tree maps it.
 * (Their fds are ckpt_fds_first's.)  1, 0, or -errno after ckpt_fail.
 * Asked by save and again by contents: the answer is kept for the last
 * object asked in this tree checkpoint (its cookie and section).
 */
static int mapped_earlier(struct ckpt_ctx *c, uint64_t dev, uint64_t ino)
{
	static struct { uint32_t cookie; int index; uint64_t dev, ino; int r; } last;
	struct ckpt_tree *t = c->tree;
	int r = 0;

	if (!t || t->index == 0)
		return 0;
	if (last.cookie == t->cookie && last.index == t->index && last.dev == dev && last.ino == ino)
		return last.r;
	for (int k = 0; k < t->index && !r; k++) {
		if ((r = maps_has(t->pids[k], dev, ino)) < 0)
			return ckpt_fail(c, r, "cannot read /proc/%d/maps (process %d of the tree) to "
					 "find who saves a POSIX shared memory object", (int)t->pids[k],
					 (int)t->pids[k]);
	}
	last.cookie = t->cookie;
	last.index = t->index;
	last.dev = dev;
	last.ino = ino;
	last.r = r;
	return r;
}

/* Whether p's FILE is the object's first in the image (it carries the contents): 1, 0, -errno. */
static int pshm_first(struct ckpt_ctx *c, const struct fd_probe *p)
{
	int r;

	if (ckpt_fds_first(c, p->st.st_dev, p->st.st_ino))
		return 0;
	r = mapped_earlier(c, p->st.st_dev, p->st.st_ino);
	return r < 0 ? r : !r;
}

static int pshm_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	if (p->st.st_nlink != 1)
		return ckpt_fail(c, -ENOTSUP, "%s: POSIX shared memory object %s has %lu names (hard "
				 "links); a restart after a reboot would make it again under one: "
				 "not supported%s", ckpt_fdata_what(p), p->path,
				 (unsigned long)p->st.st_nlink, p->origin);
	return ckpt_fdata_check(c, p);
}

/* Its birth time in ns (statx through the fd), or -1 where the kernel or file system has none. */
static int64_t pshm_btime(int fd)
{
	struct pshm_statx sx;

	__builtin_memset(&sx, 0, sizeof(sx));
	if (arch_sys5(SYS_statx, fd, "", PSHM_AT_EMPTY_PATH, PSHM_STATX_BTIME, &sx) < 0 ||
	    !(sx.mask & PSHM_STATX_BTIME))
		return -1;
	return sx.btime.sec * 1000000000 + sx.btime.nsec;
}

static int pshm_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
		     void *data, size_t cap)
{
	struct img_file_pshm m = { .uid = p->st.st_uid, .gid = p->st.st_gid,
				   .btime_ns = pshm_btime(p->fd) };
	int first = pshm_first(c, p);

	if (first < 0)
		return first;
	m.flags = first ? IMG_PSHM_DATA : 0;
	__builtin_memcpy(data, &m, sizeof(m));
	return sizeof(m);
}

/* The contents, after the object's first FILE only. */
static int pshm_contents(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f)
{
	int first = pshm_first(c, p);

	if (first <= 0)
		return first;
	return ckpt_fdata_contents(c, p, f);
}

const struct fd_save_ops fd_pshm_save = { .kind = IMG_FILE_PSHM, .match = pshm_match,
					  .check = pshm_check, .save = pshm_save,
					  .contents = pshm_contents };
#endif

#ifdef FD_RESTORE
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "restart/rst.h"

#define PSHM_WHY	10240		/* a message naming two paths */

static const struct img_file_pshm *pshm_of(const struct rst_file *f)
{
	return f->data;
}

/* What is under a name now: its dev, ino and birth time (-1: unknown). */
struct pshm_now {
	struct stat st;
	int64_t btime_ns;
};

/* statx of path (fd < 0, not following a link) or of fd: 0, or -1 with errno. */
static int pshm_stat(const char *path, int fd, struct pshm_now *n)
{
	struct pshm_statx sx;

	if (fd >= 0 ? fstat(fd, &n->st) : lstat(path, &n->st))
		return -1;
	memset(&sx, 0, sizeof(sx));
	n->btime_ns = -1;
	if ((fd >= 0 ? syscall(SYS_statx, fd, "", PSHM_AT_EMPTY_PATH, PSHM_STATX_BTIME, &sx) :
	     syscall(SYS_statx, AT_FDCWD, path, PSHM_AT_NOFOLLOW, PSHM_STATX_BTIME, &sx)) == 0 &&
	    (sx.mask & PSHM_STATX_BTIME))
		n->btime_ns = sx.btime.sec * 1000000000 + sx.btime.nsec;
	return 0;
}

/* Whether what is there is the saved object. */
static int pshm_same(const struct rst_file *f, const struct pshm_now *n)
{
	int64_t b = pshm_of(f)->btime_ns;

	return S_ISREG(n->st.st_mode) && n->st.st_dev == f->f.dev && n->st.st_ino == f->f.ino &&
	       (b < 0 || n->btime_ns == b);
}

/* "2026-12-07 00:07:19.669210715 UTC", or "at an unknown time". */
static const char *pshm_when(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	size_t n;

	if (ns < 0 || !gmtime_r(&t, &tm) || !(n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm)))
		snprintf(buf, len, "at an unknown time");
	else
		snprintf(buf + n, len - n, ".%09lld UTC", (long long)(ns % 1000000000));
	return buf;
}

/* The message for another file under the saved object's name. */
static void pshm_other(const struct rst_file *f, const struct pshm_now *n, char *buf, size_t len)
{
	char then[64], now[64];

	if (!S_ISREG(n->st.st_mode)) {
		snprintf(buf, len, "%s: POSIX shared memory object %s exists and is not the one "
			 "saved: it is now a %s; remove it (rm %s) to restart with the saved "
			 "object, if nothing else needs it", rst_file_what(f), f->path,
			 S_ISLNK(n->st.st_mode) ? "symbolic link" : S_ISDIR(n->st.st_mode) ?
			 "directory" : "special file", f->path);
		return;
	}
	snprintf(buf, len, "%s: POSIX shared memory object %s exists and is not the one saved "
		 "(inode %lu, made %s; the saved one: inode %lu, made %s): it was removed and "
		 "made again since the checkpoint (a reboot, another run of the program); remove "
		 "it (rm %s) to restart with the saved object, if nothing else needs it",
		 rst_file_what(f), f->path, (unsigned long)n->st.st_ino,
		 pshm_when(n->btime_ns, now, sizeof(now)), (unsigned long)f->f.ino,
		 pshm_when(pshm_of(f)->btime_ns, then, sizeof(then)), f->path);
}

/* The directory of f's path (into dir), and its last component. */
static const char *pshm_split(const struct rst_file *f, char *dir, size_t len)
{
	const char *slash = strrchr(f->path, '/');

	snprintf(dir, len, "%.*s", slash == f->path ? 1 : (int)(slash - f->path), f->path);
	return slash + 1;
}

/*
 * The directory to make f in, opened O_PATH as the user the process will
 * be: -1 with the reason in why when it is not there or not a tmpfs (a
 * POSIX shared memory object is made only where such objects live: an
 * image naming another place is not made to write there).
 */
static int pshm_dir(struct rst_state *s, const struct rst_file *f, char *why, size_t len)
{
	char dir[4096];
	struct statfs sf;
	int d, e;

	pshm_split(f, dir, sizeof(dir));
	rst_fs_owner(s, 1);
	d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	e = errno;
	rst_fs_owner(s, 0);
	if (d < 0) {
		snprintf(why, len, "%s: POSIX shared memory object %s is gone, and cannot be made "
			 "again: its directory %s %s", rst_file_what(f), f->path, dir,
			 e == ENOENT ? "is gone" : strerror(e));
		return -1;
	}
	if (fstatfs(d, &sf) < 0 || (uint32_t)sf.f_type != TMPFS_MAGIC) {
		snprintf(why, len, "%s: POSIX shared memory object %s is gone, and its directory %s "
			 "is not a tmpfs (like /dev/shm): ckpt-restart makes such objects only "
			 "there", rst_file_what(f), f->path, dir);
		close(d);
		return -1;
	}
	return d;
}

static int pshm_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct rst_file *o = rst_obj_owner(s, f);
	struct pshm_now n;
	char why[PSHM_WHY];
	int d, t, e;

	/* the object's first FILE is verified itself; else verify the object through this one */
	if (o != f && (o->used || o->mapped))
		return 0;
	f = o;
	if (pshm_stat(f->path, -1, &n) == 0) {
		if (pshm_same(f, &n))
			return 0;	/* the saved object itself: reused */
		pshm_other(f, &n, why, sizeof(why));
		return rst_problem(s, RST_EXIT_ENV, "%s", why);
	}
	if (errno != ENOENT)
		return rst_problem(s, RST_EXIT_ENV, "%s: POSIX shared memory object %s cannot be "
				   "looked at: %s", rst_file_what(f), f->path, strerror(errno));
	/* gone: can it be made there, as the user the process will be? (nothing is left behind) */
	if ((d = pshm_dir(s, f, why, sizeof(why))) < 0)
		return rst_problem(s, RST_EXIT_ENV, "%s", why);
	rst_fs_owner(s, 1);
	t = openat(d, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	e = errno;
	rst_fs_owner(s, 0);
	close(d);
	if (t >= 0) {
		close(t);
		return 0;
	}
	if (e == EOPNOTSUPP || e == EISDIR || e == EINVAL)
		return 0;		/* no O_TMPFILE to try with: the make says */
	return rst_problem(s, RST_EXIT_ENV, "%s: POSIX shared memory object %s is gone, and cannot "
			   "be made again in its directory: %s", rst_file_what(f), f->path,
			   strerror(e));
}

/* The saved object, opened by name, is it: its contents put back.  The fd, or -1 reported. */
static int pshm_reuse(struct rst_state *s, struct rst_file *f, int fd, int writable)
{
	struct pshm_now n;
	char why[PSHM_WHY];
	int same;

	if (pshm_stat(NULL, fd, &n) < 0) {
		rst_error(s, "%s: POSIX shared memory object %s: %s", rst_file_what(f), f->path,
			  strerror(errno));
		close(fd);
		return -1;
	}
	if (!pshm_same(f, &n)) {	/* (another took the name since it was checked) */
		pshm_other(f, &n, why, sizeof(why));
		rst_error(s, "%s", why);
		close(fd);
		return -1;
	}
	if (!writable) {
		/* a user who may only read it: only an object still as saved is the process's */
		same = rst_fdata_same(s, f, fd);
		rst_fdata_free(f);
		if (same > 0)
			return fd;
		if (same == 0)
			rst_error(s, "%s: POSIX shared memory object %s was changed since the "
				  "checkpoint, and the restart cannot put the saved contents back: "
				  "this user may not write it (Permission denied); restart as its "
				  "owner or as root", rst_file_what(f), f->path);
		close(fd);
		return -1;
	}
	/* what others wrote since is undone: emptied (holes stay holes), then the saved contents */
	if (n.st.st_size > 0 &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, n.st.st_size) < 0 &&
	    ftruncate(fd, 0) < 0) {
		rst_error(s, "%s: cannot empty POSIX shared memory object %s to put the saved "
			  "contents back: %s", rst_file_what(f), f->path, strerror(errno));
		close(fd);
		return -1;
	}
	if (rst_fdata_write(s, f, fd, 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The object is gone: made again under its name.  The fd, or -1 reported. */
static int pshm_create(struct rst_state *s, struct rst_file *f)
{
	char dir[4096], why[PSHM_WHY];
	const char *name = pshm_split(f, dir, sizeof(dir));
	struct stat st;
	int d, fd, e;

	if ((d = pshm_dir(s, f, why, sizeof(why))) < 0) {
		rst_error(s, "%s", why);
		return -1;
	}
	rst_fs_owner(s, 1);
	fd = openat(d, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_NOCTTY | O_CLOEXEC, 0600);
	e = errno;
	rst_fs_owner(s, 0);
	if (fd < 0) {
		rst_error(s, "%s: cannot make POSIX shared memory object %s again: %s%s",
			  rst_file_what(f), f->path, strerror(e), e == EEXIST ?
			  " (another file took the name since it was checked)" : "");
		close(d);
		return -1;
	}
	if (fstat(fd, &st) == 0) {
		f->made = 1;
		f->made_dev = st.st_dev;
		f->made_ino = st.st_ino;
	}
	if (rst_fdata_write(s, f, fd, 0) < 0) {
		unlinkat(d, name, 0);
		f->made = 0;
		close(fd);
		fd = -1;
	}
	close(d);
	return fd;
}

static int pshm_make(struct rst_state *s, struct rst_file *f)
{
	int fd = open(f->path, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC), e = errno;

	if (fd >= 0)
		return pshm_reuse(s, f, fd, 1);
	if (e == EACCES || e == EPERM) {
		if ((fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC)) >= 0)
			return pshm_reuse(s, f, fd, 0);
		e = errno;
	}
	if (e == ENOENT)
		return pshm_create(s, f);
	rst_error(s, "%s: cannot open POSIX shared memory object %s: %s%s", rst_file_what(f),
		  f->path, strerror(e), e == ELOOP ? " (a symbolic link is there now: remove it "
		  "to restart with the saved object)" : "");
	return -1;
}

/*
 * An object made again: its owner, permission bits and mtime, once every
 * description and mapping is open (its mode may forbid those opens).
 * The owner only where the kernel lets ckpt-restart give it: root
 * restarting a trusted image (whose owner it believes), or a user giving
 * it a group of their own; else it stays the user's, with a note.
 */
static int pshm_finish(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_pshm *m = pshm_of(f);
	struct timespec t[2] = { { 0, UTIME_OMIT },
				 { f->f.mtime_ns / 1000000000, f->f.mtime_ns % 1000000000 } };
	struct stat st;

	if (!f->made)
		return 0;		/* reused: its mode and owner are its own */
	if (fstat(f->obj, &st) == 0 && (st.st_uid != m->uid || st.st_gid != m->gid) &&
	    fchown(f->obj, st.st_uid != m->uid ? m->uid : (uid_t)-1,
		   st.st_gid != m->gid ? m->gid : (gid_t)-1) < 0)
		dprintf(rst_err_fd, "ckpt-restart: note: %s: POSIX shared memory object %s is made "
			"again owned by uid %u gid %u, not uid %u gid %u as saved (%s: only root "
			"restarting a trusted image gives another owner)\n", rst_file_what(f),
			f->path, (unsigned)st.st_uid, (unsigned)st.st_gid, m->uid, m->gid,
			strerror(errno));
	if (f->f.mtime_ns < 0)
		t[1].tv_nsec = UTIME_OMIT;
	if (fchmod(f->obj, f->f.mode & 0777) < 0 || futimens(f->obj, t) < 0) {
		rst_error(s, "%s: cannot give POSIX shared memory object %s its mode %o: %s",
			  rst_file_what(f), f->path, f->f.mode & 0777, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A description of the object: a reopen of it (rst_obj_open), except that
 * one opened O_NOFOLLOW (shm_open's) is opened by its name, which keeps
 * that flag (the /proc/self/fd link refuses it), when the name is still
 * the object.
 */
static int pshm_open(struct rst_state *s, const struct rst_file *f)
{
	int obj = rst_obj(s, (struct rst_file *)f), fd;
	struct stat a, b;

	if (obj < 0)
		return -1;
	if (!(f->f.flags & O_NOFOLLOW))
		return rst_obj_open(s, f);
	fd = open(f->path, (f->f.flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC)) | O_NOCTTY |
		  O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &a) == 0 && fstat(obj, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino && lseek(fd, f->f.pos, SEEK_SET) == f->f.pos)
		return fd;
	if (fd >= 0)
		close(fd);
	return rst_obj_open(s, f);
}

void rst_pshm_unmake(struct rst_state *s)
{
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *f = &s->files[i];
		struct stat st;

		if (f->f.kind != IMG_FILE_PSHM || !f->made)
			continue;
		f->made = 0;
		if (lstat(f->path, &st) == 0 && st.st_dev == f->made_dev && st.st_ino == f->made_ino)
			unlink(f->path);
	}
}

const struct fd_restore_ops fd_pshm_restore = { .kind = IMG_FILE_PSHM,
						.verify = pshm_verify, .open = pshm_open,
						.make = pshm_make, .finish = pshm_finish };
#endif
