/*
 * ckpt_tree_coord.c - the coordinator of a tree's checkpoint: the process
 * asked to checkpoint, once it finds it has children (ckpt_tree.h,
 * docs/INTERNALS.md "Process trees").
 *
 * Gathering (tree_coord_parked): every child of a parked process is asked
 * (a tree request: the control signal, after ckpt_tree_askable said it
 * may be sent), connects, parks, checks itself and reports PARKED with
 * its own children, who are asked in turn.  Children are only ever read
 * from a parked process, which can no longer fork: when no one asked is
 * still to answer, the tree is whole.  One who exits before it answers
 * is a zombie (its parked parent reports its status at CAPTURED) or gone.
 * Sections are numbered in the order processes were asked: every parent
 * before its children, the coordinator first.
 *
 * Then CAPTURE to all, CAPTURED from all, RELEASE to all; the image is
 * written by the coordinator (or its forked copy): the directory, its own
 * section, then each member's in turn (GO ... DONE).
 *
 * Invariant: no member is sent CAPTURE before every member is parked, nor
 * RELEASE before every member has captured (the one cut).  A failure at
 * any point sends ABORT to everyone still waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"
#include "libckpt/ckpt_tree_int.h"
#include "wrappers/wrap.h"

#define ASK_TIMEOUT_NS		(10ull * 1000000000)	/* asked, not connected */
#define PARK_TIMEOUT_NS		(30ull * 1000000000)	/* connected, not parked */
#define SETUP_TIMEOUT_NS	(2ull * 1000000000)	/* libckpt mapped, signal not caught yet */
#define EXEC_GRACE_NS		(100ull * 1000000)	/* no libckpt: in an execve? */
#define CAPTURE_TIMEOUT_MS	120000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ckpt_tree_begin(struct ckpt_ctx *c)
{
	struct ckpt_tree *t = tree_self();
	struct sockaddr_un sun;
	socklen_t len;
	int s, r;

	memset(t, 0, sizeof(*t));
	t->coord = 1;
	t->sock = t->sink = -1;
	t->img_fd = c->img_fd;
	c->tree = t;
	if ((r = tree_scratch(c, t)) < 0)
		return r;
	if (arch_sys3(SYS_getrandom, &t->cookie, sizeof(t->cookie), 0) != sizeof(t->cookie))
		t->cookie = (uint32_t)now_ns();
	s = (int)arch_sys3(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ckpt_fail(c, s, "cannot make the tree's socket: %s", ckpt_strerror(s));
	t->sock = s;
	len = tree_sock_name(&sun, getpid(), t->cookie);
	if (bind(s, (struct sockaddr *)&sun, len) < 0 || listen(s, 4096) < 0)
		return ckpt_fail(c, -errno, "cannot listen on the tree's socket: %s",
				 ckpt_strerror(errno));
	t->sink = (int)arch_sys2(SYS_memfd_create, "libckpt-section", MFD_CLOEXEC);
	if (t->sink < 0)
		return ckpt_fail(c, t->sink, "cannot make a memfd for the root's part of the "
				 "image: %s", ckpt_strerror(t->sink));
	/* the section goes to memory until its turn; the image is the tree's */
	c->img_fd = t->sink;
	c->w.fd = t->sink;
	return 0;
}

/* ---- gathering ---- */

static int node_find(const struct ckpt_tree *t, int32_t pid)
{
	for (int i = 0; i < t->nnodes; i++)
		if (t->nodes[i].pid == pid)
			return i;
	return -1;
}

static int node_add(struct ckpt_ctx *c, struct ckpt_tree *t, int32_t pid, int parent)
{
	struct ckpt_tree_node *n;

	if (node_find(t, pid) >= 0)
		return 0;
	if (t->nnodes >= 2 * TREE_MAX_MEMBERS)
		return ckpt_fail(c, -E2BIG, "the tree has more than %d processes", 2 * TREE_MAX_MEMBERS);
	n = &t->nodes[t->nnodes++];
	memset(n, 0, sizeof(*n));
	n->pid = pid;
	n->conn = -1;
	n->state = TREE_NODE_ASKED;
	n->parent = parent;
	return 0;
}

/* Adds the children of node `parent` (pids): each to be asked. */
static int nodes_add_kids(struct ckpt_ctx *c, struct ckpt_tree *t, const int32_t *kids, int n,
			  int parent)
{
	for (int i = 0; i < n; i++)
		if (kids[i] > 0 && node_add(c, t, kids[i], parent) < 0)
			return c->error;
	return 0;
}

static void fail_node(struct ckpt_ctx *c, const struct ckpt_tree_node *n, const char *comm,
		      const char *what)
{
	ckpt_fail(c, -ETIMEDOUT, "process %d (%s) %s", (int)n->pid, comm, what);
}

/*
 * Sends node n its tree request, if it may be: 1 sent (or nothing to
 * send: it is a zombie, gone, or libckpt's writer), 0 try again later,
 * <0 refused (c->err).
 */
static int ask(struct ckpt_ctx *c, struct ckpt_tree *t, struct ckpt_tree_node *n, uint64_t now)
{
	struct ckpt_tree_stat st;
	char err[CKPT_ERR_LEN];
	siginfo_t si;
	int r;

	if (ckpt_tree_stat(n->pid, &st, t->text, CKPT_TREE_TEXT) < 0) {
		n->state = TREE_NODE_GONE;
		return 1;
	}
	if (st.state == 'X') {			/* being reaped: gone */
		n->state = TREE_NODE_GONE;
		return 1;
	}
	if (st.state == 'Z') {
		n->state = TREE_NODE_ZOMBIE;	/* its parent reports how it ended */
		n->ppid = st.ppid;
		n->pgid = st.pgid;
		n->sid = st.sid;
		return 1;
	}
	/* a forked writer of an earlier checkpoint (exit signal 0): not the tree's */
	if (st.exit_signal == 0 && !__builtin_strcmp(st.comm, CKPT_WRITER_COMM)) {
		n->state = TREE_NODE_GONE;
		return 1;
	}
	r = ckpt_tree_askable(n->pid, c->ctl_sig_no, &st, t->text, CKPT_TREE_TEXT, err, sizeof(err));
	if (r == -ESRCH) {
		n->state = TREE_NODE_GONE;
		return 1;
	}
	/*
	 * No libckpt in its maps: a static program, or one caught inside
	 * execve, between its new memory and the dynamic loader's mapping
	 * (the maps show the program alone): looked at again a while.
	 */
	if (r == -ENOEXEC) {
		if (!n->asked_ns)
			n->asked_ns = now;
		if (now - n->asked_ns < EXEC_GRACE_NS)
			return 0;
		return ckpt_fail(c, -ENOTSUP, "%s", err);
	}
	if (r == -EAGAIN) {
		if (!n->asked_ns)
			n->asked_ns = now;	/* here: when it was first seen not ready */
		if (now - n->asked_ns < SETUP_TIMEOUT_NS)
			return 0;
		fail_node(c, n, st.comm, "maps libckpt but does not handle its signal (it is "
			  "starting a program, or uses another CKPT_CTL_SIGNAL); retry");
		return c->error;
	}
	if (r < 0)
		return ckpt_fail(c, r, "%s", err);
	/* a clone sharing its parent's memory without being a thread */
	if (n->parent >= 0 && syscall(SYS_kcmp, t->nodes[n->parent].pid, n->pid, KCMP_VM, 0, 0) == 0)
		return ckpt_fail(c, -ENOTSUP, "process %d (%s) shares the memory of its parent %d "
				 "(clone with CLONE_VM, not a thread): not supported", (int)n->pid,
				 st.comm, (int)t->nodes[n->parent].pid);
	memset(&si, 0, sizeof(si));
	si.si_signo = c->ctl_sig_no;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = (uid_t)arch_sys0(SYS_getuid);
	si.si_value.sival_ptr = (void *)(uintptr_t)((uint64_t)TREE_SIG_MAGIC << 32 | t->cookie);
	if (arch_sys3(SYS_rt_sigqueueinfo, n->pid, c->ctl_sig_no, &si) < 0) {
		n->state = TREE_NODE_GONE;
		return 1;
	}
	/* stopped: let it run only to park; it stops again once released */
	if (st.state == 'T') {
		n->stop_sig = SIGSTOP;
		arch_sys2(SYS_kill, n->pid, SIGCONT);
	}
	n->asked_ns = now | 1;		/* nonzero: sent */
	n->ppid = st.ppid;
	return 1;
}

/* A connection: it must come from a process asked and not yet connected, of our uid. */
static void take_conn(struct ckpt_tree *t)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	/* not accept4(): inside libckpt.so that is its own fd wrapper (wrap_fd.c) */
	int fd = (int)arch_sys4(SYS_accept4, t->sock, 0, 0, SOCK_CLOEXEC), i;

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    cred.uid != (uid_t)arch_sys0(SYS_getuid) || (i = node_find(t, cred.pid)) < 0 ||
	    t->nodes[i].state != TREE_NODE_ASKED || t->nodes[i].conn >= 0 ||
	    !(t->nodes[i].asked_ns & 1)) {
		ckpt_close(fd);
		return;
	}
	t->nodes[i].conn = fd;
	tree_own(t, fd, 1);
}

