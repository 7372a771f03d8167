/*
 * posixipc.c - POSIX message queues and POSIX shared memory survive
 * checkpoint, SIGKILL and restart (tests/e2e/t_mqueue.sh, t_posix_shm.sh).
 *
 *   posixipc mq NAME GOFILE     queues /NAME, /NAME-gone, /NAME-sig: print
 *                               "READY", wait for GOFILE, check: "OK" or
 *                               "BAD ..." lines (exit 1)
 *   posixipc mq-thread NAME GOFILE   /NAME with a SIGEV_THREAD registration
 *   posixipc shm NAME GOFILE    /dev/shm/NAME mapped (shared and private) and
 *                               open twice, /dev/shm/NAME-map mapped only,
 *                               semaphore /NAME-sem, and /dev/shm/NAME-gone
 *                               unlinked while mapped
 *   posixipc shm-user NAME GOFILE   the same without NAME-gone (an unprivileged
 *                               user cannot save a deleted file only mappings hold)
 *   posixipc shm-ro NAME GOFILE another user's /dev/shm/NAME (16 bytes or more),
 *                               open read-only and mapped: the same afterwards
 *   posixipc meddle NAME        another process writes to /dev/shm/NAME and
 *                               NAME-map, grows NAME, posts the semaphore
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
 * shm: /dev/shm/NAME (mode 0640, 3 pages + 10 bytes) mapped shared,
 * written through the mapping, open at offset 100 (O_RDWR|O_NOFOLLOW,
 * shm_open's) and again O_RDONLY at offset 7, mapped private with a page
 * of its own; /dev/shm/NAME-map (0604, 1 MiB: data in its first and last
 * page, a hole between) mapped shared, its fd closed; the named semaphore
 * /NAME-sem (/dev/shm/sem.NAME-sem) at 3; /dev/shm/NAME-gone mapped shared
 * and unlinked.  The checks: contents through the mappings and the fds,
 * one file behind them, the offsets and flags, mode, size, owner, the
 * hole, the semaphore's value, the unlinked one stays unlinked; prints
 * "INO <inode of NAME>".
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
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

#define MAPSZ	(1 << 20)		/* /NAME-map: sparse, data in its first and last page */

static char path[300], path2[300], mpath[300], spath[300];
static size_t len = 3 * PG + 10;
static int fd, fd2;
static unsigned char *m, *m2, *priv, *mm;
static sem_t *sem;
static int nogone;		/* shm-user: no NAME-gone (an unprivileged user cannot save it) */

static void shm_names(const char *n)
{
	snprintf(path, sizeof(path), "/%s", n);
	snprintf(path2, sizeof(path2), "/%s-gone", n);
	snprintf(mpath, sizeof(mpath), "/%s-map", n);
	snprintf(spath, sizeof(spath), "/%s-sem", n);
}

