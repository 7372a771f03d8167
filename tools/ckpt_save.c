/*
 * ckpt_save.c - `ckpt-save [--fsync] [--exit] [--mappable|--incremental|--pre-dump] PID PATH`: checkpoint a
 * running process that has libckpt loaded into PATH ("-": stdout).
 *
 * Protocol (libckpt/ctl_proto.h): we listen on the abstract socket
 * ctl_sock_name(our pid), send the target its control signal with
 * sigqueue(), accept its connection, hand it the image fd with
 * SCM_RIGHTS, and wait for its one reply, written after the image.
 * The signal's value is our pid too: a target in a pid namespace of its
 * own (ckpt-run --pidns) cannot see us, gets si_pid 0, and finds our
 * socket by that value.  PID is always the target's pid as we see it.
 *
 * Invariants
 *   1. Nothing appears under PATH unless the target reported success:
 *      the image goes to PATH.tmp.<our pid> (same directory, so the
 *      rename is atomic) and is renamed only after a status 0 reply.
 *   2. No temporary file is left behind: every exit path after its
 *      creation unlinks it, including SIGINT/SIGTERM/SIGHUP (handler).
 *   3. Only the target can answer: a connection whose SO_PEERCRED pid
 *      is not PID is dropped (any local process may connect to an
 *      abstract socket), and we keep waiting.
 *
 * The image is created 0600: it holds every byte of the process's
 * memory, secrets included, so it is private like a core dump; chmod it
 * to share.
 *
 * Waiting: the target answers the signal within CKPT_SAVE_TIMEOUT
 * seconds (default 30) or ckpt-save gives up.  Once connected there is no
 * timeout (a large image takes as long as it takes); a connection closed
 * without a reply means the target died or gave up.
 *
 * Exit status:
 *   0  saved
 *   1  usage error
 *   2  local failure (cannot create the output, socket errors)
 *   5  the checkpoint failed (the target refused, or died during it)
 *   6  the target cannot be checkpointed: no such process, no libckpt,
 *      no permission, no answer in time
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "libckpt/ctl_proto.h"
#include "shim/shim.h"

#define EXIT_USAGE	1
#define EXIT_LOCAL	2
#define EXIT_FAILED	5
#define EXIT_TARGET	6

#define SAVE_TIMEOUT_ENV	"CKPT_SAVE_TIMEOUT"
#define SAVE_TIMEOUT_DEFAULT	30.0
#define SAVE_POLL_MS		200	/* how often we check the target lives */

struct save_opts {
	int fsync;
	int exit_after;
	int incremental;
	int pre_dump;		/* --pre-dump: --incremental that must leave the process running */
	int mappable;		/* --mappable: CTL_F_MAPPABLE */
	pid_t pid;
	const char *path;	/* "-" for stdout */
	double timeout_s;
};

/* Invariant 2: what the exit paths and the signal handler unlink. */
static char save_tmp[PATH_MAX];
static volatile sig_atomic_t save_tmp_live;

static void save_unlink_tmp(void)
{
	if (save_tmp_live) {
		save_tmp_live = 0;
		unlink(save_tmp);
	}
}

