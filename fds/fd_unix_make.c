/*
 * fd_unix_make.c - a restart makes the image's unix sockets again (the
 * restore half of fds/fd_unix.c).
 *
 * Sockets name each other (peer, listener, a message's sender), so they
 * are made all at once, by the first UNIX FILE's make, before any fd is
 * placed; each FILE's open then takes its own.  In a process tree every
 * FILE is opened by ckpt-restart before the processes are made, so the
 * same build makes both ends of a pair that two processes share.  Order:
 *  1. listeners: socket, bind, listen(backlog);
 *  2. the rest: a pair of the image (both ends connected to each other)
 *     is a socketpair, then each end bound to its name; an accepted end
 *     comes from accept() on its listener (the image's, or one made for it
 *     with its name and closed after: the name stays free, as it was),
 *     its client bound first and connected; a socket whose peer is gone
 *     gets a stand-in peer (a socketpair, or through a listener named as
 *     the peer was), closed once its queue is filled; a datagram socket
 *     connected one way is connected by name once all are bound;
 *  3. connections not yet accepted: each client connects to its listener,
 *     in the listener's order;
 *  4. every queue filled (fd_unix_queue.c), then shutdowns, stand-ins
 *     closed (a byte left unread in one first gives a read of its peer
 *     ECONNRESET, as when the original peer closed), options, O_NONBLOCK;
 *  5. names whose file was gone at checkpoint unlinked again.
 * Sockets are made non-blocking meanwhile: a full backlog or queue fails
 * the restart, never hangs it.  Root restarting another user's process
 * makes them as that user (setresuid of the effective ids only: SO_PEERCRED
 * and the socket files then name the user), and sends credentials as
 * root (the kernel lets root send the user's).
 *
 * Path names: a file at the path that is the socket file the process had
 * bound (same device and inode) and that no live socket is bound to is
 * the original's leftover (a kill leaves it): removed and bound again.
 * Any other file there is a problem (fd_unix_check.c: --check lists it).
 * Relative names are bound from the image's cwd.
 */
#include "fds/fd_unix.h"

#ifdef FD_RESTORE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "restart/rst.h"

/* A new socket of type (non-blocking, close-on-exec), above every fd the image uses. */
static int lifted(struct rst_state *s, int fd)
{
	int n;

	if (fd < 0 || fd >= rst_fd_base(s))
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, rst_fd_base(s));
	close(fd);
	return n;
}

