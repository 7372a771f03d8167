/*
 * fd_mqueue.c - POSIX message queues (mq_open): an fd on an inode of the
 * mqueue file system of the process's IPC namespace, named ("/name", or
 * "/name (deleted)" once mq_unlink()ed).
 *
 * What a queue is: its name, attributes (mq_maxmsg, mq_msgsize; the fd's
 * O_NONBLOCK is the description's, in its flags), owner and mode, every
 * message with its priority in the order mq_receive() gives them, and
 * the process's mq_notify() registration (SIGEV_SIGNAL with its signal
 * and sigev_value, or SIGEV_NONE).  The first FILE of a queue (by dev and
 * ino; later ones name it in same_as) carries the messages, in one
 * MQ_MSGS record right after it, and the registration.
 *
 * Reading the messages.  The kernel has no peek for POSIX queues (reading
 * the fd gives the queue's status line: "QSIZE:... NOTIFY:... SIGNO:...
 * NOTIFY_PID:..."), so the checkpoint takes them and puts them back: on a
 * description of its own (an open of /proc/self/fd/N, O_RDWR|O_NONBLOCK:
 * the process's may be one-way or blocking), every message received
 * (highest priority first, oldest first within one), then each sent back
 * in that order, which is the same order again; then the MQ_MSGS record.
 * Sending to an empty queue would fire a notification, so the process's
 * own registration is taken off first and put back after (its sigevent
 * comes from the mq_notify wrapper: wrappers/wrap_ipc.c).  The other
 * threads are parked; a process outside that sends or receives meanwhile
 * could interleave (docs/SUPPORT.md).
 *
 * Refused: a registration of another process (filling the queue again
 * would notify it, and a restart could not register it), one made with
 * SIGEV_THREAD (glibc's helper thread and netlink socket), or one made
 * behind libc's back (its sigev_value is unknown); messages the process
 * has no right to take and put back (the queue's mode); more than 32 MiB
 * of messages.
 *
 * Restart (ckpt-restart's child, the restored process): a queue of that
 * name whose inode is the one saved (a crash: queues outlive processes)
 * is reused, emptied and filled with the saved messages; a free name is
 * made again (O_CREAT|O_EXCL, the saved attributes, 0600, as the image's
 * user), a deleted queue under a random name unlinked at once; another
 * queue under the name is refused, exit 4, naming it.  Every description
 * is a reopen of it with its flags; then the mode and owner, then the
 * registration (mq_notify by the restored process: it is its owner).
 * Under ckpt-run --ipcns the queue is in the image's new IPC namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

#define MQ_SUFFIX	" (deleted)"

static int mq_valid(const struct img_file *f, const char *path, const void *data, char *err,
		    size_t len)
{
	const struct img_file_mqueue *m = data;
	size_t n = f->path_len, suf = sizeof(MQ_SUFFIX) - 1;

	if (f->data_len != sizeof(*m)) {
		snprintf(err, len, "%u bytes of kind data, want %zu", f->data_len, sizeof(*m));
		return -1;
	}
	if (n > suf && !memcmp(path + n - suf, MQ_SUFFIX, suf))
		n -= suf;
	if (n < 2 || n > 256 || path[0] != '/' || memchr(path + 1, '/', n - 1) ||
	    (f->flags & ~(uint32_t)(O_ACCMODE | O_NONBLOCK)) || (f->flags & O_ACCMODE) == O_ACCMODE ||
	    (f->mode & ~0777u) != S_IFREG || (m->flags & ~IMG_IPC_NS) ||
	    m->maxmsg < 1 || m->maxmsg > IMG_MQ_MAXMSG || m->msgsize < 1 ||
	    m->msgsize > IMG_MQ_MSGSIZE ||
	    (m->notify == IMG_MQ_NOTIFY_NONE ? m->signo || m->sigval :
	     m->same_as || (m->notify != IMG_SIGEV_SIGNAL && m->notify != IMG_SIGEV_NONE) ||
	     (m->notify == IMG_SIGEV_SIGNAL ? m->signo < 1 || m->signo > IMG_NSIG :
	      m->signo || m->sigval))) {
		snprintf(err, len, "name of %zu bytes, flags %#o, mode %#o, ipc flags %#x, maxmsg "
			 "%lld, msgsize %lld, notify %d, signal %d", n, f->flags, f->mode, m->flags,
			 (long long)m->maxmsg, (long long)m->msgsize, m->notify, m->signo);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_mqueue_info = { IMG_FILE_MQUEUE, "POSIX message queue", mq_valid };

#ifdef FD_SAVE
#include <mqueue.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/reg.h"

#define MQUEUE_MAGIC	0x19800202
#define MQ_WORK		(32u << 20)	/* c->mbuf: the messages of one queue */

