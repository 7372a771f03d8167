/*
 * fd_unix_check.c - what a restart checks before it makes unix sockets
 * (the restore half of fds/fd_unix.c, with fd_unix_make.c and
 * fd_unix_fill.c): each socket's links to the others (peer, listener, the
 * place of a waiting connection), the queues (fd_unix_fill.c), and every
 * name it will bind against the machine's live sockets (a sock_diag dump)
 * and files: free, or the original's leftover socket file.  With the rest
 * of the environment, before anything is built, and for --check: a
 * problem names the socket, the name and what holds it (exit 4).  Also
 * the restart state's bookkeeping (made on first use, freed with the
 * image's state).
 */
#include "fds/fd_unix.h"

#ifdef FD_RESTORE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include "restart/rst.h"

struct rst_usk_file *rst_usk_of(struct rst_file *f)
{
	if (!f->usk) {
		if (!(f->usk = calloc(1, sizeof(*f->usk))))
			abort();
		f->usk->sock = f->usk->standin = -1;
	}
	return f->usk;
}

struct rst_file *rst_usk_by_ino(struct rst_state *s, uint64_t ino)
{
	for (int i = 0; ino && i < s->nfiles; i++)
		if (s->files[i].f.kind == IMG_FILE_UNIX && s->files[i].f.ino == ino)
			return &s->files[i];
	return NULL;
}

struct rst_usk *rst_usk_global(struct rst_state *s)
{
	if (!s->usk && !(s->usk = calloc(1, sizeof(*s->usk))))
		abort();
	return s->usk;
}

void rst_usk_state_free(struct rst_state *s)
{
	if (!s->usk)
		return;
	for (size_t i = 0; i < s->usk->ntmp; i++)
		if (s->usk->tmp[i].fd >= 0)
			close(s->usk->tmp[i].fd);
	free(s->usk->live);
	free(s->usk->tmp);
	free(s->usk->gone);
	free(s->usk);
	s->usk = NULL;
}

/* --- the machine's bound names (sock_diag dump) ----------------------------- */

int rst_usk_live_load(struct rst_usk *g)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = { 0 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static char buf[65536];
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), done = 0;

	g->nlive = 0;
	if (nl < 0)
		return -1;
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = ~0u;
	req.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS;
	if (sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(nl);
		return -1;
	}
	while (!done) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n <= 0)
			break;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct unix_diag_msg *m = NLMSG_DATA(h);
			struct usk_live l = { .len = 0 };
			struct rtattr {
				unsigned short rta_len, rta_type;
			} *a;
			int left;

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			a = (void *)(m + 1);
			left = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			while (left >= 4 && a->rta_len >= 4 && a->rta_len <= left) {
				const unsigned char *v = (const unsigned char *)(a + 1);
				size_t vl = a->rta_len - 4u;

				if (a->rta_type == UNIX_DIAG_NAME && vl <= IMG_UNIX_NAME_MAX) {
					memcpy(l.name, v, vl);
					l.len = (uint16_t)vl;
				} else if (a->rta_type == UNIX_DIAG_VFS && vl >= 8) {
					uint32_t vi, vd;

					memcpy(&vi, v, 4);
					memcpy(&vd, v + 4, 4);
					l.vfs_ino = vi;
					l.vfs_dev = makedev(vd >> 20, vd & 0xfffff);
				}
				left -= (a->rta_len + 3) & ~3;
				a = (void *)((char *)a + ((a->rta_len + 3) & ~3));
			}
			if (!l.len)
				continue;
			g->live = rst_grow(g->live, &g->live_cap, g->nlive, sizeof(*g->live));
			g->live[g->nlive++] = l;
		}
	}
	close(nl);
	return 0;
}

/* A live socket bound to the file (dev, ino), or to the abstract name. */
static int live_file(const struct rst_usk *g, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < g->nlive; i++)
		if (g->live[i].vfs_ino == ino && g->live[i].vfs_dev == dev)
			return 1;
	return 0;
}

int rst_usk_live_abstract(const struct rst_usk *g, const char *name, size_t len)
{
	for (size_t i = 0; i < g->nlive; i++)
		if (g->live[i].len == len && !memcmp(g->live[i].name, name, len))
			return 1;
	return 0;
}

