/*
 * fd_inet_tw.c - TIME_WAIT entries in the way of a listener the restart
 * makes again.
 *
 * Killing a server leaves its connections' TIME_WAIT entries on its port
 * for a minute (when its side closed first, which after a SIGKILL of a
 * whole tree is either side, by chance).  An entry keeps the SO_REUSEADDR
 * of the socket it was: from a program that never set it (Python's
 * asyncio given its own socket, for one), or from a restarted
 * connection (leaving repair mode clears it), even a listener bound with
 * SO_REUSEADDR conflicts with it, and the restart failed with EADDRINUSE
 * about half the time.  So, as `ss -K` would: with CAP_NET_ADMIN, the
 * TIME_WAIT entries of the listener's local address and port are
 * destroyed (SOCK_DESTROY over NETLINK_SOCK_DIAG) before it binds.  They
 * guard nothing of the image: its own connections are made again in
 * repair mode, with their sequence numbers.  Only TIME_WAIT entries are
 * touched; a live socket on the port is still a conflict, named.
 */
#include "fds/fd_inet.h"

#ifdef FD_RESTORE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#define TW_STATE	6		/* TCP_TIME_WAIT */
#define TW_MAX		4096		/* entries destroyed per call, at most */

struct tw_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

static int tw_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

/* Whether id's local address is addr (family's length) or addr is the wildcard. */
static int tw_match(int family, const struct inet_diag_sockid *id, const uint8_t *addr,
		    uint16_t port)
{
	size_t alen = family == AF_INET ? 4 : 16;
	static const uint8_t any[16];

	return id->idiag_sport == htons(port) &&
	       (!memcmp(addr, any, alen) || !memcmp(id->idiag_src, addr, alen));
}

/*
 * The sockets of TCP port `port` on addr in `states` (a bitmask of TCP
 * states): up to max ids into out (may be NULL), their count; -errno.
 */
static int tw_list(int family, const uint8_t *addr, uint16_t port, uint32_t states,
		   struct inet_diag_sockid *out, int max)
{
	struct tw_req req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = states },
	};
	char buf[16384];
	int fd = tw_socket(), n = 0, done = 0;

	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len <= 0) {
			n = len < 0 ? -errno : n;
			break;
		}
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) ||
			    !tw_match(family, &m->id, addr, port))
				continue;
			if (out && n < max)
				out[n] = m->id;
			n++;
		}
	}
	close(fd);
	return n;
}

int inet_tw_only(int family, const uint8_t *addr, uint16_t port)
{
	int tw = tw_list(family, addr, port, 1u << TW_STATE, NULL, 0);
	int all = tw_list(family, addr, port, ~0u, NULL, 0);

	return tw > 0 && tw == all;
}

int inet_tw_clear(int family, const uint8_t *addr, uint16_t port)
{
	static struct inet_diag_sockid ids[TW_MAX];
	int n = tw_list(family, addr, port, 1u << TW_STATE, ids, TW_MAX), fd, gone = 0;

	if (n <= 0)
		return n;
	if ((fd = tw_socket()) < 0)
		return -errno;
	for (int i = 0; i < n && i < TW_MAX; i++) {
		struct tw_req req = {
			.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DESTROY,
				 .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK },
			.r = { .sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
			       .idiag_states = 1u << TW_STATE, .id = ids[i] },
		};
		char ack[256];
		const struct nlmsghdr *h = (const struct nlmsghdr *)ack;

		if (send(fd, &req, sizeof(req), 0) < 0 || recv(fd, ack, sizeof(ack), 0) <
		    (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
			continue;
		if (h->nlmsg_type == NLMSG_ERROR &&
		    ((const struct nlmsgerr *)NLMSG_DATA(h))->error == 0)
			gone++;
	}
	close(fd);
	return gone;
}
#endif
