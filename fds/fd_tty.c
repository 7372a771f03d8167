/*
 * fd_tty.c - terminals: a program on a terminal (a pty whose master is
 * outside the image: an xterm's, sshd's, tmux's, or a virtual console)
 * is restarted on the terminal of the ckpt-restart that runs it, as a
 * shell job restarted by `criu restore --shell-job` or by DMTCP is.
 *
 * What is saved, for each open file description of the terminal (fds
 * 0-2, a dup at fd 10, bash's fd 255, /dev/tty opened by the program):
 * its termios (TCGETS2: readline's raw mode, an editor's), its window
 * size, which terminal it is (device, pty or console), whether it is the
 * process's controlling terminal, and then its foreground process group
 * and session.  A restart (the restore half below):
 *
 *  - opens each description again on ckpt-restart's terminal (the first
 *    of its fds 0-2 that is one, reopened through /proc/self/fd: a
 *    description of the process's own, with its own O_NONBLOCK), /dev/tty
 *    included (it comes back as a description of the terminal itself:
 *    its /proc link names /dev/pts/N, not /dev/tty);
 *  - sets the saved termios on that terminal;
 *  - leaves the terminal's window size alone (the terminal emulator owns
 *    it) but, when it is not the saved one, the process's foreground
 *    group gets SIGWINCH once it runs, as after a resize (a terminal of
 *    size 0x0, never set, gets the saved size instead);
 *  - job control: fds/fd_tty_job.c (process group, foreground group,
 *    the session's controlling terminal).
 *
 * A pty the image made itself (its master is held by a process of the
 * image: script, expect, a multiplexer) is not this: fds/fd_tty_pty.c.
 *
 * Refused at the checkpoint, by name: a terminal that is not the
 * process's (a tree's root's) controlling terminal (a second terminal;
 * without one, a terminal at an fd above 2), the system console
 * (/dev/console), serial lines and every other tty driver (their line
 * settings and the device itself cannot be made again on another
 * terminal).  Refused at restart: no
 * terminal at ckpt-restart's fds 0-2, and a virtual console's process
 * where ckpt-restart's terminal is not a virtual console.
 *
 * The image holds one terminal: fds 0-2 on a terminal without a
 * controlling terminal (a daemon's leftovers) must all be on one, which
 * is not checked across fds; they come back on ckpt-restart's anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "fds/fd_kind.h"
#include "fds/fd_tty.h"

static int tty_valid(const struct img_file *f, const char *path, const void *data, char *err,
		     size_t len)
{
	const struct img_file_tty *t = data;

	if (f->data_len != sizeof(*t) || !S_ISCHR(f->mode)) {
		snprintf(err, len, "%u bytes of kind data, mode %#o", f->data_len, f->mode);
		return -1;
	}
	int pair = t->role == IMG_TTY_MASTER || t->role == IMG_TTY_SLAVE;

	if (t->role < IMG_TTY_TERMINAL || t->role > IMG_TTY_SLAVE || t->reserved ||
	    (t->tclass != IMG_TTY_PTY && t->tclass != IMG_TTY_VT) || (t->flags & ~IMG_TTY_FLAGS) ||
	    t->fg_pgid < 0 || t->sid < 0 || (!(t->flags & IMG_TTY_CTTY) && (t->fg_pgid || t->sid)) ||
	    (t->role == IMG_TTY_DEVTTY && !(t->flags & IMG_TTY_CTTY)) ||
	    (t->role == IMG_TTY_MASTER && (t->flags & IMG_TTY_CTTY)) ||
	    (t->role != IMG_TTY_MASTER && (t->flags & (IMG_TTY_PKT | IMG_TTY_LOCKED))) ||
	    (t->tclass == IMG_TTY_VT && (pair || t->major != 4 || t->minor > 63)) ||
	    (t->tclass == IMG_TTY_PTY && (t->major < 136 || t->major > 143)) ||
	    (pair ? t->index != t->minor + (t->major - 136) * 256 : t->index != 0)) {
		snprintf(err, len, "role %u, class %u, flags %#x, device %u:%u, index %u, foreground "
			 "group %d, session %d", t->role, t->tclass, t->flags, t->major, t->minor,
			 t->index, t->fg_pgid, t->sid);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_tty_info = { IMG_FILE_TTY, "terminal", tty_valid };

#ifdef FD_SAVE
#include <sys/ioctl.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

static int tty_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	struct img_termios t;

	/* TCGETS2 answers for every tty driver: a system call, signal safe */
	return S_ISCHR(p->st.st_mode) && !(p->flags & O_PATH) && ioctl(p->fd, TTY_TCGETS2, &t) == 0;
}