static void save_on_signal(int sig)
{
	if (save_tmp_live)
		unlink(save_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((format(printf, 2, 3), noreturn))
static void save_die(int code, const char *fmt, ...)
{
	va_list ap;

	save_unlink_tmp();
	fputs("ckpt-save: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void save_usage(void)
{
	fprintf(stderr,
		"usage: ckpt-save [--fsync] [--exit] [--mappable|--incremental|--pre-dump] PID PATH\n"
		"  PATH  image file, or - for stdout\n"
		"  --fsync  make the image durable before reporting success\n"
		"  --exit   the process exits after a successful checkpoint\n"
		"  --mappable  memory stored page aligned, mapped by ckpt-restart\n"
		"           from the file (needs a file, not a pipe)\n"
		"  --incremental  only the pages written since the process's previous\n"
		"           image, which the new one names as its parent\n"
		"  --pre-dump  the first image of a migration: written by a forked copy\n"
		"           while the process runs on, it starts the tracking; the final\n"
		"           `--incremental --exit` then parks the process only to write the\n"
		"           pages it dirtied since\n"
		"  env %s=SECONDS  how long to wait for the process to answer (%g)\n",
		SAVE_TIMEOUT_ENV, SAVE_TIMEOUT_DEFAULT);
	exit(EXIT_USAGE);
}

static void save_parse_args(int argc, char **argv, struct save_opts *o)
{
	const char *env = getenv(SAVE_TIMEOUT_ENV);
	char *end;
	long pid;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--fsync"))
			o->fsync = 1;
		else if (!strcmp(argv[i], "--exit"))
			o->exit_after = 1;
		else if (!strcmp(argv[i], "--incremental"))
			o->incremental = 1;
		else if (!strcmp(argv[i], "--pre-dump"))
			o->incremental = o->pre_dump = 1;
		else if (!strcmp(argv[i], "--mappable"))
			o->mappable = 1;
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else
			save_usage();
	}
	if (argc - i != 2)
		save_usage();
	if (o->mappable && o->incremental) {
		fprintf(stderr, "ckpt-save: --mappable cannot be combined with --incremental or "
			"--pre-dump (an incremental image's pages are read from its parents)\n");
		exit(EXIT_USAGE);
	}
	if (o->pre_dump && o->exit_after) {
		fprintf(stderr, "ckpt-save: --pre-dump leaves the process running: it cannot be "
			"combined with --exit (the final dump is --incremental --exit)\n");
		exit(EXIT_USAGE);
	}
	errno = 0;
	pid = strtol(argv[i], &end, 10);
	if (errno || end == argv[i] || *end || pid <= 0 || pid > INT_MAX) {
		fprintf(stderr, "ckpt-save: not a process id: %s\n", argv[i]);
		save_usage();
	}
	o->pid = (pid_t)pid;
	o->path = argv[i + 1];
	if (!*o->path)
		save_usage();

	o->timeout_s = SAVE_TIMEOUT_DEFAULT;
	if (env && *env) {
		errno = 0;
		o->timeout_s = strtod(env, &end);
		if (errno || end == env || *end || !(o->timeout_s > 0) ||
		    o->timeout_s > 1e6)
			save_die(EXIT_USAGE, "invalid %s=%s (seconds, > 0)",
				 SAVE_TIMEOUT_ENV, env);
	}
}

/* ---- the target ---- */

/* Whole /proc file into a malloc'd buffer (NUL-terminated); NULL + errno. */
static char *save_read_proc(pid_t pid, const char *what, size_t *lenp)
{
	char path[64];
	size_t cap = 16384, len = 0;
	char *buf = NULL;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;

		if (!buf || len + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

/* 1 when a line of /proc/PID/maps maps a file named libckpt.so*. */
static int save_has_libckpt(const char *maps)
{
	for (const char *line = maps; *line;) {
		const char *eol = strchrnul(line, '\n');
		const char *slash = memrchr(line, '/', eol - line);

		if (slash && !strncmp(slash + 1, "libckpt.so", 10) &&
		    (slash[11] == '\n' || slash[11] == '\0' || slash[11] == '.' ||
		     slash[11] == ' '))
			return 1;
		line = *eol ? eol + 1 : eol;
	}
	return 0;
}

/*
 * CKPT_CTL_SIGNAL as the target's shim reads it (shim/shim_config.c,
 * parse_signal: the same grammar, so both sides agree on the signal):
 * "63", "SIGUSR1", "USR1", "SIGRTMIN+2", "RTMAX-1".  -1 when invalid, and
 * the shim then keeps the default.  SIGTERM cannot be the control signal.
 */
static int save_parse_signal(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM },
		{ "ALRM", SIGALRM }, { "PWR", SIGPWR }, { "XCPU", SIGXCPU },
		{ "WINCH", SIGWINCH }, { "URG", SIGURG },
	};
	int sig = -1;
	char *end;
	long v;

	if (!strncmp(s, "SIG", 3))
		s += 3;
	if (!strncmp(s, "RTMIN", 5) || !strncmp(s, "RTMAX", 5)) {
		v = s[5] ? strtol(s + 5, &end, 10) : 0;
		if (s[5] && *end)
			return -1;
		v += s[3] == 'I' ? SIGRTMIN : SIGRTMAX;
		sig = v >= SIGRTMIN && v <= SIGRTMAX ? (int)v : -1;
	} else {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(s, names[i].name))
				sig = names[i].sig;
		v = strtol(s, &end, 10);
		if (sig < 0 && *s && !*end && v > 0 && v <= SIGRTMAX &&
		    v != SIGKILL && v != SIGSTOP)
			sig = (int)v;
	}
	return sig == SIGTERM ? -1 : sig;
}

/* The target's control signal, from its initial environment. */
static int save_target_signal(pid_t pid)
{
	static const char key[] = SHIM_ENV_CTL_SIGNAL "=";
	size_t len;
	char *env = save_read_proc(pid, "environ", &len);
	int sig = SHIM_DEFAULT_SIGNAL;

	if (!env)
		return sig;	/* maps was readable, so this is a race: default */
	for (size_t off = 0; off < len; off += strlen(env + off) + 1) {
		if (strncmp(env + off, key, sizeof(key) - 1))
			continue;
		/* The first one, as getenv() finds it. */
		sig = save_parse_signal(env + off + sizeof(key) - 1);
		if (sig < 0)
			sig = SHIM_DEFAULT_SIGNAL;	/* what the shim does */
		break;
	}
	free(env);
	return sig;
}

static void save_check_target(pid_t pid)
{
	char path[64];
	struct stat st;
	char *maps;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) < 0)
		save_die(EXIT_TARGET, "no such process: %d", (int)pid);
	maps = save_read_proc(pid, "maps", NULL);
	if (!maps)
		save_die(EXIT_TARGET, "cannot read /proc/%d/maps: %s", (int)pid,
			 strerror(errno));
	if (!save_has_libckpt(maps)) {
		free(maps);
		save_die(EXIT_TARGET, "process %d does not run libckpt (start it "
			 "with ckpt-run or LD_PRELOAD=libckpt.so)", (int)pid);
	}
	free(maps);
}

