/*
 * fd_memfd.c - memfds (memfd_create): anonymous files in memory, open
 * through fds, mapped, or both (a memfd mapped and closed lives on in its
 * mappings).  Saved like a deleted file (fd_ghost.c: contents in FILE_DATA
 * records by the first FILE of the memfd, the others name it), with what
 * makes a memfd one:
 *  - its name (the /proc link is "/memfd:NAME (deleted)": NAME is kept
 *    apart, exactly, in the kind data);
 *  - its seals (F_GET_SEALS), applied again after the contents are written
 *    and every fd and mapping is open: F_SEAL_WRITE would refuse the
 *    contents, F_SEAL_SHRINK and F_SEAL_GROW the size, F_SEAL_SEAL more
 *    seals.  A memfd made without MFD_ALLOW_SEALING shows F_SEAL_SEAL,
 *    and comes back so;
 *  - MFD_HUGETLB and its page size (statfs of the memfd: hugetlbfs); its
 *    contents are written through a mapping (hugetlbfs has no write());
 *  - MFD_NOEXEC_SEAL / MFD_EXEC: F_SEAL_EXEC and the mode's x bits, which
 *    come back as they were (the mode is set before the seals);
 *  - MFD_CLOEXEC is the fd's FD_CLOEXEC (FD record).
 * Refused: a memfd sealed F_SEAL_FUTURE_WRITE that has a writable shared
 * mapping (made before the seal: a restart would have to map it before
 * sealing, which the restorer does after).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

#define MEMFD_SEALS_ALL	0x3fu		/* F_SEAL_SEAL .. F_SEAL_EXEC */

static int memfd_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	const struct img_file_memfd *m = data;

	if (f->data_len < sizeof(*m) || m->name_len > IMG_MEMFD_NAME_MAX ||
	    f->data_len != sizeof(*m) + m->name_len) {
		snprintf(err, len, "%u bytes of kind data do not hold its name", f->data_len);
		return -1;
	}
	if (!S_ISREG(f->mode) || f->size < 0 || f->pos < 0 || (f->flags & O_PATH) ||
	    (m->seals & ~MEMFD_SEALS_ALL) ||
	    (m->hugetlb_shift && m->hugetlb_shift != 21 && m->hugetlb_shift != 30) ||
	    (m->hugetlb_shift && f->size % (1ll << m->hugetlb_shift))) {
		snprintf(err, len, "mode %#o, size %lld, flags %#o, seals %#x, huge page shift %u",
			 f->mode, (long long)f->size, f->flags, m->seals, m->hugetlb_shift);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_memfd_info = { IMG_FILE_MEMFD, "memfd", memfd_valid };

#define MEMFD_PREFIX	"/memfd:"
#define MEMFD_SUFFIX	" (deleted)"

#ifdef FD_SAVE
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include "libckpt/ckpt.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif

static int memfd_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return S_ISREG(p->st.st_mode) && !(p->flags & O_PATH) &&
	       ckpt_memeq(p->path, MEMFD_PREFIX, sizeof(MEMFD_PREFIX) - 1);
}

/* The name in "/memfd:NAME (deleted)", and its length. */
static const char *memfd_name(const char *path, size_t *len)
{
	size_t n = ckpt_strlen(path), pre = sizeof(MEMFD_PREFIX) - 1, suf = sizeof(MEMFD_SUFFIX) - 1;

	if (n >= pre + suf && ckpt_memeq(path + n - suf, MEMFD_SUFFIX, suf))
		n -= suf;
	*len = n - pre;
	return path + pre;
}

static int memfd_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	int seals = fcntl(p->fd, F_GET_SEALS);
	size_t n;

	memfd_name(p->path, &n);
	if (n > IMG_MEMFD_NAME_MAX)
		return ckpt_fail(c, -ENAMETOOLONG, "%s: memfd %s has a name of %zu bytes, more "
				 "than a memfd may have", ckpt_fdata_what(p), p->path, n);
	if (seals > 0 && (seals & F_SEAL_FUTURE_WRITE)) {
		for (int i = 0; i < c->nvmas; i++) {
			const struct ckpt_vma *v = &c->vmas[i];

			if (v->ino == p->st.st_ino && (v->flags & IMG_VMA_SHARED) &&
			    (v->prot & PROT_WRITE))
				return ckpt_fail(c, -EPERM, "%s: memfd %s is sealed F_SEAL_FUTURE_WRITE "
						 "and still mapped writable and shared at %lx; a "
						 "restart cannot make that mapping again under the "
						 "seal", ckpt_fdata_what(p), p->path,
						 (unsigned long)v->start);
		}
	}
	return ckpt_fdata_check(c, p);
}

