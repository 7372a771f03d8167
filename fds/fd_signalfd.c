/*
 * fd_signalfd.c - signalfds (signalfd(2)): an fd a read of which takes
 * the pending signals of its mask.  Saved: the mask (fdinfo "sigmask")
 * and O_NONBLOCK (SFD_CLOEXEC is the FD record's FD_CLOEXEC).  The
 * signals it would read are the process's and the reading thread's
 * pending signals, which the image holds already (SIGINFO records): the
 * restarted process has them pending again, so its signalfd reads them.
 *
 * libckpt's reserved signals are never in the mask (the signalfd wrapper,
 * wrappers/wrap_fd.c, takes them out); one the kernel shows anyway (a
 * signalfd made by a raw system call) is left out of the image, as the
 * wrapper would have.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

#define SIGNALFD_OFLAGS	(O_ACCMODE | O_NONBLOCK)

static int signalfd_valid(const struct img_file *f, const char *path, const void *data,
			  char *err, size_t len)
{
	if (f->data_len != sizeof(struct img_file_signalfd) ||
	    (f->flags & ~(uint32_t)SIGNALFD_OFLAGS) || (f->flags & O_ACCMODE) != O_RDWR) {
		snprintf(err, len, "%u bytes of kind data, flags %#o", f->data_len, f->flags);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_signalfd_info = { IMG_FILE_SIGNALFD, "signalfd", signalfd_valid };

#ifdef FD_SAVE
#include "fds/fd_ev.h"
#include "libckpt/ckpt.h"
#include "shim/shim.h"

static int signalfd_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return !__builtin_strcmp(p->path, "anon_inode:[signalfd]");
}

static int signalfd_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	uint64_t mask;

	if (fd_ev_signalfd(p->info, &mask) < 0)
		return ckpt_fail(c, -EINVAL, "fd %d: a signalfd whose fdinfo shows no \"sigmask\"; "
				 "it cannot be saved%s", p->fd, p->origin);
	return 0;
}

static int signalfd_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
			 void *data, size_t cap)
{
	struct img_file_signalfd d;

	if (fd_ev_signalfd(p->info, &d.mask) < 0)
		return signalfd_check(c, p);
	for (int sig = 1; sig <= 64; sig++)
		if (shim_reserved_signal(sig))
			d.mask &= ~(UINT64_C(1) << (sig - 1));
	f->flags = (p->flags & O_NONBLOCK) | O_RDWR;
	__builtin_memcpy(data, &d, sizeof(d));
	return sizeof(d);
}

const struct fd_save_ops fd_signalfd_save = { .kind = IMG_FILE_SIGNALFD,
					      .match = signalfd_match, .check = signalfd_check,
					      .save = signalfd_save };
#endif

#ifdef FD_RESTORE
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "restart/rst.h"

static int signalfd_open(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_signalfd *d = f->data;
	uint64_t m = d->mask;
	int fd;

	/* the raw call: libc's sigaddset refuses the signals it keeps (32-34) */
	fd = syscall(SYS_signalfd4, -1, &m, sizeof(m),
		     SFD_CLOEXEC | ((f->f.flags & O_NONBLOCK) ? SFD_NONBLOCK : 0));
	if (fd < 0)
		rst_error(s, "fd %d: cannot make the signalfd again (mask %#llx): %s", f->first_fd,
			  (unsigned long long)d->mask, strerror(errno));
	return fd;
}

const struct fd_restore_ops fd_signalfd_restore = { .kind = IMG_FILE_SIGNALFD,
						    .open = signalfd_open };
#endif
