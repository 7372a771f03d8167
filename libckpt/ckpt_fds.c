/*
 * ckpt_fds.c - file descriptors: refuse what the image cannot hold, write
 * FD records for the rest.
 *
 * Supported: regular files, directories, and the character devices that
 * are the same everywhere (null, zero, full, random, urandom) — each
 * reopened by path at restore.  fds 0-2 are not saved: the restarted
 * process inherits ckpt-restart's stdin, stdout and stderr (docs/FILES.md).
 * fds sharing an open file description (dup) are recorded as such, so
 * the restart shares it again (one offset, one set of flags).
 * Everything else (pipes, sockets, anon inodes, ttys, deleted files) is
 * refused with the fd, what it is, and which call made it (registry).
 *
 * Cost: per fd one fstat, one readlink and one fdinfo read.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_incr.h"
#include "libckpt/reg.h"

typedef int (*fd_fn)(struct ckpt_ctx *c, int fd);

struct fds_walk {
	struct ckpt_ctx *c;
	fd_fn fn;
};

static int fds_one(int fd, int dirfd, void *arg)
{
	struct fds_walk *w = arg;
	struct ckpt_ctx *c = w->c;

	if (fd == dirfd || fd == c->img_fd || fd == c->ctl_fd ||
	    fd == c->pagemap_fd || fd == c->mem_fd || ckpt_dirty_is_own_fd(fd))
		return 0;			/* libckpt's own */
	return w->fn(c, fd) < 0 ? -1 : 0;
}

/* Calls fn for every open fd of the process except libckpt's own. */
static int fds_each(struct ckpt_ctx *c, fd_fn fn)
{
	struct fds_walk w = { c, fn };
	int r = ckpt_proc_each("/proc/self/fd", fds_one, &w);

	if (r < 0 && !c->error)
		return ckpt_fail(c, r, "cannot read /proc/self/fd");
	return c->error;
}

