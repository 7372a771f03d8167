/*
 * restart_env.c - can the image run here?  Each check names what is wrong
 * and what to do; with --check they are all listed instead of stopping at
 * the first.
 *
 *   pid, tids  free, and this user may create a process with them
 *   CPU        every xsave feature the image's registers use is enabled
 *   vdso       this kernel's vdso is byte-identical to the image's (the
 *              restored libc keeps pointers into it)
 *   files      every mapped file is still the same file (inode, size,
 *              mtime); libraries and data the process maps must not have
 *              changed under it.
 *   fds, cwd   every file to reopen is there, as its kind requires
 *              (fds/fd_<kind>.c; the policy: docs/USAGE.md), every fd to
 *              inherit from ckpt-restart is open
 *   locks      every file lock the process held is free to take again
 *              (fds/fd_lock.c): else the file, the range and the holder
 *   timers     POSIX timers can be made with their ids (Linux 6.16+)
 *   memory     locked memory fits in RLIMIT_MEMLOCK (or CAP_IPC_LOCK);
 *              a shared file mapping that mprotect() could make writable
 *              can be opened read-write again; guard regions, seals and
 *              the advice the process gave can be given here
 *   attributes oom_score_adj, affinity, seccomp... (restart_attr.c)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "kernel-assist/assist.h"
#include "restart/restorer.h"
#include "restart/rst.h"

int rst_assist_want = ASSIST_AUTO;

/*
 * Through the module, a caller it lists gets only the pids of its range
 * (pid_min=, pid_max=): every pid and tid of the process must lie there.
 * (A privileged caller gets any pid; the module says EPERM for the rest
 * anyway: this names the pid first.)
 */
static int check_module_range(struct rst_state *s, int privileged)
{
	long lo, hi;
	int bad = 0;

	if (assist_backend() != ASSIST_MODULE || privileged || assist_module_pid_range(&lo, &hi))
		return 0;
	for (int i = 0; i < s->nthreads || i == 0; i++) {
		pid_t p = i ? s->threads[i].tid : s->proc.pid;

		if (p < lo || p > hi)
			bad = rst_problem(s, RST_EXIT_ENV, "%s %d lies outside the pids the "
					  "kernel-assist module's policy lets this user choose (%ld to "
					  "%ld: pid_min= and pid_max= in /sys/module/ckpt_assist/"
					  "parameters/)", i ? "thread id" : "pid", p, lo, hi);
	}
	return bad;
}

int rst_check_pid(struct rst_state *s)
{
	struct assist_caps caps;
	pid_t pid = s->proc.pid;
	char name[64], why[256];
	int r;

	/* (root become the owner of an untrusted image checked its ids already) */
	if (getuid() != 0 && getuid() != s->proc.uid && !s->as_owner)
		return rst_problem(s, RST_EXIT_ENV, "the image belongs to uid %u; restart it as "
				   "that user or as root", s->proc.uid);
	if (getuid() != 0 && getgid() != s->proc.gid && getegid() != s->proc.gid && !s->as_owner)
		return rst_problem(s, RST_EXIT_ENV, "the image's gid is %u, ours %u: restart it "
				   "with that group (sg, newgrp) or as root", s->proc.gid, getgid());
	rst_caps_raise(s);
	assist_probe(&caps);
	rst_caps_lower(s);
	/* which back end makes the pids (kernel-assist/assist.h, --assist=) */
	if (assist_choose(rst_assist_want, caps.set_tid || caps.ns_last_pid, why, sizeof(why)) < 0) {
		if (rst_assist_want == ASSIST_AUTO)
			return rst_problem(s, RST_EXIT_ENV, "restoring pid %d: %s; without privilege, "
					   "start the program with `ckpt-run --pidns` so its pids live "
					   "in a namespace ckpt-restart can recreate", pid, why);
		return rst_problem(s, RST_EXIT_ENV, "restoring pid %d: %s", pid, why);
	}
	if ((r = check_module_range(s, caps.set_tid || caps.ns_last_pid)))
		return r;
	if (assist_pid_holder(pid, name, sizeof(name)))
		return rst_problem(s, RST_EXIT_ENV, "pid %d is taken by process %d (%s); the "
				   "restart needs the original pid: end that process, or restart "
				   "where pid %d is free", pid, pid, name, pid);
	return 0;
}

