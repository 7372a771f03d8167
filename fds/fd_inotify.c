/*
 * fd_inotify.c - inotify instances (inotify_init1) and their watches.
 *
 * Saved: the instance's O_NONBLOCK (IN_CLOEXEC is the FD record's
 * FD_CLOEXEC) and, one INOTIFY_WATCH record each after the FILE, in wd
 * order, every watch fdinfo lists ("inotify wd:.. ino:.. sdev:.. mask:..")
 * with the path a restart adds it by.  The kernel shows a watch's inode,
 * not its path; the path is, in this order:
 *  1. one the wrappers saw the watch added by (libckpt/reg_inotify.c),
 *     taken only when it names the watched inode now (a file renamed or
 *     replaced since is not taken): stat(), or lstat() for a watch on a
 *     symbolic link itself (IN_DONT_FOLLOW: IMG_INOTIFY_NOFOLLOW);
 *  2. the inode's own path found from its file handle (fdinfo "f_handle":
 *     open_by_handle_at on a mount of its file system, then the fd's
 *     link), which needs CAP_DAC_READ_SEARCH: a watch added before
 *     libckpt was loaded (before an exec) or by a raw system call;
 *  3. else the checkpoint is refused, naming the watch and its inode.
 *
 * Events queued and not read: the checkpoint cannot read them without
 * taking them from the program (which goes on with them), and a restart
 * cannot queue them again.  So the restarted instance holds one
 * IN_Q_OVERFLOW in their place (IMG_INOTIFY_OVERFLOW), as the kernel
 * says when it drops events: the program rescans what it watches.  The
 * kernel queues IN_Q_OVERFLOW only when a full queue drops an event
 * (max_events, fixed when the instance is made from the machine's
 * fs.inotify.max_queued_events): the restart fills the new queue with
 * events of a watch on a private directory of its own until the kernel
 * adds the overflow, removes that watch (its IN_IGNORED is dropped: the
 * queue is full), and reads every event before the overflow away, before
 * any of the program's watches gets its mask (overflow()).  The cost: one
 * wd number (the next new watch gets the highest restored wd + 2), and
 * about max_events file creations (16384 by default: ~20 ms); a machine
 * whose max_queued_events passes INOTIFY_FILL_MAX refuses at --check.
 *
 * Restart: inotify_init1, then every watch again with its own wd.  The
 * kernel hands out wds increasing from 1: a number the image skips
 * (a watch removed) is taken by a placeholder watch added and removed
 * again (on a directory no watch is on: "/" or another).  Each watch is
 * first added with no events (only IN_EXCL_UNLINK, which the kernel
 * takes as a valid mask), the IN_IGNORED events the placeholders leave
 * are read away (nothing else can be queued then), and only then does
 * each watch get its mask: no event of the program's is read by the
 * restart.  Every wd is checked; a path that names no file, or another
 * one than in phase one, fails the restart by name.  What is not kept:
 * the number the next new watch gets when the highest wds were removed
 * (the kernel gives the highest restored wd + 1), and a watch's path is
 * the one it was added by: a restart on another machine watches what
 * that path names there.
 *
 * Limits: fdinfo of at most ~2000 watches (ckpt_fds.c reads 240 KiB), the
 * wrappers' table of REG_INO_SLOTS paths (more are found by handle).
 * Cost at restart: two system calls per wd number skipped (a program that
 * added and removed a million watches: a million placeholders, about a
 * second).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fds/fd_kind.h"

#define INOTIFY_OFLAGS	(O_ACCMODE | O_NONBLOCK)

static int inotify_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	const struct img_file_inotify *d = data;

	if (f->data_len != sizeof(*d) || (d->flags & ~(uint32_t)IMG_INOTIFY_OVERFLOW) ||
	    (f->flags & ~(uint32_t)INOTIFY_OFLAGS) ||
	    (f->flags & O_ACCMODE) != O_RDONLY) {
		snprintf(err, len, "%u bytes of kind data, flags %#o", f->data_len, f->flags);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_inotify_info = { IMG_FILE_INOTIFY, "inotify", inotify_valid };

#ifdef FD_SAVE
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "fds/fd_ev.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/reg.h"

static int inotify_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return !__builtin_strcmp(p->path, "anon_inode:inotify");
}

/* Whether path names the watched inode: 1 (stat), 2 (lstat: the link itself), 0. */
static int names(const char *path, uint64_t dev, uint64_t ino)
{
	struct stat st;

	if (arch_sys4(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0 && st.st_dev == dev &&
	    st.st_ino == ino)
		return 1;
	if (arch_sys4(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == dev && st.st_ino == ino)
		return 2;
	return 0;
}

/* A path the wrappers recorded that names the watch's inode: 1 and path, or 0. */
static int from_registry(int fd, const struct fd_ev_watch *w, uint64_t dev, char *path,
			 size_t cap, int *how)
{
	for (int pass = 0; pass < 2; pass++) {
		int sfd, swd, r;

		for (uint32_t i = 0; (r = reg_inotify_get(i, &sfd, &swd, path, cap)) >= 0; i++) {
			if (!r || (!pass && (sfd != fd || swd != w->wd)))
				continue;	/* first this fd's own record of the wd */
			if ((*how = names(path, dev, w->ino)))
				return 1;
		}
	}
	return 0;
}

/* The mount point of a file system (the kernel's dev_t sdev) from mountinfo, into buf. */
static int mount_of(uint32_t sdev, char *buf, size_t cap)
{
	char chunk[2048], line[1024];
	size_t ll = 0;
	long n, fd = arch_sys3(SYS_open, "/proc/self/mountinfo", O_RDONLY | O_CLOEXEC, 0);
	int found = 0;

	if (fd < 0)
		return -1;
	while (!found && (n = arch_sys3(SYS_read, fd, chunk, sizeof(chunk))) > 0) {
		for (long k = 0; k < n && !found; k++) {
			const char *s = line;
			unsigned long maj = 0, min = 0;
			size_t o = 0;

			if (chunk[k] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = chunk[k];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			/* "36 35 98:0 /root /mnt ..." */
			for (int f = 0; f < 2 && *s; f++) {
				while (*s && *s != ' ')
					s++;
				while (*s == ' ')
					s++;
			}
			while (*s >= '0' && *s <= '9')
				maj = maj * 10 + (*s++ - '0');
			if (*s++ != ':')
				continue;
			while (*s >= '0' && *s <= '9')
				min = min * 10 + (*s++ - '0');
			if (maj != sdev >> 20 || min != (sdev & 0xfffff))
				continue;
			while (*s == ' ')
				s++;
			while (*s && *s != ' ')		/* the root within the file system */
				s++;
			while (*s == ' ')
				s++;
			for (; *s && *s != ' ' && o < cap - 1; s++) {
				/* \040 and the like: octal escapes */
				if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
				    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
					buf[o++] = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
					s += 3;
				} else {
					buf[o++] = *s;
				}
			}
			buf[o] = '\0';
			found = o > 0;
		}
	}
	arch_sys1(SYS_close, fd);
	return found ? 0 : -1;
}

/*
 * The watch's path from its file handle (CAP_DAC_READ_SEARCH): 1 and
 * path, 0 when there is none, -EPERM when the process may not.
 */
static int from_handle(const struct fd_ev_watch *w, uint64_t dev, char *path, size_t cap,
		       int *how)
{
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[FD_EV_HANDLE_MAX];
	} fh;
	char link[64];
	long mfd, hfd, n;

	if (!w->handle_bytes || mount_of(w->sdev, path, cap) < 0)
		return 0;
	/* (not O_PATH: open_by_handle_at takes no O_PATH fd for the mount) */
	mfd = arch_sys3(SYS_open, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (mfd < 0)
		return 0;
	fh.bytes = w->handle_bytes;
	fh.type = w->handle_type;
	__builtin_memcpy(fh.h, w->handle, w->handle_bytes);
	hfd = arch_sys3(SYS_open_by_handle_at, mfd, &fh, O_PATH | O_CLOEXEC);
	arch_sys1(SYS_close, mfd);
	if (hfd == -EPERM)
		return -EPERM;
	if (hfd < 0)
		return 0;
	ckpt_fmt(link, sizeof(link), "/proc/self/fd/%ld", hfd);
	n = arch_sys3(SYS_readlink, link, path, cap - 1);
	arch_sys1(SYS_close, hfd);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return path[0] == '/' && (*how = names(path, dev, w->ino)) ? 1 : 0;
}

/* w's path into path (IMG_INOTIFY_PATH_MAX + 1 bytes), *how as names() says: 0 or the refusal. */
static int watch_path(struct ckpt_ctx *c, const struct fd_probe *p, const struct fd_ev_watch *w,
		      char *path, int *how)
{
	uint64_t dev = fd_ev_dev(w->sdev);
	int r;

	if (from_registry(p->fd, w, dev, path, IMG_INOTIFY_PATH_MAX + 1, how))
		return 0;
	if ((r = from_handle(w, dev, path, IMG_INOTIFY_PATH_MAX + 1, how)) > 0)
		return 0;
	return ckpt_fail(c, -ENOTSUP, "fd %d: inotify watch wd %d on inode %llu (device %u:%u): "
			 "its path is unknown (added before libckpt was loaded, by a raw system "
			 "call, or renamed since)%s; a restart can only add a watch by path: add "
			 "it again by its path once libckpt is loaded, or remove it%s", p->fd,
			 w->wd, (unsigned long long)w->ino, w->sdev >> 20, w->sdev & 0xfffff,
			 r == -EPERM ? ", and finding it by its file handle needs "
			 "CAP_DAC_READ_SEARCH" : w->handle_bytes ? ", and its file handle does "
			 "not lead to it" : "", p->origin);
}

/* Whether the instance has events queued (FIONREAD). */
static int queued(const struct fd_probe *p)
{
	int n = 0;

	return arch_sys3(SYS_ioctl, p->fd, FIONREAD, &n) == 0 && n > 0;
}

static int inotify_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	char path[IMG_INOTIFY_PATH_MAX + 1];
	const char *s = p->info;
	struct fd_ev_watch w;
	int r, how;

	while ((r = fd_ev_inotify_next(&s, &w)) > 0)
		if (watch_path(c, p, &w, path, &how) < 0)
			return c->error;
	if (r < 0)
		return ckpt_fail(c, -EINVAL, "fd %d: cannot parse the inotify watches in its "
				 "fdinfo%s", p->fd, p->origin);
	return 0;
}

static int inotify_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
			void *data, size_t cap)
{
	struct img_file_inotify d = { 0 };
	const char *s = p->info;
	struct fd_ev_watch w;

	/* read only once the threads are parked: an event may have come since the check */
	if (queued(p))
		d.flags |= IMG_INOTIFY_OVERFLOW;
	while (fd_ev_inotify_next(&s, &w) > 0)
		d.nwatches++;
	f->flags = p->flags & O_NONBLOCK;	/* O_RDONLY */
	f->pos = 0;
	__builtin_memcpy(data, &d, sizeof(d));
	return sizeof(d);
}

