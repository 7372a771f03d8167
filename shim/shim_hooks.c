/*
 * shim_hooks.c - C/R-aware programs: hooks run before a checkpoint, after
 * it in the process that goes on, and after a restart (include/ckpt.h,
 * ckpt_hook_add), always in a normal thread context: a hook may lock,
 * allocate, talk to a database; a signal handler may do none of that.
 *
 * ckpt_save() runs them in its caller's thread (shim_api.c), around the
 * signal it raises at itself.  A checkpoint from outside arrives as a
 * signal in any thread, so with hooks registered the handler does not
 * save: it hands the trigger (the signal and its siginfo) to the hook
 * thread (shim_hooks_defer) and returns.  The hook thread, started by the
 * first ckpt_hook_add(), runs the BEFORE hooks, then raises the same
 * signal at itself and, in its handler, takes the saved siginfo for the
 * one the kernel gave (shim_hooks_replay): the trigger takes the path it
 * always takes (ckpt-save's protocol, CKPT_SIGNAL, CKPT_INTERVAL,
 * CKPT_ON_TERM), with the hook thread as the thread the cut interrupts.
 * When that returns, the thread runs the AFTER hooks, or the RESTART
 * hooks if it returned in a restarted copy (shim_post_restore moved the
 * restore generation on).
 *
 * A veto (a BEFORE hook's nonzero return): ckpt-save's request is still
 * served, to be refused with the hook's message (shim_hook_veto, read by
 * shim_ctl.c once the sender is allowed to ask); CKPT_SIGNAL/INTERVAL
 * log it; CKPT_ON_TERM terminates as SIGTERM would, without an image.
 *
 * Not deferred: the park request every thread gets during a save, a tree
 * member's request from its coordinator (members' hooks do not run: the
 * tree is cut at once, and a hook that waited for a parked process would
 * hang it), and ckpt_save()'s own signal.  A fork child has no hook thread
 * (threads are not inherited): its triggers save at once, without hooks,
 * until it adds one itself.  Who can trigger hooks: whoever may signal the
 * process (kill(2)'s rule), who can end it anyway.
 *
 * Invariants: the table changes only under hooks_lock, and hooks run on a
 * copy taken under it (a hook may add or remove hooks); the handler reads
 * hk_tid, hk_count and the slots only, atomically; HK_SLOTS triggers
 * wait their turn, one more meanwhile is dropped with a log line (a
 * ckpt-save then times out).
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ckpt.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"
#include "shim/shim_int.h"
#include "wrappers/wrap.h"

#define API __attribute__((visibility("default")))
#define HOOKS_MAX	64
#define HOOK_EVENTS	(CKPT_HOOK_BEFORE | CKPT_HOOK_AFTER | CKPT_HOOK_RESTART)

struct hook {
	int when;
	ckpt_hook_fn fn;
	void *arg;
};

static struct hook hooks[HOOKS_MAX];
static int hk_count;			/* entries of hooks[] in use, oldest first */
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The hook thread: its tid (0: none), the triggers handed to it (a slot
 * each, taken in the order they came: one may arrive while the thread
 * still runs the hooks of another, as a ckpt-save right after a vetoed
 * one), the futex word it waits on (moved on by each trigger handed over),
 * and the trigger it runs now.
 */
enum { HK_IDLE, HK_FILLING, HK_READY };
#define HK_SLOTS	2
static struct {
	int state;
	unsigned order;			/* hk_seq when it was handed over */
	int sig;
	siginfo_t info;
} hk_slots[HK_SLOTS];
static int hk_tid;
static unsigned hk_seq;
static int hk_sig;
static siginfo_t hk_info;
static __thread volatile int hk_replaying;	/* the hook thread raises hk_sig at itself
					 * (volatile: the store before tgkill is read
					 * by the handler, which the compiler cannot see) */
static __thread int hk_in_hooks;	/* this thread runs hooks: no ckpt_save() */

/* Moved on by every thread leaving the restorer (shim_post_restore). */
static unsigned shim_restore_gen;
char shim_hook_veto[256];

void shim_hooks_restored(void)
{
	__atomic_add_fetch(&shim_restore_gen, 1, __ATOMIC_RELEASE);
}

unsigned shim_hooks_gen(void)
{
	return __atomic_load_n(&shim_restore_gen, __ATOMIC_ACQUIRE);
}

int shim_hooks_running(void)
{
	return hk_in_hooks;
}

/*
 * Runs the hooks of event `when`, in their order: 0, or -1 when a BEFORE
 * hook vetoed (its message in msg; the later BEFORE hooks do not run).
 * An AFTER or RESTART hook's failure is logged and the others run.
 */
