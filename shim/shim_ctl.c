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
 * Who may ask (ctl_allowed, docs/SECURITY.md "Who may checkpoint whom"):
 * root of our user namespace, or a sender whose uid is our real,
 * effective and saved uid and whose gid our real, effective and saved gid,
 * and then only while we are dumpable: the rule ptrace() and
 * /proc/PID/mem apply, so that the protocol (which anyone can speak: it
 * is documented) never gives our memory to someone who could not read it
 * anyway.
 *
 * The image file is ckpt-save's (it is made, renamed or removed there);
 * we only write it.  One exception: a reply that finds ckpt-save gone
 * (SIGKILL) means nobody will rename or remove the file, so a named
 * temporary file (ckpt-save's fallback where O_TMPFILE is missing) is
 * removed here if it is still the file we wrote.
 *
 * Runs in the signal handler: socket calls only (socket and close as raw
 * system calls: libckpt's own fd wrappers must not run here), bounded waits (a
 * ckpt-save that stops answering must not hang the application: every
 * receive has a 5 s timeout).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "arch/x86_64/arch.h"
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
 * Connects to the sender's socket; its credentials (as our user namespace
 * sees them) into *cred.  outside: the sender is in an ancestor pid
 * namespace (si_pid was 0).
 */
static int ctl_connect(int pid, int outside, struct ucred *cred_out)
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
	*cred_out = cred;
	return s;
}

/*
 * Only our user or root may have our memory (see the top).  Checked after
 * the request came, so that the refusal reaches the user as a reply, not
 * as a connection closed mid-request.  Outside our user namespace, root
 * and every unmapped user read as the overflow uid, never as root.
 */
static int ctl_allowed(const struct ucred *cr, int outside, char *msg, size_t len)
{
	unsigned u[3] = { 0 }, g[3] = { 0 };

	if (cr->uid == 0)
		return 0;
	arch_sys3(SYS_getresuid, &u[0], &u[1], &u[2]);
	arch_sys3(SYS_getresgid, &g[0], &g[1], &g[2]);
	if (cr->uid != u[0] || cr->uid != u[1] || cr->uid != u[2]) {
		if (outside)
			ckpt_fmt(msg, len, "refused: this process runs in its own user namespace, "
				 "where ckpt-save's user (root included) is uid %u; run ckpt-save as "
				 "uid %u", (unsigned)cr->uid, u[0]);
		else if (u[0] == u[1] && u[1] == u[2])
			ckpt_fmt(msg, len, "refused: ckpt-save runs as uid %u; only uid %u or root "
				 "may checkpoint this process", (unsigned)cr->uid, u[0]);
		else
			ckpt_fmt(msg, len, "refused: ckpt-save runs as uid %u; this process has "
				 "real, effective and saved uids %u, %u, %u: only root may checkpoint "
				 "it", (unsigned)cr->uid, u[0], u[1], u[2]);
		return -EPERM;
	}
	if (cr->gid != g[0] || cr->gid != g[1] || cr->gid != g[2]) {
		ckpt_fmt(msg, len, "refused: ckpt-save runs with gid %u; this process has real, "
			 "effective and saved gids %u, %u, %u: run ckpt-save with gid %u, or as root",
			 (unsigned)cr->gid, g[0], g[1], g[2], g[0]);
		return -EPERM;
	}
	if (arch_sys2(SYS_prctl, PR_GET_DUMPABLE, 0) != 1) {
		ckpt_fmt(msg, len, "refused: this process is not dumpable (it set PR_SET_DUMPABLE "
			 "to 0, or runs a set-user-ID or set-group-ID program): only root may "
			 "checkpoint it");
		return -EPERM;
	}
	return 0;
}

/*
 * Receives the request (into *req, parsed in place) and the fd that came
 * with it.  -ECONNRESET: ckpt-save went away before it sent one.  A wait
 * with SO_RCVTIMEO is not restarted after a stop (SIGSTOP, then SIGCONT:
 * EINTR): waited again.
 */