/* The watch of info with the lowest wd above `above`: 1 and w, or 0. */
static int next_wd(const char *info, int above, struct fd_ev_watch *w)
{
	struct fd_ev_watch t;
	const char *s = info;
	int found = 0;

	while (fd_ev_inotify_next(&s, &t) > 0)
		if (t.wd > above && (!found || t.wd < w->wd)) {
			*w = t;
			found = 1;
		}
	return found;
}

/* The INOTIFY_WATCH records, in wd order (fdinfo lists them newest first). */
static int inotify_contents(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f)
{
	char path[IMG_INOTIFY_PATH_MAX + 1];
	struct fd_ev_watch w;
	int wd = 0, how;

	/* (the same fdinfo text as save counted: as many records as its nwatches) */
	while (next_wd(p->info, wd, &w)) {
		struct img_inotify_watch r = { .file = f->id, .wd = w.wd, .mask = w.mask };

		wd = w.wd;
		if (watch_path(c, p, &w, path, &how) < 0)
			return c->error;
		r.flags = how == 2 ? IMG_INOTIFY_NOFOLLOW : 0;
		r.dev = fd_ev_dev(w.sdev);
		r.ino = w.ino;
		r.path_len = ckpt_strlen(path);
		r.mask &= IMG_INOTIFY_MASK;
		if (img_write_record(&c->w, IMG_REC_INOTIFY_WATCH, &r, sizeof(r), path,
				     r.path_len) < 0)
			return c->w.error;
	}
	return 0;
}

