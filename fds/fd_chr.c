/*
 * fd_chr.c - character devices that are the same on every machine and
 * hold no state: /dev/null, zero, full, random, urandom (major 1).
 * Reopened by path; the restart refuses a path that is now another
 * device.  Terminals are not these: fd_inherit.c (fds 0-2), or refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "fds/fd_kind.h"

static int chr_valid(const struct img_file *f, const void *data, char *err, size_t len)
{
	if (!S_ISCHR(f->mode) || major(f->rdev) != 1) {
		snprintf(err, len, "mode %#o, device %u:%u: not a memory device", f->mode,
			 major(f->rdev), minor(f->rdev));
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_chr_info = { IMG_FILE_CHR, "device", chr_valid };

#ifdef FD_SAVE
#include "libckpt/ckpt.h"

static int chr_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	unsigned mi = minor(p->st.st_rdev);

	/* mem major 1: null 3, zero 5, full 7, random 8, urandom 9 */
	return S_ISCHR(p->st.st_mode) && major(p->st.st_rdev) == 1 &&
	       (mi == 3 || mi == 5 || mi == 7 || mi == 8 || mi == 9);
}

const struct fd_save_ops fd_chr_save = { IMG_FILE_CHR, chr_match, NULL, NULL, NULL };
#endif

#ifdef FD_RESTORE
#include <sys/stat.h>
#include "restart/rst.h"

static int chr_verify(struct rst_state *s, const struct rst_file *f)
{
	struct stat st;

	if (stat(f->path, &st) < 0)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is gone (%s); the process had it "
				   "open", f->first_fd, f->path, strerror(errno));
	if (!S_ISCHR(st.st_mode) || st.st_rdev != f->f.rdev)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is now device %u:%u, was %u:%u",
				   f->first_fd, f->path, major(st.st_rdev), minor(st.st_rdev),
				   major(f->f.rdev), minor(f->f.rdev));
	return 0;
}

static int chr_open(struct rst_state *s, const struct rst_file *f)
{
	return rst_fd_reopen(s, f, 0, 0);
}

const struct fd_restore_ops fd_chr_restore = { IMG_FILE_CHR, chr_verify, chr_open };
#endif
