/*
 * assist_module.c - kernel-assist's second back end, the kernel-assist
 * module (/dev/ckpt-assist, kernel-assist/module/), and the run-time
 * choice between it and the upstream one (assist.h).
 *
 * The choice (assist_decide): --assist=upstream and --assist=module take
 * that one or fail saying why; auto takes the module when it is loaded,
 * speaks our abi, has CLONE and its policy lets this caller use it (the
 * issue's rule: the module when it allows the call), else upstream when
 * this process may use clone3 set_tid, else neither.  The module is never
 * used when its abi differs (ckpt_assist_uapi.h's versioning rules).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "kernel-assist/assist.h"
#include "kernel-assist/module/ckpt_assist_uapi.h"

#define ASSIST_SYSFS	"/sys/module/ckpt_assist/parameters/"

static int mod_fd = -1;
static int chosen = -1;			/* enum assist_backend, or -1: not yet */
static int chosen_want, chosen_upstream;
static char chosen_why[256];
static struct assist_module_state mod_seen;

static const char *const names[] = { "auto", "upstream", "module" };

int assist_parse(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

const char *assist_name(int backend)
{
	return backend >= 0 && backend < 3 ? names[backend] : "none";
}

/* Why the module cannot serve this caller, or NULL when it can. */
static const char *module_lack(const struct assist_facts *f, char *buf, size_t len)
{
	const struct assist_module_state *m = &f->mod;

	if (!m->present && m->err == ENOENT)
		snprintf(buf, len, "the kernel-assist module is not loaded (no %s)", CKPT_ASSIST_DEV);
	else if (!m->present)
		snprintf(buf, len, "%s: %s", CKPT_ASSIST_DEV, strerror(m->err));
	else if (m->abi != CKPT_ASSIST_ABI)
		snprintf(buf, len, "the kernel-assist module speaks abi %u, this libckpt abi %d: "
			 "install the module and libckpt from the same release", m->abi,
			 CKPT_ASSIST_ABI);
	else if (!(m->ops & CKPT_ASSIST_OP_CLONE))
		snprintf(buf, len, "the kernel-assist module has no CLONE call");
	else if (!(m->policy & CKPT_ASSIST_POL_CLONE))
		snprintf(buf, len, "the kernel-assist module's policy does not list uid %u or its "
			 "groups (root sets clone_uids= or clone_gids= in %s)", (unsigned)f->uid,
			 ASSIST_SYSFS);
	else
		return NULL;
	return buf;
}

int assist_decide(const struct assist_facts *f, char *why, size_t len)
{
	char lack[200];
	const char *ml = module_lack(f, lack, sizeof(lack));
	const char *up = "the kernel's clone3 set_tid (this process has CAP_CHECKPOINT_RESTORE)";

	switch (f->want) {
	case ASSIST_UPSTREAM:
		if (f->upstream) {
			snprintf(why, len, "%s, as --assist=upstream asks", up);
			return ASSIST_UPSTREAM;
		}
		snprintf(why, len, "--assist=upstream: a chosen pid needs root or "
			 "CAP_CHECKPOINT_RESTORE, which this process lacks");
		return -1;
	case ASSIST_MODULE:
		if (!ml) {
			snprintf(why, len, "the kernel-assist module (abi %u), as --assist=module asks",
				 f->mod.abi);
			return ASSIST_MODULE;
		}
		snprintf(why, len, "--assist=module: %s", ml);
		return -1;
	default:
		if (!ml) {
			snprintf(why, len, "the kernel-assist module (abi %u): its policy allows "
				 "uid %u", f->mod.abi, (unsigned)f->uid);
			return ASSIST_MODULE;
		}
		if (f->upstream) {
			snprintf(why, len, "%s; not the module: %s", up, ml);
			return ASSIST_UPSTREAM;
		}
		snprintf(why, len, "a chosen pid needs root or CAP_CHECKPOINT_RESTORE, or the "
			 "kernel-assist module with a policy that lists this user (%s)", ml);
		return -1;
	}
}

/* Opens the device and asks VERSION; returns the fd (close-on-exec) or -1. */
static int module_open(struct assist_module_state *m)
{
	struct ckpt_assist_version v;
	int fd;

	memset(m, 0, sizeof(*m));
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	if ((fd = open(CKPT_ASSIST_DEV, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		m->err = errno;
		return -1;
	}
	if (ioctl(fd, CKPT_ASSIST_IOC_VERSION, &v) < 0) {
		m->err = errno;
		close(fd);
		return -1;
	}
	m->present = 1;
	m->abi = v.abi;
	m->ops = v.ops;
	m->policy = v.policy;
	return fd;
}

void assist_module_probe(struct assist_module_state *m)
{
	int fd = module_open(m);

	if (fd >= 0)
		close(fd);
}

int assist_choose(int want, int upstream, char *why, size_t len)
{
	struct assist_facts f;
	int fd;

	if (chosen >= 0 || chosen_why[0]) {
		snprintf(why, len, "%s", chosen_why);
		return chosen;
	}
	memset(&f, 0, sizeof(f));
	f.want = want;
	f.upstream = upstream;
	f.uid = geteuid();
	fd = want == ASSIST_UPSTREAM ? (f.mod.err = EPERM, -1) : module_open(&f.mod);
	mod_seen = f.mod;
	chosen_want = want;
	chosen_upstream = upstream;
	chosen = assist_decide(&f, chosen_why, sizeof(chosen_why));
	/* kept for TIMER_ID too, whoever makes the pids (never under --assist=upstream) */
	if (fd >= 0 && f.mod.abi == CKPT_ASSIST_ABI)
		mod_fd = fd;
	else if (fd >= 0)
		close(fd);
	snprintf(why, len, "%s", chosen_why);
	return chosen;
}

int assist_backend(void)
{
	return chosen == ASSIST_MODULE ? ASSIST_MODULE : ASSIST_UPSTREAM;
}

int assist_module_fd(void)
{
	return mod_fd;
}

int assist_module_exe(void)
{
	return mod_fd >= 0 && chosen == ASSIST_MODULE && !chosen_upstream &&
	       (mod_seen.ops & CKPT_ASSIST_OP_EXE_LINK);
}

void assist_module_fd_moved(int fd)
{
	mod_fd = fd;
}

void assist_module_close(void)
{
	if (mod_fd >= 0)
		close(mod_fd);
	mod_fd = -1;
}

static int read_long(const char *name, long *v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), ASSIST_SYSFS "%s", name);
	if (!(f = fopen(path, "re")))
		return -1;
	ok = fscanf(f, "%ld", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

int assist_module_pid_range(long *lo, long *hi)
{
	return read_long("pid_min", lo) || read_long("pid_max", hi) ? -1 : 0;
}

int assist_timer_mode(int prctl_ok, char *why, size_t len)
{
	if (prctl_ok) {
		snprintf(why, len, "PR_TIMER_CREATE_RESTORE_IDS (Linux 6.16)");
		return ASSIST_TIMERS_PRCTL;
	}
	if (mod_fd >= 0 && (mod_seen.ops & CKPT_ASSIST_OP_TIMER_ID)) {
		snprintf(why, len, "the kernel-assist module's TIMER_ID");
		return ASSIST_TIMERS_MODULE;
	}
	snprintf(why, len, "timer_create and timer_delete until the kernel hands out each id "
		 "(no PR_TIMER_CREATE_RESTORE_IDS before Linux 6.16, %s)",
		 chosen_want == ASSIST_UPSTREAM ? "the module not used: --assist=upstream" :
		 mod_seen.present ? "the module has no TIMER_ID" : "no kernel-assist module");
	return ASSIST_TIMERS_CYCLE;
}

/*
 * fork() with pid `pid` through the module: the child returns here with
 * 0, on a copy of our stack, like fork's.  (The raw call, as clone3's in
 * assist_upstream.c: libc's fork bookkeeping is not redone, and the
 * child only goes on into the restore.)
 */
pid_t assist_module_fork(pid_t pid)
{
	struct ckpt_assist_clone c;
	long r;

	if (mod_fd < 0)
		return -ENODEV;
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.pid = (uint64_t)pid;
	c.exit_signal = SIGCHLD;
	r = syscall(SYS_ioctl, mod_fd, CKPT_ASSIST_IOC_CLONE, &c);
	return r < 0 ? -errno : (pid_t)r;
}
