/*
 * fd_unix_tree.c - unix sockets whose ends are held by different members
 * of a process tree (docs/INTERNALS.md "Unix sockets", "For process
 * trees").  The save half only: a restart makes every socket of the tree
 * at once anyway (fd_unix_make.c), before any process exists.
 *
 * The image's sockets, tree-wide.  A socket is "in the image" when any
 * member holds it, so the table (fd_unix.c) gets, besides the process's
 * own, every unix socket another member's fds hold: a *foreign* entry
 * (holder: that member's pid), described by sock_diag alone (type, state,
 * name, bound file, peer, waiting connections), never decided, walked or
 * written here: its holder does that.  Which processes are members: in
 * the check pass (pass 0), while members still validate, every
 * descendant of the coordinator (its children lists, read down from it);
 * in the write pass (pass 1), the coordinator's list (c->tree->pids),
 * every member parked.
 *
 * Who walks a queue.  A queue is walked once per checkpoint (a second
 * walk would not see the empty datagrams the first one marked), and in a
 * tree only in pass 1: members validate in parallel, and the others run
 * until the last one has parked, so a queue read in pass 0 could miss
 * what a member sent after (pipes are read in pass 1 again for the same
 * reason).  It is walked by the member that writes the socket's FILE: the
 * first section that holds it (ckpt_tree_first answers 0), so its
 * UNIX_MSG records follow its FILE in one section.  A refusal found by
 * that walk (an fd of a kind not supported in flight, credentials) fails
 * the tree's checkpoint after its cut, before a byte of the image is
 * written (every member has captured into its own memfd).
 *
 * Async-signal-safe: raw system calls, /proc reads into the stack.
 */
#include "fds/fd_unix.h"

#ifdef FD_SAVE
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"

struct tscan {
	struct ckpt_ctx *c;
	int pid;			/* a member (not this process) */
};

/* One fd of another process: a unix socket of a member not in the table yet joins it. */
static int tree_fd(int fd, int dirfd, void *arg)
{
	struct tscan *sc = arg;
	struct usk_state *u = usk_state(sc->c);
	struct usk_diag d;
	struct usk_sock *s;
	char name[64], link[64];
	const char *p;
	uint64_t ino;
	ssize_t n;

	(void)dirfd;
	ckpt_fmt(name, sizeof(name), "/proc/%d/fd/%d", sc->pid, fd);
	if ((n = readlink(name, link, sizeof(link) - 1)) <= 8)
		return 0;
	link[n] = '\0';
	if (!ckpt_memeq(link, "socket:[", 8))
		return 0;
	p = link + 8;
	ino = (uint64_t)ckpt_parse_dec(&p);
	if (!ino || usk_find(u, ino))
		return 0;			/* ours, or seen already */
	if (usk_diag(sc->c, ino, &d) < 0)
		return 0;			/* not a unix socket (or gone) */
	if (!(s = usk_add(sc->c, ino, fd, 0)))
		return -1;
	s->holder = sc->pid;
	return usk_read(sc->c, s) < 0 ? -1 : 0;
}

static int tree_proc(int pid, int dirfd, void *arg)
{
	struct tscan *sc = arg;
	char dir[32];

	(void)dirfd;
	if (pid == usk_state(sc->c)->self)
		return 0;
	sc->pid = pid;
	ckpt_fmt(dir, sizeof(dir), "/proc/%d/fd", pid);
	ckpt_proc_each(dir, tree_fd, sc);	/* one we cannot read: not seen */
	return sc->c->error ? -1 : 0;
}

int usk_tree_scan(struct ckpt_ctx *c, int pass)
{
	struct ckpt_tree *t = c->tree;
	struct tscan sc = { c, 0 };

	if (!t)
		return 0;
	if (pass == 1 && t->pids && t->nmembers > 0) {
		for (int k = 0; k < t->nmembers && !c->error; k++)
			tree_proc(t->pids[k], -1, &sc);
		return c->error ? -1 : 0;
	}
	/*
	 * The check pass: the coordinator's descendants now, through the
	 * children lists, in the queue bytes' room (no queue is read in a
	 * tree's check pass): the pids, then the text of one children file.
	 */
	{
		struct usk_state *u = usk_state(c);
		int32_t *pids = (int32_t *)(((uintptr_t)u->data + 3) & ~(uintptr_t)3);
		const int max = 2 * TREE_MAX_MEMBERS;
		char *text = (char *)(pids + max);
		size_t tlen = (size_t)(u->data + u->data_cap - (unsigned char *)text);
		int n = 0, r;

		if (!t->coord && ckpt_fds_coord(c) <= 0)
			return 0;	/* (no coordinator to ask: pass 1 will see) */
		pids[n++] = t->coord ? u->self : ckpt_fds_coord(c);
		for (int i = 0; i < n && n < max; i++) {
			if ((r = ckpt_tree_children(pids[i], pids + n, max - n, text, tlen)) > 0)
				n += r;
		}
		for (int i = 0; i < n && !c->error; i++)
			tree_proc(pids[i], -1, &sc);
	}
	return c->error ? -1 : 0;
}

int usk_tree_walks(struct ckpt_ctx *c, const struct usk_sock *s)
{
	struct stat st;

	if (s->holder)
		return 0;
	if (!c->tree || s->inflight)
		return 1;		/* a socket only in flight: its carrier's walker's */
	if (usk_state(c)->pass != 1)
		return 0;		/* a tree's queues are read after its cut */
	if (fstat(s->fd, &st) < 0)
		return 1;
	return ckpt_tree_first(c, st.st_dev, s->ino) == 0;
}

/* ... for a refusal's words: whether any process this one can see holds a socket. */
struct held {
	uint64_t ino;
	int pid, found;
};

static int held_fd(int fd, int dirfd, void *arg)
{
	struct held *h = arg;
	char name[64], link[64];
	const char *p;
	ssize_t n;

	(void)dirfd;
	ckpt_fmt(name, sizeof(name), "/proc/%d/fd/%d", h->pid, fd);
	if ((n = readlink(name, link, sizeof(link) - 1)) <= 8)
		return 0;
	link[n] = '\0';
	p = link + 8;
	if (!ckpt_memeq(link, "socket:[", 8) || (uint64_t)ckpt_parse_dec(&p) != h->ino)
		return 0;
	h->found = 1;
	return -1;
}

static int held_proc(int pid, int dirfd, void *arg)
{
	struct held *h = arg;
	char dir[32];

	(void)dirfd;
	h->pid = pid;
	ckpt_fmt(dir, sizeof(dir), "/proc/%d/fd", pid);
	ckpt_proc_each(dir, held_fd, h);
	return h->found ? -1 : 0;
}

int usk_tree_held(struct ckpt_ctx *c, uint64_t ino)
{
	struct held h = { ino, 0, 0 };

	(void)c;
	ckpt_proc_each("/proc", held_proc, &h);
	return h.found;
}
#endif
