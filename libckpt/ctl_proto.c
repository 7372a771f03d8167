/*
 * ctl_proto.c - the ckpt-save <-> target messages (ctl_proto.h).
 *
 * Both ends trust nothing they receive: a message is accepted only when it
 * has exactly the size of its struct, its magic and version, no unknown
 * flag, a zero reserved field, (requests) an empty or absolute path and
 * an empty or single-component tmp_name (never "." or ".."), each
 * NUL-terminated and zero-padded, and (replies) a NUL inside msg.  Anything
 * else, including a message from a newer ckpt-save, is refused whole:
 * the protocol has no optional parts to skip.
 *
 * Used in the checkpoint signal handler, so async-signal-safe: no stdio,
 * no allocation; only memcpy/memmove/memchr/memset/strcmp, which touch
 * nothing global.
 */
#include <stddef.h>
#include <string.h>
#include "libckpt/ctl_proto.h"

#define CTL_NAME_PREFIX	"libckpt-ctl."

socklen_t ctl_sock_name(struct sockaddr_un *sun, int pid)
{
	char digits[16];
	unsigned v = pid < 0 ? 0u - (unsigned)pid : (unsigned)pid;
	size_t n = 0, len;
	char *p;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (pid < 0)
		digits[n++] = '-';

	/* Abstract name: a leading NUL, then the name, no terminator. */
	p = sun->sun_path + 1;
	memcpy(p, CTL_NAME_PREFIX, sizeof(CTL_NAME_PREFIX) - 1);
	p += sizeof(CTL_NAME_PREFIX) - 1;
	while (n)
		*p++ = digits[--n];
	len = (size_t)(p - sun->sun_path);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

/* Length of the NUL-terminated string in s[cap], -1 if none or not zero-padded. */
static long ctl_str_len(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);

	if (!nul)
		return -1;
	for (const char *p = nul; p < s + cap; p++)
		if (*p)
			return -1;
	return nul - s;
}

int ctl_parse_request(const void *buf, size_t len, struct ctl_request *out)
{
	long plen, tlen;

	/*
	 * Checked in *out (buf may be out itself: a request is 4 KiB, and the
	 * handler's stack holds only one); *out is undefined on failure.
	 */
	if (!buf || len != sizeof(*out))
		return -1;
	memmove(out, buf, sizeof(*out));
	if (out->magic != CTL_REQ_MAGIC || out->version != CTL_VERSION)
		return -1;
	if (out->flags & ~(uint32_t)CTL_F_KNOWN || out->reserved != 0)
		return -1;
	plen = ctl_str_len(out->path, sizeof(out->path));
	tlen = ctl_str_len(out->tmp_name, sizeof(out->tmp_name));
	if (plen < 0 || tlen < 0 || (plen > 0 && out->path[0] != '/'))
		return -1;
	if (tlen > 0 && (plen == 0 || memchr(out->tmp_name, '/', tlen) ||
			 !strcmp(out->tmp_name, ".") || !strcmp(out->tmp_name, "..")))
		return -1;
	return 0;
}

int ctl_parse_reply(const void *buf, size_t len, struct ctl_reply *out)
{
	struct ctl_reply r;

	if (!buf || len != sizeof(r))
		return -1;
	memcpy(&r, buf, sizeof(r));
	if (r.magic != CTL_REP_MAGIC || r.version != CTL_VERSION)
		return -1;
	if (r.status > 0)		/* 0 or -errno */
		return -1;
	if (!memchr(r.msg, '\0', sizeof(r.msg)))
		return -1;
	*out = r;
	return 0;
}

int ctl_parse_progress(const void *buf, size_t len, struct ctl_progress *out)
{
	struct ctl_progress p;

	if (!buf || len != sizeof(p))
		return -1;
	memcpy(&p, buf, sizeof(p));
	if (p.magic != CTL_PRG_MAGIC || p.version != CTL_VERSION)
		return -1;
	*out = p;
	return 0;
}
