/*
 * reg_ipc.c - what the IPC wrappers saw (reg.h): the SysV ids the process
 * used, and its POSIX queue notifications.
 *
 * A process does not "hold" a semaphore set or a message queue the way it
 * holds an fd: the kernel keeps no list of who uses what.  So the ids the
 * process got or used through libc are recorded here, and the checkpoint
 * saves those objects (libckpt/ckpt_sysv.c).  An id used only through a
 * raw system call is not seen (docs/SUPPORT.md).
 *
 * Ids: a static table of REG_IPC_MAX words, open addressing with linear
 * probing from a hash of the word; a word is set once (compare-and-swap
 * from 0) and never cleared, so a reader, the checkpoint in its signal
 * handler included, needs nothing but plain loads, and a wrapper nothing
 * but one CAS the first time it sees an id (later calls with that id find
 * it in one or two loads).  Cost: ~5 ns per wrapped call.  An IPC_RMID'ed
 * id stays: the checkpoint skips ids whose object is gone.  A table full
 * of ids (4096 distinct ones in one process) sets `full`, and the
 * checkpoint refuses rather than lose one.
 *
 * Notifications: 64 slots of (dev, ino, sigevent), claimed by CAS on ino;
 * each written under a sequence count (odd while written), so the
 * checkpoint never takes half of one: it treats that slot as unknown.
 * A registration whose slot cannot be found or claimed is unknown too,
 * and the checkpoint refuses the queue rather than guess.
 */
#include <stdint.h>
#include "libckpt/reg.h"

static uint64_t ipc_tab[REG_IPC_MAX];
static int ipc_full;

static uint32_t ipc_hash(uint64_t w)
{
	w *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(w >> 40) & (REG_IPC_MAX - 1);
}

void reg_ipc_add(enum reg_ipc_type t, int id)
{
	uint64_t w = (uint64_t)t << 32 | (uint32_t)id;
	uint32_t h = ipc_hash(w);

	if (id < 0)
		return;
	for (uint32_t i = 0; i < REG_IPC_MAX; i++) {
		uint64_t *slot = &ipc_tab[(h + i) & (REG_IPC_MAX - 1)], cur = 0;

		if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) == w)
			return;
		if (__atomic_compare_exchange_n(slot, &cur, w, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE) || cur == w)
			return;
	}
	__atomic_store_n(&ipc_full, 1, __ATOMIC_RELEASE);
}

int reg_ipc_each(int (*fn)(enum reg_ipc_type t, int id, void *arg), void *arg)
{
	for (uint32_t i = 0; i < REG_IPC_MAX; i++) {
		uint64_t w = __atomic_load_n(&ipc_tab[i], __ATOMIC_ACQUIRE);
		int r;

		if (w && (r = fn((enum reg_ipc_type)(w >> 32), (int)(uint32_t)w, arg)))
			return r;
	}
	return 0;
}

int reg_ipc_full(void)
{
	return __atomic_load_n(&ipc_full, __ATOMIC_ACQUIRE);
}

#define MQN_SLOTS	64

static struct {
	uint64_t ino, dev;		/* ino 0: free */
	uint32_t seq;			/* odd while written */
	int32_t notify, signo, set;
	uint64_t value;
} mqn[MQN_SLOTS];

void reg_mq_notify_set(uint64_t dev, uint64_t ino, int notify, int signo, uint64_t value,
		       int clear)
{
	for (int i = 0; i < MQN_SLOTS; i++) {
		uint64_t cur = __atomic_load_n(&mqn[i].ino, __ATOMIC_ACQUIRE);

		if (cur != ino || mqn[i].dev != dev) {
			if (cur || clear)
				continue;
			if (!__atomic_compare_exchange_n(&mqn[i].ino, &cur, ino, 0, __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE) && cur != ino)
				continue;
			mqn[i].dev = dev;
		}
		__atomic_fetch_add(&mqn[i].seq, 1, __ATOMIC_ACQ_REL);
		mqn[i].notify = notify;
		mqn[i].signo = signo;
		mqn[i].value = value;
		mqn[i].set = !clear;
		__atomic_fetch_add(&mqn[i].seq, 1, __ATOMIC_ACQ_REL);
		return;
	}
}

int reg_mq_notify_get(uint64_t dev, uint64_t ino, int *notify, int *signo, uint64_t *value)
{
	for (int i = 0; i < MQN_SLOTS; i++) {
		uint32_t s0;

		if (__atomic_load_n(&mqn[i].ino, __ATOMIC_ACQUIRE) != ino || mqn[i].dev != dev)
			continue;
		s0 = __atomic_load_n(&mqn[i].seq, __ATOMIC_ACQUIRE);
		*notify = mqn[i].notify;
		*signo = mqn[i].signo;
		*value = mqn[i].value;
		if ((s0 & 1) || !mqn[i].set || __atomic_load_n(&mqn[i].seq, __ATOMIC_ACQUIRE) != s0)
			return -1;
		return 0;
	}
	return -1;
}