const struct fd_save_ops fd_inotify_save = { .kind = IMG_FILE_INOTIFY, .match = inotify_match,
					     .check = inotify_check, .save = inotify_save,
					     .contents = inotify_contents };
#endif

#ifdef FD_RESTORE
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "libckpt/img.h"
#include "restart/rst.h"

/* The watch records of f (copies), after the FILE. */
struct rst_inotify {
	uint32_t n;
	struct img_inotify_watch **w;	/* each followed by its path and a NUL */
};

static const char *wpath(const struct img_inotify_watch *w)
{
	return (const char *)(w + 1);
}

int rst_inotify_load(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_inotify_watch *w = img_get_inotify_watch(&s->r, rec);
	struct rst_file *f = s->fdata_file ? rst_file_by_id(s, s->fdata_file) : NULL;
	struct rst_inotify *in;
	char err[200];

	if (!w) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	in = f ? f->inotify : NULL;
	if (img_inotify_watch_next(f ? &f->f : NULL, f ? f->data : NULL, w, in ? in->n : 0,
				   in && in->n ? in->w[in->n - 1]->wd : 0, err, sizeof(err)) < 0) {
		rst_error(s, "corrupt: %s (offset %lu)", err, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	if (!in && !(in = f->inotify = calloc(1, sizeof(*in))))
		abort();
	if (!(in->w = realloc(in->w, (in->n + 1) * sizeof(*in->w))) ||
	    !(in->w[in->n] = calloc(1, rec->len + 1)))
		abort();
	memcpy(in->w[in->n++], w, rec->len);
	return 0;
}

int rst_inotify_end(struct rst_state *s)
{
	struct rst_file *f = s->fdata_file ? rst_file_by_id(s, s->fdata_file) : NULL;
	char err[200];

	if (f && img_inotify_end(&f->f, f->data, f->inotify ? f->inotify->n : 0, err,
				 sizeof(err)) < 0) {
		rst_error(s, "corrupt: %s", err);
		return RST_EXIT_IMAGE;
	}
	return 0;
}

static int wstat(const struct img_inotify_watch *w, struct stat *st)
{
	return (w->flags & IMG_INOTIFY_NOFOLLOW) ? lstat(wpath(w), st) : stat(wpath(w), st);
}

/* Every watch's path names a file here. */
static int inotify_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct rst_inotify *in = f->inotify;
	struct stat st;
	int r = 0;

	for (uint32_t i = 0; in && i < in->n; i++)
		if (wstat(in->w[i], &st) < 0)
			r = rst_problem(s, RST_EXIT_ENV, "fd %d: inotify watch wd %d: %s: %s; the "
					"watch cannot be added again", f->first_fd, in->w[i]->wd,
					wpath(in->w[i]), strerror(errno));
	return r;
}

/* A directory no watch of f is on, for the placeholders. */
static const char *placeholder(const struct rst_inotify *in)
{
	static const char *const dirs[] = { "/", "/dev", "/proc", "/sys", "/tmp", "/etc", "/usr" };

	for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		struct stat d, st;
		int taken = 0;

		if (stat(dirs[k], &d) < 0)
			continue;
		for (uint32_t i = 0; i < in->n && !taken; i++)
			taken = wstat(in->w[i], &st) == 0 && st.st_dev == d.st_dev &&
				st.st_ino == d.st_ino;
		if (!taken)
			return dirs[k];
	}
	return NULL;
}

