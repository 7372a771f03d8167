/*
 * test_wrap.c - the fd and signal wrappers (wrappers/wrap_fd.c,
 * wrap_signal.c).
 *
 * This binary links the wrappers, so every open(), close(), sigaction()
 * below goes through them, exactly as in a program running libckpt.
 * Each wrapper is held to the raw system call (syscall() is wrapped too,
 * but only records seccomp, prctl, rseq and membarrier calls: test_attr.c)
 * or to glibc's own function (dlsym(RTLD_NEXT)): same return value, same
 * errno, on success and on failure.  Then what it recorded: the kind, and
 * a caller inside the test function that made the call.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "libckpt/reg.h"
#include "shim/shim.h"
#include "wrappers/wrap.h"
#include "tests/unit/unit.h"

/* The legacy calls are wrapped, so they are tested. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

int __open_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);

/* ---- helpers ---- */

/*
 * The wrapper's result and errno must equal the reference's.  errno is
 * poisoned before each so that "left unchanged" is compared too.
 */
#define SAME(wrapped, raw)						\
	do {								\
		long a_, b_;						\
		int ea_, eb_;						\
		errno = 4242;						\
		a_ = (long)(wrapped);					\
		ea_ = errno;						\
		errno = 4242;						\
		b_ = (long)(raw);					\
		eb_ = errno;						\
		CU_ASSERT_EQUAL(a_, b_);				\
		CU_ASSERT_EQUAL(ea_, eb_);				\
		if (a_ != b_ || ea_ != eb_)				\
			fprintf(stderr, "\n  %s:%d: %s = %ld/%d, raw %ld/%d\n", \
				__FILE__, __LINE__, #wrapped, a_, ea_, b_, eb_); \
	} while (0)

/* A successful call keeps errno: checked with the same poison. */
#define KEEPS_ERRNO(call, okcond)					\
	do {								\
		errno = 4242;						\
		long r_ = (long)(call);					\
		CU_ASSERT(okcond(r_));					\
		CU_ASSERT_EQUAL(errno, 4242);				\
	} while (0)
#define TW_ZERO(r) ((r) == 0)

#define FAILS_WITH(call, err)						\
	do {								\
		errno = 0;						\
		CU_ASSERT_EQUAL((call), -1);				\
		CU_ASSERT_EQUAL(errno, (err));				\
	} while (0)

/* The test functions are short; a call site lies within this of the start. */
#define TW_FN_SPAN 8192

/* fd recorded as `kind`, by a call inside fn. */
static int tw_recorded(int fd, enum reg_kind kind, void (*fn)(void))
{
	enum reg_kind k;
	uintptr_t caller;

	if (reg_fd_get(fd, &k, &caller) < 0)
		return 0;
	return k == kind && caller > (uintptr_t)fn &&
	       caller < (uintptr_t)fn + TW_FN_SPAN;
}

static int tw_unrecorded(int fd)
{
	enum reg_kind k;
	uintptr_t caller;

	return reg_fd_get(fd, &k, &caller) < 0;
}

static char tw_dir[64];

/* NULL where the headers say nonnull: the kernel's answer is what counts. */
static void *volatile tw_null;
/* A pointer the kernel refuses (EFAULT). */
static int *volatile tw_bad = (int *)8;

__attribute__((destructor)) static void tw_cleanup(void)
{
	if (tw_dir[0])
		rmdir(tw_dir);
}

static void tw_path(char *buf, size_t len, const char *name)
{
	if (!tw_dir[0]) {
		strcpy(tw_dir, "/tmp/ckpt-test-wrap.XXXXXX");
		if (!mkdtemp(tw_dir))
			tw_dir[0] = '\0';
	}
	snprintf(buf, len, "%s/%s", tw_dir, name);
}

static int tw_mode(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

static void *tw_libc(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* ---- open family ---- */

static void test_open_family(void)
{
	char a[128], b[128], c[128];
	int fd, dfd, old_umask = umask(022);

	tw_path(a, sizeof(a), "a");
	tw_path(b, sizeof(b), "b");
	tw_path(c, sizeof(c), "c");
	unlink(a);
	unlink(b);
	unlink(c);

	/* open: mode only with O_CREAT, recorded, errno kept. */
	errno = 4242;
	fd = open(a, O_CREAT | O_EXCL | O_WRONLY, 0640);
	CU_ASSERT(fd >= 0);
	CU_ASSERT_EQUAL(errno, 4242);
	CU_ASSERT_EQUAL(tw_mode(fd), 0640);
	CU_ASSERT(tw_recorded(fd, REG_OPEN, test_open_family));
	KEEPS_ERRNO(close(fd), TW_ZERO);
	CU_ASSERT(tw_unrecorded(fd));

	fd = open64(a, O_RDONLY);
	CU_ASSERT(tw_recorded(fd, REG_OPEN, test_open_family));
	close(fd);
	fd = __open_2(a, O_RDONLY);
	CU_ASSERT(tw_recorded(fd, REG_OPEN, test_open_family));
	close(fd);

	dfd = open(tw_dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT(dfd >= 0);
	fd = openat(dfd, "b", O_CREAT | O_RDWR, 0600);
	CU_ASSERT_EQUAL(tw_mode(fd), 0600);
	CU_ASSERT(tw_recorded(fd, REG_OPEN, test_open_family));
	close(fd);
	fd = openat64(dfd, "b", O_RDONLY);
	CU_ASSERT(tw_recorded(fd, REG_OPEN, test_open_family));
	close(fd);
	fd = __openat_2(dfd, "b", O_RDONLY);
	CU_ASSERT(tw_recorded(fd, REG_OPEN, test_open_family));
	close(fd);

	fd = creat(c, 0604);
	CU_ASSERT_EQUAL(tw_mode(fd), 0604);
	CU_ASSERT(tw_recorded(fd, REG_CREAT, test_open_family));
	close(fd);
	fd = creat64(c, 0604);
	CU_ASSERT(tw_recorded(fd, REG_CREAT, test_open_family));
	close(fd);

	/* O_TMPFILE also takes a mode (where the file system supports it). */
	fd = open(tw_dir, O_TMPFILE | O_RDWR, 0600);
	if (fd >= 0) {
		CU_ASSERT_EQUAL(tw_mode(fd), 0600);
		CU_ASSERT(tw_recorded(fd, REG_OPEN, test_open_family));
		close(fd);
	}

	/* Failures: the same -1 and errno as the system call. */
	SAME(open("/nonexistent/x", O_RDONLY),
	     syscall(SYS_openat, AT_FDCWD, "/nonexistent/x", O_RDONLY));
	SAME(open(a, O_CREAT | O_EXCL | O_WRONLY, 0600),
	     syscall(SYS_openat, AT_FDCWD, a, O_CREAT | O_EXCL | O_WRONLY, 0600));
	SAME(open(tw_null, O_RDONLY), syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY));
	SAME(open(a, O_RDONLY | O_DIRECTORY),
	     syscall(SYS_openat, AT_FDCWD, a, O_RDONLY | O_DIRECTORY));
	SAME(openat(-1, "b", O_RDONLY), syscall(SYS_openat, -1, "b", O_RDONLY));
	SAME(openat(dfd, "missing", O_RDONLY),
	     syscall(SYS_openat, dfd, "missing", O_RDONLY));
	SAME(creat("/nonexistent/x", 0600),
	     syscall(SYS_openat, AT_FDCWD, "/nonexistent/x",
		     O_CREAT | O_WRONLY | O_TRUNC, 0600));
	SAME(__open_2("/nonexistent/x", O_RDONLY),
	     syscall(SYS_openat, AT_FDCWD, "/nonexistent/x", O_RDONLY));

	close(dfd);
	unlink(a);
	unlink(b);
	unlink(c);
	umask(old_umask);
}

/* ---- close, dup, fcntl ---- */

static void test_close_dup(void)
{
	int fd = open("/dev/null", O_RDWR), d;
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	char f[128];

	CU_ASSERT(fd >= 0);
	SAME(close(-1), syscall(SYS_close, -1));
	SAME(close(4000), syscall(SYS_close, 4000));
	SAME(dup(-1), syscall(SYS_dup, -1));
	SAME(dup2(-1, 700), syscall(SYS_dup2, -1, 700));
	SAME(dup2(fd, -1), syscall(SYS_dup2, fd, -1));
	SAME(dup3(fd, fd, 0), syscall(SYS_dup3, fd, fd, 0));
	SAME(dup3(fd, 700, 0xdead), syscall(SYS_dup3, fd, 700, 0xdead));
	SAME(fcntl(-1, F_GETFD), syscall(SYS_fcntl, -1, F_GETFD));
	SAME(fcntl(fd, F_DUPFD, -1), syscall(SYS_fcntl, fd, F_DUPFD, -1));
	SAME(fcntl(fd, 0x7fff), syscall(SYS_fcntl, fd, 0x7fff));

	errno = 4242;
	d = dup(fd);
	CU_ASSERT_EQUAL(errno, 4242);
	CU_ASSERT(tw_recorded(d, REG_DUP, test_close_dup));
	close(d);
	CU_ASSERT(tw_unrecorded(d));

	CU_ASSERT_EQUAL(dup2(fd, 700), 700);
	CU_ASSERT(tw_recorded(700, REG_DUP, test_close_dup));
	CU_ASSERT_EQUAL(dup3(fd, 701, O_CLOEXEC), 701);
	CU_ASSERT(tw_recorded(701, REG_DUP, test_close_dup));
	CU_ASSERT_EQUAL(fcntl(701, F_GETFD), FD_CLOEXEC);
	close(700);
	close(701);

	/* dup2 onto itself makes nothing: the open record stays. */
	CU_ASSERT_EQUAL(dup2(fd, fd), fd);
	CU_ASSERT(tw_recorded(fd, REG_OPEN, test_close_dup));

	/* fcntl: int arguments, pointer arguments, F_DUPFD recorded. */
	d = fcntl(fd, F_DUPFD, 600);
	CU_ASSERT(d >= 600);
	CU_ASSERT(tw_recorded(d, REG_DUP, test_close_dup));
	CU_ASSERT_EQUAL(fcntl(d, F_GETFD), 0);
	CU_ASSERT_EQUAL(fcntl(d, F_SETFD, FD_CLOEXEC), 0);
	CU_ASSERT_EQUAL(fcntl(d, F_GETFD), FD_CLOEXEC);
	close(d);
	d = fcntl64(fd, F_DUPFD_CLOEXEC, 650);
	CU_ASSERT(d >= 650);
	CU_ASSERT(tw_recorded(d, REG_DUP, test_close_dup));
	CU_ASSERT_EQUAL(fcntl64(d, F_GETFD), FD_CLOEXEC);
	close(d);

	tw_path(f, sizeof(f), "lock");
	d = open(f, O_CREAT | O_RDWR, 0600);
	CU_ASSERT_EQUAL(fcntl(d, F_GETLK, &fl), 0);
	CU_ASSERT_EQUAL(fl.l_type, F_UNLCK);
	SAME(fcntl(d, F_GETLK, (struct flock *)8), syscall(SYS_fcntl, d, F_GETLK, 8));
	close(d);
	unlink(f);
	close(fd);
}

/* ---- pipes and sockets ---- */

static void test_pipes_sockets(void)
{
	int p[2], sv[2], fd, l, cl, a;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t sl;

	errno = 4242;
	CU_ASSERT_EQUAL(pipe(p), 0);
	CU_ASSERT_EQUAL(errno, 4242);
	CU_ASSERT(tw_recorded(p[0], REG_PIPE, test_pipes_sockets));
	CU_ASSERT(tw_recorded(p[1], REG_PIPE, test_pipes_sockets));
	SAME(accept(p[0], NULL, NULL), syscall(SYS_accept, p[0], NULL, NULL));
	close(p[0]);
	close(p[1]);
	CU_ASSERT(tw_unrecorded(p[0]) && tw_unrecorded(p[1]));
	CU_ASSERT_EQUAL(pipe2(p, O_CLOEXEC), 0);
	CU_ASSERT(tw_recorded(p[1], REG_PIPE, test_pipes_sockets));
	close(p[0]);
	close(p[1]);

	SAME(pipe(tw_bad), syscall(SYS_pipe2, 8, 0));
	SAME(pipe2(p, 0xdead), syscall(SYS_pipe2, p, 0xdead));

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	CU_ASSERT(tw_recorded(fd, REG_SOCKET, test_pipes_sockets));
	close(fd);
	SAME(socket(12345, SOCK_STREAM, 0), syscall(SYS_socket, 12345, SOCK_STREAM, 0));
	SAME(socket(AF_UNIX, SOCK_STREAM, 99), syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 99));

	CU_ASSERT_EQUAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT(tw_recorded(sv[0], REG_SOCKETPAIR, test_pipes_sockets));
	CU_ASSERT(tw_recorded(sv[1], REG_SOCKETPAIR, test_pipes_sockets));
	SAME(accept(sv[0], NULL, NULL), syscall(SYS_accept, sv[0], NULL, NULL));
	close(sv[0]);
	close(sv[1]);
	SAME(socketpair(AF_INET, SOCK_STREAM, 0, sv),
	     syscall(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv));
	SAME(socketpair(AF_UNIX, SOCK_STREAM, 0, tw_bad),
	     syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, 8));

	/* accept and accept4 on an abstract listening socket. */
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "ckpt-test-wrap.%d",
		 (int)getpid());
	sl = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sun.sun_path + 1);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CU_ASSERT_EQUAL(bind(l, (struct sockaddr *)&sun, sl), 0);
	CU_ASSERT_EQUAL(listen(l, 4), 0);
	SAME(accept(l, NULL, NULL), syscall(SYS_accept, l, NULL, NULL)); /* EAGAIN */
	SAME(accept(-1, NULL, NULL), syscall(SYS_accept, -1, NULL, NULL));
	SAME(accept4(l, NULL, NULL, 0xdead), syscall(SYS_accept4, l, NULL, NULL, 0xdead));
	for (int i = 0; i < 2; i++) {
		cl = socket(AF_UNIX, SOCK_STREAM, 0);
		CU_ASSERT_EQUAL(connect(cl, (struct sockaddr *)&sun, sl), 0);
		a = i ? accept4(l, NULL, NULL, SOCK_CLOEXEC) : accept(l, NULL, NULL);
		CU_ASSERT(tw_recorded(a, REG_ACCEPT, test_pipes_sockets));
		close(a);
		close(cl);
	}
	close(l);
}

