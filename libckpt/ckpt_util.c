/*
 * ckpt_util.c - the few string and file helpers the checkpoint path needs,
 * written so they are async-signal-safe (no locale, no allocation).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

int ckpt_open(const char *path, int flags, int mode)
{
	return syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

int ckpt_close(int fd)
{
	return syscall(SYS_close, fd);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int ckpt_proc_each(const char *dir, int (*fn)(int n, int dirfd, void *arg), void *arg)
{
	char buf[2048];
	int dfd = ckpt_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), r = 0;
	long len;

	if (dfd < 0)
		return -errno;
	while (r >= 0 && (len = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < len && r >= 0;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			const char *s = d->d_name;

			off += d->d_reclen;
			if (*s >= '0' && *s <= '9')
				r = fn(ckpt_parse_dec(&s), dfd, arg);
		}
	}
	ckpt_close(dfd);
	return r < 0 ? r : 0;
}

/* Reads a whole (proc) file into buf; NUL-terminates.  Length or -errno. */
ssize_t ckpt_read_file(const char *path, char *buf, size_t cap)
{
	int fd = ckpt_open(path, O_RDONLY | O_CLOEXEC, 0);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			ckpt_close(fd);
			return -e;
		}
		if (n == 0)
			break;
		len += n;
	}
	ckpt_close(fd);
	buf[len] = '\0';
	return len + 1 >= cap ? -E2BIG : (ssize_t)len;
}

int ckpt_memeq(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	while (n--)
		if (*x++ != *y++)
			return 0;
	return 1;
}

/* Cost: reads the page once, 8 words at a time; stops at the first non-zero. */
int ckpt_is_zero(const void *p, size_t n)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < n / 8; i += 8) {
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] |
		    w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return 0;
	}
	return 1;
}

uint64_t ckpt_parse_hex(const char **s)
{
	uint64_t v = 0;
	const char *p = *s;

	for (;; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			break;
		v = v * 16 + d;
	}
	*s = p;
	return v;
}

int64_t ckpt_parse_dec(const char **s)
{
	const char *p = *s;
	int neg = *p == '-';
	int64_t v = 0;

	if (neg)
		p++;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	*s = p;
	return neg ? -v : v;
}

size_t ckpt_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

void ckpt_describe_addr(struct ckpt_ctx *c, uintptr_t addr, char *buf, size_t len)
{
	for (int i = 0; i < c->nvmas; i++) {
		const struct ckpt_vma *v = &c->vmas[i];
		char path[256];
		size_t n;

		if (addr < v->start || addr >= v->end || !(v->flags & IMG_VMA_FILE))
			continue;
		n = v->path_len < sizeof(path) - 1 ? v->path_len : sizeof(path) - 1;
		for (size_t k = 0; k < n; k++)
			path[k] = v->path[k];
		path[n] = '\0';
		ckpt_fmt(buf, len, "%s+0x%lx", path, (unsigned long)(addr - v->start + v->pgoff));
		return;
	}
	ckpt_fmt(buf, len, "%p", (void *)addr);
}
