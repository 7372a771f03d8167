/*
 * test_attr.c - process attributes: the parsers of the checkpoint side
 * (libckpt/ckpt_attr.c), the checkers of PROC_ATTR, SECCOMP and a THREAD
 * record's attribute fields (libckpt/img_attr.c), the clock ids the
 * CPU-clock wrappers recognise (libckpt/reg_cpuclock.c), and the prctl()
 * and syscall() wrappers (wrappers/wrap_prctl.c): the real call's result
 * and errno, and the seccomp filters they record (in a child process,
 * which the filters then bind).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/reg_attr.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

static void test_status_field(void)
{
	static const char st[] = "Name:\tapp\nUmask:\t0022\nNoNewPrivs:\t1\nSeccomp:\t2\n"
				 "Seccomp_filters:\t17\nNeg:\t-42\nSpeculation_Store_Bypass:\tvulnerable\n";
	int64_t v = 0;

	CU_ASSERT(ckpt_status_field(st, "Seccomp", &v) == 0 && v == 2);
	CU_ASSERT(ckpt_status_field(st, "Seccomp_filters", &v) == 0 && v == 17);
	CU_ASSERT(ckpt_status_field(st, "NoNewPrivs", &v) == 0 && v == 1);
	CU_ASSERT(ckpt_status_field(st, "Neg", &v) == 0 && v == -42);
	CU_ASSERT(ckpt_status_field(st, "Name", &v) == -1);		/* not a number */
	CU_ASSERT(ckpt_status_field(st, "Speculation_Store_Bypass", &v) == -1);
	CU_ASSERT(ckpt_status_field(st, "Filters", &v) == -1);	/* absent */
	CU_ASSERT(ckpt_status_field(st, "ask", &v) == -1);		/* "Umask" is not "ask" */
	CU_ASSERT(ckpt_status_field("", "Seccomp", &v) == -1);
}

static void test_cpulist(void)
{
	uint64_t m[2];

	CU_ASSERT(ckpt_parse_cpulist("0-1\n", m, 2) == 0 && m[0] == 3 && m[1] == 0);
	CU_ASSERT(ckpt_parse_cpulist("0-3,8,10-11", m, 2) == 0 && m[0] == 0xd0f);
	CU_ASSERT(ckpt_parse_cpulist("64,127", m, 2) == 0 && m[0] == 0 &&
		  m[1] == (1ull | 1ull << 63));
	CU_ASSERT(ckpt_parse_cpulist("", m, 2) == 0 && !m[0] && !m[1]);
	CU_ASSERT(ckpt_parse_cpulist("128", m, 2) == -1);		/* beyond the mask */
	CU_ASSERT(ckpt_parse_cpulist("5-3", m, 2) == -1);
	CU_ASSERT(ckpt_parse_cpulist("1-", m, 2) == -1);
	CU_ASSERT(ckpt_parse_cpulist("1,x", m, 2) == -1);
	CU_ASSERT(ckpt_parse_cpulist("0-1 junk", m, 2) == -1);
}

static void test_clock_ids(void)
{
	int pt, id;
	clockid_t c;

	CU_ASSERT(reg_cpuclock_decode(CLOCK_PROCESS_CPUTIME_ID, &pt, &id) && !pt && id == 0);
	CU_ASSERT(reg_cpuclock_decode(CLOCK_THREAD_CPUTIME_ID, &pt, &id) && pt && id == 0);
	CU_ASSERT(!reg_cpuclock_decode(CLOCK_MONOTONIC, &pt, &id));
	CU_ASSERT(!reg_cpuclock_decode(CLOCK_REALTIME, &pt, &id));
	CU_ASSERT(clock_getcpuclockid(getpid(), &c) == 0);
	CU_ASSERT(reg_cpuclock_decode(c, &pt, &id) && !pt && id == getpid());
	c = (clockid_t)((~(unsigned)4321 << 3) | 4 | 2);	/* thread 4321, SCHED */
	CU_ASSERT(reg_cpuclock_decode(c, &pt, &id) && pt && id == 4321);
	c = (clockid_t)((~(unsigned)4321 << 3) | 4 | 0);	/* PROF: not offset */
	CU_ASSERT(!reg_cpuclock_decode(c, &pt, &id));
	/* no restart happened here: no offset */
	CU_ASSERT(reg_cpuclock_offset(CLOCK_PROCESS_CPUTIME_ID) == 0);
	CU_ASSERT(reg_cpuclock_offset(CLOCK_THREAD_CPUTIME_ID) == 0);
}