static int memfd_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
		      void *data, size_t cap)
{
	struct img_file_memfd m = { ckpt_fds_first(c, p->st.st_dev, p->st.st_ino), 0, 0, 0 };
	struct statfs sf;
	size_t n;
	const char *name = memfd_name(p->path, &n);
	int seals = fcntl(p->fd, F_GET_SEALS);

	m.seals = seals > 0 ? (uint32_t)seals & MEMFD_SEALS_ALL : 0;
	if (fstatfs(p->fd, &sf) == 0 && (uint32_t)sf.f_type == HUGETLBFS_MAGIC)
		m.hugetlb_shift = __builtin_ctzl((unsigned long)sf.f_bsize);
	m.name_len = n;
	__builtin_memcpy(data, &m, sizeof(m));
	__builtin_memcpy((char *)data + sizeof(m), name, n);
	return sizeof(m) + n;
}

const struct fd_save_ops fd_memfd_save = { .kind = IMG_FILE_MEMFD, .match = memfd_match,
					   .check = memfd_check, .save = memfd_save,
					   .contents = ckpt_fdata_contents };
#endif

#ifdef FD_RESTORE
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "restart/rst.h"

#ifndef MFD_EXEC
#define MFD_EXEC	0x0010U
#endif
#define F_SEAL_EXEC_	0x0020		/* Linux 6.3 */
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT	26
#endif

static const struct img_file_memfd *memfd_of(const struct rst_file *f)
{
	return f->data;
}

/* F_SEAL_EXEC (Linux 6.3): the seal on a memfd of our own; 1 when this kernel has it. */
static int have_seal_exec(void)
{
	int fd = memfd_create("ckpt-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING), ok;

	if (fd < 0)
		return 1;	/* the memfd itself will fail, and say why */
	ok = fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC_) == 0 || errno != EINVAL;
	close(fd);
	return ok;
}

static int memfd_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_memfd *m = memfd_of(f);

	if (!m->same_as && (m->seals & F_SEAL_EXEC_) && !have_seal_exec())
		return rst_problem(s, RST_EXIT_INCOMPAT, "%s: memfd %s is sealed F_SEAL_EXEC "
				   "(MFD_NOEXEC_SEAL), which this kernel cannot seal (it needs "
				   "Linux 6.3)", rst_file_what(f), f->path);
	if (m->same_as || !m->hugetlb_shift)
		return 0;
	return rst_hugetlb_check(s, m->hugetlb_shift, (uint64_t)f->f.size >> m->hugetlb_shift,
				 rst_file_what(f));
}

static int memfd_make(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_memfd *m = memfd_of(f);
	char name[IMG_MEMFD_NAME_MAX + 1];
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd;

	memcpy(name, m + 1, m->name_len);
	name[m->name_len] = '\0';
	if (m->hugetlb_shift)
		flags |= MFD_HUGETLB | (m->hugetlb_shift << MFD_HUGE_SHIFT);
	rst_fs_owner(s, 1);
	/* MFD_EXEC (Linux 6.3) keeps the x bits whatever vm.memfd_noexec says */
	fd = memfd_create(name, flags | ((f->f.mode & 0111) ? MFD_EXEC : 0));
	if (fd < 0 && errno == EINVAL && (f->f.mode & 0111))
		fd = memfd_create(name, flags);
	rst_fs_owner(s, 0);
	if (fd < 0) {
		rst_error(s, "%s: cannot make memfd %s again: %s", rst_file_what(f), name,
			  strerror(errno));
		return -1;
	}
	if (rst_fdata_write(s, f, fd, m->hugetlb_shift) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The mode first (F_SEAL_EXEC forbids changing its x bits), the seals last. */
static int memfd_finish(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_memfd *m = memfd_of(f);
	struct timespec t[2] = { { 0, UTIME_OMIT },
				 { f->f.mtime_ns / 1000000000, f->f.mtime_ns % 1000000000 } };

	if (f->f.mtime_ns < 0)
		t[1].tv_nsec = UTIME_OMIT;
	if (fchmod(f->obj, f->f.mode & 0777) < 0 || futimens(f->obj, t) < 0 ||
	    (m->seals && fcntl(f->obj, F_ADD_SEALS, m->seals) < 0)) {
		rst_error(s, "%s: cannot set the mode, mtime or seals (%#x) of memfd %s: %s",
			  rst_file_what(f), m->seals, f->path, strerror(errno));
		return -1;
	}
	return 0;
}

const struct fd_restore_ops fd_memfd_restore = { .kind = IMG_FILE_MEMFD,
						 .verify = memfd_verify, .open = rst_obj_open,
						 .make = memfd_make, .finish = memfd_finish };
#endif
