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
 * Bytes in flight are refused, by their count: what the slave side wrote
 * and the master has not read (FIONREAD on the master), what was typed
 * into the master and the slave has not read (FIONREAD on a slave the
 * image holds).  Reading them at the checkpoint would need writing them
 * back through the line discipline (echo, canonical processing, output
 * processing apply again), which changes them; a program that drains its
 * pty (script, expect) leaves none for long: the refusal says retry.  A
 * partial line in canonical mode is not counted by FIONREAD: it is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "fds/fd_tty.h"

#ifdef FD_SAVE
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

	if (ioctl(p->fd, FIONREAD, &unread) == 0 && unread > 0)
		return ckpt_fail(c, -EAGAIN, "%s (%s): pty %u holds %d byte%s %s has not read yet; "
				 "they cannot be saved without going through the line discipline "
				 "again: retry the checkpoint once the program has read them%s",
				 p->what, p->path, index, unread, unread == 1 ? "" : "s",
				 role == IMG_TTY_MASTER ? "its master" : "its slave", p->origin);
	return 0;
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
