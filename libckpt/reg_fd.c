/*
 * reg_fd.c - the fd registry (reg.h): for each fd, the call that made it
 * and the address it was called from.
 *
 * Layout.  One array of 64-bit slots indexed by fd, published through one
 * pointer, reg_tab.  A slot holds kind << 56 | caller: x86_64 user
 * addresses fit in 56 bits even with 5-level paging, so one aligned word
 * is the whole record and no reader ever sees half of one.  0 is "no
 * record" (REG_NONE).  The first table (fds 0..1023, 8 KiB) is made on
 * the first reg_fd_set(); it doubles as needed and is never shrunk.
 *
 * Who touches it:
 *   - setters: reg_fd_set/reg_fd_clear, from the wrappers, on every
 *     open/close of every thread (hot path);
 *   - the grower: a setter whose fd is past the end of the table;
 *   - the reader: reg_fd_get, in the checkpoint signal handler.
 *
 * Invariants
 *   1. reg_tab is NULL or a live table.  A table is freed only after it
 *      stopped being published, an RCU grace period passed (no setter
 *      can still hold it) and reg_sig_readers was seen at zero (no
 *      reader can still hold it).
 *   2. Only the grower changes reg_tab: one at a time (reg_grow_lock),
 *      with the application's signals blocked.
 *   3. A setter's value lands in the table that is published when the
 *      setter returns.  The grower makes reg_gen odd before it copies
 *      and even again after it published; a setter stores (full
 *      barrier), then reads reg_gen and reg_tab.  Store buffering (the
 *      grower writes reg_gen then reads slots, the setter writes a slot
 *      then reads reg_gen): either the copy sees the store, or the
 *      setter sees a copy under way (it waits for the publish and stores
 *      again in the new table) or finished (reg_tab changed: it stores
 *      again there).  Re-reading reg_tab alone is not enough: a copy
 *      can read the slot before the store while the publish comes after
 *      the setter's re-read.
 *   4. One writer per slot at a time: a wrapper records an fd before it
 *      returns it to the application (nobody else knows the number yet),
 *      and clears it before the close that frees the number (wrap_fd.c).
 *      So storing a value again into a new table never overwrites a
 *      newer one.
 *
 * Why two read-side schemes.  Setters use urcu-bp's read lock: a
 * per-thread counter, no shared cache line, no system call, which is what
 * keeps open/close cheap in a multi-threaded program.  The reader cannot:
 * urcu-bp registers a thread on its first read lock (pthread mutex, mmap,
 * pthread_setspecific), which is not async-signal-safe, and the handler
 * may run on a thread that never made an fd.  Registering in a
 * constructor would cover the main thread only, and there is no
 * per-thread hook in reg.h.  So reg_fd_get announces itself in one
 * shared counter (reg_sig_readers) instead, and the grower waits for it
 * to drop to zero after its grace period.  Store buffering again: the
 * reader increments, then loads reg_tab; the grower publishes, then
 * loads the counter; one of them sees the other.  The counter is a shared line, but
 * only a checkpoint writes it.
 *
 * Cost.  reg_fd_set/clear: urcu-bp's read lock inlined (a thread-local
 * counter), one locked exchange, two loads: about 12 ns on the machine
 * this was written on, where the out-of-line urcu calls made it 35 ns.
 * Not taken: a plain store instead of the exchange, with the grower
 * forcing the barrier on every thread by membarrier() as urcu does (5 ns
 * less, and one more mechanism to get right).
 * Growth: an mmap, a copy of the table and a grace period (up to
 * milliseconds), once per doubling.  A setter that meets a copy under way
 * waits for the copy only (the grower publishes before its grace period).
 *
 * Signal safety.  Setters may run in an application's signal handler
 * (open, close, dup, pipe and socket are async-signal-safe), so tables
 * come from mmap, not malloc, and the grower blocks the application's
 * signals while it holds reg_grow_lock.  A grower cannot wait for a grace
 * period from inside a read section of its own thread (it would wait for
 * itself): that happens when a handler's setter interrupted a setter, or
 * when the application, itself an urcu-bp user, opens a file inside
 * rcu_read_lock.  Nor can it take reg_grow_lock when it interrupted a
 * growth on its own thread (only the checkpoint signal can: the others
 * are blocked).  In those cases the record is dropped: records only
 * improve error messages, and the checkpoint reads everything else about
 * an fd from the kernel.
 *
 * Setters in the checkpoint handler: a thread's first setter registers
 * it with urcu-bp, which takes urcu-bp's registry mutex; a handler that
 * interrupted synchronize_rcu() on its own thread would wait for itself.
 * Code that runs in the checkpoint handler should make fds with raw
 * system calls, which bypass the wrappers (and should not be recorded
 * anyway).
 *
 * fork: the child inherits urcu-bp's registry, where a thread that does
 * not exist in the child may be inside a read section; the atfork
 * handlers below bracket fork with urcu-bp's own before/after hooks
 * (which prune the registry in the child) and with reg_grow_lock.
 */
