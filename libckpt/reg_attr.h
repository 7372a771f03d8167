/*
 * reg_attr.h - what the wrappers learn about process attributes that the
 * kernel does not let a process read back (libckpt/reg_attr.c), and the
 * CPU-time clock offsets of a restarted process (libckpt/reg_cpuclock.c).
 *
 *  - seccomp filters: a process cannot read its own filters (that needs
 *    CAP_SYS_ADMIN and ptrace), so wrappers/wrap_prctl.c copies each
 *    program as prctl(PR_SET_SECCOMP) or syscall(SYS_seccomp) installs
 *    it.  Each thread knows its newest filter (its "leaf"); a filter's
 *    parent is the installing thread's leaf at that moment, so the
 *    filters form the same tree the kernel keeps.  The checkpoint
 *    compares each thread's chain with the kernel's count
 *    (/proc/thread-self/status Seccomp_filters) and refuses a thread
 *    whose filters were installed behind libc's back.
 *  - rseq areas registered through syscall(SYS_rseq) (a program that
 *    turned glibc's off), syscall user dispatch and IO_FLUSHER (no way to
 *    read them), membarrier registrations (for kernels without
 *    MEMBARRIER_CMD_GET_REGISTRATIONS).
 *
 * Concurrency: writers are the wrappers, each about its own thread (TLS)
 * or appending one filter (an atomic index); the reader is the
 * checkpoint, in signal context, with every thread parked: it only reads
 * records that were published (a release store after they were filled).
 */
#ifndef CKPT_REG_ATTR_H
#define CKPT_REG_ATTR_H

#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#define REG_SC_MAX	1024u		/* filters recorded */
#define REG_SC_POOL	65536u		/* their instructions, in all */

struct reg_sc_filter {
	int32_t  parent;		/* index of the filter it was installed over, -1 */
	uint32_t how;			/* IMG_SECCOMP_PRCTL or _SYSCALL */
	uint32_t flags;			/* SECCOMP_FILTER_FLAG_* given */
	uint32_t ninsns;
	uint32_t off;			/* first instruction in the pool */
	int32_t  tid;			/* the installing thread */
	volatile int ready;		/* published */
};

/* Wrapper side, in the installing thread, after the kernel accepted it. */
void reg_seccomp_installed(unsigned how, unsigned flags, const void *insns, unsigned ninsns);
/* Checkpoint side. */
int reg_seccomp_count(void);			/* filters recorded, published or not */
const struct reg_sc_filter *reg_seccomp_get(int i);	/* NULL if not published */
const uint64_t *reg_seccomp_insns(const struct reg_sc_filter *f);
int reg_seccomp_overflow(void);			/* a filter did not fit */
int reg_seccomp_leaf(void);			/* the calling thread's newest filter, -1 */
int reg_seccomp_depth(int leaf);		/* filters on the chain ending at leaf */
/* A thread entered strict mode through libc (the checkpoint then looks for it). */
void reg_seccomp_strict(void);
int reg_seccomp_strict_seen(void);
/* Filters the process had when libckpt was loaded (inherited at exec). */
extern unsigned reg_seccomp_inherited;

/* A new thread starts with what its creator had (wrappers/wrap_thread.c). */
uint64_t reg_thread_view(void);
void reg_thread_start(uint64_t view);

/* rseq registered through syscall(SYS_rseq) by this thread (len 0: none). */
struct reg_rseq {
	uint64_t addr;
	uint32_t len, sig;
};
void reg_rseq_set(uint64_t addr, uint32_t len, uint32_t sig);
struct reg_rseq reg_rseq_get(void);

/* Syscall user dispatch of this thread, as PR_SET_SYSCALL_USER_DISPATCH set it. */
struct reg_sud {
	uint32_t mode;
	uint64_t offset, len, selector;
};
void reg_sud_set(const struct reg_sud *s);
struct reg_sud reg_sud_get(void);

/* IO_FLUSHER of this thread as set through prctl (PR_GET_IO_FLUSHER needs a capability). */
void reg_io_flusher_set(int on);
int reg_io_flusher_get(void);

/* PR_FUTEX_HASH_SET_SLOTS that succeeded: 1 and *slots, or 0 (the kernel's size). */
void reg_futex_hash_set(unsigned slots);
int reg_futex_hash_get(unsigned *slots);

/* MEMBARRIER_CMD_REGISTER_* commands that succeeded (bit = the command). */
void reg_membarrier_registered(unsigned cmd);
unsigned reg_membarrier_get(void);

/*
 * CPU-time clocks (reg_cpuclock.c).  A restarted process's kernel clocks
 * start near 0; the program must not see them go back.  At a checkpoint
 * every thread records what the program saw (kernel value + its offset);
 * in the restarted copy the first thread out of the restorer sets every
 * offset to "saved - kernel now", and the wrappers add them:
 * clock_gettime/clock_nanosleep on CPU clocks, getrusage, times, clock.
 */
struct reg_cpu_times {
	uint64_t cpu_ns;		/* the clock */
	uint64_t utime_ns, stime_ns;	/* getrusage */
};
void ckpt_cpuclock_begin(void);			/* the leader, before parking */
void ckpt_cpuclock_capture_thread(uint64_t *cpu_ns);	/* each thread, in its handler */
/* The same for thread tid, whose thread pointer is fs_base, by the leader (ckpt_kstop.c). */
void ckpt_cpuclock_capture_tid(int tid, uint64_t fs_base, uint64_t *cpu_ns);
/* The leader, after every thread: the process's and its children's times. */
void ckpt_cpuclock_capture_proc(struct reg_cpu_times *self, struct reg_cpu_times *children);
void reg_cpuclock_restored(void);		/* each thread of a restarted copy */
/* The offset (ns) to add to the kernel's value of clk; 0 for other clocks. */
int64_t reg_cpuclock_offset(clockid_t clk);
/* RUSAGE_SELF, RUSAGE_THREAD, RUSAGE_CHILDREN: adds the offsets to *ru. */
void reg_cpuclock_rusage(int who, struct rusage *ru);
/* The user and system time offsets (ns) of RUSAGE_SELF, _THREAD or _CHILDREN. */
void reg_cpuclock_offsets(int who, int64_t *ut, int64_t *st);
void reg_cpuclock_forget(int tid);		/* a new thread with this tid */
/*
 * Decodes a clockid: 0 not a CPU clock (or not CPUCLOCK_SCHED); else 1
 * with *tid the thread (perthread) or the process (*tid == 0 for self).
 */
int reg_cpuclock_decode(clockid_t clk, int *perthread, int *id);

#endif
