/*
 * ckpt_tree_fds.c - what a member shares with the members before it
 * (ckpt_tree.h): open file descriptions, the objects behind them, and
 * shared memory.
 *
 * Rule: whatever several members hold is saved by the first of them (the
 * lowest section).  A member learns what the earlier ones hold from
 * /proc/PID/fd (an fd's file: stat through the link) and /proc/PID/maps
 * (shared mappings of objects that have no path to reopen), read once,
 * on first need, while they are all parked: so every member computes the
 * same owner for the same object without asking anyone.
 *
 * FILE ids are what makes that work without messages: member k's FILE
 * for a description is k << CKPT_TREE_ID_SHIFT | (its lowest fd + 1), a
 * number any later member computes from k's fd table alone.  A later
 * member's fd on the same description (kcmp KCMP_FILE, asked only between
 * fds on one inode) names that id and writes no FILE.
 *
 * Cost: nothing for the root; for member k, one readdir and one stat per
 * fd of each earlier member, and one maps read of each when the member
 * itself has a shared mapping that could be theirs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "fds/fd_kind.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"
#include "libckpt/ckpt_tree_int.h"

struct objs_walk {
	struct ckpt_ctx *c;
	struct ckpt_tree *t;
	int section;
	pid_t pid;
	int full;
};

static void obj_add(struct ckpt_tree *t, int *full, const struct ckpt_tree_obj *o)
{
	if (t->nobjs >= CKPT_TREE_OBJS_MAX) {
		*full = 1;
		return;
	}
	t->objs[t->nobjs++] = *o;
}

static int fd_obj(int fd, int dirfd, void *arg)
{
	struct objs_walk *w = arg;
	struct stat st;
	char path[64];

	(void)dirfd;
	if (w->pid == getpid() && ckpt_fds_own(w->c, fd))
		return 0;			/* the coordinator's own: libckpt's */
	ckpt_fmt(path, sizeof(path), "/proc/%d/fd/%d", (int)w->pid, fd);
	if (arch_sys2(SYS_stat, path, &st) < 0)
		return 0;			/* closed, or a link stat cannot follow */
	obj_add(w->t, &w->full, &(struct ckpt_tree_obj){ .dev = st.st_dev, .ino = st.st_ino,
							 .section = w->section, .fd = fd });
	return 0;
}

static int ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = ckpt_strlen(suf);

	return n >= k && ckpt_memeq(s + n - k, suf, k);
}

/*
 * Shared mappings with no path to reopen: shared anonymous memory
 * ("/dev/zero (deleted)"), a memfd or deleted file, shared huge pages.
 */
static void maps_objs(struct objs_walk *w, const char *s)
{
	while (*s) {
		uint64_t a = ckpt_parse_hex(&s), b, off, maj, min, ino;
		const char *perms, *path, *eol;

		s++;
		b = ckpt_parse_hex(&s);
		while (*s == ' ')
			s++;
		perms = s;
		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
		off = ckpt_parse_hex(&s);
		while (*s == ' ')
			s++;
		maj = ckpt_parse_hex(&s);
		if (*s == ':')
			s++;
		min = ckpt_parse_hex(&s);
		while (*s == ' ')
			s++;
		ino = (uint64_t)ckpt_parse_dec(&s);
		while (*s == ' ')
			s++;
		path = s;
		while (*s && *s != '\n')
			s++;
		eol = s;
		if (*s)
			s++;
		if (perms[3] != 's' || path == eol || !ends_with(path, (size_t)(eol - path), " (deleted)"))
			continue;
		obj_add(w->t, &w->full, &(struct ckpt_tree_obj){ .dev = makedev(maj, min), .ino = ino,
								 .start = off, .end = off + (b - a),
								 .section = w->section, .fd = -1 });
	}
}