/* ---- event fds ---- */

/* The signal mask of a signalfd, from /proc/self/fdinfo. */
static uint64_t tw_signalfd_mask(int fd)
{
	char path[64], buf[1024];
	unsigned long long m = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "sigmask: %llx", &m) == 1)
			break;
	if (f)
		fclose(f);
	return m;
}

static void test_event_fds(void)
{
	int fd, p[2], sig = shim_ctl_signal();
	sigset_t m;

	fd = eventfd(0, 0);
	CU_ASSERT(tw_recorded(fd, REG_EVENTFD, test_event_fds));
	close(fd);
	SAME(eventfd(0, -1), syscall(SYS_eventfd2, 0, -1));

	fd = epoll_create(1);
	CU_ASSERT(tw_recorded(fd, REG_EPOLL, test_event_fds));
	close(fd);
	fd = epoll_create1(EPOLL_CLOEXEC);
	CU_ASSERT(tw_recorded(fd, REG_EPOLL, test_event_fds));
	close(fd);
	SAME(epoll_create(0), syscall(SYS_epoll_create, 0));
	SAME(epoll_create1(-1), syscall(SYS_epoll_create1, -1));

	fd = timerfd_create(CLOCK_MONOTONIC, 0);
	CU_ASSERT(tw_recorded(fd, REG_TIMERFD, test_event_fds));
	close(fd);
	SAME(timerfd_create(12345, 0), syscall(SYS_timerfd_create, 12345, 0));

	fd = inotify_init();
	CU_ASSERT(tw_recorded(fd, REG_INOTIFY, test_event_fds));
	close(fd);
	fd = inotify_init1(IN_CLOEXEC);
	CU_ASSERT(tw_recorded(fd, REG_INOTIFY, test_event_fds));
	close(fd);
	SAME(inotify_init1(-1), syscall(SYS_inotify_init1, -1));

	fd = memfd_create("tw", MFD_CLOEXEC);
	CU_ASSERT(tw_recorded(fd, REG_MEMFD, test_event_fds));
	close(fd);
	SAME(memfd_create("tw", 0xffff), syscall(SYS_memfd_create, "tw", 0xffff));

	/* signalfd: recorded when made; the reserved signals stay out. */
	sigfillset(&m);
	fd = signalfd(-1, &m, 0);
	CU_ASSERT(tw_recorded(fd, REG_SIGNALFD, test_event_fds));
	CU_ASSERT_EQUAL(tw_signalfd_mask(fd) >> (sig - 1) & 1, 0);
	CU_ASSERT_EQUAL(tw_signalfd_mask(fd) >> (SIGUSR1 - 1) & 1, 1);
	CU_ASSERT_EQUAL(signalfd(fd, &m, 0), fd);	/* an update */
	CU_ASSERT(tw_recorded(fd, REG_SIGNALFD, test_event_fds));
	close(fd);
	SAME(signalfd(-1, &m, -1), syscall(SYS_signalfd4, -1, &m, 8, -1));
	CU_ASSERT_EQUAL(pipe(p), 0);
	SAME(signalfd(p[0], &m, 0), syscall(SYS_signalfd4, p[0], &m, 8, 0));
	SAME(signalfd(-1, tw_null, 0), syscall(SYS_signalfd4, -1, NULL, 8, 0));
	close(p[0]);
	close(p[1]);
}