static const char *const own_names[RST_OWN_N] = { "[vdso]", "[vvar]", "[vvar_vclock]" };

/*
 * One read of /proc/self/maps (each read walks every mapping in the
 * kernel, a few hundred microseconds here: once, not once per name).
 * Lines are "start-end perms offset dev inode   name"; only the ranges
 * of lines whose name is one of own_names matter.
 */
static void read_own(struct rst_state *s)
{
	static char buf[64 * 1024];
	size_t len = 0;
	ssize_t n;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	s->own_read = 1;
	if (fd < 0)
		return;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	for (char *line = buf, *nl; *line; line = nl + 1) {
		char *end, *name;
		unsigned long a, b;

		if (!(nl = strchr(line, '\n')))
			break;
		*nl = '\0';
		a = strtoul(line, &end, 16);
		if (*end != '-')
			continue;
		b = strtoul(end + 1, NULL, 16);
		if (!(name = strrchr(line, ' ')))
			continue;
		for (int k = 0; k < RST_OWN_N; k++) {
			if (!strcmp(name + 1, own_names[k])) {
				s->own[k].start = a;
				s->own[k].end = b;
			}
		}
	}
}

int rst_own_special(struct rst_state *s, int which, uint64_t *start, uint64_t *end)
{
	if (!s->own_read)
		read_own(s);
	*start = s->own[which].start;
	*end = s->own[which].end;
	return *end != 0;
}

static int check_vdso(struct rst_state *s)
{
	static const uint32_t flags[RST_OWN_N] = { IMG_VMA_VDSO, IMG_VMA_VVAR, IMG_VMA_VVAR_VCLOCK };

	/* [vvar_vclock] first: its presence names the difference best */
	for (int j = 0; j < RST_OWN_N; j++) {
		int k = (j + RST_OWN_VVAR_VCLOCK) % RST_OWN_N;
		struct rst_vma *img = NULL;
		uint64_t a, b;
		int have = rst_own_special(s, k, &a, &b);

		for (int i = 0; i < s->nvmas; i++)
			if (s->vmas[i].v.flags & flags[k])
				img = &s->vmas[i];
		if (!img && !have)
			continue;
		/* Linux 6.13 split [vvar] in two: the image and this kernel on either side */
		if (k == RST_OWN_VVAR_VCLOCK && (!img || !have))
			return rst_problem(s, RST_EXIT_INCOMPAT, "this kernel has %s [vvar_vclock] "
					   "mapping, the image has %s (image taken on Linux %.64s; "
					   "Linux 6.13 split [vvar] in two): restart on the kernel "
					   "that took it", have ? "a" : "no", img ? "one" : "none",
					   s->r.hdr.kernel);
		if (!img || !have || img->v.end - img->v.start != b - a)
			return rst_problem(s, RST_EXIT_INCOMPAT, "this kernel's %s differs from "
					   "the image's (image taken on Linux %.64s): restart on the "
					   "same kernel", own_names[k], s->r.hdr.kernel);
		if (k == RST_OWN_VDSO && img->staging &&
		    memcmp(img->staging, (void *)a, b - a))
			return rst_problem(s, RST_EXIT_INCOMPAT, "this kernel's vDSO code differs "
					   "from the image's (image taken on Linux %.64s): restart on "
					   "the same kernel", s->r.hdr.kernel);
	}
	return 0;
}

