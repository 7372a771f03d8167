/*
 * fd_epoll.c - epoll instances (epoll_create): the instance and every
 * item of its interest list: the fd number each was added with, its
 * events (EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLWAKEUP...) and its
 * data.  Nested epolls, and epolls shared between processes of a tree
 * (one description), are the same thing: an item names a FILE, of any
 * kind (this file knows nothing of what it watches).
 *
 * Save: the items are read from the epoll's fdinfo ("tfd: N events: X
 * data: Y pos:.. ino:.. sdev:.."), once, when its FILE is written (by the
 * first process of a tree that holds it).  The fd number an item names is
 * the number it was added with, which may no longer hold its file (closed
 * after EPOLL_CTL_ADD while a dup keeps the description alive), so the
 * file is found by kcmp(KCMP_EPOLL_TFD), which compares an item's file
 * with an fd's: first the fd the item names, then every fd of the process
 * (on the same inode number), then, in a tree, every other process's
 * (libckpt/ckpt_tree_fds.c).  The EPOLL_ITEM records are written after
 * every FILE of the process (end of pass 1), when each fd has its FILE
 * id.  Refused by name: an item whose file no fd of the image holds (the
 * restart could not keep it open: the kernel drops an item when its file
 * is closed), an epoll fd in flight on a unix socket.
 *
 * Restart: the instance is a new epoll_create1(); its items are added
 * once every FILE is open (one process: after its fds are placed,
 * restart_fds.c; a tree: by ckpt-restart before any process is made,
 * restart_tree.c, so a shared instance gets every item once and the
 * processes inherit it).  Each item is added under its own number: its
 * file is put at that number for the EPOLL_CTL_ADD (what was there is
 * moved aside and put back).  epoll_ctl polls the file: an item whose
 * file is ready (level- or edge-triggered) is ready again, and the
 * program's next epoll_wait reports it.  An EPOLLONESHOT item that fired
 * (no event bits left: disabled) must stay so; only epoll_wait disables
 * one, so it is added alone first, with every event bit, and collected
 * by epoll_wait(0) on the instance while it holds no other armed item;
 * one whose file is ready for nothing keeps only EPOLLERR|EPOLLHUP armed
 * (which EPOLL_CTL_MOD always adds).  All disabled items of all epolls
 * come first, so no other item can be ready then.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

#define EP_PATH		"anon_inode:[eventpoll]"

/* path: path_len bytes, not NUL-terminated */
static int epoll_valid(const struct img_file *f, const char *path, const void *data, char *err,
		       size_t len)
{
	const struct img_file_epoll *d = data;

	if (f->data_len != sizeof(*d) || d->reserved || d->nitems > IMG_EPOLL_ITEMS_MAX ||
	    (f->flags & ~(uint32_t)(O_ACCMODE | O_NONBLOCK | IMG_O_LARGEFILE)) ||
	    (f->flags & O_ACCMODE) != O_RDWR || f->path_len != sizeof(EP_PATH) - 1 ||
	    memcmp(path, EP_PATH, f->path_len)) {
		snprintf(err, len, "%u bytes of kind data, %u items, flags %#o, a path of %u bytes",
			 f->data_len, f->data_len == sizeof(*d) ? d->nitems : 0, f->flags,
			 f->path_len);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_epoll_info = { IMG_FILE_EPOLL, "epoll", epoll_valid };

#ifdef FD_SAVE
#include <linux/kcmp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"

/* One fdinfo line: an item, and its rank among the items on the same fd number. */
struct ep_line {
	int32_t tfd;
	uint32_t events;
	uint64_t data;
	uint64_t ino;
	uint32_t toff;			/* KCMP_EPOLL_TFD's index among the items on tfd */
	uint32_t target;		/* FILE id, once found */
};

/* One epoll FILE this process writes (pass 1). */
struct ep_file {
	int fd;
	uint32_t id;
	uint32_t first, n;		/* its lines in ep.lines */
};

#define EP_LINES_MAX	16384		/* items of all the process's epolls */
#define EP_FILES_MAX	1024

/*
 * One checkpoint at a time per process (the save slot): the lines live in
 * an anonymous mapping from the first epoll met to the end of the pass.
 */
static struct {
	struct ep_line *lines;
	uint32_t nlines;
	struct ep_file files[EP_FILES_MAX];
	int nfiles;
} ep;

static int ep_map(struct ckpt_ctx *c)
{
	long p;

	if (ep.lines)
		return 0;
	p = arch_sys6(SYS_mmap, 0, EP_LINES_MAX * sizeof(struct ep_line), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p < 0 && p > -4096)
		return ckpt_fail(c, (int)p, "cannot map memory for the epoll items: %s",
				 ckpt_strerror((int)p));
	ep.lines = (struct ep_line *)p;
	return 0;
}

static void ep_unmap(void)
{
	if (ep.lines)
		arch_sys2(SYS_munmap, (long)ep.lines, EP_LINES_MAX * sizeof(struct ep_line));
	ep.lines = NULL;
	ep.nlines = 0;
	ep.nfiles = 0;
}

static const char *skip_to(const char *s, const char *key)
{
	const char *k = __builtin_strstr(s, key);

	if (!k)
		return NULL;
	k += ckpt_strlen(key);
	while (*k == ' ' || *k == '\t')
		k++;
	return k;
}

/*
 * Appends the items of an epoll's fdinfo text to ep.lines: their count,
 * or -1 after ckpt_fail (more than libckpt holds).
 */
static int ep_parse(struct ckpt_ctx *c, const struct fd_probe *p)
{
	const char *s = p->info;
	uint32_t first = ep.nlines;

	if (ep_map(c) < 0)
		return -1;
	while ((s = skip_to(s, "tfd:"))) {
		struct ep_line *l = &ep.lines[ep.nlines];
		const char *t;

		if (ep.nlines >= EP_LINES_MAX)
			return ckpt_fail(c, -E2BIG, "%s (epoll): the process's epolls have more than "
					 "%d items in all; libckpt cannot save them", p->what,
					 EP_LINES_MAX);
		*l = (struct ep_line){ 0 };
		l->tfd = (int32_t)ckpt_parse_dec(&s);
		if ((t = skip_to(s, "events:")))
			l->events = (uint32_t)ckpt_parse_hex(&t);
		if ((t = skip_to(s, "data:")))
			l->data = ckpt_parse_hex(&t);
		if ((t = skip_to(s, "ino:")))
			l->ino = ckpt_parse_hex(&t);
		/* fdinfo and KCMP_EPOLL_TFD walk the items in one order (the kernel's tree) */
		for (uint32_t i = first; i < ep.nlines; i++)
			l->toff += ep.lines[i].tfd == l->tfd;
		ep.nlines++;
	}
	return (int)(ep.nlines - first);
}

static int ep_same(pid_t pid, int fd, int efd, const struct ep_line *l)
{
	struct kcmp_epoll_slot slot = { (uint32_t)efd, (uint32_t)l->tfd, l->toff };

	return syscall(SYS_kcmp, pid, getpid(), KCMP_EPOLL_TFD, fd, &slot) == 0;
}

struct own_walk {
	int efd;
	const struct ep_line *l;
	int found;
};

static int own_fd(int fd, int dirfd, void *arg)
{
	struct own_walk *w = arg;

	if (fd == dirfd || !ep_same(getpid(), fd, w->efd, w->l))
		return 0;
	w->found = fd;
	return -1;
}

static int epoll_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return !(p->flags & O_PATH) && !__builtin_strcmp(p->path, EP_PATH);
}

static int ep_refuse_gone(struct ckpt_ctx *c, const struct fd_probe *p, const struct ep_line *l)
{
	return ckpt_fail(c, -ENOTSUP, "%s (epoll): its item for fd %d (events 0x%x, data 0x%llx) "
			 "watches a file no fd of %s holds (closed since; kept open elsewhere): a "
			 "restart could not hold it; EPOLL_CTL_DEL it before closing its last fd%s",
			 p->what, l->tfd, l->events, (unsigned long long)l->data,
			 ckpt_fds_alone(c) ? "the process" : "the tree", p->origin);
}

/*
 * Every item's file must be one an fd of the image holds.  The process's
 * own fds are looked at here; in a tree, where the others' may hold it,
 * that is known only in pass 1 (ep_write), with every process parked.
 */
static int epoll_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	uint32_t first = ep.nlines;
	int n;

	if (!ckpt_memeq(p->what, "fd ", 3))
		return ckpt_fail(c, -ENOTSUP, "%s (%s): an epoll fd in flight on a unix socket is "
				 "not supported; send it once the checkpoint is over", p->what,
				 p->path);
	if ((n = ep_parse(c, p)) < 0)
		return c->error;
	for (uint32_t i = first; i < ep.nlines; i++) {
		const struct ep_line *l = &ep.lines[i];
		struct own_walk w = { p->fd, l, -1 };
		struct stat st;

		/*
		 * The fd it names is on its inode: most likely its file, which
		 * pass 1 makes sure of (kcmp walks the instance's items in the
		 * kernel: one call per item is what the checkpoint costs).
		 */
		if (arch_sys2(SYS_fstat, l->tfd, (long)&st) == 0 && st.st_ino == l->ino)
			continue;
		if (ep_same(getpid(), l->tfd, p->fd, l))
			continue;
		ckpt_proc_each("/proc/self/fd", own_fd, &w);
		if (w.found < 0 && ckpt_fds_alone(c))
			return ep_refuse_gone(c, p, l);
	}
	ep.nlines = first;		/* the check pass keeps nothing */
	return 0;
}

