/*
 * fd_tty_pty.c - ptys the image's processes made themselves (`script`,
 * an expect-like driver, a terminal multiplexer): the master (/dev/ptmx)
 * and slave (/dev/pts/N) descriptions of the image are made again as one
 * pair, and which terminal is "the image's own" (fds/fd_tty.c).
 *
 * Which terminal is which.  The image's terminal (restarted on
 * ckpt-restart's) is the controlling terminal of the process, or in a
 * tree of its root; without one, a terminal at fds 0-2.  Any other pty
 * slave whose master a process of the image holds (looked for in every
 * process of the tree: /proc/PID/fdinfo of a /dev/ptmx fd says
 * "tty-index:") is one the image made; any other terminal is refused.
 *
 * What a pair keeps: the index (ptsname: the restart opens /dev/ptmx
 * until the kernel hands out that number, holding the lower ones it gets
 * meanwhile, and refuses by name when /dev/pts/N is taken), each side's
 * termios, the window size, packet mode, the lock (a pty whose slave the
 * image holds comes back unlocked: its slave had to be opened), and the
 * session whose controlling terminal the slave was (restart_tree.c: the
 * session leader takes it again, and its foreground group).
 *
 * Bytes in flight.  What the slave side wrote and the master has not
 * read (a `script` parked before it copied its child's last output: the
 * usual case) is saved: read from the master while every process is
 * parked (poll makes the kernel deliver what is still in flight), written
 * back into the slave with output processing (OPOST) off for the moment,
 * so the running process finds the same bytes, and kept in a PTY_DATA
 * record that the restart writes into the new pair the same way.  What
 * was typed into the master and the slave has not read is refused, by
 * its count (FIONREAD on a slave the image holds): it went through echo
 * and canonical editing, which writing it back would apply again.  A
 * partial line in canonical mode is not counted by FIONREAD: it is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "fds/fd_tty.h"

#if defined(FD_SAVE) || defined(FD_RESTORE)
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"

/*
 * n bytes where master reads them: written into its slave (TIOCGPTPEER)
 * with output processing (OPOST) off for the moment, so they arrive as
 * they are.  The checkpoint puts back what it read (signal context: raw
 * system calls only), the restart fills the new pair the same way.  0 or
 * -errno.
 */