static int shm_setup(const char *n)
{
	int f2, fm;
	mode_t um = umask(0);

	shm_names(n);
	fd = shm_open(path, O_CREAT | O_EXCL | O_RDWR, 0640);
	f2 = shm_open(nogone ? "/ckpt-unused" : path2, O_CREAT | O_EXCL | O_RDWR, 0600);
	fm = shm_open(mpath, O_CREAT | O_EXCL | O_RDWR, 0604);
	sem = sem_open(spath, O_CREAT | O_EXCL, 0600, 0);
	umask(um);
	if (fd < 0 || f2 < 0 || fm < 0 || sem == SEM_FAILED || ftruncate(fd, len) < 0 ||
	    ftruncate(f2, 2 * PG) < 0 || ftruncate(fm, MAPSZ) < 0) {
		printf("setup: shm_open: %s\n", strerror(errno));
		return 1;
	}
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	m2 = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, f2, 0);
	mm = mmap(NULL, MAPSZ, PROT_READ | PROT_WRITE, MAP_SHARED, fm, 0);
	if (m == MAP_FAILED || priv == MAP_FAILED || m2 == MAP_FAILED || mm == MAP_FAILED) {
		printf("setup: mmap: %s\n", strerror(errno));
		return 1;
	}
	close(f2);
	close(fm);
	shm_unlink(nogone ? "/ckpt-unused" : path2);
	if (nogone)
		munmap(m2, 2 * PG);
	for (size_t i = 0; i < len; i++)
		m[i] = pat(i);
	priv[0] = 0x55;			/* a page of the private mapping of its own */
	if (!nogone)
		memset(m2, 0x6b, 2 * PG);
	memset(mm, 0x3c, PG);
	memset(mm + MAPSZ - PG, 0x3d, PG);
	for (int i = 0; i < 3; i++)
		sem_post(sem);
	lseek(fd, 100, SEEK_SET);
	fd2 = shm_open(path, O_RDONLY, 0);	/* a second description of the object */
	if (fd2 < 0 || lseek(fd2, 7, SEEK_SET) != 7) {
		printf("setup: second shm_open: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static int shm_check(void)
{
	unsigned char buf[16];
	struct stat st;
	int bad = 0, f, v = -1;

	for (size_t i = 0; i < len; i++)
		if (m[i] != pat(i)) {
			BAD("%s: byte %zu is %u", path, i, m[i]);
			break;
		}
	if (lseek(fd, 0, SEEK_CUR) != 100 || read(fd, buf, 4) != 4 || buf[0] != pat(100))
		BAD("%s: offset or contents through the fd", path);
	if (lseek(fd2, 0, SEEK_CUR) != 7 || read(fd2, buf, 1) != 1 || buf[0] != pat(7) ||
	    (fcntl(fd2, F_GETFL) & O_ACCMODE) != O_RDONLY || !(fcntl(fd, F_GETFL) & O_NOFOLLOW))
		BAD("%s: the second description (offset, contents, flags)", path);
	if (priv[0] != 0x55 || priv[1] != pat(1) || priv[PG] != pat(PG))
		BAD("%s: the private mapping: %u %u %u", path, priv[0], priv[1], priv[PG]);
	m[PG] = 0xfe;
	if (pread(fd, buf, 1, PG) != 1 || buf[0] != 0xfe || pread(fd2, buf, 1, PG) != 1 ||
	    buf[0] != 0xfe)
		BAD("%s: the mapping and the fds are not one file", path);
	if (fstat(fd, &st) < 0 || (st.st_mode & 0777) != 0640 || st.st_size != (off_t)len ||
	    st.st_uid != getuid() || st.st_nlink != 1)
		BAD("%s: mode %o size %lld uid %u", path, st.st_mode & 0777, (long long)st.st_size,
		    st.st_uid);
	printf("INO %lu\n", (unsigned long)st.st_ino);
	for (size_t i = 0; !nogone && i < 2 * PG; i++)
		if (m2[i] != 0x6b) {
			BAD("%s: byte %zu is %u", path2, i, m2[i]);
			break;
		}
	if (shm_open(path2, O_RDONLY, 0) >= 0)
		BAD("%s has a name again", path2);
	/*
	 * the mapping-only object: mode, its hole (before anything reads it
	 * through the mapping, which would fill it), contents, one file with
	 * its name
	 */
	f = shm_open(mpath, O_RDWR, 0);
	if (f < 0 || fstat(f, &st) < 0 || (st.st_mode & 0777) != 0604 || st.st_size != MAPSZ ||
	    lseek(f, PG, SEEK_DATA) != MAPSZ - PG)
		BAD("%s: mode %o, size %lld, or its hole is not one (data at %lld)", mpath,
		    st.st_mode & 0777, (long long)st.st_size, (long long)lseek(f, PG, SEEK_DATA));
	if (f < 0 || pread(f, buf, 1, MAPSZ / 2) != 1 || buf[0])
		BAD("%s: the hole does not read as zeros", mpath);
	for (size_t i = 0; i < PG; i++)
		if (mm[i] != 0x3c || mm[MAPSZ - PG + i] != 0x3d) {
			BAD("%s: byte %zu of a page differs", mpath, i);
			break;
		}
	mm[10] = 0x77;
	if (f < 0 || pread(f, buf, 1, 10) != 1 || buf[0] != 0x77)
		BAD("%s: the mapping is not of the object under its name", mpath);
	if (f >= 0)
		close(f);
	/* the named semaphore (sem_open: /dev/shm/sem.NAME, mapped only) */
	if (sem_getvalue(sem, &v) < 0 || v != 3)
		BAD("%s: semaphore value %d, want 3", spath, v);
	if (sem_post(sem) < 0 || sem_trywait(sem) < 0)
		BAD("%s: post and wait", spath);
	return bad;
}

static int run_shm(const char *n, const char *go)
{
	int bad;

	if (shm_setup(n))
		return 1;
	printf("READY\n");
	wait_for(go);
	bad = shm_check();
	shm_unlink(path);
	shm_unlink(mpath);
	sem_unlink(spath);
	if (!bad)
		printf("OK\n");
	return bad ? 1 : 0;
}

/* shm-ro: another user's object /dev/shm/NAME, open read-only and mapped: it still says what it said. */
static int run_shm_ro(const char *n, const char *go)
{
	char want[16], buf[16];
	unsigned char *p;
	int f;

	shm_names(n);
	f = shm_open(path, O_RDONLY, 0);
	p = f < 0 ? MAP_FAILED : mmap(NULL, PG, PROT_READ, MAP_SHARED, f, 0);
	if (p == MAP_FAILED || pread(f, want, sizeof(want), 0) != sizeof(want)) {
		printf("setup: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("READY\n");
	wait_for(go);
	if (memcmp(p, want, sizeof(want)) || pread(f, buf, sizeof(buf), 0) != sizeof(buf) ||
	    memcmp(buf, want, sizeof(want))) {
		printf("BAD %s: the contents differ\n", path);
		return 1;
	}
	printf("OK\n");
	return 0;
}

/* What another process does to the objects while the checkpointed one is dead (a crash). */
static int shm_meddle(const char *n)
{
	sem_t *s;
	int f, g;

	shm_names(n);
	f = shm_open(path, O_RDWR, 0);
	g = shm_open(mpath, O_RDWR, 0);
	s = sem_open(spath, 0);
	if (f < 0 || g < 0 || s == SEM_FAILED || pwrite(f, "XXXX", 4, PG) != 4 ||
	    ftruncate(f, 5 * PG) < 0 || pwrite(g, "Z", 1, MAPSZ / 2) != 1 || sem_post(s) < 0) {
		printf("meddle: %s\n", strerror(errno));
		return 1;
	}
	return 0;
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
	if (argc == 4 && !strcmp(argv[1], "shm-ro"))
		return run_shm_ro(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "shm-user")) {
		nogone = 1;
		return run_shm(argv[2], argv[3]);
	}
	if (argc == 3 && !strcmp(argv[1], "meddle"))
		return shm_meddle(argv[2]);
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
	fprintf(stderr, "usage: posixipc mq|mq-thread|shm NAME GOFILE | add|take|exists|rm|meddle NAME\n");
	return 2;
}
