/*
 * img_unix.c - reading UNIX_MSG records: one message queued on a unix
 * domain socket (format: img_format.h, struct img_unix_msg; the socket's
 * own kind data is checked by fds/fd_unix.c's `valid`).
 *
 * A record is checked alone, like every record: its lengths add up to the
 * payload, its counts and the sender's address within their bounds, `how`
 * known, credentials only where flagged, `sender` only for FROM_SOCKET,
 * reserved zero.  That `file` is a unix socket's FILE record seen before
 * it, that every fd it carries names such a FILE too, and that `sender`
 * is a socket of the image, are the caller's checks: it alone holds the
 * FILE records (restart: fds/fd_unix_queue.c; ckpt-info: tools/info_unix.c).
 */
#include <stdio.h>
#include "libckpt/img.h"

const struct img_unix_msg *img_get_unix_msg(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_unix_msg *m = rec->data;
	unsigned long long off = rec->offset;

	if (rec->type != IMG_REC_UNIX_MSG || !m || rec->len < sizeof(*m)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "record at offset %llu is not a valid UNIX_MSG record (%llu bytes, at "
			 "least %zu)", off, (unsigned long long)rec->len, sizeof(*m));
		return NULL;
	}
	if (m->file == 0 || m->how < IMG_UNIX_FROM_PEER || m->how > IMG_UNIX_FROM_ANON ||
	    (m->flags & ~(uint16_t)IMG_UNIX_MSG_CREDS) || m->reserved ||
	    (m->how == IMG_UNIX_FROM_SOCKET) != (m->sender != 0) ||
	    (!(m->flags & IMG_UNIX_MSG_CREDS) && (m->pid || m->uid || m->gid)) ||
	    ((m->flags & IMG_UNIX_MSG_CREDS) && m->pid <= 0)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "UNIX_MSG record at offset %llu is corrupt: file %u, how %u, flags %#x, "
			 "pid %d, sender %llu", off, m->file, m->how, m->flags, m->pid,
			 (unsigned long long)m->sender);
		return NULL;
	}
	if (m->len > IMG_UNIX_MSG_MAX || m->nfds > IMG_UNIX_MSG_FDS ||
	    m->addr_len > IMG_UNIX_NAME_MAX ||
	    rec->len != sizeof(*m) + (uint64_t)m->nfds * 4 + m->addr_len + m->len) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "UNIX_MSG record at offset %llu is corrupt: %llu payload bytes for %u fds, "
			 "a %u-byte address and %u bytes of data", off, (unsigned long long)rec->len,
			 m->nfds, m->addr_len, m->len);
		return NULL;
	}
	for (uint32_t i = 0; i < m->nfds; i++) {
		if (img_unix_msg_fd(m, i) == 0) {
			img_fail(r, IMG_ERR_CORRUPT,
				 "UNIX_MSG record at offset %llu is corrupt: fd %u in flight names "
				 "file 0", off, i);
			return NULL;
		}
	}
	return m;
}
