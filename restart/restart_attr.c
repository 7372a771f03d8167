/*
 * restart_attr.c - process attributes at a restart (the checkpoint side
 * is libckpt/ckpt_attr.c; docs/SUPPORT.md, "Process attributes").
 *
 * Who sets what, and when:
 *   this file, in the process that becomes the restored one, before the
 *     restorer runs: oom_score_adj, coredump_filter, THP disable, KSM,
 *     child subreaper, membarrier registrations (all kept by the kernel
 *     per mm or per process, and none restricts what the restorer does);
 *   the restorer, each thread for itself (rst_thread_attrs): personality,
 *     timer slack, CPU affinity, I/O priority, MCE policy, NUMA policy,
 *     IO_FLUSHER — while it still holds ckpt-restart's privileges;
 *   the restorer, last of all (rst_thread_final): what restricts the
 *     process or what a change of ids resets — dumpable and MDWE (the main
 *     thread, once every thread's ids are set and every mapping is made),
 *     the parent-death signal, securebits, speculation controls, TSC mode,
 *     no_new_privs, the seccomp filters, syscall user dispatch.
 *
 * What needs a privilege ckpt-restart may lack, or a kernel feature, is
 * decided here before anything is built (rst_check_attrs, which --check
 * lists): lowering oom_score_adj, an affinity outside the CPUs this
 * ckpt-restart may use (its cpuset), a NUMA policy on absent nodes, the
 * real-time I/O class, IO_FLUSHER, membarrier commands, MDWE, speculation
 * controls, the seccomp filters the process inherited.  What can only be
 * probed by doing it is done in a child process that then exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "restart/restorer.h"
#include "restart/rst.h"

#define PR_SET_THP_DISABLE_		41
#define PR_GET_THP_DISABLE_		42
#define PR_GET_SPECULATION_CTRL_	52
#define PR_SET_SYSCALL_USER_DISPATCH_	59
#define PR_GET_MDWE_			66
#define PR_SET_MEMORY_MERGE_		67
#define PR_GET_MEMORY_MERGE_		68
#define PR_FUTEX_HASH_			78
#define PR_THP_DISABLE_EXCEPT_ADVISED_	2
#define MEMBARRIER_CMD_QUERY_		0
#define PR_SPEC_PRCTL_			1
#define PR_SPEC_RESTRICTS_		(4 | 8 | 16)	/* DISABLE, FORCE_DISABLE, DISABLE_NOEXEC */
#define SECBIT_KEEP_CAPS_		(1u << 4)

int rst_attr_note(struct rst_state *s, const struct img_rec *rec)
{
	if (rec->type == IMG_REC_PROC_ATTR) {
		const struct img_proc_attr *p = img_get_proc_attr(&s->r, rec);

		if (!p) {
			rst_error(s, "%s", s->r.err);
			return RST_EXIT_IMAGE;
		}
		if (s->have_pattr || s->nfds || s->nthreads) {
			rst_error(s, "corrupt: PROC_ATTR record at offset %lu is out of place",
				  (unsigned long)rec->offset);
			return RST_EXIT_IMAGE;
		}
		s->pattr = *p;
		s->have_pattr = 1;
		return 0;
	}
	const struct img_seccomp *f = img_get_seccomp(&s->r, rec);
	struct rst_seccomp *d;

	if (!f) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	if (!s->have_pattr || s->nfilters >= (int)s->pattr.nseccomp || s->nfds || s->nthreads ||
	    f->parent >= s->nfilters) {
		rst_error(s, "corrupt: SECCOMP record at offset %lu (filter %d over filter %d) is "
			  "out of place or names a later filter", (unsigned long)rec->offset,
			  s->nfilters, f->parent);
		return RST_EXIT_IMAGE;
	}
	s->filters = rst_grow(s->filters, &s->filters_cap, s->nfilters, sizeof(*s->filters));
	d = &s->filters[s->nfilters++];
	d->f = *f;
	d->insns = malloc((size_t)f->ninsns * 8);
	if (!d->insns)
		abort();
	memcpy(d->insns, f + 1, (size_t)f->ninsns * 8);
	return 0;
}

