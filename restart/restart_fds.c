/*
 * restart_fds.c - files: the ones the restorer maps, the fds the process
 * had, its cwd, umask and rlimits.
 *
 * fds (the driver; each kind's own part is in fds/fd_<kind>.c):
 *  1. plan: which FILEs some fd is made from, which a mapping maps; an fd
 *     is instead inherited from ckpt-restart when its FILE is
 *     IMG_FILE_INHERIT (fds 0-2 on a terminal, pipe or socket) or the
 *     user said --inherit-fd N[=M];
 *  2. verify (restart_env.c calls rst_check_fds with the rest of the
 *     environment, before anything is built): each used FILE's kind
 *     checks the machine; every inherited source fd is open;
 *  3. restore: the inherited sources are copied above every fd number
 *     the image uses (so placing an fd can never close one), each used
 *     FILE is opened by its kind (also above), then every fd is dup3()ed
 *     to its number with its FD_CLOEXEC, and whatever ckpt-restart still
 *     has below that line and the image does not is closed: the process
 *     gets exactly its own fd table.
 *  4. locks (fds/fd_lock.c, after this): taken through each FILE's
 *     lowest placed fd (rst_file.placed); nothing here may close an fd
 *     after that, since any close drops the process's POSIX locks on
 *     its file.
 * ckpt-restart's own messages go to a copy of its stderr from step 3 on
 * (rst_err_fd): fd 2 may now be the process's log file.
 *
 * Files made again (deleted files, memfds, and POSIX shm objects reused
 * or made again: fds/fd_ghost.c, fd_memfd.c, fd_pshm.c): the first time a
 * description or a mapping of one is opened, its kind makes the file (rst_obj: O_RDWR, contents written); every description
 * is a reopen of it through /proc/self/fd with its own flags, every
 * mapping too (rst_open_files, before the fds), so all of them share the
 * one file as they did.  Once the fds are placed, each such file gets
 * what must come last (finish: its mode, a memfd's seals) and its own fd
 * is closed: the descriptions and mappings hold it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "kernel-assist/assist.h"
#include "restart/rst.h"

int rst_err_fd = 2;

/* One past the highest fd number the image or an inherited source uses (at least 10). */
int rst_fd_base(struct rst_state *s)
{
	int base = 10;

	for (int i = 0; i < s->nfds; i++)
		if (s->fds[i].fd >= base)
			base = s->fds[i].fd + 1;
	for (int i = 0; i < s->ninherit; i++)
		if (s->inherit[i].fd >= base)
			base = s->inherit[i].fd + 1;
	return base;
}

/* Moves fd to the first free number >= base, close-on-exec. */
static int lift(int fd, int base)
{
	int n;

	if (fd >= base)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (n < 0)
		return -1;
	close(fd);
	return n;
}

struct rst_file *rst_file_by_id(struct rst_state *s, uint32_t id)
{
	for (int i = 0; i < s->nfiles; i++)
		if (s->files[i].f.id == id)
			return &s->files[i];
	return NULL;
}

/* --inherit-fd N[=M] for fd: M (N if not given), else -1. */
static int inherit_opt(const struct rst_state *s, int fd)
{
	for (int i = 0; i < s->ninherit; i++)
		if (s->inherit[i].fd == fd)
			return s->inherit[i].from;
	return -1;
}

/* Whether ckpt-restart's own fd is open (0-2: open when it started). */
static int src_open(const struct rst_state *s, int fd)
{
	if (fd <= 2 && (s->std_closed & (1u << fd)))
		return 0;
	return fcntl(fd, F_GETFD) >= 0;
}

/* Where fd d comes from when it is inherited: ckpt-restart's fd, or -1. */
static int inherit_src(const struct rst_state *s, const struct img_fd *d)
{
	int from;

	if (s->tree)		/* a tree's: by the description, the root's fds decide */
		return rst_tree_inherit(s, d->file);
	from = inherit_opt(s, d->fd);

	if (from >= 0)
		return from;
	return rst_file_by_id((struct rst_state *)s, d->file)->f.kind == IMG_FILE_INHERIT ? d->fd : -1;
}

/* A pidfd of a thread other than the main one: it can only be opened once that thread exists. */
static int file_late(const struct rst_state *s, const struct rst_file *f)
{
	return f->f.kind == IMG_FILE_PIDFD &&
	       ((const struct img_file_pidfd *)f->data)->pid != s->proc.pid;
}

/*
 * Whether the restorer makes fd d (a late pidfd, not given by
 * --inherit-fd): its number is left free here.
 */
