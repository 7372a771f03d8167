/*
 * img_inet.c - the checks of an INET_QUEUE record (one queue of a TCP
 * connection, fds/fd_inet.c), for every reader.  Whether it belongs to
 * the FILE it names (an ESTABLISHED INET FILE before it, with this queue's
 * length) is the caller's check: ckpt-restart (fds/fd_inet_make.c) and
 * ckpt-info (tools/info_files.c) hold the FILEs.
 */
#include <stdio.h>
#include <string.h>
#include "libckpt/img.h"

const struct img_inet_queue *img_get_inet_queue(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_inet_queue *q = img_get_fixed(r, rec, IMG_REC_INET_QUEUE, sizeof(*q));

	if (!q)
		return NULL;
	if (q->file == 0 || q->which > IMG_INET_SEND || q->len == 0 ||
	    q->len > IMG_INET_QUEUE_MAX || rec->len - sizeof(*q) != q->len) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "INET_QUEUE record at offset %llu is corrupt: file %u, queue %u, %llu bytes "
			 "said, %llu bytes of record", (unsigned long long)rec->offset, q->file,
			 q->which, (unsigned long long)q->len, (unsigned long long)rec->len);
		return NULL;
	}
	return q;
}