static void fd_path(int fd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	ckpt_fmt(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

/* " (made by socket() at app+0x12)" when the wrappers saw the fd made. */
static void fd_origin(struct ckpt_ctx *c, int fd, char *buf, size_t len)
{
	enum reg_kind kind;
	uintptr_t caller;
	char where[300];

	buf[0] = '\0';
	if (reg_fd_get(fd, &kind, &caller) < 0 || kind == REG_NONE)
		return;
	ckpt_describe_addr(c, caller, where, sizeof(where));
	ckpt_fmt(buf, len, " (made by %s() at %s)", reg_kind_name(kind), where);
}

static int is_portable_chr(dev_t rdev)
{
	/* mem major 1: null 3, zero 5, full 7, random 8, urandom 9 */
	return major(rdev) == 1 &&
	       (minor(rdev) == 3 || minor(rdev) == 5 || minor(rdev) == 7 ||
		minor(rdev) == 8 || minor(rdev) == 9);
}

static int suffix(const char *s, const char *suf)
{
	size_t a = ckpt_strlen(s), b = ckpt_strlen(suf);

	return a >= b && ckpt_memeq(s + a - b, suf, b);
}

static int fd_check(struct ckpt_ctx *c, int fd)
{
	char path[4096], origin[400];
	struct stat st;
	const char *what = NULL;

	if (fd <= 2)
		return 0;		/* inherited at restart, never saved */
	if (fstat(fd, &st) < 0)
		return 0;		/* closed meanwhile: nothing to save */
	fd_path(fd, path, sizeof(path));
	fd_origin(c, fd, origin, sizeof(origin));
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		if (path[0] != '/')
			what = "an anonymous file";
		else if (ckpt_memeq(path, "/memfd:", 7))
			what = "a memfd";
		else if (suffix(path, " (deleted)"))
			return ckpt_fail(c, -ENOENT, "fd %d: %s was deleted; its contents cannot be "
					 "restored%s", fd, path, origin);
		if (what)
			return ckpt_fail(c, -ENOTSUP, "fd %d: %s %s, not supported yet%s",
					 fd, what, path, origin);
		return 0;
	}
	if (S_ISCHR(st.st_mode) && is_portable_chr(st.st_rdev))
		return 0;
	if (S_ISCHR(st.st_mode))
		return ckpt_fail(c, -ENOTSUP, "fd %d: character device %s (%u:%u), not supported "
				 "yet%s", fd, path, major(st.st_rdev), minor(st.st_rdev), origin);
	if (S_ISFIFO(st.st_mode))
		what = path[0] == '/' ? "a FIFO" : "a pipe";
	else if (S_ISSOCK(st.st_mode))
		what = "a socket";
	else if (S_ISBLK(st.st_mode))
		what = "a block device";
	else
		what = "an anonymous inode";
	return ckpt_fail(c, -ENOTSUP, "fd %d: %s (%s), not supported yet%s",
			 fd, what, path, origin);
}

/* Reads "pos:" and "flags:" (octal) from /proc/self/fdinfo/N. */
static void fd_info(int fd, int64_t *pos, uint32_t *flags)
{
	char name[64], buf[512];
	const char *s;

	ckpt_fmt(name, sizeof(name), "/proc/self/fdinfo/%d", fd);
	*pos = 0;
	*flags = 0;
	if (ckpt_read_file(name, buf, sizeof(buf)) < 0)
		return;
	if ((s = __builtin_strstr(buf, "pos:"))) {
		s += 4;
		while (*s == ' ' || *s == '\t')
			s++;
		*pos = ckpt_parse_dec(&s);
	}
	if ((s = __builtin_strstr(buf, "flags:"))) {
		uint32_t v = 0;

		s += 6;
		while (*s == ' ' || *s == '\t')
			s++;
		while (*s >= '0' && *s <= '7')
			v = v * 8 + (*s++ - '0');
		*flags = v;
	}
}

/*
 * The lowest fd sharing fd's open file description (dup, dup2, fork), or
 * -1.  kcmp only between fds on the same inode: O(fds) stats, and kcmp
 * calls only where sharing is possible.
 */
static int shared_with(struct ckpt_ctx *c, int fd, const struct stat *st)
{
	pid_t pid = getpid();
	int found = -1;

	for (int i = 0; i < c->nfdids && found < 0; i++) {
		const struct ckpt_fdid *o = &c->fdids[i];

		if (o->dev == st->st_dev && o->ino == st->st_ino &&
		    syscall(SYS_kcmp, pid, pid, KCMP_FILE, o->fd, fd) == 0)
			found = o->fd;
	}
	if (c->nfdids < 65536)
		c->fdids[c->nfdids++] = (struct ckpt_fdid){ fd, st->st_dev, st->st_ino };
	return found;
}

static int fd_write(struct ckpt_ctx *c, int fd)
{
	char path[4096];
	struct stat st;
	struct img_fd r = { .fd = fd };

	if (fstat(fd, &st) < 0)
		return 0;
	r.shared_with = shared_with(c, fd, &st);
	if (fd <= 2)
		return 0;		/* inherited at restart, never saved */
	fd_path(fd, path, sizeof(path));
	r.kind = S_ISREG(st.st_mode) ? IMG_FD_REG : S_ISDIR(st.st_mode) ? IMG_FD_DIR : IMG_FD_CHR;
	fd_info(fd, &r.pos, &r.flags);
	r.fdflags = fcntl(fd, F_GETFD);
	r.dev = st.st_dev;
	r.ino = st.st_ino;
	r.rdev = st.st_rdev;
	r.size = st.st_size;
	r.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	r.mode = st.st_mode;
	r.path_len = ckpt_strlen(path);
	return img_write_record(&c->w, IMG_REC_FD, &r, sizeof(r), path, r.path_len);
}

int ckpt_fds_check(struct ckpt_ctx *c)
{
	return fds_each(c, fd_check);
}

int ckpt_fds_write(struct ckpt_ctx *c)
{
	c->nfdids = 0;
	return fds_each(c, fd_write);
}