int rst_fd_late(struct rst_state *s, const struct img_fd *d)
{
	return file_late(s, rst_file_by_id(s, d->file)) && inherit_src(s, d) < 0;
}

/* Step 1: mark the FILEs some fd is made from (and each one's lowest fd), and the mapped ones. */
static void plan(struct rst_state *s)
{
	for (int i = 0; i < s->nfiles; i++) {
		s->files[i].used = 0;
		s->files[i].mapped = 0;
		s->files[i].first_fd = -1;
		s->files[i].first_map = 0;
	}
	for (int i = 0; i < s->nfds; i++) {
		struct rst_file *f = rst_file_by_id(s, s->fds[i].file);

		if (f->first_fd < 0 || s->fds[i].fd < f->first_fd)
			f->first_fd = s->fds[i].fd;
		if (inherit_src(s, &s->fds[i]) < 0)
			f->used = 1;
	}
	for (int i = 0; i < s->nvmas; i++) {
		struct rst_file *f = s->vmas[i].v.file ? rst_file_by_id(s, s->vmas[i].v.file) : NULL;

		if (f && !f->mapped++)
			f->first_map = s->vmas[i].v.start;
	}
}

/*
 * The FILE whose kind makes f's file or pipe: itself, or the one its
 * same_as names; for a POSIX shm object, the first FILE of the same
 * object (dev, ino) in the image, which carries its contents
 * (restart_load.c checked there is one, before f).
 */
struct rst_file *rst_obj_owner(struct rst_state *s, const struct rst_file *f)
{
	uint32_t same_as = fd_same_as(&f->f, f->data);

	if (f->f.kind == IMG_FILE_PSHM)
		for (int i = 0; i < s->nfiles; i++) {
			struct rst_file *o = &s->files[i];

			if (o->f.kind == IMG_FILE_PSHM && o->f.dev == f->f.dev &&
			    o->f.ino == f->f.ino &&
			    (((const struct img_file_pshm *)o->data)->flags & IMG_PSHM_DATA))
				return o;
		}
	return same_as ? rst_file_by_id(s, same_as) : (struct rst_file *)f;
}

const char *rst_file_what(const struct rst_file *f)
{
	static char buf[4][48];
	static int k;
	char *b = buf[k++ % 4];

	if (f->first_fd >= 0)
		snprintf(b, sizeof(buf[0]), "fd %d", f->first_fd);
	else if (f->first_map)
		snprintf(b, sizeof(buf[0]), "the mapping at %lx", (unsigned long)f->first_map);
	else
		snprintf(b, sizeof(buf[0]), "file %u", f->f.id);
	return b;
}

void rst_fs_owner(struct rst_state *s, int on)
{
	if (getuid() != 0 || (s->proc.uid == 0 && s->proc.gid == 0))
		return;
	setfsgid(on ? s->proc.gid : getgid());
	setfsuid(on ? s->proc.uid : getuid());
}

int rst_obj(struct rst_state *s, struct rst_file *f)
{
	struct rst_file *o = rst_obj_owner(s, f);
	const struct fd_restore_ops *k = fd_restore_find(o->f.kind);

	if (o->obj >= 0)
		return o->obj;
	if (!k || !k->make) {
		rst_error(s, "%s: %s cannot be made again", rst_file_what(f), f->path);
		return -1;
	}
	o->obj = k->make(s, o);
	if (o->obj >= 0 && (o->obj = lift(o->obj, rst_fd_base(s))) < 0)
		rst_error(s, "%s: no fd number free for %s: %s", rst_file_what(f), f->path,
			  strerror(errno));
	return o->obj;
}

int rst_obj_dup(struct rst_state *s, const struct rst_file *f)
{
	int obj = rst_obj(s, (struct rst_file *)f), fd;

	if (obj < 0)
		return -1;
	if ((fd = fcntl(obj, F_DUPFD_CLOEXEC, 0)) < 0)
		rst_error(s, "%s: %s", rst_file_what(f), strerror(errno));
	return fd;
}

/*
 * A new open file description of the file that fd obj has open, with
 * flags: those of the description less the ones that only chose or made
 * the file when it was opened (O_NOFOLLOW would refuse the /proc link,
 * O_TMPFILE make another file).
 */
static int obj_reopen(struct rst_state *s, const struct rst_file *f, int obj, int flags)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "/proc/self/fd/%d", obj);
	flags &= ~(O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_TMPFILE | O_DIRECTORY);
	fd = open(name, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		rst_error(s, "%s: cannot open %s again through %s: %s", rst_file_what(f), f->path,
			  name, strerror(errno));
	return fd;
}

