/*
 * fd_ev.h - what the kernel shows of event fds in /proc/self/fdinfo/N
 * (fds/fd_evinfo.c), for their kinds' save halves (fd_eventfd.c,
 * fd_timerfd.c, fd_signalfd.c, fd_inotify.c).  Plain parsers of the text,
 * no system call: async-signal-safe, unit-tested (tests/unit/test_evfd.c).
 * Each returns 0, or -1 when a line it needs is missing or malformed.
 */
#ifndef CKPT_FD_EV_H
#define CKPT_FD_EV_H

#include <stdint.h>

/* The text after "key" where a line of info starts with it, or NULL. */
const char *fd_ev_field(const char *info, const char *key);

/*
 * "eventfd-count:" (hex) and "eventfd-semaphore:" (Linux 6.6): *sem is 0 or 1, or -1 when the kernel
 * does not say.
 */
int fd_ev_eventfd(const char *info, uint64_t *count, int *sem);

struct fd_ev_timer {
	int clock;			/* "clockid:" */
	uint64_t ticks;			/* "ticks:" */
	uint32_t flags;			/* "settime flags:" (octal): TFD_TIMER_* */
	uint64_t value_ns, interval_ns;	/* "it_value: (s, ns)", "it_interval:" */
};
int fd_ev_timerfd(const char *info, struct fd_ev_timer *t);

/* "sigmask:" (hex): bit n-1 is signal n. */
int fd_ev_signalfd(const char *info, uint64_t *mask);

#define FD_EV_HANDLE_MAX	128	/* MAX_HANDLE_SZ */

/* One "inotify wd:.. ino:.. sdev:.. mask:.. ignored_mask:.. fhandle-..." line (all hex). */
struct fd_ev_watch {
	int wd;
	uint64_t ino;			/* hex in fdinfo */
	uint32_t sdev;			/* the kernel's dev_t: major << 20 | minor */
	uint32_t mask, ignored_mask;
	uint32_t handle_bytes;		/* 0: none shown */
	int handle_type;
	unsigned char handle[FD_EV_HANDLE_MAX];
};

/*
 * The next watch line at or after *s: 1 and w (and *s past the line), 0
 * when there is none, -1 when one is malformed.
 */
int fd_ev_inotify_next(const char **s, struct fd_ev_watch *w);

/* The kernel's dev_t (fdinfo "sdev") as stat's st_dev. */
uint64_t fd_ev_dev(uint32_t sdev);

#endif