/* 0 when pid is gone or a zombie: it can never answer. */
static int save_target_alive(pid_t pid)
{
	char *stat = save_read_proc(pid, "stat", NULL);
	const char *paren;
	int alive;

	if (!stat)
		return 0;
	/* "pid (comm) S ...": comm may hold ')' itself, so the last one. */
	paren = strrchr(stat, ')');
	alive = paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
	free(stat);
	return alive;
}

/*
 * The target is alive but the connection closed without a reply: the
 * copy of it that writes the pages (a forked writer, its only child: a
 * process with children is not checkpointed) died.  Its zombie, not
 * reaped before the next checkpoint, still tells how (field 52 of stat,
 * its wait status).  Into why: "killed by signal 11 (Segmentation
 * fault)", or "" when no such zombie is found.
 */
static void save_writer_status(pid_t pid, char *why, size_t len)
{
	char dir[64], path[300];
	struct dirent *d;
	DIR *td;

	why[0] = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	if (!(td = opendir(dir)))
		return;
	/* children are per thread: the writer's parent is the thread that made it */
	while (!why[0] && (d = readdir(td))) {
		char *kids, *k;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "task/%s/children", d->d_name);
		kids = save_read_proc(pid, path, NULL);
		for (k = kids; k && *k && !why[0]; ) {
			long child = strtol(k, &k, 10);
			char *st, *p, *f;

			if (child <= 0)
				break;
			if (!(st = save_read_proc(child, "stat", NULL)))
				continue;
			p = strrchr(st, ')');
			if (p && p[1] == ' ' && p[2] == 'Z') {
				/* ") " then field 3 (state) ... field 52: the wait status */
				f = p + 2;
				for (int i = 3; i < 52 && f; i++)
					f = strchr(f + 1, ' ');
				if (f) {
					int status = atoi(f + 1);

					if (WIFSIGNALED(status))
						snprintf(why, len, "pid %ld was killed by signal %d (%s)",
							 child, WTERMSIG(status), strsignal(WTERMSIG(status)));
					else
						snprintf(why, len, "pid %ld exited with status %d", child,
							 WEXITSTATUS(status));
				}
			}
			free(st);
		}
		free(kids);
	}
	closedir(td);
}

