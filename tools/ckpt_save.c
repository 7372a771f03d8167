/*
 * ckpt_save.c - `ckpt-save [--fsync] [--exit] [--mappable|--incremental|--pre-dump]
 * [--key FILE] PID PATH`: checkpoint a running process that has libckpt
 * loaded into PATH ("-": stdout).
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
 *      the image is an O_TMPFILE in PATH's directory (no name at all;
 *      libckpt/ckpt_tmpfile.c), linked under a random name and renamed
 *      over PATH only after a status 0 reply.  Where the filesystem has
 *      no O_TMPFILE it is PATH.tmp.<16 random hex digits>, made with
 *      O_EXCL|O_NOFOLLOW: nobody can plant or predict it.
 *   2. No temporary file is left behind: an O_TMPFILE vanishes with its
 *      last fd, whatever kills us; a named one is unlinked on every exit
 *      path, including SIGINT/SIGTERM/SIGHUP (handler), and after a
 *      SIGKILL by the target's writer, whose reply then fails
 *      (shim/shim_ctl.c).  The file is made only once the target has
 *      connected: a ckpt-save killed before that has made nothing.
 *   3. Only the target can answer: a connection whose SO_PEERCRED pid
 *      is not PID is dropped (any local process may connect to an
 *      abstract socket), and we keep waiting.
 *   4. The image belongs to the target's user: it holds what that user's
 *      process had, so run by root, we give the file (before the target
 *      writes a byte) to the uid and gid the target's connection shows
 *      (its effective ids).  Root owns an image only of a process that
 *      runs as root (docs/SECURITY.md).
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
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tmpfile.h"
#include "libckpt/ctl_proto.h"
#include "shim/shim.h"
#include "tools/progress.h"
#include "tools/save.h"

#define SAVE_TIMEOUT_ENV	"CKPT_SAVE_TIMEOUT"
#define SAVE_TIMEOUT_DEFAULT	30.0
#define SAVE_POLL_MS		200	/* how often we check the target lives */

struct save_opts {
	int fsync;
	int exit_after;
	int incremental;
	int pre_dump;		/* --pre-dump: --incremental that must leave the process running */
	int mappable;		/* --mappable: CTL_F_MAPPABLE */
	const char *key;	/* --key FILE: seal the image (save_seal.c) */
	int tmp_named;		/* CKPT_TMPFILE=0: a named temporary file (ckpt_tmpfile.h) */
	pid_t pid;
	const char *path;	/* "-" for stdout */
	double timeout_s;
};

/* Invariant 2: what the exit paths and the signal handler remove. */
static struct ckpt_tmpfile save_tmp = { .dirfd = -1, .fd = -1 };
static volatile sig_atomic_t save_tmp_live;

static void save_unlink_tmp(void)
{
	if (save_tmp_live) {
		save_tmp_live = 0;
		ckpt_tmp_abort(&save_tmp);
	}
}

