/*
 * ckpt_attr.c - process attributes: what each thread captures of itself
 * (ckpt_attr_thread, in its handler), what the checkpoint refuses
 * (ckpt_attr_check, before a byte is written), and the PROC_ATTR and
 * SECCOMP records (ckpt_attr_write).  The restart side is
 * restart/restart_attr.c and the restorer's rst_thread_attrs and
 * rst_thread_final; docs/SUPPORT.md ("Process attributes") lists each
 * attribute and what becomes of it.
 *
 * Read from the kernel: personality, timer slack, CPU affinity, I/O
 * priority, parent-death signal, securebits, MCE kill policy, TSC mode,
 * speculation controls, NUMA policy, no_new_privs, IO_FLUSHER, the
 * seccomp mode and number of filters (per thread); oom_score_adj,
 * coredump_filter, dumpable, THP disable, MDWE, KSM, child subreaper,
 * membarrier registrations (per process).  Read from the wrappers'
 * records (libckpt/reg_attr.h), because the kernel does not let a process
 * read them: seccomp programs, an rseq area the program registered
 * itself, syscall user dispatch.
 *
 * Invariants:
 *  1. Everything here is read-only for the process, except the rseq probe
 *     (a registration of a scratch area, undone at once) — and only in a
 *     thread that has no rseq area libckpt knows of.
 *  2. A thread whose state cannot be written faithfully is refused with
 *     a message that names it and the thread (attr_refuse bits, turned
 *     into text by the leader); nothing is silently dropped.
 *  3. SECCOMP records hold only filters on some live thread's chain, in
 *     install order, renumbered from 0 (sc_remap); a parent always comes
 *     before its child.
 * Cost: about 20 system calls per thread, in its handler; one read of
 * /proc/thread-self/status it already made for its pending signals.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/reg_attr.h"

/* prctl(2) and arch_prctl(2) numbers libc's headers may lack */
#define PR_GET_PDEATHSIG_		2
#define PR_GET_DUMPABLE_		3
#define PR_GET_SECCOMP_			21
#define PR_GET_TSC_			25
#define PR_GET_SECUREBITS_		27
#define PR_GET_TIMERSLACK_		30
#define PR_MCE_KILL_GET_		34
#define PR_GET_CHILD_SUBREAPER_		37
#define PR_GET_NO_NEW_PRIVS_		39
#define PR_GET_THP_DISABLE_		42
#define PR_GET_SPECULATION_CTRL_	52
#define PR_GET_IO_FLUSHER_		58
#define PR_SCHED_CORE_			62
#define PR_GET_MDWE_			66
#define PR_GET_MEMORY_MERGE_		68
#define PR_TIMER_CREATE_RESTORE_IDS_	77
#define ARCH_GET_UNTAG_MASK_		0x4001
#define ARCH_SHSTK_STATUS_		0x5005
#define MEMBARRIER_GET_REGISTRATIONS_	(1 << 9)
#define SECBIT_KEEP_CAPS_		(1u << 4)
#define FLAG_NEW_LISTENER_		(1u << 3)
#define RSEQ_SIG_X86			0x53053053

/* Old index -> index in the image, -1: not written (one checkpoint at a time). */
static int32_t sc_remap[REG_SC_MAX];

int ckpt_status_field(const char *status, const char *name, int64_t *v)
{
	size_t n = ckpt_strlen(name);

	for (const char *s = status; (s = __builtin_strstr(s, name)); s += n) {
		if ((s == status || s[-1] == '\n') && s[n] == ':') {
			s += n + 1;
			while (*s == '\t' || *s == ' ')
				s++;
			if (*s != '-' && (*s < '0' || *s > '9'))
				return -1;
			*v = ckpt_parse_dec(&s);
			return 0;
		}
	}
	return -1;
}

int ckpt_parse_cpulist(const char *s, uint64_t *mask, int words)
{
	for (int i = 0; i < words; i++)
		mask[i] = 0;
	while (*s >= '0' && *s <= '9') {
		int64_t a = ckpt_parse_dec(&s), b = a;

		if (*s == '-') {
			s++;
			if (*s < '0' || *s > '9')
				return -1;
			b = ckpt_parse_dec(&s);
		}
		if (b < a || b >= (int64_t)words * 64)
			return -1;
		for (int64_t c = a; c <= b; c++)
			mask[c / 64] |= 1ull << (c % 64);
		if (*s != ',')
			break;
		s++;
	}
	return *s == '\0' || *s == '\n' ? 0 : -1;
}

