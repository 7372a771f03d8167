/*
 * ckpt_tmpfile.c - an image file nobody can plant, predict or find half
 * written (ckpt_tmpfile.h has the sequence and the invariants).
 *
 * Why O_TMPFILE first: a file with no name cannot be replaced, linked to
 * or read by name while it is written, and a process killed midway
 * (SIGKILL, a crash, ENOSPC in a forked writer nobody waits for) leaves
 * nothing behind: the kernel frees the inode with the last fd.  The
 * fallback, for filesystems without it (some network and FUSE ones),
 * gets the same guarantees but the last one: a named temporary file is
 * removed on every failure path this code sees, but not after a SIGKILL.
 *
 * linkat() of an O_TMPFILE goes through /proc/self/fd/N with
 * AT_SYMLINK_FOLLOW, which needs no capability (AT_EMPTY_PATH needs
 * CAP_DAC_READ_SEARCH; it is tried only where /proc is missing).  linkat
 * cannot replace a name, so the file is linked under a random name and
 * renamed over the final one: rename() is the atomic step.
 *
 * Raw system calls only: this runs in libckpt's signal handler, where
 * libc's open() would be libckpt's own wrapper and errno is the
 * application's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tmpfile.h"

#ifndef O_TMPFILE
#define O_TMPFILE	(020000000 | O_DIRECTORY)
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH	0x1000
#endif

#define TMP_TRIES	8	/* random names tried before giving up (EEXIST) */
#define TMP_WHERE_MAX	512	/* a path in a message (they are cut to 512 anyway) */
#define TMP_BASE_KEEP	200	/* of the final name in a temporary one: NAME_MAX is 255 */

void ckpt_tmp_init(struct ckpt_tmpfile *t)
{
	t->dirfd = t->fd = -1;
	t->named = 0;
	t->base[0] = t->tmp[0] = '\0';
}

static void tmp_close(int *fd)
{
	if (*fd >= 0)
		arch_sys1(SYS_close, *fd);
	*fd = -1;
}

