/*
 * reg_attr.c - the wrappers' records of attributes the kernel does not
 * let a process read back (reg_attr.h): seccomp filters, rseq areas
 * registered through syscall(), syscall user dispatch, IO_FLUSHER and
 * membarrier registrations.
 *
 * Seccomp.  Filters are appended to one array (REG_SC_MAX) and their
 * programs to one pool of instructions (REG_SC_POOL, 512 KiB of .bss: a
 * process without filters never touches it, so it costs nothing in
 * memory or in its images).  A filter is published (ready) only once it
 * is complete.  Each thread keeps its newest filter in TLS (reg_sc_leaf,
 * index + 1); a TSYNC install gives every thread the caller's chain
 * (the kernel refuses it unless every other thread's chain is an
 * ancestor), which reg_sc_tsync records.  So a thread's leaf is the
 * later of its own and the last TSYNC one: indices grow with time, and a
 * filter a thread installs after a TSYNC has a larger index.
 *
 * Invariants:
 *  1. A filter's parent has a smaller index, so following parents ends.
 *  2. A record exists only for a filter the kernel accepted (the wrapper
 *     records after the call returned success).
 *  3. Threads made by pthread_create start with their creator's leaf
 *     (reg_thread_start); threads made otherwise start with none, and a
 *     filter they inherited shows as a count that does not match.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/reg_attr.h"

static struct reg_sc_filter sc_filters[REG_SC_MAX];
static uint64_t sc_pool[REG_SC_POOL];
static unsigned sc_count, sc_used;
static int sc_overflow;
static int sc_tsync;			/* index + 1 of the newest TSYNC filter */
static int sc_strict;			/* some thread entered strict mode */
static __thread int reg_sc_leaf __attribute__((tls_model("initial-exec")));
unsigned reg_seccomp_inherited;

static __thread struct reg_rseq reg_rseq_tls __attribute__((tls_model("initial-exec")));
static __thread struct reg_sud reg_sud_tls __attribute__((tls_model("initial-exec")));
static __thread int reg_io_flusher_tls __attribute__((tls_model("initial-exec")));
static unsigned reg_membarrier_bits;
static unsigned reg_futex_slots;		/* slots + 1, 0: never set */

/*
 * The filters this process already had when libckpt was loaded (a
 * sandbox, a container runtime, a service manager): inherited across exec,
 * not the process's own, and not readable.
 */
/* The kernel turns syscall user dispatch off in a forked child. */
static void reg_attr_forked(void)
{
	reg_sud_tls = (struct reg_sud){ 0 };
}

