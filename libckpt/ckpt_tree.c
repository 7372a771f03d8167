/*
 * ckpt_tree.c - a process tree's checkpoint, the part every process does:
 * the messages, a member's side of the protocol, writing a section in
 * its turn, zombie children, the end (ckpt_tree.h; the coordinator's own
 * side is ckpt_tree_coord.c; the design is docs/INTERNALS.md, "Process
 * trees").
 *
 * Invariants:
 *  1. A member reads nothing of its state before CAPTURE (everyone is
 *     parked then) and runs no application code before RELEASE or ABORT
 *     (everyone has captured then): ckpt_run calls ckpt_tree_parked after
 *     its checks and releases its threads only after ckpt_tree_finish.
 *  2. Whatever fails, the coordinator hears it: a member that never got to
 *     PARKED or CAPTURED sends it with its error from ckpt_tree_end, and a
 *     member that dies closes its connection, which the coordinator takes
 *     as its refusal.
 *  3. Bytes reach the image in section order: a member writes only between
 *     GO and DONE, and the coordinator sends the next GO only after DONE.
 *
 * Runs in the signal handler: raw socket calls, bounded waits for the
 * protocol's replies (a coordinator that dies closes the sockets).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_bt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"
#include "libckpt/ckpt_tree_int.h"
#include "wrappers/wrap.h"

/* Scratch of one tree checkpoint, MAP_SHARED|MAP_NORESERVE: only what is touched costs. */
#define TS_NODES	(2u * TREE_MAX_MEMBERS * sizeof(struct ckpt_tree_node))
#define TS_PIDS		(TREE_MAX_MEMBERS * sizeof(int32_t))
#define TS_MSG		(sizeof(struct tree_msg) + TREE_MAX_ZOMBIES * sizeof(struct tree_zombie))
#define TS_OWN		(CKPT_MAX_FDS / 8)
#define TS_POLL		((TREE_MAX_MEMBERS + 1) * sizeof(struct pollfd))
#define TS_KIDS		(TREE_MAX_CHILDREN * sizeof(int32_t))
#define TS_DIRBUF	(128u << 10)	/* >= TREE_MAX_ZOMBIES zombies */
#define TS_OBJS		(CKPT_TREE_OBJS_MAX * sizeof(struct ckpt_tree_obj))

static struct ckpt_tree tree_state;	/* one tree checkpoint at a time: the save slot */

int ckpt_tree_request(const siginfo_t *info)
{
	return info->si_code == SI_QUEUE && info->si_pid > 0 &&
	       (uint64_t)(uintptr_t)info->si_value.sival_ptr >> 32 == TREE_SIG_MAGIC;
}

/*
 * The scratch, shared with a forked copy (the coordinator's copy writes
 * the directory from the nodes its parent completes meanwhile).  Like
 * ckpt_map_anon: never locked by mlockall(MCL_FUTURE).
 */
