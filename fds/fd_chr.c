/*
 * fd_chr.c - character devices that are the same on every machine and
 * hold no state: /dev/null, zero, full, random, urandom (major 1).
 * Reopened by path; the restart refuses a path that is now another
 * device.  Terminals are not these: fd_inherit.c (fds 0-2), or refused.
 *
 * A node of one of them opened and then unlinked (its link reads
 * "/tmp/mynull (deleted)", CRIU's deleted_dev) is reopened by its device
 * number instead: /dev/null for 1:3, and so on.  The device holds no
 * state, so the fd behaves the same; only its /proc link names /dev/null
 * now.  ckpt-save says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "fds/fd_kind.h"

/* The /dev name of a portable device (mem major 1), or NULL. */
static const char *chr_name(uint64_t rdev)
{
	if (major(rdev) != 1)
		return NULL;
	switch (minor(rdev)) {
	case 3: return "/dev/null";
	case 5: return "/dev/zero";
	case 7: return "/dev/full";
	case 8: return "/dev/random";
	case 9: return "/dev/urandom";
	default: return NULL;
	}
}

static const char chr_deleted[] = " (deleted)";

/* Whether the saved path was unlinked: it is then reopened by device number. */
__attribute__((unused)) static int chr_unlinked(const char *path, size_t n)
{
	size_t k = sizeof(chr_deleted) - 1;

	if (n <= k)
		return 0;
	for (size_t i = 0; i < k; i++)	/* no libc: the save half runs in a signal handler */
		if (path[n - k + i] != chr_deleted[i])
			return 0;
	return 1;
}

static int chr_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	if (!S_ISCHR(f->mode) || !chr_name(f->rdev)) {
		snprintf(err, len, "mode %#o, device %u:%u: not a memory device", f->mode,
			 major(f->rdev), minor(f->rdev));
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_chr_info = { IMG_FILE_CHR, "device", chr_valid };

#ifdef FD_SAVE
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

static int chr_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return S_ISCHR(p->st.st_mode) && chr_name(p->st.st_rdev);
}

static void chr_note(const struct fd_probe *p, char *buf, size_t len)
{
	if (chr_unlinked(p->path, ckpt_strlen(p->path)))
		ckpt_fmt(buf, len, "fd %d (%s) will be %s again (device %u:%u)", p->fd, p->path,
			 chr_name(p->st.st_rdev), major(p->st.st_rdev), minor(p->st.st_rdev));
	else
		buf[0] = '\0';
}

const struct fd_save_ops fd_chr_save = { .kind = IMG_FILE_CHR, .match = chr_match,
					 .note = chr_note };
#endif

#ifdef FD_RESTORE
#include <sys/stat.h>
#include "restart/rst.h"

/* Where the device is opened: its saved path, or its /dev name if that was unlinked. */
static const char *chr_path(const struct rst_file *f)
{
	return chr_unlinked(f->path, strlen(f->path)) ? chr_name(f->f.rdev) : f->path;
}

static int chr_verify(struct rst_state *s, const struct rst_file *f)
{
	const char *path = chr_path(f);
	struct stat st;

	if (stat(path, &st) < 0)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is gone (%s); the process had it "
				   "open", f->first_fd, path, strerror(errno));
	if (!S_ISCHR(st.st_mode) || st.st_rdev != f->f.rdev)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s is now device %u:%u, was %u:%u",
				   f->first_fd, path, major(st.st_rdev), minor(st.st_rdev),
				   major(f->f.rdev), minor(f->f.rdev));
	return 0;
}

static int chr_open(struct rst_state *s, const struct rst_file *f)
{
	struct rst_file dev = *f;

	dev.path = (char *)chr_path(f);
	return rst_fd_reopen(s, &dev, 0, 0);
}

const struct fd_restore_ops fd_chr_restore = { .kind = IMG_FILE_CHR, .verify = chr_verify,
					       .open = chr_open };
#endif
