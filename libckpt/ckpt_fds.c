/*
 * ckpt_fds.c - the fd table: every fd is probed once, its kind found
 * (fds/fd_table.c) and asked to check it, then one FILE record is written
 * per open file description and one FD record per fd (img_format.h).
 * What each kind saves and how it comes back is in fds/fd_<kind>.c; this
 * file only does what is the same for all of them.
 *
 * An fd no kind takes is refused with what it is and which call made it
 * (the wrappers' registry): "fd 7: a pipe (pipe:[123]), not supported
 * yet (made by pipe() at /path/app+0x1234)".
 *
 * Open file descriptions: fds made by dup(), dup2() or inherited over
 * fork share one (one offset, one set of flags); kcmp(KCMP_FILE) tells,
 * asked only between fds on the same inode.  Each description gets an
 * id, the FILE record is written once, and every fd names it, so the
 * restart shares it again.  Records: all FILEs, then all FDs, then the
 * LOCKs each description holds (fds/fd_lock.c).
 *
 * Cost: per fd one fstat, one readlink and one fdinfo read (twice: the
 * check and the write; a third time for a description holding locks),
 * kcmp only between fds on one inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "fds/fd_kind.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_incr.h"
#include "libckpt/ckpt_tree.h"
#include "libckpt/reg.h"

#define FD_DATA_MAX	4096	/* kind data of one FILE record, in the bounce buffer */
/*
 * fdinfo text, in the bounce buffer above the FILE payload (path and kind
 * data): 240 KiB, some 4000 "lock:" lines of one open file description.
 */
#define FD_INFO_OFF	(16u << 10)
#define FD_INFO_MAX	(IMG_PAGES_MAX * IMG_PAGE_SIZE - FD_INFO_OFF)

typedef int (*fd_fn)(struct ckpt_ctx *c, struct fd_probe *p);

struct fds_walk {
	struct ckpt_ctx *c;
	fd_fn fn;
	char *path;			/* PATH_MAX bytes */
	char *origin;
	char what[24];			/* "fd 7" */
};

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

/*
 * /proc/self/fdinfo/N, whole, into buf (its "lock:" lines may be many),
 * and the "pos:" and "flags:" (octal) it starts with.  0, -ENOENT (the
 * fd was closed meanwhile), or the refusal of an fdinfo too large for
 * the buffer: a truncated one would lose locks (and once lost the offset
 * and flags too, when the buffer was 512 bytes).
 */
static int fd_info(struct ckpt_ctx *c, int fd, char *buf, int64_t *pos, uint32_t *flags)
{
	char name[64];
	const char *s;
	ssize_t n;

	ckpt_fmt(name, sizeof(name), "/proc/self/fdinfo/%d", fd);
	*pos = 0;
	*flags = 0;
	buf[0] = '\0';
	if ((n = ckpt_read_file(name, buf, FD_INFO_MAX)) == -E2BIG)
		return ckpt_fail(c, -E2BIG, "fd %d: %s is larger than %d KiB (thousands of file "
				 "locks?); libckpt cannot save it", fd, name, FD_INFO_MAX >> 10);
	if (n < 0)
		return -ENOENT;
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
		*flags = v & ~(uint32_t)O_CLOEXEC;
	}
	return 0;
}

int ckpt_fds_own(const struct ckpt_ctx *c, int fd)
{
	return fd == c->img_fd || fd == c->ctl_fd || fd == c->pagemap_fd || fd == c->mem_fd ||
	       ckpt_dirty_is_own_fd(fd) || ckpt_tree_own_fd(c, fd) || ckpt_kstop_own_fd(fd);
}

