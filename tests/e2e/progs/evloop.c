/*
 * evloop.c - an event loop as servers and file watchers write them
 * (tests/e2e/t_evloop.sh): one epoll instance waits on an inotify fd
 * watching DIR, a 50 ms periodic timerfd and an eventfd.  Each file made
 * in DIR is printed ("file NAME wd 1 n N") and counted through the eventfd
 * (the loop posts 1 per file and takes the count when the eventfd is
 * ready: "posted N"); every 20th timer tick prints "tick T".  A file named
 * "stop" ends it: "DONE files F posted P ticks T", exit 0 when every file
 * came exactly once, in order of creation names (a1 a2 ... b1 ...), the
 * eventfd's count equals the files and the timer ticked.
 *
 *   evloop DIR [poll]
 *
 * With "poll", the loop waits with poll() on the three fds instead of
 * epoll (the same loop without an epoll fd: what a restart can do while
 * epoll is not saved).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define BAD(...)							\
	do {								\
		printf("BAD " __VA_ARGS__);				\
		printf(" (errno %s)\n", strerror(errno));		\
		exit(1);						\
	} while (0)

int main(int argc, char **argv)
{
	struct itimerspec its = { { 0, 50000000 }, { 0, 50000000 } };
	struct epoll_event ev, evs[8];
	uint64_t files = 0, posted = 0, ticks = 0;
	char seen[64][32];
	int ep = -1, in, tf, ef, use_poll = argc == 3 && !strcmp(argv[2], "poll");

	if (argc != 2 && !use_poll) {
		fprintf(stderr, "usage: evloop DIR [poll]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((!use_poll && (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) || (in = inotify_init1(IN_NONBLOCK)) < 0 ||
	    (tf = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)) < 0 ||
	    (ef = eventfd(0, EFD_NONBLOCK)) < 0)
		BAD("setup");
	if (inotify_add_watch(in, argv[1], IN_CREATE | IN_MOVED_TO) != 1)
		BAD("inotify_add_watch %s", argv[1]);
	if (timerfd_settime(tf, 0, &its, NULL) < 0)
		BAD("timerfd_settime");
	for (int i = 0, fds[3] = { in, tf, ef }; i < 3 && !use_poll; i++) {
		ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = fds[i] };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			BAD("epoll_ctl");
	}
	printf("READY\n");
	for (;;) {
		int n;

		if (use_poll) {
			struct pollfd p[3] = { { in, POLLIN, 0 }, { tf, POLLIN, 0 }, { ef, POLLIN, 0 } };

			n = poll(p, 3, -1);
			for (int i = 0, k = 0; n > 0 && i < 3; i++)
				if (p[i].revents)
					evs[k++].data.fd = p[i].fd;
			if (n > 0) {
				n = 0;
				for (int i = 0; i < 3; i++)
					n += !!p[i].revents;
			}
		} else {
			n = epoll_wait(ep, evs, 8, -1);
		}

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			BAD("epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			uint64_t v;

			if (fd == tf) {
				if (read(tf, &v, 8) != 8)
					continue;	/* (spurious: nothing yet) */
				for (uint64_t k = 0; k < v; k++)
					if (++ticks % 20 == 0)
						printf("tick %llu\n", (unsigned long long)ticks);
			} else if (fd == ef) {
				if (read(ef, &v, 8) == 8)
					posted += v;
			} else if (fd == in) {
				char buf[4096] __attribute__((aligned(8)));
				ssize_t len = read(in, buf, sizeof(buf));

				for (ssize_t at = 0; len > 0 && at < len;) {
					struct inotify_event *e = (struct inotify_event *)(buf + at);

					at += sizeof(*e) + e->len;
					if (e->mask & IN_Q_OVERFLOW)
						BAD("IN_Q_OVERFLOW");
					if (!e->len)
						continue;
					if (!strcmp(e->name, "stop")) {
						int ok = ticks > 0;

						/* the eventfd's last posts: read what is left */
						if (read(ef, &v, 8) == 8)
							posted += v;
						ok &= posted == files;
						printf("DONE files %llu posted %llu ticks %llu\n",
						       (unsigned long long)files,
						       (unsigned long long)posted,
						       (unsigned long long)ticks);
						return ok ? 0 : 1;
					}
					for (uint64_t k = 0; k < files && k < 64; k++)
						if (!strcmp(seen[k], e->name))
							BAD("file %s reported twice", e->name);
					if (files < 64)
						snprintf(seen[files], sizeof(seen[0]), "%s", e->name);
					files++;
					printf("file %s wd %d n %llu\n", e->name, e->wd,
					       (unsigned long long)files);
					v = 1;
					if (write(ef, &v, 8) != 8)
						BAD("eventfd write");
				}
			}
		}
	}
}
