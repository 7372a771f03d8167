/*
 * fd_unix_fill.c - a restart's half of unix sockets' queued messages
 * (fds/fd_unix_queue.c reads them at checkpoint): each UNIX_MSG record
 * loaded with its socket's FILE and checked against the others, then,
 * once fd_unix_make.c has made, connected and bound every socket, every
 * message sent again in order (rst_usk_fill): with MSG_DONTWAIT (a full
 * queue is an error, never a hang), from its sender (the peer, a stand-in
 * for a gone one, the socket bound to its sender's name, or an unnamed one
 * made for it), with its fds (SCM_RIGHTS: the FILEs opened by their kinds
 * now, a unix socket as made) and its credentials (SCM_CREDENTIALS) if it
 * had some.  Messages that had none are sent before any socket has
 * SO_PASSCRED, so that the kernel adds none.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "fds/fd_unix.h"

#ifdef FD_RESTORE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>
#include "restart/rst.h"

int rst_usk_msg_load(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_unix_msg *m = img_get_unix_msg(&s->r, rec);
	struct rst_file *f;
	struct rst_usk_file *q;
	struct rst_usk_msg *n;

	if (!m) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	f = rst_file_by_id(s, m->file);
	if (!f || f->f.kind != IMG_FILE_UNIX) {
		rst_error(s, "corrupt: a message queued on file %u, which is not a unix socket "
			  "before it (offset %lu)", m->file, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	for (uint32_t i = 0; i < m->nfds; i++) {
		struct rst_file *g = rst_file_by_id(s, img_unix_msg_fd(m, i));

		if (!g || g->f.kind == IMG_FILE_INHERIT || g->f.kind == IMG_FILE_HUGETLB) {
			rst_error(s, "corrupt: a message queued on file %u carries file %u, which "
				  "the image does not have before it or cannot send (offset %lu)",
				  m->file, img_unix_msg_fd(m, i), (unsigned long)rec->offset);
			return RST_EXIT_IMAGE;
		}
		g->inflight = 1;
	}
	q = rst_usk_of(f);
	q->msgs = rst_grow(q->msgs, &q->cap, q->nmsgs, sizeof(*q->msgs));
	n = &q->msgs[q->nmsgs++];
	n->m = *m;
	n->fds = malloc(m->nfds * sizeof(uint32_t) + 1);
	n->addr = malloc(m->addr_len + 1u);
	n->data = malloc(m->len + 1u);
	if (!n->fds || !n->addr || !n->data)
		abort();
	for (uint32_t i = 0; i < m->nfds; i++)
		n->fds[i] = img_unix_msg_fd(m, i);
	memcpy(n->addr, img_unix_msg_addr(m), m->addr_len);
	memcpy(n->data, img_unix_msg_data(m), m->len);
	return 0;
}

void rst_usk_free(struct rst_file *f)
{
	struct rst_usk_file *q = f->usk;

	if (!q)
		return;
	for (size_t i = 0; i < q->nmsgs; i++) {
		free(q->msgs[i].fds);
		free(q->msgs[i].addr);
		free(q->msgs[i].data);
	}
	free(q->msgs);
	free(q);
	f->usk = NULL;
}

int rst_usk_check_queues(struct rst_state *s)
{
	int bad = 0;

	for (int i = 0; i < s->nfiles; i++) {
		const struct rst_file *f = &s->files[i];
		const struct img_file_unix *k = usk_kd(f);

		if (f->f.kind != IMG_FILE_UNIX || !f->usk)
			continue;
		for (size_t j = 0; j < f->usk->nmsgs; j++) {
			const struct img_unix_msg *m = &f->usk->msgs[j].m;
			const struct rst_file *x = m->sender ? rst_usk_by_ino(s, m->sender) : NULL;
			int ok = 1;

			if (k->type != SOCK_DGRAM)
				ok = m->how == IMG_UNIX_FROM_PEER && !m->addr_len &&
				     k->state == IMG_UNIX_CONNECTED;
			else if (m->how == IMG_UNIX_FROM_PEER)
				ok = k->state == IMG_UNIX_CONNECTED;
			else
				ok = k->state == IMG_UNIX_UNCONNECTED && k->name_len &&
				     (m->how == IMG_UNIX_FROM_ANON ? !m->addr_len :
				      x && usk_kd(x)->type == SOCK_DGRAM && x != f);
			if (!ok)
				bad = rst_problem(s, RST_EXIT_IMAGE, "corrupt: message %zu queued on "
						  "%s cannot have reached a %s socket so", j,
						  rst_file_what(f), usk_type_name(k->type));
			/* a tree's: ckpt-restart sends them before any process exists */
			else if ((m->flags & IMG_UNIX_MSG_CREDS) && s->tree)
				bad = rst_problem(s, RST_EXIT_IMAGE, "%s: a message queued on it "
						  "carries the credentials of process %d, which the "
						  "restart of a tree cannot send (it queues every "
						  "message before the processes exist)",
						  rst_file_what(f), m->pid);
			else if ((m->flags & IMG_UNIX_MSG_CREDS) && m->pid != s->proc.pid)
				bad = rst_problem(s, RST_EXIT_ENV, "%s: a message queued on it "
						  "carries the credentials of process %d, which a "
						  "restart of process %d cannot send", rst_file_what(f),
						  m->pid, s->proc.pid);
		}
	}
	return bad;
}