static int new_sock(struct rst_state *s, uint32_t type)
{
	return lifted(s, socket(AF_UNIX, (int)type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

static int new_pair(struct rst_state *s, uint32_t type, int *a, int *b)
{
	int sv[2];

	if (socketpair(AF_UNIX, (int)type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	*a = lifted(s, sv[0]);
	*b = lifted(s, sv[1]);
	return *a < 0 || *b < 0 ? -1 : 0;
}

static socklen_t addr_of(const char *name, size_t len, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name, len);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

/*
 * Binds fd to name (len bytes; a leftover file of the original removed
 * first); a path's file gets mode, and is unlinked at the end if
 * unlink_after.  0 or -1 reported.
 */
static int bind_name(struct rst_state *s, const struct rst_file *f, int fd, const char *name,
		     size_t len, uint64_t vdev, uint64_t vino, uint32_t mode, int unlink_after)
{
	struct rst_usk *g = rst_usk_global(s);
	struct sockaddr_un sa;
	char txt[IMG_UNIX_NAME_MAX + 8], why[400];
	int st = 0;

	if (!len)
		return 0;
	usk_name_text(name, len, txt, sizeof(txt));
	if (name[0] && (st = rst_usk_path_state(g, name, len, vdev, vino, why, sizeof(why))) < 0) {
		rst_error(s, "%s: cannot bind unix socket %s again: %s", rst_file_what(f), txt, why);
		return -1;
	}
	if (st == 1) {
		char path[IMG_UNIX_NAME_MAX + 1];

		memcpy(path, name, len);
		path[len] = '\0';
		unlink(path);		/* the original's leftover, as path_state said */
	}
	if (bind(fd, (struct sockaddr *)&sa, addr_of(name, len, &sa)) < 0) {
		rst_error(s, "%s: cannot bind unix socket %s again: %s", rst_file_what(f), txt,
			  strerror(errno));
		return -1;
	}
	if (name[0] && (mode & 07777))
		chmod(sa.sun_path, mode & 07777);
	if (name[0] && unlink_after) {
		g->gone = rst_grow(g->gone, &g->gone_cap, g->ngone, sizeof(*g->gone));
		memcpy(g->gone[g->ngone], name, len);
		g->gone[g->ngone++][len] = '\0';
	}
	return 0;
}

static int bind_own(struct rst_state *s, const struct rst_file *f, int fd)
{
	const struct img_file_unix *k = usk_kd(f);

	return bind_name(s, f, fd, usk_name(k), k->name_len, k->vfs_dev, k->vfs_ino, k->vfs_mode,
			 !!(k->uflags & IMG_UNIX_NAME_GONE));
}

/* Whether a stand-in may take name (a gone peer's): it is free here. */
static int name_free(struct rst_state *s, const char *name, size_t len)
{
	struct rst_usk *g = rst_usk_global(s);
	char why[400];

	if (!len)
		return 0;
	return name[0] ? rst_usk_path_state(g, name, len, 0, 0, why, sizeof(why)) == 0 :
			 !rst_usk_live_abstract(g, name, len);
}

/*
 * A stand-in for f's gone peer takes the peer's name when it is free
 * (getpeername then says what it said), and gives it up at the end;
 * else it stays unnamed, with a note.
 */
static void standin_name(struct rst_state *s, const struct rst_file *f, int fd)
{
	const struct img_file_unix *k = usk_kd(f);
	char txt[IMG_UNIX_NAME_MAX + 8];

	if (!k->peer_name_len)
		return;
	if (name_free(s, usk_peer_name(k), k->peer_name_len) &&
	    bind_name(s, f, fd, usk_peer_name(k), k->peer_name_len, 0, 0, 0, 1) == 0)
		return;
	usk_name_text(usk_peer_name(k), k->peer_name_len, txt, sizeof(txt));
	dprintf(rst_err_fd, "ckpt-restart: note: %s: its peer (gone) was named %s, which is not "
		"free here: getpeername() will give no name\n", rst_file_what(f), txt);
}

/* A listening socket of type named name, made once for accepted sockets (or -1). */
static int tmp_listener(struct rst_state *s, const struct rst_file *f, uint32_t type,
			const char *name, size_t len, uint64_t vdev, uint64_t vino, int unlink_after)
{
	struct rst_usk *g = rst_usk_global(s);
	struct usk_tmp *t;

	for (size_t i = 0; i < g->ntmp; i++)
		if (g->tmp[i].type == type && g->tmp[i].len == len && !memcmp(g->tmp[i].name, name, len))
			return g->tmp[i].fd;
	g->tmp = rst_grow(g->tmp, &g->tmp_cap, g->ntmp, sizeof(*g->tmp));
	t = &g->tmp[g->ntmp++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	memcpy(t->name, name, len);
	t->len = (uint16_t)len;
	t->unlink_after = unlink_after;
	if ((t->fd = new_sock(s, type)) < 0 ||
	    bind_name(s, f, t->fd, name, len, vdev, vino, 0, 0) < 0 || listen(t->fd, 64) < 0) {
		if (t->fd >= 0)
			rst_error(s, "%s: cannot make a listening socket to accept it from again: %s",
				  rst_file_what(f), strerror(errno));
		return -1;
	}
	return t->fd;
}

/* client connects to the listener named name; the connection accepted from lfd into *acc. */
static int connect_accept(struct rst_state *s, const struct rst_file *f, int client, int lfd,
			  const char *name, size_t len, int *acc)
{
	struct sockaddr_un sa;

	if (connect(client, (struct sockaddr *)&sa, addr_of(name, len, &sa)) < 0 ||
	    (*acc = lifted(s, accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))) < 0) {
		rst_error(s, "%s: cannot connect a unix socket and accept it again: %s",
			  rst_file_what(f), strerror(errno));
		return -1;
	}
	return 0;
}

/* The image's listener of type named name (made in make_all's first pass), or NULL. */
static struct rst_file *listener_named(struct rst_state *s, uint32_t type, const char *name,
				       size_t len)
{
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *l = &s->files[i];
		const struct img_file_unix *lk = l->f.kind == IMG_FILE_UNIX ? usk_kd(l) : NULL;

		if (lk && lk->state == IMG_UNIX_LISTEN && lk->type == type && lk->name_len == len &&
		    !memcmp(usk_name(lk), name, len) && l->usk && l->usk->sock >= 0)
			return l;
	}
	return NULL;
}

/* A connected stream or seqpacket socket and its peer (p, or a stand-in when gone). */
static int make_stream(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_unix *k = usk_kd(f);
	struct rst_file *p = k->peer ? rst_usk_by_ino(s, k->peer) : NULL;
	struct rst_file *a = f, *c = p;		/* the accepted end and the client */
	int *afd = &f->usk->sock, *cfd = p ? &rst_usk_of(p)->sock : &f->usk->standin;
	const struct img_file_unix *ak;
	struct rst_file *l;
	int lfd;

	if (p && (usk_kd(p)->uflags & IMG_UNIX_ACCEPTED)) {
		a = p;
		c = f;
		afd = &p->usk->sock;
		cfd = &f->usk->sock;
	} else if (!p && !(k->uflags & IMG_UNIX_ACCEPTED) && k->peer_name_len &&
		   ((l = listener_named(s, k->type, usk_peer_name(k), k->peer_name_len)) ||
		    name_free(s, usk_peer_name(k), k->peer_name_len))) {
		/*
		 * The peer was the accepted end, named as its listener: a stand-in
		 * accepted from that listener (the image's, or one made for it).
		 */
		lfd = l ? l->usk->sock : tmp_listener(s, f, k->type, usk_peer_name(k),
						       k->peer_name_len, 0, 0, 1);
		if (lfd < 0 || (f->usk->sock = new_sock(s, k->type)) < 0 ||
		    bind_own(s, f, f->usk->sock) < 0)
			return -1;
		return connect_accept(s, f, f->usk->sock, lfd, usk_peer_name(k), k->peer_name_len,
				      &f->usk->standin);
	}
	ak = usk_kd(a);
	if (!(ak->uflags & IMG_UNIX_ACCEPTED)) {	/* neither: a socketpair */
		if (new_pair(s, k->type, afd, cfd) < 0) {
			rst_error(s, "%s: cannot make a unix socket pair again: %s", rst_file_what(f),
				  strerror(errno));
			return -1;
		}
		return bind_own(s, f, f->usk->sock) < 0 || (p && bind_own(s, p, p->usk->sock) < 0) ?
		       -1 : 0;
	}
	l = rst_usk_listener_of(s, a);
	lfd = l ? l->usk->sock : tmp_listener(s, a, ak->type, usk_name(ak), ak->name_len,
					       ak->vfs_dev, ak->vfs_ino,
					       !!(ak->uflags & IMG_UNIX_NAME_GONE));
	if (lfd < 0 || (*cfd = new_sock(s, k->type)) < 0)
		return -1;
	if (c && bind_own(s, c, *cfd) < 0)
		return -1;
	if (!c)
		standin_name(s, f, *cfd);
	return connect_accept(s, a, *cfd, lfd, usk_name(ak), ak->name_len, afd);
}

/* Every socket of the image made, named, connected (steps 1-3 of the notes). */
static int make_all(struct rst_state *s)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < s->nfiles; i++) {
			struct rst_file *f = &s->files[i];
			const struct img_file_unix *k = usk_kd(f);
			struct rst_usk_file *q;

			if (f->f.kind != IMG_FILE_UNIX)
				continue;
			q = rst_usk_of(f);
			if (q->sock >= 0 || (pass == 0) != (k->state == IMG_UNIX_LISTEN))
				continue;
			if (k->peer && !rst_usk_by_ino(s, k->peer)) {
				rst_error(s, "%s: its peer %llu is not in the image", rst_file_what(f),
					  (unsigned long long)k->peer);
				return -1;
			}
			if (k->state == IMG_UNIX_LISTEN) {
				if ((q->sock = new_sock(s, k->type)) < 0 || bind_own(s, f, q->sock) < 0)
					return -1;
				if (listen(q->sock, (int)k->backlog) < 0) {
					rst_error(s, "%s: cannot listen again: %s", rst_file_what(f),
						  strerror(errno));
					return -1;
				}
			} else if (k->state == IMG_UNIX_CONNECTED && k->type != SOCK_DGRAM) {
				if (make_stream(s, f) < 0)
					return -1;
			} else if (k->state == IMG_UNIX_CONNECTED && (k->uflags & IMG_UNIX_PEER_GONE)) {
				if (new_pair(s, k->type, &q->sock, &q->standin) < 0 ||
				    bind_own(s, f, q->sock) < 0)
					return -1;
				standin_name(s, f, q->standin);
			} else if (k->state == IMG_UNIX_CONNECTED &&
				   usk_kd(rst_usk_by_ino(s, k->peer))->peer == f->f.ino) {
				struct rst_file *p = rst_usk_by_ino(s, k->peer);

				if (new_pair(s, k->type, &q->sock, &rst_usk_of(p)->sock) < 0 ||
				    bind_own(s, f, q->sock) < 0 || bind_own(s, p, p->usk->sock) < 0)
					return -1;
			} else {	/* unconnected, pending, or a datagram connected one way */
				if ((q->sock = new_sock(s, k->type)) < 0 || bind_own(s, f, q->sock) < 0)
					return -1;
			}
		}
	}
	return 0;
}

/* Step 3, and the datagram sockets connected one way. */
static int connect_rest(struct rst_state *s)
{
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *l = &s->files[i];

		if (l->f.kind != IMG_FILE_UNIX || usk_kd(l)->state != IMG_UNIX_LISTEN)
			continue;
		/* its waiting clients, in their order */
		for (uint32_t pos = 0;; pos++) {
			struct rst_file *c = NULL;
			struct sockaddr_un sa;

			for (int j = 0; j < s->nfiles && !c; j++)
				if (s->files[j].f.kind == IMG_FILE_UNIX &&
				    usk_kd(&s->files[j])->state == IMG_UNIX_PENDING &&
				    usk_kd(&s->files[j])->listener == l->f.ino && usk_kd(&s->files[j])->backlog == pos)
					c = &s->files[j];
			if (!c)
				break;
			if (connect(c->usk->sock, (struct sockaddr *)&sa,
				    addr_of(usk_name(usk_kd(l)), usk_kd(l)->name_len, &sa)) < 0) {
				rst_error(s, "%s: cannot connect to its listener (%s) again: %s",
					  rst_file_what(c), rst_file_what(l), strerror(errno));
				return -1;
			}
		}
	}
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *f = &s->files[i];
		const struct img_file_unix *k = usk_kd(f);
		struct rst_file *p;
		struct sockaddr_un sa;

		if (f->f.kind != IMG_FILE_UNIX || k->type != SOCK_DGRAM || !k->peer ||
		    !(p = rst_usk_by_ino(s, k->peer)) || usk_kd(p)->peer == f->f.ino)
			continue;
		if (connect(f->usk->sock, (struct sockaddr *)&sa,
			    addr_of(usk_name(usk_kd(p)), usk_kd(p)->name_len, &sa)) < 0) {
			rst_error(s, "%s: cannot connect to %s again: %s", rst_file_what(f),
				  rst_file_what(p), strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void setopt(int fd, int opt, int v)
{
	setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/* A buffer size as getsockopt said it (the kernel doubles what is set). */
static void set_buf(int fd, int opt, int force, int v)
{
	int now = 0;
	socklen_t len = sizeof(now);

	if (v <= 0 || (getsockopt(fd, SOL_SOCKET, opt, &now, &len) == 0 && now == v))
		return;
	setopt(fd, opt, v / 2);
	if (getsockopt(fd, SOL_SOCKET, opt, &now, &len) == 0 && now != v)
		setopt(fd, force, v / 2);	/* past [rw]mem_max: CAP_NET_ADMIN */
}

static void set_timeo(int fd, int opt, uint64_t us)
{
	struct timeval tv = { (time_t)(us / 1000000), (suseconds_t)(us % 1000000) };

	if (us)
		setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* Step 4 after the fill: shutdowns, stand-ins, options and flags (names: step 5). */
static int finish_all(struct rst_state *s)
{
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *f = &s->files[i];
		const struct img_file_unix *k = usk_kd(f);
		struct rst_usk_file *q = f->usk;
		int fl;

		if (f->f.kind != IMG_FILE_UNIX)
			continue;
		if (q->standin >= 0) {
			if (k->uflags & IMG_UNIX_PEER_RESET)
				send(q->sock, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(q->standin);
			q->standin = -1;
		}
		if (k->shutdown && !(k->type != SOCK_DGRAM && (k->uflags & IMG_UNIX_PEER_GONE)))
			shutdown(q->sock, k->shutdown == 3 ? SHUT_RDWR :
				 k->shutdown == 2 ? SHUT_WR : SHUT_RD);
		set_buf(q->sock, SO_SNDBUF, SO_SNDBUFFORCE, k->sndbuf);
		set_buf(q->sock, SO_RCVBUF, SO_RCVBUFFORCE, k->rcvbuf);
		if (k->rcvlowat > 1)
			setopt(q->sock, SO_RCVLOWAT, k->rcvlowat);
		set_timeo(q->sock, SO_RCVTIMEO, k->rcvtimeo_us);
		set_timeo(q->sock, SO_SNDTIMEO, k->sndtimeo_us);
		if (k->uflags & IMG_UNIX_NOPASSRIGHTS)
			setopt(q->sock, SO_PASSRIGHTS, 0);
		if (k->uflags & IMG_UNIX_PASSSEC)
			setopt(q->sock, SO_PASSSEC, 1);
		if (k->uflags & IMG_UNIX_PASSPIDFD)
			setopt(q->sock, SO_PASSPIDFD, 1);
		if (k->uflags & IMG_UNIX_PASSCRED)
			setopt(q->sock, SO_PASSCRED, 1);
		if (k->peek_off >= 0)
			setopt(q->sock, SO_PEEK_OFF, k->peek_off);
		fl = fcntl(q->sock, F_GETFL);
		if (fl >= 0 && fcntl(q->sock, F_SETFL, (fl & ~O_NONBLOCK) | (f->f.flags & O_NONBLOCK)) < 0) {
			rst_error(s, "%s: cannot set its flags: %s", rst_file_what(f), strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Root restarting another user's process makes the sockets as that user
 * (their SO_PEERCRED and files name the user): the effective ids only,
 * so that going back is allowed.  on 0: root again.
 */
static void as_user(struct rst_state *s, int on)
{
	if (getuid() != 0 || (s->proc.uid == 0 && s->proc.gid == 0))
		return;
	if (on) {
		syscall(SYS_setresgid, -1, s->proc.gid, -1);
		syscall(SYS_setresuid, -1, s->proc.uid, -1);
	} else {
		syscall(SYS_setresuid, -1, 0, -1);
		syscall(SYS_setresgid, -1, 0, -1);
	}
}

static int need_cwd(const struct rst_state *s)
{
	for (int i = 0; i < s->nfiles; i++) {
		const struct rst_file *f = &s->files[i];

		if (f->f.kind == IMG_FILE_UNIX &&
		    ((usk_kd(f)->name_len && usk_name(usk_kd(f))[0] && usk_name(usk_kd(f))[0] != '/') ||
		     (usk_kd(f)->peer_name_len && usk_peer_name(usk_kd(f))[0] &&
		      usk_peer_name(usk_kd(f))[0] != '/')))
			return 1;
	}
	return 0;
}

/* Whether an FD record names f (the build's state: a tree's has every member's). */
static int held(const struct rst_state *s, const struct rst_file *f)
{
	for (int i = 0; i < s->nfds; i++)
		if (s->fds[i].file == f->f.id)
			return 1;
	return 0;
}

static int build(struct rst_state *s)
{
	struct rst_usk *g = rst_usk_global(s);
	int here = -1, r = -1;

	if (rst_usk_live_load(g) < 0) {
		rst_error(s, "cannot list this machine's unix sockets (sock_diag): %s",
			  strerror(errno));
		return -1;
	}
	/* relative names are bound and reached from the image's cwd */
	if (need_cwd(s)) {
		if ((here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || chdir(s->cwd) < 0) {
			rst_error(s, "cannot enter %s to bind unix sockets with relative names: %s",
				  s->cwd, strerror(errno));
			if (here >= 0)
				close(here);
			return -1;
		}
	}
	as_user(s, 1);
	if (make_all(s) == 0 && connect_rest(s) == 0) {
		as_user(s, 0);
		/* the queues: senders may hold more than their final SO_SNDBUF meanwhile */
		for (int i = 0; i < s->nfiles; i++) {
			struct rst_usk_file *q = s->files[i].f.kind == IMG_FILE_UNIX ? s->files[i].usk : NULL;

			if (!q)
				continue;
			setopt(q->sock, SO_SNDBUF, 64 << 20);		/* capped: wmem_max */
			setopt(q->sock, SO_SNDBUFFORCE, 64 << 20);	/* root: past it */
			if (q->standin >= 0) {
				setopt(q->standin, SO_SNDBUF, 64 << 20);
				setopt(q->standin, SO_SNDBUFFORCE, 64 << 20);
			}
		}
		r = rst_usk_fill(s) == 0 && finish_all(s) == 0 ? 0 : -1;
	} else {
		as_user(s, 0);
	}
	for (size_t i = 0; i < g->ntmp; i++) {
		if (g->tmp[i].fd >= 0)
			close(g->tmp[i].fd);
		g->tmp[i].fd = -1;
		if (g->tmp[i].unlink_after && g->tmp[i].name[0]) {
			g->gone = rst_grow(g->gone, &g->gone_cap, g->ngone, sizeof(*g->gone));
			memcpy(g->gone[g->ngone], g->tmp[i].name, g->tmp[i].len);
			g->gone[g->ngone++][g->tmp[i].len] = '\0';
		}
	}
	for (size_t i = 0; i < g->ngone; i++)
		unlink(g->gone[i]);
	if (here >= 0) {
		if (fchdir(here) < 0 && !r) {
			rst_error(s, "cannot go back to the working directory: %s", strerror(errno));
			r = -1;
		}
		close(here);
	}
	/*
	 * Sockets no fd holds (only in flight) live on in the queues that carry
	 * them.  (Named by FD records, not f->used: a tree's open_files marks
	 * each FILE used only as it reaches it.)
	 */
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *f = &s->files[i];

		if (f->f.kind == IMG_FILE_UNIX && f->usk && f->usk->sock >= 0 && (!held(s, f) || r)) {
			close(f->usk->sock);
			f->usk->sock = -1;
		}
	}
	return r;
}

static int unix_make(struct rst_state *s, struct rst_file *f)
{
	struct rst_usk *g = rst_usk_global(s);
	int fd;

	if (!g->built) {
		g->built = 1;
		g->failed = build(s) < 0;
	}
	if (g->failed)
		return -1;
	fd = rst_usk_of(f)->sock;	/* its socket is the FILE's own from now on */
	f->usk->sock = -1;
	if (fd < 0)
		rst_error(s, "%s: its unix socket was not made", rst_file_what(f));
	return fd;
}

const struct fd_restore_ops fd_unix_restore = { .kind = IMG_FILE_UNIX, .verify = rst_usk_verify,
						.open = rst_obj_dup, .make = unix_make };
#endif
