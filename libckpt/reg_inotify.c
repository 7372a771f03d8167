/*
 * reg_inotify.c - the path of each inotify watch the wrappers saw added
 * (reg.h; wrappers/wrap_inotify.c).  The kernel shows a watch's inode
 * (fdinfo "ino", "sdev") but not the path it was added by, and a restart
 * can only add a watch by path.
 *
 * Layout: REG_INO_SLOTS slots of one page each (fd, wd, the absolute path)
 * in one mapping made on the first watch (MAP_NORESERVE: a slot costs
 * memory once used).  A slot is taken by compare-and-swap on its `state`
 * (free -> taken), so any thread may add at once; a writer makes `seq`
 * odd while it writes and even again after, and a reader (the checkpoint,
 * in its signal handler) copies a slot and takes it only if seq was even
 * and unchanged: a slot being written, by a thread the checkpoint
 * interrupted, is skipped (its watch may then be refused or found by
 * file handle: fd_inotify.c).
 *
 * Recorded before the call, as pending (wd 0), then given its wd: a
 * checkpoint that parks the thread inside inotify_add_watch still finds
 * the path (a pending slot whose path names the watched inode).  Paths
 * are only a hint: the checkpoint takes a path only when it names the
 * watched inode then (stat), so a stale slot (its fd closed, its watch
 * gone with IN_ONESHOT or IN_IGNORED) is harmless; the table forgets
 * them when it fills up (slots of fds that are no inotify fd any more).
 *
 * Cost: one CAS, a copy of the path and a getcwd for a relative path per
 * inotify_add_watch; a scan of the used slots per rm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "libckpt/reg.h"

enum { SLOT_FREE = 0, SLOT_TAKEN = 1 };

struct ino_slot {
	uint32_t state;			/* SLOT_FREE / SLOT_TAKEN */
	uint32_t seq;			/* odd while written */
	int32_t fd, wd;			/* wd 0: pending (the call is under way) */
	uint32_t len;
	char path[REG_INO_PATH_MAX];	/* absolute, NUL-terminated */
};

static struct ino_slot *ino_tab;
static uint32_t ino_used;		/* slots ever taken: the scans stop there */

static struct ino_slot *table(void)
{
	struct ino_slot *t = __atomic_load_n(&ino_tab, __ATOMIC_ACQUIRE), *want = NULL;

	if (t)
		return t;
	t = mmap(NULL, REG_INO_SLOTS * sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	if (!__atomic_compare_exchange_n(&ino_tab, &want, t, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		munmap(t, REG_INO_SLOTS * sizeof(*t));
		t = want;		/* another thread's */
	}
	return t;
}

/* Whether fd is an inotify fd now. */
static int is_inotify(int fd)
{
	char link[64], to[32];
	ssize_t n;

	memcpy(link, "/proc/self/fd/", 14);
	{
		char num[16];
		int k = 0, v = fd;

		do
			num[k++] = '0' + v % 10;
		while ((v /= 10));
		for (int i = 0; i < k; i++)
			link[14 + i] = num[k - 1 - i];
		link[14 + k] = '\0';
	}
	n = readlink(link, to, sizeof(to));
	return n == 18 && !memcmp(to, "anon_inode:inotify", 18);
}

static void release(struct ino_slot *s)
{
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL);
	s->fd = -1;
	s->wd = -1;
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELEASE);
}

/* A free slot, taken; NULL when full even after forgetting stale ones. */
static struct ino_slot *take(struct ino_slot *t)
{
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < REG_INO_SLOTS; i++) {
			uint32_t free_ = SLOT_FREE;

			if (__atomic_compare_exchange_n(&t[i].state, &free_, SLOT_TAKEN, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				uint32_t used = __atomic_load_n(&ino_used, __ATOMIC_ACQUIRE);

				while (used < i + 1 &&
				       !__atomic_compare_exchange_n(&ino_used, &used, i + 1, 0,
								    __ATOMIC_ACQ_REL,
								    __ATOMIC_ACQUIRE))
					;
				return &t[i];
			}
		}
		/* full: forget the slots of fds that are no inotify fd any more */
		for (uint32_t i = 0; !pass && i < REG_INO_SLOTS; i++)
			if (t[i].wd > 0 && !is_inotify(t[i].fd))
				release(&t[i]);
	}
	return NULL;
}

int reg_inotify_begin(int fd, const char *path)
{
	struct ino_slot *t = table(), *s;
	size_t n = path ? strnlen(path, REG_INO_PATH_MAX) : REG_INO_PATH_MAX, at = 0;
	int e = errno;

	if (!t || n >= REG_INO_PATH_MAX || !(s = take(t)))
		goto none;
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL);
	s->fd = fd;
	s->wd = 0;
	if (path[0] != '/') {
		long r = syscall(SYS_getcwd, s->path, REG_INO_PATH_MAX);

		if (r <= 0 || s->path[0] != '/' || (at = strlen(s->path)) + 1 + n >= REG_INO_PATH_MAX) {
			__atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL);
			release(s);
			goto none;
		}
		if (at > 1)
			s->path[at++] = '/';
		else
			at = 1;
	}
	memcpy(s->path + at, path, n);
	s->path[at + n] = '\0';
	s->len = at + n;
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL);
	errno = e;
	return (int)(s - t);
none:
	errno = e;
	return -1;
}

void reg_inotify_end(int slot, int fd, int wd)
{
	struct ino_slot *t = __atomic_load_n(&ino_tab, __ATOMIC_ACQUIRE);
	uint32_t used = __atomic_load_n(&ino_used, __ATOMIC_ACQUIRE);

	if (!t || slot < 0)
		return;
	if (wd <= 0) {
		release(&t[slot]);
		return;
	}
	/* the watch's older path (the same inode added again: the same wd) goes */
	for (uint32_t i = 0; i < used; i++)
		if ((int)i != slot && __atomic_load_n(&t[i].state, __ATOMIC_ACQUIRE) == SLOT_TAKEN &&
		    t[i].fd == fd && t[i].wd == wd)
			release(&t[i]);
	__atomic_fetch_add(&t[slot].seq, 1, __ATOMIC_ACQ_REL);
	t[slot].wd = wd;
	__atomic_fetch_add(&t[slot].seq, 1, __ATOMIC_ACQ_REL);
}

void reg_inotify_rm(int fd, int wd)
{
	struct ino_slot *t = __atomic_load_n(&ino_tab, __ATOMIC_ACQUIRE);
	uint32_t used = __atomic_load_n(&ino_used, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; t && i < used; i++)
		if (__atomic_load_n(&t[i].state, __ATOMIC_ACQUIRE) == SLOT_TAKEN &&
		    t[i].fd == fd && t[i].wd == wd)
			release(&t[i]);
}

int reg_inotify_get(uint32_t i, int *fd, int *wd, char *path, size_t cap)
{
	struct ino_slot *t = __atomic_load_n(&ino_tab, __ATOMIC_ACQUIRE), *s;
	uint32_t s0, len;

	if (!t || i >= __atomic_load_n(&ino_used, __ATOMIC_ACQUIRE))
		return -1;
	s = &t[i];
	s0 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	if ((s0 & 1) || __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_TAKEN)
		return 0;
	*fd = s->fd;
	*wd = s->wd;
	len = s->len;
	if (len >= cap || len >= REG_INO_PATH_MAX)
		return 0;
	for (uint32_t k = 0; k < len; k++)	/* (no memcpy: async-signal-safe, libckpt's own) */
		path[k] = s->path[k];
	path[len] = '\0';
	if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != s0 || *fd < 0)
		return 0;
	return 1;
}
