/*
 * fd_netlink.c - NETLINK_ROUTE sockets (what ip(8), NetworkManager and
 * libraries watching addresses and routes hold): saved as their type, port
 * id and multicast groups, and at a restart re-opened, bound to the same
 * port id and joined to the same groups.  Messages waiting on the socket
 * (a reply not yet read, notifications) are not saved: the kernel would
 * not send them again, and a program that waits for a reply across a
 * checkpoint waits on (docs/SUPPORT.md).  Other netlink families
 * (sock_diag, audit, uevents, generic netlink...) are refused by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include "fds/fd_kind.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

static int netlink_valid(const struct img_file *f, const char *path, const void *data, char *err,
			 size_t len)
{
	const struct img_file_netlink *k = data;

	if (f->data_len != sizeof(*k)) {
		snprintf(err, len, "%u bytes of kind data, not %zu", f->data_len, sizeof(*k));
		return -1;
	}
	if (k->protocol != NETLINK_ROUTE || (k->type != SOCK_RAW && k->type != SOCK_DGRAM) ||
	    k->reserved || k->rcvbuf < 0 || k->sndbuf < 0) {
		snprintf(err, len, "protocol %u, type %u, reserved %u: not a NETLINK_ROUTE socket",
			 k->protocol, k->type, k->reserved);
		return -1;
	}
	(void)path;
	return 0;
}

const struct fd_kind_info fd_netlink_info = { .kind = IMG_FILE_NETLINK, .name = "netlink socket",
					      .valid = netlink_valid };

#ifdef FD_SAVE
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"

static int nl_opt(int fd, int level, int opt, int def)
{
	int v = def;
	socklen_t len = sizeof(v);

	return arch_sys5(SYS_getsockopt, fd, level, opt, &v, &len) < 0 ? def : v;
}

static int netlink_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return S_ISSOCK(p->st.st_mode) && !(p->fd >= 0 && p->fd <= 2) &&
	       nl_opt(p->fd, SOL_SOCKET, SO_DOMAIN, -1) == AF_NETLINK;
}

static int netlink_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	int proto = nl_opt(p->fd, SOL_SOCKET, SO_PROTOCOL, -1);

	if (proto != NETLINK_ROUTE)
		return ckpt_fail(c, -ENOTSUP, "fd %d: a netlink socket of protocol %d (%s): only "
				 "NETLINK_ROUTE (0) sockets are supported; close it before the "
				 "checkpoint%s", p->fd, proto, p->path, p->origin);
	return 0;
}

static int netlink_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
			void *data, size_t cap)
{
	struct img_file_netlink k = { .protocol = NETLINK_ROUTE };
	struct sockaddr_nl sa = { 0 };
	socklen_t len = sizeof(sa);
	uint32_t groups[2] = { 0, 0 };

	if (cap < sizeof(k))
		return ckpt_fail(c, -E2BIG, "fd %d: socket kind data too large", p->fd);
	k.type = (uint32_t)nl_opt(p->fd, SOL_SOCKET, SO_TYPE, SOCK_RAW);
	if (arch_sys3(SYS_getsockname, p->fd, &sa, &len) == 0)
		k.portid = sa.nl_pid;
	len = sizeof(groups);
	if (arch_sys5(SYS_getsockopt, p->fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, groups, &len) < 0)
		groups[0] = sa.nl_groups;
	k.groups = groups[0] | (uint64_t)groups[1] << 32;
	k.rcvbuf = nl_opt(p->fd, SOL_SOCKET, SO_RCVBUF, 0);
	k.sndbuf = nl_opt(p->fd, SOL_SOCKET, SO_SNDBUF, 0);
	f->flags = p->flags & (O_NONBLOCK | O_ACCMODE);
	f->pos = 0;
	__builtin_memcpy(data, &k, sizeof(k));
	return (int)sizeof(k);
}

const struct fd_save_ops fd_netlink_save = { .kind = IMG_FILE_NETLINK, .match = netlink_match,
					     .check = netlink_check, .save = netlink_save };
#endif

#ifdef FD_RESTORE
#include <unistd.h>
#include "restart/rst.h"

static int netlink_open(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_netlink *k = f->data;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_pid = k->portid };
	int fd = socket(AF_NETLINK, (int)k->type | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0 || (k->portid && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)) {
		rst_error(s, "%s: netlink route socket (port id %u): %s", rst_file_what(f),
			  k->portid, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (int g = 1; g <= 64; g++)
		if ((k->groups >> (g - 1)) & 1)
			setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g));
	if (k->rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ k->rcvbuf / 2 }, sizeof(int));
	if (k->sndbuf)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ k->sndbuf / 2 }, sizeof(int));
	if ((f->f.flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

const struct fd_restore_ops fd_netlink_restore = { .kind = IMG_FILE_NETLINK,
						   .open = netlink_open };
#endif
