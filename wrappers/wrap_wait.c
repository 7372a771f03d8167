/*
 * wrap_wait.c - wait(), waitpid(), wait3(), wait4(), waitid(): the exit
 * status and rusage of a zombie a tree's restart made again.
 *
 * A restart makes a zombie again by making a process with its pid that
 * exits with its status (restart/restart_tree.c): a parent's wait() then
 * gets that exit code or signal, but neither the core-dump bit (the core
 * is not made again) nor the zombie's rusage (its CPU time, faults...),
 * which were the kernel's.  So the checkpoint leaves them, as the kernel
 * reported them (waitid WNOWAIT), in this table of the parent's memory
 * (wrap_zombies_note, before the memory is saved; wrap_zombies_forget
 * in the process that goes on, after the release): only the restarted
 * process has them.  A restarted process checkpointed again keeps its
 * entries (the truth), and the new image has them too.  Reaping one of them through these wrappers gives
 * back what the kernel would have: status and rusage, then the entry is
 * gone (a pid is reaped once; WNOWAIT leaves it).
 *
 * The real functions come from the next library (glibc: cancellation
 * points as before); results and errno are the real call's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "libckpt/tree_proto.h"
#include "wrappers/wrap.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

struct wrap_zombie {
	int32_t pid;			/* 0: a free entry */
	int32_t code, status;		/* CLD_*, si_status */
	struct rusage ru;
};

static struct wrap_zombie wrap_zombies[TREE_MAX_ZOMBIES];
static int wrap_nzombies;		/* entries used, for the lookups */

static int wrap_nzombies_before;	/* the table before the last note (forget goes back) */

static void to_tree(const struct wrap_zombie *w, struct tree_zombie *z)
{
	z->code = w->code;
	z->status = w->status;
	z->ru[0] = (uint64_t)w->ru.ru_utime.tv_sec * 1000000 + (uint64_t)w->ru.ru_utime.tv_usec;
	z->ru[1] = (uint64_t)w->ru.ru_stime.tv_sec * 1000000 + (uint64_t)w->ru.ru_stime.tv_usec;
	z->ru[2] = (uint64_t)w->ru.ru_maxrss;
	z->ru[3] = (uint64_t)w->ru.ru_minflt;
	z->ru[4] = (uint64_t)w->ru.ru_majflt;
	z->ru[5] = (uint64_t)w->ru.ru_inblock;
	z->ru[6] = (uint64_t)w->ru.ru_oublock;
	z->ru[7] = (uint64_t)w->ru.ru_nvcsw;
	z->ru[8] = (uint64_t)w->ru.ru_nivcsw;
}

/*
 * A zombie this process was restarted with is in the table already: the
 * kernel's view of it (a process that only exited) is not the truth, the
 * entry is: it goes into z (so the image keeps the truth) and stays.  The
 * others are added after the entries there were (forget drops them).
 */
void wrap_zombies_note(struct tree_zombie *z, int n)
{
	int used = __atomic_load_n(&wrap_nzombies, __ATOMIC_ACQUIRE);

	wrap_nzombies_before = used;
	for (int i = 0; i < n; i++) {
		struct wrap_zombie *w = NULL;

		for (int k = 0; k < wrap_nzombies_before && !w; k++)
			if (wrap_zombies[k].pid == z[i].pid)
				w = &wrap_zombies[k];
		if (w) {
			to_tree(w, &z[i]);
			continue;
		}
		if (used == TREE_MAX_ZOMBIES)
			break;
		w = &wrap_zombies[used++];
		memset(w, 0, sizeof(*w));
		w->pid = z[i].pid;
		w->code = z[i].code;
		w->status = z[i].status;
		w->ru.ru_utime.tv_sec = (time_t)(z[i].ru[0] / 1000000);
		w->ru.ru_utime.tv_usec = (suseconds_t)(z[i].ru[0] % 1000000);
		w->ru.ru_stime.tv_sec = (time_t)(z[i].ru[1] / 1000000);
		w->ru.ru_stime.tv_usec = (suseconds_t)(z[i].ru[1] % 1000000);
		w->ru.ru_maxrss = (long)z[i].ru[2];
		w->ru.ru_minflt = (long)z[i].ru[3];
		w->ru.ru_majflt = (long)z[i].ru[4];
		w->ru.ru_inblock = (long)z[i].ru[5];
		w->ru.ru_oublock = (long)z[i].ru[6];
		w->ru.ru_nvcsw = (long)z[i].ru[7];
		w->ru.ru_nivcsw = (long)z[i].ru[8];
	}
	__atomic_store_n(&wrap_nzombies, used, __ATOMIC_RELEASE);
}