/* reg_inotify's record of (fd, wd): 1 and its path in path, else 0. */
static int tw_watch_path(int fd, int wd, char *path, size_t cap)
{
	int sfd, swd, r;

	for (uint32_t i = 0; (r = reg_inotify_get(i, &sfd, &swd, path, cap)) >= 0; i++)
		if (r == 1 && sfd == fd && swd == wd)
			return 1;
	return 0;
}

/* inotify_add_watch/rm_watch: results and errno exact, paths recorded absolute. */
static void test_inotify_watches(void)
{
	char cwd[4096], path[4096], want[4200];
	int in = inotify_init1(IN_CLOEXEC), wd;

	CU_ASSERT_FATAL(in >= 0 && getcwd(cwd, sizeof(cwd)) != NULL);
	wd = inotify_add_watch(in, ".", IN_CREATE);
	CU_ASSERT(wd > 0);
	snprintf(want, sizeof(want), "%s/.", strcmp(cwd, "/") ? cwd : "");
	CU_ASSERT(tw_watch_path(in, wd, path, sizeof(path)) && !strcmp(path, want));
	/* the same inode again: the same wd, the newer path */
	CU_ASSERT_EQUAL(inotify_add_watch(in, cwd, IN_DELETE), wd);
	CU_ASSERT(tw_watch_path(in, wd, path, sizeof(path)) && !strcmp(path, cwd));
	CU_ASSERT_EQUAL(inotify_add_watch(in, "/", IN_CREATE), wd + 1);
	CU_ASSERT(tw_watch_path(in, wd + 1, path, sizeof(path)) && !strcmp(path, "/"));
	CU_ASSERT_EQUAL(inotify_rm_watch(in, wd), 0);
	CU_ASSERT(!tw_watch_path(in, wd, path, sizeof(path)));
	CU_ASSERT(tw_watch_path(in, wd + 1, path, sizeof(path)));
	SAME(inotify_add_watch(in, "/nonexistent/x", IN_CREATE),
	     syscall(SYS_inotify_add_watch, in, "/nonexistent/x", IN_CREATE));
	SAME(inotify_add_watch(-1, "/", IN_CREATE), syscall(SYS_inotify_add_watch, -1, "/", IN_CREATE));
	SAME(inotify_add_watch(in, "/", 0), syscall(SYS_inotify_add_watch, in, "/", 0));
	SAME(inotify_rm_watch(in, 12345), syscall(SYS_inotify_rm_watch, in, 12345));
	SAME(inotify_rm_watch(-1, 1), syscall(SYS_inotify_rm_watch, -1, 1));
	close(in);
}