/* Section k's fds and shared mappings, appended to t->objs. */
static int objs_of(struct ckpt_ctx *c, struct ckpt_tree *t, int k)
{
	struct objs_walk w = { c, t, k, t->pids[k], 0 };
	char dir[48];
	ssize_t n;

	ckpt_fmt(dir, sizeof(dir), "/proc/%d/fd", (int)w.pid);
	if (ckpt_proc_each(dir, fd_obj, &w) < 0)
		return ckpt_fail(c, -EACCES, "cannot read %s (process %d of the tree)", dir,
				 (int)w.pid);
	ckpt_fmt(dir, sizeof(dir), "/proc/%d/maps", (int)w.pid);
	n = ckpt_read_file(dir, t->text, CKPT_TREE_TEXT);
	if (n < 0)
		return ckpt_fail(c, (int)n, "cannot read %s (process %d of the tree)", dir,
				 (int)w.pid);
	maps_objs(&w, t->text);
	if (w.full)
		return ckpt_fail(c, -E2BIG, "the tree's processes hold more than %d files and "
				 "mappings", CKPT_TREE_OBJS_MAX);
	return 0;
}

/*
 * The coordinator, once every member is parked and checked, before
 * CAPTURE: every member's fds and shared mappings (but the last's, which
 * no one asks about), in section order, into a memfd sent with CAPTURE.
 * Read then, the tables hold only the programs' fds: once captures run,
 * a member's /proc/PID/fd also shows the files its checkpoint opens for
 * a moment (a mapped file probed, a /proc file), which a later member
 * would take for the program's.  One read of each member in all, rather
 * than one by every later member.  Returns the memfd, or -1 with c->err.
 */
int ckpt_tree_objs_share(struct ckpt_ctx *c)
{
	struct ckpt_tree *t = c->tree;
	size_t len, done = 0;
	int fd;

	t->nobjs = 0;
	for (int k = 0; k + 1 < t->nmembers; k++)
		if (objs_of(c, t, k) < 0)
			return -1;
	fd = (int)arch_sys2(SYS_memfd_create, "libckpt-tree-objs", MFD_CLOEXEC);
	if (fd < 0)
		return ckpt_fail(c, fd, "cannot make a memfd for the tree's files: %s",
				 ckpt_strerror(fd)), -1;
	len = (size_t)t->nobjs * sizeof(*t->objs);
	while (done < len) {
		long r = arch_sys3(SYS_write, fd, (const char *)t->objs + done, len - done);

		if (r < 0 && r != -EINTR) {
			ckpt_close(fd);
			return ckpt_fail(c, (int)r, "cannot write the tree's files to a memfd: %s",
					 ckpt_strerror((int)r)), -1;
		}
		done += r > 0 ? (size_t)r : 0;
	}
	return fd;
}

/* A member, at CAPTURE: the earlier members' part of the coordinator's table. */
int tree_objs_take(struct ckpt_ctx *c, struct ckpt_tree *t, int fd)
{
	const size_t cap = (size_t)CKPT_TREE_OBJS_MAX * sizeof(*t->objs);
	size_t got = 0;
	long r;

	while (got < cap && (r = arch_sys4(SYS_pread64, fd, (char *)t->objs + got, cap - got,
					   (long)got)) != 0) {
		if (r < 0 && r != -EINTR)
			return ckpt_fail(c, (int)r, "cannot read the tree's files: %s",
					 ckpt_strerror((int)r));
		got += r > 0 ? (size_t)r : 0;
	}
	t->nobjs = (int)(got / sizeof(*t->objs));
	/* in section order: the earlier members' come first */
	for (int i = 0; i < t->nobjs; i++)
		if (t->objs[i].section >= t->index) {
			t->nobjs = i;
			break;
		}
	t->objs_read = 1;
	return 0;
}

/*
 * The earlier members' fds and shared mappings: the coordinator's table,
 * which came with CAPTURE (tree_objs_take).  Nothing asks before that: a
 * member's own reading of the others' /proc would race their captures.
 */