void wrap_zombies_forget(void)
{
	int n = __atomic_exchange_n(&wrap_nzombies, wrap_nzombies_before, __ATOMIC_ACQ_REL);

	for (int i = wrap_nzombies_before; i < n; i++)
		wrap_zombies[i].pid = 0;
}

/* The entry of pid (taken: the pid is reaped) or NULL; keep: WNOWAIT. */
static struct wrap_zombie *zombie_take(pid_t pid, int keep, struct wrap_zombie *out)
{
	int n = __atomic_load_n(&wrap_nzombies, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n && pid > 0; i++) {
		int32_t p = pid;

		if (__atomic_load_n(&wrap_zombies[i].pid, __ATOMIC_ACQUIRE) != pid)
			continue;
		*out = wrap_zombies[i];
		if (!keep && !__atomic_compare_exchange_n(&wrap_zombies[i].pid, &p, 0, 0,
							  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return NULL;	/* another thread reaped it: impossible, the kernel reaps once */
		return out;
	}
	return NULL;
}

/* The wait status word of a zombie's end. */
static int zombie_wstatus(const struct wrap_zombie *z)
{
	if (z->code == CLD_EXITED)
		return (z->status & 0xff) << 8;
	return (z->status & 0x7f) | (z->code == CLD_DUMPED ? 0x80 : 0);
}

static pid_t (*real_wait4)(pid_t, int *, int, struct rusage *);
static int (*real_waitid)(idtype_t, id_t, siginfo_t *, int);

static pid_t wait4_fixed(pid_t pid, int *st, int opt, struct rusage *ru)
{
	struct wrap_zombie z;
	pid_t r;

	if (!real_wait4)
		real_wait4 = (pid_t (*)(pid_t, int *, int, struct rusage *))dlsym(RTLD_NEXT, "wait4");
	if (!real_wait4) {
		errno = ENOSYS;
		return -1;
	}
	r = real_wait4(pid, st, opt, ru);
	if (r > 0 && __atomic_load_n(&wrap_nzombies, __ATOMIC_ACQUIRE) &&
	    zombie_take(r, 0, &z)) {
		if (st && (WIFEXITED(*st) || WIFSIGNALED(*st)))
			*st = zombie_wstatus(&z);
		if (ru)
			*ru = z.ru;
	}
	return r;
}

WRAP_EXPORT pid_t wait4(pid_t pid, int *st, int opt, struct rusage *ru)
{
	return wait4_fixed(pid, st, opt, ru);
}

WRAP_EXPORT pid_t wait3(int *st, int opt, struct rusage *ru)
{
	return wait4_fixed(-1, st, opt, ru);
}

WRAP_EXPORT pid_t waitpid(pid_t pid, int *st, int opt)
{
	return wait4_fixed(pid, st, opt, NULL);
}

WRAP_EXPORT pid_t wait(int *st)
{
	return wait4_fixed(-1, st, 0, NULL);
}

WRAP_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *si, int opt)
{
	struct wrap_zombie z;
	int r;

	if (!real_waitid)
		real_waitid = (int (*)(idtype_t, id_t, siginfo_t *, int))dlsym(RTLD_NEXT, "waitid");
	if (!real_waitid) {
		errno = ENOSYS;
		return -1;
	}
	r = real_waitid(type, id, si, opt);
	if (r == 0 && si && si->si_pid > 0 && (si->si_code == CLD_EXITED ||
	    si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) &&
	    __atomic_load_n(&wrap_nzombies, __ATOMIC_ACQUIRE) &&
	    zombie_take(si->si_pid, !!(opt & WNOWAIT), &z)) {
		si->si_code = z.code;
		si->si_status = z.status;
	}
	return r;
}