/* The table grows past its first 1024 fds: dup2 to a high number. */
static void test_fd_table_growth(void)
{
	struct rlimit rl, old;
	int fd = open("/dev/null", O_RDONLY), hi = 5000;

	getrlimit(RLIMIT_NOFILE, &old);
	rl = old;
	if (rl.rlim_cur <= (rlim_t)hi) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur <= (rlim_t)hi)
		hi = (int)rl.rlim_cur - 1;
	CU_ASSERT(hi >= 1024);
	CU_ASSERT_EQUAL(dup2(fd, hi), hi);
	CU_ASSERT(tw_recorded(hi, REG_DUP, test_fd_table_growth));
	CU_ASSERT(tw_recorded(fd, REG_OPEN, test_fd_table_growth));
	close(hi);
	CU_ASSERT(tw_unrecorded(hi));
	close(fd);
	setrlimit(RLIMIT_NOFILE, &old);
}

/* ---- signals: dispositions ---- */

static void tw_handler(int sig)
{
	(void)sig;
}

/* Kernel view of a disposition, bypassing glibc and the wrappers. */
struct tw_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static int tw_kernel_action(int sig, struct tw_ksigaction *k)
{
	return (int)syscall(SYS_rt_sigaction, sig, NULL, k, 8);
}

static void test_sigaction_shadow(void)
{
	int sig = shim_ctl_signal();
	struct sigaction act = { .sa_handler = tw_handler, .sa_flags = SA_RESTART };
	struct sigaction prev, old, cur;
	struct tw_ksigaction k0, k1;

	CU_ASSERT(shim_reserved_signal(sig));
	CU_ASSERT_EQUAL(tw_kernel_action(sig, &k0), 0);
	CU_ASSERT_EQUAL(sigaction(sig, NULL, &prev), 0);

	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, SIGUSR1);
	KEEPS_ERRNO(sigaction(sig, &act, &old), TW_ZERO);
	CU_ASSERT_EQUAL(old.sa_handler, prev.sa_handler);
	CU_ASSERT_EQUAL(sigaction(sig, NULL, &cur), 0);
	CU_ASSERT_EQUAL(cur.sa_handler, tw_handler);
	CU_ASSERT_EQUAL(cur.sa_flags, SA_RESTART);
	CU_ASSERT(sigismember(&cur.sa_mask, SIGUSR1));

	/* The kernel still has libckpt's action. */
	CU_ASSERT_EQUAL(tw_kernel_action(sig, &k1), 0);
	CU_ASSERT_EQUAL(k1.handler, k0.handler);
	CU_ASSERT_EQUAL(k1.flags, k0.flags);
	CU_ASSERT_EQUAL(k1.mask, k0.mask);

	/* The signal() family sees and changes only the shadow. */
	CU_ASSERT_EQUAL(signal(sig, SIG_IGN), tw_handler);
	CU_ASSERT_EQUAL(sysv_signal(sig, tw_handler), SIG_IGN);
	CU_ASSERT_EQUAL(sigset(sig, SIG_DFL), tw_handler);
	CU_ASSERT_EQUAL(sigignore(sig), 0);
	CU_ASSERT_EQUAL(siginterrupt(sig, 1), 0);
	CU_ASSERT_EQUAL(sigaction(sig, NULL, &cur), 0);
	CU_ASSERT_EQUAL(cur.sa_handler, SIG_IGN);
	CU_ASSERT_EQUAL(signal(sig, SIG_ERR), SIG_ERR);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(tw_kernel_action(sig, &k1), 0);
	CU_ASSERT_EQUAL(k1.handler, k0.handler);
	CU_ASSERT_EQUAL(k1.flags, k0.flags);

	CU_ASSERT_EQUAL(sigaction(sig, &prev, NULL), 0);
}