/* A PARKED message from node i (or its refusal, or its end). */
static int take_parked(struct ckpt_ctx *c, struct ckpt_tree *t, int i)
{
	struct ckpt_tree_node *n = &t->nodes[i];
	struct tree_msg *in = (struct tree_msg *)t->msg;
	ssize_t len = tree_recv(t, n->conn, 0, NULL);

	if (len == -ETIMEDOUT)
		return 0;
	if (len < 0 || tree_check(t->msg, (size_t)len, TREE_PARKED, sizeof(int32_t),
				  TREE_MAX_CHILDREN) < 0 || in->pid != n->pid)
		return ckpt_fail(c, -ECONNRESET, "process %d ended or broke off during the "
				 "checkpoint of the tree", (int)n->pid);
	if (in->status < 0)
		return ckpt_fail(c, in->status, "process %d: %s", (int)n->pid, in->err);
	n->state = TREE_NODE_PARKED;
	n->ppid = in->ppid;
	n->pgid = in->pgid;
	n->sid = in->sid;
	n->faithful = !!(in->flags & TREE_FAITHFUL);
	return nodes_add_kids(c, t, (const int32_t *)(in + 1), (int)in->count, i);
}

/* An asked node that has not answered: still there?  Too slow? */
static int check_silent(struct ckpt_ctx *c, struct ckpt_tree *t, struct ckpt_tree_node *n,
			uint64_t now)
{
	struct ckpt_tree_stat st;
	static const char *const what[] = { "running", "sleeping", "in uninterruptible sleep",
					    "stopped" };
	const char *state;

	if (ckpt_tree_stat(n->pid, &st, t->text, CKPT_TREE_TEXT) < 0) {
		if (n->conn < 0)
			n->state = TREE_NODE_GONE;	/* exited and reaped before it parked */
		return 0;
	}
	if (n->conn < 0 && st.state == 'X') {
		n->state = TREE_NODE_GONE;
		return 0;
	}
	if (n->conn < 0 && st.state == 'Z') {
		n->state = TREE_NODE_ZOMBIE;
		n->pgid = st.pgid;
		n->sid = st.sid;
		return 0;
	}
	/* asked, then it exec'd a program without libckpt (the request waits, blocked) */
	if (n->conn < 0 && now - (n->asked_ns & ~1ull) > 50000000) {
		char err[CKPT_ERR_LEN];
		int r = ckpt_tree_askable(n->pid, c->ctl_sig_no, &st, t->text, CKPT_TREE_TEXT, err,
					  sizeof(err));

		if (r < 0 && r != -EAGAIN && r != -ESRCH)
			return ckpt_fail(c, r, "%s", err);
	}
	if (now - (n->asked_ns & ~1ull) < (n->conn < 0 ? ASK_TIMEOUT_NS : PARK_TIMEOUT_NS))
		return 0;
	state = st.state == 'R' ? what[0] : st.state == 'S' ? what[1] : st.state == 'D' ? what[2] :
		st.state == 'T' ? what[3] : "in another state";
	ckpt_fail(c, -ETIMEDOUT, "process %d (%s) did not %s within %llu s (it is %s%s)",
		  (int)n->pid, st.comm, n->conn < 0 ? "answer the checkpoint request" : "park",
		  (unsigned long long)((n->conn < 0 ? ASK_TIMEOUT_NS : PARK_TIMEOUT_NS) / 1000000000),
		  state, st.state == 'D' ? ": in a system call that cannot be interrupted" : "");
	return c->error;
}