static int mq_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	struct statfs sf;

	return S_ISREG(p->st.st_mode) && !(p->flags & O_PATH) && p->path[0] == '/' &&
	       fstatfs(p->fd, &sf) == 0 && (uint32_t)sf.f_type == MQUEUE_MAGIC;
}

/* What the queue's status line and attributes say. */
struct mq_state {
	int fd;				/* the process's fd, or a description of libckpt's own */
	int own;			/* fd is libckpt's (mq_release closes it) */
	int rw;				/* fd can receive and send */
	struct mq_attr attr;
	int notify, signo, npid;	/* NOTIFY, SIGNO, NOTIFY_PID (0: none) */
};

static int mq_field(const char *s, const char *name)
{
	const char *p = __builtin_strstr(s, name);

	if (!p)
		return 0;
	p += ckpt_strlen(name);
	return (int)ckpt_parse_dec(&p);
}

/*
 * The registration of this process on p's queue again, from the mq_notify
 * wrapper's record, through the process's own fd: a close of ANY fd of a
 * queue by the process that registered removes its registration (the
 * kernel's mqueue_flush_file), libckpt's own descriptors included.  -1
 * when none was recorded.
 */
static int mq_renotify(const struct fd_probe *p)
{
	struct sigevent ev;
	int notify, signo;
	uint64_t value;

	if (reg_mq_notify_get(p->st.st_dev, p->st.st_ino, &notify, &signo, &value) < 0)
		return -1;
	__builtin_memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = notify;
	ev.sigev_signo = signo;
	ev.sigev_value.sival_ptr = (void *)(uintptr_t)value;
	return arch_sys2(SYS_mq_notify, p->fd, &ev) < 0 ? -1 : 0;
}

/*
 * A description to read the queue through and its state: the process's
 * own fd when it can (rw: read and write; else read), which nothing then
 * closes; else one of libckpt's own (an open of /proc/self/fd/N,
 * O_NONBLOCK).  0 or -errno.
 */