/* A handler's sa_mask never blocks a reserved signal in the kernel. */
static void test_sigaction_mask_strip(void)
{
	int sig = shim_ctl_signal();
	struct sigaction act = { .sa_handler = tw_handler }, save, cur;
	struct tw_ksigaction k;

	sigfillset(&act.sa_mask);
	CU_ASSERT_EQUAL(sigaction(SIGUSR2, &act, &save), 0);
	CU_ASSERT_EQUAL(tw_kernel_action(SIGUSR2, &k), 0);
	CU_ASSERT_EQUAL(k.handler, tw_handler);
	CU_ASSERT_EQUAL(k.mask >> (sig - 1) & 1, 0);
	CU_ASSERT_EQUAL(k.mask >> (SIGUSR1 - 1) & 1, 1);
	CU_ASSERT_EQUAL(sigaction(SIGUSR2, NULL, &cur), 0);
	CU_ASSERT(sigismember(&cur.sa_mask, sig));	/* the app's view */
	CU_ASSERT(sigismember(&cur.sa_mask, SIGUSR1));
	CU_ASSERT_EQUAL(sigaction(SIGUSR2, &save, &cur), 0);
	CU_ASSERT(sigismember(&cur.sa_mask, sig));
	CU_ASSERT_EQUAL(sigaction(SIGUSR2, NULL, &cur), 0);
	CU_ASSERT(!sigismember(&cur.sa_mask, sig));
}