/* Asks, accepts and listens until every process asked has parked or is gone. */
static int gather(struct ckpt_ctx *c, struct ckpt_tree *t)
{
	uint64_t last_check = 0;

	for (;;) {
		uint64_t now = now_ns();
		int waiting = 0, np = 1, r;

		for (int i = 0; i < t->nnodes; i++) {
			struct ckpt_tree_node *n = &t->nodes[i];

			if (n->state != TREE_NODE_ASKED)
				continue;
			if (!(n->asked_ns & 1) && ask(c, t, n, now) < 0)
				return c->error;
			if (n->state == TREE_NODE_ASKED)
				waiting++;
		}
		if (!waiting)
			return 0;
		t->pfds[0] = (struct pollfd){ .fd = t->sock, .events = POLLIN };
		for (int i = 0; i < t->nnodes; i++)
			if (t->nodes[i].state == TREE_NODE_ASKED && t->nodes[i].conn >= 0)
				t->pfds[np++] = (struct pollfd){ .fd = t->nodes[i].conn,
								  .events = POLLIN };
		r = poll(t->pfds, (nfds_t)np, 10);
		if (r < 0 && errno != EINTR)
			return ckpt_fail(c, -errno, "poll: %s", ckpt_strerror(errno));
		if (r > 0 && (t->pfds[0].revents & POLLIN))
			take_conn(t);
		for (int k = 1; r > 0 && k < np; k++) {
			int i;

			if (!t->pfds[k].revents)
				continue;
			for (i = 0; i < t->nnodes && t->nodes[i].conn != t->pfds[k].fd; i++)
				;
			if (i < t->nnodes && take_parked(c, t, i) < 0)
				return c->error;
		}
		now = now_ns();
		if (now - last_check < 10000000)
			continue;
		last_check = now;
		for (int i = 0; i < t->nnodes; i++)
			if (t->nodes[i].state == TREE_NODE_ASKED && (t->nodes[i].asked_ns & 1) &&
			    check_silent(c, t, &t->nodes[i], now) < 0)
				return c->error;
	}
}