/*
 * The events queued now: only the placeholders' IN_IGNORED may be (no
 * watch of the image has any event yet).  0, or -1 reported.
 */
static int drain(struct rst_state *s, const struct rst_file *f, int fd)
{
	char buf[4096] __attribute__((aligned(8)));
	struct pollfd p = { fd, POLLIN, 0 };

	while (poll(&p, 1, 0) == 1) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (ssize_t at = 0; at + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *e = (const void *)(buf + at);
			const struct rst_inotify *in = f->inotify;

			for (uint32_t i = 0; in && i < in->n; i++)
				if (in->w[i]->wd == e->wd) {
					rst_error(s, "fd %d: inotify watch wd %d (%s) had event "
						  "%#x while it was being made again (its file "
						  "removed, its file system unmounted?)",
						  f->first_fd, e->wd, wpath(in->w[i]), e->mask);
					return -1;
				}
			at += sizeof(*e) + e->len;
		}
	}
	return 0;
}

#define INOTIFY_FILL_MAX	(1 << 20)	/* max_queued_events a restart fills, at most */

static long max_queued(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/fs/inotify/max_queued_events", O_RDONLY | O_CLOEXEC);
	long v = -1;

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			v = strtol(buf, NULL, 10);
		close(fd);
	}
	return v;
}