static void test_check_proc_attr(void)
{
	const struct img_proc_attr good = { .oom_score_adj = 100, .dumpable = 1,
		.coredump_filter = 0x33, .membarrier = 16 | 64 };
	struct img_proc_attr p;
	static const unsigned char extra[8];

	p = good;
	p.oom_score_adj = 1001;
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "oom_score_adj 1001");
	p = good;
	p.oom_score_adj = -1001;
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "oom_score_adj -1001");
	p = good;
	p.thp_disable = 2;
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "THP disable 2");
	p = good;
	p.flags = 0x10;
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "flags 0x10");
	p = good;
	p.mdwe = 2;		/* NO_INHERIT without REFUSE_EXEC_GAIN */
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "MDWE 0x2");
	p = good;
	p.dumpable = 3;
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "dumpable 3");
	p = good;
	p.coredump_filter = 0x200;
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "coredump filter 0x200");
	p = good;
	p.membarrier = 8;	/* a command, not a registration */
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "membarrier 0x8");
	p = good;
	p.futex_slots = 16;	/* without IMG_PA_FUTEX_HASH */
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "futex hash 16");
	p = good;
	p.flags = IMG_PA_FUTEX_HASH;
	p.futex_slots = 24;	/* not a power of 2 */
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "futex hash 24");
	p = good;
	p.nseccomp = IMG_SECCOMP_MAX + 1;
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "8193 recorded");
	p = good;
	p.seccomp_inherited = IMG_SECCOMP_PATH_MAX + 1;
	trw_expect_get(IMG_REC_PROC_ATTR, &p, sizeof(p), NULL, 0, "32769 inherited");
	trw_expect_get(IMG_REC_PROC_ATTR, &good, sizeof(good), extra, 8, "payload bytes");
	trw_expect_get(IMG_REC_PROC_ATTR, &good, 12, NULL, 0, "not a valid PROC_ATTR");
}

static void test_check_seccomp(void)
{
	static uint64_t prog[IMG_SECCOMP_INSNS_MAX + 1];
	const struct img_seccomp good = { .parent = -1, .how = IMG_SECCOMP_SYSCALL, .flags = 2,
					  .ninsns = 2 };
	struct img_seccomp s;

	s = good;
	s.ninsns = 0;
	trw_expect_get(IMG_REC_SECCOMP, &s, sizeof(s), NULL, 0, "0 instructions");
	s = good;
	s.ninsns = IMG_SECCOMP_INSNS_MAX + 1;
	trw_expect_get(IMG_REC_SECCOMP, &s, sizeof(s), prog, sizeof(prog), "4097 instructions");
	trw_expect_get(IMG_REC_SECCOMP, &good, sizeof(good), prog, 8, "its fields say 32");
	s = good;
	s.how = 3;
	trw_expect_get(IMG_REC_SECCOMP, &s, sizeof(s), prog, 16, "installed by 3");
	s = good;
	s.how = IMG_SECCOMP_PRCTL;	/* prctl takes no flags */
	trw_expect_get(IMG_REC_SECCOMP, &s, sizeof(s), prog, 16, "flags 0x2");
	s = good;
	s.flags = 1;			/* TSYNC is the restorer's decision */
	trw_expect_get(IMG_REC_SECCOMP, &s, sizeof(s), prog, 16, "flags 0x1");
	s = good;
	s.parent = -2;
	trw_expect_get(IMG_REC_SECCOMP, &s, sizeof(s), prog, 16, "over filter -2");
	trw_expect_get(IMG_REC_SECCOMP, &good, 8, NULL, 0, "not a valid SECCOMP");
}

