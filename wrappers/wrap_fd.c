/*
 * wrap_fd.c - the calls that make and close file descriptors.
 *
 * Each wrapper calls the real libc function and, when it made an fd,
 * records it in the registry (libckpt/reg.h) with the wrapper's caller,
 * so a checkpoint refusal can say which call made the fd and from where.
 * The records are advice for error messages: the checkpoint learns what
 * an fd is from the kernel, so an fd made behind our back (stdio's fopen
 * calls glibc's internal open, not this one) is still saved correctly.
 *
 * Invariants
 *   1. The return value and errno are exactly the real call's: errno is
 *      saved right after the real call and put back before returning.
 *   2. An fd is recorded before the wrapper returns it, so no other
 *      thread knows the number while its slot is written.
 *   3. close() clears the slot BEFORE the real close.  The kernel frees
 *      the number inside close(), and another thread's open() may get
 *      it and record it before our close() returns: clearing afterwards
 *      would erase that record.  Clearing first is also right when close
 *      fails: on Linux the fd is released on every error but EBADF, and
 *      with EBADF there was no fd to record.
 *
 * Finding the real functions: dlsym(RTLD_NEXT) once per function, in a
 * constructor, so that no wrapper resolves anything in a signal handler
 * (dlsym takes the loader lock).  A call that comes before the
 * constructor (another library's constructor) resolves on the spot; two
 * threads doing that at once both store the same pointer.
 *
 * Cost per wrapped call: one load of the cached pointer, the real call,
 * reg_fd_set or reg_fd_clear (~10 ns), an errno save/restore.
 */
/* The fortify and 64-bit-offset variants of fcntl.h would turn these
 * definitions into inline wrappers or rename them. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "libckpt/reg.h"
#include "shim/shim.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

/* glibc's fortify entry points (declared only under _FORTIFY_SOURCE). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* ---- the real functions ---- */

#define WRAP_FD_FUNCS(X)						\
	X(open) X(open64) X(__open_2) X(__open64_2)			\
	X(openat) X(openat64) X(__openat_2) X(__openat64_2)		\
	X(creat) X(creat64) X(close) X(dup) X(dup2) X(dup3)		\
	X(fcntl) X(fcntl64) X(pipe) X(pipe2) X(socket) X(socketpair)	\
	X(accept) X(accept4) X(eventfd) X(epoll_create) X(epoll_create1) \
	X(signalfd) X(timerfd_create) X(inotify_init) X(inotify_init1)	\
	X(memfd_create)

#define WRAP_FD_SLOT(name) static void *real_##name;
WRAP_FD_FUNCS(WRAP_FD_SLOT)

/* Slow path: first use before the constructor ran. NULL if libc lacks it. */
__attribute__((noinline)) static void *wrap_fd_resolve(void **slot, const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	return p;
}

static inline void *wrap_fd_real(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);

	return __builtin_expect(p != NULL, 1) ? p : wrap_fd_resolve(slot, name);
}

/* The real `name`, typed as the header declares it. */
#define REAL(name) ((__typeof__(&name))wrap_fd_real(&real_##name, #name))

/* A libc without `name` (an old glibc): fail the way a missing syscall does. */
#define CHECK_REAL(name)						\
	do {								\
		if (!REAL(name)) {					\
			errno = ENOSYS;					\
			return -1;					\
		}							\
	} while (0)

__attribute__((constructor)) static void wrap_fd_init(void)
{
#define WRAP_FD_RESOLVE(name) wrap_fd_resolve(&real_##name, #name);
	WRAP_FD_FUNCS(WRAP_FD_RESOLVE)
}

/* ---- recording ---- */

/* Records fd (when the call made one) and returns it; errno kept. */
static inline int wrap_fd_made(int fd, enum reg_kind kind, const void *caller)
{
	if (fd >= 0) {
		int e = errno;

		reg_fd_set(fd, kind, caller);
		errno = e;
	}
	return fd;
}

/* Records both fds of a pipe or socketpair when rc is 0. */
static inline int wrap_fd_made2(int rc, const int fds[2], enum reg_kind kind,
				const void *caller)
{
	if (rc == 0) {
		int e = errno;

		reg_fd_set(fds[0], kind, caller);
		reg_fd_set(fds[1], kind, caller);
		errno = e;
	}
	return rc;
}