/*
 * An IN_Q_OVERFLOW alone in fd's queue (see the notes above): the queue
 * filled from a watch on a private directory until the kernel adds the
 * overflow, that watch removed, the events before the overflow read away.
 * Before the image's watches have their masks: nothing else is queued.
 * 0, or -1 reported.
 */
static int overflow(struct rst_state *s, const struct rst_file *f, int fd)
{
	char dir[] = "/tmp/ckpt-inotify.XXXXXX", name[sizeof(dir) + 8];
	char buf[8192] __attribute__((aligned(8)));
	long max = max_queued();
	int wd = -1, got = 0, r = -1;

	if (max <= 0 || max > INOTIFY_FILL_MAX || !mkdtemp(dir)) {
		rst_error(s, "fd %d: cannot queue the IN_Q_OVERFLOW the inotify instance is "
			  "owed: %s", f->first_fd, max <= 0 || max > INOTIFY_FILL_MAX ?
			  "fs.inotify.max_queued_events is unknown or too large" : strerror(errno));
		return -1;
	}
	snprintf(name, sizeof(name), "%s/x", dir);
	if ((wd = inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE)) < 0)
		goto out;
	/* each create and unlink is an event, two in a row never alike (none merged) */
	for (long i = 0; i <= max / 2 + 1; i++) {
		int t = open(name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (t < 0 || close(t) < 0 || unlink(name) < 0)
			goto out;
	}
	inotify_rm_watch(fd, wd);	/* its IN_IGNORED: dropped, the queue is full */
	wd = -1;
	/* every event but the last, the overflow (wd -1, no name) */
	for (;;) {
		int n = 0;
		ssize_t len;

		if (ioctl(fd, FIONREAD, &n) < 0)
			goto out;
		if (n <= (int)sizeof(struct inotify_event))
			break;
		len = read(fd, buf, (size_t)n - sizeof(struct inotify_event) < sizeof(buf) ?
			  (size_t)n - sizeof(struct inotify_event) : sizeof(buf));
		if (len <= 0)
			goto out;
	}
	if (ioctl(fd, FIONREAD, &got) == 0 && got == (int)sizeof(struct inotify_event))
		r = 0;
out:
	if (r < 0)
		rst_error(s, "fd %d: cannot queue the IN_Q_OVERFLOW the inotify instance is owed "
			  "(the events it had queued at the checkpoint are lost): %s", f->first_fd,
			  errno ? strerror(errno) : "the queue did not overflow as expected");
	if (wd >= 0)
		inotify_rm_watch(fd, wd);
	unlink(name);
	rmdir(dir);
	return r;
}