static int pty_put(int master, const unsigned char *buf, size_t n)
{
	struct img_termios t, raw;
	int sl = (int)arch_sys3(SYS_ioctl, master, TTY_TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	size_t done = 0;
	int r;

	if (sl < 0)
		return sl;
	if ((r = (int)arch_sys3(SYS_ioctl, sl, TTY_TCGETS2, &t)) == 0) {
		raw = t;
		raw.oflag &= ~(uint32_t)TTY_OPOST;
		r = (int)arch_sys3(SYS_ioctl, sl, TTY_TCSETS2, &raw);
	}
	while (r == 0 && done < n) {
		long w = arch_sys3(SYS_write, sl, buf + done, n - done);

		if (w <= 0)
			r = w < 0 ? (int)w : -EIO;
		else
			done += (size_t)w;
	}
	arch_sys3(SYS_ioctl, sl, TTY_TCSETS2, &t);
	arch_sys1(SYS_close, sl);
	return r;
}
#endif

#ifdef FD_SAVE
#include <poll.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"

unsigned tty_stat_nr(int pid)
{
	char buf[1024], name[40];
	const char *s = buf;
	ssize_t n;
	int field = 2;

	if (pid)
		ckpt_fmt(name, sizeof(name), "/proc/%d/stat", pid);
	n = ckpt_read_file(pid ? name : "/proc/self/stat", buf, sizeof(buf));
	if (n <= 0)
		return 0;
	for (const char *q = buf; *q; q++)	/* comm may hold ')' */
		if (*q == ')')
			s = q + 1;
	while (*s && field < 7) {		/* " S ppid pgrp session tty_nr" */
		while (*s == ' ')
			s++;
		if (++field == 7)
			break;
		while (*s && *s != ' ')
			s++;
	}
	return field == 7 && *s >= '0' && *s <= '9' ? (unsigned)ckpt_parse_dec(&s) : 0;
}

unsigned tty_outer_dev(struct ckpt_ctx *c)
{
	int coord = ckpt_fds_alone(c) ? 0 : ckpt_fds_coord(c);

	return tty_stat_nr(coord == getpid() ? 0 : coord > 0 ? coord : 0);
}

struct master_find {
	int pid;
	unsigned index;
	int found;
};

/* One fd of a process: a /dev/ptmx whose fdinfo says tty-index: index. */
static int master_fd(int fd, int dirfd, void *arg)
{
	struct master_find *m = arg;
	char name[64], link[32], info[512];
	ssize_t n;
	const char *s;

	ckpt_fmt(name, sizeof(name), "%d", fd);
	n = readlinkat(dirfd, name, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	if (__builtin_strcmp(link, "/dev/ptmx") && __builtin_strcmp(link, "/dev/pts/ptmx"))
		return 0;
	ckpt_fmt(name, sizeof(name), "/proc/%d/fdinfo/%d", m->pid, fd);
	if (ckpt_read_file(name, info, sizeof(info)) <= 0 || !(s = __builtin_strstr(info, "tty-index:")))
		return 0;
	s += 10;
	while (*s == ' ' || *s == '\t')
		s++;
	if ((unsigned)ckpt_parse_dec(&s) == m->index) {
		m->found = 1;
		return -1;
	}
	return 0;
}

/* Whether pid or a descendant of it (depth-first, bounded) holds pty index's master. */
static int master_in(int pid, unsigned index, int depth)
{
	struct master_find m = { pid, index, 0 };
	int32_t kids[64];
	char dir[40], buf[1024];
	int n;

	ckpt_fmt(dir, sizeof(dir), "/proc/%d/fd", pid);
	ckpt_proc_each(dir, master_fd, &m);
	if (m.found)
		return 1;
	if (depth > 64 || (n = ckpt_tree_children(pid, kids, 64, buf, sizeof(buf))) <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (master_in(kids[i], index, depth + 1))
			return 1;
	return 0;
}

int tty_pty_mine(struct ckpt_ctx *c, unsigned index)
{
	int root = ckpt_fds_alone(c) ? getpid() : ckpt_fds_coord(c);

	return root > 0 && master_in(root, index, 0);
}

int tty_pty_check(struct ckpt_ctx *c, const struct fd_probe *p, uint32_t role, unsigned index)
{
	int unread = 0;

	/* the master's unread output is saved (tty_pty_contents); typed input is not */
	if (role == IMG_TTY_SLAVE && ioctl(p->fd, FIONREAD, &unread) == 0 && unread > 0)
		return ckpt_fail(c, -EAGAIN, "%s (%s): pty %u holds %d byte%s typed into its "
				 "master that the program on it has not read yet; they went through "
				 "echo and line editing and cannot be put back as they were: retry the "
				 "checkpoint once the program has read them%s",
				 p->what, p->path, index, unread, unread == 1 ? "" : "s", p->origin);
	return 0;
}

/* Up to cap bytes the master holds, without blocking (poll flushes what is in flight). */
static long drain(int fd, int pkt, unsigned char *buf, size_t cap, int *more)
{
	size_t n = 0;

	*more = 0;
	for (;;) {
		struct pollfd q = { .fd = fd, .events = POLLIN };
		long r;

		if (arch_sys3(SYS_poll, &q, 1, 0) <= 0 || !(q.revents & POLLIN))
			return (long)n;
		if (n + pkt >= cap) {
			*more = 1;
			return (long)n;
		}
		/* packet mode: each read starts with a byte of its own, TIOCPKT_DATA */
		r = arch_sys3(SYS_read, fd, buf + n, cap - n);
		if (r <= 0)
			return r < 0 && r != -EAGAIN && r != -EIO ? r : (long)n;
		if (pkt) {
			if (buf[n] != TIOCPKT_DATA)
				return -EPROTO;
			__builtin_memmove(buf + n, buf + n + 1, (size_t)r - 1);
			r--;
		}
		n += (size_t)r;
	}
}

int tty_pty_contents(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f)
{
	/*
	 * c->bounce below FD_INFO_OFF (16 KiB) is free once the FILE record is
	 * written (p->info lies above); a pty holds at most 4 KiB read and 8 KiB
	 * in flight.
	 */
	unsigned char *buf = c->bounce;
	struct img_pty_data d = { .file = f->id };
	unsigned index;
	int pkt = 0, more, r;
	long n;

	if (ioctl(p->fd, TTY_TIOCGPTN, &index) < 0)
		return 0;			/* not a master */
	ioctl(p->fd, TIOCGPKT, &pkt);
	n = drain(p->fd, !!pkt, buf, 16u << 10, &more);
	if (n < 0)
		return ckpt_fail(c, (int)n, "%s (%s): cannot read the output pty %u holds for its "
				 "master: %s%s", p->what, p->path, index,
				 n == -EPROTO ? "a packet-mode status change is pending" :
				 ckpt_strerror((int)n), p->origin);
	if (n == 0)
		return 0;
	/* the process must find them again, whatever happens to the checkpoint */
	if ((r = pty_put(p->fd, buf, (size_t)n)) < 0)
		return ckpt_fail(c, r, "%s (%s): %ld bytes of output read from pty %u could not be "
				 "put back (%s): the program lost them%s", p->what, p->path, n, index,
				 ckpt_strerror(r), p->origin);
	if (more)
		return ckpt_fail(c, -EAGAIN, "%s (%s): pty %u holds more than %u bytes of output its "
				 "master has not read: retry the checkpoint once the program has read "
				 "them%s", p->what, p->path, index, 16u << 10, p->origin);
	d.len = (uint32_t)n;
	img_write_record(&c->w, IMG_REC_PTY_DATA, &d, sizeof(d), buf, d.len);
	return c->w.error;
}
#endif

#ifdef FD_RESTORE
#include <sys/stat.h>
#include "restart/rst.h"

/* The MASTER FILE of pty index in s's files, or NULL. */
static struct rst_file *master_of(struct rst_state *s, unsigned index)
{
	for (int i = 0; i < s->nfiles; i++) {
		const struct img_file_tty *t = s->files[i].data;

		if (s->files[i].f.kind == IMG_FILE_TTY && t->role == IMG_TTY_MASTER &&
		    t->index == index)
			return &s->files[i];
	}
	return NULL;
}

static int has_slave(const struct rst_state *s, unsigned index)
{
	for (int i = 0; i < s->nfiles; i++) {
		const struct img_file_tty *t = s->files[i].data;

		if (s->files[i].f.kind == IMG_FILE_TTY && t->role == IMG_TTY_SLAVE &&
		    t->index == index)
			return 1;
	}
	return 0;
}

int tty_pty_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_tty *t = f->data;
	struct rst_file *m = master_of(s, t->index);
	char path[32];
	struct stat st;

	if (!m)
		return rst_problem(s, RST_EXIT_IMAGE, "corrupt: fd %d is the slave of pty %u, whose "
				   "master no FILE of the image is", f->first_fd, t->index);
	snprintf(path, sizeof(path), "/dev/pts/%u", t->index);
	if (m->fd < 0 && stat(path, &st) == 0)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: pty %u, which the process made, is taken "
				   "by another program now (%s exists); the process knows its number "
				   "(ptsname): restart once it is free", f->first_fd, t->index, path);
	return 0;
}

int tty_pty_data_load(struct rst_state *s, const struct img_rec *rec)
{
	struct rst_file *f = s->fdata_file ? rst_file_by_id(s, s->fdata_file) : NULL;
	const struct img_pty_data *d = img_get_pty_data(&s->r, rec, f ? &f->f : NULL,
							f ? f->data : NULL);

	if (!d) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	if (f->pty_data) {
		rst_error(s, "corrupt: a second PTY_DATA record for pty master FILE %u (offset %lu)",
			  d->file, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	if (!(f->pty_data = malloc(d->len)))
		abort();
	memcpy(f->pty_data, d + 1, d->len);
	f->pty_len = d->len;
	return 0;
}

/*
 * The output the master had not read, written into the new pair's slave
 * with output processing off (as the checkpoint put it back): the master
 * reads the very bytes.  0, or -1 reported.
 */
static int pty_refill(struct rst_state *s, const struct rst_file *f, int master)
{
	int r = pty_put(master, f->pty_data, f->pty_len);

	if (r < 0)
		rst_error(s, "fd %d: cannot give the pty made again its %u bytes of unread output: %s",
			  f->first_fd, f->pty_len, strerror(-r));
	return r < 0 ? -1 : 0;
}

/* A master of pty index: /dev/ptmx opened until the kernel gives that number. */
static int make_master(struct rst_state *s, const struct rst_file *f, unsigned index)
{
	int held[256], n = 0, fd = -1;
	unsigned got;

	while (n < (int)(sizeof(held) / sizeof(held[0]))) {
		fd = open("/dev/ptmx", (f->f.flags & ~(uint32_t)(O_CREAT | O_TRUNC | O_EXCL)) |
			  O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, TTY_TIOCGPTN, &got) < 0) {
			rst_error(s, "fd %d: cannot open /dev/ptmx for pty %u: %s", f->first_fd,
				  index, strerror(errno));
			fd = -1;
			break;
		}
		if (got == index)
			break;
		held[n++] = fd;
		fd = -1;
		if (got > index) {	/* it is taken */
			rst_error(s, "fd %d: pty %u, which the process made, is taken by another "
				  "program now: restart once it is free", f->first_fd, index);
			break;
		}
	}
	if (fd < 0 && n == (int)(sizeof(held) / sizeof(held[0])))
		rst_error(s, "fd %d: pty %u is more than %d numbers above the lowest free one",
			  f->first_fd, index, n);
	while (n > 0)
		close(held[--n]);
	return fd;
}

int tty_pty_open(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_tty *t = f->data;
	struct winsize ws = { t->ws_row, t->ws_col, t->ws_xpixel, t->ws_ypixel };
	struct rst_file *m;
	int fd, zero = 0, one = 1;
	char path[32];

	if (t->role == IMG_TTY_MASTER) {
		if ((fd = make_master(s, f, t->index)) < 0)
			return -1;
		ioctl(fd, TTY_TCSETS2, &t->termios);
		ioctl(fd, TIOCSWINSZ, &ws);
		if (t->flags & IMG_TTY_PKT)
			ioctl(fd, TIOCPKT, &one);
		/* its slave comes next (it must open); locked again only if none is held */
		if ((t->flags & IMG_TTY_LOCKED) && !has_slave(s, t->index)) {
			ioctl(fd, TIOCSPTLCK, &one);
			return fd;
		}
		ioctl(fd, TIOCSPTLCK, &zero);
		if (f->pty_len && pty_refill(s, f, fd) < 0) {
			close(fd);
			return -1;
		}
		/*
		 * Unlocked, and no process holds its slave: the slave was opened
		 * and closed again (the program that ran on it has exited), so the
		 * master reads EIO: opened and closed here too.
		 */
		if (!has_slave(s, t->index)) {
			int sl;

			snprintf(path, sizeof(path), "/dev/pts/%u", t->index);
			if ((sl = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0)
				close(sl);
		}
		return fd;
	}
	/* the slave: its master first, made here if it is not yet (the FILEs' order) */
	if (!(m = master_of(s, t->index))) {
		rst_error(s, "fd %d: pty %u has no master in the image", f->first_fd, t->index);
		return -1;
	}
	if (m->fd < 0) {
		int base = rst_fd_base(s), lifted;

		if ((m->fd = tty_pty_open(s, m)) < 0)
			return -1;
		/* above every number the image uses, as the driver lifts what it opens */
		if (m->fd < base && (lifted = fcntl(m->fd, F_DUPFD_CLOEXEC, base)) >= 0) {
			close(m->fd);
			m->fd = lifted;
		}
	}
	snprintf(path, sizeof(path), "/dev/pts/%u", t->index);
	fd = open(path, (f->f.flags & ~(uint32_t)(O_CREAT | O_TRUNC | O_EXCL)) | O_NOCTTY |
		  O_CLOEXEC);
	if (fd < 0) {
		rst_error(s, "fd %d: cannot open %s, the slave of the pty made again: %s",
			  f->first_fd, path, strerror(errno));
		return -1;
	}
	ioctl(fd, TTY_TCSETS2, &t->termios);
	return fd;
}
#endif