/* A tree's coordinator: this process, or the peer of its connection to it (ckpt_tree.c). */
int ckpt_fds_coord(const struct ckpt_ctx *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (c->tree->coord)
		return getpid();
	if (arch_sys5(SYS_getsockopt, c->tree->sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	return cred.pid;
}

/*
 * A tree is its coordinator and every descendant of it (each is asked to
 * join, or the checkpoint is refused): known by the parent links alone,
 * so this answers already while the members validate, before the
 * coordinator has gathered their list.
 */
int ckpt_fds_member(const struct ckpt_ctx *c, int pid)
{
	struct ckpt_tree_stat st;
	char buf[1024];
	pid_t coord;

	if (pid == getpid())
		return 1;
	if (!c->tree || (coord = ckpt_fds_coord(c)) <= 0)
		return 0;
	for (int depth = 0; pid > 1 && depth < 4096; depth++) {
		if (pid == coord)
			return 1;
		if (ckpt_tree_stat(pid, &st, buf, sizeof(buf)) < 0)
			return 0;
		pid = st.ppid;
	}
	return pid == coord;
}

int ckpt_fds_alone(const struct ckpt_ctx *c)
{
	return !c->tree;
}

static int fds_one(int fd, int dirfd, void *arg)
{
	struct fds_walk *w = arg;
	struct ckpt_ctx *c = w->c;
	char *info = (char *)c->bounce + FD_INFO_OFF;
	struct fd_probe p = { .fd = fd, .path = w->path, .info = info, .origin = w->origin,
			      .what = w->what };
	int r;

	if (fd == dirfd || ckpt_fds_own(c, fd) || fd_save_own(c, fd))
		return 0;			/* libckpt's own */
	if (fstat(fd, &p.st) < 0)
		return 0;			/* closed meanwhile: nothing to save */
	fd_path(fd, w->path, 4096);
	/* a POSIX shm object linked under another name since it was opened (sem_open) */
	if (S_ISREG(p.st.st_mode) && p.st.st_nlink > 0)
		ckpt_pshm_rename(c, p.st.st_dev, p.st.st_ino, w->path, 4096);
	fd_origin(c, fd, w->origin, 400);
	ckpt_fmt(w->what, sizeof(w->what), "fd %d", fd);
	if ((r = fd_info(c, fd, info, &p.pos, &p.flags)) == -ENOENT)
		return 0;			/* closed meanwhile */
	if (r < 0)
		return -1;
	return w->fn(c, &p) < 0 ? -1 : 0;
}

/* Calls fn with the probe of every open fd of the process but libckpt's own. */
static int fds_each(struct ckpt_ctx *c, fd_fn fn)
{
	char path[4096], origin[400];
	struct fds_walk w = { c, fn, path, origin, "" };
	int r = ckpt_proc_each("/proc/self/fd", fds_one, &w);

	if (r < 0 && !c->error)
		return ckpt_fail(c, r, "cannot read /proc/self/fd");
	return c->error;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = ckpt_strlen(s), b = ckpt_strlen(suf);

	return a >= b && ckpt_memeq(s + a - b, suf, b);
}

/*
 * A namespace fd (/proc/PID/ns/..., nsfs): refused, naming the namespace.
 * Not made again: a restart may run on another machine or in namespaces
 * of its own (--pidns), where an fd on "the same" namespace would be an
 * fd on another namespace object (setns() into it would move the
 * process somewhere else than before).  NS_GET_NSTYPE tells nsfs files
 * apart from any other file whose link looks alike.
 */
static int fd_refuse_ns(struct ckpt_ctx *c, const struct fd_probe *p)
{
	char type[24], own[64];
	struct stat st;
	size_t n = 0;

	while (n < sizeof(type) - 1 && p->path[n] && p->path[n] != ':') {
		type[n] = p->path[n];
		n++;
	}
	type[n] = '\0';
	ckpt_fmt(own, sizeof(own), "/proc/self/ns/%s", type);
	return ckpt_fail(c, -ENOTSUP, "fd %d: a namespace fd (%s: %s %s namespace); namespaces "
			 "are not saved, and a restart may run in other namespaces (another "
			 "machine, a new --pidns namespace), where no fd can be on this one: "
			 "close it before the checkpoint%s", p->fd, p->path,
			 stat(own, &st) == 0 && st.st_ino == p->st.st_ino ? "this process's own" :
			 "another", type, p->origin);
}

/* A socket's family in words (SO_DOMAIN), for refusals. */
static const char *sock_what(int fd)
{
	int dom = -1;
	socklen_t len = sizeof(dom);

	if (arch_sys5(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) < 0)
		return "a socket";
	switch (dom) {
	case AF_UNIX:    return "a unix socket";
	case AF_INET:    return "an IPv4 socket";
	case AF_INET6:   return "an IPv6 socket";
	case AF_NETLINK: return "a netlink socket";
	case AF_PACKET:  return "a packet socket";
	default:         return "a socket";
	}
}

/* The refusal of an fd no kind can save: what it is, and where it came from. */
static int fd_refuse(struct ckpt_ctx *c, const struct fd_probe *p)
{
	const char *what, *path = p->path;
	mode_t m = p->st.st_mode;

	if (S_ISREG(m) && path[0] != '/' && ioctl(p->fd, NS_GET_NSTYPE) >= 0)
		return fd_refuse_ns(c, p);
	if ((p->flags & O_PATH) && ends_with(path, " (deleted)"))
		return ckpt_fail(c, -ENOTSUP, "fd %d: an O_PATH fd on %s, which was deleted: a "
				 "restart cannot name it again, not supported%s", p->fd, path,
				 p->origin);
	if (S_ISDIR(m) && path[0] == '/' && ends_with(path, " (deleted)"))
		return ckpt_fail(c, -ENOENT, "fd %d: directory %s was removed; a restart cannot "
				 "open it again%s", p->fd, path, p->origin);
	if (!__builtin_strcmp(path, "anon_inode:[fanotify]"))
		return ckpt_fail(c, -ENOTSUP, "fd %d: a fanotify fd (%s), not supported: libckpt "
				 "does not save fanotify groups, their marks and the events (and "
				 "permission requests) they hold; close it before the checkpoint%s",
				 p->fd, path, p->origin);
	if (S_ISCHR(m))
		return ckpt_fail(c, -ENOTSUP, "fd %d: character device %s (%u:%u), not supported "
				 "yet%s", p->fd, path, major(p->st.st_rdev), minor(p->st.st_rdev),
				 p->origin);
	if (ckpt_memeq(path, "/memfd:", 7))
		what = "a memfd";
	else if (S_ISREG(m) || S_ISDIR(m))
		what = "an anonymous file";
	else if (S_ISFIFO(m))
		what = path[0] == '/' ? "a FIFO" : "a pipe";
	else if (S_ISSOCK(m))
		what = sock_what(p->fd);
	else if (S_ISBLK(m))
		what = "a block device";
	else if (S_ISLNK(m))
		what = "a symbolic link";
	else if (ckpt_memeq(path, "anon_inode:", 11))
		what = "an anonymous inode";
	else
		what = "a special file";
	return ckpt_fail(c, -ENOTSUP, "fd %d: %s (%s), not supported yet%s", p->fd, what, path,
			 p->origin);
}

/*
 * The check pass remembers each fd's file (no id yet), so that
 * ckpt_fmapped_check knows which mapped files an fd holds.
 */
static int fd_check(struct ckpt_ctx *c, struct fd_probe *p)
{
	const struct fd_save_ops *k = fd_save_find(c, p);

	if (!k)
		return fd_refuse(c, p);
	if (c->nfdids < CKPT_MAX_FDS)
		c->fdids[c->nfdids++] = (struct ckpt_fdid){ .fd = p->fd, .dev = p->st.st_dev,
							    .ino = p->st.st_ino };
	if (k->check && k->check(c, p) < 0)
		return c->error;
	return fd_locks_check(c, p, k->kind);
}

uint32_t ckpt_fds_first(struct ckpt_ctx *c, uint64_t dev, uint64_t ino)
{
	uint32_t id = ckpt_tree_first(c, dev, ino);	/* an earlier member's, in a tree */

	if (id)
		return id;
	for (int i = 0; i < c->nfdids; i++)
		if (c->fdids[i].dev == dev && c->fdids[i].ino == ino)
			return c->fdids[i].file;
	return 0;
}

/*
 * The id of the open file description p shares with an fd seen before,
 * or 0.  kcmp only between fds on the same inode: O(fds) compares of
 * dev/ino, kcmp calls only where sharing is possible.
 */
static uint32_t shared_id(struct ckpt_ctx *c, const struct fd_probe *p)
{
	pid_t pid = getpid();
	/* in a tree, the description an earlier member writes */
	uint32_t id = ckpt_tree_file_id(c, p->fd, p->st.st_dev, p->st.st_ino);

	if (id)
		return id;

	for (int i = 0; i < c->nfdids; i++) {
		const struct ckpt_fdid *o = &c->fdids[i];

		if (o->dev == p->st.st_dev && o->ino == p->st.st_ino &&
		    syscall(SYS_kcmp, pid, pid, KCMP_FILE, o->fd, p->fd) == 0)
			return o->file;
	}
	return 0;
}

/* Appends "; <note>" to c->notes (what ckpt-save tells the user). */
static void fd_add_note(struct ckpt_ctx *c, const struct fd_probe *p,
			const struct fd_save_ops *k)
{
	size_t n = ckpt_strlen(c->notes), at = n;

	if (!k->note || n + 8 >= sizeof(c->notes))
		return;
	if (n)
		n += ckpt_fmt(c->notes + n, sizeof(c->notes) - n, "; ");
	k->note(p, c->notes + n, sizeof(c->notes) - n);
	if (!c->notes[n])
		c->notes[at] = '\0';		/* nothing to say about this one */
}

/*
 * The FILE record of p's description, a new one (kind k): its id in *id,
 * whether it holds locks in *locks; 0 or -errno.  In a tree its id comes
 * from idfd, its lowest fd (ckpt_tree.h; -1: no fd of the process holds
 * it: one in flight).
 */
static int file_record(struct ckpt_ctx *c, const struct fd_probe *p,
		       const struct fd_save_ops *k, int idfd, uint32_t *idp, int *locks)
{
	struct img_file f = { 0 };
	unsigned char *buf = c->bounce;
	uint32_t id;
	int n = 0;

	f.id = id = c->tree ? ckpt_tree_new_id(c, idfd) : ++c->nfiles;
	f.kind = k->kind;
	f.flags = p->flags;
	f.pos = p->pos;
	f.dev = p->st.st_dev;
	f.ino = p->st.st_ino;
	f.rdev = p->st.st_rdev;
	f.size = p->st.st_size;
	f.mtime_ns = (int64_t)p->st.st_mtim.tv_sec * 1000000000 + p->st.st_mtim.tv_nsec;
	f.mode = p->st.st_mode;
	f.path_len = ckpt_strlen(p->path);
	/* kind data first (aligned after the struct), then the path */
	if (k->save && (n = k->save(c, p, &f, buf, FD_DATA_MAX)) < 0)
		return n;
	f.data_len = n;
	__builtin_memcpy(buf + n, p->path, f.path_len);
	if (img_write_record(&c->w, IMG_REC_FILE, &f, sizeof(f), buf, n + f.path_len) < 0)
		return c->w.error;
	if (k->contents && k->contents(c, p, &f) < 0)
		return c->error ? c->error : c->w.error;
	*locks = fd_locks_has(p->info);	/* written after the FDs: pass 3 */
	*idp = id;
	return 0;
}

/* Pass 1: a FILE record for each description not seen yet; remembers the fd. */
static int fd_write_file(struct ckpt_ctx *c, struct fd_probe *p)
{
	const struct fd_save_ops *k = fd_save_find(c, p);
	uint32_t id = shared_id(c, p);
	int fdflags = fcntl(p->fd, F_GETFD);
	int locks = 0;

	if (!k)		/* it changed since the check: refuse it now */
		return fd_refuse(c, p);
	if (c->nfdids >= CKPT_MAX_FDS)
		return ckpt_fail(c, -EMFILE, "the process has more than %d open fds", CKPT_MAX_FDS);
	if (!id && file_record(c, p, k, p->fd, &id, &locks) < 0)
		return c->error ? c->error : c->w.error;
	fd_add_note(c, p, k);
	c->fdids[c->nfdids++] = (struct ckpt_fdid){ p->fd, p->st.st_dev, p->st.st_ino, id,
						    fdflags < 0 ? 0 : (uint32_t)fdflags, locks };
	return 0;
}

/*
 * An fd in flight (fd_kind.h): probed like fds_one, into p and the
 * caller's buffers (path, origin: none).  0, or -ENOENT (closed).
 */
static int extra_probe(struct ckpt_ctx *c, int fd, const char *what, struct fd_probe *p,
		       char *path)
{
	char *info = (char *)c->bounce + FD_INFO_OFF;

	*p = (struct fd_probe){ .fd = fd, .path = path, .info = info, .origin = "", .what = what };
	if (fstat(fd, &p->st) < 0)
		return -ENOENT;
	fd_path(fd, path, 4096);
	return fd_info(c, fd, info, &p->pos, &p->flags) < 0 ? -ENOENT : 0;
}

int ckpt_fds_check_extra(struct ckpt_ctx *c, int fd, const char *what, uint32_t *kind)
{
	char path[4096];
	struct fd_probe p;
	const struct fd_save_ops *k;

	if (extra_probe(c, fd, what, &p, path) < 0)
		return c->error ? c->error : -ENOENT;
	if (!(k = fd_save_find(c, &p)))
		return -ENOTSUP;
	*kind = k->kind;
	if (k->check && k->check(c, &p) < 0)
		return c->error;
	return 0;
}

int64_t ckpt_fds_write_extra(struct ckpt_ctx *c, int fd, const char *what)
{
	char path[4096];
	struct fd_probe p;
	const struct fd_save_ops *k;
	uint32_t id;
	int locks = 0;

	if (extra_probe(c, fd, what, &p, path) < 0)
		return c->error ? c->error : ckpt_fail(c, -EBADF, "%s: gone during the checkpoint",
						       what);
	if ((id = shared_id(c, &p)))
		return id;		/* an fd of the process, or one in flight already */
	/*
	 * A tree: a description a later member holds is that member's FILE,
	 * written after this section; the restart reads a message's fds from
	 * the FILEs before it.  Refused by name rather than made twice.
	 */
	if (c->tree) {
		int theirs = -1;
		pid_t pid = ckpt_tree_later_holder(c, fd, p.st.st_dev, p.st.st_ino, &theirs);

		if (pid > 0)
			return ckpt_fail(c, -ENOTSUP, "%s (%s): process %d of the tree holds it too "
					 "(its fd %d), and saves it after this process (%d): an fd "
					 "in flight to an earlier process of the tree that its "
					 "sender keeps open is not supported yet; close it in the "
					 "sender once sent", what, path, (int)pid, theirs,
					 (int)getpid());
	}
	if (!(k = fd_save_find(c, &p)))
		return ckpt_fail(c, -ENOTSUP, "%s (%s): not of a kind libckpt saves", what, path);
	if (c->nfdids >= CKPT_MAX_FDS)
		return ckpt_fail(c, -EMFILE, "the process has more than %d open fds", CKPT_MAX_FDS);
	if (file_record(c, &p, k, -1, &id, &locks) < 0)
		return c->error ? c->error : c->w.error;
	if (locks)	/* a restart takes locks through an fd of the process */
		return ckpt_fail(c, -ENOTSUP, "%s (%s) holds file locks (flock or OFD), and no fd of "
				 "the process holds its open file: a restart could not take them "
				 "again; unlock it before sending it", what, path);
	c->fdids[c->nfdids++] = (struct ckpt_fdid){ fd, p.st.st_dev, p.st.st_ino, id, 0, 0 };
	return id;
}

void ckpt_fds_extra_done(struct ckpt_ctx *c, int fd)
{
	for (int i = 0; i < c->nfdids; i++)
		if (c->fdids[i].fd == fd)
			c->fdids[i].fd = -1;	/* a FILE, no fd: no FD record */
}

int ckpt_fds_check(struct ckpt_ctx *c)
{
	int r;

	c->nfdids = 0;
	c->pipes = NULL;		/* found again by the first pipe (ckpt_pipe.c) */
	r = fd_save_begin(c, 0) < 0 ? -1 : fds_each(c, fd_check);
	if (fd_save_end(c, 0, r == 0) < 0 || r < 0)
		return c->error ? c->error : -EIO;
	return ckpt_fmapped_check(c);
}

int ckpt_fds_write(struct ckpt_ctx *c)
{
	int r;

	c->nfdids = 0;
	c->nfiles = 0;
	/* c->notes: empty in a new context, and may hold ckpt_dirty_prepare's already */
	r = fd_save_begin(c, 1) < 0 ? -1 : fds_each(c, fd_write_file);
	if (!r && ckpt_fmapped_write(c) < 0)
		r = -1;
	/* the kinds' own records (unix queues, fds in flight) come last among the FILEs */
	if (fd_save_end(c, 1, r == 0) < 0 || r < 0)
		return c->error ? c->error : -EIO;
	/* Pass 2: the fds, each naming its FILE (fd -1: a file only mappings hold). */
	for (int i = 0; i < c->nfdids; i++) {
		const struct ckpt_fdid *o = &c->fdids[i];
		struct img_fd d = { .fd = o->fd, .file = o->file, .fdflags = o->fdflags & FD_CLOEXEC };

		if (o->fd < 0)
			continue;
		if (img_write_record(&c->w, IMG_REC_FD, &d, sizeof(d), NULL, 0) < 0)
			return c->w.error;
	}
	/*
	 * Pass 3: the locks, read again from the fdinfo of the first fd of
	 * each description that had any (the threads are parked: only a
	 * lease being broken by another process can have changed since).
	 */
	for (int i = 0; i < c->nfdids; i++) {
		const struct ckpt_fdid *o = &c->fdids[i];
		char *info = (char *)c->bounce + FD_INFO_OFF;
		int64_t pos;
		uint32_t flags;

		if (!o->locks || o->fd < 0)
			continue;
		if (fd_info(c, o->fd, info, &pos, &flags) < 0)
			return c->error ? c->error : ckpt_fail(c, -EBADF, "fd %d was closed during "
							       "the checkpoint", o->fd);
		if (fd_locks_write(c, o->fd, info, o->file) < 0)
			return c->error ? c->error : c->w.error;
	}
	return 0;
}
