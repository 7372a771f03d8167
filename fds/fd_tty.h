/*
 * fd_tty.h - what the terminal kind's files share (fds/fd_tty.c: the
 * kind; fd_tty_pty.c: ptys the image made itself; fd_tty_job.c: job
 * control at restart).
 */
#ifndef CKPT_FD_TTY_H
#define CKPT_FD_TTY_H

#include <sys/ioctl.h>
#include "fds/fd_kind.h"

/* The kernel's TCGETS2/TCSETS2 (asm/ioctls.h: not includable beside <termios.h>). */
#define TTY_TCGETS2	_IOR('T', 0x2A, struct img_termios)
#define TTY_TCSETS2	_IOW('T', 0x2B, struct img_termios)
#define TTY_TIOCGDEV	_IOR('T', 0x32, unsigned int)
#define TTY_TIOCGPTN	_IOR('T', 0x30, unsigned int)

#ifdef FD_SAVE
struct ckpt_ctx;
/* Field 7 of /proc/PID/stat (0: this process): the controlling terminal's device, 0: none. */
unsigned tty_stat_nr(int pid);
/* The image's terminal: the controlling terminal of the process, or of the tree's root; 0: none. */
unsigned tty_outer_dev(struct ckpt_ctx *c);
/* Whether a process of the image holds the master of pty index (cost: a walk of their fds). */
int tty_pty_mine(struct ckpt_ctx *c, unsigned index);
/*
 * A pty the image made (role IMG_TTY_MASTER or IMG_TTY_SLAVE, its
 * number index): 0, or the refusal (its master outside the image, bytes
 * in flight).
 */
int tty_pty_check(struct ckpt_ctx *c, const struct fd_probe *p, uint32_t role, unsigned index);
#endif

#ifdef FD_RESTORE
struct rst_state;
/* MASTER and SLAVE FILEs: the environment check, and the description. */
int tty_pty_verify(struct rst_state *s, const struct rst_file *f);
int tty_pty_open(struct rst_state *s, const struct rst_file *f);
#endif

#endif