/*
 * Live members first, in the order they were asked (each parent before
 * its children), then zombies; the gone dropped.  parent indexes follow.
 */
static void nodes_order(struct ckpt_tree *t)
{
	int n = 0, m;

	/*
	 * A zombie seen with no parent (ppid 0: its stat read as its pid was
	 * being freed, or never read whole) is its lister's child: the
	 * process whose children list named it.
	 */
	for (int i = 1; i < t->nnodes; i++)
		if (!t->nodes[i].ppid && t->nodes[i].parent >= 0)
			t->nodes[i].ppid = t->nodes[t->nodes[i].parent].pid;

	for (int pass = 0; pass < 2; pass++) {
		int want = pass ? TREE_NODE_ZOMBIE : TREE_NODE_PARKED;

		for (int i = n; i < t->nnodes; i++) {
			if (t->nodes[i].state != want)
				continue;
			struct ckpt_tree_node x = t->nodes[i];

			/* move down, keeping the others' order */
			for (int k = i; k > n; k--)
				t->nodes[k] = t->nodes[k - 1];
			t->nodes[n++] = x;
		}
		if (!pass)
			t->nmembers = n;
	}
	t->nnodes = n;
	for (m = 0; m < t->nnodes; m++) {
		t->nodes[m].parent = m ? node_find(t, t->nodes[m].ppid) : -1;
		if (m < t->nmembers)
			t->pids[m] = t->nodes[m].pid;
	}
}