static int objs_read(struct ckpt_ctx *c, struct ckpt_tree *t)
{
	if (t->objs_read > 0)
		return 0;
	return ckpt_fail(c, -EPROTO, "the tree's table of files was asked for before "
			 "CAPTURE brought it");
}

static uint32_t id_of(int section, int fd)
{
	return (uint32_t)section << CKPT_TREE_ID_SHIFT | (uint32_t)(fd + 1);
}

uint32_t ckpt_tree_file_id(struct ckpt_ctx *c, int fd, uint64_t dev, uint64_t ino)
{
	struct ckpt_tree *t = c->tree;
	pid_t me = getpid();

	if (!t || t->index == 0 || objs_read(c, t) < 0)
		return 0;
	/* the objs are in section order, each member's fds ascending: the first is the owner */
	for (int i = 0; i < t->nobjs; i++) {
		const struct ckpt_tree_obj *o = &t->objs[i];

		if (o->fd >= 0 && o->dev == dev && o->ino == ino &&
		    syscall(SYS_kcmp, me, t->pids[o->section], KCMP_FILE, fd, o->fd) == 0)
			return id_of(o->section, o->fd);
	}
	return 0;
}

uint32_t ckpt_tree_mapped_id(int section, uint64_t ino)
{
	return (uint32_t)section << CKPT_TREE_ID_SHIFT | CKPT_TREE_ID_MAPPED |
	       ((uint32_t)ino & CKPT_TREE_ID_INO_MASK);
}

/*
 * The object's first FILE is the lowest section's: its fd's FILE, or,
 * where that section only maps it (a memfd or deleted file whose fds
 * were closed, as sem_open leaves a semaphore), the FILE it writes for
 * the mapping (ckpt_fmapped.c), whose id it computes from the inode.
 * In one section an fd comes first (the mapping names the fd's FILE).
 * (A POSIX shm object's first FILE, the one with its contents, is found
 * the same way: fd_pshm.c.)
 */
uint32_t ckpt_tree_first(struct ckpt_ctx *c, uint64_t dev, uint64_t ino)
{
	struct ckpt_tree *t = c->tree;
	int mapped = -1;

	if (!t || t->index == 0 || objs_read(c, t) < 0)
		return 0;
	for (int i = 0; i < t->nobjs; i++) {
		const struct ckpt_tree_obj *o = &t->objs[i];

		if (o->dev != dev || o->ino != ino)
			continue;
		if (o->fd >= 0 && (mapped < 0 || o->section <= mapped))
			return id_of(o->section, o->fd);
		if (o->fd < 0 && mapped < 0)
			mapped = o->section;
	}
	return mapped >= 0 ? ckpt_tree_mapped_id(mapped, ino) : 0;
}

struct later_walk {
	uint64_t dev, ino;
	pid_t pid;
	int fd;				/* ours, in flight */
	int found;			/* its fd there, -1 */
};

static int later_fd(int fd, int dirfd, void *arg)
{
	struct later_walk *w = arg;
	struct stat st;
	char path[64];

	(void)dirfd;
	ckpt_fmt(path, sizeof(path), "/proc/%d/fd/%d", (int)w->pid, fd);
	if (arch_sys2(SYS_stat, path, &st) < 0 || st.st_dev != w->dev || st.st_ino != w->ino ||
	    syscall(SYS_kcmp, getpid(), w->pid, KCMP_FILE, w->fd, fd) != 0)
		return 0;
	w->found = fd;
	return -1;
}

pid_t ckpt_tree_later_holder(struct ckpt_ctx *c, int fd, uint64_t dev, uint64_t ino, int *theirs)
{
	struct ckpt_tree *t = c->tree;

	if (!t || !t->pids)
		return 0;
	for (int k = t->index + 1; k < t->nmembers; k++) {
		struct later_walk w = { dev, ino, t->pids[k], fd, -1 };
		char dir[48];

		ckpt_fmt(dir, sizeof(dir), "/proc/%d/fd", (int)w.pid);
		ckpt_proc_each(dir, later_fd, &w);
		if (w.found >= 0) {
			*theirs = w.found;
			return w.pid;
		}
	}
	return 0;
}