/*
 * Whether path name (len bytes) can be bound: 0 free, 1 a leftover of
 * the original to remove first (the file bound as vfs_dev/vfs_ino, by no
 * live socket), or -1 with why.
 */
int rst_usk_path_state(const struct rst_usk *g, const char *name, size_t len, uint64_t vdev,
		      uint64_t vino, char *why, size_t wlen)
{
	char path[IMG_UNIX_NAME_MAX + 1], dir[IMG_UNIX_NAME_MAX + 1], *slash;
	struct stat st;

	memcpy(path, name, len);
	path[len] = '\0';
	if (lstat(path, &st) == 0) {
		if (S_ISSOCK(st.st_mode) && vino && st.st_ino == vino && st.st_dev == vdev &&
		    !live_file(g, st.st_dev, st.st_ino))
			return 1;
		snprintf(why, wlen, "%s exists (%s): remove it if it is stale", path,
			 S_ISSOCK(st.st_mode) ? live_file(g, st.st_dev, st.st_ino) ?
			 "a socket a live process is bound to: is the original still running?" :
			 "a socket file, not the one the process had bound" : "not a socket");
		return -1;
	}
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/'))) {
		*(slash == dir ? slash + 1 : slash) = '\0';
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			snprintf(why, wlen, "its directory %s does not exist", dir);
			return -1;
		}
	}
	return 0;
}

/* --- the checks (with the environment, --check) ----------------------------- */

/* Whether the name of k can be bound here (temp: a listener made for it). */
static int check_name(struct rst_state *s, const struct rst_file *f, const char *name,
		      size_t len, uint64_t vdev, uint64_t vino)
{
	struct rst_usk *g = rst_usk_global(s);
	char txt[IMG_UNIX_NAME_MAX + 8], why[400];

	if (!len)
		return 0;
	usk_name_text(name, len, txt, sizeof(txt));
	if (!name[0]) {
		if (rst_usk_live_abstract(g, name, len))
			return rst_problem(s, RST_EXIT_ENV, "%s: cannot bind unix socket name %s "
					   "again: a live socket has it (is the original still "
					   "running?)", rst_file_what(f), txt);
		return 0;
	}
	if (name[0] != '/' && (!s->cwd || s->cwd[0] != '/'))
		return rst_problem(s, RST_EXIT_ENV, "%s: unix socket name %s is relative, and the "
				   "image has no working directory to bind it from", rst_file_what(f),
				   txt);
	if (rst_usk_path_state(g, name, len, vdev, vino, why, sizeof(why)) < 0)
		return rst_problem(s, RST_EXIT_ENV, "%s: cannot bind unix socket %s again: %s",
				   rst_file_what(f), txt, why);
	return 0;
}

/* The image's listener with f's name and type (for an accepted f), or NULL. */
struct rst_file *rst_usk_listener_of(struct rst_state *s, const struct rst_file *f)
{
	struct rst_file *l = rst_usk_by_ino(s, usk_kd(f)->listener);

	return l && usk_kd(l)->state == IMG_UNIX_LISTEN && usk_kd(l)->type == usk_kd(f)->type ? l : NULL;
}

/* Each socket's links make sense: 0, or a problem (a corrupt image). */
static int check_links(struct rst_state *s, struct rst_file *f)
{
	const struct img_file_unix *k = usk_kd(f);
	struct rst_file *p = k->peer ? rst_usk_by_ino(s, k->peer) : NULL;
	struct rst_file *l = k->listener ? rst_usk_by_ino(s, k->listener) : NULL;
	int ok = 1;

	if (k->peer)
		ok = p && usk_kd(p)->type == k->type &&
		     (k->type == SOCK_DGRAM ? usk_kd(p)->peer == f->f.ino || usk_kd(p)->name_len :
		      usk_kd(p)->state == IMG_UNIX_CONNECTED && usk_kd(p)->peer == f->f.ino &&
		      !((usk_kd(p)->uflags & IMG_UNIX_ACCEPTED) && (k->uflags & IMG_UNIX_ACCEPTED)));
	if (ok && k->listener)
		ok = rst_usk_listener_of(s, f) &&
		     (k->state == IMG_UNIX_PENDING ||
		      (usk_kd(l)->name_len == k->name_len &&
		       !memcmp(usk_name(usk_kd(l)), usk_name(k), k->name_len)));
	if (ok && k->state == IMG_UNIX_PENDING)
		for (int i = 0; i < s->nfiles; i++) {
			const struct rst_file *o = &s->files[i];

			if (o != f && o->f.kind == IMG_FILE_UNIX &&
			    usk_kd(o)->state == IMG_UNIX_PENDING && usk_kd(o)->listener == k->listener &&
			    usk_kd(o)->backlog == k->backlog)
				ok = 0;
		}
	for (int i = 0; ok && i < s->nfiles; i++)
		if (&s->files[i] != f && s->files[i].f.kind == IMG_FILE_UNIX &&
		    s->files[i].f.ino == f->f.ino)
			ok = 0;
	if (!ok)
		return rst_problem(s, RST_EXIT_IMAGE, "corrupt: %s, a unix %s socket, names a peer "
				   "or listener (%llu, %llu) the image does not have as such",
				   rst_file_what(f), usk_type_name(k->type),
				   (unsigned long long)k->peer, (unsigned long long)k->listener);
	return 0;
}