int rst_obj_open(struct rst_state *s, const struct rst_file *f)
{
	int obj = rst_obj(s, (struct rst_file *)f), fd;

	if (obj < 0 || (fd = obj_reopen(s, f, obj, f->f.flags)) < 0)
		return -1;
	if (lseek(fd, f->f.pos, SEEK_SET) < 0) {
		rst_error(s, "%s: cannot seek %s to %lld: %s", rst_file_what(f), f->path,
			  (long long)f->f.pos, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int rst_check_fds(struct rst_state *s)
{
	int bad = 0, r;

	plan(s);
	for (int i = 0; i < s->nfiles; i++) {
		const struct rst_file *f = &s->files[i];
		const struct fd_restore_ops *k = fd_restore_find(f->f.kind);

		/* (a tree's: ckpt-restart verified and opened them before any process) */
		if (!(f->used || f->mapped || f->inflight) || !k || !k->verify || s->tree_files)
			continue;
		if ((r = k->verify(s, f)))
			bad = r;
	}
	for (int i = 0; i < s->nfds; i++) {
		int src = inherit_src(s, &s->fds[i]);
		const struct rst_file *f = rst_file_by_id(s, s->fds[i].file);

		if (src >= 0 && !src_open(s, src))
			bad = rst_problem(s, RST_EXIT_ENV, "fd %d (%s) is to be ckpt-restart's own fd "
					  "%d, which is not open: start ckpt-restart with that fd "
					  "open, or give --inherit-fd %d=M", s->fds[i].fd, f->path, src,
					  s->fds[i].fd);
	}
	/* --inherit-fd for an fd the image does not have: the source must be open */
	for (int i = 0; i < s->ninherit; i++)
		if (!src_open(s, s->inherit[i].from))
			bad = rst_problem(s, RST_EXIT_ENV, "--inherit-fd %d=%d: ckpt-restart's fd %d "
					  "is not open", s->inherit[i].fd, s->inherit[i].from,
					  s->inherit[i].from);
	return bad;
}

int rst_fd_reopen(struct rst_state *s, const struct rst_file *f, int extra, int seek)
{
	int flags = f->f.flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC);
	int fd = open(f->path, flags | extra | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		rst_error(s, "fd %d: cannot reopen %s: %s", f->first_fd, f->path, strerror(errno));
		return -1;
	}
	if (seek && lseek(fd, f->f.pos, SEEK_SET) < 0 && errno != ESPIPE) {
		rst_error(s, "fd %d: cannot seek %s to %ld: %s", f->first_fd, f->path,
			  (long)f->f.pos, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int rst_open_files(struct rst_state *s)
{
	int base = rst_fd_base(s);

	if (s->img_fd > 2)
		s->img_fd = lift(s->img_fd, base);
	if (s->lazy_fd >= 0)
		s->lazy_fd = lift(s->lazy_fd, base);
	if (assist_module_fd() >= 0)	/* the restorer's, for threads and timer ids */
		assist_module_fd_moved(lift(assist_module_fd(), base));
	plan(s);
	for (int i = 0; i < s->nvmas; i++) {
		struct rst_vma *v = &s->vmas[i], *prev = i ? &s->vmas[i - 1] : NULL;
		/* read-write where mprotect() could make it writable (VM_MAYWRITE) */
		int acc = (v->v.flags & IMG_VMA_SHARED) &&
			  ((v->v.prot & 2) || (v->v.attrs & IMG_VMA_ATTR_MAYWRITE)) ? O_RDWR : O_RDONLY;

		if (!(v->v.flags & IMG_VMA_FILE) || rst_ipc_is_attach(v))
			continue;	/* (a SysV attach: the restorer's, rst_ipc_op) */
		if (v->v.file) {	/* a file made again: a reopen of it */
			struct rst_file *f = rst_file_by_id(s, v->v.file);
			int obj;

			if (prev && prev->fd >= 0 && prev->v.file == v->v.file && prev->acc == acc) {
				v->fd = prev->fd;
				v->acc = acc;
				continue;
			}
			if ((obj = rst_obj(s, f)) < 0 || (v->fd = obj_reopen(s, f, obj, acc)) < 0)
				return RST_EXIT_ENV;
			v->acc = acc;
			v->fd = lift(v->fd, base);
			continue;
		}
		/*
		 * A library's segments are consecutive mappings of one file: they
		 * share one fd (the restorer closes each fd once).  The ino was
		 * checked against the path by rst_check_env.
		 */
		if (prev && prev->fd >= 0 && prev->v.ino == v->v.ino && prev->v.dev == v->v.dev &&
		    prev->acc == acc && !strcmp(prev->path, v->path)) {
			v->fd = prev->fd;
			v->acc = acc;
			continue;
		}
		v->acc = acc;
		v->fd = open(v->path, acc | O_CLOEXEC);
		if (v->fd < 0) {
			rst_error(s, "cannot open mapped file %s: %s", v->path, strerror(errno));
			return RST_EXIT_ENV;
		}
		v->fd = lift(v->fd, base);
	}
	s->exe_fd = open(s->exe, O_RDONLY | O_CLOEXEC);
	if (s->exe_fd >= 0)
		s->exe_fd = lift(s->exe_fd, base);
	return 0;
}

/* 1 when fd is one the image has (it is placed, not closed). */
static int in_image(const struct rst_state *s, int fd)
{
	for (int i = 0; i < s->nfds; i++)
		if (s->fds[i].fd == fd)
			return 1;
	return inherit_opt(s, fd) >= 0 && (!s->tree || s->tree_index == 0);
}

/* 1 when fd (>= base) is one the rest of the restart still needs. */
static int restart_own(const struct rst_state *s, int fd)
{
	if (fd == rst_err_fd || fd == s->img_fd || fd == s->lazy_fd || fd == s->exe_fd ||
	    fd == assist_module_fd())
		return 1;
	for (int i = 0; i < s->nvmas; i++)
		if (s->vmas[i].fd == fd)
			return 1;
	return 0;
}

/*
 * Closes every fd that is neither the process's nor the restart's own:
 * below base what the image does not have (ckpt-restart's stdin...), above
 * it whatever ckpt-restart was started with.  The process gets exactly
 * its own fd table.
 */
static void close_strays(struct rst_state *s, int base)
{
	int fds[256], n = 0, more = 1;

	for (int fd = 0; fd < base; fd++)
		if (!in_image(s, fd))
			close(fd);
	while (more) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;

		if (!d)
			return;
		more = 0;
		n = 0;
		while ((e = readdir(d))) {
			int fd = atoi(e->d_name);

			if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd < base ||
			    fd == dirfd(d) || restart_own(s, fd))
				continue;
			if (n == (int)(sizeof(fds) / sizeof(fds[0]))) {
				more = 1;
				break;
			}
			fds[n++] = fd;
		}
		closedir(d);
		for (int i = 0; i < n; i++)
			close(fds[i]);
	}
}

/* fd_epoll_register's fd_of, once the fds are placed: the lowest fd made from f. */
static int placed_fd(void *arg, const struct rst_file *f)
{
	struct rst_state *s = arg;
	int fd = -1;

	for (int i = 0; i < s->nfds; i++)
		if (s->fds[i].file == f->f.id && (fd < 0 || s->fds[i].fd < fd) &&
		    fcntl(s->fds[i].fd, F_GETFD) >= 0)
			fd = s->fds[i].fd;
	return fd >= 0 ? fd : f->fd;
}

int rst_restore_fds(struct rst_state *s)
{
	int base = rst_fd_base(s);
	int *src = calloc(s->nfds + 1, sizeof(*src));
	int r = RST_EXIT_ENV;

	if (!src)
		abort();
	plan(s);
	rst_err_fd = fcntl(2, F_GETFD) >= 0 ? fcntl(2, F_DUPFD_CLOEXEC, base) : -1;
	/* inherited sources first, out of the way of every placement */
	for (int i = 0; i < s->nfds; i++) {
		int from = inherit_src(s, &s->fds[i]);

		src[i] = -1;
		if (from >= 0 && (src[i] = fcntl(from, F_DUPFD_CLOEXEC, base)) < 0) {
			rst_error(s, "fd %d: cannot take ckpt-restart's fd %d: %s", s->fds[i].fd,
				  from, strerror(errno));
			goto out;
		}
	}
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *f = &s->files[i];
		const struct fd_restore_ops *k = fd_restore_find(f->f.kind);

		if (!f->used || file_late(s, f) || f->fd >= 0)
			continue;	/* (a late pidfd: the restorer makes it; one open already:
					 * a tree's, opened once for all before any process was
					 * made, or one opened to be sent in flight,
					 * fds/fd_unix_fill.c) */
		if (s->tree_files) {
			rst_error(s, "fd %d: %s was not opened for the tree", f->first_fd, f->path);
			goto out;
		}
		if (!k || !k->open) {
			rst_error(s, "fd %d: %s cannot be made again", f->first_fd, f->path);
			goto out;
		}
		if ((f->fd = k->open(s, f)) < 0 || (f->fd = lift(f->fd, base)) < 0)
			goto out;
	}
	/* files made again: every fd and mapping of them is open, now what comes last */
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *f = &s->files[i];
		const struct fd_restore_ops *k = fd_restore_find(f->f.kind);

		if (f->obj >= 0 && k && k->finish && !s->tree_files && k->finish(s, f) < 0)
			goto out;
	}
	for (int i = 0; i < s->nfds; i++) {
		const struct img_fd *d = &s->fds[i];
		struct rst_file *f = rst_file_by_id(s, d->file);
		int from = src[i] >= 0 ? src[i] : f->fd;

		if (src[i] < 0 && rst_fd_late(s, d))
			continue;	/* the restorer's (restart_jump.c) */
		if (dup3(from, d->fd, (d->fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
			rst_error(s, "fd %d: cannot place it: %s", d->fd, strerror(errno));
			goto out;
		}
		/* the fd its locks are taken through (fds/fd_lock.c) */
		if (src[i] < 0 && (f->placed < 0 || d->fd < f->placed))
			f->placed = d->fd;
	}
	/* epoll items, with every fd in place (a tree's: added by the top, restart_tree.c) */
	if (!s->tree_files && (r = fd_epoll_register(s, placed_fd, s))) {
		r = r == RST_EXIT_IMAGE ? r : RST_EXIT_ENV;
		goto out;
	}
	r = RST_EXIT_ENV;
	/* --inherit-fd for an fd the image did not have (a tree's root only) */
	for (int i = 0; i < s->ninherit && (!s->tree || s->tree_index == 0); i++) {
		int found = 0;

		for (int k = 0; k < s->nfds; k++)
			found |= s->fds[k].fd == s->inherit[i].fd;
		if (!found && s->inherit[i].from != s->inherit[i].fd &&
		    dup2(s->inherit[i].from, s->inherit[i].fd) < 0) {
			rst_error(s, "--inherit-fd %d=%d: %s", s->inherit[i].fd, s->inherit[i].from,
				  strerror(errno));
			goto out;
		}
	}
	r = 0;
out:
	for (int i = 0; i < s->nfds; i++)
		if (src[i] >= 0)
			close(src[i]);
	for (int i = 0; i < s->nfiles; i++) {
		if (s->files[i].fd >= 0) {
			close(s->files[i].fd);
			s->files[i].fd = -1;
		}
		if (s->files[i].obj >= 0) {
			close(s->files[i].obj);
			s->files[i].obj = -1;
		}
		rst_fdata_free(&s->files[i]);
		rst_pipe_free(&s->files[i]);
	}
	free(src);
	if (!r)
		close_strays(s, base);
	return r;
}

int rst_restore_misc(struct rst_state *s)
{
	if (chdir(s->cwd) < 0) {
		rst_error(s, "cannot enter the saved working directory %s: %s", s->cwd,
			  strerror(errno));
		return RST_EXIT_ENV;
	}
	umask(s->proc.umask);
	for (int i = 0; i < IMG_NRLIMIT; i++) {
		struct rlimit rl = { s->proc.rlim[i].cur, s->proc.rlim[i].max }, now;

		if (getrlimit(i, &now) == 0 && now.rlim_cur == rl.rlim_cur &&
		    now.rlim_max == rl.rlim_max)
			continue;
		if (setrlimit(i, &rl) == 0)
			continue;
		/* Raising a hard limit needs CAP_SYS_RESOURCE: keep what we may. */
		if (rl.rlim_max > now.rlim_max) {
			rl.rlim_max = now.rlim_max;
			if (rl.rlim_cur > rl.rlim_max)
				rl.rlim_cur = rl.rlim_max;
			if (setrlimit(i, &rl) == 0) {
				dprintf(rst_err_fd, "ckpt-restart: note: resource limit %d: hard "
					"limit kept at %lu (raising it needs CAP_SYS_RESOURCE)\n", i,
					(unsigned long)now.rlim_max);
				continue;
			}
		}
		dprintf(rst_err_fd, "ckpt-restart: note: cannot restore resource limit %d: %s\n", i,
			strerror(errno));
	}
	return 0;
}