uint32_t ckpt_tree_new_id(struct ckpt_ctx *c, int fd)
{
	uint32_t base = (uint32_t)c->tree->index << CKPT_TREE_ID_SHIFT;

	if (fd >= 0)
		return base | (uint32_t)(fd + 1);
	return base | (CKPT_TREE_ID_MORE + ++c->nfiles);
}

int ckpt_tree_shm(struct ckpt_ctx *c, uint64_t dev, uint64_t ino, uint64_t pgoff, uint64_t len)
{
	struct ckpt_tree *t = c->tree;
	int owner = -1;
	uint64_t at = pgoff, end = pgoff + len;

	if (t->index == 0)
		return 0;
	if (objs_read(c, t) < 0)
		return c->error;
	for (int i = 0; i < t->nobjs && owner < 0; i++)
		if (t->objs[i].fd < 0 && t->objs[i].dev == dev && t->objs[i].ino == ino)
			owner = t->objs[i].section;
	if (owner < 0)
		return 0;			/* ours to save */
	/* the owner's mappings of it must cover ours: its pages are all there is */
	for (int moved = 1; at < end && moved; ) {
		moved = 0;
		for (int i = 0; i < t->nobjs; i++) {
			const struct ckpt_tree_obj *o = &t->objs[i];

			if (o->section == owner && o->fd < 0 && o->dev == dev && o->ino == ino &&
			    o->start <= at && at < o->end) {
				at = o->end;
				moved = 1;
			}
		}
	}
	if (at < end)
		return ckpt_fail(c, -ENOTSUP, "this process maps bytes %llu-%llu of shared memory "
				 "(inode %llu) that process %d, the first of the tree to map it, does "
				 "not: not supported", (unsigned long long)at,
				 (unsigned long long)end, (unsigned long long)ino, (int)t->pids[owner]);
	return 1;
}

struct epoll_walk {
	const struct kcmp_epoll_slot *slot;
	uint64_t ino;
	pid_t pid;
	int found;
};

static int epoll_fd(int fd, int dirfd, void *arg)
{
	struct epoll_walk *w = arg;
	struct stat st;
	char path[64];

	(void)dirfd;
	ckpt_fmt(path, sizeof(path), "/proc/%d/fd/%d", (int)w->pid, fd);
	if (arch_sys2(SYS_stat, path, &st) < 0 || st.st_ino != w->ino ||
	    syscall(SYS_kcmp, w->pid, getpid(), KCMP_EPOLL_TFD, fd, w->slot) != 0)
		return 0;
	w->found = fd;
	return -1;
}

uint32_t ckpt_tree_epoll_target(struct ckpt_ctx *c, const struct kcmp_epoll_slot *slot,
				uint64_t ino)
{
	struct ckpt_tree *t = c->tree;

	if (!t || !t->pids)
		return 0;
	/* an earlier member's: the first in the table (sections, then fds, ascending) */
	if (t->index > 0 && objs_read(c, t) == 0)
		for (int i = 0; i < t->nobjs; i++) {
			const struct ckpt_tree_obj *o = &t->objs[i];

			if (o->fd >= 0 && o->ino == ino &&
			    syscall(SYS_kcmp, t->pids[o->section], getpid(), KCMP_EPOLL_TFD, o->fd,
				    slot) == 0)
				return id_of(o->section, o->fd);
		}
	/* a later member's, none before holding it: its FILE's id is its lowest fd's */
	for (int k = t->index + 1; k < t->nmembers; k++) {
		struct epoll_walk w = { slot, ino, t->pids[k], -1 };
		char dir[48];

		ckpt_fmt(dir, sizeof(dir), "/proc/%d/fd", (int)w.pid);
		ckpt_proc_each(dir, epoll_fd, &w);
		if (w.found >= 0)
			return id_of(k, w.found);
	}
	return 0;
}