static void test_sigaction_invalid(void)
{
	static const int bad[] = { 0, -1, 65, 1000, SIGKILL, SIGSTOP, 32, 33 };
	sighandler_t (*libc_signal)(int, sighandler_t) = tw_libc("signal");
	int (*libc_sigprocmask)(int, const sigset_t *, sigset_t *) =
		tw_libc("sigprocmask");
	struct sigaction act = { .sa_handler = tw_handler }, o1, o2;
	sigset_t s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		SAME(sigaction(bad[i], &act, NULL),
		     wrap_real_sigaction(bad[i], &act, NULL));
		SAME(sigaction(bad[i], NULL, &o1), wrap_real_sigaction(bad[i], NULL, &o2));
		SAME(signal(bad[i], tw_handler), libc_signal(bad[i], tw_handler));
	}
	CU_ASSERT_EQUAL(sigaction(SIGKILL, &act, NULL), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);

	sigemptyset(&s);
	SAME(sigprocmask(12345, &s, NULL), libc_sigprocmask(12345, &s, NULL));
	SAME(pthread_sigmask(12345, &s, NULL), wrap_real_sigmask(12345, &s, NULL));
	SAME(sigprocmask(SIG_BLOCK, NULL, (sigset_t *)8),
	     libc_sigprocmask(SIG_BLOCK, NULL, (sigset_t *)8));
}