/* Instructions on the chain ending at leaf, as the kernel counts them. */
static uint64_t chain_insns(const struct rst_state *s, int leaf)
{
	uint64_t n = 0;

	for (; leaf >= 0; leaf = s->filters[leaf].f.parent)
		n += s->filters[leaf].f.ninsns + 4;
	return n;
}

int rst_attr_loaded(struct rst_state *s)
{
	int want = s->have_pattr ? (int)s->pattr.nseccomp : 0;

	if (s->nfilters != want) {
		rst_error(s, "corrupt: %d SECCOMP records, the PROC_ATTR record says %d",
			  s->nfilters, want);
		return RST_EXIT_IMAGE;
	}
	for (int i = 0; i < s->nthreads; i++) {
		const struct img_thread *t = &s->threads[i];

		if (t->seccomp_mode == 2 && (t->seccomp_leaf >= s->nfilters ||
		    chain_insns(s, t->seccomp_leaf) > IMG_SECCOMP_PATH_MAX)) {
			rst_error(s, "corrupt: thread %d names seccomp filter %d (the image has %d, "
				  "at most %u instructions a chain)", t->tid, t->seccomp_leaf,
				  s->nfilters, IMG_SECCOMP_PATH_MAX);
			return RST_EXIT_IMAGE;
		}
	}
	return 0;
}

static uint64_t my_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return d[0].effective | (uint64_t)d[1].effective << 32;
}

static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static int set_oom(int v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", v);
	return write_file("/proc/self/oom_score_adj", buf);
}

/* Runs fn(arg) in a child process: 1 if it returned 0 there. */
static int in_child(int (*fn)(long), long arg)
{
	pid_t p = fork();
	int st;

	if (p == 0)
		_exit(fn(arg) ? 1 : 0);
	if (p < 0)
		return 0;
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int try_oom(long v)
{
	return set_oom((int)v);
}

static int try_thp_advised(long unused)
{
	return prctl(PR_SET_THP_DISABLE_, 1, PR_THP_DISABLE_EXCEPT_ADVISED_, 0, 0) ? -1 : 0;
}

/* The seccomp filters ckpt-restart itself runs under (inherited by the process). */
static int my_filters(void)
{
	char buf[4096], *p;

	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0 ||
	    !(p = strstr(buf, "\nSeccomp_filters:")))
		return 0;
	return atoi(p + 17);
}

static int check_oom(struct rst_state *s)
{
	char buf[32];
	int now;

	if (read_file("/proc/self/oom_score_adj", buf, sizeof(buf)) < 0)
		return 0;
	now = atoi(buf);
	/*
	 * Raising is always allowed; lowering below the minimum (which only a
	 * writer holding CAP_SYS_RESOURCE moves) needs CAP_SYS_RESOURCE.  The
	 * minimum cannot be read: a child tries.
	 */
	if (s->pattr.oom_score_adj >= now || in_child(try_oom, s->pattr.oom_score_adj))
		return 0;
	return rst_problem(s, RST_EXIT_ENV, "the process had oom_score_adj %d, which ckpt-restart "
			   "may not set here (it runs with %d; going below the minimum its "
			   "ancestors left needs CAP_SYS_RESOURCE): restart with CAP_SYS_RESOURCE",
			   s->pattr.oom_score_adj, now);
}