static void save_on_signal(int sig)
{
	if (save_tmp_live)
		ckpt_tmp_abort(&save_tmp);	/* async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

void save_die(int code, const char *fmt, ...)
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

/* --help: on stdout, exit 0; a usage error: on stderr, EXIT_USAGE. */
static void save_usage_to(FILE *out, int code)
{
	fprintf(out,
		"usage: ckpt-save [--help] [--fsync] [--exit] [--mappable|--incremental|--pre-dump] PID PATH\n"
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
		"  --key FILE  seal the image with a keyed MAC (32-byte key, mode 0600) that\n"
		"           ckpt-restart --key and ckpt-info --key verify\n"
		"  env %s=SECONDS  how long to wait for the process to answer (%g)\n"
		"  env CKPT_TMPFILE=0  a named temporary file (O_EXCL), not an O_TMPFILE\n"
		"  env CKPT_PROGRESS=0|always  no progress line on a terminal | one\n"
		"           line per update, terminal or not\n",
		SAVE_TIMEOUT_ENV, SAVE_TIMEOUT_DEFAULT);
	exit(code);
}

static void save_usage(void)
{
	save_usage_to(stderr, EXIT_USAGE);
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
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			o->key = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			save_usage_to(stdout, 0);
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

	env = getenv("CKPT_TMPFILE");
	o->tmp_named = env && !strcmp(env, "0");
	env = getenv(SAVE_TIMEOUT_ENV);
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

/* Whether pid is ckpt-restart still restoring (its comm becomes the program's at the end). */
static int save_restoring(pid_t pid)
{
	char *comm = save_read_proc(pid, "comm", NULL);
	int r = comm && !strcmp(comm, "ckpt-restart\n");

	free(comm);
	return r;
}

/*
 * The target runs libckpt.  A process ckpt-restart is still bringing
 * back (ckpt-save right after ckpt-restart, as a script that saves
 * periodically does: the pid exists before its memory does) is waited
 * for, SAVE_RESTORING_MS at most.
 */
#define SAVE_RESTORING_MS	10000

static void save_check_target(pid_t pid)
{
	struct timespec tick = { 0, 10 * 1000000 };
	char path[64];
	struct stat st;
	char *maps;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	for (int waited = 0;; waited += 10) {
		if (stat(path, &st) < 0)
			save_die(EXIT_TARGET, "no such process: %d", (int)pid);
		maps = save_read_proc(pid, "maps", NULL);
		if (!maps)
			save_die(EXIT_TARGET, "cannot read /proc/%d/maps: %s", (int)pid,
				 strerror(errno));
		if (save_has_libckpt(maps))
			break;
		free(maps);
		if (waited >= SAVE_RESTORING_MS || !save_restoring(pid))
			save_die(EXIT_TARGET, "process %d does not run libckpt (%s)", (int)pid,
				 waited ? "it is ckpt-restart, which has not brought a process back "
				 "in it" : "start it with ckpt-run or LD_PRELOAD=libckpt.so");
		nanosleep(&tick, NULL);
	}
	free(maps);
}

/* Whether pid catches signal sig (/proc/PID/status SigCgt): 1, 0, -1 unreadable. */
static int save_catches(pid_t pid, int sig)
{
	char *st = save_read_proc(pid, "status", NULL), *s;
	unsigned long long mask;
	int r = -1;

	if (st && (s = strstr(st, "\nSigCgt:")) && sscanf(s + 8, "%llx", &mask) == 1)
		r = (int)((mask >> (sig - 1)) & 1);
	free(st);
	return r;
}

/*
 * The control signal's default action ends a process: it is sent only
 * once the target catches it.  A program that has just started maps
 * libckpt before libckpt's constructor catches the signal (the loader is
 * still at work): waited for, SAVE_RESTORING_MS at most.
 */
static void save_check_caught(pid_t pid, int sig)
{
	struct timespec tick = { 0, 10 * 1000000 };
	int r;

	for (int waited = 0; (r = save_catches(pid, sig)) == 0; waited += 10) {
		if (waited >= SAVE_RESTORING_MS)
			save_die(EXIT_TARGET, "process %d maps libckpt but does not catch signal %d "
				 "(CKPT_CTL_SIGNAL), which would kill it: is it starting, or did it "
				 "install its own handler by a raw system call?", (int)pid, sig);
		nanosleep(&tick, NULL);
	}
	if (r < 0)
		save_die(EXIT_TARGET, "no such process: %d", (int)pid);
}

#define SAVE_PF_EXITING	0x4	/* the kernel's PF_EXITING, in /proc/PID/stat's flags */

/*
 * 0 when pid is gone, a zombie or exiting (a process killed by SIGKILL
 * closes its files before it shows as a zombie: its flags say it is
 * exiting from the start): it can never answer.
 */
static int save_target_alive(pid_t pid)
{
	char *stat = save_read_proc(pid, "stat", NULL);
	const char *paren;
	unsigned long flags = 0;
	int alive;

	if (!stat)
		return 0;
	/* "pid (comm) S ppid pgrp session tty tpgid flags": comm may hold ')', so the last one. */
	paren = strrchr(stat, ')');
	alive = paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
	if (alive && sscanf(paren + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
	    (flags & SAVE_PF_EXITING))
		alive = 0;
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

/*
 * What the request says of the image: the final path, or for "-" the file
 * stdout is, if it is one (an incremental image then may name it as its
 * parent, as it names any image file).  Empty when it has none.
 */
static void save_stdout_path(char *buf, size_t cap)
{
	struct stat st;
	ssize_t n;

	buf[0] = '\0';
	if (fstat(STDOUT_FILENO, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	n = readlink("/proc/self/fd/1", buf, cap - 1);
	if (n <= 0 || buf[0] != '/' || (size_t)n >= cap - 1 ||
	    (n > 10 && !memcmp(buf + n - 10, " (deleted)", 10)))
		n = 0;
	buf[n] = '\0';
}

/*
 * Stdout for "-"; else PATH's directory, checked now (before the target
 * is disturbed) and kept open: the file itself is made in it once the
 * target has connected (save_create_output).  The request's path.
 */
static void save_prepare_output(const struct save_opts *o, struct ctl_request *req)
{
	char err[512];
	int fl, r;

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
		save_stdout_path(req->path, sizeof(req->path));
		return;
	}
	r = ckpt_tmp_open_dir(&save_tmp, o->path, err, sizeof(err));
	if (r < 0)
		save_die(r == -EISDIR || r == -ENAMETOOLONG ? EXIT_USAGE : EXIT_LOCAL, "%s", err);
	if (faccessat(save_tmp.dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0)
		save_die(EXIT_LOCAL, "cannot create %s: %s", o->path, strerror(errno));
	if (ckpt_tmp_final_path(&save_tmp, req->path, sizeof(req->path)) < 0)
		req->path[0] = '\0';		/* no /proc: it cannot be a parent */
}

/*
 * The image file (invariants 1, 2, 4), once the target has connected:
 * cred is its connection's.  Its fd, and its temporary name in the
 * request if it has one.
 */
static int save_create_output(const struct save_opts *o, const struct ucred *cred,
			      struct ctl_request *req)
{
	char err[512];
	int r;

	if (!strcmp(o->path, "-"))
		return STDOUT_FILENO;
	r = ckpt_tmp_create(&save_tmp, o->tmp_named ? CKPT_TMP_NAMED : 0, err, sizeof(err));
	if (r < 0) {
		ckpt_tmp_release(&save_tmp);
		save_die(EXIT_LOCAL, "%s", err);
	}
	save_tmp_live = 1;
	if (geteuid() == 0 && fchown(save_tmp.fd, cred->uid, cred->gid) < 0)
		save_die(EXIT_LOCAL, "cannot give the image of process %d to its owner (uid %u, "
			 "gid %u): %s", (int)o->pid, (unsigned)cred->uid, (unsigned)cred->gid,
			 strerror(errno));
	snprintf(req->tmp_name, sizeof(req->tmp_name), "%s", save_tmp.named ? save_tmp.tmp : "");
	return save_tmp.fd;
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

/*
 * The target's connection (invariant 3), its credentials in *cred, or exit
 * on timeout / death.
 */
static int save_accept(int lfd, const struct save_opts *o, struct ucred *cred)
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
		    cr.pid == o->pid) {
			*cred = cr;
			return c;
		}
		close(c);	/* someone else */
	}
}

/*
 * The connection closed without a reply.  A target that is still alive
 * did not close it: the forked copy that was writing its image died.
 */
__attribute__((noreturn))
static void save_peer_gone(const struct save_opts *o)
{
	if (save_target_alive(o->pid))
		save_die(EXIT_FAILED, "the checkpoint of process %d failed: the copy of it "
			 "that was writing the image died (killed, or crashed; the process's own "
			 "stderr may say why); process %d runs on, nothing was saved",
			 (int)o->pid, (int)o->pid);
	save_die(EXIT_FAILED, "process %d died during the checkpoint", (int)o->pid);
}

static void save_send_request(int c, int img_fd, const struct save_opts *o,
			      struct ctl_request *req)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = req, .iov_len = sizeof(*req) };
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
		save_peer_gone(o);
	if (n != (ssize_t)sizeof(*req))
		save_die(EXIT_LOCAL, "cannot send the request: %s",
			 n < 0 ? strerror(errno) : "short write");
}

/* The reply; progress messages before it (CTL_F_PROGRESS) update the line. */
static void save_recv_reply(int c, const struct save_opts *o, struct ctl_reply *rep,
			    struct progress *prg)
{
	char buf[sizeof(*rep) + 1];	/* one more: a longer message shows */
	struct ctl_progress pm;
	ssize_t n;

	_Static_assert(sizeof(pm) < sizeof(*rep), "progress and reply differ in size");
	for (;;) {
		do
			n = recv(c, buf, sizeof(buf), 0);
		while (n < 0 && errno == EINTR);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			save_lost(o);
		if (n < 0)
			save_die(EXIT_LOCAL, "cannot read the reply: %s", strerror(errno));
		if (ctl_parse_progress(buf, n, &pm) < 0)
			break;
		progress_show(prg, pm.done_bytes, pm.total_bytes, 1);
	}
	progress_end(prg);
	if (ctl_parse_reply(buf, n, rep) < 0)
		save_die(EXIT_FAILED, "%d: malformed reply (%zd bytes)", (int)o->pid, n);
}

static void save_report(const struct save_opts *o, const struct ctl_reply *rep)
{
	char img[32], mem[32];
	double ms = rep->elapsed_ns / 1e6;

	fprintf(stderr, "ckpt-save: %d saved to %s: %s image, %s memory, ",
		(int)o->pid, strcmp(o->path, "-") ? o->path : "stdout",
		progress_bytes(rep->image_bytes, img, sizeof(img)),
		progress_bytes(rep->mem_bytes, mem, sizeof(mem)));
	if (ms < 1000)
		fprintf(stderr, "%.1f ms\n", ms);
	else
		fprintf(stderr, "%.2f s\n", ms / 1000);
}

int main(int argc, char **argv)
{
	struct save_opts o = { 0 };
	struct ctl_request *req = calloc(1, sizeof(*req));	/* zero: the padding rule */
	struct save_seal seal;
	struct ctl_reply rep;
	struct progress prg;
	struct ucred cred;
	char err[512];
	int sig, img_fd, lfd, c, relay = 0;
	off_t base = 0;

	save_parse_args(argc, argv, &o);
	if (!req)
		save_die(EXIT_LOCAL, "out of memory");
	req->magic = CTL_REQ_MAGIC;
	req->version = CTL_VERSION;
	req->flags = (o.fsync ? CTL_F_FSYNC : 0) | (o.exit_after ? CTL_F_EXIT : 0) |
		     (o.incremental ? CTL_F_INCREMENTAL : 0) | (o.mappable ? CTL_F_MAPPABLE : 0);
	progress_init(&prg, "ckpt-save", "saved");
	if (prg.on)
		req->flags |= CTL_F_PROGRESS;
	save_check_target(o.pid);
	sig = save_target_signal(o.pid);
	save_check_caught(o.pid, sig);
	if (o.key)
		save_seal_init(&seal, o.key, o.pid);

	signal(SIGINT, save_on_signal);
	signal(SIGTERM, save_on_signal);
	signal(SIGHUP, save_on_signal);
	save_prepare_output(&o, req);
	lfd = save_listen();

	if (sigqueue(o.pid, sig, (union sigval){ .sival_int = getpid() }) < 0)
		save_die(EXIT_TARGET,
			 "cannot signal process %d: %s", (int)o.pid, strerror(errno));
	c = save_accept(lfd, &o, &cred);
	close(lfd);
	img_fd = save_create_output(&o, &cred, req);
	if (o.key && img_fd == STDOUT_FILENO) {
		struct stat st;

		/* a file on stdout is sealed in place; a pipe through us */
		if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode))
			base = lseek(STDOUT_FILENO, 0, SEEK_CUR);
		else
			img_fd = save_seal_relay_start(&seal), relay = 1;
	}
	save_send_request(c, img_fd, &o, req);
	if (relay) {
		close(img_fd);		/* the target's copy is the one it writes */
		img_fd = STDOUT_FILENO;
		save_seal_relay(&seal, STDOUT_FILENO);
	}
	save_recv_reply(c, &o, &rep, &prg);
	close(c);

	if (rep.status != 0)
		save_die(EXIT_FAILED, "%d: %s", (int)o.pid,
			 rep.msg[0] ? rep.msg : strerror(-rep.status));
	if (relay)
		save_seal_relay_commit(&seal, STDOUT_FILENO);
	else if (o.key)
		save_seal_file(&seal, img_fd, base);
	if (o.fsync && fsync(img_fd) < 0 && errno != EINVAL && errno != EROFS)
		save_die(EXIT_LOCAL, "cannot fsync the image: %s", strerror(errno));
	if (img_fd != STDOUT_FILENO) {
		if (ckpt_tmp_commit(&save_tmp, o.fsync, err, sizeof(err)) < 0)
			save_die(EXIT_LOCAL, "%s", err);
		save_tmp_live = 0;
		ckpt_tmp_release(&save_tmp);
	}
	save_report(&o, &rep);
	if (rep.msg[0])
		fprintf(stderr, "ckpt-save: note: %s\n", rep.msg);
	free(req);
	return 0;
}