/*
 * Sessions and groups the restart can make again: each leader in the
 * tree (alive or a zombie), or the root's own, which a restart gives it
 * from ckpt-restart's.  A group or session whose leader has gone, or is
 * outside, is refused by name.
 */
static int ids_check(struct ckpt_ctx *c, struct ckpt_tree *t)
{
	const struct ckpt_tree_node *root = &t->nodes[0];

	for (int i = 1; i < t->nnodes; i++) {
		const struct ckpt_tree_node *n = &t->nodes[i];

		if (n->parent < 0)
			return ckpt_fail(c, -ENOTSUP, "process %d's parent %d is not in the tree "
					 "(it was reparented): not supported", (int)n->pid,
					 (int)n->ppid);
		if (n->pgid != root->pgid && node_find(t, n->pgid) < 0)
			return ckpt_fail(c, -ENOTSUP, "process %d is in process group %d, whose "
					 "leader has exited or is outside the tree: not supported "
					 "yet", (int)n->pid, (int)n->pgid);
		if (n->sid != root->sid && node_find(t, n->sid) < 0)
			return ckpt_fail(c, -ENOTSUP, "process %d is in session %d, whose leader "
					 "has exited or is outside the tree: not supported yet",
					 (int)n->pid, (int)n->sid);
	}
	return 0;
}

int tree_coord_parked(struct ckpt_ctx *c)
{
	struct ckpt_tree *t = c->tree;
	struct ckpt_tree_node *self;
	struct ckpt_tree_stat st;
	struct tree_msg m;
	int r, all_faithful = 1, objs = -1;

	if (ckpt_tree_stat(getpid(), &st, t->text, CKPT_TREE_TEXT) < 0)
		return ckpt_fail(c, -EIO, "cannot read /proc/self/stat");
	t->nnodes = 0;
	node_add(c, t, getpid(), -1);
	self = &t->nodes[0];
	self->state = TREE_NODE_PARKED;
	self->ppid = st.ppid;
	self->pgid = st.pgid;
	self->sid = st.sid;
	self->faithful = c->fork_ok && ckpt_fork_faithful(c);
	self->tpgid = st.tpgid;
	r = ckpt_tree_children(getpid(), t->kids, TREE_MAX_CHILDREN, t->text, CKPT_TREE_TEXT);
	if (r < 0)
		return ckpt_fail(c, r, "cannot read this process's children from /proc");
	t->nkids = r;
	if (nodes_add_kids(c, t, t->kids, r, 0) < 0 || gather(c, t) < 0)
		return c->error;
	nodes_order(t);
	if (t->nmembers > TREE_MAX_MEMBERS)
		return ckpt_fail(c, -E2BIG, "the tree has more than %d processes", TREE_MAX_MEMBERS);
	if (ids_check(c, t) < 0)
		return c->error;
	for (int i = 0; i < t->nmembers; i++)
		all_faithful &= t->nodes[i].faithful;
	t->forked = all_faithful;
	t->index = 0;
	if (t->nmembers > 1 && (objs = ckpt_tree_objs_share(c)) < 0)
		return c->error;
	/* everyone is parked: capture (invariant) */
	for (int i = 1; i < t->nmembers; i++) {
		tree_msg_init(&m, TREE_CAPTURE);
		m.index = (uint32_t)i;
		m.count = (uint32_t)t->nmembers;
		m.flags = (t->forked ? TREE_FORKED : 0) | (c->mappable ? TREE_MAPPABLE : 0);
		m.stop_sig = t->nodes[i].stop_sig;
		if ((r = tree_send(t->nodes[i].conn, &m, t->pids,
				   (size_t)t->nmembers * sizeof(int32_t), objs)) < 0) {
			ckpt_close(objs);
			return ckpt_fail(c, r, "process %d is gone", (int)t->nodes[i].pid);
		}
	}
	if (objs >= 0)
		ckpt_close(objs);
	return 0;
}