/*
 * An rseq area registered, but not one libckpt knows of?  Registering a
 * scratch area answers: the kernel refuses it (EINVAL) while another is
 * registered; else it is registered now and unregistered at once.
 */
static int rseq_unknown(void)
{
	uint32_t area[8] __attribute__((aligned(32))) = { 0 };
	long r = arch_sys4(SYS_rseq, area, sizeof(area), 0, RSEQ_SIG_X86);

	if (r == 0) {
		arch_sys4(SYS_rseq, area, sizeof(area), 1 /* UNREGISTER */, RSEQ_SIG_X86);
		return 0;
	}
	return r == -EINVAL;
}

/* The rseq registration: glibc's area, else one registered through syscall(). */
static void thread_rseq(struct ckpt_thread_state *t)
{
	struct img_thread *m = &t->img;

	if (ckpt_rseq_size) {
		/* glibc's area sits at a fixed offset from the thread pointer. */
		const int32_t *area = (const int32_t *)(m->fs_base + ckpt_rseq_offset);

		if (area[1] >= 0) {		/* cpu_id: registered */
			m->rseq_addr = (uintptr_t)area;
			m->rseq_len = CKPT_RSEQ_LEN_REGISTERED;
			m->rseq_sig = RSEQ_SIG_X86;
			return;
		}
	}
	struct reg_rseq rr = reg_rseq_get();

	if (rr.len) {
		m->rseq_addr = rr.addr;
		m->rseq_len = rr.len;
		m->rseq_sig = rr.sig;
	} else if (rseq_unknown()) {
		t->attr_refuse |= CKPT_TA_RSEQ;
	}
}

static void thread_seccomp(struct ckpt_thread_state *t, const char *status, uint64_t cap_eff)
{
	struct img_thread *m = &t->img;
	int64_t v;
	int leaf = reg_seccomp_leaf(), depth = reg_seccomp_depth(leaf);

	m->seccomp_leaf = leaf;
	t->sc_filters = -1;
	if (status && ckpt_status_field(status, "Seccomp", &v) == 0)
		m->seccomp_mode = (uint32_t)v;
	else
		m->seccomp_mode = (uint32_t)arch_sys2(SYS_prctl, PR_GET_SECCOMP_, 0);
	if (status && ckpt_status_field(status, "Seccomp_filters", &v) == 0)
		t->sc_filters = (int)v;
	if (m->seccomp_mode == 1)
		t->attr_refuse |= CKPT_TA_SC_STRICT;
	if (m->seccomp_mode != 2) {
		m->seccomp_mode = 0;
		m->seccomp_leaf = -1;
		return;
	}
	/* Every filter the kernel counts must be one we can install again. */
	if (depth < 0 || (t->sc_filters >= 0 &&
			  t->sc_filters != (int)reg_seccomp_inherited + depth))
		t->attr_refuse |= CKPT_TA_SC_UNSEEN;
	t->sc_depth = depth;
	for (const struct reg_sc_filter *f; (f = reg_seccomp_get(leaf)); leaf = f->parent)
		if (f->flags & FLAG_NEW_LISTENER_)
			t->attr_refuse |= CKPT_TA_SC_LISTENER;
	/* Installing needs no_new_privs or CAP_SYS_ADMIN (restored before). */
	if (depth > 0 && !(m->attr_flags & IMG_TA_NO_NEW_PRIVS) &&
	    !(cap_eff & (1ull << CAP_SYS_ADMIN)))
		t->attr_refuse |= CKPT_TA_SC_PRIV;
}