/* urcu-bp's read lock inline (its 10-line static functions, usable from
 * any code): a call into liburcu-bp costs two PLT jumps and four
 * __tls_get_addr calls per read section, three times the rest of a
 * setter. */
#define _LGPL_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <urcu-bp.h>
#include "libckpt/reg.h"

/*
 * And the reader's thread-local pointer at a fixed offset from %fs
 * (initial-exec) instead of through __tls_get_addr: liburcu-bp is loaded
 * with libckpt at startup (LD_PRELOAD or DT_NEEDED), so its TLS block is
 * static.  A dlopen()ed libckpt would need glibc's static TLS surplus.
 */
extern __thread struct urcu_bp_reader *urcu_bp_reader
	__attribute__((tls_model("initial-exec")));

#define REG_INIT_FDS	1024
#define REG_KIND_SHIFT	56
#define REG_ADDR_MASK	((UINT64_C(1) << REG_KIND_SHIFT) - 1)

struct reg_table {
	uint64_t n;		/* slots */
	uint64_t map_len;	/* bytes mapped, for munmap */
	uint64_t slot[];
};

static struct reg_table *reg_tab;
static pthread_mutex_t reg_grow_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long reg_sig_readers;
/* Odd while a grower copies (invariant 3). */
static unsigned long reg_gen;
/* This thread is inside reg_grow (a handler may interrupt it). */
static __thread int reg_growing __attribute__((tls_model("initial-exec")));

/* One line on stderr, async-signal-safe. */
static void reg_log(const char *msg)
{
	static const char pfx[] = "libckpt: fd registry: ";
	ssize_t r;

	r = write(STDERR_FILENO, pfx, sizeof(pfx) - 1);
	r = write(STDERR_FILENO, msg, strlen(msg));
	(void)r;
}

static struct reg_table *reg_table_new(uint64_t n)
{
	size_t len = sizeof(struct reg_table) + n * sizeof(uint64_t);
	struct reg_table *t;

	t = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	t->n = n;
	t->map_len = len;
	return t;
}

/*
 * Makes the table hold `fd`.  0, or -1 when it cannot (no memory, or we
 * interrupted a read section or a growth of this thread).  Keeps errno.
 */
