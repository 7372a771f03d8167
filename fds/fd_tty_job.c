/*
 * fd_tty_job.c - job control on the terminal a process is restarted on
 * (ckpt-restart's; fds/fd_tty.c makes the descriptions): its process
 * group, the terminal's foreground group, and its session's controlling
 * terminal.  Restore half only.
 *
 * The session.  A process (a tree's root) that led its session with its
 * terminal as the controlling terminal (an interactive shell started by
 * a terminal emulator, sshd or a pty driver: IMG_F_CTTY) comes back
 * leading a session again only where the terminal can be its:
 *
 *  - handover: ckpt-restart itself leads its session on that terminal
 *    (it was started by a terminal emulator, `script -c`, `setsid -c`, a
 *    pty driver).  It gives the terminal up (TIOCNOTTY, before forking;
 *    the SIGHUP that sends its own foreground group is ignored) and the
 *    restarted process, after setsid(), takes it (TIOCSCTTY): getsid()
 *    and getpgrp() return its own pid, as before.  ckpt-restart then
 *    waits without a terminal, as the terminal emulator's child would.
 *  - shell job (every other case: ckpt-restart run from an interactive
 *    shell, whose session owns the terminal): the process joins
 *    ckpt-restart's session, as `criu restore --shell-job` and DMTCP do;
 *    it leads its process group again and is the foreground group if it
 *    was.  getsid() returns ckpt-restart's session (the shell's), not the
 *    process's pid; getpgrp() its own pid.  Taking the terminal from the
 *    shell's session would need CAP_SYS_ADMIN (TIOCSCTTY's steal) and
 *    would leave the user's shell without its terminal.
 *
 * The process group.  A process on its terminal that led its group
 * leads one again (setpgid(0, 0)): a shell compares getpgrp() with the
 * terminal's foreground group and hands the terminal back to its own
 * group after a job; the group must exist.  It becomes the foreground
 * group when it was and ckpt-restart's group is foreground now (run in
 * the background, ckpt-restart does not take the terminal from whoever
 * has it).  A tree does the same for its groups in restart_tree.c
 * (member_main, give_terminal).
 *
 * SIGWINCH: when the terminal's size is not the saved one
 * (fds/fd_tty.c), the foreground group gets it before it runs; it is
 * pending (every signal is blocked until the restorer returns) and
 * reaches the program's handler as soon as it runs.
 */
#include "fds/fd_kind.h"

#ifdef FD_RESTORE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "restart/rst.h"

void rst_tty_prepare(struct rst_state *s, int ctty_leader)
{
	int fd = rst_tty_outer();
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	if (fd < 0)
		return;
	rst_tty.outer_fg = tcgetpgrp(fd) == getpgrp();
	if (!ctty_leader || s->foreign || s->pidns)
		return;
	if (getsid(0) != getpid() || tcgetsid(fd) != getpid()) {
		rst_tty.shell_job = 1;
		return;
	}
	/* the session leader's TIOCNOTTY: SIGHUP and SIGCONT to its foreground group, ours */
	sigaction(SIGHUP, &ign, &old);
	if (ioctl(fd, TIOCNOTTY) == 0)
		rst_tty.handover = 1;
	else
		rst_tty.shell_job = 1;
	sigaction(SIGHUP, &old, NULL);
}

/* Whether f is a description of the image's terminal (not of a pty the image made). */
static int outer(const struct rst_file *f)
{
	const struct img_file_tty *t = f->data;

	return f->f.kind == IMG_FILE_TTY &&
	       (t->role == IMG_TTY_TERMINAL || t->role == IMG_TTY_DEVTTY);
}

int rst_tty_fd(const struct rst_file *files, int nfiles)
{
	for (int i = 0; i < nfiles; i++)
		if (outer(&files[i]) && files[i].fd >= 0)
			return files[i].fd;
	return -1;
}

const struct rst_file *rst_tty_pty_ctty(const struct rst_state *sec, const struct rst_file *files,
					int nfiles)
{
	for (int i = 0; i < sec->nfds; i++)
		for (int j = 0; j < nfiles; j++) {
			const struct img_file_tty *t = files[j].data;

			if (files[j].f.id == sec->fds[i].file && files[j].f.kind == IMG_FILE_TTY &&
			    t->role == IMG_TTY_SLAVE && (t->flags & IMG_TTY_CTTY) &&
			    files[j].fd >= 0)
				return &files[j];
		}
	return NULL;
}

int rst_tty_take(struct rst_state *s, const struct rst_file *files, int nfiles)
{
	int fd = rst_tty_fd(files, nfiles);

	if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) == 0)
		return 0;
	rst_error(s, "process %d cannot take the terminal as its session's controlling "
		  "terminal again: %s", s->proc.pid, strerror(errno));
	return -1;
}

/* The saved state of the process's controlling terminal (a TTY FILE it has), or NULL. */
static const struct img_file_tty *saved_ctty(const struct rst_state *s, int *fd)
{
	for (int i = 0; i < s->nfiles; i++) {
		const struct rst_file *f = &s->files[i];

		if (outer(f) && f->placed >= 0 &&
		    (((const struct img_file_tty *)f->data)->flags & IMG_TTY_CTTY)) {
			*fd = f->placed;
			return f->data;
		}
	}
	return NULL;
}

int rst_tty_job(struct rst_state *s)
{
	const struct img_file_tty *t;
	int fd = -1, pid = s->proc.pid;

	if (s->tree || !(t = saved_ctty(s, &fd)))
		return 0;
	if (rst_tty.handover && s->proc.sid == pid) {
		if (setsid() < 0 || ioctl(fd, TIOCSCTTY, 0) < 0) {
			rst_error(s, "process %d cannot lead its session on the terminal again: %s",
				  pid, strerror(errno));
			return RST_EXIT_ENV;
		}
	} else if (s->proc.pgid == pid && getpgrp() != pid && setpgid(0, 0) < 0) {
		rst_error(s, "process %d cannot lead its process group again: %s", pid,
			  strerror(errno));
		return RST_EXIT_ENV;
	}
	/* SIGTTOU is blocked (the whole restore runs so): a background group may set it */
	if (t->fg_pgid == s->proc.pgid && getpgrp() == pid && rst_tty.outer_fg)
		tcsetpgrp(fd, pid);
	if (rst_tty.resized && tcgetpgrp(fd) == getpgrp())
		kill(pid, SIGWINCH);
	return 0;
}
#endif