/* ---- capture, release, write ---- */

/*
 * The coordinator's own zombie children, into their nodes and (before its
 * memory is saved) wrap_wait.c's table.
 */
static void own_zombies(struct ckpt_tree *t)
{
	int nz = tree_zombies(t->kids, t->nkids, (struct tree_zombie *)t->dirbuf, TREE_MAX_ZOMBIES);

	wrap_zombies_note((struct tree_zombie *)t->dirbuf, nz);
	for (int k = 0; k < nz; k++) {
		int i = node_find(t, ((struct tree_zombie *)t->dirbuf)[k].pid);

		if (i >= 0)
			t->nodes[i].z = ((struct tree_zombie *)t->dirbuf)[k];
	}
}

/* CAPTURED from every member; the zombies they report, into their nodes. */
static int collect(struct ckpt_ctx *c, struct ckpt_tree *t)
{
	struct tree_msg *in = (struct tree_msg *)t->msg;

	for (int i = 1; i < t->nmembers; i++) {
		ssize_t n = tree_recv(t, t->nodes[i].conn, CAPTURE_TIMEOUT_MS, NULL);
		const struct tree_zombie *z = (const struct tree_zombie *)(in + 1);

		if (n < 0 || tree_check(t->msg, (size_t)n, TREE_CAPTURED, sizeof(*z),
					TREE_MAX_ZOMBIES) < 0)
			return ckpt_fail(c, -ECONNRESET, "process %d ended or broke off during the "
					 "checkpoint of the tree", (int)t->nodes[i].pid);
		if (in->status < 0)
			return ckpt_fail(c, in->status, "process %d: %s", (int)t->nodes[i].pid,
					 in->err);
		t->nodes[i].state = TREE_NODE_CAPTURED;
		for (uint32_t k = 0; k < in->count; k++) {
			int j = node_find(t, z[k].pid);

			if (j >= t->nmembers && t->nodes[j].ppid == t->nodes[i].pid)
				t->nodes[j].z = z[k];
		}
	}
	/* a zombie whose parent did not report it was reaped meanwhile: impossible, parked */
	for (int j = t->nmembers; j < t->nnodes; j++)
		if (!t->nodes[j].z.pid)
			return ckpt_fail(c, -EPROTO, "process %d exited during the checkpoint and "
					 "its parent %d did not see it: retry", (int)t->nodes[j].pid,
					 (int)t->nodes[j].ppid);
	return 0;
}

static void release(struct ckpt_tree *t, uint32_t type, const char *why)
{
	struct tree_msg m;

	for (int i = 1; i < t->nnodes; i++) {
		if (t->nodes[i].conn < 0)
			continue;
		tree_msg_init(&m, type);
		m.stop_sig = t->nodes[i].stop_sig;
		if (why)
			ckpt_fmt(m.err, sizeof(m.err), "%s", why);
		tree_send(t->nodes[i].conn, &m, NULL, 0, -1);
	}
	/* stopped processes that never got as far as to hear it */
	if (type == TREE_ABORT)
		for (int i = 1; i < t->nnodes; i++)
			if (t->nodes[i].conn < 0 && t->nodes[i].stop_sig)
				arch_sys2(SYS_kill, t->nodes[i].pid, SIGSTOP);
	t->phase = TREE_PHASE_RELEASED;
}

