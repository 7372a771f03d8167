/*
 * restart_seal.c - `ckpt-restart --key FILE`: the image (and every parent
 * of an incremental chain) must carry a seal made with that key
 * (libckpt/img_seal.c), checked over every byte before anything of the
 * image is used; the seal's uid and gid (what ckpt-save saw in /proc)
 * must be the ones the image claims.  An image from a pipe is first held
 * in memory whole (a memfd), so that it is checked before it is read.
 *
 * `--verify`: a mappable image's page data, which a restart maps instead
 * of reading (so the records' checksums do not cover it), is read and
 * checked first (restart_mpages.c).  Costs a read of every page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "restart/rst.h"

int rst_seal_open(struct rst_state *s)
{
	struct stat st;
	char err[512];
	int64_t base = 0;

	if (!s->key_path)
		return 0;
	if (img_seal_key_load(s->key_path, s->key, err, sizeof(err)) < 0) {
		fprintf(stderr, "ckpt-restart: --key: %s\n", err);
		return RST_EXIT_USAGE;
	}
	if (fstat(s->img_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int m = img_seal_spool(s->img_fd, err, sizeof(err));

		if (m < 0) {
			rst_error(s, "%s", err);
			return RST_EXIT_IMAGE;
		}
		if (s->img_fd > 2)
			close(s->img_fd);
		s->img_fd = m;
	} else if ((base = lseek(s->img_fd, 0, SEEK_CUR)) < 0) {
		base = 0;
	}
	if (img_seal_verify(s->img_fd, base, s->key, &s->seal, err, sizeof(err)) < 0) {
		rst_error(s, "%s", err);
		return RST_EXIT_IMAGE;
	}
	s->sealed = 1;
	return 0;
}

int rst_seal_check_proc(struct rst_state *s)
{
	if (!s->sealed || (s->proc.uid == s->seal.uid && s->proc.gid == s->seal.gid))
		return 0;
	rst_error(s, "the image says its process ran as uid %u gid %u, but whoever sealed it saw "
		  "uid %u gid %u: the process wrote its own image and cannot be believed",
		  s->proc.uid, s->proc.gid, s->seal.uid, s->seal.gid);
	return RST_EXIT_IMAGE;
}

int rst_seal_parent(struct rst_state *s, int fd, const char *name)
{
	struct img_seal seal;
	char err[512];

	if (!s->sealed)
		return 0;
	if (img_seal_verify(fd, 0, s->key, &seal, err, sizeof(err)) < 0) {
		rst_error(s, "parent %s: %s", name, err);
		return RST_EXIT_IMAGE;
	}
	if (seal.uid != s->seal.uid || seal.gid != s->seal.gid) {
		rst_error(s, "parent %s was sealed for uid %u gid %u, the image for uid %u gid %u",
			  name, seal.uid, seal.gid, s->seal.uid, s->seal.gid);
		return RST_EXIT_IMAGE;
	}
	return 0;
}
