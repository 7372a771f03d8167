/*
 * info_inet.c - ckpt-info's view of TCP/UDP and netlink sockets: an INET
 * or NETLINK FILE's kind data in words and in JSON, and a connection's
 * queues (INET_QUEUE records, checked against the FILE before them as
 * ckpt-restart does: fds/fd_inet_make.c).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "fds/fd_inet.h"
#include "tools/info.h"

int info_add_inet_queue(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	const struct img_inet_queue *q = img_get_inet_queue(r, rec);
	struct info_file *f;
	struct img_file_inet k;

	if (!q)
		return -1;
	f = (struct info_file *)info_file_by_id(in, q->file);
	if (f && f->f.kind == IMG_FILE_INET)
		memcpy(&k, f->data.s, sizeof(k));
	if (!f || f->f.kind != IMG_FILE_INET || k.state != IMG_INET_ESTABLISHED ||
	    !(k.iflags & IMG_INET_REPAIR) ||
	    q->len != (q->which == IMG_INET_RECV ? k.inq_len : k.outq_len) ||
	    (f->inetq & (1u << q->which))) {
		snprintf(in->err, sizeof(in->err), "INET_QUEUE record at offset %llu: a queue of "
			 "file %u, which is not a TCP connection before it holding %llu bytes that "
			 "way, or has it twice", (unsigned long long)rec->offset, q->file,
			 (unsigned long long)q->len);
		return -1;
	}
	f->inetq |= 1u << q->which;
	return 0;
}

void info_inet_desc(const struct info_file *f, char *buf, size_t len)
{
	char a[64], b[64];

	if (f->f.kind == IMG_FILE_NETLINK) {
		struct img_file_netlink k;

		memcpy(&k, f->data.s, sizeof(k));
		snprintf(buf, len, "route, port id %u, groups 0x%llx", k.portid,
			 (unsigned long long)k.groups);
		return;
	}
	struct img_file_inet k;

	memcpy(&k, f->data.s, sizeof(k));
	inet_addr_text(k.family, k.local, k.lport, a, sizeof(a));
	inet_addr_text(k.family, k.peer, k.pport, b, sizeof(b));
	if (k.state == IMG_INET_ESTABLISHED)
		snprintf(buf, len, "%s %s established %s -> %s%s, %u bytes to read, %u to send "
			 "(%u unsent)", inet_family_name(k.family), inet_proto_name(k.protocol), a,
			 b, (k.iflags & IMG_INET_REPAIR) ? "" : " (no repair state)", k.inq_len,
			 k.outq_len, k.unsq_len);
	else if (k.state == IMG_INET_LISTEN)
		snprintf(buf, len, "%s %s listening %s, backlog %u", inet_family_name(k.family),
			 inet_proto_name(k.protocol), a, k.backlog);
	else if (k.state == IMG_INET_CONNECTED)
		snprintf(buf, len, "%s %s connected %s -> %s", inet_family_name(k.family),
			 inet_proto_name(k.protocol), a, b);
	else
		snprintf(buf, len, "%s %s %s", inet_family_name(k.family),
			 inet_proto_name(k.protocol), k.lport ? a : "not bound");
}

void info_inet_json(const struct info_file *f, void (*str)(const char *s, size_t n))
{
	char a[64], b[64];

	if (f->f.kind == IMG_FILE_NETLINK) {
		struct img_file_netlink k;

		memcpy(&k, f->data.s, sizeof(k));
		printf(", \"netlink\": {\"protocol\": \"route\", \"portid\": %u, \"groups\": %llu}",
		       k.portid, (unsigned long long)k.groups);
		return;
	}
	struct img_file_inet k;

	memcpy(&k, f->data.s, sizeof(k));
	inet_addr_text(k.family, k.local, k.lport, a, sizeof(a));
	inet_addr_text(k.family, k.peer, k.pport, b, sizeof(b));
	printf(", \"inet\": {\"family\": \"%s\", \"protocol\": \"%s\", \"state\": \"%s\", "
	       "\"local\": ", inet_family_name(k.family), inet_proto_name(k.protocol),
	       inet_state_name(k.state));
	str(a, strlen(a));
	printf(", \"peer\": ");
	if (k.pport)
		str(b, strlen(b));
	else
		printf("null");
	printf(", \"flags\": %u, \"backlog\": %u, \"rcvbuf\": %d, \"sndbuf\": %d, \"repair\": %s, "
	       "\"recv_queue\": %u, \"send_queue\": %u, \"unsent\": %u}", k.iflags, k.backlog,
	       k.rcvbuf, k.sndbuf, (k.iflags & IMG_INET_REPAIR) ? "true" : "false", k.inq_len,
	       k.outq_len, k.unsq_len);
}