/* The fd to send FILE f as (a unix socket as made; another kind opened by it now). */
static int inflight_fd(struct rst_state *s, struct rst_file *f)
{
	const struct fd_restore_ops *k;

	if (f->f.kind == IMG_FILE_UNIX)
		return f->usk ? f->usk->sock : -1;
	if (f->fd >= 0)
		return f->fd;
	if (!(k = fd_restore_find(f->f.kind)) || !k->open) {
		rst_error(s, "%s: %s cannot be made again to be sent in flight", rst_file_what(f),
			  f->path);
		return -1;
	}
	if ((f->fd = k->open(s, f)) >= 0 && f->fd < rst_fd_base(s)) {
		int n = fcntl(f->fd, F_DUPFD_CLOEXEC, rst_fd_base(s));

		close(f->fd);
		f->fd = n;
	}
	return f->fd;
}

/* Sends message n of f (its socket: to) from sock; 0 or -1 reported. */
static int send_one(struct rst_state *s, struct rst_file *f, size_t idx, int sock, int named)
{
	const struct rst_usk_msg *n = &f->usk->msgs[idx];
	const struct img_file_unix *k = usk_kd(f);
	union {
		struct cmsghdr h;
		unsigned char b[CMSG_SPACE(IMG_UNIX_MSG_FDS * sizeof(int)) +
				CMSG_SPACE(sizeof(struct ucred))];
	} cb;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct iovec iov = { n->data, n->m.len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t clen = 0;
	ssize_t r;

	memset(&cb, 0, sizeof(cb));
	if (named) {
		memcpy(sa.sun_path, usk_name(k), k->name_len);
		mh.msg_name = &sa;
		mh.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + k->name_len);
	}
	if (n->m.nfds) {
		struct cmsghdr *h = (struct cmsghdr *)cb.b;
		int *fds = (int *)CMSG_DATA(h);

		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(n->m.nfds * sizeof(int));
		for (uint32_t i = 0; i < n->m.nfds; i++) {
			struct rst_file *g = rst_file_by_id(s, n->fds[i]);

			if ((fds[i] = inflight_fd(s, g)) < 0)
				return -1;
		}
		clen = CMSG_SPACE(n->m.nfds * sizeof(int));
	}
	if (n->m.flags & IMG_UNIX_MSG_CREDS) {
		struct cmsghdr *h = (struct cmsghdr *)(cb.b + clen);
		struct ucred u = { n->m.pid, n->m.uid, n->m.gid };

		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_CREDENTIALS;
		h->cmsg_len = CMSG_LEN(sizeof(u));
		memcpy(CMSG_DATA(h), &u, sizeof(u));
		clen += CMSG_SPACE(sizeof(u));
	}
	if (clen) {
		mh.msg_control = cb.b;
		mh.msg_controllen = clen;
	}
	do
		r = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)n->m.len)
		return 0;
	rst_error(s, "%s: cannot queue its message %zu (%u bytes%s%s) again: %s%s", rst_file_what(f),
		  idx, n->m.len, n->m.nfds ? ", fds in flight" : "",
		  (n->m.flags & IMG_UNIX_MSG_CREDS) ? ", credentials" : "",
		  r < 0 ? strerror(errno) : "sent in part",
		  r < 0 && errno == EPERM && (n->m.flags & IMG_UNIX_MSG_CREDS) ?
		  " (the credentials it carries are not ckpt-restart's to send)" : "");
	return -1;
}

int rst_usk_fill(struct rst_state *s)
{
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *f = &s->files[i];
		const struct img_file_unix *k = usk_kd(f);

		if (f->f.kind != IMG_FILE_UNIX || !f->usk)
			continue;
		for (size_t j = 0; j < f->usk->nmsgs; j++) {
			const struct img_unix_msg *m = &f->usk->msgs[j].m;
			int sock, own = -1, r;

			if (m->how == IMG_UNIX_FROM_PEER) {
				const struct rst_file *p = k->peer ? rst_usk_by_ino(s, k->peer) : NULL;

				sock = p ? p->usk->sock : f->usk->standin;
			} else if (m->how == IMG_UNIX_FROM_SOCKET) {
				sock = rst_usk_by_ino(s, m->sender)->usk->sock;
			} else {
				int big = 64 << 20;	/* a datagram as large as the original's */

				sock = own = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
				setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
				setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
			}
			if (sock < 0) {
				rst_error(s, "%s: no socket to queue its message %zu again from: %s",
					  rst_file_what(f), j, strerror(errno));
				return -1;
			}
			r = send_one(s, f, j, sock, m->how != IMG_UNIX_FROM_PEER);
			if (own >= 0)
				close(own);
			if (r < 0)
				return -1;
		}
	}
	return 0;
}
#endif
