/*
 * shim_config.c - the constructor: read the configuration from the
 * environment, install libckpt's signal handlers and interval timer.
 *
 *   CKPT_CTL_SIGNAL  internal checkpoint signal (default SIGRTMAX-1 = 63)
 *   CKPT_SIGNAL      also checkpoint to CKPT_IMAGE when this signal arrives
 *   CKPT_INTERVAL    checkpoint to CKPT_IMAGE every N seconds (a decimal:
 *                    "0.05"; at least 0.001); a tick that finds a save
 *                    running is skipped (shim_handler.c)
 *   CKPT_IMAGE       image path for the two above (default ckpt-PID.img
 *                    in the starting directory)
 *   CKPT_ON_TERM     on SIGTERM: checkpoint to this path, then terminate
 *   CKPT_LOG         quiet | error (default) | info | debug
 *   CKPT_COMPRESS    snappy (default) | none: page data stored raw
 *   CKPT_THREADS     threads that compress page data, the checkpointing
 *                    one included; 0 or unset: one per CPU
 *   CKPT_GHOST_LIMIT the most data of one deleted file or memfd an image
 *                    keeps (bytes; K, M, G suffixes); default 256M
 *   CKPT_FORK        0: transparent checkpoints write the pages in place;
 *                    1: from a forked copy, the threads resume; default:
 *                    forked, but in place for a small process (at most
 *                    2 MiB of private memory and 4 threads: shim_inplace.c)
 *   CKPT_MAPPABLE    1: images of CKPT_SIGNAL, CKPT_INTERVAL and
 *                    CKPT_ON_TERM are mappable (CKPT_OPT_MAPPABLE)
 *   CKPT_TMPFILE     0: image files are made under a random temporary
 *                    name (O_EXCL) instead of as an O_TMPFILE, as on a
 *                    filesystem without O_TMPFILE (for such filesystems
 *                    that say they have it, and the tests of the fallback)
 *   CKPT_SMAPS       1: every checkpoint reads /proc/self/smaps for the
 *                    memory's attributes (madvise flags, locks), also
 *                    those given by raw system calls (libckpt/ckpt_memattr.c)
 *   CKPT_PIDNS       1: set by `ckpt-run --pidns`; read by shim_handler.c,
 *                    which marks every image IMG_F_PIDNS
 *   CKPT_IPCNS       1: set by `ckpt-run --ipcns`; read by libckpt/ckpt_sysv.c:
 *                    the IPC namespace is the process's own (every object
 *                    of it is saved, its records say IMG_IPC_NS)
 *   CKPT_TREE_ROOT   set here, not by the user: the pid of the tree's root
 *                    (below)
 *
 * The tree's root.  CKPT_INTERVAL, CKPT_SIGNAL and CKPT_ON_TERM act only
 * in the process the user started, whose checkpoint is the whole tree's
 * (issue #11); every process of the tree answers ckpt-save and
 * ckpt_save().  The first shim to load sets CKPT_TREE_ROOT=<its pid> in
 * its environment, before main(); every program it executes inherits it
 * (wrappers/wrap_exec.c adds it back to an environment that lacks it).
 * A shim that loads and finds it naming another pid is a member: it arms
 * none of the three.  A process that execs keeps its pid, so the root
 * stays the root; a fork child is a member from its first instruction
 * (shim/shim_fork.c).  A value that is not a pid counts as unset.
 * A bad value is reported once and the default kept: the application
 * still runs.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_bt.h"
#include "libckpt/ckpt_fmt.h"
#include "shim/shim_int.h"
#include "wrappers/wrap.h"

#define SHIM_INTERVAL_COOKIE	0x494e5456	/* "INTV" */

struct shim_config shim_cfg = {
	.ctl_sig = SHIM_DEFAULT_SIGNAL,
	.log_level = SHIM_LOG_ERROR,
};
static timer_t shim_timer;
static int shim_timer_armed;