static int tree_scratch_map(struct ckpt_ctx *c, struct ckpt_tree *t)
{
	size_t len = TS_NODES + TS_PIDS + TS_MSG + TS_OWN + TS_POLL + TS_KIDS + TS_DIRBUF +
		     TS_OBJS + CKPT_TREE_TEXT;
	long p;
	unsigned char *q;

	len = (len + 4 * IMG_PAGE_SIZE) & ~(size_t)(IMG_PAGE_SIZE - 1);
	p = arch_sys6(SYS_mmap, 0, len, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (p < 0 && p > -4096)
		return ckpt_fail(c, (int)p, "cannot map %zu bytes of scratch for the tree: %s",
				 len, ckpt_strerror((int)-p));
	arch_sys2(SYS_munlock, p, len);
	if (arch_sys3(SYS_mprotect, p, len, PROT_READ | PROT_WRITE) < 0) {
		arch_sys2(SYS_munmap, p, len);
		return ckpt_fail(c, -ENOMEM, "cannot map the tree's scratch");
	}
	t->scratch = q = (unsigned char *)p;
	t->scratch_len = len;
	t->nodes = (struct ckpt_tree_node *)q;
	q += TS_NODES;
	t->pids = (int32_t *)q;
	q += TS_PIDS;
	t->msg = q;
	q += (TS_MSG + 7) & ~(size_t)7;
	t->own = q;
	q += TS_OWN;
	t->pfds = (struct pollfd *)q;
	q += TS_POLL;
	t->kids = (int32_t *)q;
	q += TS_KIDS;
	t->dirbuf = q;
	q += TS_DIRBUF;
	t->objs = (struct ckpt_tree_obj *)q;
	q += TS_OBJS;
	t->text = (char *)q;
	return 0;
}

int ckpt_tree_own_fd(const struct ckpt_ctx *c, int fd)
{
	const struct ckpt_tree *t = c->tree;

	if (!t)
		return 0;
	if (fd == t->sock || fd == t->sink || (t->coord && fd == t->img_fd))
		return 1;
	return t->own && fd >= 0 && fd < CKPT_MAX_FDS && (t->own[fd / 8] & (1u << (fd % 8)));
}

int ckpt_tree_scratch(const struct ckpt_ctx *c, uint64_t *a, uint64_t *b)
{
	if (!c->tree || !c->tree->scratch)
		return 0;
	*a = (uintptr_t)c->tree->scratch;
	*b = *a + c->tree->scratch_len;
	return 1;
}

void tree_own(struct ckpt_tree *t, int fd, int own)
{
	if (fd < 0 || fd >= CKPT_MAX_FDS)
		return;
	if (own)
		t->own[fd / 8] |= (uint8_t)(1u << (fd % 8));
	else
		t->own[fd / 8] &= (uint8_t)~(1u << (fd % 8));
}

void tree_msg_init(struct tree_msg *m, uint32_t type)
{
	memset(m, 0, sizeof(*m));
	m->magic = TREE_MSG_MAGIC;
	m->type = type;
	m->pid = (int32_t)getpid();
}

int tree_send(int fd, const struct tree_msg *m, const void *extra, size_t len, int pass)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov[2] = { { (void *)m, sizeof(*m) }, { (void *)extra, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	if (pass >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof(ctl.b);
		ctl.h.cmsg_level = SOL_SOCKET;
		ctl.h.cmsg_type = SCM_RIGHTS;
		ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&ctl.h), &pass, sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * One message into t->msg: its length, -ETIMEDOUT after timeout_ms (-1:
 * no limit), -ECONNRESET when the peer closed.  An fd that came with it
 * goes to *pass (CLOEXEC), else -1 there (pass may be NULL: then none is
 * wanted, and one that came is closed).
 */
ssize_t tree_recv(struct ckpt_tree *t, int fd, int timeout_ms, int *pass)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { t->msg, TS_MSG };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			      .msg_controllen = sizeof(ctl.b) };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct cmsghdr *cm;
	ssize_t n;
	int got = -1;

	if (pass)
		*pass = -1;
	for (;;) {
		int r = poll(&pfd, 1, timeout_ms);

		if (r > 0)
			break;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -ECONNRESET : -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&got, CMSG_DATA(cm), sizeof(int));
	if (got >= 0 && !pass)
		ckpt_close(got);
	else if (pass)
		*pass = got;
	if (n == 0)
		return -ECONNRESET;
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (pass && *pass >= 0)
			ckpt_close(*pass);
		return -EPROTO;
	}
	return n;
}

/* Whether pid is this process's parent, grandparent... (a coordinator must be). */
static int is_ancestor(pid_t pid)
{
	char buf[1024];
	struct ckpt_tree_stat st;
	pid_t p = (pid_t)arch_sys0(SYS_getppid);

	for (int depth = 0; p > 1 && depth < 4096; depth++) {
		if (p == pid)
			return 1;
		if (ckpt_tree_stat(p, &st, buf, sizeof(buf)) < 0)
			return 0;
		p = st.ppid;
	}
	return p == pid;
}

