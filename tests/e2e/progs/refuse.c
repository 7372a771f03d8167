/*
 * refuse.c - a resource libckpt cannot save makes the checkpoint fail,
 * and the process is none the worse for it.
 *
 *   refuse KIND self IMAGE
 *   refuse KIND wait IMAGE GOFILE
 * KIND: socket (a raw IPv4 one), pipe (a pipe to another process: the write end of
 * the pipe process REFUSE_PEER reads on its fd 0), fanotify, thread, child
 * (a child running a static binary, static_pause: no libckpt in it),
 * traced (a child this process traces), linked (an open file whose
 * name was removed while it has another link), nsfs (/proc/self/ns/net),
 * pidfd (of the parent process), shmtwice (one shared anonymous object
 * mapped twice, by mremap with an old size of 0).  (Timers and deleted files were refused
 * once; tests/e2e/t_timers.sh and t_ghosts.sh save them.)
 * Makes the resource (prints "FD n" for fd resources), then
 *   self: ckpt_save(IMAGE) must return -1 and leave no IMAGE* file:
 *         prints "REFUSED errno=E: <ckpt_last_error()>";
 *   wait: prints "READY" and waits for GOFILE.1 (the test's ckpt-save
 *         must fail meanwhile).
 * Then proves the resource still works as before (the pipe carries data,
 * the thread and child answer...), releases it
 * and prints "RELEASED"; then
 *   self: ckpt_save(IMAGE) must now succeed: "SAVED" (exit 0), and in the
 *         restarted copy "RESTORED ok" (exit 0);
 *   wait: waits for GOFILE.2 (the test checkpoints, kills, restarts),
 *         prints "FINISHED ok" and exits 0.
 * Any problem: "BAD ..." and exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <sys/fanotify.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

static const char *kind;
static int fd = -1;
static pid_t child;
static pthread_t thr;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int thr_go;
static char path[4096];
static char *shm[2];

#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); exit(1); } while (0)

static void *thread_main(void *arg)
{
	pthread_mutex_lock(&mu);
	while (!thr_go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return (void *)(long)(thr_go * 6);
}

static void wait_file(const char *go, int n)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s.%d", go, n);
	while (access(p, F_OK)) {
		struct timespec t = { 0, 5000000 };

		nanosleep(&t, NULL);
	}
}

static void make(const char *img)
{
	if (!strcmp(kind, "socket")) {
		/* a raw IPv4 socket (TCP and UDP are saved: t_inet.sh; unix: t_unix.sh) */
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		if (fd < 0)
			BAD("socket: %s", strerror(errno));
		printf("FD %d\n", fd);
	} else if (!strcmp(kind, "pipe")) {
		char name[64];

		/* (a pipe of its own, both ends, is saved: tests/e2e/t_pipes.sh) */
		snprintf(name, sizeof(name), "/proc/%s/fd/0", getenv("REFUSE_PEER") ?: "?");
		if ((fd = open(name, O_WRONLY)) < 0)
			BAD("pipe: %s: %s", name, strerror(errno));
		printf("FD %d\n", fd);
	} else if (!strcmp(kind, "fanotify")) {
		/* (FAN_REPORT_FID: what an unprivileged process may make, Linux 5.13) */
		fd = fanotify_init(FAN_CLASS_NOTIF, O_RDONLY);
		if (fd < 0)
			fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID, O_RDONLY);
		if (fd < 0)
			BAD("fanotify_init: %s", strerror(errno));
		printf("FD %d\n", fd);
	} else if (!strcmp(kind, "thread")) {
		if (pthread_create(&thr, NULL, thread_main, NULL))
			BAD("pthread_create");
	} else if (!strcmp(kind, "child") || !strcmp(kind, "traced")) {
		char exe[4200], buf[4200];
		ssize_t n;

		n = readlink("/proc/self/exe", exe, sizeof(exe) - 32);
		if (n < 0)
			BAD("readlink: %s", strerror(errno));
		exe[n] = 0;
		strcpy(strrchr(exe, '/') + 1, "static_pause");
		child = fork();
		if (child < 0)
			BAD("fork: %s", strerror(errno));
		if (child == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (!strcmp(kind, "child"))
				execl(exe, "static_pause", (char *)NULL);
			else
				ptrace(PTRACE_TRACEME, 0, 0, 0);
			for (;;)
				pause();
		}
		/* the static program runs (the child no longer runs this one) */
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)child);
		for (int i = 0; !strcmp(kind, "child") && i < 20000; i++) {
			if ((n = readlink(path, buf, sizeof(buf) - 1)) > 0 &&
			    (buf[n] = 0, strstr(buf, "static_pause")))
				break;
			usleep(1000);
		}
		/* the tracee is traced */
		for (int i = 0; !strcmp(kind, "traced") && i < 20000; i++) {
			char st[4096];
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%d/status", (int)child);
			f = fopen(path, "r");
			while (f && fgets(st, sizeof(st), f))
				if (!strncmp(st, "TracerPid:", 10) && atoi(st + 10) == getpid())
					i = 20000;
			if (f)
				fclose(f);
			usleep(1000);
		}
	} else if (!strcmp(kind, "linked")) {
		char other[4200];

		snprintf(path, sizeof(path), "%s.victim", img);
		/* not IMAGE*: the test looks for what a refused checkpoint left */
		snprintf(other, sizeof(other), "/tmp/ckpt-refuse-other.%d", (int)getpid());
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, "hello", 5) != 5 || link(path, other) || unlink(path))
			BAD("linked: %s", strerror(errno));
		printf("FD %d\n", fd);
	} else if (!strcmp(kind, "nsfs")) {
		fd = open("/proc/self/ns/net", O_RDONLY);
		if (fd < 0)
			BAD("nsfs: %s", strerror(errno));
		printf("FD %d\n", fd);
	} else if (!strcmp(kind, "pidfd")) {
		fd = syscall(SYS_pidfd_open, getppid(), 0);
		if (fd < 0)
			BAD("pidfd: %s", strerror(errno));
		printf("FD %d\n", fd);
	} else if (!strcmp(kind, "shmtwice")) {
		shm[0] = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		shm[1] = shm[0] == MAP_FAILED ? MAP_FAILED : mremap(shm[0], 0, 8192, MREMAP_MAYMOVE);
		if (shm[1] == MAP_FAILED)
			BAD("shmtwice: %s", strerror(errno));
	} else {
		BAD("unknown kind %s", kind);
	}
}