/* glibc's __OPEN_NEEDS_MODE: only then is there a third argument. */
#define WRAP_NEEDS_MODE(flags) \
	(((flags) & O_CREAT) != 0 || ((flags) & __O_TMPFILE) == __O_TMPFILE)

#define WRAP_MODE_ARG(last, flags, mode)				\
	do {								\
		if (WRAP_NEEDS_MODE(flags)) {				\
			va_list ap;					\
			va_start(ap, last);				\
			mode = va_arg(ap, int);				\
			va_end(ap);					\
		}							\
	} while (0)

/* ---- open ---- */

WRAP_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	WRAP_MODE_ARG(flags, flags, mode);
	return wrap_fd_made(REAL(open)(path, flags, mode), REG_OPEN,
			    __builtin_return_address(0));
}

WRAP_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	WRAP_MODE_ARG(flags, flags, mode);
	return wrap_fd_made(REAL(open64)(path, flags, mode), REG_OPEN,
			    __builtin_return_address(0));
}

WRAP_EXPORT int __open_2(const char *path, int flags)
{
	CHECK_REAL(__open_2);
	return wrap_fd_made(REAL(__open_2)(path, flags), REG_OPEN,
			    __builtin_return_address(0));
}

WRAP_EXPORT int __open64_2(const char *path, int flags)
{
	CHECK_REAL(__open64_2);
	return wrap_fd_made(REAL(__open64_2)(path, flags), REG_OPEN,
			    __builtin_return_address(0));
}

WRAP_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	WRAP_MODE_ARG(flags, flags, mode);
	return wrap_fd_made(REAL(openat)(dirfd, path, flags, mode), REG_OPEN,
			    __builtin_return_address(0));
}

WRAP_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	WRAP_MODE_ARG(flags, flags, mode);
	return wrap_fd_made(REAL(openat64)(dirfd, path, flags, mode), REG_OPEN,
			    __builtin_return_address(0));
}

WRAP_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	CHECK_REAL(__openat_2);
	return wrap_fd_made(REAL(__openat_2)(dirfd, path, flags), REG_OPEN,
			    __builtin_return_address(0));
}

WRAP_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	CHECK_REAL(__openat64_2);
	return wrap_fd_made(REAL(__openat64_2)(dirfd, path, flags), REG_OPEN,
			    __builtin_return_address(0));
}

WRAP_EXPORT int creat(const char *path, mode_t mode)
{
	return wrap_fd_made(REAL(creat)(path, mode), REG_CREAT,
			    __builtin_return_address(0));
}

WRAP_EXPORT int creat64(const char *path, mode_t mode)
{
	return wrap_fd_made(REAL(creat64)(path, mode), REG_CREAT,
			    __builtin_return_address(0));
}

/* ---- close and dup ---- */

WRAP_EXPORT int close(int fd)
{
	int e = errno;

	reg_fd_clear(fd);	/* before: invariant 3 */
	errno = e;		/* a successful close leaves errno alone */
	return REAL(close)(fd);
}

WRAP_EXPORT int dup(int fd)
{
	return wrap_fd_made(REAL(dup)(fd), REG_DUP, __builtin_return_address(0));
}

WRAP_EXPORT int dup2(int fd, int fd2)
{
	int r = REAL(dup2)(fd, fd2);

	if (fd == fd2)		/* nothing was made: keep fd's record */
		return r;
	return wrap_fd_made(r, REG_DUP, __builtin_return_address(0));
}

WRAP_EXPORT int dup3(int fd, int fd2, int flags)
{
	return wrap_fd_made(REAL(dup3)(fd, fd2, flags), REG_DUP,
			    __builtin_return_address(0));
}

/*
 * fcntl's third argument is an int or a pointer depending on cmd, or
 * absent.  Like glibc, take it as a pointer: on x86_64 both travel in the
 * same register, and the kernel reads only the part cmd needs.
 */
static inline void *wrap_fcntl_arg(va_list ap)
{
	return va_arg(ap, void *);
}