/* The connection closed without a reply: who died? */
static void save_lost(const struct save_opts *o)
{
	char why[128];

	if (!save_target_alive(o->pid))
		save_die(EXIT_FAILED, "process %d died during the checkpoint", (int)o->pid);
	/* a dying process closes its files before it is a zombie: up to 1 s */
	for (int i = 0; i < 100; i++) {
		struct timespec ms10 = { 0, 10000000 };

		save_writer_status(o->pid, why, sizeof(why));
		if (why[0] || !save_target_alive(o->pid))
			break;
		nanosleep(&ms10, NULL);
	}
	save_die(EXIT_FAILED, "process %d is alive, but the copy of it that writes the "
		 "image died before finishing it%s%s%s; no image was written. CKPT_FORK=0 "
		 "writes it in the process itself", (int)o->pid, why[0] ? " (" : "", why,
		 why[0] ? ")" : "");
}

/* ---- the output ---- */

/* The image fd: stdout for "-", else a new PATH.tmp.<pid> (invariant 1). */
static int save_open_output(const struct save_opts *o)
{
	int fd, fl;

	if (!strcmp(o->path, "-")) {
		fl = fcntl(STDOUT_FILENO, F_GETFL);
		if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
			save_die(EXIT_LOCAL, "stdout is not open for writing");
		if (isatty(STDOUT_FILENO))
			save_die(EXIT_USAGE, "refusing to write an image to a "
				 "terminal (redirect stdout)");
		struct stat st;
		if (o->mappable && (fstat(STDOUT_FILENO, &st) < 0 || !S_ISREG(st.st_mode)))
			save_die(EXIT_USAGE, "a mappable image cannot be written to a pipe: "
				 "ckpt-restart maps its pages from the file; give a file name");
		return STDOUT_FILENO;
	}
	if (snprintf(save_tmp, sizeof(save_tmp), "%s.tmp.%d", o->path,
		     (int)getpid()) >= (int)sizeof(save_tmp))
		save_die(EXIT_USAGE, "path too long: %s", o->path);
	fd = open(save_tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		save_die(EXIT_LOCAL, "cannot create %s: %s", save_tmp, strerror(errno));
	save_tmp_live = 1;
	return fd;
}

/* Makes the rename durable: fsync the directory that holds PATH. */
static void save_fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		fprintf(stderr, "ckpt-save: warning: cannot fsync %s: %s\n", dir,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* ---- the conversation ---- */

static int save_listen(void)
{
	struct sockaddr_un sun;
	socklen_t len = ctl_sock_name(&sun, getpid());
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		save_die(EXIT_LOCAL, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, len) < 0 || listen(fd, 4) < 0)
		save_die(EXIT_LOCAL, "cannot listen on the control socket: %s",
			 strerror(errno));
	return fd;
}

static double save_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The target's connection (invariant 3), or exit on timeout / death. */
static int save_accept(int lfd, const struct save_opts *o)
{
	double deadline = save_now() + o->timeout_s;

	for (;;) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		double left = deadline - save_now();
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		int r, c;

		if (left <= 0)
			save_die(EXIT_TARGET, "process %d did not answer in %g s",
				 (int)o->pid, o->timeout_s);
		r = poll(&p, 1, left * 1000 < SAVE_POLL_MS ? (int)(left * 1000) + 1
							  : SAVE_POLL_MS);
		if (r < 0 && errno != EINTR)
			save_die(EXIT_LOCAL, "poll: %s", strerror(errno));
		if (r <= 0) {
			if (!save_target_alive(o->pid))
				save_die(EXIT_TARGET, "process %d exited before "
					 "answering", (int)o->pid);
			continue;
		}
		c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			save_die(EXIT_LOCAL, "accept: %s", strerror(errno));
		}
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0 &&
		    cr.pid == o->pid)
			return c;
		close(c);	/* someone else */
	}
}