/* The terminal behind fd (TIOCGDEV: /dev/tty's is the controlling terminal), 0: unknown. */
static unsigned tty_dev(const struct fd_probe *p)
{
	unsigned dev = 0;

	if (ioctl(p->fd, TTY_TIOCGDEV, &dev) < 0)
		return (unsigned)p->st.st_rdev;
	return dev;
}

/*
 * What p is (enum img_tty_role) and its terminal's device: a pty master
 * (TIOCGPTN answers), /dev/tty, the image's terminal, or the slave of a
 * pty the image made (a pty slave that is not the image's terminal).
 */
static uint32_t tty_role(struct ckpt_ctx *c, const struct fd_probe *p, unsigned *dev,
			 unsigned *index)
{
	unsigned outer = tty_outer_dev(c);

	*index = 0;
	*dev = tty_dev(p);
	if (ioctl(p->fd, TTY_TIOCGPTN, index) == 0) {
		*dev = makedev(136, *index);
		return IMG_TTY_MASTER;
	}
	if (major(p->st.st_rdev) == 5 && minor(p->st.st_rdev) == 0)
		return IMG_TTY_DEVTTY;
	if (major(*dev) >= 136 && major(*dev) <= 143 && *dev != outer) {
		unsigned n = minor(*dev) + (major(*dev) - 136) * 256;

		if (tty_pty_mine(c, n)) {
			*index = n;
			return IMG_TTY_SLAVE;
		}
	}
	return IMG_TTY_TERMINAL;
}

static int tty_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	unsigned dev, index, ctty = tty_stat_nr(0), outer = tty_outer_dev(c);
	uint32_t role = tty_role(c, p, &dev, &index);
	unsigned ma = major(dev), mi = minor(dev);

	if (role == IMG_TTY_MASTER || role == IMG_TTY_SLAVE)
		return tty_pty_check(c, p, role, index);
	if (ma == 5 && mi == 1)
		return ckpt_fail(c, -ENOTSUP, "%s (%s) is the system console: it cannot be "
				 "restarted on another terminal; run the program on a pty or a "
				 "virtual console%s", p->what, p->path, p->origin);
	if (!(ma >= 136 && ma <= 143) && !(ma == 4 && mi < 64))
		return ckpt_fail(c, -ENOTSUP, "%s (%s) is terminal device %u:%u, a serial line or "
				 "another tty driver: only ptys and virtual consoles are restarted "
				 "(on ckpt-restart's terminal); close it before the checkpoint%s",
				 p->what, p->path, ma, mi, p->origin);
	if (outer && dev != outer)
		return ckpt_fail(c, -ENOTSUP, "%s (%s) is a terminal that is not the controlling "
				 "terminal of the %s (device %u:%u): a restart brings back one "
				 "terminal, that one, on ckpt-restart's; close it before the "
				 "checkpoint%s", p->what, p->path,
				 ckpt_fds_alone(c) ? "process" : "tree's root", major(outer),
				 minor(outer), p->origin);
	if (!outer && (p->fd < 0 || p->fd > 2))
		return ckpt_fail(c, -ENOTSUP, "%s (%s) is a terminal, and the %s has no "
				 "controlling terminal: only one at fds 0-2 is restarted (on "
				 "ckpt-restart's terminal); close it before the checkpoint%s",
				 p->what, p->path, ckpt_fds_alone(c) ? "process" : "tree's root",
				 p->origin);
	if (ctty && ctty == dev && getsid(0) == getpid() && !ckpt_fds_alone(c) &&
	    ckpt_fds_coord(c) != getpid())
		return ckpt_fail(c, -ENOTSUP, "%s (%s): process %d leads a session of its own with "
				 "this terminal as its controlling terminal, inside the tree: only "
				 "the tree's root may (a restart gives one session ckpt-restart's "
				 "terminal)%s", p->what, p->path, getpid(), p->origin);
	if (ctty && ctty == dev && getsid(0) == getpid())
		c->hdr_flags |= IMG_F_CTTY;
	return 0;
}

