/*
 * ckpt_libc.c - libckpt's own copies of the libc functions it calls while
 * it checkpoints or restores a process, so that none of those calls can
 * reach the application's interposed versions.
 *
 * Why.  A program built with AddressSanitizer or ThreadSanitizer (or
 * anything else that defines memcpy, write, pread...) interposes those
 * functions for every library: libckpt.so's calls through its PLT went to
 * ASan's memcpy, which checked the pages libckpt copied against ASan's
 * shadow and stopped the process at the first redzone it read ("global-
 * buffer-overflow ... in __interceptor_memcpy ... snappy_put_literal").
 * writev of raw pages, pread of /proc/self/mem would have followed.
 * TSan's interceptors take its locks and may deliver signals the program
 * deferred, which has no place in a signal handler that must not run the
 * application's code.
 *
 * How.  Every function here has the libc name and hidden visibility: the
 * static linker binds each call inside libckpt.so (compiler-generated
 * memcpy and memset calls included) to these, with no PLT entry, and the
 * application never sees them.  tools/check-private-libc.sh proves the
 * engine imports none of them.  System calls go straight to the kernel
 * (errno set as libc sets it, no cancellation point: libckpt never
 * cancels a thread); the string and memory functions are plain C, and
 * memcpy/memset use `rep movsb/stosb` above 32 bytes (fast on CPUs with
 * ERMS/FSRM; the Snappy encoder's short literal copies take the
 * overlapping-word path).  This file is built with
 * -fno-tree-loop-distribute-patterns: gcc would otherwise turn a loop
 * below back into a call to the function it implements.
 *
 * Not here: calls libckpt makes only outside a checkpoint and a restore
 * (the constructor's getenv and strtol, the control thread's sockets,
 * malloc in wrappers), and its own exported wrappers (fcntl, madvise...),
 * which call the real function themselves.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include "arch/x86_64/arch.h"

#define PRIVATE __attribute__((visibility("hidden")))

/* A raw system call's result as libc returns it: -1 and errno on failure. */
static long ret(long r)
{
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* ---- memory and strings ---- */

PRIVATE void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (n <= 32) {
		uint64_t a, b, c, e;

		if (n >= 16) {		/* two overlapping 16-byte halves */
			__builtin_memcpy(&a, s, 8);
			__builtin_memcpy(&b, s + 8, 8);
			__builtin_memcpy(&c, s + n - 16, 8);
			__builtin_memcpy(&e, s + n - 8, 8);
			__builtin_memcpy(d, &a, 8);
			__builtin_memcpy(d + 8, &b, 8);
			__builtin_memcpy(d + n - 16, &c, 8);
			__builtin_memcpy(d + n - 8, &e, 8);
		} else if (n >= 8) {
			__builtin_memcpy(&a, s, 8);
			__builtin_memcpy(&b, s + n - 8, 8);
			__builtin_memcpy(d, &a, 8);
			__builtin_memcpy(d + n - 8, &b, 8);
		} else if (n >= 4) {
			uint32_t x, y;

			__builtin_memcpy(&x, s, 4);
			__builtin_memcpy(&y, s + n - 4, 4);
			__builtin_memcpy(d, &x, 4);
			__builtin_memcpy(d + n - 4, &y, 4);
		} else if (n) {
			unsigned char x = s[0], y = s[n / 2], z = s[n - 1];

			d[0] = x;
			d[n / 2] = y;
			d[n - 1] = z;
		}
		return dst;
	}
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return dst;
}

PRIVATE void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);	/* forward copy is safe */
	/* overlapping, destination above: backwards */
	d += n - 1;
	s += n - 1;
	__asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return dst;
}

PRIVATE void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	if (n <= 16) {
		for (size_t i = 0; i < n; i++)
			d[i] = (unsigned char)c;
		return dst;
	}
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

PRIVATE int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

PRIVATE void *memchr(const void *p, int c, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		if (s[i] == (unsigned char)c)
			return (void *)(s + i);
	return NULL;
}

PRIVATE size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

PRIVATE char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

PRIVATE int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

PRIVATE int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

PRIVATE char *strstr(const char *h, const char *n)
{
	size_t len = strlen(n);

	for (; *h; h++)
		if (*h == *n && !strncmp(h, n, len))
			return (char *)h;
	return len ? NULL : (char *)h;
}

/* ---- signal sets: glibc's rules (its internal signals 32 and 33 left out) ---- */

static int sig_ok(int sig)
{
	return sig > 0 && sig <= 64;
}

static int sig_internal(int sig)
{
	return sig == 32 || sig == 33;	/* SIGCANCEL, SIGSETXID */
}