static int ctl_recv(int s, struct ctl_request *req, int *fd)
{
	char extra[16];		/* a longer message shows as n > sizeof(*req) */
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov[2] = { { req, sizeof(*req) }, { extra, sizeof(extra) } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2,
			      .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *cm;
	ssize_t n;

	while ((n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		msg.msg_controllen = sizeof(ctl.b);
	*fd = -1;
	if (n < 0)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if (n == 0 || ctl_parse_request(req, n, req) < 0 || *fd < 0 ||
	    (msg.msg_flags & MSG_CTRUNC)) {
		if (*fd >= 0)
			ckpt_close(*fd);
		return n == 0 ? -ECONNRESET : -EPROTO;
	}
	return 0;
}

/*
 * ckpt-save is gone (its reply failed): nobody will rename or remove the
 * file we wrote.  A named one (req->tmp_name) is removed if that name is
 * still our file; an O_TMPFILE disappears with the last fd by itself.
 */
static void ctl_remove_orphan(const struct ctl_request *req, int fd, int pid)
{
	char path[CTL_PATH_MAX + CTL_NAME_MAX];
	struct stat mine, there;
	size_t dir = 0;

	if (!req->tmp_name[0] || fd < 0)
		return;
	/* the parser saw to it: path is absolute, tmp_name one component */
	for (size_t n = 0; req->path[n]; n++)
		if (req->path[n] == '/')
			dir = n;
	memcpy(path, req->path, dir + 1);
	ckpt_fmt(path + dir + 1, sizeof(path) - dir - 1, "%s", req->tmp_name);
	if (arch_sys2(SYS_fstat, fd, &mine) < 0 ||
	    arch_sys4(SYS_newfstatat, AT_FDCWD, path, &there, AT_SYMLINK_NOFOLLOW) < 0 ||
	    mine.st_dev != there.st_dev || mine.st_ino != there.st_ino)
		return;
	if (arch_sys3(SYS_unlinkat, AT_FDCWD, path, 0) == 0)
		shim_log(SHIM_LOG_ERROR, "ckpt-save (pid %d) went away before the image was "
			 "complete: removed its temporary file %s", pid, path);
	else
		shim_log(SHIM_LOG_ERROR, "ckpt-save (pid %d) went away before the image was "
			 "complete, and its temporary file %s cannot be removed", pid, path);
}

/* pid: the signal's si_pid, 0 when the sender is outside our pid namespace. */
void shim_ctl_serve(int pid, int sig, siginfo_t *info, void *uc)
{
	struct ctl_request req;
	struct ctl_reply rep;
	struct ucred cred = { 0 };
	uint64_t t0 = now_ns(), mem = 0;
	off_t start = -1, end = -1;
	int outside = pid == 0;
	int s, fd, r, forked = CKPT_FORKED_NO, slot = 0;

	if (outside)
		pid = info->si_value.sival_int;
	if (pid <= 0) {
		shim_log(SHIM_LOG_ERROR, "checkpoint request from outside our pid namespace "
			 "without the sender's pid (an older ckpt-save?): ignored");
		return;
	}
	s = ctl_connect(pid, outside, &cred);
	if (s < 0) {
		shim_log(SHIM_LOG_ERROR, "checkpoint request from pid %d%s refused: cannot "
			 "connect back: %s", pid, outside ? " (outside our pid namespace)" : "",
			 ckpt_strerror(s));
		return;
	}
	r = ctl_recv(s, &req, &fd);
	if (r < 0) {
		if (r == -ECONNRESET)
			shim_log(SHIM_LOG_ERROR, "ckpt-save (pid %d) went away before it sent its "
				 "request: no checkpoint", pid);
		else
			shim_log(SHIM_LOG_ERROR, "bad checkpoint request from pid %d: %s (a ckpt-save "
				 "of another libckpt version?)", pid, ckpt_strerror(r));
		ckpt_close(s);
		return;
	}
	memset(&rep, 0, sizeof(rep));
	rep.magic = CTL_REP_MAGIC;
	rep.version = CTL_VERSION;
	rep.pid = getpid();
	r = ctl_allowed(&cred, outside, rep.msg, sizeof(rep.msg));
	if (r == 0 && shim_hook_veto[0]) {	/* a BEFORE hook said no (shim_hooks.c) */
		ckpt_fmt(rep.msg, sizeof(rep.msg), "%s", shim_hook_veto);
		r = -ECANCELED;
	}
	if (r == 0) {
		r = ckpt_save_begin(SHIM_WAIT_WRITER_MS, rep.msg, sizeof(rep.msg));
		slot = r == 0;
	}
	if (r == 0) {
		start = lseek(fd, 0, SEEK_CUR);
		r = shim_checkpoint_fd(fd, req.path[0] ? req.path : NULL, s, sig, info, uc,
				       ((req.flags & CTL_F_MAPPABLE) ? IMG_F_MAPPABLE : 0) |
				       ((req.flags & CTL_F_INCREMENTAL) ? IMG_F_INCREMENTAL : 0),
				       ((req.flags & CTL_F_EXIT) ? SHIM_SAVE_EXIT : shim_save_how()) |
				       ((req.flags & CTL_F_PROGRESS) ? SHIM_SAVE_PROGRESS : 0), &forked,
				       rep.msg, sizeof(rep.msg), &mem);
		if (forked == CKPT_FORKED_PARENT) {
			/* the copy writes the pages, replies, and exits */
			ckpt_close(fd);
			ckpt_close(s);
			ckpt_save_end();	/* busy until the copy is reaped */
			return;
		}
		if (r == 0 && (req.flags & CTL_F_FSYNC) && fsync(fd) < 0 && errno != EINVAL) {
			r = -errno;
			ckpt_fmt(rep.msg, sizeof(rep.msg), "fsync of the image failed: %s",
				 ckpt_strerror(r));
		}
		end = lseek(fd, 0, SEEK_CUR);
	}
	rep.status = r;
	rep.mem_bytes = mem;
	rep.image_bytes = (start >= 0 && end >= start) ? (uint64_t)(end - start) : 0;
	rep.elapsed_ns = now_ns() - t0;
	if (send(s, &rep, sizeof(rep), MSG_NOSIGNAL) < 0) {
		int e = errno;

		shim_log(SHIM_LOG_ERROR, "cannot reply to ckpt-save (pid %d): %s", pid,
			 e == EPIPE || e == ECONNRESET ? "it is gone (killed?)" : ckpt_strerror(e));
		if (e == EPIPE || e == ECONNRESET)
			ctl_remove_orphan(&req, fd, pid);
	}
	ckpt_close(fd);
	ckpt_close(s);
	if (r < 0)
		shim_log(SHIM_LOG_INFO, "checkpoint refused: %s", rep.msg);
	if (forked == CKPT_FORKED_CHILD)
		_exit(r < 0);			/* the copy is done */
	if (slot)
		ckpt_save_end();
	if (r == 0 && (req.flags & CTL_F_EXIT))
		_exit(0);
}
