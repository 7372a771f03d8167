/*
 * fd_pidfd.c - pidfds (pidfd_open, clone's CLONE_PIDFD) of the process
 * itself or of one of its threads: after a restart the process has its
 * pid and its threads their tids again, so a pidfd opened on that pid by
 * the restart is the same thing for the program: poll() on it waits for
 * the process's (or thread's) end, pidfd_send_signal() and pidfd_getfd()
 * reach it.  PIDFD_NONBLOCK (O_NONBLOCK in the file's flags) and
 * PIDFD_THREAD (O_EXCL, Linux 6.9) are kept.
 *
 * Made by ckpt-restart (its child is the restarted process) for the
 * process and its main thread; for another thread by the restorer, once
 * that thread exists (restart_fds.c leaves the fd's number free,
 * restorer.c step 28).
 *
 * Refused at save: a pidfd of another process (nothing else is saved: a
 * restart could only open one on whatever process has that pid then), or
 * of a process that has exited.  The pid is the one fdinfo shows
 * ("Pid:"), in the process's own pid namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

#define PIDFD_FLAGS	(O_NONBLOCK | O_EXCL)	/* PIDFD_NONBLOCK, PIDFD_THREAD */

static int pidfd_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	const struct img_file_pidfd *d = data;

	if (f->data_len != sizeof(*d) || d->reserved || d->pid <= 0 ||
	    (f->flags & ~(uint32_t)(PIDFD_FLAGS | O_ACCMODE)) || (f->flags & O_ACCMODE) != O_RDWR) {
		snprintf(err, len, "%u bytes of kind data, pid %d, flags %#o", f->data_len,
			 f->data_len == sizeof(*d) ? d->pid : 0, f->flags);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_pidfd_info = { IMG_FILE_PIDFD, "pidfd", pidfd_valid };

#ifdef FD_SAVE
#include <sys/syscall.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

static int pidfd_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	/* "anon_inode:[pidfd]"; a kernel that names pidfs files otherwise: "pidfd:[N]" */
	return !(p->flags & O_PATH) && (!__builtin_strcmp(p->path, "anon_inode:[pidfd]") ||
					ckpt_memeq(p->path, "pidfd:", 6));
}

/* The "Pid:" of the pidfd's fdinfo: its process, -1 if it has exited, 0 if unknown. */
static int pidfd_pid(int fd)
{
	char name[64], buf[512];
	const char *s;

	ckpt_fmt(name, sizeof(name), "/proc/self/fdinfo/%d", fd);
	if (ckpt_read_file(name, buf, sizeof(buf)) < 0 || !(s = __builtin_strstr(buf, "\nPid:")))
		return 0;
	s += 5;
	while (*s == ' ' || *s == '\t')
		s++;
	return (int)ckpt_parse_dec(&s);
}

static int pidfd_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	int pid = pidfd_pid(p->fd), self = getpid();

	if (pid == self)
		return 0;
	/* a thread of ours (a pidfd of a thread other than the leader is PIDFD_THREAD) */
	if (pid > 0 && (p->flags & O_EXCL) && syscall(SYS_tgkill, self, pid, 0) == 0)
		return 0;
	if (pid < 0)
		return ckpt_fail(c, -ESRCH, "fd %d: a pidfd of a process that has exited; it "
				 "cannot be made again: close it before the checkpoint%s", p->fd,
				 p->origin);
	return ckpt_fail(c, -ENOTSUP, "fd %d: a pidfd of process %d, not of this process (%d); "
			 "only this process is saved, so a restart could only point it at "
			 "whatever has pid %d then: close it before the checkpoint%s", p->fd, pid,
			 self, pid, p->origin);
}

static int pidfd_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
		      void *data, size_t cap)
{
	struct img_file_pidfd d = { pidfd_pid(p->fd), 0 };	/* checked: ours */

	/* the pidfd's flags as pidfd_open takes them; O_RDWR is how it is made */
	f->flags = (p->flags & PIDFD_FLAGS) | O_RDWR;
	__builtin_memcpy(data, &d, sizeof(d));
	return sizeof(d);
}

const struct fd_save_ops fd_pidfd_save = { .kind = IMG_FILE_PIDFD, .match = pidfd_match,
					   .check = pidfd_check, .save = pidfd_save };
#endif

#ifdef FD_RESTORE
#include <sys/syscall.h>
#include <unistd.h>
#include "restart/rst.h"

static int pidfd_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_pidfd *d = f->data;
	int thread = 0, fd;

	for (int i = 0; i < s->nthreads; i++)
		thread |= s->threads[i].tid == d->pid;
	if (d->pid != s->proc.pid && (!thread || !(f->f.flags & O_EXCL)))
		return rst_problem(s, RST_EXIT_IMAGE, "corrupt: fd %d is a pidfd of %d, neither the "
				   "image's process %d nor one of its threads", f->first_fd, d->pid,
				   s->proc.pid);
	if (!(f->f.flags & O_EXCL))
		return 0;
	/* PIDFD_THREAD: Linux 6.9 */
	fd = syscall(SYS_pidfd_open, getpid(), O_EXCL);
	if (fd < 0 && errno == EINVAL)
		return rst_problem(s, RST_EXIT_INCOMPAT, "fd %d is a pidfd of thread %d "
				   "(PIDFD_THREAD), which this kernel cannot make (it needs Linux "
				   "6.9)", f->first_fd, d->pid);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Here, in the restarted process itself: its pid is the image's. */
static int pidfd_open(struct rst_state *s, const struct rst_file *f)
{
	int fd = syscall(SYS_pidfd_open, getpid(), f->f.flags & PIDFD_FLAGS);

	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	else
		rst_error(s, "fd %d: cannot make the pidfd of the process again (pidfd_open, "
			  "flags %#o): %s%s", f->first_fd, f->f.flags & PIDFD_FLAGS, strerror(errno),
			  (f->f.flags & O_EXCL) && errno == EINVAL ?
			  " (PIDFD_THREAD needs Linux 6.9)" : "");
	return fd;
}

const struct fd_restore_ops fd_pidfd_restore = { .kind = IMG_FILE_PIDFD,
						 .verify = pidfd_verify, .open = pidfd_open };
#endif
