/*
 * tree_proto.c - the coordinator <-> member messages (tree_proto.h).
 *
 * Like ctl_proto.c: a message is taken only when it has exactly the size
 * its type and count say, its magic, a known type and flags, a zero
 * stop signal in range and a NUL inside err; anything else is refused whole.
 * Used in the checkpoint signal handler: no stdio, no allocation.
 */
#include <stddef.h>
#include <string.h>
#include "libckpt/tree_proto.h"

#define TREE_NAME_PREFIX	"libckpt-tree-"
#define TREE_FLAGS_KNOWN	(TREE_FAITHFUL | TREE_FORKED | TREE_MAPPABLE)

static size_t put_num(char *p, unsigned long v, int base)
{
	char d[24];
	size_t n = 0;

	do {
		d[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = d[n - 1 - i];
	return n;
}

socklen_t tree_sock_name(struct sockaddr_un *sun, int pid, uint32_t cookie)
{
	char *p;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/* abstract: a leading NUL, then the name, no terminator */
	p = sun->sun_path + 1;
	memcpy(p, TREE_NAME_PREFIX, sizeof(TREE_NAME_PREFIX) - 1);
	p += sizeof(TREE_NAME_PREFIX) - 1;
	p += put_num(p, (unsigned long)(unsigned)pid, 10);
	*p++ = '-';
	p += put_num(p, cookie, 16);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)(p - sun->sun_path));
}

int tree_check(const void *buf, size_t n, uint32_t type, size_t entry, uint32_t max)
{
	struct tree_msg m;

	if (n < sizeof(m))
		return -1;
	memcpy(&m, buf, sizeof(m));
	if (m.magic != TREE_MSG_MAGIC || m.type != type || m.stop_sig < 0 || m.stop_sig > 64 ||
	    (m.flags & ~(uint32_t)TREE_FLAGS_KNOWN) || !memchr(m.err, 0, sizeof(m.err)))
		return -1;
	if (m.count > max || n != sizeof(m) + (size_t)m.count * entry)
		return -1;
	return 0;
}