int shim_ctl_signal(void)
{
	return shim_cfg.ctl_sig;
}

int shim_reserved_signal(int sig)
{
	return sig == shim_cfg.ctl_sig ||
	       (shim_cfg.user_sig && sig == shim_cfg.user_sig) ||
	       (shim_cfg.on_term && sig == SIGTERM);
}

/* "63", "SIGUSR1", "USR1", "SIGRTMIN+2", "RTMAX-1": signal number or -1. */
static int parse_signal(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM },
		{ "ALRM", SIGALRM }, { "PWR", SIGPWR }, { "XCPU", SIGXCPU },
		{ "WINCH", SIGWINCH }, { "URG", SIGURG },
	};
	char *end;
	long v;

	if (!strncmp(s, "SIG", 3))
		s += 3;
	if (!strncmp(s, "RTMIN", 5) || !strncmp(s, "RTMAX", 5)) {
		int base = s[3] == 'I' ? SIGRTMIN : SIGRTMAX;

		v = s[5] ? strtol(s + 5, &end, 10) : 0;
		if (s[5] && *end)
			return -1;
		v += base;
		return v >= SIGRTMIN && v <= SIGRTMAX ? (int)v : -1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].sig;
	v = strtol(s, &end, 10);
	if (*s && !*end && v > 0 && v <= SIGRTMAX && v != SIGKILL && v != SIGSTOP)
		return (int)v;
	return -1;
}

/*
 * "2", "0.05", "1.5": nanoseconds, 0 when not a number of seconds from
 * 0.001 to 999999.  By hand, not strtod(): the locale's decimal point
 * must not decide whether "0.05" means 50 ms.
 */
static uint64_t parse_seconds(const char *s)
{
	uint64_t sec = 0, frac = 0, scale = 1000000000;
	const char *p = s;

	while (*p >= '0' && *p <= '9' && sec < 1000000)
		sec = sec * 10 + (uint64_t)(*p++ - '0');
	if (p == s && *p != '.')
		return 0;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9') && p - 1 == s)
			return 0;			/* "." alone */
		while (*p >= '0' && *p <= '9') {
			scale /= 10;
			frac += (uint64_t)(*p++ - '0') * scale;	/* digits past ns add 0 */
		}
	}
	if (*p || sec >= 1000000)
		return 0;
	frac += sec * 1000000000;
	return frac >= 1000000 ? frac : 0;
}