/* Every thread's CPUs must be ones we may run on (our cpuset): tried on ourselves. */
static int check_affinity(struct rst_state *s)
{
	uint64_t mine[IMG_CPU_WORDS], got[IMG_CPU_WORDS];
	int bad = 0;

	if (syscall(SYS_sched_getaffinity, 0, sizeof(mine), mine) < 0)
		return 0;
	for (int i = 0; i < s->nthreads; i++) {
		const struct img_thread *t = &s->threads[i];

		if (!(t->attr_flags & IMG_TA_AFFINITY))
			continue;
		memset(got, 0, sizeof(got));
		if (syscall(SYS_sched_setaffinity, 0, sizeof(t->affinity), t->affinity) < 0 ||
		    syscall(SYS_sched_getaffinity, 0, sizeof(got), got) < 0 ||
		    memcmp(got, t->affinity, sizeof(got))) {
			char list[256];
			int n = 0;

			list[0] = '\0';
			for (int c = 0; c < IMG_CPU_WORDS * 64 && n < (int)sizeof(list) - 8; c++)
				if ((t->affinity[c / 64] >> (c % 64)) & 1)
					n += snprintf(list + n, sizeof(list) - n, "%s%d", n ? "," : "", c);
			bad = rst_problem(s, RST_EXIT_ENV, "thread %d ran only on CPUs %s, not all of "
					  "which ckpt-restart may use here (its cpuset, or CPUs "
					  "offline): restart where they are available", t->tid, list);
		}
	}
	syscall(SYS_sched_setaffinity, 0, sizeof(mine), mine);
	return bad;
}

/* Each thread's NUMA policy, tried on ourselves (then ours again). */
static int check_mempolicy(struct rst_state *s)
{
	uint64_t nodes[IMG_NODE_WORDS];
	int mode = 0, bad = 0;

	if (syscall(SYS_get_mempolicy, &mode, nodes, IMG_NODE_WORDS * 64 + 1, 0, 0) < 0)
		mode = -1;
	for (int i = 0; i < s->nthreads; i++) {
		const struct img_thread *t = &s->threads[i];

		if (!t->mempolicy)
			continue;
		if (syscall(SYS_set_mempolicy, t->mempolicy, t->mem_nodes, IMG_NODE_WORDS * 64 + 1) < 0)
			bad = rst_problem(s, RST_EXIT_ENV, "thread %d had NUMA policy 0x%x over nodes "
					  "this machine does not offer here: %s", t->tid,
					  t->mempolicy, strerror(errno));
	}
	if (mode >= 0)
		syscall(SYS_set_mempolicy, mode, mode ? nodes : NULL, IMG_NODE_WORDS * 64 + 1);
	return bad;
}

/*
 * Securebits and seccomp without no_new_privs need a capability in the
 * thread's own effective set when rst_thread_final runs: the image's
 * sets when they are given back (a trusted image, restart_trust.c), none
 * otherwise.
 */
static int check_threads(struct rst_state *s, uint64_t caps)
{
	int bad = 0;

	for (int i = 0; i < s->nthreads; i++) {
		const struct img_thread *t = &s->threads[i];
		uint64_t eff = rst_caps_restored(s) ? t->cap_effective : 0;

		if ((t->ioprio >> 13) == 1 /* IOPRIO_CLASS_RT */ &&
		    !(caps & ((1ull << CAP_SYS_NICE) | (1ull << CAP_SYS_ADMIN))))
			bad = rst_problem(s, RST_EXIT_ENV, "thread %d had the real-time I/O class "
					  "(ioprio 0x%x): giving it back needs CAP_SYS_NICE (restart "
					  "as root)", t->tid, t->ioprio);
		if ((t->attr_flags & IMG_TA_IO_FLUSHER) && !(caps & (1ull << CAP_SYS_RESOURCE)))
			bad = rst_problem(s, RST_EXIT_ENV, "thread %d was an IO_FLUSHER "
					  "(PR_SET_IO_FLUSHER): giving it back needs CAP_SYS_RESOURCE, "
					  "which ckpt-restart does not hold", t->tid);
		if (t->seccomp_mode == 2 && t->seccomp_leaf >= 0 &&
		    !(t->attr_flags & IMG_TA_NO_NEW_PRIVS) && !(eff & (1ull << CAP_SYS_ADMIN)))
			bad = rst_problem(s, RST_EXIT_ENV, "thread %d has seccomp filters but "
					  "neither no_new_privs nor CAP_SYS_ADMIN%s: they cannot be "
					  "installed", t->tid, rst_caps_restored(s) ? "" :
					  " (its capabilities are not given back: the image is not "
					  "trusted)");
		if ((t->securebits & ~SECBIT_KEEP_CAPS_) && !(eff & (1ull << CAP_SETPCAP)))
			bad = rst_problem(s, RST_EXIT_ENV, "thread %d has securebits 0x%x without "
					  "CAP_SETPCAP%s: they cannot be set", t->tid, t->securebits,
					  rst_caps_restored(s) ? "" : " (its capabilities are not given "
					  "back: the image is not trusted)");
		for (int k = 0; k < 3; k++) {
			long now = prctl(PR_GET_SPECULATION_CTRL_, k, 0, 0, 0);

			if ((t->spec[k] & PR_SPEC_PRCTL_) && (t->spec[k] & PR_SPEC_RESTRICTS_) &&
			    (now < 0 || !(now & PR_SPEC_PRCTL_)))
				bad = rst_problem(s, RST_EXIT_INCOMPAT, "thread %d restricted "
						  "speculation (PR_SET_SPECULATION_CTRL %d: 0x%x), which "
						  "this machine does not let a process control", t->tid,
						  k, t->spec[k]);
		}
		if (t->sud_mode && prctl(PR_SET_SYSCALL_USER_DISPATCH_, 0, 0, 0, 0) < 0)
			bad = rst_problem(s, RST_EXIT_INCOMPAT, "thread %d used syscall user dispatch, "
					  "which this kernel lacks", t->tid);
	}
	return bad;
}