static int write_directory(struct ckpt_ctx *c, struct ckpt_tree *t, uint64_t *off)
{
	struct img_writer dw;
	struct img_header h;

	img_writer_init(&dw, t->img_fd, t->dirbuf, 64u << 10);
	ckpt_header_fill(c, &h, (c->hdr_flags & ~(IMG_F_INCREMENTAL | IMG_F_MEMBER)) | IMG_F_TREE);
	h.pid = t->nodes[0].pid;	/* the root (this may be its forked copy) */
	img_write_header(&dw, &h);
	for (int i = 0; i < t->nnodes; i++) {
		const struct ckpt_tree_node *n = &t->nodes[i];
		struct img_member m = { .pid = n->pid, .ppid = n->ppid, .pgid = n->pgid,
					.sid = n->sid, .section = i < t->nmembers ? i : -1 };

		if (i >= t->nmembers) {
			m.flags = IMG_MEMBER_ZOMBIE;
			m.exit_code = n->z.code;
			m.exit_status = n->z.status;
			m.ru_utime_us = n->z.ru[0];
			m.ru_stime_us = n->z.ru[1];
			m.ru_maxrss = n->z.ru[2];
			m.ru_minflt = n->z.ru[3];
			m.ru_majflt = n->z.ru[4];
			m.ru_inblock = n->z.ru[5];
			m.ru_oublock = n->z.ru[6];
			m.ru_nvcsw = n->z.ru[7];
			m.ru_nivcsw = n->z.ru[8];
		} else if (n->stop_sig) {
			m.flags = IMG_MEMBER_STOPPED;
			m.stop_sig = n->stop_sig;
		}
		/*
		 * The group the root's terminal gave itself to, if it is one the
		 * tree made (not the root's outer group: that is ckpt-restart's
		 * after a restart, foreground or not as ckpt-restart is; the
		 * root's own group, an interactive shell's, is the tree's).
		 */
		if (i < t->nmembers && t->nodes[0].tpgid > 0 && n->pgid == t->nodes[0].tpgid &&
		    (n->pgid != t->nodes[0].pgid || t->nodes[0].pgid == t->nodes[0].pid) &&
		    n->sid == t->nodes[0].sid)
			m.flags |= IMG_MEMBER_FOREGROUND;
		img_write_record(&dw, IMG_REC_MEMBER, &m, sizeof(m), NULL, 0);
	}
	img_write_end(&dw);
	if (dw.error)
		return ckpt_fail(c, dw.error, "cannot write the image: %s", ckpt_strerror(dw.error));
	*off = dw.nbytes;
	return 0;
}

/* The directory, the root's section, then each member's (GO, DONE). */
static int write_image(struct ckpt_ctx *c, struct ckpt_tree *t)
{
	struct tree_msg m, *in = (struct tree_msg *)t->msg;
	uint64_t off = 0;

	if (write_directory(c, t, &off) < 0 || tree_section_write(c, t->img_fd, &off) < 0)
		return c->error;
	for (int i = 1; i < t->nmembers; i++) {
		ssize_t n;
		int r;

		tree_msg_init(&m, TREE_GO);
		m.off = off;
		if ((r = tree_send(t->nodes[i].conn, &m, NULL, 0, t->img_fd)) < 0)
			return ckpt_fail(c, r, "process %d is gone before its turn to write",
					 (int)t->nodes[i].pid);
		n = tree_recv(t, t->nodes[i].conn, -1, NULL);
		if (n < 0 || tree_check(t->msg, (size_t)n, TREE_DONE, 1, 0) < 0)
			return ckpt_fail(c, -ECONNRESET, "process %d (or its writer) ended while it "
					 "wrote its part of the image", (int)t->nodes[i].pid);
		if (in->status < 0)
			return ckpt_fail(c, in->status, "process %d: %s", (int)t->nodes[i].pid,
					 in->err);
		if (in->off < off)
			return ckpt_fail(c, -EPROTO, "process %d wrote its part out of place",
					 (int)t->nodes[i].pid);
		off = in->off;
		c->mem_bytes += in->mem_bytes;
	}
	return 0;
}