int shim_hooks_run(int when, char *msg, size_t len)
{
	struct hook copy[HOOKS_MAX];
	int n, i, r = 0;

	pthread_mutex_lock(&hooks_lock);
	n = hk_count;
	memcpy(copy, hooks, (size_t)n * sizeof(copy[0]));
	pthread_mutex_unlock(&hooks_lock);
	hk_in_hooks = 1;
	for (i = 0; i < n; i++) {
		struct hook *h = &copy[when == CKPT_HOOK_BEFORE ? n - 1 - i : i];
		char m[256] = "";

		if (!(h->when & when))
			continue;
		if (h->fn(when, h->arg, m, sizeof(m)) == 0)
			continue;
		m[sizeof(m) - 1] = '\0';
		if (when == CKPT_HOOK_BEFORE) {
			ckpt_fmt(msg, len, "%s", m[0] ? m : "a checkpoint hook said no (no reason given)");
			r = -1;
			break;
		}
		shim_log(SHIM_LOG_ERROR, "%s hook %p failed: %s", when == CKPT_HOOK_AFTER ?
			 "an after-checkpoint" : "a restart", (void *)h->fn, m[0] ? m : "(no reason given)");
	}
	hk_in_hooks = 0;
	return r;
}

/* Whether (sig, info) asks for a checkpoint that hooks come before. */
static int is_trigger(int sig, const siginfo_t *info)
{
	if (sig == shim_cfg.ctl_sig)
		return (info->si_code == SI_QUEUE && info->si_pid != getpid() &&
			!ckpt_park_request(info) && !ckpt_tree_request(info)) || shim_is_interval(info);
	return (shim_cfg.on_term && sig == SIGTERM) || (shim_cfg.user_sig && sig == shim_cfg.user_sig);
}