static int mq_state(const struct fd_probe *p, int rw, struct mq_state *q)
{
	uint32_t acc = p->flags & O_ACCMODE;
	char name[64], buf[160];
	long n;

	q->own = 0;
	q->fd = p->fd;
	q->rw = acc == O_RDWR;
	if (rw ? !q->rw : acc == O_WRONLY) {
		ckpt_fmt(name, sizeof(name), "/proc/self/fd/%d", p->fd);
		q->fd = ckpt_open(name, (rw ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC, 0);
		if (q->fd < 0)
			return -errno;
		q->own = 1;
		q->rw = rw;
	}
	if (arch_sys3(SYS_mq_getsetattr, q->fd, 0, &q->attr) < 0 ||
	    (n = arch_sys4(SYS_pread64, q->fd, buf, sizeof(buf) - 1, 0)) < 0) {
		if (q->own)
			ckpt_close(q->fd);
		return -EIO;
	}
	buf[n] = '\0';
	q->npid = mq_field(buf, "NOTIFY_PID:");
	q->notify = mq_field(buf, "NOTIFY:");
	q->signo = mq_field(buf, "SIGNO:");
	return 0;
}

/* Our own description closed, and the registration that close removed made again. */
static void mq_release(const struct fd_probe *p, struct mq_state *q, int ours)
{
	if (!q->own)
		return;
	ckpt_close(q->fd);
	if (ours)
		mq_renotify(p);
}

static int mq_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	struct mq_state q;
	int r = mq_state(p, 0, &q), notify, signo, ours, known;
	uint64_t value;

	if (r < 0)
		return ckpt_fail(c, r, "fd %d: POSIX message queue %s: cannot read its state to "
				 "save it (%s): the process needs read permission on it%s", p->fd,
				 p->path, ckpt_strerror(-r), p->origin);
	ours = q.npid && q.npid == (int)arch_sys0(SYS_getpid);
	known = reg_mq_notify_get(p->st.st_dev, p->st.st_ino, &notify, &signo, &value) == 0;
	mq_release(p, &q, ours);
	if (q.npid && !ours)
		return ckpt_fail(c, -ENOTSUP, "fd %d: POSIX message queue %s: process %d is "
				 "registered for its notifications (mq_notify); a restart could not "
				 "register it again, and putting the saved messages back would "
				 "notify it%s", p->fd, p->path, q.npid, p->origin);
	if (ours && q.notify == SIGEV_THREAD)
		return ckpt_fail(c, -ENOTSUP, "fd %d: POSIX message queue %s: the process is "
				 "registered for its notifications with SIGEV_THREAD (mq_notify), "
				 "which runs through glibc's helper thread and netlink socket: not "
				 "supported; use SIGEV_SIGNAL%s", p->fd, p->path, p->origin);
	if (ours && !known)
		return ckpt_fail(c, -ENOTSUP, "fd %d: POSIX message queue %s: the process registered "
				 "for its notifications behind libc's back (no mq_notify() call "
				 "seen), so its sigev_value is unknown%s%s", p->fd, p->path,
				 q.own ? " (and reading the queue's state through a descriptor of "
				 "libckpt's own removed that registration)" : "", p->origin);
	if ((uint64_t)q.attr.mq_curmsgs * ((uint64_t)q.attr.mq_msgsize + 16) > MQ_WORK)
		return ckpt_fail(c, -E2BIG, "fd %d: POSIX message queue %s may hold %ld messages "
				 "of up to %ld bytes; libckpt saves at most %u MiB of one queue%s",
				 p->fd, p->path, q.attr.mq_curmsgs, q.attr.mq_msgsize, MQ_WORK >> 20,
				 p->origin);
	/* messages are read by taking them and putting them back: both ways */
	if (q.attr.mq_curmsgs && (r = mq_state(p, 1, &q)) < 0)
		return ckpt_fail(c, -EACCES, "fd %d: POSIX message queue %s holds %ld messages, "
				 "which libckpt reads by taking them and putting them back: the "
				 "process needs read and write permission on it%s", p->fd, p->path,
				 q.attr.mq_curmsgs, p->origin);
	if (q.attr.mq_curmsgs)
		mq_release(p, &q, ours);
	return 0;
}

static int mq_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
		   void *data, size_t cap)
{
	struct img_file_mqueue m = { .same_as = ckpt_fds_first(c, p->st.st_dev, p->st.st_ino),
				     .flags = ckpt_ipc_ns_flag(), .uid = p->st.st_uid,
				     .gid = p->st.st_gid, .notify = IMG_MQ_NOTIFY_NONE };
	struct mq_state q;
	int notify, signo, ours;
	uint64_t value;

	if (mq_state(p, 0, &q) < 0)
		return ckpt_fail(c, -EIO, "fd %d: POSIX message queue %s: cannot read its state",
				 p->fd, p->path);
	ours = q.npid && q.npid == (int)arch_sys0(SYS_getpid);
	mq_release(p, &q, ours);
	m.maxmsg = q.attr.mq_maxmsg;
	m.msgsize = q.attr.mq_msgsize;
	if (!m.same_as && ours &&
	    reg_mq_notify_get(p->st.st_dev, p->st.st_ino, &notify, &signo, &value) == 0) {
		m.notify = notify;
		m.signo = notify == SIGEV_SIGNAL ? signo : 0;
		m.sigval = notify == SIGEV_SIGNAL ? value : 0;
	}
	f->pos = 0;
	__builtin_memcpy(data, &m, sizeof(m));
	return sizeof(m);
}

