/*
 * cli1m.c - the 1 MiB round trips from the command line (issue #15):
 * `ckpt-save PID IMAGE` of a small running process, and `ckpt-restart
 * IMAGE` of that image to the process running again.
 *
 *   cli1m hold MIB
 *       the workload (run under LD_PRELOAD=libckpt.so, one thread): MIB
 *       MiB of heap, half random and half text-like bytes, checksummed;
 *       prints "READY", then blocks reading one byte from stdin.  Its
 *       stdin is a pipe nobody writes: the original waits there until it
 *       is killed.  A copy restarted with `--inherit-fd 0,1,2` reads from
 *       ckpt-restart's stdin, which holds a byte: the interrupted read()
 *       returns at once, and the copy prints "running_at_ns N"
 *       (CLOCK_MONOTONIC, the same clock as ours), then checks every byte
 *       and prints "verify ok" (or BAD).
 *   cli1m bench [-n REPS] [-m MIB] [-f SAVE_FLAG] DIR BUILD [BUILD...]
 *       the harness (built without libckpt: run.sh compiles it apart):
 *       for each rep, for each BUILD (a build directory: bin/ckpt-save,
 *       bin/ckpt-restart, libckpt.so) in turn, starts `cli1m hold` under
 *       that build's libckpt, times `ckpt-save PID DIR/img` from before
 *       its spawn to its exit (wall, and its CPU time from wait4), kills
 *       the original, and times `ckpt-restart --inherit-fd 0,1,2
 *       DIR/img` from before its spawn to the copy's "running_at_ns".
 *       Builds are alternated so that each sees the same load.  Prints
 *       one line per run ("run BUILD# save_ns save_cpu_ns restart_ns
 *       restart_cpu_ns image_bytes") and per build the medians and
 *       minima ("save_ms", "restart_ms" ...).  SAVE_FLAG (e.g. --fsync,
 *       --mappable) is passed to ckpt-save.
 *
 * Spawned with posix_spawn (vfork: the harness's own fork is not timed);
 * only fds 0-2 are open in the children.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_BUILDS	4
#define MAX_REPS	201

static uint64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t sum(const uint64_t *p, size_t n)
{
	uint64_t h = 0;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* As memproc.c's "mixed": half xorshift, half words. */
static void fill(unsigned char *buf, size_t len)
{
	static const char *words[] = { "checkpoint ", "restart ", "memory ", "page ",
				       "the ", "of ", "process ", "image ", "and ", "kernel\n" };
	uint64_t x = 88172645463325252ULL;
	size_t half = len / 2;

	for (size_t i = 0; i < half / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		((uint64_t *)buf)[i] = x;
	}
	for (size_t i = half; i < len;) {
		const char *w = words[(i * 7 + (i >> 9)) % 10];
		size_t n = strlen(w);

		if (n > len - i)
			n = len - i;
		memcpy(buf + i, w, n);
		i += n;
	}
}

static int hold(size_t mib)
{
	size_t len = mib << 20;
	unsigned char *buf = malloc(len);
	uint64_t h, running;
	char c;
	ssize_t n;

	if (!buf)
		return 2;
	fill(buf, len);
	h = sum((uint64_t *)buf, len / 8);
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("READY %d\n", (int)getpid());
	do
		n = read(0, &c, 1);
	while (n < 0 && errno == EINTR);
	running = now();
	printf("running_at_ns %llu\n", (unsigned long long)running);
	printf("verify %s\n", n == 1 && sum((uint64_t *)buf, len / 8) == h ? "ok" : "BAD");
	return 0;
}

/* ---- the harness ---- */

struct child {
	pid_t pid;
	int out;		/* its stdout, read by us */
};

/* Spawns argv with stdin in_fd, stdout a pipe to us, stderr err_fd. */
static int spawn(struct child *ch, char *const argv[], char *const envp[], int in_fd,
		 int err_fd)
{
	posix_spawn_file_actions_t fa;
	int p[2], r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	r = posix_spawn(&ch->pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r) {
		close(p[0]);
		errno = r;
		return -1;
	}
	ch->out = p[0];
	return 0;
}

