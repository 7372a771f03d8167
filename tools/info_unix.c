/*
 * info_unix.c - ckpt-info's view of unix sockets: a UNIX FILE's kind data
 * in words and in JSON, and its queue (UNIX_MSG records, checked against
 * the FILEs before them like ckpt-restart does: fds/fd_unix_queue.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "fds/fd_unix.h"
#include "tools/info.h"

static const char *state_name(uint32_t state)
{
	switch (state) {
	case IMG_UNIX_UNCONNECTED: return "unconnected";
	case IMG_UNIX_CONNECTED:   return "connected";
	case IMG_UNIX_LISTEN:      return "listening";
	case IMG_UNIX_PENDING:     return "waiting to be accepted";
	default:                   return "?";
	}
}

static const char *from_name(uint32_t how)
{
	switch (how) {
	case IMG_UNIX_FROM_PEER:   return "peer";
	case IMG_UNIX_FROM_SOCKET: return "socket";
	case IMG_UNIX_FROM_ANON:   return "unnamed";
	default:                   return "?";
	}
}

int info_add_unix_msg(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	const struct img_unix_msg *m = img_get_unix_msg(r, rec);
	struct info_file *f;

	if (!m)
		return -1;
	f = (struct info_file *)info_file_by_id(in, m->file);
	if (!f || f->f.kind != IMG_FILE_UNIX) {
		snprintf(in->err, sizeof(in->err), "UNIX_MSG record at offset %llu: a message queued "
			 "on file %u, which is not a unix socket before it",
			 (unsigned long long)rec->offset, m->file);
		return -1;
	}
	for (uint32_t i = 0; i < m->nfds; i++) {
		/* (in a tree: perhaps a FILE of an earlier section, one its process holds) */
		struct info_file *g = info_file_get(in, img_unix_msg_fd(m, i));

		if (!g) {
			snprintf(in->err, sizeof(in->err), "UNIX_MSG record at offset %llu: a message "
				 "on file %u carries file %u, which no FILE record before it has",
				 (unsigned long long)rec->offset, m->file, img_unix_msg_fd(m, i));
			return -1;
		}
		g->inflight++;
	}
	f->umsgs++;
	f->ubytes += m->len;
	f->ufds += m->nfds;
	if (m->flags & IMG_UNIX_MSG_CREDS)
		f->ucreds++;
	f->ufrom |= 1u << m->how;
	return 0;
}

static const struct img_file_unix *unix_of(const struct info_file *f, char *name, char *peer,
					   size_t cap)
{
	static struct img_file_unix k;

	memcpy(&k, f->data.s, sizeof(k));
	usk_name_text(f->data.s + sizeof(k), k.name_len, name, cap);
	usk_name_text(f->data.s + sizeof(k) + k.name_len, k.peer_name_len, peer, cap);
	return &k;
}

void info_unix_desc(const struct info *in, const struct info_file *f, char *buf, size_t len)
{
	char name[IMG_UNIX_NAME_MAX + 8], peer[IMG_UNIX_NAME_MAX + 8];
	const struct img_file_unix *k = unix_of(f, name, peer, sizeof(name));
	size_t n = 0;

#define ADD(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
	ADD("unix %s, %s", usk_type_name(k->type), state_name(k->state));
	if (k->name_len)
		ADD(", named %s%s", name, (k->uflags & IMG_UNIX_NAME_GONE) ? " (its file removed)" :
		    "");
	if (k->state == IMG_UNIX_LISTEN)
		ADD(", backlog %u", k->backlog);
	if (k->peer) {
		const struct info_file *p = NULL;

		for (size_t i = 0; i < in->nfile && !p; i++)
			if (in->files[i].f.kind == IMG_FILE_UNIX && in->files[i].f.ino == k->peer)
				p = &in->files[i];
		if (p)
			ADD(", peer file %u", p->f.id);
		else
			ADD(", peer socket %llu", (unsigned long long)k->peer);
	}
	if (k->uflags & IMG_UNIX_PEER_GONE)
		ADD(", peer gone%s%s%s", k->peer_name_len ? " (was " : "",
		    k->peer_name_len ? peer : "", k->peer_name_len ? ")" : "");
	if (k->uflags & IMG_UNIX_PEER_RESET)
		ADD(", next read ECONNRESET");
	if (k->state == IMG_UNIX_PENDING)
		ADD(", place %u on listener socket %llu", k->backlog, (unsigned long long)k->listener);
	if (k->uflags & IMG_UNIX_ACCEPTED)
		ADD(", accepted%s", k->listener ? "" : " (its listener closed)");
	if (k->shutdown)
		ADD(", shut down %s", k->shutdown == 3 ? "both ways" : k->shutdown == 2 ? "SHUT_WR" :
		    "SHUT_RD");
	if (k->uflags & IMG_UNIX_PASSCRED)
		ADD(", SO_PASSCRED");
	if (k->uflags & IMG_UNIX_PASSPIDFD)
		ADD(", SO_PASSPIDFD");
	if (k->peek_off >= 0)
		ADD(", SO_PEEK_OFF %d", k->peek_off);
	if (f->umsgs)
		ADD(", %u message%s queued (%llu bytes%s%u fds in flight, %u with credentials)",
		    f->umsgs, f->umsgs == 1 ? "" : "s", (unsigned long long)f->ubytes, ", ",
		    f->ufds, f->ucreds);
	if (f->inflight)
		ADD(", in flight (%d)", f->inflight);
#undef ADD
}

void info_unix_json(const struct info_file *f, void (*str)(const char *s, size_t n))
{
	char name[IMG_UNIX_NAME_MAX + 8], peer[IMG_UNIX_NAME_MAX + 8];
	const struct img_file_unix *k = unix_of(f, name, peer, sizeof(name));

	printf(", \"unix\": {\"type\": \"%s\", \"state\": \"%s\", \"name\": ", usk_type_name(k->type),
	       state_name(k->state));
	str(name, k->name_len ? strlen(name) : 0);
	printf(", \"name_gone\": %s, \"peer\": %llu, \"peer_gone\": %s, \"peer_name\": ",
	       (k->uflags & IMG_UNIX_NAME_GONE) ? "true" : "false", (unsigned long long)k->peer,
	       (k->uflags & IMG_UNIX_PEER_GONE) ? "true" : "false");
	str(peer, k->peer_name_len ? strlen(peer) : 0);
	printf(", \"peer_reset\": %s, \"accepted\": %s, \"listener\": %llu, \"backlog\": %u, "
	       "\"shutdown\": %u, \"passcred\": %s, \"peek_off\": %d, \"rcvbuf\": %d, \"sndbuf\": %d, "
	       "\"messages\": %u, \"bytes\": %llu, \"fds_in_flight\": %u, \"with_credentials\": %u, "
	       "\"in_flight\": %d, \"from\": [",
	       (k->uflags & IMG_UNIX_PEER_RESET) ? "true" : "false",
	       (k->uflags & IMG_UNIX_ACCEPTED) ? "true" : "false", (unsigned long long)k->listener,
	       k->backlog, k->shutdown, (k->uflags & IMG_UNIX_PASSCRED) ? "true" : "false",
	       k->peek_off, k->rcvbuf, k->sndbuf, f->umsgs, (unsigned long long)f->ubytes, f->ufds,
	       f->ucreds, f->inflight);
	for (uint32_t how = IMG_UNIX_FROM_PEER, n = 0; how <= IMG_UNIX_FROM_ANON; how++)
		if (f->ufrom & (1u << how))
			printf("%s\"%s\"", n++ ? ", " : "", from_name(how));
	printf("]}");
}