/* ---- signals: masks ---- */

static uint64_t tw_kernel_mask(void)
{
	uint64_t m = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

static void *tw_block_in_thread(void *arg)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, *(int *)arg);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	pthread_sigmask(SIG_BLOCK, NULL, &s);
	return (void *)(intptr_t)sigismember(&s, *(int *)arg);
}

static void test_sigprocmask_reserved(void)
{
	int sig = shim_ctl_signal();
	sigset_t all, saved, view, one;
	pthread_t t;
	void *res;

	sigfillset(&all);
	KEEPS_ERRNO(sigprocmask(SIG_BLOCK, &all, &saved), TW_ZERO);
	CU_ASSERT(!sigismember(&saved, sig));
	CU_ASSERT_EQUAL(tw_kernel_mask() >> (sig - 1) & 1, 0);	/* kernel: open */
	CU_ASSERT_EQUAL(tw_kernel_mask() >> (SIGUSR1 - 1) & 1, 1);
	CU_ASSERT_EQUAL(sigprocmask(SIG_SETMASK, NULL, &view), 0);
	CU_ASSERT(sigismember(&view, sig));			/* app: blocked */
	CU_ASSERT(sigismember(&view, SIGUSR1));
	CU_ASSERT_EQUAL(pthread_sigmask(SIG_BLOCK, NULL, &view), 0);
	CU_ASSERT(sigismember(&view, sig));

	/* A failed call changes no view. */
	CU_ASSERT_EQUAL(sigprocmask(12345, &saved, NULL), -1);
	CU_ASSERT_EQUAL(sigprocmask(SIG_BLOCK, NULL, &view), 0);
	CU_ASSERT(sigismember(&view, sig));

	sigemptyset(&one);
	sigaddset(&one, sig);
	CU_ASSERT_EQUAL(pthread_sigmask(SIG_UNBLOCK, &one, &view), 0);
	CU_ASSERT(sigismember(&view, sig));
	CU_ASSERT_EQUAL(pthread_sigmask(SIG_BLOCK, NULL, &view), 0);
	CU_ASSERT(!sigismember(&view, sig));
	CU_ASSERT(sigismember(&view, SIGUSR1));

	/* The view is per thread: another thread's block is its own. */
	pthread_create(&t, NULL, tw_block_in_thread, &sig);
	pthread_join(t, &res);
	CU_ASSERT_EQUAL((intptr_t)res, 1);
	CU_ASSERT_EQUAL(pthread_sigmask(SIG_BLOCK, NULL, &view), 0);
	CU_ASSERT(!sigismember(&view, sig));

	CU_ASSERT_EQUAL(sighold(sig), 0);
	CU_ASSERT_EQUAL(tw_kernel_mask() >> (sig - 1) & 1, 0);
	CU_ASSERT_EQUAL(sigprocmask(SIG_BLOCK, NULL, &view), 0);
	CU_ASSERT(sigismember(&view, sig));
	CU_ASSERT_EQUAL(sigrelse(sig), 0);
	CU_ASSERT_EQUAL(sigset(sig, SIG_HOLD), SIG_DFL);
	CU_ASSERT_EQUAL(sigset(sig, SIG_DFL), SIG_HOLD);
	CU_ASSERT_EQUAL(sigprocmask(SIG_BLOCK, NULL, &view), 0);
	CU_ASSERT(!sigismember(&view, sig));

	CU_ASSERT_EQUAL(sigprocmask(SIG_SETMASK, &saved, &view), 0);
	CU_ASSERT(!sigismember(&view, sig));
	CU_ASSERT(sigismember(&view, SIGUSR1));
	CU_ASSERT_EQUAL(tw_kernel_mask() >> (SIGUSR1 - 1) & 1,
			(uint64_t)sigismember(&saved, SIGUSR1));
}