__attribute__((constructor)) static void reg_attr_init(void)
{
	char buf[4096];
	const char *s;

	pthread_atfork(NULL, NULL, reg_attr_forked);
	if (ckpt_read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		return;
	if ((s = __builtin_strstr(buf, "\nSeccomp_filters:\t"))) {
		s += 18;
		reg_seccomp_inherited = (unsigned)ckpt_parse_dec(&s);
	}
}

static int sc_own_leaf(void)
{
	int own = reg_sc_leaf, ts = __atomic_load_n(&sc_tsync, __ATOMIC_ACQUIRE);

	return (own > ts ? own : ts) - 1;
}

void reg_seccomp_installed(unsigned how, unsigned flags, const void *insns, unsigned ninsns)
{
	unsigned i = __atomic_fetch_add(&sc_count, 1, __ATOMIC_RELAXED);
	unsigned off = __atomic_fetch_add(&sc_used, ninsns, __ATOMIC_RELAXED);
	struct reg_sc_filter *f;

	if (i >= REG_SC_MAX || off + (uint64_t)ninsns > REG_SC_POOL) {
		__atomic_store_n(&sc_overflow, 1, __ATOMIC_RELEASE);
		return;
	}
	f = &sc_filters[i];
	f->parent = sc_own_leaf();
	f->how = how;
	f->flags = flags;
	f->ninsns = ninsns;
	f->off = off;
	f->tid = (int32_t)syscall(SYS_gettid);
	__builtin_memcpy(&sc_pool[off], insns, (size_t)ninsns * 8);
	__atomic_store_n(&f->ready, 1, __ATOMIC_RELEASE);
	reg_sc_leaf = (int)i + 1;
	if (flags & 1) {		/* SECCOMP_FILTER_FLAG_TSYNC: every thread has it now */
		int old = __atomic_load_n(&sc_tsync, __ATOMIC_RELAXED);

		while (old < (int)i + 1 &&
		       !__atomic_compare_exchange_n(&sc_tsync, &old, (int)i + 1, 0,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
	}
}

void reg_seccomp_strict(void)
{
	__atomic_store_n(&sc_strict, 1, __ATOMIC_RELEASE);
}

int reg_seccomp_strict_seen(void)
{
	return __atomic_load_n(&sc_strict, __ATOMIC_ACQUIRE);
}

int reg_seccomp_count(void)
{
	unsigned n = __atomic_load_n(&sc_count, __ATOMIC_ACQUIRE);

	return n > REG_SC_MAX ? (int)REG_SC_MAX : (int)n;
}

const struct reg_sc_filter *reg_seccomp_get(int i)
{
	if (i < 0 || i >= reg_seccomp_count() || !__atomic_load_n(&sc_filters[i].ready, __ATOMIC_ACQUIRE))
		return NULL;
	return &sc_filters[i];
}

const uint64_t *reg_seccomp_insns(const struct reg_sc_filter *f)
{
	return &sc_pool[f->off];
}

int reg_seccomp_overflow(void)
{
	return __atomic_load_n(&sc_overflow, __ATOMIC_ACQUIRE);
}

int reg_seccomp_leaf(void)
{
	return sc_own_leaf();
}

int reg_seccomp_depth(int leaf)
{
	int n = 0;

	for (const struct reg_sc_filter *f; (f = reg_seccomp_get(leaf)); leaf = f->parent)
		n++;
	return leaf < 0 ? n : -1;	/* -1: a filter on the chain is not published */
}

/* What a new thread inherits: its creator's seccomp leaf (index + 1). */
uint64_t reg_thread_view(void)
{
	return (uint64_t)(sc_own_leaf() + 1);
}

void reg_thread_start(uint64_t view)
{
	reg_sc_leaf = (int)view;
	reg_cpuclock_forget((int)syscall(SYS_gettid));
}

void reg_rseq_set(uint64_t addr, uint32_t len, uint32_t sig)
{
	reg_rseq_tls.addr = addr;
	reg_rseq_tls.len = len;
	reg_rseq_tls.sig = sig;
}

struct reg_rseq reg_rseq_get(void)
{
	return reg_rseq_tls;
}

void reg_sud_set(const struct reg_sud *s)
{
	reg_sud_tls = *s;
}

struct reg_sud reg_sud_get(void)
{
	return reg_sud_tls;
}

void reg_io_flusher_set(int on)
{
	reg_io_flusher_tls = on;
}

int reg_io_flusher_get(void)
{
	return reg_io_flusher_tls;
}

void reg_futex_hash_set(unsigned slots)
{
	__atomic_store_n(&reg_futex_slots, slots + 1, __ATOMIC_RELAXED);
}

int reg_futex_hash_get(unsigned *slots)
{
	unsigned v = __atomic_load_n(&reg_futex_slots, __ATOMIC_RELAXED);

	*slots = v ? v - 1 : 0;
	return v != 0;
}

void reg_membarrier_registered(unsigned cmd)
{
	__atomic_fetch_or(&reg_membarrier_bits, cmd, __ATOMIC_RELAXED);
}

unsigned reg_membarrier_get(void)
{
	return __atomic_load_n(&reg_membarrier_bits, __ATOMIC_RELAXED);
}