/*
 * The messages, taken from the queue into c->mbuf as the record's tail and
 * put back in the same order, then the MQ_MSGS record.  The process's
 * registration (the check refused any other) is taken off first, or
 * sending to the emptied queue would fire it, and made again at the end.
 */
static int mq_contents(struct ckpt_ctx *c, const struct fd_probe *p, const struct img_file *f)
{
	struct img_mq_msgs h = { .file = f->id };
	struct timespec zero = { 0, 0 };
	unsigned char *buf = c->mbuf;
	struct mq_state q;
	size_t at = 0;
	int ours, r = 0;
	long n;

	if (ckpt_fds_first(c, p->st.st_dev, p->st.st_ino))
		return 0;		/* the first FILE of this queue holds them */
	if (mq_state(p, 0, &q) < 0)
		return ckpt_fail(c, -EIO, "fd %d: POSIX message queue %s: cannot read its state",
				 p->fd, p->path);
	ours = q.npid && q.npid == (int)arch_sys0(SYS_getpid);
	mq_release(p, &q, ours);
	if (q.attr.mq_curmsgs && mq_state(p, 1, &q) < 0)
		return ckpt_fail(c, -EACCES, "fd %d: POSIX message queue %s: cannot open it to read "
				 "its messages", p->fd, p->path);
	if (q.attr.mq_curmsgs && ours)
		arch_sys2(SYS_mq_notify, p->fd, 0);
	while (q.attr.mq_curmsgs && at + 16 + (size_t)q.attr.mq_msgsize <= MQ_WORK) {
		struct img_mq_msg mh;
		unsigned prio = 0;

		n = arch_sys5(SYS_mq_timedreceive, q.fd, buf + at + sizeof(mh),
			      q.attr.mq_msgsize, &prio, &zero);
		if (n < 0)
			break;
		mh.prio = prio;
		mh.len = (uint32_t)n;
		__builtin_memcpy(buf + at, &mh, sizeof(mh));
		at += sizeof(mh) + (size_t)n;
		while (at % 8)
			buf[at++] = 0;
		h.nmsgs++;
		h.bytes += (uint64_t)n;
	}
	/* back in the order taken: per priority, oldest first again */
	for (size_t k = 0, i = 0; !r && i < h.nmsgs; i++) {
		const void *text;
		uint64_t len;
		uint32_t prio;
		int64_t type;

		k += img_ipc_msg_next(buf + k, 1, &type, &prio, &text, &len);
		n = arch_sys5(SYS_mq_timedsend, q.fd, text, len, prio, &zero);
		if (n < 0)
			r = ckpt_fail(c, (int)n, "fd %d: POSIX message queue %s: could not put message "
				      "%u of %u back after reading it (%s): another process sent to the "
				      "queue meanwhile", p->fd, p->path, (unsigned)i + 1, h.nmsgs,
				      ckpt_strerror((int)-n));
	}
	if (q.attr.mq_curmsgs) {
		mq_release(p, &q, 0);
		if (ours)
			mq_renotify(p);
	}
	if (r < 0)
		return r;
	return img_write_record(&c->w, IMG_REC_MQ_MSGS, &h, sizeof(h), buf, at) < 0 ? c->w.error : 0;
}

const struct fd_save_ops fd_mqueue_save = { .kind = IMG_FILE_MQUEUE, .match = mq_match,
					    .check = mq_check, .save = mq_save,
					    .contents = mq_contents };
#endif

#ifdef FD_RESTORE
#include <mqueue.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "restart/rst.h"

static const struct img_file_mqueue *mq_of(const struct rst_file *f)
{
	return f->data;
}