static void test_check_thread_attr(void)
{
	struct img_thread good = { .tid = 77, .seccomp_leaf = -1, .mce_kill = 2, .tsc = 1 }, t;

	t = good;
	t.pdeathsig = 65;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "death signal 65");
	t = good;
	t.ioprio = 4 << 13;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "I/O priority 0x8000");
	t = good;
	t.attr_flags = 0x8;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "flags 0x8");
	t = good;
	t.securebits = 0x1000;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "securebits 0x1000");
	t = good;
	t.seccomp_mode = 1;		/* strict is refused at the checkpoint */
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "seccomp mode 1");
	t = good;
	t.seccomp_leaf = (int32_t)IMG_SECCOMP_MAX;	/* beyond any image */
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "newest filter 8192");
	t = good;
	t.seccomp_mode = 2;
	t.seccomp_leaf = -2;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "newest filter -2");
	t = good;
	t.sud_selector = 0x1000;	/* dispatch off, but a selector */
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "dispatch mode 0");
	t = good;
	t.spec[1] = 0x20;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "control 1 is 0x20");
	t = good;
	t.mempolicy = 7;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "NUMA policy 0x7");
	t = good;
	t.mem_nodes[3] = 1;		/* MPOL_DEFAULT has no nodes */
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "NUMA policy 0x0");
}

/* syscall() and prctl() keep the real call's result and errno. */
static void test_wrappers_results(void)
{
	void *p;

	errno = 0;
	CU_ASSERT_EQUAL(syscall(SYS_getpid), getpid());
	CU_ASSERT_EQUAL(syscall(SYS_close, -1), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
	/* six arguments, the last on the stack */
	p = (void *)syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT(p != MAP_FAILED && p != NULL);
	CU_ASSERT_EQUAL(munmap(p, 4096), 0);
	CU_ASSERT_EQUAL(syscall(SYS_rseq, NULL, 32, 0, 0x53053053), -1);	/* glibc's is registered */
	CU_ASSERT(errno == EINVAL || errno == EFAULT || errno == ENOSYS);
	CU_ASSERT_EQUAL(reg_rseq_get().len, 0);	/* a failed call records nothing */
	CU_ASSERT_EQUAL(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	errno = 0;
	CU_ASSERT_EQUAL(prctl(9999, 0, 0, 0, 0), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(syscall(SYS_prctl, 9999, 0, 0, 0, 0), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
}

/* In a child: two filters, one per wrapper, stacked; what the registry made of them. */
static int seccomp_child(void)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_filter two[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p1 = { 1, allow }, p2 = { 2, two };
	const struct reg_sc_filter *f0, *f1;
	int base = reg_seccomp_count();

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || reg_seccomp_leaf() != -1)
		return 1;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p1, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG, &p2))
		return 2;
	/* a refused install records nothing */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL) != -1 || errno != EFAULT)
		return 3;
	f0 = reg_seccomp_get(base);
	f1 = reg_seccomp_get(base + 1);
	if (reg_seccomp_count() != base + 2 || !f0 || !f1)
		return 4;
	if (f0->parent != -1 || f0->how != 1 || f0->ninsns != 1 || f0->tid != getpid() ||
	    memcmp(reg_seccomp_insns(f0), allow, sizeof(allow)))
		return 5;
	if (f1->parent != base || f1->how != 2 || f1->flags != SECCOMP_FILTER_FLAG_LOG ||
	    f1->ninsns != 2 || memcmp(reg_seccomp_insns(f1), two, sizeof(two)))
		return 6;
	if (reg_seccomp_leaf() != base + 1 || reg_seccomp_depth(base + 1) != 2)
		return 7;
	return 0;
}

static void test_seccomp_registry(void)
{
	pid_t pid = fork();
	int st = -1;

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		_exit(seccomp_child());
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFEXITED(st));
	if (WEXITSTATUS(st))
		fprintf(stderr, "\nseccomp child failed at step %d\n", WEXITSTATUS(st));
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
}

UNIT_SUITE(attr,
	{ "status fields: exact names, signed values", test_status_field },
	{ "cpu lists: ranges, bounds, junk", test_cpulist },
	{ "CPU clock ids: process, thread, by pid and tid", test_clock_ids },
	{ "PROC_ATTR: every field bounded", test_check_proc_attr },
	{ "SECCOMP: count, length, how, flags, parent", test_check_seccomp },
	{ "THREAD: attribute fields bounded", test_check_thread_attr },
	{ "prctl, syscall: result and errno kept", test_wrappers_results },
	{ "seccomp filters recorded as installed", test_seccomp_registry },
);
