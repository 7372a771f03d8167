/*
 * restart_fds.c - files: the ones the restorer maps, the fds the process
 * had, its cwd, umask and rlimits.
 *
 * fd policy (docs/FILES.md):
 *  - fds 0-2 are inherited from ckpt-restart, never reopened;
 *  - other fds are reopened by path with their saved flags, minus
 *    O_CREAT/O_TRUNC/O_EXCL: a restart never creates, truncates or
 *    rewrites a user's file;
 *  - the offset is put back; O_APPEND writes still go to the end, so a log
 *    written after the checkpoint keeps its lines;
 *  - fds that shared an open file description (dup) share one again;
 *  - refused: the file is gone, or is now shorter than the saved offset
 *    (checked with the rest of the environment, restart_env.c).
 *    A file replaced by another of the same name is reopened (the log
 *    rotation case) and a note is printed with CKPT_LOG=info.
 * The restarter's own fds are moved above every fd the image uses first,
 * so reopening an fd number can never close one of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "restart/rst.h"

static int fd_base(struct rst_state *s)
{
	int base = 10;

	for (int i = 0; i < s->nfds; i++)
		if (s->fds[i].f.fd >= base)
			base = s->fds[i].f.fd + 1;
	return base;
}

/* Moves fd to the first free number >= base, close-on-exec. */
static int lift(int fd, int base)
{
	int n;

	if (fd >= base)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (n < 0)
		return -1;
	close(fd);
	return n;
}

int rst_open_files(struct rst_state *s)
{
	int base = fd_base(s);

	if (s->img_fd > 2)
		s->img_fd = lift(s->img_fd, base);
	if (s->lazy_fd >= 0)
		s->lazy_fd = lift(s->lazy_fd, base);
	for (int i = 0; i < s->nvmas; i++) {
		struct rst_vma *v = &s->vmas[i], *prev = i ? &s->vmas[i - 1] : NULL;
		/* read-write where mprotect() could make it writable (VM_MAYWRITE) */
		int acc = (v->v.flags & IMG_VMA_SHARED) &&
			  ((v->v.prot & 2) || (v->v.attrs & IMG_VMA_ATTR_MAYWRITE)) ? O_RDWR : O_RDONLY;

		if (!(v->v.flags & IMG_VMA_FILE))
			continue;
		/*
		 * A library's segments are consecutive mappings of one file: they
		 * share one fd (the restorer closes each fd once).  The ino was
		 * checked against the path by rst_check_env.
		 */
		if (prev && prev->fd >= 0 && prev->v.ino == v->v.ino && prev->v.dev == v->v.dev &&
		    prev->acc == acc && !strcmp(prev->path, v->path)) {
			v->fd = prev->fd;
			v->acc = acc;
			continue;
		}
		v->acc = acc;
		v->fd = open(v->path, acc | O_CLOEXEC);
		if (v->fd < 0) {
			rst_error(s, "cannot open mapped file %s: %s", v->path, strerror(errno));
			return RST_EXIT_ENV;
		}
		v->fd = lift(v->fd, base);
	}
	s->exe_fd = open(s->exe, O_RDONLY | O_CLOEXEC);
	if (s->exe_fd >= 0)
		s->exe_fd = lift(s->exe_fd, base);
	return 0;
}

static int reopen(struct rst_state *s, const struct rst_fd *d)
{
	const struct img_fd *f = &d->f;
	int flags = f->flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY | O_CLOEXEC);
	int fd;

	if (f->shared_with >= 0) {
		if (dup3(f->shared_with, f->fd, (f->fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
			rst_error(s, "fd %d: cannot share fd %d's open file: %s", f->fd,
				  f->shared_with, strerror(errno));
			return RST_EXIT_ENV;
		}
		return 0;
	}
	if (f->kind == IMG_FD_DIR)
		flags |= O_DIRECTORY;
	fd = open(d->path, flags);
	if (fd < 0) {
		rst_error(s, "fd %d: cannot reopen %s: %s", f->fd, d->path, strerror(errno));
		return RST_EXIT_ENV;
	}
	if (f->kind != IMG_FD_CHR && lseek(fd, f->pos, SEEK_SET) < 0 && errno != ESPIPE) {
		rst_error(s, "fd %d: cannot seek %s to %ld: %s", f->fd, d->path, (long)f->pos,
			  strerror(errno));
		close(fd);
		return RST_EXIT_ENV;
	}
	if (fd != f->fd) {
		if (dup3(fd, f->fd, (f->fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
			rst_error(s, "fd %d: cannot place %s: %s", f->fd, d->path, strerror(errno));
			close(fd);
			return RST_EXIT_ENV;
		}
		close(fd);
	} else if (f->fdflags & FD_CLOEXEC) {
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

int rst_restore_fds(struct rst_state *s)
{
	for (int i = 0; i < s->nfds; i++) {
		int r;

		if (s->fds[i].f.fd <= 2)
			continue;
		if ((r = reopen(s, &s->fds[i])))
			return r;
	}
	return 0;
}

int rst_restore_misc(struct rst_state *s)
{
	if (chdir(s->cwd) < 0) {
		rst_error(s, "cannot enter the saved working directory %s: %s", s->cwd,
			  strerror(errno));
		return RST_EXIT_ENV;
	}
	umask(s->proc.umask);
	for (int i = 0; i < IMG_NRLIMIT; i++) {
		struct rlimit rl = { s->proc.rlim[i].cur, s->proc.rlim[i].max }, now;

		if (getrlimit(i, &now) == 0 && now.rlim_cur == rl.rlim_cur &&
		    now.rlim_max == rl.rlim_max)
			continue;
		if (setrlimit(i, &rl) == 0)
			continue;
		/* Raising a hard limit needs CAP_SYS_RESOURCE: keep what we may. */
		if (rl.rlim_max > now.rlim_max) {
			rl.rlim_max = now.rlim_max;
			if (rl.rlim_cur > rl.rlim_max)
				rl.rlim_cur = rl.rlim_max;
			if (setrlimit(i, &rl) == 0) {
				fprintf(stderr, "ckpt-restart: note: resource limit %d: hard limit "
					"kept at %lu (raising it needs CAP_SYS_RESOURCE)\n", i,
					(unsigned long)now.rlim_max);
				continue;
			}
		}
		fprintf(stderr, "ckpt-restart: note: cannot restore resource limit %d: %s\n", i,
			strerror(errno));
	}
	return 0;
}