/* The queue's name without "/" and " (deleted)", into buf; 1 if it was deleted. */
static int mq_name(const struct rst_file *f, char *buf, size_t len)
{
	size_t n = strlen(f->path), suf = sizeof(MQ_SUFFIX) - 1;
	int deleted = n > suf && !strcmp(f->path + n - suf, MQ_SUFFIX);

	if (deleted)
		n -= suf;
	snprintf(buf, len, "%.*s", (int)(n - 1), f->path + 1);
	return deleted;
}

static long mq_open_raw(const char *name, int flags, int mode, const struct mq_attr *a)
{
	long r = syscall(SYS_mq_open, name, flags | O_CLOEXEC, mode, a);

	return r < 0 ? -errno : r;
}

/* A limit of /proc/sys/fs/mqueue/NAME, or -1. */
static long mq_limit(const char *name)
{
	char path[64], buf[32];
	FILE *fp;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/sys/fs/mqueue/%s", name);
	if ((fp = fopen(path, "re"))) {
		if (fgets(buf, sizeof(buf), fp))
			v = strtol(buf, NULL, 10);
		fclose(fp);
	}
	return v;
}

static int mq_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_mqueue *m = mq_of(f);
	char name[300];
	long fd, max = mq_limit("msg_max"), size = mq_limit("msgsize_max");
	struct stat st;

	if (m->same_as)
		return 0;
	if (mq_name(f, name, sizeof(name)) == 0 &&
	    (fd = mq_open_raw(name, O_RDONLY | O_NONBLOCK, 0, NULL)) >= 0) {
		int same = fstat((int)fd, &st) == 0 && st.st_ino == f->f.ino && st.st_dev == f->f.dev;

		close((int)fd);
		if (!same)
			return rst_problem(s, RST_EXIT_ENV, "%s: POSIX message queue %s exists and is "
					   "not the one saved (inode %lu, the saved one's %lu): remove "
					   "it (mq_unlink, or rm /dev/mqueue%s) to restart with the "
					   "saved queue", rst_file_what(f), f->path,
					   (unsigned long)st.st_ino, (unsigned long)f->f.ino, f->path);
		return 0;		/* the saved queue itself: reused */
	}
	if (geteuid() != 0 && ((max >= 0 && m->maxmsg > max) || (size >= 0 && m->msgsize > size)))
		return rst_problem(s, RST_EXIT_ENV, "%s: POSIX message queue %s holds up to %lld "
				   "messages of %lld bytes, above this machine's limits (%ld, %ld: "
				   "/proc/sys/fs/mqueue/msg_max, msgsize_max) for a user without "
				   "CAP_SYS_RESOURCE", rst_file_what(f), f->path,
				   (long long)m->maxmsg, (long long)m->msgsize, max, size);
	return 0;
}