static int reg_grow(int fd)
{
	struct reg_table *old, *t = NULL;
	sigset_t all, mask;
	uint64_t n;
	int e = errno, rc = -1;

	/* See "Signal safety": we would wait for ourselves. */
	if (__atomic_load_n(&reg_growing, __ATOMIC_RELAXED) || urcu_bp_read_ongoing())
		goto out;

	/*
	 * pthread_sigmask is the wrapper (wrap_signal.c): the reserved
	 * signals stay deliverable, so a checkpoint can still park us.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &mask);
	/* Set before the lock: a handler must never wait for it on us. */
	__atomic_store_n(&reg_growing, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	pthread_mutex_lock(&reg_grow_lock);

	old = reg_tab;
	if (old && (uint64_t)fd < old->n) {
		rc = 0;			/* another thread grew it */
		goto unlock;
	}
	n = old ? old->n : REG_INIT_FDS;
	while (n <= (uint64_t)fd)
		n *= 2;
	t = reg_table_new(n);
	if (!t) {
		static int logged;

		if (!logged++)
			reg_log("cannot grow the table (out of memory); "
				"fds past the end are not recorded\n");
		goto unlock;
	}
	/* Invariant 3: announce the copy before reading a slot. */
	__atomic_add_fetch(&reg_gen, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (uint64_t i = 0; old && i < old->n; i++)
		t->slot[i] = __atomic_load_n(&old->slot[i], __ATOMIC_RELAXED);
	rcu_assign_pointer(reg_tab, t);
	__atomic_add_fetch(&reg_gen, 1, __ATOMIC_SEQ_CST);
	/* Publish before looking for checkpoint readers (store buffering). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (old) {
		synchronize_rcu();
		while (__atomic_load_n(&reg_sig_readers, __ATOMIC_SEQ_CST))
			sched_yield();
		munmap(old, old->map_len);
	}
	rc = 0;
unlock:
	pthread_mutex_unlock(&reg_grow_lock);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&reg_growing, 0, __ATOMIC_RELAXED);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
out:
	errno = e;
	return rc;
}

/*
 * Stores v in fd's slot of the published table.  Returns 0, or 1 when the
 * table does not reach fd.
 */
static int reg_store(int fd, uint64_t v)
{
	struct reg_table *t, *now;
	int rc = 1;

	urcu_bp_read_lock();
	t = rcu_dereference(reg_tab);
	while (t && (uint64_t)fd < t->n) {
		unsigned long gen;

		/* Invariant 3: a full barrier between the store and the reads. */
		__atomic_exchange_n(&t->slot[fd], v, __ATOMIC_SEQ_CST);
		gen = __atomic_load_n(&reg_gen, __ATOMIC_SEQ_CST);
		now = __atomic_load_n(&reg_tab, __ATOMIC_SEQ_CST);
		if (__builtin_expect(!(gen & 1) && now == t, 1)) {
			rc = 0;
			break;
		}
		if (gen & 1) {
			/* A copy is under way; a checkpoint handler that
			 * interrupted it on this thread cannot wait for it. */
			if (__atomic_load_n(&reg_growing, __ATOMIC_RELAXED)) {
				rc = 0;
				break;
			}
			while (__atomic_load_n(&reg_gen, __ATOMIC_ACQUIRE) == gen)
				sched_yield();
			now = rcu_dereference(reg_tab);
		}
		t = now;	/* store again in the new table */
	}
	urcu_bp_read_unlock();
	return rc;
}

void reg_fd_set(int fd, enum reg_kind kind, const void *caller)
{
	uint64_t v;

	if (fd < 0)
		return;
	if (kind <= REG_NONE || kind >= REG_KIND_MAX) {
		reg_fd_clear(fd);
		return;
	}
	v = (uint64_t)kind << REG_KIND_SHIFT | ((uintptr_t)caller & REG_ADDR_MASK);
	while (reg_store(fd, v))
		if (reg_grow(fd) < 0)
			return;
}

void reg_fd_clear(int fd)
{
	/* Nothing to clear past the end: no growth. */
	if (fd >= 0)
		reg_store(fd, 0);
}

int reg_fd_get(int fd, enum reg_kind *kind, uintptr_t *caller)
{
	struct reg_table *t;
	uint64_t v = 0;

	if (fd < 0)
		return -1;
	/* See "Why two read-side schemes" above. */
	__atomic_fetch_add(&reg_sig_readers, 1, __ATOMIC_SEQ_CST);
	t = __atomic_load_n(&reg_tab, __ATOMIC_SEQ_CST);
	if (t && (uint64_t)fd < t->n)
		v = __atomic_load_n(&t->slot[fd], __ATOMIC_ACQUIRE);
	__atomic_fetch_sub(&reg_sig_readers, 1, __ATOMIC_RELEASE);
	if (!v)
		return -1;
	*kind = (enum reg_kind)(v >> REG_KIND_SHIFT);
	*caller = (uintptr_t)(v & REG_ADDR_MASK);
	return 0;
}

const char *reg_kind_name(enum reg_kind kind)
{
	static const char *const names[REG_KIND_MAX] = {
		[REG_NONE] = "none",
		[REG_OPEN] = "open",
		[REG_CREAT] = "creat",
		[REG_DUP] = "dup",
		[REG_PIPE] = "pipe",
		[REG_SOCKET] = "socket",
		[REG_SOCKETPAIR] = "socketpair",
		[REG_ACCEPT] = "accept",
		[REG_EVENTFD] = "eventfd",
		[REG_EPOLL] = "epoll_create",
		[REG_SIGNALFD] = "signalfd",
		[REG_TIMERFD] = "timerfd_create",
		[REG_INOTIFY] = "inotify_init",
		[REG_MEMFD] = "memfd_create",
	};

	if ((unsigned)kind >= REG_KIND_MAX || !names[kind])
		return "unknown";
	return names[kind];
}

/* ---- fork ---- */

static void reg_before_fork(void)
{
	pthread_mutex_lock(&reg_grow_lock);
	urcu_bp_before_fork();
}

static void reg_after_fork_parent(void)
{
	urcu_bp_after_fork_parent();
	pthread_mutex_unlock(&reg_grow_lock);
}

static void reg_after_fork_child(void)
{
	urcu_bp_after_fork_child();
	/* Readers of other threads do not exist in the child. */
	__atomic_store_n(&reg_sig_readers, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&reg_grow_lock);
}

__attribute__((constructor)) static void reg_init(void)
{
	pthread_atfork(reg_before_fork, reg_after_fork_parent,
		       reg_after_fork_child);
}