/*
 * Waits with a full temporary mask still take the reserved signal: a
 * thread sends it to us every few ms until we are out.  With the mask
 * not filtered, ppoll/pselect/epoll_pwait would run into their 5 s
 * timeout (returning 0) and sigsuspend would wait for the SIGALRM
 * fallback.
 */
static volatile int tw_hits, tw_done;
static pid_t tw_main_tid;

static void tw_count(int sig)
{
	(void)sig;
	tw_hits++;
}

static void *tw_sender(void *arg)
{
	int sig = *(int *)arg;

	while (!tw_done) {
		syscall(SYS_tgkill, getpid(), tw_main_tid, sig);
		usleep(5000);
	}
	return NULL;
}

static void test_wait_masks(void)
{
	int sig = shim_ctl_signal(), ep = epoll_create1(0), h;
	struct sigaction count = { .sa_handler = tw_count }, kold, alrm = {
		.sa_handler = tw_handler }, aold;
	struct timespec ts = { .tv_sec = 5 };
	struct epoll_event ev;
	sigset_t all, noalrm;
	pthread_t t;

	/* Our counter in the kernel for the reserved signal, for a while. */
	sigemptyset(&count.sa_mask);
	CU_ASSERT_EQUAL(wrap_real_sigaction(sig, &count, &kold), 0);
	sigaction(SIGALRM, &alrm, &aold);
	sigfillset(&all);
	sigfillset(&noalrm);
	sigdelset(&noalrm, SIGALRM);
	tw_main_tid = (pid_t)syscall(SYS_gettid);
	tw_done = 0;
	pthread_create(&t, NULL, tw_sender, &sig);

	h = tw_hits;
	FAILS_WITH(ppoll(NULL, 0, &ts, &all), EINTR);
	CU_ASSERT(tw_hits > h);
	h = tw_hits;
	FAILS_WITH(pselect(0, NULL, NULL, NULL, &ts, &all), EINTR);
	CU_ASSERT(tw_hits > h);
	h = tw_hits;
	FAILS_WITH(epoll_pwait(ep, &ev, 1, 5000, &all), EINTR);
	CU_ASSERT(tw_hits > h);
	h = tw_hits;
	alarm(5);
	FAILS_WITH(sigsuspend(&noalrm), EINTR);
	alarm(0);
	CU_ASSERT(tw_hits > h);

	tw_done = 1;
	pthread_join(t, NULL);
	wrap_real_sigaction(sig, &kold, NULL);
	sigaction(SIGALRM, &aold, NULL);
	close(ep);
}

UNIT_SUITE(wrap_fd,
	{ "open family: result, errno, mode, record", test_open_family },
	{ "close, dup, fcntl", test_close_dup },
	{ "pipes and sockets", test_pipes_sockets },
	{ "event fds, signalfd mask", test_event_fds },
	{ "inotify watches: paths recorded, results exact", test_inotify_watches },
	{ "fd table growth past 1024", test_fd_table_growth },
);

UNIT_SUITE(wrap_signal,
	{ "sigaction on a reserved signal: shadow only", test_sigaction_shadow },
	{ "sa_mask keeps reserved signals out", test_sigaction_mask_strip },
	{ "invalid requests fail like glibc", test_sigaction_invalid },
	{ "masks: reserved open in kernel, blocked in view", test_sigprocmask_reserved },
	{ "temporary masks: reserved still delivered", test_wait_masks },
);

/* A new thread sees the reserved signal blocked when its creator did. */
static void *thread_view(void *arg)
{
	sigset_t old;

	pthread_sigmask(SIG_BLOCK, NULL, &old);
	return (void *)(intptr_t)sigismember(&old, shim_ctl_signal());
}

static void test_thread_inherits_view(void)
{
	sigset_t all, saved;
	pthread_t t;
	void *seen;

	sigfillset(&all);
	CU_ASSERT_EQUAL(pthread_sigmask(SIG_SETMASK, &all, &saved), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, thread_view, NULL), 0);
	pthread_join(t, &seen);
	CU_ASSERT_EQUAL((intptr_t)seen, 1);		/* blocked, as the creator sees it */
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, thread_view, NULL), 0);
	pthread_join(t, &seen);
	CU_ASSERT_EQUAL((intptr_t)seen, 0);
}

UNIT_SUITE(wrap_thread, { "new threads inherit the reserved-signal view", test_thread_inherits_view });