/* Empties queue fd, then sends the saved messages in their order. */
static int mq_fill(struct rst_state *s, const struct rst_file *f, int fd)
{
	const struct img_mq_msgs *h = rst_ipc_mq_msgs(s, f->f.id);
	const struct img_file_mqueue *m = mq_of(f);
	char *buf = malloc((size_t)m->msgsize);
	const unsigned char *p = (const unsigned char *)(h + 1);
	struct timespec zero = { 0, 0 };
	unsigned prio;

	if (!buf)
		abort();
	while (syscall(SYS_mq_timedreceive, fd, buf, (size_t)m->msgsize, &prio, &zero) >= 0)
		;
	free(buf);
	for (uint32_t i = 0; h && i < h->nmsgs; i++) {
		const void *text;
		uint64_t len;
		uint32_t pr;
		int64_t type;

		p += img_ipc_msg_next(p, 1, &type, &pr, &text, &len);
		if (syscall(SYS_mq_timedsend, fd, text, (size_t)len, pr, &zero) < 0) {
			rst_error(s, "%s: cannot put message %u of %u back into POSIX message queue "
				  "%s: %s", rst_file_what(f), i + 1, h->nmsgs, f->path,
				  strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int mq_make(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_mqueue *m = mq_of(f);
	struct mq_attr a = { .mq_maxmsg = m->maxmsg, .mq_msgsize = m->msgsize };
	char name[300];
	int deleted = mq_name(f, name, sizeof(name));
	long fd = -ENOENT;
	mode_t um;

	if (!deleted)
		fd = mq_open_raw(name, O_RDWR | O_NONBLOCK, 0, NULL);	/* mq_verify: the saved one */
	rst_fs_owner(s, 1);
	um = umask(0);
	for (int tries = 0; fd == -ENOENT && tries < 100; tries++) {
		if (deleted) {
			unsigned long long rnd;

			if (syscall(SYS_getrandom, &rnd, sizeof(rnd), 0) != sizeof(rnd))
				break;
			snprintf(name, sizeof(name), ".ckpt-mq-%016llx", rnd);
		}
		fd = mq_open_raw(name, O_RDWR | O_NONBLOCK | O_CREAT | O_EXCL, 0600, &a);
		if (fd == -EEXIST && deleted)
			fd = -ENOENT;
	}
	umask(um);
	rst_fs_owner(s, 0);
	if (fd < 0) {
		rst_error(s, "%s: cannot make POSIX message queue %s again: %s", rst_file_what(f),
			  f->path, strerror((int)-fd));
		return -1;
	}
	if (deleted)
		syscall(SYS_mq_unlink, name);
	if (mq_fill(s, f, (int)fd) < 0) {
		close((int)fd);
		return -1;
	}
	return (int)fd;
}

/*
 * Mode and owner once every description is open.  (The registration is
 * made once every fd is placed and ckpt-restart's own are closed,
 * rst_restore_ipc: a close of any fd of the queue by the process that
 * registered would remove it.)
 */
static int mq_finish(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_mqueue *m = mq_of(f);
	struct stat st;

	if (fstat(f->obj, &st) < 0 || ((st.st_mode & 0777) != (f->f.mode & 0777) &&
					fchmod(f->obj, f->f.mode & 0777) < 0) ||
	    ((st.st_uid != m->uid || st.st_gid != m->gid) && fchown(f->obj, m->uid, m->gid) < 0)) {
		rst_error(s, "%s: cannot give POSIX message queue %s its mode %o and owner %u:%u: %s",
			  rst_file_what(f), f->path, f->f.mode & 0777, m->uid, m->gid,
			  strerror(errno));
		return -1;
	}
	return 0;
}

int rst_mq_notify(struct rst_state *s)
{
	for (int i = 0; i < s->nfiles; i++) {
		const struct rst_file *f = &s->files[i];
		const struct img_file_mqueue *m = f->f.kind == IMG_FILE_MQUEUE ? mq_of(f) : NULL;
		struct sigevent ev;
		int fd = -1;

		if (!m || m->same_as || m->notify == IMG_MQ_NOTIFY_NONE)
			continue;
		/* the process's lowest fd of this queue, of any of its descriptions */
		for (int k = 0; k < s->nfiles; k++) {
			const struct rst_file *g = &s->files[k];

			if (g->placed >= 0 && (g == f || (g->f.kind == IMG_FILE_MQUEUE &&
							  mq_of(g)->same_as == f->f.id)) &&
			    (fd < 0 || g->placed < fd))
				fd = g->placed;
		}
		memset(&ev, 0, sizeof(ev));
		ev.sigev_notify = m->notify;
		ev.sigev_signo = m->signo;
		ev.sigev_value.sival_ptr = (void *)(uintptr_t)m->sigval;
		if (fd < 0 || syscall(SYS_mq_notify, fd, &ev) < 0) {
			rst_error(s, "%s: cannot register for the notifications of POSIX message "
				  "queue %s again (mq_notify): %s", rst_file_what(f), f->path,
				  fd < 0 ? "no fd of it is the process's" : strerror(errno));
			return RST_EXIT_ENV;
		}
	}
	return 0;
}

const struct fd_restore_ops fd_mqueue_restore = { .kind = IMG_FILE_MQUEUE,
						  .verify = mq_verify, .open = rst_obj_open,
						  .make = mq_make, .finish = mq_finish };
#endif