static int tty_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f, void *data,
		    size_t cap)
{
	struct img_file_tty t = { 0 };
	struct winsize ws = { 0 };
	unsigned dev, ctty = tty_stat_nr(0);
	int v;

	t.role = tty_role(c, p, &dev, &t.index);
	t.major = major(dev);
	t.minor = minor(dev);
	t.tclass = t.major == 4 ? IMG_TTY_VT : IMG_TTY_PTY;
	if (ctty && dev == ctty && t.role != IMG_TTY_MASTER) {
		t.flags |= IMG_TTY_CTTY;
		if (ioctl(p->fd, TIOCGPGRP, &v) == 0 && v > 0)
			t.fg_pgid = v;
		if (ioctl(p->fd, TIOCGSID, &v) == 0 && v > 0)
			t.sid = v;
	}
	if (t.role == IMG_TTY_MASTER) {
		if (ioctl(p->fd, TIOCGPKT, &v) == 0 && v)
			t.flags |= IMG_TTY_PKT;
		if (ioctl(p->fd, TIOCGPTLCK, &v) == 0 && v)
			t.flags |= IMG_TTY_LOCKED;
	}
	if (ioctl(p->fd, TIOCGWINSZ, &ws) == 0) {
		t.ws_row = ws.ws_row;
		t.ws_col = ws.ws_col;
		t.ws_xpixel = ws.ws_xpixel;
		t.ws_ypixel = ws.ws_ypixel;
	}
	if (ioctl(p->fd, TTY_TCGETS2, &t.termios) < 0)
		return ckpt_fail(c, -errno, "%s (%s): cannot read its terminal settings: %s",
				 p->what, p->path, ckpt_strerror(-errno));
	(void)cap;
	__builtin_memcpy(data, &t, sizeof(t));
	return sizeof(t);
}

/* (the note cannot tell the image's terminal from a pty the image made: ckpt-info can) */
static void tty_note(const struct fd_probe *p, char *buf, size_t len)
{
	unsigned n;

	if (ioctl(p->fd, TTY_TIOCGPTN, &n) == 0)
		ckpt_fmt(buf, len, "fd %d is the master of pty %u, made again", p->fd, n);
	else
		ckpt_fmt(buf, len, "fd %d (%s): a terminal (ckpt-info says where it restarts)", p->fd, p->path);
}

const struct fd_save_ops fd_tty_save = { .kind = IMG_FILE_TTY, .match = tty_match,
					 .check = tty_check, .save = tty_save, .note = tty_note };
#endif

#ifdef FD_RESTORE
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "restart/rst.h"

struct rst_tty rst_tty;

int rst_tty_outer(void)
{
	struct img_termios t;

	for (int fd = 0; fd <= 2; fd++)
		if (ioctl(fd, TTY_TCGETS2, &t) == 0)
			return fd;
	return -1;
}

static int tty_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_tty *t = f->data;
	int fd = rst_tty_outer();
	struct stat st;

	if (t->role == IMG_TTY_MASTER || t->role == IMG_TTY_SLAVE)
		return tty_pty_verify(s, f);
	if (fd < 0)
		return rst_problem(s, RST_EXIT_ENV, "fd %d was on a terminal (%s), and ckpt-restart "
				   "has none at its fds 0-2 to restart it on: run ckpt-restart on a "
				   "terminal (a pty: script -qc 'ckpt-restart IMAGE' /dev/null), or "
				   "give the fd with --inherit-fd", f->first_fd, f->path);
	if (t->tclass == IMG_TTY_VT &&
	    (fstat(fd, &st) < 0 || major(st.st_rdev) != 4 || minor(st.st_rdev) > 63))
		return rst_problem(s, RST_EXIT_ENV, "fd %d was on virtual console %s, and "
				   "ckpt-restart's terminal (fd %d) is not one: restart it on a "
				   "virtual console", f->first_fd, f->path, fd);
	return 0;
}

/* Once per restart: the saved termios on the terminal, the size compared (SIGWINCH). */
static void tty_settle(int fd, const struct img_file_tty *t)
{
	struct winsize ws;

	if (rst_tty.settled)
		return;
	rst_tty.settled = 1;
	ioctl(fd, TTY_TCSETS2, &t->termios);
	if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return;
	if (!ws.ws_row && !ws.ws_col && (t->ws_row || t->ws_col)) {
		struct winsize saved = { t->ws_row, t->ws_col, t->ws_xpixel, t->ws_ypixel };

		ioctl(fd, TIOCSWINSZ, &saved);
	} else if (ws.ws_row != t->ws_row || ws.ws_col != t->ws_col) {
		rst_tty.resized = 1;
	}
}

static int tty_open(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_tty *t = f->data;
	int from = rst_tty_outer(), fd;
	char self[32];
	struct rst_file dev = *f;

	if (t->role == IMG_TTY_MASTER || t->role == IMG_TTY_SLAVE)
		return tty_pty_open(s, f);
	if (from < 0) {
		rst_error(s, "fd %d: ckpt-restart has no terminal to restart %s on", f->first_fd,
			  f->path);
		return -1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", from);
	dev.path = self;
	dev.f.flags &= ~(uint32_t)(O_CREAT | O_TRUNC | O_EXCL | O_DIRECTORY | O_NOFOLLOW);
	if ((fd = rst_fd_reopen(s, &dev, 0, 0)) < 0)
		return -1;
	tty_settle(fd, t);
	return fd;
}

const struct fd_restore_ops fd_tty_restore = { .kind = IMG_FILE_TTY, .verify = tty_verify,
					       .open = tty_open };
#endif