/* Whether a name the build binds is a live socket's (quick: for names_settle). */
static int names_live(struct rst_state *s)
{
	struct rst_usk *g = rst_usk_global(s);

	for (int i = 0; i < s->nfiles; i++) {
		const struct rst_file *f = &s->files[i];
		const struct img_file_unix *k = usk_kd(f);
		struct stat st;
		char path[IMG_UNIX_NAME_MAX + 1];

		if (f->f.kind != IMG_FILE_UNIX || !k->name_len)
			continue;
		if (!usk_name(k)[0] && rst_usk_live_abstract(g, usk_name(k), k->name_len))
			return 1;
		memcpy(path, usk_name(k), k->name_len);
		path[k->name_len] = '\0';
		if (usk_name(k)[0] && k->vfs_ino && lstat(path, &st) == 0 && st.st_ino == k->vfs_ino &&
		    st.st_dev == k->vfs_dev && live_file(g, st.st_dev, st.st_ino))
			return 1;
	}
	return 0;
}

/*
 * The image's names may still be held for an instant by what the original
 * left: the copy a checkpoint forks to write its pages holds every fd of
 * the process until it has written them and exits.  Wait for them to go,
 * at most 2 s, before calling them taken.
 */
static int names_settle(struct rst_state *s)
{
	struct rst_usk *g = rst_usk_global(s);
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	for (int i = 0; i < 100 && names_live(s); i++) {
		nanosleep(&ts, NULL);
		if (rst_usk_live_load(g) < 0)
			return -1;
	}
	return 0;
}

static int check_all(struct rst_state *s)
{
	struct rst_usk *g = rst_usk_global(s);
	int bad = 0, r;

	if (rst_usk_live_load(g) < 0 || names_settle(s) < 0)
		return rst_problem(s, RST_EXIT_INCOMPAT, "cannot list this machine's unix sockets "
				   "(sock_diag): %s; unix sockets need the kernel's "
				   "CONFIG_UNIX_DIAG", strerror(errno));
	for (int i = 0; i < s->nfiles; i++) {
		struct rst_file *f = &s->files[i];
		const struct img_file_unix *k = usk_kd(f);

		if (f->f.kind != IMG_FILE_UNIX)
			continue;
		if ((r = check_links(s, f))) {
			bad = r;
			continue;
		}
		/* the names the build binds: its own unless accept() gives it */
		if (!(k->uflags & IMG_UNIX_ACCEPTED) &&
		    (r = check_name(s, f, usk_name(k), k->name_len, k->vfs_dev, k->vfs_ino)))
			bad = r;
		if ((k->uflags & IMG_UNIX_ACCEPTED) && !rst_usk_listener_of(s, f) &&
		    (r = check_name(s, f, usk_name(k), k->name_len, k->vfs_dev, k->vfs_ino)))
			bad = r;
	}
	if ((r = rst_usk_check_queues(s)))
		bad = r;
	return bad;
}

int rst_usk_verify(struct rst_state *s, const struct rst_file *f)
{
	struct rst_usk *g = rst_usk_global(s);

	if (g->checked)
		return 0;
	g->checked = 1;
	return check_all(s);
}
#endif