WRAP_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, cmd);
	arg = wrap_fcntl_arg(ap);
	va_end(ap);
	r = REAL(fcntl)(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return wrap_fd_made(r, REG_DUP, __builtin_return_address(0));
	return r;
}

WRAP_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	int r;

	CHECK_REAL(fcntl64);
	va_start(ap, cmd);
	arg = wrap_fcntl_arg(ap);
	va_end(ap);
	r = REAL(fcntl64)(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return wrap_fd_made(r, REG_DUP, __builtin_return_address(0));
	return r;
}

/* ---- pipes and sockets ---- */

WRAP_EXPORT int pipe(int fds[2])
{
	return wrap_fd_made2(REAL(pipe)(fds), fds, REG_PIPE,
			     __builtin_return_address(0));
}

WRAP_EXPORT int pipe2(int fds[2], int flags)
{
	return wrap_fd_made2(REAL(pipe2)(fds, flags), fds, REG_PIPE,
			     __builtin_return_address(0));
}

WRAP_EXPORT int socket(int domain, int type, int protocol)
{
	return wrap_fd_made(REAL(socket)(domain, type, protocol), REG_SOCKET,
			    __builtin_return_address(0));
}

WRAP_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	return wrap_fd_made2(REAL(socketpair)(domain, type, protocol, sv), sv,
			     REG_SOCKETPAIR, __builtin_return_address(0));
}

WRAP_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return wrap_fd_made(REAL(accept)(fd, addr, len), REG_ACCEPT,
			    __builtin_return_address(0));
}

WRAP_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return wrap_fd_made(REAL(accept4)(fd, addr, len, flags), REG_ACCEPT,
			    __builtin_return_address(0));
}

/* ---- event fds ---- */

WRAP_EXPORT int eventfd(unsigned int count, int flags)
{
	return wrap_fd_made(REAL(eventfd)(count, flags), REG_EVENTFD,
			    __builtin_return_address(0));
}

WRAP_EXPORT int epoll_create(int size)
{
	return wrap_fd_made(REAL(epoll_create)(size), REG_EPOLL,
			    __builtin_return_address(0));
}

WRAP_EXPORT int epoll_create1(int flags)
{
	return wrap_fd_made(REAL(epoll_create1)(flags), REG_EPOLL,
			    __builtin_return_address(0));
}

/*
 * A signalfd whose mask holds a reserved signal can dequeue it before
 * libckpt's handler runs (the signal is never blocked, but a thread
 * asleep in read() on the signalfd races with its delivery), and
 * "sigfillset + signalfd" is a common event-loop idiom: the reserved
 * signals are taken out of the mask, as in wrap_signal.c.  Rare call, so
 * a plain scan.  The mask is read here, so a bad pointer faults instead
 * of giving EFAULT; NULL still goes to the kernel (EFAULT there).
 */
WRAP_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	sigset_t m;
	int r;

	/* The header says nonnull; hide that so the NULL test stays. */
	__asm__("" : "+r"(mask));
	if (mask) {
		m = *mask;
		for (int sig = 1; sig < NSIG; sig++)
			if (shim_reserved_signal(sig))
				sigdelset(&m, sig);
		mask = &m;
	}
	r = REAL(signalfd)(fd, mask, flags);
	if (fd != -1)		/* changed the mask of an existing signalfd */
		return r;
	return wrap_fd_made(r, REG_SIGNALFD, __builtin_return_address(0));
}

WRAP_EXPORT int timerfd_create(int clockid, int flags)
{
	return wrap_fd_made(REAL(timerfd_create)(clockid, flags), REG_TIMERFD,
			    __builtin_return_address(0));
}

WRAP_EXPORT int inotify_init(void)
{
	return wrap_fd_made(REAL(inotify_init)(), REG_INOTIFY,
			    __builtin_return_address(0));
}

WRAP_EXPORT int inotify_init1(int flags)
{
	return wrap_fd_made(REAL(inotify_init1)(flags), REG_INOTIFY,
			    __builtin_return_address(0));
}

WRAP_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	return wrap_fd_made(REAL(memfd_create)(name, flags), REG_MEMFD,
			    __builtin_return_address(0));
}
