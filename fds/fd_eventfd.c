/*
 * fd_eventfd.c - eventfds (eventfd(2)): a 64-bit counter a write adds to
 * and a read takes (all of it, or 1 with EFD_SEMAPHORE).  Saved: the
 * counter and EFD_SEMAPHORE from fdinfo ("eventfd-count", hex, and
 * "eventfd-semaphore", Linux 6.6), O_NONBLOCK from the file's flags
 * (EFD_CLOEXEC is the fd's FD_CLOEXEC, in the FD record).  Made again by
 * eventfd(0, flags) and one write of the counter (eventfd() takes an
 * unsigned int, the counter may be larger).  "eventfd-id" is the kernel's
 * name for the object, not the program's: not kept.
 *
 * One open file description per eventfd (there is no path to open it
 * again), so an eventfd shared by dup() or fork(), in one process or
 * across a tree, is one FILE: the counter is one object again.
 *
 * Refused: a kernel that does not show "eventfd-semaphore" (before 6.6):
 * the mode cannot be read without changing the counter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

#define EVENTFD_OFLAGS	(O_ACCMODE | O_NONBLOCK)

static int eventfd_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	const struct img_file_eventfd *d = data;

	if (f->data_len != sizeof(*d) || d->reserved || (d->flags & ~IMG_EVENTFD_SEMAPHORE) ||
	    d->count == UINT64_MAX || (f->flags & ~(uint32_t)EVENTFD_OFLAGS) ||
	    (f->flags & O_ACCMODE) != O_RDWR) {
		snprintf(err, len, "%u bytes of kind data, flags %#o, eventfd flags %#x",
			 f->data_len, f->flags, f->data_len == sizeof(*d) ? d->flags : 0);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_eventfd_info = { IMG_FILE_EVENTFD, "eventfd", eventfd_valid };

#ifdef FD_SAVE
#include "fds/fd_ev.h"
#include "libckpt/ckpt.h"

static int eventfd_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return !__builtin_strcmp(p->path, "anon_inode:[eventfd]");
}

static int eventfd_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	uint64_t count;
	int sem;

	if (fd_ev_eventfd(p->info, &count, &sem) < 0)
		return ckpt_fail(c, -EINVAL, "fd %d: an eventfd whose fdinfo shows no counter "
				 "(\"eventfd-count\"); it cannot be saved%s", p->fd, p->origin);
	if (sem < 0)
		return ckpt_fail(c, -ENOTSUP, "fd %d: an eventfd, and this kernel does not show "
				 "whether it counts as a semaphore (EFD_SEMAPHORE: fdinfo "
				 "\"eventfd-semaphore\", Linux 6.6); it cannot be saved here%s",
				 p->fd, p->origin);
	return 0;
}

static int eventfd_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
			void *data, size_t cap)
{
	struct img_file_eventfd d = { 0 };
	int sem;

	if (fd_ev_eventfd(p->info, &d.count, &sem) < 0 || sem < 0)
		return eventfd_check(c, p);
	d.flags = sem ? IMG_EVENTFD_SEMAPHORE : 0;
	f->flags = (p->flags & O_NONBLOCK) | O_RDWR;
	__builtin_memcpy(data, &d, sizeof(d));
	return sizeof(d);
}

const struct fd_save_ops fd_eventfd_save = { .kind = IMG_FILE_EVENTFD, .match = eventfd_match,
					     .check = eventfd_check, .save = eventfd_save };
#endif

#ifdef FD_RESTORE
#include <sys/eventfd.h>
#include <unistd.h>
#include "restart/rst.h"

static int eventfd_open(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_eventfd *d = f->data;
	int flags = EFD_CLOEXEC | ((f->f.flags & O_NONBLOCK) ? EFD_NONBLOCK : 0) |
		    ((d->flags & IMG_EVENTFD_SEMAPHORE) ? EFD_SEMAPHORE : 0);
	int fd = eventfd(0, flags);

	if (fd < 0) {
		rst_error(s, "fd %d: cannot make the eventfd again: %s", f->first_fd,
			  strerror(errno));
		return -1;
	}
	/* the counter is below 2^64 - 1 (checked): one write, which cannot block */
	if (d->count && write(fd, &d->count, sizeof(d->count)) != sizeof(d->count)) {
		rst_error(s, "fd %d: cannot set the eventfd's counter to %llu: %s", f->first_fd,
			  (unsigned long long)d->count, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

const struct fd_restore_ops fd_eventfd_restore = { .kind = IMG_FILE_EVENTFD,
						   .open = eventfd_open };
#endif