/* The resource still works after the refused checkpoint; then it goes. */
static void use_and_release(void)
{
	char buf[16] = "";

	if (!strcmp(kind, "socket")) {
		int type = 0;
		socklen_t len = sizeof(type);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_RAW)
			BAD("the socket does not work after the refused checkpoint: %s", strerror(errno));
		close(fd);
	} else if (!strcmp(kind, "pipe")) {
		if (write(fd, "ping", 4) != 4)
			BAD("the pipe does not work after the refused checkpoint");
		close(fd);
	} else if (!strcmp(kind, "fanotify")) {
		if (fcntl(fd, F_GETFD) < 0)
			BAD("the fanotify fd is gone after the refused checkpoint");
		close(fd);
	} else if (!strcmp(kind, "thread")) {
		void *ret;

		pthread_mutex_lock(&mu);
		thr_go = 7;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
		if (pthread_join(thr, &ret) || (long)ret != 42)
			BAD("the thread did not finish its work after the refused checkpoint");
	} else if (!strcmp(kind, "child") || !strcmp(kind, "traced")) {
		/* a tracee would stop at SIGTERM for its tracer: SIGKILL it */
		int st, sig = strcmp(kind, "traced") ? SIGTERM : SIGKILL;

		if (kill(child, sig) || waitpid(child, &st, 0) != child || !WIFSIGNALED(st) ||
		    WTERMSIG(st) != sig)
			BAD("the child did not behave after the refused checkpoint");
	} else if (!strcmp(kind, "linked")) {
		char other[64];

		if (pread(fd, buf, 5, 0) != 5 || memcmp(buf, "hello", 5))
			BAD("the file does not read back");
		close(fd);
		snprintf(other, sizeof(other), "/tmp/ckpt-refuse-other.%d", (int)getpid());
		unlink(other);
	} else if (!strcmp(kind, "shmtwice")) {
		shm[0][100] = 7;
		if (shm[1][100] != 7)
			BAD("the two mappings do not share their memory");
		munmap(shm[1], 8192);
	} else if (!strcmp(kind, "nsfs") || !strcmp(kind, "pidfd")) {
		struct stat st;

		if (fstat(fd, &st))
			BAD("the %s fd does not work after the refused checkpoint", kind);
		close(fd);
	}
	printf("RELEASED\n");
}

int main(int argc, char **argv)
{
	int r;

	if (argc < 4)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	kind = argv[1];
	int self = !strcmp(argv[2], "self");
	if (!self && argc != 5)
		return 2;
	make(argv[3]);
	if (self) {
		errno = 0;
		r = ckpt_save(argv[3]);
		if (r != -1)
			BAD("ckpt_save returned %d with a %s, want -1", r, kind);
		printf("REFUSED errno=%d: %s\n", errno, ckpt_last_error());
		/* nothing left behind: neither IMAGE nor IMAGE.tmp.* */
		char pat[4200];
		glob_t g;

		snprintf(pat, sizeof(pat), "%s*", argv[3]);
		if (glob(pat, 0, NULL, &g) == 0)
			BAD("the refused checkpoint left %s", g.gl_pathv[0]);
	} else {
		printf("READY\n");
		wait_file(argv[4], 1);
	}
	use_and_release();
	if (self) {
		r = ckpt_save(argv[3]);
		if (r == CKPT_SAVED) {
			printf("SAVED\n");
			return 0;
		}
		if (r == CKPT_RESTORED) {
			printf("RESTORED ok\n");
			return 0;
		}
		BAD("ckpt_save after the %s was released: %s", kind, ckpt_last_error());
	}
	wait_file(argv[4], 2);
	printf("FINISHED ok\n");
	return 0;
}