int rst_check_attrs(struct rst_state *s)
{
	const struct img_proc_attr *p = &s->pattr;
	uint64_t caps = my_caps();
	long mb;
	int bad = 0, have;

	if (!s->have_pattr)
		return 0;
	bad |= check_oom(s);
	bad |= check_affinity(s);
	bad |= check_mempolicy(s);
	bad |= check_threads(s, caps);
	if ((have = my_filters()) != (int)p->seccomp_inherited)
		bad = rst_problem(s, RST_EXIT_ENV, "the process ran under %u seccomp filter%s it "
				  "inherited (from a sandbox, container or service manager); "
				  "ckpt-restart runs under %d: restart it in the same sandbox",
				  p->seccomp_inherited, p->seccomp_inherited == 1 ? "" : "s", have);
	mb = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY_, 0, 0);
	if (p->membarrier && (mb < 0 || (p->membarrier & ~(unsigned long)mb)))
		bad = rst_problem(s, RST_EXIT_INCOMPAT, "the process registered membarrier commands "
				  "0x%x; this kernel offers 0x%lx", p->membarrier, mb < 0 ? 0 : mb);
	if (p->mdwe && prctl(PR_GET_MDWE_, 0, 0, 0, 0) < 0)
		bad = rst_problem(s, RST_EXIT_INCOMPAT, "the process denied write+execute memory "
				  "(PR_SET_MDWE), which this kernel lacks");
	if ((p->flags & IMG_PA_MEMORY_MERGE) && prctl(PR_GET_MEMORY_MERGE_, 0, 0, 0, 0) < 0)
		bad = rst_problem(s, RST_EXIT_INCOMPAT, "the process had KSM on for all its memory "
				  "(PR_SET_MEMORY_MERGE), which this kernel lacks");
	if ((p->flags & IMG_PA_FUTEX_HASH) && prctl(PR_FUTEX_HASH_, 2, 0, 0, 0) < 0)
		bad = rst_problem(s, RST_EXIT_INCOMPAT, "the process sized its futex hash "
				  "(PR_FUTEX_HASH), which this kernel lacks");
	if (p->thp_disable == 3 && !in_child(try_thp_advised, 0))
		bad = rst_problem(s, RST_EXIT_INCOMPAT, "the process disabled transparent huge "
				  "pages except where advised (PR_THP_DISABLE_EXCEPT_ADVISED), which "
				  "this kernel lacks");
	return bad;
}

