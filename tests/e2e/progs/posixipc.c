/*
 * posixipc.c - POSIX message queues and POSIX shared memory survive
 * checkpoint, SIGKILL and restart (tests/e2e/t_mqueue.sh, t_posix_shm.sh).
 *
 *   posixipc mq NAME GOFILE     queues /NAME, /NAME-gone, /NAME-sig: print
 *                               "READY", wait for GOFILE, check: "OK" or
 *                               "BAD ..." lines (exit 1)
 *   posixipc mq-thread NAME GOFILE   /NAME with a SIGEV_THREAD registration
 *   posixipc shm NAME GOFILE    /dev/shm/NAME mapped and open, and a second
 *                               one unlinked while mapped
 *   posixipc add NAME           another process sends to /NAME meanwhile
 *   posixipc take NAME          another queue under the name /NAME
 *   posixipc exists NAME        exit 0 when /NAME exists (here)
 *   posixipc rm NAME            unlinks /NAME and /NAME-sig (what a reboot does)
 *   posixipc hold NAME GOFILE   makes /NAME and registers for its notifications,
 *                               "READY", waits for GOFILE (another process's)
 *   posixipc open NAME GOFILE [raw]  opens /NAME, "READY", waits for GOFILE; raw:
 *                               registers with a raw system call first
 *
 * mq: /NAME, mode 0640, at most 8 messages of 128 bytes, opened twice:
 * fd A O_RDWR (blocking), fd B O_WRONLY|O_NONBLOCK; six messages of
 * priorities 1 5 1 9 5 0 (one empty), so mq_receive gives d9 b5 e5 a1 c1
 * and the empty one; registered for notification (SIGEV_SIGNAL SIGUSR2,
 * value 55) while it holds messages.  /NAME-gone: unlinked while open,
 * two messages.  /NAME-sig: empty, registered (SIGUSR2, value 77).
 * The checks: attributes, flags of each fd, mode, every message in order
 * with its priority; B is the same queue (sent through B, received
 * through A); /NAME-gone has no name and its messages; each registration
 * fires when its queue goes from empty to not empty, with its value.
 * shm: /dev/shm/NAME (mode 0640, 3 pages + 10 bytes) mapped shared and
 * open at offset 100, written through the mapping; /dev/shm/NAME-gone
 * mapped shared and unlinked.  The checks: contents through the mapping
 * and the fd, one file, the offset, the unlinked one stays unlinked.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PG 4096
#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad++; } while (0)

static const char *const texts[] = { "a1", "b5", "c1", "d9", "e5", "" };
static const unsigned prios[] = { 1, 5, 1, 9, 5, 0 };
static const int order[] = { 3, 1, 4, 0, 2, 5 };	/* as mq_receive gives them */

static char qname[256], gone[256], signame[256];

static void names(const char *n)
{
	snprintf(qname, sizeof(qname), "/%s", n);
	snprintf(gone, sizeof(gone), "/%s-gone", n);
	snprintf(signame, sizeof(signame), "/%s-sig", n);
}

static void wait_for(const char *go)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (access(go, F_OK) != 0)
		nanosleep(&ts, NULL);
}

/* The notification of a queue that went from empty to not empty: SIGUSR2 with value. */
static int got_notify(int value)
{
	struct timespec ts = { 5, 0 };
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (sigtimedwait(&set, &si, &ts) != SIGUSR2)
		return 0;
	return si.si_code == SI_MESGQ && si.si_value.sival_int == value;
}