/* Makes path absolute against the starting directory. */
static int abs_path(const char *path, char *out)
{
	char cwd[SHIM_PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return ckpt_fmt(out, SHIM_PATH_MAX, "%s", path) > 0 ? 0 : -1;
	ckpt_fmt(out, SHIM_PATH_MAX, "%s/%s", cwd, path);
	return 0;
}

static void read_env(void)
{
	const char *v;

	if ((v = getenv("CKPT_LOG"))) {
		static const char *const lv[] = { "quiet", "error", "info", "debug" };

		for (int i = 0; i < 4; i++)
			if (!strcmp(v, lv[i]))
				shim_cfg.log_level = i;
	}
	if ((v = getenv("CKPT_FORK")) && !strcmp(v, "0"))
		shim_cfg.no_fork = 1;
	else if (v && !strcmp(v, "1"))
		shim_cfg.fork_always = 1;
	if ((v = getenv("CKPT_MAPPABLE"))) {
		if (!strcmp(v, "1"))
			shim_cfg.mappable = 1;
		else if (strcmp(v, "0"))
			shim_log(SHIM_LOG_ERROR, "CKPT_MAPPABLE=%s is not 0 or 1; using 0", v);
	}
	if ((v = getenv("CKPT_SMAPS"))) {
		if (!strcmp(v, "1"))
			shim_cfg.smaps_always = 1;
		else if (strcmp(v, "0"))
			shim_log(SHIM_LOG_ERROR, "CKPT_SMAPS=%s is not 0 or 1; using 0", v);
	}
	if ((v = getenv("CKPT_COMPRESS"))) {
		if (!strcmp(v, "none"))
			shim_cfg.no_compress = 1;
		else if (strcmp(v, "snappy"))
			shim_log(SHIM_LOG_ERROR, "CKPT_COMPRESS=%s is not snappy or none; using snappy", v);
	}
	if ((v = getenv("CKPT_THREADS"))) {
		char *end;
		long n = strtol(v, &end, 10);

		if (*v && !*end && n >= 0 && n <= 1024)
			shim_cfg.threads = (int)n;
		else
			shim_log(SHIM_LOG_ERROR, "CKPT_THREADS=%s is not a number of threads; using every CPU", v);
	}
	if ((v = getenv("CKPT_GHOST_LIMIT"))) {
		char *end;
		unsigned long long n = strtoull(v, &end, 10);
		int shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 :
			    *end == 'G' || *end == 'g' ? 30 : 0;

		if (shift)
			end++;
		if (*v >= '0' && *v <= '9' && !*end && n > 0 && n < (1ull << (63 - shift)))
			shim_cfg.ghost_limit = (uint64_t)n << shift;
		else
			shim_log(SHIM_LOG_ERROR, "CKPT_GHOST_LIMIT=%s is not a size (bytes, or with a "
				 "K, M or G suffix); using 256M", v);
	}
	if ((v = getenv(SHIM_ENV_CTL_SIGNAL))) {
		int s = parse_signal(v);

		if (s < 0 || s == SIGTERM)
			shim_log(SHIM_LOG_ERROR, "CKPT_CTL_SIGNAL=%s is not a usable signal; using %d",
				 v, shim_cfg.ctl_sig);
		else
			shim_cfg.ctl_sig = s;
	}
	if ((v = getenv("CKPT_SIGNAL"))) {
		int s = parse_signal(v);

		if (s < 0 || s == shim_cfg.ctl_sig)
			shim_log(SHIM_LOG_ERROR, "CKPT_SIGNAL=%s is not a usable signal; ignored", v);
		else
			shim_cfg.user_sig = s;
	}
	if ((v = getenv("CKPT_INTERVAL"))) {
		uint64_t ns = parse_seconds(v);

		if (ns)
			shim_cfg.interval_ns = ns;
		else
			shim_log(SHIM_LOG_ERROR, "CKPT_INTERVAL=%s is not a number of seconds "
				 "(0.001 to 999999, decimals allowed); ignored", v);
	}
	if ((v = getenv("CKPT_TMPFILE"))) {
		if (!strcmp(v, "0"))
			shim_cfg.tmp_named = 1;
		else if (strcmp(v, "1"))
			shim_log(SHIM_LOG_ERROR, "CKPT_TMPFILE=%s is not 0 or 1; using 1", v);
	}
	if ((v = getenv("CKPT_IMAGE")) && *v)
		abs_path(v, shim_cfg.image);
	else {
		char name[64];

		ckpt_fmt(name, sizeof(name), "ckpt-%d.img", (int)getpid());
		abs_path(name, shim_cfg.image);
	}
	if ((v = getenv("CKPT_ON_TERM")) && *v) {
		shim_cfg.on_term = 1;
		abs_path(v, shim_cfg.term_image);
	}
}

static int install(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = shim_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	/* No checkpoint trigger may interrupt another checkpoint. */
	sigaddset(&sa.sa_mask, shim_cfg.ctl_sig);
	if (shim_cfg.user_sig)
		sigaddset(&sa.sa_mask, shim_cfg.user_sig);
	if (shim_cfg.on_term)
		sigaddset(&sa.sa_mask, SIGTERM);
	if (wrap_real_sigaction(sig, &sa, NULL) < 0) {
		shim_log(SHIM_LOG_ERROR, "cannot install the handler for signal %d: %s", sig,
			 ckpt_strerror(errno));
		return -errno;
	}
	return 0;
}

int shim_arm_interval(void)
{
	struct sigevent ev;
	struct itimerspec its = { 0 };

	shim_timer_armed = 0;		/* a restarted process has no timer yet */
	if (!shim_cfg.interval_ns)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = shim_cfg.ctl_sig;
	ev.sigev_value.sival_int = SHIM_INTERVAL_COOKIE;
	if (timer_create(CLOCK_MONOTONIC, &ev, &shim_timer) < 0) {
		shim_log(SHIM_LOG_ERROR, "CKPT_INTERVAL: cannot create a timer: %s",
			 ckpt_strerror(errno));
		return -errno;
	}
	its.it_value.tv_sec = its.it_interval.tv_sec = shim_cfg.interval_ns / 1000000000;
	its.it_value.tv_nsec = its.it_interval.tv_nsec = shim_cfg.interval_ns % 1000000000;
	timer_settime(shim_timer, 0, &its, NULL);
	shim_timer_armed = 1;
	return 0;
}

int shim_is_interval(const siginfo_t *info)
{
	return shim_timer_armed && info->si_code == SI_TIMER &&
	       info->si_value.sival_int == SHIM_INTERVAL_COOKIE;
}

int shim_install(void)
{
	int r = install(shim_cfg.ctl_sig);

	if (!r && shim_cfg.user_sig)
		r = install(shim_cfg.user_sig);
	if (!r && shim_cfg.on_term)
		r = install(SIGTERM);
	return r;
}

/* glibc ≥ 2.35 registers rseq per thread; the checkpoint records where. */
static void resolve_rseq(void)
{
	const long *off = dlsym(RTLD_DEFAULT, "__rseq_offset");
	const unsigned *size = dlsym(RTLD_DEFAULT, "__rseq_size");

	if (off && size && *size) {
		ckpt_rseq_offset = *off;
		ckpt_rseq_size = *size;
	}
}

void shim_leave_root(void)
{
	shim_cfg.member = 1;
	shim_cfg.interval_ns = 0;
	shim_cfg.user_sig = 0;
	shim_cfg.on_term = 0;
	shim_timer_armed = 0;
}

/* The root, or a member of the tree whose root CKPT_TREE_ROOT names. */
static void tree_init(void)
{
	const char *v = getenv(SHIM_ENV_TREE_ROOT);
	int self = (int)getpid();
	long root = 0;
	char pid[16];

	if (v && *v >= '1' && *v <= '9') {
		char *end;

		root = strtol(v, &end, 10);
		if (*end || root <= 0 || root > INT_MAX)
			root = 0;
	}
	if (root && root != self) {
		int had = shim_cfg.interval_ns || shim_cfg.user_sig || shim_cfg.on_term;

		shim_leave_root();
		shim_cfg.tree_root = (int)root;
		shim_log(SHIM_LOG_DEBUG, "a member of the tree of process %ld (CKPT_TREE_ROOT)%s", root,
			 had ? ": CKPT_INTERVAL, CKPT_SIGNAL and CKPT_ON_TERM act only there" : "");
		return;
	}
	shim_cfg.tree_root = self;
	ckpt_fmt(pid, sizeof(pid), "%d", self);
	if (setenv(SHIM_ENV_TREE_ROOT, pid, 1) < 0)
		shim_log(SHIM_LOG_ERROR, "cannot set %s: %s; the programs this one executes will "
			 "take themselves for roots", SHIM_ENV_TREE_ROOT, ckpt_strerror(errno));
	shim_log(SHIM_LOG_DEBUG, "the root of its tree (CKPT_TREE_ROOT=%d)", self);
}

__attribute__((constructor)) static void shim_init(void)
{
	int saved = errno;

	read_env();
	tree_init();
	wrap_exec_init();
	resolve_rseq();
	ckpt_bt_load();		/* libunwind, for the stored backtraces (ckpt_bt.c) */
	if (shim_install() == 0) {
		wrap_sig_adopt();	/* started with a reserved signal blocked */
		shim_arm_interval();
	}
	errno = saved;
}