PRIVATE int sigemptyset(sigset_t *set)
{
	memset(set, 0, sizeof(*set));
	return 0;
}

PRIVATE int sigfillset(sigset_t *set)
{
	memset(set, 0xff, sizeof(*set));
	((uint64_t *)set)[0] &= ~(3ULL << 31);
	return 0;
}

PRIVATE int sigaddset(sigset_t *set, int sig)
{
	if (!sig_ok(sig) || sig_internal(sig)) {
		errno = EINVAL;
		return -1;
	}
	((uint64_t *)set)[0] |= 1ULL << (sig - 1);
	return 0;
}

PRIVATE int sigdelset(sigset_t *set, int sig)
{
	if (!sig_ok(sig) || sig_internal(sig)) {
		errno = EINVAL;
		return -1;
	}
	((uint64_t *)set)[0] &= ~(1ULL << (sig - 1));
	return 0;
}

PRIVATE int sigismember(const sigset_t *set, int sig)
{
	if (!sig_ok(sig)) {
		errno = EINVAL;
		return -1;
	}
	return !!(((const uint64_t *)set)[0] & (1ULL << (sig - 1)));
}

/* ---- system calls ---- */

PRIVATE ssize_t read(int fd, void *buf, size_t n)
{
	return ret(arch_sys3(SYS_read, fd, buf, n));
}

PRIVATE ssize_t write(int fd, const void *buf, size_t n)
{
	return ret(arch_sys3(SYS_write, fd, buf, n));
}

PRIVATE ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	return ret(arch_sys4(SYS_pread64, fd, buf, n, off));
}

PRIVATE ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	return ret(arch_sys3(SYS_writev, fd, iov, cnt));
}

PRIVATE off_t lseek(int fd, off_t off, int whence)
{
	return ret(arch_sys3(SYS_lseek, fd, off, whence));
}

/* The kernel's struct stat is glibc's on x86_64. */
PRIVATE int fstat(int fd, struct stat *st)
{
	return ret(arch_sys2(SYS_fstat, fd, st));
}

PRIVATE int stat(const char *path, struct stat *st)
{
	return ret(arch_sys4(SYS_newfstatat, AT_FDCWD, path, st, 0));
}

PRIVATE ssize_t readlink(const char *path, char *buf, size_t n)
{
	return ret(arch_sys4(SYS_readlinkat, AT_FDCWD, path, buf, n));
}

PRIVATE int rename(const char *from, const char *to)
{
	return ret(arch_sys4(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to));
}

PRIVATE int unlink(const char *path)
{
	return ret(arch_sys3(SYS_unlinkat, AT_FDCWD, path, 0));
}

PRIVATE int fsync(int fd)
{
	return ret(arch_sys1(SYS_fsync, fd));
}

PRIVATE void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long r = arch_sys6(SYS_mmap, addr, len, prot, flags, fd, off);

	return (void *)ret(r);		/* -1 is MAP_FAILED */
}

PRIVATE int munmap(void *addr, size_t len)
{
	return ret(arch_sys2(SYS_munmap, addr, len));
}

PRIVATE int mprotect(void *addr, size_t len, int prot)
{
	return ret(arch_sys3(SYS_mprotect, addr, len, prot));
}

int ckpt_waitid(int type, int id, siginfo_t *info, int options);

/*
 * Not named waitid: that name is libckpt's exported wrapper
 * (wrappers/wrap_wait.c), which the application's calls reach.
 */
PRIVATE int ckpt_waitid(int type, int id, siginfo_t *info, int options)
{
	return ret(arch_sys5(SYS_waitid, type, id, info, options, 0));
}

PRIVATE int uname(struct utsname *u)
{
	return ret(arch_sys1(SYS_uname, u));
}

/*
 * clock_gettime and prctl are not here: libckpt's own wrappers of them
 * (wrappers/wrap_cpuclock.c, wrap_prctl.c) are what its internal calls
 * bind to, and neither goes through an interposed function (prctl is the
 * system call; clock_gettime calls the next definition after libckpt,
 * libc's, for the clocks the engine reads).
 */

PRIVATE int prlimit(pid_t pid, enum __rlimit_resource res, const struct rlimit *nl,
		    struct rlimit *old)
{
	return ret(arch_sys4(SYS_prlimit64, pid, res, nl, old));
}

/* ThreadSanitizer's _exit reports and flushes first: not in a forked writer. */
PRIVATE void _exit(int status)
{
	for (;;)
		arch_sys1(SYS_exit_group, status);
}


