/*
 * ptypair - an expect-like driver, for t_tty_pty.sh: it makes a pty
 * (forkpty, 33x77, packet mode off) and runs PROG ARGS on it as the
 * pty's session leader, then relays: what arrives on its stdin goes to
 * the master, what the master reads goes to its stdout.  Its own fds 0-2
 * are pipes (no terminal of its own).  Prints first:
 *
 *   READY pid=P child=C pts=/dev/pts/N
 *
 * and "EXITED status" when PROG has exited and the pty is drained.  Lines
 * of its stdin that start with "@@" are its own, not relayed:
 *   @@hold    from then on it stops reading the master (what PROG writes
 *             stays in the pty, unread);
 *   @@pkt     packet mode on (TIOCPKT): each read of the master starts
 *             with a control byte, which it drops;
 *   @@state   prints "STATE pkt=N locked=N ptsname=/dev/pts/N" (TIOCGPKT,
 *             TIOCGPTLCK, ptsname of its master).
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int put(int fd, const char *buf, ssize_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, (size_t)n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct winsize ws = { 33, 77, 0, 0 };
	char name[64], buf[4096];
	int master, status, hold = 0, pkt = 0;
	pid_t child;

	if (argc < 2) {
		fprintf(stderr, "usage: ptypair PROG [ARGS...]\n");
		return 2;
	}
	child = forkpty(&master, name, NULL, &ws);
	if (child < 0) {
		perror("ptypair: forkpty");
		return 1;
	}
	if (child == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	printf("READY pid=%d child=%d pts=%s\n", getpid(), child, name);
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = { { 0, POLLIN, 0 }, { hold ? -1 : master, POLLIN, 0 } };
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("ptypair: poll");
			return 1;
		}
		if (p[1].revents) {
			n = read(master, buf, sizeof(buf));
			if (n > 0) {
				if (pkt)	/* the control byte (TIOCPKT_DATA: 0) first */
					put(1, buf + 1, n - 1);
				else
					put(1, buf, n);
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			break;		/* EIO: every slave fd is closed */
		}
		if (p[0].revents) {
			n = read(0, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (n >= 6 && !memcmp(buf, "@@hold", 6)) {
				hold = 1;
				printf("HOLDING\n");
				fflush(stdout);
				continue;
			}
			if (n >= 5 && !memcmp(buf, "@@pkt", 5)) {
				int one = 1;

				pkt = ioctl(master, TIOCPKT, &one) == 0;
				printf("PACKET %d\n", pkt);
				fflush(stdout);
				continue;
			}
			if (n >= 7 && !memcmp(buf, "@@state", 7)) {
				int v = -1, l = -1;

				ioctl(master, TIOCGPKT, &v);
				ioctl(master, TIOCGPTLCK, &l);
				printf("STATE pkt=%d locked=%d ptsname=%s\n", v, l, ptsname(master));
				fflush(stdout);
				continue;
			}
			put(master, buf, n);
		}
	}
	waitpid(child, &status, 0);
	printf("EXITED %d\n", status);
	return 0;
}