int rst_restore_attrs(struct rst_state *s)
{
	const struct img_proc_attr *p = &s->pattr;

	if (!s->have_pattr)
		return 0;
	/* oom_score_adj and coredump_filter: the restorer's (rst_attr_args) */
	if ((unsigned)prctl(PR_GET_THP_DISABLE_, 0, 0, 0, 0) != p->thp_disable &&
	    prctl(PR_SET_THP_DISABLE_, p->thp_disable != 0,
		  p->thp_disable == 3 ? PR_THP_DISABLE_EXCEPT_ADVISED_ : 0, 0, 0) < 0) {
		rst_error(s, "cannot set THP disable %u: %s", p->thp_disable, strerror(errno));
		return RST_EXIT_ENV;
	}
	int merge = !!(p->flags & IMG_PA_MEMORY_MERGE);

	if (prctl(PR_GET_MEMORY_MERGE_, 0, 0, 0, 0) != merge &&
	    prctl(PR_SET_MEMORY_MERGE_, merge, 0, 0, 0) < 0) {
		rst_error(s, "cannot set KSM for all memory (PR_SET_MEMORY_MERGE %d): %s", merge,
			  strerror(errno));
		return RST_EXIT_ENV;
	}
	/* before the restorer makes the threads: the kernel then sizes no hash of its own */
	if ((p->flags & IMG_PA_FUTEX_HASH) &&
	    prctl(PR_FUTEX_HASH_, 1 /* SET_SLOTS */, p->futex_slots, 0, 0) < 0) {
		rst_error(s, "cannot set the futex hash to %u slots: %s", p->futex_slots,
			  strerror(errno));
		return RST_EXIT_ENV;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, !!(p->flags & IMG_PA_SUBREAPER), 0, 0, 0) < 0) {
		rst_error(s, "cannot set the child subreaper flag: %s", strerror(errno));
		return RST_EXIT_ENV;
	}
	for (unsigned cmd = 1; cmd && cmd <= p->membarrier; cmd <<= 1) {
		if ((p->membarrier & cmd) && syscall(SYS_membarrier, cmd, 0, 0) < 0) {
			rst_error(s, "cannot register membarrier command 0x%x: %s", cmd,
				  strerror(errno));
			return RST_EXIT_ENV;
		}
	}
	return 0;
}

uint64_t rst_attr_blob_size(const struct rst_state *s)
{
	uint64_t n = (uint64_t)s->nfilters * sizeof(struct rst_filter);

	for (int i = 0; i < s->nfilters; i++)
		n += (uint64_t)s->filters[i].f.ninsns * 8;
	return n;
}

void rst_attr_args(const struct rst_state *s, struct rst_args *a, char *where)
{
	struct rst_filter *f = (struct rst_filter *)where;
	char *prog = where + (size_t)s->nfilters * sizeof(*f);

	a->attrs = s->have_pattr;
	a->dumpable = s->have_pattr ? s->pattr.dumpable : 1;
	if (s->have_pattr) {
		snprintf(a->oom_path, sizeof(a->oom_path), "/proc/self/oom_score_adj");
		snprintf(a->oom_val, sizeof(a->oom_val), "%d", s->pattr.oom_score_adj);
		snprintf(a->cdf_path, sizeof(a->cdf_path), "/proc/self/coredump_filter");
		snprintf(a->cdf_val, sizeof(a->cdf_val), "0x%x", s->pattr.coredump_filter);
	}
	a->mdwe = s->pattr.mdwe;
	a->timer_ids = !!(s->pattr.flags & IMG_PA_TIMER_IDS);
	a->nfilters = (uint32_t)s->nfilters;
	a->filters = f;
	for (int i = 0; i < s->nfilters; i++) {
		const struct img_seccomp *m = &s->filters[i].f;

		f[i] = (struct rst_filter){ m->parent, m->how, m->flags, m->ninsns, (uint64_t)prog };
		memcpy(prog, s->filters[i].insns, (size_t)m->ninsns * 8);
		prog += (size_t)m->ninsns * 8;
	}
}