/* Reads the child's stdout until a line starting with key; its number. */
static int read_key(int fd, const char *key, unsigned long long *val, char *buf, size_t cap,
		    size_t *have)
{
	size_t klen = strlen(key);

	for (;;) {
		char *line = buf, *nl;

		buf[*have] = 0;
		while ((nl = strchr(line, '\n'))) {
			if (!strncmp(line, key, klen)) {
				*val = strtoull(line + klen, NULL, 10);
				*have -= nl + 1 - buf;
				memmove(buf, nl + 1, *have);
				return 0;
			}
			line = nl + 1;
		}
		*have -= line - buf;
		memmove(buf, line, *have);
		if (*have + 1 >= cap)
			*have = 0;
		ssize_t n = read(fd, buf + *have, cap - 1 - *have);
		if (n <= 0)
			return -1;
		*have += n;
	}
}

static uint64_t cpu_ns(const struct rusage *ru)
{
	return (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000000 +
	       (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1000;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_ms(uint64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) / 1e6;
}

struct result {
	uint64_t save, save_cpu, rst, rst_cpu, img;
};

/* One save and restart with build b; 0 or -1 (message on stderr). */
static int one(const char *self, const char *dir, const char *build, size_t mib,
	       const char *flag, struct result *res)
{
	char lib[4096], save[4096], rst[4096], img[4096], mibs[32], buf[512];
	char pre[4200];
	char *envp[64];
	int ne = 0, in_fd, in1[2], in2[2], null_fd;
	struct child w, s, r;
	unsigned long long v;
	size_t have = 0;
	struct rusage ru;
	struct stat st;
	uint64_t t0;
	int status;

	snprintf(lib, sizeof(lib), "%s/libckpt.so", build);
	snprintf(save, sizeof(save), "%s/bin/ckpt-save", build);
	snprintf(rst, sizeof(rst), "%s/bin/ckpt-restart", build);
	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(mibs, sizeof(mibs), "%zu", mib);
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", lib);
	unlink(img);
	for (char **e = environ; *e && ne < 62; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11))
			envp[ne++] = *e;
	envp[ne] = NULL;

	snprintf(buf, sizeof(buf), "%s/save.err", dir);
	unlink(buf);	/* a file of ours from the last round; a planted name is not followed */
	null_fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (null_fd < 0) {
		perror("cli1m: save.err");
		return -1;
	}
	if (pipe2(in1, O_CLOEXEC) < 0) {
		perror("cli1m: pipe");
		return -1;
	}
	in_fd = in1[0];
	/* the workload, under this build's libckpt */
	envp[ne] = pre;
	envp[ne + 1] = NULL;
	char *wargv[] = { (char *)self, "hold", mibs, NULL };
	if (spawn(&w, wargv, envp, in_fd, 2) < 0) {
		perror("cli1m: spawn the workload");
		return -1;
	}
	envp[ne] = NULL;
	close(in_fd);
	if (read_key(w.out, "READY", &v, buf, sizeof(buf), &have) < 0) {
		fprintf(stderr, "cli1m: the workload did not start\n");
		return -1;
	}
	/* its constructor has run (it printed READY from main) */

	char *sargv[] = { save, (char *)(flag ? flag : "--"), NULL, img, NULL };
	char pids[32];
	snprintf(pids, sizeof(pids), "%d", (int)w.pid);
	sargv[2] = pids;
	if (!flag) {
		sargv[1] = pids;
		sargv[2] = img;
		sargv[3] = NULL;
	}
	t0 = now();
	if (spawn(&s, sargv, envp, null_fd, null_fd) < 0) {
		perror("cli1m: spawn ckpt-save");
		return -1;
	}
	while (wait4(s.pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	res->save = now() - t0;
	res->save_cpu = cpu_ns(&ru);
	close(s.out);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "cli1m: ckpt-save failed (status %#x, its stderr in %s/save.err)\n",
			status, dir);
		kill(w.pid, SIGKILL);
		waitpid(w.pid, NULL, 0);
		return -1;
	}
	kill(w.pid, SIGKILL);
	waitpid(w.pid, NULL, 0);
	close(w.out);
	close(in1[1]);
	res->img = stat(img, &st) == 0 ? (uint64_t)st.st_size : 0;

	/* the restart: its stdin holds the byte the copy's read() is waiting for */
	if (pipe2(in2, O_CLOEXEC) < 0 || write(in2[1], "x", 1) != 1)
		return -1;
	char *rargv[] = { rst, "--inherit-fd", "0,1,2", img, NULL };
	have = 0;
	t0 = now();
	if (spawn(&r, rargv, envp, in2[0], 2) < 0) {
		perror("cli1m: spawn ckpt-restart");
		return -1;
	}
	close(in2[0]);
	if (read_key(r.out, "running_at_ns", &v, buf, sizeof(buf), &have) < 0) {
		fprintf(stderr, "cli1m: the restarted copy did not run\n");
		waitpid(r.pid, NULL, 0);
		return -1;
	}
	res->rst = v - t0;
	if (read_key(r.out, "verify ok", &v, buf, sizeof(buf), &have) < 0) {
		fprintf(stderr, "cli1m: the restarted copy's memory differs\n");
		waitpid(r.pid, NULL, 0);
		return -1;
	}
	while (wait4(r.pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	res->rst_cpu = cpu_ns(&ru);
	close(r.out);
	close(in2[1]);
	close(null_fd);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "cli1m: ckpt-restart exited with status %#x\n", status);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct result res[MAX_BUILDS][MAX_REPS];
	const char *flag = NULL, *dir;
	int reps = 11, nb, o;
	size_t mib = 1;
	uint64_t v[MAX_REPS];

	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold((size_t)atol(argv[2]));
	if (argc < 2 || strcmp(argv[1], "bench"))
		goto usage;
	optind = 2;
	while ((o = getopt(argc, argv, "n:m:f:")) != -1) {
		if (o == 'n')
			reps = atoi(optarg);
		else if (o == 'm')
			mib = (size_t)atol(optarg);
		else if (o == 'f')
			flag = optarg;
		else
			goto usage;
	}
	nb = argc - optind - 1;
	if (nb < 1 || nb > MAX_BUILDS || reps < 1 || reps > MAX_REPS)
		goto usage;
	dir = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	/* the children get fds 0-2 only (libckpt refuses a pipe shared with a process outside) */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	for (int i = 0; i < reps; i++) {
		for (int b = 0; b < nb; b++) {
			struct result *x = &res[b][i];

			if (one(argv[0], dir, argv[optind + 1 + b], mib, flag, x) < 0)
				return 1;
			printf("run %d save_ns %llu save_cpu_ns %llu restart_ns %llu restart_cpu_ns "
			       "%llu image_bytes %llu\n", b, (unsigned long long)x->save,
			       (unsigned long long)x->save_cpu, (unsigned long long)x->rst,
			       (unsigned long long)x->rst_cpu, (unsigned long long)x->img);
		}
	}
	for (int b = 0; b < nb; b++) {
#define COL(f, name)								\
		do {								\
			for (int i = 0; i < reps; i++)				\
				v[i] = res[b][i].f;				\
			double med = median_ms(v, reps);			\
			printf("build %d %s median %.2f min %.2f\n", b, name,	\
			       med, v[0] / 1e6);					\
		} while (0)
		COL(save, "save_ms");
		COL(save_cpu, "save_cpu_ms");
		COL(rst, "restart_ms");
		COL(rst_cpu, "restart_cpu_ms");
#undef COL
	}
	return 0;
usage:
	fprintf(stderr, "usage: cli1m hold MIB | cli1m bench [-n REPS] [-m MIB] [-f SAVE_FLAG] "
		"DIR BUILD...\n");
	return 2;
}