int ckpt_tmp_random_hex(char out[17])
{
	unsigned char b[8];
	long r;

	do
		r = arch_sys3(SYS_getrandom, b, sizeof(b), 0);
	while (r == -EINTR);
	if (r == -ENOSYS) {			/* before Linux 3.17 */
		long fd = arch_sys4(SYS_openat, AT_FDCWD, "/dev/urandom", O_RDONLY | O_CLOEXEC, 0);

		if (fd < 0)
			return (int)fd;
		r = arch_sys3(SYS_read, fd, b, sizeof(b));
		arch_sys1(SYS_close, fd);
	}
	if (r < 0)
		return (int)r;
	if (r != (long)sizeof(b))
		return -EIO;
	for (int i = 0; i < 8; i++) {
		out[2 * i] = "0123456789abcdef"[b[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[b[i] & 15];
	}
	out[16] = '\0';
	return 0;
}

/* "<base>.tmp.<16 hex>", the base cut so the whole stays under NAME_MAX. */
static int tmp_name(const struct ckpt_tmpfile *t, char *name)
{
	char hex[17];
	size_t n = 0;
	int r = ckpt_tmp_random_hex(hex);

	if (r < 0)
		return r;
	while (t->base[n] && n < TMP_BASE_KEEP) {
		name[n] = t->base[n];
		n++;
	}
	ckpt_fmt(name + n, CKPT_TMP_NAME_MAX - n, ".tmp.%s", hex);
	return 0;
}

/* For messages: the final path, or the bare name when /proc cannot tell. */
static const char *tmp_where(const struct ckpt_tmpfile *t, char *buf, size_t cap)
{
	return ckpt_tmp_final_path(t, buf, cap) > 0 ? buf : t->base;
}

int ckpt_tmp_open_dir(struct ckpt_tmpfile *t, const char *path, char *err, size_t errlen)
{
	char dir[4096];
	size_t len = 0, slash = (size_t)-1;
	long fd;

	ckpt_tmp_init(t);
	while (path[len]) {
		if (path[len] == '/')
			slash = len;
		len++;
	}
	if (slash == (size_t)-1) {
		dir[0] = '.';
		dir[1] = '\0';
	} else if (slash >= sizeof(dir)) {
		ckpt_fmt(err, errlen, "%s: %s", path, ckpt_strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	} else if (slash == 0) {		/* "/name": the root */
		dir[0] = '/';
		dir[1] = '\0';
	} else {
		for (size_t i = 0; i < slash; i++)
			dir[i] = path[i];
		dir[slash] = '\0';
	}
	path += slash + 1;
	len -= slash + 1;
	if (!len || (path[0] == '.' && (!path[1] || (path[1] == '.' && !path[2])))) {
		ckpt_fmt(err, errlen, "%s is a directory, not an image file name", path[0] ? path : dir);
		return -EISDIR;
	}
	if (len >= sizeof(t->base)) {
		ckpt_fmt(err, errlen, "%s: %s", path, ckpt_strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i <= len; i++)
		t->base[i] = path[i];
	fd = arch_sys4(SYS_openat, AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0) {
		ckpt_fmt(err, errlen, "cannot open the image's directory %s: %s", dir,
			 ckpt_strerror((int)fd));
		return (int)fd;
	}
	t->dirfd = (int)fd;
	return 0;
}

int ckpt_tmp_create_named(struct ckpt_tmpfile *t, const char *name, char *err, size_t errlen)
{
	long fd = arch_sys4(SYS_openat, t->dirfd, name,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t i;

	if (fd < 0) {
		char where[TMP_WHERE_MAX];

		ckpt_fmt(err, errlen, "cannot create the temporary file %s next to %s: %s", name,
			 tmp_where(t, where, sizeof(where)), ckpt_strerror((int)fd));
		return (int)fd;
	}
	for (i = 0; name[i] && i < sizeof(t->tmp) - 1; i++)
		t->tmp[i] = name[i];
	t->tmp[i] = '\0';
	t->fd = (int)fd;
	t->named = 1;
	arch_sys2(SYS_fchmod, fd, 0600);	/* invariant 2, whatever the umask */
	return 0;
}

int ckpt_tmp_create(struct ckpt_tmpfile *t, int flags, char *err, size_t errlen)
{
	char name[CKPT_TMP_NAME_MAX], where[TMP_WHERE_MAX];
	long fd;
	int r = -EEXIST;

	if (!(flags & CKPT_TMP_NAMED)) {
		fd = arch_sys4(SYS_openat, t->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
		if (fd >= 0) {
			t->fd = (int)fd;
			t->named = 0;
			t->tmp[0] = '\0';
			arch_sys2(SYS_fchmod, fd, 0600);
			return 0;
		}
		/* the filesystem (or an old kernel) has no O_TMPFILE: a named file */
		if (fd != -EOPNOTSUPP && fd != -EISDIR && fd != -EINVAL) {
			ckpt_fmt(err, errlen, "cannot create the image file for %s: %s",
				 tmp_where(t, where, sizeof(where)), ckpt_strerror((int)fd));
			return (int)fd;
		}
	}
	for (int tries = 0; r == -EEXIST && tries < TMP_TRIES; tries++) {
		if ((r = tmp_name(t, name)) < 0) {
			ckpt_fmt(err, errlen, "no random name for the temporary file of %s: %s",
				 tmp_where(t, where, sizeof(where)), ckpt_strerror(r));
			return r;
		}
		r = ckpt_tmp_create_named(t, name, err, errlen);
	}
	return r;
}

int ckpt_tmp_final_path(const struct ckpt_tmpfile *t, char *buf, size_t cap)
{
	char link[32];
	long n;
	size_t len;

	if (t->dirfd < 0 || cap < 2)
		return -EBADF;
	ckpt_fmt(link, sizeof(link), "/proc/self/fd/%d", t->dirfd);
	n = arch_sys4(SYS_readlinkat, AT_FDCWD, link, buf, cap - 1);
	if (n < 0)
		return (int)n;
	if (n == 0 || buf[0] != '/' || (size_t)n >= cap - 1)
		return -ENAMETOOLONG;		/* too long, or not a path (deleted...) */
	len = (size_t)n;
	if (len > 10 && buf[len - 1] == ')' && buf[len - 10] == ' ' && buf[len - 9] == '(')
		return -ENOENT;			/* "/dir (deleted)" */
	if (len > 1)
		buf[len++] = '/';
	for (size_t i = 0; t->base[i]; i++) {
		if (len >= cap - 1)
			return -ENAMETOOLONG;
		buf[len++] = t->base[i];
	}
	buf[len] = '\0';
	return (int)len;
}

/* An O_TMPFILE gets a (random) name, so that rename() can put it in place. */
static int tmp_link(struct ckpt_tmpfile *t, char *err, size_t errlen)
{
	char name[CKPT_TMP_NAME_MAX], link[32], where[TMP_WHERE_MAX];
	long r = -EEXIST;
	size_t i;

	ckpt_fmt(link, sizeof(link), "/proc/self/fd/%d", t->fd);
	for (int tries = 0; r == -EEXIST && tries < TMP_TRIES; tries++) {
		if ((r = tmp_name(t, name)) < 0)
			break;
		r = arch_sys5(SYS_linkat, AT_FDCWD, link, t->dirfd, name, AT_SYMLINK_FOLLOW);
		if (r == -ENOENT)		/* no /proc here */
			r = arch_sys5(SYS_linkat, t->fd, "", t->dirfd, name, AT_EMPTY_PATH);
	}
	if (r < 0) {
		ckpt_fmt(err, errlen, "cannot give the complete image a name next to %s: %s",
			 tmp_where(t, where, sizeof(where)), ckpt_strerror((int)r));
		return (int)r;
	}
	for (i = 0; name[i] && i < sizeof(t->tmp) - 1; i++)
		t->tmp[i] = name[i];
	t->tmp[i] = '\0';
	t->named = 1;
	return 0;
}

int ckpt_tmp_commit(struct ckpt_tmpfile *t, int fsync_dir, char *err, size_t errlen)
{
	char where[TMP_WHERE_MAX];
	long r;

	if (!t->named && (r = tmp_link(t, err, errlen)) < 0)
		return (int)r;
	/* close() reports a late write error (NFS): the image is not complete */
	r = arch_sys1(SYS_close, t->fd);
	t->fd = -1;
	if (r < 0) {
		ckpt_fmt(err, errlen, "writing %s failed: %s", tmp_where(t, where, sizeof(where)),
			 ckpt_strerror((int)r));
		arch_sys3(SYS_unlinkat, t->dirfd, t->tmp, 0);
		t->named = 0;
		t->tmp[0] = '\0';
		return (int)r;
	}
	r = arch_sys4(SYS_renameat, t->dirfd, t->tmp, t->dirfd, t->base);
	if (r < 0) {
		ckpt_fmt(err, errlen, "cannot rename %s to %s: %s", t->tmp,
			 tmp_where(t, where, sizeof(where)), ckpt_strerror((int)r));
		arch_sys3(SYS_unlinkat, t->dirfd, t->tmp, 0);
		t->named = 0;
		t->tmp[0] = '\0';
		return (int)r;
	}
	t->named = 0;			/* it is the image now: nothing to remove */
	t->tmp[0] = '\0';
	if (fsync_dir) {
		long dfd = arch_sys4(SYS_openat, t->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

		r = dfd < 0 ? dfd : arch_sys1(SYS_fsync, dfd);
		if (dfd >= 0)
			arch_sys1(SYS_close, dfd);
		if (r < 0 && r != -EINVAL) {
			ckpt_fmt(err, errlen, "%s is complete but its directory cannot be synced: %s",
				 tmp_where(t, where, sizeof(where)), ckpt_strerror((int)r));
			return (int)r;
		}
	}
	return 0;
}

void ckpt_tmp_abort(struct ckpt_tmpfile *t)
{
	if (t->named && t->dirfd >= 0)
		arch_sys3(SYS_unlinkat, t->dirfd, t->tmp, 0);
	t->named = 0;
	t->tmp[0] = '\0';
	ckpt_tmp_release(t);
}

void ckpt_tmp_release(struct ckpt_tmpfile *t)
{
	tmp_close(&t->fd);
	tmp_close(&t->dirfd);
}
