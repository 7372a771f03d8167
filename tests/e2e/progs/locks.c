/*
 * locks.c DIR - holds one of every kind of file lock, for t_locks.sh:
 *
 *   DIR/posix.dat   POSIX locks through fd A (and its dup): read 10-19,
 *                   write 100-149, read from 2000 to EOF taken with
 *                   SEEK_CUR, then write 4000-4005 taken with SEEK_END,
 *                   which splits it (read 2000-3999, read 4006-EOF); the
 *                   file offset is left at 2000
 *   DIR/flock.dat   flock LOCK_EX
 *   DIR/flocksh.dat flock LOCK_SH through two descriptions
 *   DIR/ofd.dat     OFD locks: write 0-99 and read 300-EOF through one
 *                   description, read 200-299 through another
 *   DIR/lease.dat   a read lease, its break signalled with SIGRTMIN+2
 *                   (F_SETSIG): the handler notes it, main reports
 *                   "LEASE broken signo=N fd=M" and lets the lease go
 *   DIR/wait.dat    a thread blocked in F_SETLKW (write, byte 0), held by
 *                   another process: "WAITER posix" once it has it
 *   DIR/fwait.dat   a thread blocked in flock(LOCK_EX), likewise:
 *                   "WAITER flock"
 * Prints READY, then polls: DIR/status appearing (removed) prints
 * "STATUS lease=L pos=P" (F_GETLEASE of the lease fd, offset of fd A).
 * The test checkpoints it, kills it, restarts it and asks other processes
 * (lockcheck) which locks are held, and by whom.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const char *dir;
static volatile sig_atomic_t lease_sig, lease_fd;

static int open_in(const char *name, int flags)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags | O_CREAT, 0600);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

static void must(int r, const char *what)
{
	if (r < 0) {
		perror(what);
		exit(1);
	}
}

static void posix_lock(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };

	must(fcntl(fd, cmd, &fl), "fcntl lock");
}

static void on_lease(int sig, siginfo_t *si, void *uc)
{
	lease_sig = sig;
	lease_fd = si->si_fd;
}

static void *posix_waiter(void *arg)
{
	int fd = open_in("wait.dat", O_RDWR);

	posix_lock(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
	printf("WAITER posix fd=%d\n", fd);
	return NULL;
}

static void *flock_waiter(void *arg)
{
	int fd = open_in("fwait.dat", O_RDONLY);

	must(flock(fd, LOCK_EX), "flock wait");
	printf("WAITER flock fd=%d\n", fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_lease, .sa_flags = SA_SIGINFO | SA_RESTART };
	pthread_t t1, t2;
	char status[4096];
	int a, c, d, e, f, g, h;

	if (argc != 2) {
		fprintf(stderr, "usage: locks DIR\n");
		return 2;
	}
	dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);

	a = open_in("posix.dat", O_RDWR);
	must(ftruncate(a, 4096), "ftruncate");
	must(dup(a), "dup");
	posix_lock(a, F_SETLK, F_RDLCK, SEEK_SET, 10, 10);
	posix_lock(a, F_SETLK, F_WRLCK, SEEK_SET, 100, 50);
	must(lseek(a, 2000, SEEK_SET), "lseek");
	posix_lock(a, F_SETLK, F_RDLCK, SEEK_CUR, 0, 0);
	posix_lock(a, F_SETLK, F_WRLCK, SEEK_END, -96, 6);

	c = open_in("flock.dat", O_RDONLY);
	must(flock(c, LOCK_EX | LOCK_NB), "flock ex");
	d = open_in("flocksh.dat", O_RDONLY);
	e = open_in("flocksh.dat", O_RDONLY);
	must(flock(d, LOCK_SH | LOCK_NB), "flock sh");
	must(flock(e, LOCK_SH | LOCK_NB), "flock sh 2");

	f = open_in("ofd.dat", O_RDWR);
	g = open_in("ofd.dat", O_RDWR);
	must(ftruncate(f, 1024), "ftruncate");
	posix_lock(f, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 100);
	posix_lock(g, F_OFD_SETLK, F_RDLCK, SEEK_SET, 200, 100);
	posix_lock(f, F_OFD_SETLK, F_RDLCK, SEEK_SET, 300, 0);

	must(sigaction(SIGRTMIN + 2, &sa, NULL), "sigaction");
	h = open_in("lease.dat", O_RDONLY);
	must(fcntl(h, F_SETSIG, SIGRTMIN + 2), "F_SETSIG");
	must(fcntl(h, F_SETLEASE, F_RDLCK), "F_SETLEASE");

	if (pthread_create(&t1, NULL, posix_waiter, NULL) ||
	    pthread_create(&t2, NULL, flock_waiter, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	printf("READY pid=%d lease_fd=%d sig=%d\n", getpid(), h, SIGRTMIN + 2);
	snprintf(status, sizeof(status), "%s/status", dir);
	for (;;) {
		if (lease_sig) {
			printf("LEASE broken signo=%d fd=%d\n", (int)lease_sig, (int)lease_fd);
			must(fcntl(h, F_SETLEASE, F_UNLCK), "F_SETLEASE unlock");
			lease_sig = 0;
		}
		if (access(status, F_OK) == 0) {
			unlink(status);
			printf("STATUS lease=%d pos=%ld\n", fcntl(h, F_GETLEASE),
			       (long)lseek(a, 0, SEEK_CUR));
		}
		usleep(10000);
	}
}