/* Signal context, any thread: 1 when the hook thread takes the trigger. */
int shim_hooks_defer(int sig, const siginfo_t *info)
{
	int tid = __atomic_load_n(&hk_tid, __ATOMIC_ACQUIRE);

	/*
	 * The hook thread takes its own replay; a new trigger the kernel gave
	 * it (a process-directed signal may go to any thread) is handed to it
	 * like any other: its wait sees the trigger when the handler returns.
	 */
	if (!tid || !__atomic_load_n(&hk_count, __ATOMIC_ACQUIRE) || !is_trigger(sig, info) ||
	    (hk_replaying && syscall(SYS_gettid) == tid))
		return 0;
	for (int i = 0; i < HK_SLOTS; i++) {
		int idle = HK_IDLE;

		if (!__atomic_compare_exchange_n(&hk_slots[i].state, &idle, HK_FILLING, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		hk_slots[i].sig = sig;
		hk_slots[i].info = *info;
		hk_slots[i].order = __atomic_load_n(&hk_seq, __ATOMIC_ACQUIRE);
		__atomic_store_n(&hk_slots[i].state, HK_READY, __ATOMIC_RELEASE);
		__atomic_add_fetch(&hk_seq, 1, __ATOMIC_ACQ_REL);
		syscall(SYS_futex, &hk_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		return 1;
	}
	shim_log(SHIM_LOG_ERROR, "a checkpoint request (signal %d from pid %d) arrived while the "
		 "checkpoint hooks run for %d others: dropped", sig, (int)info->si_pid, HK_SLOTS);
	return 1;
}

/* Signal context: the trigger to act on (the saved one when replaying it). */
siginfo_t *shim_hooks_replay(int sig, siginfo_t *info)
{
	if (hk_replaying && sig == hk_sig && info->si_code == SI_TKILL && info->si_pid == getpid()) {
		hk_replaying = 0;
		return &hk_info;
	}
	return info;
}

static void run_trigger(void)
{
	char msg[256] = "";
	unsigned gen = shim_hooks_gen();
	int ctl = hk_sig == shim_cfg.ctl_sig && hk_info.si_code == SI_QUEUE;
	sigset_t one, old;

	if (shim_hooks_run(CKPT_HOOK_BEFORE, msg, sizeof(msg)) < 0) {
		if (hk_sig == SIGTERM) {
			shim_log(SHIM_LOG_ERROR, "checkpoint on SIGTERM vetoed by a hook: %s; "
				 "terminating without an image", msg);
			shim_term_now();
		}
		if (!ctl) {
			shim_log(SHIM_LOG_ERROR, "checkpoint to %s vetoed by a hook: %s",
				 shim_cfg.image, msg);
			shim_hooks_run(CKPT_HOOK_AFTER, msg, sizeof(msg));
			return;
		}
		ckpt_fmt(shim_hook_veto, sizeof(shim_hook_veto), "vetoed by a checkpoint hook: %s",
			 msg);
	}
	sigemptyset(&one);
	sigaddset(&one, hk_sig);
	wrap_real_sigmask(SIG_UNBLOCK, &one, &old);
	hk_replaying = 1;
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), hk_sig);
	hk_replaying = 0;
	wrap_real_sigmask(SIG_SETMASK, &old, NULL);
	shim_hook_veto[0] = '\0';
	shim_hooks_run(shim_hooks_gen() != gen ? CKPT_HOOK_RESTART : CKPT_HOOK_AFTER, msg,
		       sizeof(msg));
}

static void *hk_main(void *arg)
{
	sigset_t set;

	(void)arg;
	/* The triggers reach the process's other threads; this one gets its replays. */
	sigfillset(&set);
	wrap_real_sigmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, shim_cfg.ctl_sig);
	wrap_real_sigmask(SIG_UNBLOCK, &set, NULL);
	prctl(PR_SET_NAME, "ckpt-hooks", 0, 0, 0);
	__atomic_store_n(&hk_tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (;;) {
		unsigned seq = __atomic_load_n(&hk_seq, __ATOMIC_ACQUIRE);
		int next = -1;

		/* the oldest trigger handed over (read seq first: a later one moves it) */
		for (int i = 0; i < HK_SLOTS; i++)
			if (__atomic_load_n(&hk_slots[i].state, __ATOMIC_ACQUIRE) == HK_READY &&
			    (next < 0 || (int)(hk_slots[i].order - hk_slots[next].order) < 0))
				next = i;
		if (next < 0) {
			/* a park request or a restart interrupts the wait: look again */
			syscall(SYS_futex, &hk_seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
			continue;
		}
		hk_sig = hk_slots[next].sig;
		hk_info = hk_slots[next].info;
		__atomic_store_n(&hk_slots[next].state, HK_IDLE, __ATOMIC_RELEASE);
		run_trigger();
	}
	return NULL;
}

/* Under hooks_lock: the hook thread runs (started now if need be). */
static int start_thread(void)
{
	pthread_attr_t a;
	pthread_t t;
	int r;

	if (__atomic_load_n(&hk_tid, __ATOMIC_ACQUIRE))
		return 0;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 << 10);
	r = pthread_create(&t, &a, hk_main, NULL);
	pthread_attr_destroy(&a);
	if (r)
		return -r;
	/* the thread says it runs: until then a trigger saves without hooks */
	while (!__atomic_load_n(&hk_tid, __ATOMIC_ACQUIRE))
		sched_yield();
	return 0;
}

API int ckpt_hook_add_v1(int when, ckpt_hook_fn fn, void *arg)
{
	int r = 0;

	if (!fn || !(when & HOOK_EVENTS) || (when & ~HOOK_EVENTS)) {
		errno = EINVAL;
		return -1;
	}
	if (hk_in_hooks) {
		errno = EBUSY;
		return -1;
	}
	pthread_mutex_lock(&hooks_lock);
	if (hk_count == HOOKS_MAX)
		r = -ENOSPC;
	else
		r = start_thread();
	if (r == 0) {
		hooks[hk_count] = (struct hook){ when, fn, arg };
		__atomic_store_n(&hk_count, hk_count + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&hooks_lock);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

API int ckpt_hook_remove_v1(int when, ckpt_hook_fn fn, void *arg)
{
	int i, r = -ENOENT;

	if (hk_in_hooks) {
		errno = EBUSY;
		return -1;
	}
	pthread_mutex_lock(&hooks_lock);
	for (i = 0; i < hk_count; i++)
		if (hooks[i].when == when && hooks[i].fn == fn && hooks[i].arg == arg) {
			memmove(&hooks[i], &hooks[i + 1], (size_t)(hk_count - i - 1) * sizeof(hooks[0]));
			__atomic_store_n(&hk_count, hk_count - 1, __ATOMIC_RELEASE);
			r = 0;
			break;
		}
	pthread_mutex_unlock(&hooks_lock);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* The pthread_atfork child handler (shim_fork.c): no hook thread here. */
void shim_hooks_forked(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	memcpy(&hooks_lock, &fresh, sizeof(fresh));
	__atomic_store_n(&hk_tid, 0, __ATOMIC_RELEASE);
	for (int i = 0; i < HK_SLOTS; i++)
		__atomic_store_n(&hk_slots[i].state, HK_IDLE, __ATOMIC_RELEASE);
	hk_in_hooks = 0;
	shim_hook_veto[0] = '\0';
}