static int epoll_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
		      void *data, size_t cap)
{
	struct img_file_epoll d = { 0 };
	uint32_t first = ep.nlines;
	int n;

	if (ep.nfiles >= EP_FILES_MAX)
		return ckpt_fail(c, -E2BIG, "%s (epoll): the process has more than %d epoll "
				 "instances; libckpt cannot save them", p->what, EP_FILES_MAX);
	if ((n = ep_parse(c, p)) < 0)
		return c->error;
	ep.files[ep.nfiles++] = (struct ep_file){ p->fd, f->id, first, (uint32_t)n };
	d.nitems = (uint32_t)n;
	__builtin_memcpy(data, &d, sizeof(d));
	return sizeof(d);
}

static int epoll_begin(struct ckpt_ctx *c, int pass)
{
	ep_unmap();
	return 0;
}

/* The FILE id of the item's file: an fd of the process, or of another process of the tree. */
static uint32_t ep_target(struct ckpt_ctx *c, const struct ep_file *e, const struct ep_line *l)
{
	uint32_t id = 0;

	for (int i = 0; i < c->nfdids; i++) {
		const struct ckpt_fdid *o = &c->fdids[i];

		if (o->fd == l->tfd && ep_same(getpid(), o->fd, e->fd, l))
			return o->file;
	}
	for (int i = 0; i < c->nfdids; i++) {
		const struct ckpt_fdid *o = &c->fdids[i];

		if (o->fd >= 0 && o->ino == l->ino && ep_same(getpid(), o->fd, e->fd, l))
			return o->file;
	}
	if (c->tree) {
		struct kcmp_epoll_slot slot = { (uint32_t)e->fd, (uint32_t)l->tfd, l->toff };

		id = ckpt_tree_epoll_target(c, &slot, l->ino);
	}
	return id;
}