static int inotify_open(struct rst_state *s, const struct rst_file *f)
{
	const struct rst_inotify *in = f->inotify;
	const char *ph = NULL;
	int fd = inotify_init1(IN_CLOEXEC | ((f->f.flags & O_NONBLOCK) ? IN_NONBLOCK : 0));
	int next = 1;

	if (fd < 0) {
		rst_error(s, "fd %d: cannot make the inotify instance again: %s%s", f->first_fd,
			  strerror(errno), errno == EMFILE ?
			  " (fs.inotify.max_user_instances reached)" : "");
		return -1;
	}
	/* phase 1: every wd, watches with no events, placeholders between */
	for (uint32_t i = 0; in && i < in->n; i++) {
		const struct img_inotify_watch *w = in->w[i];
		uint32_t nf = (w->flags & IMG_INOTIFY_NOFOLLOW) ? IN_DONT_FOLLOW : 0;
		int wd;

		while (next < w->wd) {
			int ph_wd;

			if (!ph && !(ph = placeholder(in)))
				goto no_gap;
			if ((ph_wd = inotify_add_watch(fd, ph, IN_EXCL_UNLINK)) < 0 || ph_wd >= w->wd ||
			    inotify_rm_watch(fd, ph_wd) < 0)
				goto no_gap;
			next = ph_wd + 1;
			/* their IN_IGNORED away before the queue fills (and overflows) */
			if (next % 4096 == 0 && drain(s, f, fd) < 0)
				goto fail;
		}
		wd = inotify_add_watch(fd, wpath(w), IN_EXCL_UNLINK | nf);
		if (wd != w->wd) {
			rst_error(s, "fd %d: cannot add inotify watch wd %d on %s again: %s", f->first_fd,
				  w->wd, wpath(w), wd < 0 ? strerror(errno) : "it got another wd "
				  "(its path names a file another watch is on)");
			goto fail;
		}
		next = wd + 1;
	}
	if (drain(s, f, fd) < 0)
		goto fail;
	if ((((const struct img_file_inotify *)f->data)->flags & IMG_INOTIFY_OVERFLOW) &&
	    overflow(s, f, fd) < 0)
		goto fail;
	/* phase 2: the masks; the same path gives the same wd, or its file changed */
	for (uint32_t i = 0; in && i < in->n; i++) {
		const struct img_inotify_watch *w = in->w[i];
		uint32_t nf = (w->flags & IMG_INOTIFY_NOFOLLOW) ? IN_DONT_FOLLOW : 0;
		int wd = inotify_add_watch(fd, wpath(w), w->mask | nf);

		if (wd != w->wd) {
			rst_error(s, "fd %d: cannot give inotify watch wd %d on %s its mask %#x: %s",
				  f->first_fd, w->wd, wpath(w), w->mask, wd < 0 ? strerror(errno) :
				  "its path names another file now");
			goto fail;
		}
	}
	return fd;
no_gap:
	rst_error(s, "fd %d: cannot give inotify watches their numbers again: the numbers below "
		  "wd %d need placeholder watches, which cannot be added (%s)", f->first_fd,
		  in->w[0]->wd, ph ? strerror(errno) : "no directory without a watch found");
fail:
	close(fd);
	return -1;
}

const struct fd_restore_ops fd_inotify_restore = { .kind = IMG_FILE_INOTIFY,
						   .verify = inotify_verify,
						   .open = inotify_open };
#endif