int tree_coord_finish(struct ckpt_ctx *c, int released[2])
{
	struct ckpt_tree *t = c->tree;
	unsigned char go = 0;

	own_zombies(t);
	if (!t->forked) {
		if (collect(c, t) == 0)
			write_image(c, t);
		return c->error;
	}
	long pid = ckpt_fork_copy(c, released);

	if (pid < 0)
		return ckpt_fail(c, (int)pid, "cannot fork the copy that writes the pages: %s",
				 ckpt_strerror((int)pid));
	if (pid > 0) {
		c->forked = CKPT_FORKED_PARENT;
		if (collect(c, t) == 0)
			release(t, TREE_RELEASE, NULL);
		go = !c->error;
		/* the copy writes once everyone has captured (its nodes are ours: shared) */
		while (write(released[1], &go, 1) < 0 && errno == EINTR)
			;
		/* else why not, for the copy, which is the one to tell ckpt-save */
		while (!go && write(released[1], c->err, ckpt_strlen(c->err) + 1) < 0 &&
		       errno == EINTR)
			;
		return c->error;
	}
	while (read(released[0], &go, 1) < 0 && errno == EINTR)
		;
	t->phase = TREE_PHASE_RELEASED;		/* the parent did it */
	if (go != 1) {
		char why[CKPT_ERR_LEN];
		ssize_t n;

		do
			n = read(released[0], why, sizeof(why) - 1);
		while (n < 0 && errno == EINTR);
		why[n > 0 ? n : 0] = '\0';
		return ckpt_fail(c, -ECANCELED, "%s", why[0] ? why :
				 "the checkpoint of the tree failed");
	}
	return write_image(c, t);
}

/* Every process of the tree (members and zombies) has left: its pid is free. */
static int all_gone(const struct ckpt_tree *t)
{
	for (int i = 1; i < t->nnodes; i++)
		if (arch_sys2(SYS_kill, t->nodes[i].pid, 0) != -ESRCH)
			return 0;
	return 1;
}

/*
 * The checkpoint ends the tree (ckpt-save --exit, CKPT_ON_TERM): its
 * members are saved, and must not run on beside the image (a restart
 * needs their pids; they would act twice).  Parked, they are killed
 * before they run again; this process, about to exit too, reaps what it
 * may (its children, and orphans if it is a subreaper) until every pid of
 * the tree is free, so that the restart that follows ckpt-save finds
 * them free.  Orphans of another reaper are its to reap: waited for a
 * while, not forever.
 */
#define END_WAIT_NS		(2ull * 1000000000)

static void end_members(struct ckpt_tree *t)
{
	uint64_t until = now_ns() + END_WAIT_NS;
	struct timespec ms = { 0, 1000000 };
	siginfo_t si;

	for (int i = 1; i < t->nmembers; i++)
		arch_sys2(SYS_kill, t->nodes[i].pid, SIGKILL);
	while (!all_gone(t) && now_ns() < until) {
		si.si_pid = 0;
		if (ckpt_waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) == 0 && si.si_pid)
			continue;
		nanosleep(&ms, NULL);
	}
}

void tree_coord_end(struct ckpt_ctx *c)
{
	struct ckpt_tree *t = c->tree;

	/* one word to everyone still waiting for it (the copy: the parent said it) */
	if (t->phase != TREE_PHASE_RELEASED && c->forked != CKPT_FORKED_CHILD) {
		if (!c->error && c->exit_after)
			end_members(t);
		else
			release(t, c->error ? TREE_ABORT : TREE_RELEASE, c->error ? c->err : NULL);
	}
	for (int i = 1; i < t->nnodes; i++)
		if (t->nodes[i].conn >= 0)
			ckpt_close(t->nodes[i].conn);
	/* a failed checkpoint leaves the image as its caller made it: the sink goes */
	c->img_fd = t->img_fd;
}