static int check_mq(mqd_t a, mqd_t b, mqd_t g, mqd_t s)
{
	struct mq_attr at;
	struct stat st;
	char buf[128];
	unsigned p;
	int bad = 0;

	if (mq_getattr(a, &at) < 0 || at.mq_maxmsg != 8 || at.mq_msgsize != 128 ||
	    at.mq_curmsgs != 6 || at.mq_flags != 0)
		BAD("%s: attributes max %ld size %ld cur %ld flags %lx", qname, at.mq_maxmsg,
		    at.mq_msgsize, at.mq_curmsgs, at.mq_flags);
	if (mq_getattr(b, &at) < 0 || !(at.mq_flags & O_NONBLOCK) ||
	    (fcntl(b, F_GETFL) & O_ACCMODE) != O_WRONLY || (fcntl(a, F_GETFL) & O_ACCMODE) != O_RDWR)
		BAD("%s: fd flags %#x and %#x", qname, fcntl(a, F_GETFL), fcntl(b, F_GETFL));
	if (fstat(a, &st) < 0 || (st.st_mode & 0777) != 0640 || st.st_uid != getuid())
		BAD("%s: mode %o uid %u", qname, st.st_mode & 0777, st.st_uid);
	for (int i = 0; i < 6; i++) {
		ssize_t n = mq_receive(a, buf, sizeof(buf), &p);

		if (n != (ssize_t)strlen(texts[order[i]]) || memcmp(buf, texts[order[i]], n) ||
		    p != prios[order[i]]) {
			BAD("%s: message %d: %zd bytes, priority %u", qname, i, n, p);
			break;
		}
	}
	/* empty now: a message through B (the same queue) notifies, value 55 */
	if (mq_send(b, "x", 1, 3) < 0 || !got_notify(55))
		BAD("%s: no notification with value 55 after a send through fd B", qname);
	if (mq_receive(a, buf, sizeof(buf), &p) != 1 || buf[0] != 'x' || p != 3)
		BAD("%s: fd B's message did not arrive through fd A", qname);
	if (mq_open(gone, O_RDONLY) != (mqd_t)-1 || errno != ENOENT)
		BAD("%s has a name again", gone);
	for (int i = 0; i < 2; i++)
		if (mq_receive(g, buf, sizeof(buf), &p) != 5 || memcmp(buf, i ? "gone0" : "gone1", 5) ||
		    p != (unsigned)!i)
			BAD("%s: message %d", gone, i);
	if (mq_send(s, "s", 1, 0) < 0 || !got_notify(77))
		BAD("%s: no notification with value 77", signame);
	return bad;
}

static int run_mq(const char *n, const char *go, int thread)
{
	struct mq_attr at = { .mq_maxmsg = 8, .mq_msgsize = 128 };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	mqd_t a, b, g, s;
	sigset_t set;
	mode_t um = umask(0);
	int bad;

	names(n);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	a = mq_open(qname, O_CREAT | O_EXCL | O_RDWR, 0640, &at);
	b = mq_open(qname, O_WRONLY | O_NONBLOCK);
	g = mq_open(gone, O_CREAT | O_EXCL | O_RDWR, 0600, &at);
	s = mq_open(signame, O_CREAT | O_EXCL | O_RDWR, 0600, &at);
	umask(um);
	if (a == (mqd_t)-1 || b == (mqd_t)-1 || g == (mqd_t)-1 || s == (mqd_t)-1) {
		printf("setup: mq_open: %s\n", strerror(errno));
		return 1;
	}
	mq_unlink(gone);
	for (int i = 0; i < 6; i++)
		if (mq_send(a, texts[i], strlen(texts[i]), prios[i]) < 0) {
			printf("setup: mq_send: %s\n", strerror(errno));
			return 1;
		}
	if (mq_send(g, "gone0", 5, 0) < 0 || mq_send(g, "gone1", 5, 1) < 0) {
		printf("setup: mq_send: %s\n", strerror(errno));
		return 1;
	}
	if (thread) {
		ev.sigev_notify = SIGEV_THREAD;
		ev.sigev_notify_function = (void (*)(union sigval))abort;
	}
	ev.sigev_value.sival_int = 55;
	if (mq_notify(a, &ev) < 0) {
		printf("setup: mq_notify: %s\n", strerror(errno));
		return 1;
	}
	ev.sigev_value.sival_int = 77;
	if (!thread && mq_notify(s, &ev) < 0) {
		printf("setup: mq_notify: %s\n", strerror(errno));
		return 1;
	}
	printf("READY\n");
	wait_for(go);
	bad = check_mq(a, b, g, s);
	mq_unlink(qname);
	mq_unlink(signame);
	if (!bad)
		printf("OK\n");
	return bad ? 1 : 0;
}

static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 13 + 1);
}