/* Pass 1, after every FILE of the process: one EPOLL_ITEM per item of each epoll written. */
static int ep_write(struct ckpt_ctx *c)
{
	char what[24], info[2] = "";

	for (int k = 0; k < ep.nfiles; k++) {
		const struct ep_file *e = &ep.files[k];

		for (uint32_t i = e->first; i < e->first + e->n; i++) {
			const struct ep_line *l = &ep.lines[i];
			struct img_epoll_item it = { .epoll = e->id, .tfd = l->tfd,
						     .events = l->events, .data = l->data };

			if (!(it.target = ep_target(c, e, l))) {
				struct fd_probe p = { .fd = e->fd, .path = EP_PATH, .info = info,
						      .origin = "", .what = what };

				if (c->error)
					return c->error;
				ckpt_fmt(what, sizeof(what), "fd %d", e->fd);
				return ep_refuse_gone(c, &p, l);
			}
			if (img_write_record(&c->w, IMG_REC_EPOLL_ITEM, &it, sizeof(it), NULL, 0) < 0)
				return c->w.error;
		}
	}
	return 0;
}

static int epoll_end(struct ckpt_ctx *c, int pass, int ok)
{
	int r = pass == 1 && ok ? ep_write(c) : 0;

	ep_unmap();
	return r < 0 ? -1 : 0;
}

const struct fd_save_ops fd_epoll_save = { .kind = IMG_FILE_EPOLL, .match = epoll_match,
					   .check = epoll_check, .save = epoll_save,
					   .begin = epoll_begin, .end = epoll_end };
#endif

#ifdef FD_RESTORE
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "restart/rst.h"

/* The event bits a disabled EPOLLONESHOT item is added with, to be collected at once. */
#define EP_ANY	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM | EPOLLRDBAND | \
		 EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)

struct rst_epoll {
	struct img_epoll_item *items;
	uint32_t n;
};

int fd_epoll_load(struct rst_state *s, const struct img_epoll_item *e, uint64_t off)
{
	struct rst_file *f = rst_file_by_id(s, e->epoll);
	struct img_file_epoll d;
	struct rst_epoll *x;

	if (!f || f->f.kind != IMG_FILE_EPOLL) {
		rst_error(s, "corrupt: an epoll item (offset %lu) names file %u, which is not an "
			  "epoll the image has before it", (unsigned long)off, e->epoll);
		return RST_EXIT_IMAGE;
	}
	memcpy(&d, f->data, sizeof(d));		/* (its size checked by valid()) */
	if (!f->epoll && !(f->epoll = calloc(1, sizeof(*f->epoll))))
		abort();
	x = f->epoll;
	if (x->n >= d.nitems) {
		rst_error(s, "corrupt: epoll file %u has more items than the %u it counts (offset "
			  "%lu)", e->epoll, d.nitems, (unsigned long)off);
		return RST_EXIT_IMAGE;
	}
	if (!x->items && !(x->items = calloc(d.nitems, sizeof(*x->items))))
		abort();
	x->items[x->n++] = *e;
	return 0;
}

