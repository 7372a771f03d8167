/*
 * wrap_ipc.c - SysV IPC calls and mq_notify(): notes what the checkpoint
 * cannot learn from the kernel.
 *
 * A process does not hold a SysV semaphore set or message queue the way
 * it holds an fd, so the ids it gets (semget, msgget, shmget) or uses
 * successfully (semop, semctl, msgsnd, msgrcv, msgctl, shmat, shmctl) go
 * into the registry (libckpt/reg_ipc.c), and the checkpoint saves those
 * objects (libckpt/ckpt_sysv.c).  Shared memory a process has attached is
 * found in its mappings anyway; its ids are recorded too, so a segment it
 * made and has not attached (yet) is saved as well.
 *
 * mq_notify(): the kernel shows a queue's registration (notification
 * type, signal, pid) when the queue fd is read, but not its sigev_value;
 * the wrapper keeps the sigevent per queue (st_dev, st_ino).
 *
 * Every wrapper calls the real libc function (found once with
 * dlsym(RTLD_NEXT), in the constructor: msgsnd and msgrcv are
 * cancellation points there, which a raw system call would not be) and
 * records after it succeeded; return value and errno are the real call's.
 * Cost: one registry lookup per call (~5 ns).
 */
#include <dlfcn.h>
#include <errno.h>
#include <mqueue.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include "libckpt/reg.h"

#define WRAP_EXPORT __attribute__((visibility("default")))
/* The kernel's flag for the 64-bit structs, which glibc adds itself. */
#define IPC_64	0x0100

#define WRAP_IPC_FUNCS(X)						\
	X(semget) X(semop) X(semtimedop) X(semctl) X(msgget) X(msgsnd)	\
	X(msgrcv) X(msgctl) X(shmget) X(shmat) X(shmctl) X(mq_notify)

#define WRAP_IPC_SLOT(name) static void *real_##name;
WRAP_IPC_FUNCS(WRAP_IPC_SLOT)

__attribute__((noinline)) static void *wrap_ipc_resolve(void **slot, const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	return p;
}

static inline void *wrap_ipc_real(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);

	return __builtin_expect(p != NULL, 1) ? p : wrap_ipc_resolve(slot, name);
}

#define REAL(name) ((__typeof__(&name))wrap_ipc_real(&real_##name, #name))

__attribute__((constructor)) static void wrap_ipc_init(void)
{
#define WRAP_IPC_RESOLVE(name) wrap_ipc_resolve(&real_##name, #name);
	WRAP_IPC_FUNCS(WRAP_IPC_RESOLVE)
}

/* Records id when the call succeeded (ok); errno kept. */
static inline void wrap_ipc_note(int ok, enum reg_ipc_type t, int id)
{
	if (ok) {
		int e = errno;

		reg_ipc_add(t, id);
		errno = e;
	}
}

WRAP_EXPORT int semget(key_t key, int nsems, int flags)
{
	int r = REAL(semget)(key, nsems, flags);

	wrap_ipc_note(r >= 0, REG_IPC_SEM, r);
	return r;
}

WRAP_EXPORT int semop(int id, struct sembuf *sops, size_t nsops)
{
	int r = REAL(semop)(id, sops, nsops);

	wrap_ipc_note(r == 0, REG_IPC_SEM, id);
	return r;
}

WRAP_EXPORT int semtimedop(int id, struct sembuf *sops, size_t nsops,
			   const struct timespec *timeout)
{
	int r = REAL(semtimedop)(id, sops, nsops, timeout);

	wrap_ipc_note(r == 0, REG_IPC_SEM, id);
	return r;
}

/* glibc reads the fourth argument only for the commands that have one. */
static int semctl_has_arg(int cmd)
{
	switch (cmd & ~IPC_64) {
	case IPC_STAT: case IPC_SET: case GETALL: case SETALL: case SETVAL:
	case IPC_INFO: case SEM_INFO: case SEM_STAT: case SEM_STAT_ANY:
		return 1;
	default:
		return 0;
	}
}

WRAP_EXPORT int semctl(int id, int num, int cmd, ...)
{
	unsigned long arg = 0;
	va_list ap;
	int r, c = cmd & ~IPC_64;

	if (semctl_has_arg(cmd)) {
		va_start(ap, cmd);
		arg = va_arg(ap, unsigned long);	/* union semun: one word */
		va_end(ap);
	}
	r = REAL(semctl)(id, num, cmd, arg);
	/* the *_INFO and *_STAT commands take an index, not an id */
	wrap_ipc_note(r >= 0 && c != IPC_INFO && c != SEM_INFO && c != SEM_STAT &&
		      c != SEM_STAT_ANY, REG_IPC_SEM, id);
	return r;
}

WRAP_EXPORT int msgget(key_t key, int flags)
{
	int r = REAL(msgget)(key, flags);

	wrap_ipc_note(r >= 0, REG_IPC_MSG, r);
	return r;
}

WRAP_EXPORT int msgsnd(int id, const void *msg, size_t size, int flags)
{
	int r = REAL(msgsnd)(id, msg, size, flags);

	wrap_ipc_note(r == 0, REG_IPC_MSG, id);
	return r;
}

WRAP_EXPORT ssize_t msgrcv(int id, void *msg, size_t size, long type, int flags)
{
	ssize_t r = REAL(msgrcv)(id, msg, size, type, flags);

	wrap_ipc_note(r >= 0, REG_IPC_MSG, id);
	return r;
}

WRAP_EXPORT int msgctl(int id, int cmd, struct msqid_ds *buf)
{
	int r = REAL(msgctl)(id, cmd, buf);
	int c = cmd & ~IPC_64;

	wrap_ipc_note(r >= 0 && c != IPC_INFO && c != MSG_INFO && c != MSG_STAT &&
		      c != MSG_STAT_ANY, REG_IPC_MSG, id);
	return r;
}

WRAP_EXPORT int shmget(key_t key, size_t size, int flags)
{
	int r = REAL(shmget)(key, size, flags);

	wrap_ipc_note(r >= 0, REG_IPC_SHM, r);
	return r;
}

WRAP_EXPORT void *shmat(int id, const void *addr, int flags)
{
	void *r = REAL(shmat)(id, addr, flags);

	wrap_ipc_note(r != (void *)-1, REG_IPC_SHM, id);
	return r;
}

WRAP_EXPORT int shmctl(int id, int cmd, struct shmid_ds *buf)
{
	int r = REAL(shmctl)(id, cmd, buf);
	int c = cmd & ~IPC_64;

	wrap_ipc_note(r >= 0 && c != IPC_INFO && c != SHM_INFO && c != SHM_STAT &&
		      c != SHM_STAT_ANY, REG_IPC_SHM, id);
	return r;
}

WRAP_EXPORT int mq_notify(mqd_t q, const struct sigevent *sev)
{
	int r = REAL(mq_notify)(q, sev);
	struct stat st;
	int e = errno;

	if (r == 0 && fstat(q, &st) == 0)
		reg_mq_notify_set(st.st_dev, st.st_ino, sev ? sev->sigev_notify : 0,
				  sev ? sev->sigev_signo : 0,
				  sev ? (uint64_t)(uintptr_t)sev->sigev_value.sival_ptr : 0, !sev);
	errno = e;
	return r;
}