static int check_files(struct rst_state *s)
{
	int bad = 0;

	for (int i = 0; i < s->nvmas; i++) {
		const struct rst_vma *v = &s->vmas[i];
		struct stat st;
		int64_t mt;

		if (!(v->v.flags & IMG_VMA_FILE) || v->v.file || rst_ipc_is_attach(v))
			continue;	/* not a file, or one made again (its FILE's kind checks,
					 * a SysV segment: rst_check_ipc) */
		if (i && (s->vmas[i - 1].v.flags & IMG_VMA_FILE) &&
		    !strcmp(s->vmas[i - 1].path, v->path) && s->vmas[i - 1].v.ino == v->v.ino)
			continue;	/* same file as the previous mapping */
		if (stat(v->path, &st) < 0) {
			bad = rst_problem(s, RST_EXIT_ENV, "mapped file %s %s (%s); the process "
					   "had it mapped at %lx", v->path, errno == ENOENT ? "is gone" :
					   "cannot be reached", strerror(errno), (unsigned long)v->v.start);
			continue;
		}
		mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		if (st.st_ino != v->v.ino ||
		    (!(v->v.flags & IMG_VMA_SHARED) && (st.st_size != v->v.size || mt != v->v.mtime_ns)))
			bad = rst_problem(s, RST_EXIT_ENV, "mapped file %s changed since the "
					   "checkpoint (inode %lu, size %ld, mtime %ld.%09ld then; "
					   "inode %lu, size %ld, mtime %ld.%09ld now); the restored "
					   "code or data would be wrong", v->path,
					   (unsigned long)v->v.ino, (long)v->v.size,
					   (long)(v->v.mtime_ns / 1000000000), (long)(v->v.mtime_ns % 1000000000),
					   (unsigned long)st.st_ino, (long)st.st_size,
					   (long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
	}
	return bad;
}

/* Opened files (each kind checks its own: restart_fds.c) and the cwd. */
static int check_fds(struct rst_state *s)
{
	struct stat st;
	int bad = rst_check_fds(s);

	if (stat(s->cwd, &st) < 0 || !S_ISDIR(st.st_mode))
		bad = rst_problem(s, RST_EXIT_ENV, "the saved working directory %s is gone",
				  s->cwd);
	return bad;
}

/* Every other thread's tid must be free too (the main one is this process). */
static int check_tids(struct rst_state *s)
{
	char name[64];
	int bad = 0;

	for (int i = 1; i < s->nthreads; i++) {
		pid_t tid = s->threads[i].tid;

		if (assist_pid_holder(tid, name, sizeof(name)))
			bad = rst_problem(s, RST_EXIT_ENV, "thread id %d is taken by process %d "
					  "(%s); the restart needs every original tid: end that "
					  "process, or restart where tid %d is free", tid, tid, name, tid);
	}
	return bad;
}

/*
 * The restorer gives each thread of a trusted image its capabilities: it
 * must have held them itself when it started (restart_trust.c: not from
 * a setcap on it, not from a user namespace of its own).  An untrusted
 * image gets none, with a note (rst_caps_note).
 */
static int check_caps(struct rst_state *s)
{
	uint64_t have = s->caps_held, want = rst_image_caps(s);

	/*
	 * A --pidns image's capabilities are those of its own user namespace,
	 * which the restart makes anew and in which its owner holds every
	 * capability (what unshare(CLONE_NEWUSER) gives anyone): they reach
	 * nothing outside it, so what ckpt-restart holds outside does not
	 * bound them (root of a container that lacks one still restarts it).
	 */
	if (!rst_caps_restored(s) || !(want & ~have) || (s->r.hdr.flags & IMG_F_PIDNS))
		return 0;
	return rst_problem(s, RST_EXIT_ENV, "the process had capabilities %#lx that "
			   "ckpt-restart does not hold (it holds %#lx%s): restart as root",
			   (unsigned long)want, (unsigned long)have,
			   getauxval(AT_SECURE) ? "; those a setcap gives it do not count" : "");
}

/* Real-time policies and a nice below ours need CAP_SYS_NICE. */
static int check_sched(struct rst_state *s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int mynice, bad = 0;

	if (syscall(SYS_capget, &h, d) == 0 && (d[0].effective & (1u << CAP_SYS_NICE)))
		return 0;
	errno = 0;
	mynice = getpriority(PRIO_PROCESS, 0);
	for (int i = 0; i < s->nthreads; i++) {
		const struct img_thread *t = &s->threads[i];

		if (t->sched_policy == SCHED_FIFO || t->sched_policy == SCHED_RR ||
		    t->sched_nice < mynice)
			bad = rst_problem(s, RST_EXIT_ENV, "thread %d ran with scheduling policy %u, "
					  "priority %u, nice %d; giving it back needs CAP_SYS_NICE "
					  "(%s)", t->tid, t->sched_policy, t->sched_priority, t->sched_nice,
					  s->as_owner ? "which the image's owner does not get: the image "
					  "is not trusted; --trust-image if you know who wrote it" :
					  "restart as root");
	}
	return bad;
}

/*
 * A POSIX timer's id is the application's handle: it is made again with
 * the same id: PR_TIMER_CREATE_RESTORE_IDS (Linux 6.16), else the
 * kernel-assist module's TIMER_ID, else timers created and deleted until
 * the kernel's per-process counter reaches each id (assist_timer_mode),
 * which is refused beyond ASSIST_TIMER_CYCLE_MAX ids.
 */
static int check_timers(struct rst_state *s)
{
	int n = 0, prctl_ok;
	int64_t max = -1;
	char why[256];

	for (int i = 0; i < s->ntimers; i++) {
		if (s->timers[i].kind != IMG_TIMER_POSIX)
			continue;
		n++;
		if ((int64_t)s->timers[i].id > max)
			max = s->timers[i].id;
	}
	prctl_ok = prctl(RST_PR_TIMER_CREATE_RESTORE_IDS, RST_PR_TIMER_IDS_GET, 0, 0, 0) >= 0;
	s->timer_mode = assist_timer_mode(prctl_ok, why, sizeof(why));
	snprintf(s->timer_why, sizeof(s->timer_why), "%s", why);
	if (!n || s->timer_mode != ASSIST_TIMERS_CYCLE || max < ASSIST_TIMER_CYCLE_MAX)
		return 0;
	return rst_problem(s, RST_EXIT_INCOMPAT, "the process has %d POSIX timer%s (timer_create), "
			   "one with id %lld; making them again with their ids needs "
			   "PR_TIMER_CREATE_RESTORE_IDS (Linux 6.16) or the kernel-assist module "
			   "(docs/SUPPORT.md, \"The module\"): without them ckpt-restart creates "
			   "and deletes timers until the kernel hands out each id, up to id %d",
			   n, n > 1 ? "s" : "", (long long)max, ASSIST_TIMER_CYCLE_MAX - 1);
}

/*
 * Locked memory (mlock, MAP_LOCKED, mlockall) comes back locked.  Without
 * CAP_IPC_LOCK (which does not count inside the --pidns user namespace)
 * the kernel allows RLIMIT_MEMLOCK bytes, the limit the restart sets: the
 * image's, within this process's hard limit.
 */
static int check_mlock(struct rst_state *s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t locked = 0, limit = s->proc.rlim[RLIMIT_MEMLOCK].cur, first = 0;
	int n = 0, lockcap = 0, rescap = 0;
	struct rlimit rl;

	for (int i = 0; i < s->nvmas; i++) {
		if (!(s->vmas[i].v.attrs & IMG_VMA_ATTR_LOCKED))
			continue;
		if (!n++)
			first = s->vmas[i].v.start;
		locked += s->vmas[i].v.end - s->vmas[i].v.start;
	}
	if (!locked)
		return 0;
	if (syscall(SYS_capget, &h, d) == 0) {
		lockcap = !s->pidns && (d[0].effective & (1u << CAP_IPC_LOCK));
		rescap = !s->pidns && (d[0].effective & (1u << CAP_SYS_RESOURCE));
	}
	if (lockcap)
		return 0;
	if (!rescap && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && limit > rl.rlim_max)
		limit = rl.rlim_max;
	if (locked <= limit)
		return 0;
	return rst_problem(s, RST_EXIT_ENV, "the process had %lu KiB of memory locked (mlock, "
			   "mlockall or MAP_LOCKED: %d mapping%s, the first at %lx); without "
			   "CAP_IPC_LOCK the restart may lock %lu KiB (RLIMIT_MEMLOCK): raise the "
			   "limit (ulimit -l) or restart as root", (unsigned long)(locked >> 10), n,
			   n > 1 ? "s" : "", (unsigned long)first, (unsigned long)(limit >> 10));
}

/*
 * A shared file mapping that mprotect() could make writable (the file was
 * open read-write when it was mapped) is mapped from a read-write open
 * again; a file now read-only for this user cannot give it back.  A
 * mapping that names a FILE (v.file: a deleted file, a memfd, a POSIX shm
 * object) is its FILE's business: its path ("/memfd:x (deleted)") names
 * nothing to open, and the file is made (or reopened) read-write by its
 * kind (restart_fds.c, rst_open_files).
 */
static int check_maywrite(struct rst_state *s)
{
	int bad = 0;

	for (int i = 0; i < s->nvmas; i++) {
		const struct rst_vma *v = &s->vmas[i];
		int fd;

		if (!(v->v.attrs & IMG_VMA_ATTR_MAYWRITE) || (v->v.prot & 2) || v->v.file ||
		    rst_ipc_is_attach(v))
			continue;	/* writable ones are opened read-write anyway */
		fd = open(v->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		bad = rst_problem(s, RST_EXIT_ENV, "mapped file %s cannot be opened read-write "
				  "(%s); the process mapped it shared at %lx from a read-write "
				  "open, so mprotect() could make that mapping writable", v->path,
				  strerror(errno), (unsigned long)v->v.start);
	}
	return bad;
}

/*
 * Guard regions (MADV_GUARD_INSTALL, Linux 6.13) are installed again;
 * an older kernel refuses the advice: say so before anything is built.
 */
static int check_guards(struct rst_state *s)
{
	long r;

	for (int i = 0; i < s->nvmas; i++) {
		if (!s->vmas[i].v.nguards)
			continue;
		/* an empty range: only whether the kernel knows the advice */
		r = syscall(SYS_madvise, 0, 0, 102 /* MADV_GUARD_INSTALL */);
		if (r == 0 || errno != EINVAL)
			return 0;
		return rst_problem(s, RST_EXIT_INCOMPAT, "the process had guard regions "
				   "(MADV_GUARD_INSTALL), the first at %lx; this kernel cannot "
				   "install them (Linux 6.13 or later can)",
				   (unsigned long)s->vmas[i].guards[0].start);
	}
	return 0;
}

/*
 * Sealed mappings (mseal, Linux 6.10) are sealed again last of all, in the
 * restorer, where a failure kills the restored process: ask first.
 */
static int check_seals(struct rst_state *s)
{
	for (int i = 0; i < s->nvmas; i++) {
		if (!(s->vmas[i].v.attrs & IMG_VMA_ATTR_SEALED))
			continue;
		/* an empty range: only whether the kernel has the call */
		if (syscall(462 /* SYS_mseal */, 0, 0, 0) == 0 || errno != ENOSYS)
			return 0;
		return rst_problem(s, RST_EXIT_INCOMPAT, "the process had sealed mappings "
				   "(mseal), the first at %lx; this kernel cannot seal them "
				   "(Linux 6.10 or later can)", (unsigned long)s->vmas[i].v.start);
	}
	return 0;
}

int rst_check_env(struct rst_state *s)
{
	uint64_t need = 0, have = arch_xgetbv0();
	int r;

	for (int i = 0; i < s->nthreads; i++)
		need |= s->threads[i].xfeatures;
	if (need & ~have)
		if ((r = rst_problem(s, RST_EXIT_INCOMPAT, "this CPU lacks xsave features %#lx "
				     "the image's registers use (image XCR0 %#lx, here %#lx)",
				     (unsigned long)(need & ~have), (unsigned long)need,
				     (unsigned long)have)) && !s->check_only)
			return r;
	if ((r = check_vdso(s)) && !s->check_only)
		return r;
	if ((r = check_tids(s)) && !s->check_only)
		return r;
	if ((r = check_caps(s)) && !s->check_only)
		return r;
	if ((r = check_sched(s)) && !s->check_only)
		return r;
	/* first: an image of ckpt-run --ipcns is checked in a new IPC namespace */
	/* (a tree's objects are ckpt-restart's to check and make: restart_tree.c) */
	if (!s->tree_files && (r = rst_check_ipc(s)) && !s->check_only)	/* restart_ipc.c */
		return r;
	if ((r = check_files(s)) && !s->check_only)
		return r;
	if ((r = check_fds(s)) && !s->check_only)
		return r;
	if ((r = rst_trust_check_fds(s)) && !s->check_only)
		return r;
	if ((r = rst_check_locks(s)) && !s->check_only)
		return r;
	if ((r = check_timers(s)) && !s->check_only)
		return r;
	if ((r = check_mlock(s)) && !s->check_only)
		return r;
	if ((r = check_maywrite(s)) && !s->check_only)
		return r;
	if ((r = check_guards(s)) && !s->check_only)
		return r;
	if ((r = check_seals(s)) && !s->check_only)
		return r;
	if ((r = rst_check_attrs(s)) && !s->check_only)	/* restart_attr.c */
		return r;
	return s->nproblems ? RST_EXIT_ENV : 0;
}
