/*
 * fd_inherit.c - fds 0, 1 and 2 that are a pipe or a socket whose other
 * end is outside the image: they lead outside the process (the other end
 * of a pipeline), so the restarted process gets ckpt-restart's own fd of
 * the same number (docs/USAGE.md, "Standard input and output"), as a
 * shell job restarted by DMTCP or `criu restore --shell-job` does.  The
 * image keeps what the fd was (its link text, "pipe:[123]", /dev/pts/3)
 * for ckpt-info and for the note ckpt-save prints.
 *
 * A terminal at 0-2 is fd_tty.c's (older images hold INHERIT for it, and
 * still restart so).  A regular file or /dev/null at 0-2 is not inherited: it is reopened
 * like any fd (fd_reg.c, fd_chr.c), since output redirected to a file is
 * part of the process's state.  `ckpt-restart --inherit-fd N` overrides
 * that per fd (restart/restart_fds.c, which places inherited fds).
 */
#include <fcntl.h>
#include <stdio.h>
#include "fds/fd_kind.h"

const struct fd_kind_info fd_inherit_info = { IMG_FILE_INHERIT, "inherited", NULL };

#ifdef FD_SAVE
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

static int inherit_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return p->fd >= 0 && p->fd <= 2 && (S_ISFIFO(p->st.st_mode) || S_ISSOCK(p->st.st_mode));
}

static void inherit_note(const struct fd_probe *p, char *buf, size_t len)
{
	ckpt_fmt(buf, len, "fd %d (%s) will be ckpt-restart's own fd %d", p->fd, p->path, p->fd);
}

const struct fd_save_ops fd_inherit_save = { .kind = IMG_FILE_INHERIT, .match = inherit_match,
					     .note = inherit_note };
#endif

#ifdef FD_RESTORE
/* Nothing to make: restart_fds.c takes ckpt-restart's fd for it. */
const struct fd_restore_ops fd_inherit_restore = { .kind = IMG_FILE_INHERIT };
#endif