int ckpt_tree_member(struct ckpt_ctx *c, const siginfo_t *info)
{
	struct ckpt_tree *t = &tree_state;
	struct sockaddr_un sun;
	struct ucred cred;
	socklen_t clen = sizeof(cred), len;
	pid_t coord = info->si_pid;
	int s, r;

	memset(t, 0, sizeof(*t));
	t->sock = t->sink = t->img_fd = -1;
	t->cookie = (uint32_t)(uintptr_t)info->si_value.sival_ptr;
	if (!is_ancestor(coord))
		return -EPERM;		/* only an ancestor may ask for our memory */
	s = (int)arch_sys3(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return s;
	len = tree_sock_name(&sun, coord, t->cookie);
	if (connect(s, (struct sockaddr *)&sun, len) < 0 ||
	    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		r = -errno;
		ckpt_close(s);
		return r;
	}
	/* the listener is the process that asked, and runs as we do */
	if (cred.pid != coord || cred.uid != (uid_t)arch_sys0(SYS_getuid)) {
		ckpt_close(s);
		return -EPERM;
	}
	t->sock = s;
	t->sink = (int)arch_sys2(SYS_memfd_create, "libckpt-section", MFD_CLOEXEC);
	c->tree = t;
	c->ctl_fd = s;
	/* a process that protects its memory (not dumpable) gives it to no one */
	if (arch_sys2(SYS_prctl, PR_GET_DUMPABLE, 0) != 1) {
		char why[160];

		ckpt_fmt(why, sizeof(why), "process %d is not dumpable (a set-id program, or it "
			 "set PR_SET_DUMPABLE to 0): it cannot be saved with the tree", getpid());
		ckpt_tree_refuse(c, -EPERM, why);
		return -EPERM;
	}
	if (t->sink < 0) {
		r = t->sink;
		ckpt_tree_refuse(c, r, "cannot make a memfd for its part of the image");
		return r;
	}
	c->img_fd = t->sink;
	c->incremental = 0;
	c->hdr_flags &= ~IMG_F_INCREMENTAL;
	if ((r = tree_scratch_map(c, t)) < 0) {
		ckpt_tree_refuse(c, r, c->err);
		return r;
	}
	return 0;
}

void ckpt_tree_refuse(struct ckpt_ctx *c, int err, const char *why)
{
	if (!c->tree)
		return;
	ckpt_fail(c, err, "%s", why);
	ckpt_tree_end(c);
}

/* ---- a member ---- */

/* PARKED, then CAPTURE (or ABORT): the member's part of the one cut. */
static int member_parked(struct ckpt_ctx *c, struct ckpt_tree *t)
{
	struct tree_msg m, *in = (struct tree_msg *)t->msg;
	struct ckpt_tree_stat st;
	ssize_t n;
	int r, objs = -1;

	tree_msg_init(&m, TREE_PARKED);
	if (ckpt_tree_stat(getpid(), &st, t->text, CKPT_TREE_TEXT) < 0)
		return ckpt_fail(c, -EIO, "cannot read /proc/self/stat");
	m.ppid = st.ppid;
	m.pgid = st.pgid;
	m.sid = st.sid;
	m.flags = c->fork_ok && ckpt_fork_faithful(c) ? TREE_FAITHFUL : 0;
	/* read now that no thread of ours can fork: the tree below us is whole */
	r = ckpt_tree_children(getpid(), t->kids, TREE_MAX_CHILDREN, t->text, CKPT_TREE_TEXT);
	if (r < 0)
		return ckpt_fail(c, r, r == -E2BIG ? "the process has more than %d children" :
				 "cannot read its children from /proc (%d)", TREE_MAX_CHILDREN);
	t->nkids = r;
	m.count = (uint32_t)r;
	t->phase = TREE_PHASE_PARKED;
	if ((r = tree_send(t->sock, &m, t->kids, (size_t)r * sizeof(int32_t), -1)) < 0)
		return ckpt_fail(c, r, "the tree's coordinator is gone: %s", ckpt_strerror(r));
	n = tree_recv(t, t->sock, TREE_WAIT_MS, &objs);
	if (objs >= 0 && (n < 0 || tree_check(t->msg, (size_t)n, TREE_CAPTURE, sizeof(int32_t),
					      TREE_MAX_MEMBERS) < 0)) {
		ckpt_close(objs);
		objs = -1;
	}
	if (n > 0 && tree_check(t->msg, (size_t)n, TREE_ABORT, 1, 0) == 0) {
		t->phase = TREE_PHASE_RELEASED;
		return ckpt_fail(c, -ECANCELED, "the checkpoint of the tree failed: %s", in->err);
	}
	if (n < 0)
		t->phase = TREE_PHASE_RELEASED;	/* nobody left to tell */
	if (n < 0 || tree_check(t->msg, (size_t)n, TREE_CAPTURE, sizeof(int32_t),
				TREE_MAX_MEMBERS) < 0 ||
	    in->index == 0 || in->index >= in->count || in->status)
		return ckpt_fail(c, n < 0 ? (int)n : -EPROTO, "no word from the tree's coordinator: %s",
				 ckpt_strerror(n < 0 ? (int)n : -EPROTO));
	t->index = (int)in->index;
	t->nmembers = (int)in->count;
	if (objs < 0)
		return ckpt_fail(c, -EPROTO, "the tree's coordinator sent no table of files");
	r = tree_objs_take(c, t, objs);
	ckpt_close(objs);
	if (r < 0)
		return r;
	t->forked = !!(in->flags & TREE_FORKED);
	if (in->flags & TREE_MAPPABLE) {
		c->mappable = 1;
		c->hdr_flags |= IMG_F_MAPPABLE;
	}
	t->stop_sig = in->stop_sig;
	memcpy(t->pids, in + 1, (size_t)in->count * sizeof(int32_t));
	/*
	 * Shared anonymous memory an earlier member maps too is saved there:
	 * ours is a mapping of it, without pages (IMG_VMA_TREESHM).
	 */
	for (int i = 0; i < c->nvmas; i++) {
		struct ckpt_vma *v = &c->vmas[i];

		if ((v->flags & (IMG_VMA_SHARED | IMG_VMA_ANON)) != (IMG_VMA_SHARED | IMG_VMA_ANON) ||
		    v->byid != CKPT_BYID_NONE || v->backed)
			continue;
		r = ckpt_tree_shm(c, v->dev, v->ino, v->pgoff, v->end - v->start);
		if (r < 0)
			return r;
		if (r == 1)
			v->flags = (v->flags | IMG_VMA_TREESHM) & ~IMG_VMA_PAGES;
	}
	return 0;
}

int ckpt_tree_parked(struct ckpt_ctx *c)
{
	return c->tree->coord ? tree_coord_parked(c) : member_parked(c, c->tree);
}

/* Its children that are zombies now, with status and rusage, into out: their number. */
int tree_zombies(const int32_t *kids, int nkids, struct tree_zombie *out, int max)
{
	int n = 0;

	for (int i = 0; i < nkids && n < max; i++) {
		siginfo_t si;
		struct rusage ru;

		memset(&si, 0, sizeof(si));
		/* WNOWAIT: it stays a zombie; the rusage wait4 would report */
		if (arch_sys5(SYS_waitid, P_PID, kids[i], &si, WEXITED | WNOHANG | WNOWAIT, &ru) < 0 ||
		    si.si_pid != kids[i])
			continue;
		out[n] = (struct tree_zombie){ .pid = kids[i], .code = si.si_code,
					       .status = si.si_status };
		out[n].ru[0] = (uint64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
		out[n].ru[1] = (uint64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
		out[n].ru[2] = (uint64_t)ru.ru_maxrss;
		out[n].ru[3] = (uint64_t)ru.ru_minflt;
		out[n].ru[4] = (uint64_t)ru.ru_majflt;
		out[n].ru[5] = (uint64_t)ru.ru_inblock;
		out[n].ru[6] = (uint64_t)ru.ru_oublock;
		out[n].ru[7] = (uint64_t)ru.ru_nvcsw;
		out[n].ru[8] = (uint64_t)ru.ru_nivcsw;
		n++;
	}
	return n;
}

static int write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p = (const char *)p + k;
		n -= (size_t)k;
	}
	return 0;
}

int tree_section_write(struct ckpt_ctx *c, int fd, uint64_t *off)
{
	static const unsigned char zeros[IMG_PAGE_SIZE];
	size_t pad = (size_t)(-*off & (IMG_PAGE_SIZE - 1));
	int r;

	/* every section starts on a page: its mappable pages stay aligned */
	if ((r = write_all(fd, zeros, pad)) < 0)
		return ckpt_fail(c, r, "cannot write the image: %s", ckpt_strerror(r));
	if ((r = img_writer_move(&c->w, fd)) < 0)
		return ckpt_fail(c, r, "cannot write the image: %s", ckpt_strerror(r));
	if (ckpt_bt_write(c) == 0 && ckpt_maps_write(c) == 0 && ckpt_mem_write(c) == 0)
		img_write_end(&c->w);
	if (!c->error && c->w.error)
		ckpt_fail(c, c->w.error, "cannot write the image: %s", ckpt_strerror(c->w.error));
	*off += pad + c->w.nbytes;
	return c->error;
}

/* GO (with the image), the section, DONE.  The wait is unbounded: those before may be slow. */
static int member_write(struct ckpt_ctx *c, struct ckpt_tree *t)
{
	struct tree_msg m, *in = (struct tree_msg *)t->msg;
	uint64_t off;
	ssize_t n;
	int fd, r;

	n = tree_recv(t, t->sock, -1, &fd);
	if (n > 0 && tree_check(t->msg, (size_t)n, TREE_ABORT, 1, 0) == 0) {
		t->phase = TREE_PHASE_RELEASED;
		return ckpt_fail(c, -ECANCELED, "the checkpoint of the tree failed: %s", in->err);
	}
	if (n < 0 || tree_check(t->msg, (size_t)n, TREE_GO, 1, 0) < 0 || fd < 0) {
		if (fd >= 0)
			ckpt_close(fd);
		t->phase = TREE_PHASE_RELEASED;
		return ckpt_fail(c, -EPROTO, "the tree's coordinator stopped before this "
				 "process's turn to write");
	}
	off = in->off;
	r = tree_section_write(c, fd, &off);
	ckpt_close(fd);
	tree_msg_init(&m, TREE_DONE);
	m.status = r;
	m.off = off;
	m.mem_bytes = c->mem_bytes;
	if (r < 0)
		ckpt_fmt(m.err, sizeof(m.err), "%s", c->err);
	tree_send(t->sock, &m, NULL, 0, -1);
	return r;
}

/* RELEASE or ABORT: 1 or 0; -errno if neither came. */
static int member_release(struct ckpt_tree *t)
{
	ssize_t n = tree_recv(t, t->sock, -1, NULL);

	t->phase = TREE_PHASE_RELEASED;
	if (n > 0 && tree_check(t->msg, (size_t)n, TREE_RELEASE, 1, 0) == 0)
		return 1;
	return n < 0 ? (int)n : 0;
}

static int member_finish(struct ckpt_ctx *c, struct ckpt_tree *t, int released[2])
{
	const size_t zsize = sizeof(struct tree_zombie);
	struct tree_msg m;
	int nz = tree_zombies(t->kids, t->nkids, (struct tree_zombie *)t->dirbuf,
			      TREE_MAX_ZOMBIES), r;

	/* before the memory is saved: the restarted copy's wait() finds them (wrap_wait.c) */
	wrap_zombies_note((struct tree_zombie *)t->dirbuf, nz);
	tree_msg_init(&m, TREE_CAPTURED);
	m.count = (uint32_t)nz;
	if (t->forked) {
		long pid = ckpt_fork_copy(c, released);

		if (pid < 0) {
			ckpt_fail(c, (int)pid, "cannot fork the copy that writes the pages: %s",
				  ckpt_strerror((int)pid));
		} else if (pid > 0) {
			unsigned char go;

			c->forked = CKPT_FORKED_PARENT;
			t->phase = TREE_PHASE_CAPTURED;
			if ((r = tree_send(t->sock, &m, t->dirbuf, nz * zsize, -1)) < 0)
				ckpt_fail(c, r, "the tree's coordinator is gone");
			r = r < 0 ? r : member_release(t);
			go = r == 1;
			/* the copy writes only after a RELEASE (invariant 1) */
			write_all(released[1], &go, 1);
			if (r != 1)
				ckpt_fail(c, -ECANCELED, "the checkpoint of the tree failed");
			return c->error;
		} else {
			unsigned char go = 0;

			/* the copy: wait for the parent's word, then for its turn */
			while (read(released[0], &go, 1) < 0 && errno == EINTR)
				;
			t->phase = TREE_PHASE_RELEASED;
			if (go != 1)
				return ckpt_fail(c, -ECANCELED, "the checkpoint of the tree failed");
			return member_write(c, t);
		}
		/* fork failed: CAPTURED says so, the coordinator aborts */
		m.status = c->error;
		ckpt_fmt(m.err, sizeof(m.err), "%s", c->err);
		t->phase = TREE_PHASE_CAPTURED;
		tree_send(t->sock, &m, NULL, 0, -1);
		member_release(t);
		return c->error;
	}
	t->phase = TREE_PHASE_CAPTURED;
	if ((r = tree_send(t->sock, &m, t->dirbuf, nz * zsize, -1)) < 0)
		return ckpt_fail(c, r, "the tree's coordinator is gone");
	member_write(c, t);
	r = t->phase == TREE_PHASE_RELEASED ? 0 : member_release(t);
	if (r != 1 && !c->error)
		ckpt_fail(c, -ECANCELED, "the checkpoint of the tree failed");
	return c->error;
}

int ckpt_tree_finish(struct ckpt_ctx *c, int released[2])
{
	struct ckpt_tree *t = c->tree;

	return t->coord ? tree_coord_finish(c, released) : member_finish(c, t, released);
}

/* Whatever was not said yet (invariant 2); stop again; let go of everything. */
void ckpt_tree_end(struct ckpt_ctx *c)
{
	struct ckpt_tree *t = c->tree;
	struct tree_msg m;

	if (!t || t->ended)
		return;
	t->ended = 1;
	/* the process that goes on reaps its zombies as the kernel says */
	if (c->forked != CKPT_FORKED_CHILD)
		wrap_zombies_forget();
	if (t->coord) {
		tree_coord_end(c);
	} else if (c->forked != CKPT_FORKED_CHILD && t->phase < TREE_PHASE_CAPTURED &&
		   t->sock >= 0) {
		/* failed before it could say so in the protocol's order */
		tree_msg_init(&m, t->phase == TREE_PHASE_NONE ? TREE_PARKED : TREE_CAPTURED);
		m.status = c->error ? c->error : -EIO;
		ckpt_fmt(m.err, sizeof(m.err), "%s", c->err[0] ? c->err : "it failed");
		tree_send(t->sock, &m, NULL, 0, -1);
		if (t->phase == TREE_PHASE_PARKED)
			member_release(t);	/* wait: the others must not run before us */
	}
	/*
	 * Stopped when it was asked: stopped again before its threads run
	 * (the stop takes them on their way out of the handler).
	 */
	if (!t->coord && t->stop_sig && c->forked != CKPT_FORKED_CHILD)
		arch_sys2(SYS_kill, getpid(), SIGSTOP);
	if (t->sock >= 0)
		ckpt_close(t->sock);
	if (t->sink >= 0)
		ckpt_close(t->sink);
	t->sock = t->sink = -1;
	if (t->scratch)
		arch_sys2(SYS_munmap, t->scratch, t->scratch_len);
	t->scratch = NULL;
	c->tree = NULL;
}

struct ckpt_tree *tree_self(void)
{
	return &tree_state;
}

int tree_scratch(struct ckpt_ctx *c, struct ckpt_tree *t)
{
	return tree_scratch_map(c, t);
}