void ckpt_attr_thread(struct ckpt_thread_state *t, const char *status)
{
	struct img_thread *m = &t->img;
	struct __user_cap_header_struct ch = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct cd[2] = { { 0 } };
	int v = 0;
	long r;

	t->attr_refuse = 0;
	arch_sys2(SYS_capget, &ch, cd);
	uint64_t cap_eff = cd[0].effective | (uint64_t)cd[1].effective << 32;

	m->attr_flags = 0;
	m->personality = (uint32_t)arch_sys1(SYS_personality, 0xffffffff);
	m->timer_slack_ns = (uint64_t)arch_sys2(SYS_prctl, PR_GET_TIMERSLACK_, 0);
	r = arch_sys3(SYS_sched_getaffinity, 0, sizeof(m->affinity), m->affinity);
	if (r == -EINVAL)
		t->attr_refuse |= CKPT_TA_CPUS;
	m->ioprio = (uint32_t)arch_sys2(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
	if (arch_sys2(SYS_prctl, PR_GET_PDEATHSIG_, &v) == 0)
		m->pdeathsig = v;
	m->securebits = (uint32_t)arch_sys1(SYS_prctl, PR_GET_SECUREBITS_);
	if ((m->securebits & ~SECBIT_KEEP_CAPS_) && !(cap_eff & (1ull << CAP_SETPCAP)))
		t->attr_refuse |= CKPT_TA_SECUREBITS;
	m->mce_kill = (uint32_t)arch_sys1(SYS_prctl, PR_MCE_KILL_GET_);
	v = 0;
	if (arch_sys2(SYS_prctl, PR_GET_TSC_, &v) == 0)
		m->tsc = (uint32_t)v;
	for (int k = 0; k < 3; k++) {
		r = arch_sys2(SYS_prctl, PR_GET_SPECULATION_CTRL_, k);
		m->spec[k] = r < 0 ? 0 : (uint32_t)r;
	}
	v = 0;
	r = arch_sys5(SYS_get_mempolicy, &v, m->mem_nodes, IMG_NODE_WORDS * 64 + 1, 0, 0);
	if (r == 0)
		m->mempolicy = (uint32_t)v;
	else if (r != -ENOSYS)		/* ENOSYS: no NUMA, the default policy */
		t->attr_refuse |= CKPT_TA_NODES;
	if ((m->mempolicy & 0xff) == 0 || (m->mempolicy & 0xff) == 4)	/* DEFAULT, LOCAL */
		__builtin_memset(m->mem_nodes, 0, sizeof(m->mem_nodes));
	if (arch_sys1(SYS_prctl, PR_GET_NO_NEW_PRIVS_) == 1)
		m->attr_flags |= IMG_TA_NO_NEW_PRIVS;
	r = arch_sys1(SYS_prctl, PR_GET_IO_FLUSHER_);
	if (r == 1 || (r < 0 && reg_io_flusher_get()))
		m->attr_flags |= IMG_TA_IO_FLUSHER;
	thread_seccomp(t, status, cap_eff);
	struct reg_sud s = reg_sud_get();

	m->sud_mode = s.mode;
	m->sud_offset = s.offset;
	m->sud_len = s.len;
	m->sud_selector = s.selector;
	uint64_t feat = 0, cookie = 0;

	if (arch_sys2(SYS_arch_prctl, ARCH_SHSTK_STATUS_, &feat) == 0 && feat)
		t->attr_refuse |= CKPT_TA_SHSTK;
	if (arch_sys5(SYS_prctl, PR_SCHED_CORE_, 0 /* GET */, 0, 0 /* PIDTYPE_PID */, &cookie) == 0 &&
	    cookie)
		t->attr_refuse |= CKPT_TA_CORE;
	thread_rseq(t);
}

/* The online CPUs, to tell a restricted affinity from "every CPU". */
static void read_online(struct ckpt_ctx *c)
{
	char buf[1024];

	c->cpus_known = ckpt_read_file("/sys/devices/system/cpu/online", buf, sizeof(buf)) >= 0 &&
			ckpt_parse_cpulist(buf, c->cpus_online, IMG_CPU_WORDS) == 0;
}

static int refuse_thread(struct ckpt_ctx *c, const struct ckpt_thread_state *t)
{
	int tid = t->img.tid;
	uint32_t bad = t->attr_refuse;

	if (bad & CKPT_TA_SC_STRICT)
		return ckpt_fail(c, -ENOTSUP, "thread %d is in seccomp strict mode "
				 "(SECCOMP_MODE_STRICT), which cannot be restored", tid);
	if (bad & CKPT_TA_SC_UNSEEN)
		return ckpt_fail(c, -ENOTSUP, "thread %d has %d seccomp filters, and libckpt saw "
				 "only %d of them (%u the process had when libckpt loaded, %d "
				 "installed through prctl() or syscall()): a filter installed by a "
				 "raw system call cannot be read back, and the restarted process "
				 "would run without it", tid, t->sc_filters,
				 (int)reg_seccomp_inherited + (t->sc_depth > 0 ? t->sc_depth : 0),
				 reg_seccomp_inherited, t->sc_depth > 0 ? t->sc_depth : 0);
	if (bad & CKPT_TA_SC_LISTENER)
		return ckpt_fail(c, -ENOTSUP, "thread %d has a seccomp filter with a user-"
				 "notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), which "
				 "cannot be restored", tid);
	if (bad & CKPT_TA_SC_PRIV)
		return ckpt_fail(c, -ENOTSUP, "thread %d has seccomp filters installed without "
				 "no_new_privs, with CAP_SYS_ADMIN, which it no longer holds: they "
				 "could not be installed again (set PR_SET_NO_NEW_PRIVS first)", tid);
	if (bad & CKPT_TA_SECUREBITS)
		return ckpt_fail(c, -ENOTSUP, "thread %d has securebits 0x%x but not CAP_SETPCAP: "
				 "they could not be set again", tid, t->img.securebits);
	if (bad & CKPT_TA_RSEQ)
		return ckpt_fail(c, -ENOTSUP, "thread %d has an rseq area registered by a raw "
				 "system call (not glibc's, not through syscall()): libckpt cannot "
				 "find it to register it again; register it with syscall(SYS_rseq, "
				 "...) or leave it to glibc", tid);
	if (bad & CKPT_TA_SHSTK)
		return ckpt_fail(c, -ENOTSUP, "thread %d uses a CET shadow stack, which is not "
				 "supported", tid);
	if (bad & CKPT_TA_CORE)
		return ckpt_fail(c, -ENOTSUP, "thread %d has a core scheduling cookie "
				 "(PR_SCHED_CORE), which is not supported", tid);
	if (bad & CKPT_TA_CPUS)
		return ckpt_fail(c, -ENOTSUP, "thread %d: this machine has more than %d CPUs, "
				 "more than an image can name in an affinity", tid, IMG_CPU_WORDS * 64);
	if (bad & CKPT_TA_NODES)
		return ckpt_fail(c, -ENOTSUP, "thread %d: its NUMA memory policy cannot be read "
				 "(more than %d nodes?)", tid, IMG_NODE_WORDS * 64);
	return 0;
}

int ckpt_attr_check(struct ckpt_ctx *c)
{
	uint64_t mask = ~0ull;
	char *status;

	if (reg_seccomp_overflow())
		return ckpt_fail(c, -ENOTSUP, "the process installed more seccomp filters than "
				 "libckpt records (%u filters, %u instructions in all)",
				 REG_SC_MAX, REG_SC_POOL);
	if (arch_sys2(SYS_arch_prctl, ARCH_GET_UNTAG_MASK_, &mask) == 0 && mask != ~0ull)
		return ckpt_fail(c, -ENOTSUP, "the process uses linear address masking (LAM, "
				 "ARCH_ENABLE_TAGGED_ADDR), which is not supported");
	read_online(c);
	/* Its capture comes later (and does this again): glibc's rseq area needs FS. */
	c->leader.img.tid = (int32_t)arch_sys0(SYS_gettid);
	arch_sys2(SYS_arch_prctl, ARCH_GET_FS, &c->leader.img.fs_base);
	status = (char *)c->bounce;	/* the scratch: the leader's stack is the application's */
	if (ckpt_read_file("/proc/thread-self/status", status, 4096) < 0)
		status = NULL;
	ckpt_attr_thread(&c->leader, status);
	if (refuse_thread(c, &c->leader) < 0)
		return c->error;
	for (int i = 0; i < ckpt_nparked; i++)
		if (ckpt_parked[i].img.tid && refuse_thread(c, &ckpt_parked[i]) < 0)
			return c->error;
	return 0;
}

/* A thread's record, as it goes out: the image's filter numbers, the affinity's meaning. */
void ckpt_attr_thread_write(const struct ckpt_ctx *c, struct img_thread *t)
{
	int leaf = t->seccomp_leaf;

	t->seccomp_leaf = leaf >= 0 && leaf < (int)REG_SC_MAX ? sc_remap[leaf] : -1;
	if (!c->cpus_known || !ckpt_memeq(t->affinity, c->cpus_online, sizeof(t->affinity)))
		t->attr_flags |= IMG_TA_AFFINITY;
}

/* Marks the chain ending at leaf as needed (sc_remap 0). */
static void sc_mark(int leaf)
{
	for (const struct reg_sc_filter *f; (f = reg_seccomp_get(leaf)) && sc_remap[leaf] < 0;
	     leaf = f->parent)
		sc_remap[leaf] = 0;
}

static void read_int_file(const char *path, int hex, int32_t *out)
{
	char buf[64];
	const char *s = buf;

	if (ckpt_read_file(path, buf, sizeof(buf)) < 0)
		return;
	*out = hex ? (int32_t)ckpt_parse_hex(&s) : (int32_t)ckpt_parse_dec(&s);
}

int ckpt_attr_write(struct ckpt_ctx *c)
{
	struct img_proc_attr pa = { 0 };
	struct reg_cpu_times self, children;
	int v = 0, n = reg_seccomp_count();
	long r;

	read_int_file("/proc/self/oom_score_adj", 0, &pa.oom_score_adj);
	read_int_file("/proc/self/coredump_filter", 1, (int32_t *)&pa.coredump_filter);
	if (arch_sys2(SYS_prctl, PR_GET_CHILD_SUBREAPER_, &v) == 0 && v)
		pa.flags |= IMG_PA_SUBREAPER;
	if (arch_sys2(SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS_, 2 /* GET */) == 1)
		pa.flags |= IMG_PA_TIMER_IDS;
	if (arch_sys1(SYS_prctl, PR_GET_MEMORY_MERGE_) == 1)
		pa.flags |= IMG_PA_MEMORY_MERGE;
	pa.dumpable = (uint32_t)arch_sys1(SYS_prctl, PR_GET_DUMPABLE_);
	r = arch_sys1(SYS_prctl, PR_GET_THP_DISABLE_);
	pa.thp_disable = r < 0 ? 0 : (uint32_t)r;
	r = arch_sys1(SYS_prctl, PR_GET_MDWE_);
	pa.mdwe = r < 0 ? 0 : (uint32_t)r;
	r = arch_sys3(SYS_membarrier, MEMBARRIER_GET_REGISTRATIONS_, 0, 0);
	pa.membarrier = r < 0 ? reg_membarrier_get() : (uint32_t)r;
	pa.seccomp_inherited = reg_seccomp_inherited;
	if (reg_futex_hash_get(&pa.futex_slots))
		pa.flags |= IMG_PA_FUTEX_HASH;
	ckpt_cpuclock_capture_proc(&self, &children);
	pa.cpu_ns = self.cpu_ns;
	pa.utime_ns = self.utime_ns;
	pa.stime_ns = self.stime_ns;
	pa.cutime_ns = children.utime_ns;
	pa.cstime_ns = children.stime_ns;

	/* The filters some thread has, renumbered in install order (invariant 3). */
	for (int i = 0; i < n; i++)
		sc_remap[i] = -1;
	if (c->leader.img.seccomp_mode == 2)
		sc_mark(c->leader.img.seccomp_leaf);
	for (int i = 0; i < ckpt_nparked; i++)
		if (ckpt_parked[i].img.tid && ckpt_parked[i].img.seccomp_mode == 2)
			sc_mark(ckpt_parked[i].img.seccomp_leaf);
	for (int i = 0; i < n; i++)
		if (sc_remap[i] == 0)
			sc_remap[i] = (int32_t)pa.nseccomp++;
	img_write_record(&c->w, IMG_REC_PROC_ATTR, &pa, sizeof(pa), NULL, 0);
	for (int i = 0; i < n; i++) {
		const struct reg_sc_filter *f = reg_seccomp_get(i);
		struct img_seccomp s;

		if (!f || sc_remap[i] < 0)
			continue;
		s.parent = f->parent >= 0 ? sc_remap[f->parent] : -1;
		s.how = f->how;
		s.flags = f->how == IMG_SECCOMP_SYSCALL ? f->flags & IMG_SECCOMP_FLAGS : 0;
		s.ninsns = f->ninsns;
		img_write_record(&c->w, IMG_REC_SECCOMP, &s, sizeof(s), reg_seccomp_insns(f),
				 (size_t)f->ninsns * 8);
	}
	return c->w.error;
}