static int run_shm(const char *n, const char *go)
{
	char path[300], path2[300];
	size_t len = 3 * PG + 10;
	int fd, fd2, bad = 0;
	unsigned char *m, *m2, buf[16];
	struct stat st;

	snprintf(path, sizeof(path), "/%s", n);
	snprintf(path2, sizeof(path2), "/%s-gone", n);
	fd = shm_open(path, O_CREAT | O_EXCL | O_RDWR, 0640);
	fd2 = shm_open(path2, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0 || fd2 < 0 || fchmod(fd, 0640) < 0 || ftruncate(fd, len) < 0 ||
	    ftruncate(fd2, 2 * PG) < 0) {
		printf("setup: shm_open: %s\n", strerror(errno));
		return 1;
	}
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	m2 = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	if (m == MAP_FAILED || m2 == MAP_FAILED) {
		printf("setup: mmap: %s\n", strerror(errno));
		return 1;
	}
	close(fd2);
	shm_unlink(path2);
	for (size_t i = 0; i < len; i++)
		m[i] = pat(i);
	memset(m2, 0x6b, 2 * PG);
	lseek(fd, 100, SEEK_SET);
	printf("READY\n");
	wait_for(go);
	for (size_t i = 0; i < len; i++)
		if (m[i] != pat(i)) {
			BAD("%s: byte %zu is %u", path, i, m[i]);
			break;
		}
	if (lseek(fd, 0, SEEK_CUR) != 100 || read(fd, buf, 4) != 4 || buf[0] != pat(100))
		BAD("%s: offset or contents through the fd", path);
	m[PG] = 0xfe;
	if (pread(fd, buf, 1, PG) != 1 || buf[0] != 0xfe)
		BAD("%s: the mapping and the fd are not one file", path);
	if (fstat(fd, &st) < 0 || (st.st_mode & 0777) != 0640 || st.st_size != (off_t)len)
		BAD("%s: mode %o size %lld", path, st.st_mode & 0777, (long long)st.st_size);
	for (size_t i = 0; i < 2 * PG; i++)
		if (m2[i] != 0x6b) {
			BAD("%s: byte %zu is %u", path2, i, m2[i]);
			break;
		}
	if (shm_open(path2, O_RDONLY, 0) >= 0)
		BAD("%s has a name again", path2);
	shm_unlink(path);
	if (!bad)
		printf("OK\n");
	return bad ? 1 : 0;
}

/* hold and open: the shapes the checkpoint refuses (t_mqueue.sh). */
static int other(const char *what, const char *n, const char *go, int raw)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	mqd_t q;

	names(n);
	if (!strcmp(what, "hold"))
		q = mq_open(qname, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	else
		q = mq_open(qname, O_RDWR);
	if (q == (mqd_t)-1 || ((!strcmp(what, "hold") || raw) &&
			       syscall(SYS_mq_notify, q, &ev) < 0)) {
		printf("setup: %s: %s\n", qname, strerror(errno));
		return 1;
	}
	printf("READY\n");
	wait_for(go);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 4 || argc == 5) && (!strcmp(argv[1], "hold") || !strcmp(argv[1], "open")))
		return other(argv[1], argv[2], argv[3], argc == 5);
	if (argc == 4 && !strcmp(argv[1], "mq"))
		return run_mq(argv[2], argv[3], 0);
	if (argc == 4 && !strcmp(argv[1], "mq-thread"))
		return run_mq(argv[2], argv[3], 1);
	if (argc == 4 && !strcmp(argv[1], "shm"))
		return run_shm(argv[2], argv[3]);
	if (argc == 3) {
		mqd_t q;

		names(argv[2]);
		if (!strcmp(argv[1], "exists"))
			return mq_open(qname, O_RDONLY) == (mqd_t)-1;
		if (!strcmp(argv[1], "add")) {
			q = mq_open(qname, O_WRONLY | O_NONBLOCK);
			return q == (mqd_t)-1 || mq_send(q, "extra", 5, 20) < 0;
		}
		if (!strcmp(argv[1], "rm"))
			return mq_unlink(qname) < 0 || mq_unlink(signame) < 0;
		if (!strcmp(argv[1], "take")) {
			mq_unlink(qname);
			q = mq_open(qname, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
			return q == (mqd_t)-1;
		}
	}
	fprintf(stderr, "usage: posixipc mq|mq-thread|shm NAME GOFILE | add|take|exists|rm NAME\n");
	return 2;
}