void fd_epoll_free(struct rst_file *f)
{
	if (f->epoll)
		free(f->epoll->items);
	free(f->epoll);
	f->epoll = NULL;
}

static int epoll_open(struct rst_state *s, const struct rst_file *f)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0) {
		rst_error(s, "fd %d: cannot make an epoll instance: %s", f->first_fd,
			  strerror(errno));
		return -1;
	}
	if ((f->f.flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		rst_error(s, "fd %d: cannot make its epoll O_NONBLOCK: %s", f->first_fd,
			  strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Adds item e to the epoll at ep with its file at number e->tfd (src
 * holds the file): whatever that number holds is moved aside and put
 * back (with its FD_CLOEXEC); a number that held nothing is closed
 * again.  A disabled EPOLLONESHOT item is added with every event bit and
 * fired at once by epoll_wait (the instance has no other armed item yet),
 * or, ready for nothing, modified to its bare flags.  0, or -1 with errno.
 */
static int ep_add(int ep, int src, const struct img_epoll_item *e)
{
	struct epoll_event ev = { .events = e->events, .data.u64 = e->data };
	int disabled = !(e->events & ~IMG_EPOLL_PRIVATE);
	int tfd = e->tfd, saved = -1, fl = -1, r, err;

	if (src != tfd) {
		if ((fl = fcntl(tfd, F_GETFD)) >= 0) {
			if ((saved = fcntl(tfd, F_DUPFD_CLOEXEC, 0)) < 0)
				return -1;
			if (ep == tfd)
				ep = saved;
		}
		if (dup2(src, tfd) < 0) {
			err = errno;
			if (saved >= 0)
				close(saved);
			errno = err;
			return -1;
		}
	}
	if (disabled)
		ev.events |= EP_ANY;
	r = epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	if (!r && disabled) {
		struct epoll_event out;
		int n;

		while ((n = epoll_wait(ep, &out, 1, 0)) < 0 && errno == EINTR)
			;
		if (n == 0) {
			ev.events = e->events;
			r = epoll_ctl(ep, EPOLL_CTL_MOD, tfd, &ev);
		} else if (n < 0) {
			r = -1;
		}
	}
	err = errno;
	if (src != tfd) {
		if (saved >= 0) {
			dup3(saved, tfd, (fl & FD_CLOEXEC) ? O_CLOEXEC : 0);
			close(saved);
		} else {
			close(tfd);
		}
	}
	errno = err;
	return r;
}

int fd_epoll_register(struct rst_state *s, int (*fd_of)(void *arg, const struct rst_file *f),
		     void *arg)
{
	/* pass 0: the disabled oneshot items of every epoll; pass 1: the others */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < s->nfiles; i++) {
			struct rst_file *f = &s->files[i];
			struct img_file_epoll d;
			uint32_t n = f->epoll ? f->epoll->n : 0;

			if (f->f.kind != IMG_FILE_EPOLL || f->fd < 0)
				continue;
			memcpy(&d, f->data, sizeof(d));
			if (n != d.nitems) {
				rst_error(s, "corrupt: epoll file %u counts %u items, the image has "
					  "%u", f->f.id, d.nitems, n);
				return RST_EXIT_IMAGE;
			}
			for (uint32_t k = 0; k < n; k++) {
				const struct img_epoll_item *e = &f->epoll->items[k];
				const struct rst_file *t = rst_file_by_id(s, e->target);
				char ev[160];
				int src;

				if (!(e->events & ~IMG_EPOLL_PRIVATE) != !pass)
					continue;
				img_epoll_events(e->events, ev, sizeof(ev));
				/* (an inherited fd's FILE is not "used": no fd is made from it) */
				if (!t || (!t->used && t->f.kind != IMG_FILE_INHERIT)) {
					rst_error(s, "corrupt: epoll file %u has an item (fd %d) on file "
						  "%u, which %s", f->f.id, e->tfd, e->target,
						  t ? "no fd of the image holds" : "the image has not");
					return RST_EXIT_IMAGE;
				}
				if ((src = fd_of(arg, t)) < 0) {
					rst_error(s, "fd %d (epoll): its item for fd %d watches %s, "
						  "which is not open yet here: not supported",
						  f->first_fd, e->tfd, rst_file_what(t));
					return RST_EXIT_ENV;
				}
				if (ep_add(f->fd, src, e) < 0) {
					rst_error(s, "fd %d (epoll): cannot add its item for fd %d (%s, "
						  "events %s): %s", f->first_fd, e->tfd,
						  rst_file_what(t), ev, strerror(errno));
					return RST_EXIT_ENV;
				}
			}
		}
	}
	return 0;
}

const struct fd_restore_ops fd_epoll_restore = { .kind = IMG_FILE_EPOLL, .open = epoll_open };
#endif
