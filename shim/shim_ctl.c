/*
 * shim_ctl.c - the target's side of the ckpt-save protocol
 * (libckpt/ctl_proto.h): connect back to the sender, check it is allowed
 * to ask, take the image fd, checkpoint into it, reply.
 *
 * A sender outside our pid namespace (ckpt-save for a `ckpt-run --pidns`
 * program) is invisible here: its signal arrives with si_pid 0 and its
 * socket's SO_PEERCRED pid reads 0.  ckpt-save therefore also puts its
 * pid in the signal's value, which names its socket (abstract sockets
 * belong to the network namespace, which we share); such a peer must
 * then be invisible too, and still our user or root.
 *
 * Runs in the signal handler: socket calls only (socket and close as raw
 * system calls: libckpt's own fd wrappers must not run here), bounded waits (a
 * ckpt-save that stops answering must not hang the application: every
 * receive has a 5 s timeout).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ctl_proto.h"
#include "shim/shim_int.h"

#define CTL_TIMEOUT_S	5

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Connects to the sender's socket; its uid (as our user namespace sees
 * it) into *uid.  outside: the sender is in an ancestor pid namespace
 * (si_pid was 0).
 */
static int ctl_connect(int pid, int outside, uid_t *uid)
{
	struct sockaddr_un sun;
	socklen_t len = ctl_sock_name(&sun, pid);
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int s = syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sun, len) < 0 ||
	    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		int e = errno;

		ckpt_close(s);
		return -e;
	}
	/*
	 * Only the sender of the signal.  An invisible sender's socket shows
	 * pid 0; a visible listener under its name is someone else.
	 */
	if (cred.pid != (outside ? 0 : pid)) {
		ckpt_close(s);
		return -EPERM;
	}
	*uid = cred.uid;
	return s;
}

/*
 * Only our user or root may have our memory.  Checked after the request
 * came, so that the refusal reaches the user as a reply, not as a
 * connection closed mid-request.  Outside our user namespace, root and
 * every unmapped user read as the overflow uid, never as root.
 */
static int ctl_allowed(uid_t uid, int outside, char *msg, size_t len)
{
	if (uid == getuid() || uid == 0)
		return 0;
	if (outside)
		ckpt_fmt(msg, len, "refused: this process runs in its own user namespace, "
			 "where ckpt-save's user (root included) is uid %u; run ckpt-save as "
			 "uid %u", (unsigned)uid, (unsigned)getuid());
	else
		ckpt_fmt(msg, len, "refused: ckpt-save runs as uid %u; only uid %u or root "
			 "may checkpoint this process", (unsigned)uid, (unsigned)getuid());
	return -EPERM;
}

/* Receives the request and the fd that came with it. */
static int ctl_recv(int s, struct ctl_request *req, int *fd)
{
	char buf[sizeof(*req) + 16];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);

	*fd = -1;
	if (n < 0)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if (ctl_parse_request(buf, n, req) < 0 || *fd < 0 || (msg.msg_flags & MSG_CTRUNC)) {
		if (*fd >= 0)
			ckpt_close(*fd);
		return -EPROTO;
	}
	return 0;
}

/* pid: the signal's si_pid, 0 when the sender is outside our pid namespace. */
void shim_ctl_serve(int pid, int sig, siginfo_t *info, void *uc)
{
	struct ctl_request req;
	struct ctl_reply rep;
	uint64_t t0 = now_ns(), mem = 0;
	off_t start = -1, end = -1;
	int outside = pid == 0;
	int s, fd, r, forked = CKPT_FORKED_NO;
	uid_t uid = 0;

	if (outside)
		pid = info->si_value.sival_int;
	if (pid <= 0) {
		shim_log(SHIM_LOG_ERROR, "checkpoint request from outside our pid namespace "
			 "without the sender's pid (an older ckpt-save?): ignored");
		return;
	}
	s = ctl_connect(pid, outside, &uid);
	if (s < 0) {
		shim_log(SHIM_LOG_ERROR, "checkpoint request from pid %d%s refused: cannot "
			 "connect back (errno %d)", pid, outside ? " (outside our pid namespace)" : "",
			 -s);
		return;
	}
	r = ctl_recv(s, &req, &fd);
	if (r < 0) {
		shim_log(SHIM_LOG_ERROR, "bad checkpoint request from pid %d (errno %d)", pid, -r);
		ckpt_close(s);
		return;
	}
	memset(&rep, 0, sizeof(rep));
	rep.magic = CTL_REP_MAGIC;
	rep.version = CTL_VERSION;
	rep.pid = getpid();
	r = ctl_allowed(uid, outside, rep.msg, sizeof(rep.msg));
	if (r == 0) {
		start = lseek(fd, 0, SEEK_CUR);
		r = shim_checkpoint_fd(fd, s, sig, info, uc,
				       ((req.flags & CTL_F_MAPPABLE) ? IMG_F_MAPPABLE : 0) |
				       ((req.flags & CTL_F_INCREMENTAL) ? IMG_F_INCREMENTAL : 0),
				       !(req.flags & CTL_F_EXIT), &forked,
				       rep.msg, sizeof(rep.msg), &mem);
		if (forked == CKPT_FORKED_PARENT) {
			/* the copy writes the pages, replies, and exits */
			ckpt_close(fd);
			ckpt_close(s);
			return;
		}
		if (r == 0 && (req.flags & CTL_F_FSYNC) && fsync(fd) < 0 && errno != EINVAL) {
			r = -errno;
			ckpt_fmt(rep.msg, sizeof(rep.msg), "fsync of the image failed (errno %d)", -r);
		}
		end = lseek(fd, 0, SEEK_CUR);
	}
	ckpt_close(fd);
	rep.status = r;
	rep.mem_bytes = mem;
	rep.image_bytes = (start >= 0 && end >= start) ? (uint64_t)(end - start) : 0;
	rep.elapsed_ns = now_ns() - t0;
	if (send(s, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
		shim_log(SHIM_LOG_ERROR, "cannot reply to ckpt-save (pid %d, errno %d)", pid, errno);
	ckpt_close(s);
	if (r < 0)
		shim_log(SHIM_LOG_INFO, "checkpoint refused: %s", rep.msg);
	if (forked == CKPT_FORKED_CHILD)
		_exit(r < 0);			/* the copy is done */
	if (r == 0 && (req.flags & CTL_F_EXIT))
		_exit(0);
}
