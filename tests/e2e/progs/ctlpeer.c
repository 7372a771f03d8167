/*
 * ctlpeer.c - a ckpt-save that anyone could write (the protocol is
 * documented, libckpt/ctl_proto.h): no check of its own, any request
 * field, can hang up at once.  For tests/e2e/t_secpeer.sh: what the
 * process refuses must be refused by the process itself.
 *
 *   ctlpeer PID FILE [--path P] [--tmp NAME] [--version N] [--hangup]
 * Opens FILE (created 0600, truncated) as the image fd, signals PID with
 * libckpt's signal (63), accepts its connection, sends one request with
 * the fd (path P, tmp_name NAME, both "" unless given) and prints
 * "STATUS <status> <msg>" from the reply.  --version 1 sends the 16-byte
 * request of protocol version 1; --hangup exits right after the request
 * ("SENT"), as a killed ckpt-save would.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "libckpt/ctl_proto.h"

static int die(const char *what)
{
	printf("ERROR %s: %s\n", what, strerror(errno));
	return 2;
}

int main(int argc, char **argv)
{
	static struct ctl_request req;
	struct ctl_reply rep;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd p;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	int version = CTL_VERSION, hangup = 0, pid, fd, l, c;
	char name[64];
	ssize_t n;

	if (argc < 3)
		return fprintf(stderr, "usage: ctlpeer PID FILE [--path P] [--tmp NAME] "
			       "[--version N] [--hangup]\n"), 1;
	pid = atoi(argv[1]);
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--path") && i + 1 < argc)
			snprintf(req.path, sizeof(req.path), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--tmp") && i + 1 < argc)
			snprintf(req.tmp_name, sizeof(req.tmp_name), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--version") && i + 1 < argc)
			version = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--hangup"))
			hangup = 1;
	}
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return die("open");
	/* ctl_sock_name(): "\0libckpt-ctl.<pid>" */
	l = snprintf(name, sizeof(name), "libckpt-ctl.%d", (int)getpid());
	memcpy(sun.sun_path + 1, name, l);
	l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sun,
			  offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name)) < 0 ||
	    listen(l, 1) < 0)
		return die("listen");
	if (sigqueue(pid, 63, (union sigval){ .sival_int = getpid() }) < 0)
		return die("sigqueue");
	p = (struct pollfd){ .fd = l, .events = POLLIN };
	if (poll(&p, 1, 10000) != 1)
		return printf("ERROR no connection in 10 s\n"), 2;
	c = accept(l, NULL, NULL);
	if (c < 0 || getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 || cr.pid != pid)
		return die("accept");
	req.magic = CTL_REQ_MAGIC;
	req.version = version;
	{
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct iovec iov = { &req, version == 1 ? 16 : sizeof(req) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

		memset(&ctl, 0, sizeof(ctl));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		if (sendmsg(c, &msg, MSG_NOSIGNAL) < 0)
			return die("sendmsg");
	}
	if (hangup) {
		printf("SENT\n");
		return 0;
	}
	n = recv(c, &rep, sizeof(rep), 0);
	if (n != (ssize_t)sizeof(rep)) {
		printf("CLOSED %zd\n", n);
		return 0;
	}
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	printf("STATUS %d %s\n", rep.status, rep.msg);
	return 0;
}