static void save_send_request(int c, int img_fd, const struct save_opts *o)
{
	struct ctl_request req = {
		.magic = CTL_REQ_MAGIC,
		.version = CTL_VERSION,
		.flags = (o->fsync ? CTL_F_FSYNC : 0) | (o->exit_after ? CTL_F_EXIT : 0) |
			 (o->incremental ? CTL_F_INCREMENTAL : 0) |
			 (o->mappable ? CTL_F_MAPPABLE : 0),
	};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &img_fd, sizeof(int));
	do
		n = sendmsg(c, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
		save_die(EXIT_FAILED, "process %d died during the checkpoint",
			 (int)o->pid);
	if (n != (ssize_t)sizeof(req))
		save_die(EXIT_LOCAL, "cannot send the request: %s",
			 n < 0 ? strerror(errno) : "short write");
}

static void save_recv_reply(int c, const struct save_opts *o, struct ctl_reply *rep)
{
	char buf[sizeof(*rep) + 1];	/* one more: a longer message shows */
	ssize_t n;

	do
		n = recv(c, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		save_lost(o);
	if (n < 0)
		save_die(EXIT_LOCAL, "cannot read the reply: %s", strerror(errno));
	if (ctl_parse_reply(buf, n, rep) < 0)
		save_die(EXIT_FAILED, "%d: malformed reply (%zd bytes)", (int)o->pid, n);
}

/* "12.3 MiB" */
static const char *save_size(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)b);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

static void save_report(const struct save_opts *o, const struct ctl_reply *rep)
{
	char img[32], mem[32];
	double ms = rep->elapsed_ns / 1e6;

	fprintf(stderr, "ckpt-save: %d saved to %s: %s image, %s memory, ",
		(int)o->pid, strcmp(o->path, "-") ? o->path : "stdout",
		save_size(rep->image_bytes, img, sizeof(img)),
		save_size(rep->mem_bytes, mem, sizeof(mem)));
	if (ms < 1000)
		fprintf(stderr, "%.1f ms\n", ms);
	else
		fprintf(stderr, "%.2f s\n", ms / 1000);
}

int main(int argc, char **argv)
{
	struct save_opts o = { 0 };
	struct ctl_reply rep;
	int sig, img_fd, lfd, c;

	save_parse_args(argc, argv, &o);
	save_check_target(o.pid);
	sig = save_target_signal(o.pid);

	signal(SIGINT, save_on_signal);
	signal(SIGTERM, save_on_signal);
	signal(SIGHUP, save_on_signal);
	img_fd = save_open_output(&o);
	lfd = save_listen();

	if (sigqueue(o.pid, sig, (union sigval){ .sival_int = getpid() }) < 0)
		save_die(EXIT_TARGET,
			 "cannot signal process %d: %s", (int)o.pid, strerror(errno));
	c = save_accept(lfd, &o);
	close(lfd);
	save_send_request(c, img_fd, &o);
	save_recv_reply(c, &o, &rep);
	close(c);

	if (rep.status != 0)
		save_die(EXIT_FAILED, "%d: %s", (int)o.pid,
			 rep.msg[0] ? rep.msg : strerror(-rep.status));
	if (o.fsync && fsync(img_fd) < 0 && errno != EINVAL && errno != EROFS)
		save_die(EXIT_LOCAL, "cannot fsync the image: %s", strerror(errno));
	if (img_fd != STDOUT_FILENO) {
		if (close(img_fd) < 0)
			save_die(EXIT_LOCAL, "cannot write the image: %s", strerror(errno));
		if (rename(save_tmp, o.path) < 0)
			save_die(EXIT_LOCAL, "cannot rename %s to %s: %s", save_tmp,
				 o.path, strerror(errno));
		save_tmp_live = 0;
		if (o.fsync)
			save_fsync_dir(o.path);
	}
	save_report(&o, &rep);
	return 0;
}
