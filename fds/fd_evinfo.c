/*
 * fd_evinfo.c - parsers of the event fds' fdinfo text (fd_ev.h).  The
 * kernel's formats (fs/eventfd.c, fs/timerfd.c, fs/signalfd.c,
 * fs/notify/fdinfo.c), e.g.
 *
 *   eventfd-count:               14      (hex)
 *   eventfd-id: 1
 *   eventfd-semaphore: 1
 *
 *   clockid: 1
 *   ticks: 0
 *   settime flags: 03
 *   it_value: (1, 999990386)
 *   it_interval: (0, 300000000)
 *
 *   sigmask:	0000001000000200
 *
 *   inotify wd:1 ino:3c51a sdev:fe00000 mask:300 ignored_mask:0 fhandle-bytes:8 (all hex)
 *   fhandle-type:1 f_handle:1ac5030000000000   (one line)
 *
 * No libc: these run in the checkpoint's signal handler.
 */
#include <stddef.h>
#include "fds/fd_ev.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

const char *fd_ev_field(const char *info, const char *key)
{
	size_t n = __builtin_strlen(key);

	for (const char *s = info; s && *s;) {
		if (!__builtin_strncmp(s, key, n))
			return s + n;
		while (*s && *s != '\n')
			s++;
		if (*s)
			s++;
	}
	return (const char *)0;
}

/* Digits in `base` (8, 10 or 16) after blanks: 0 and *v, -1 if there are none. */
static int num(const char **sp, int base, uint64_t *v)
{
	const char *s = *sp;
	int any = 0;

	while (is_space(*s))
		s++;
	*v = 0;
	for (;; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (d >= base)
			break;
		*v = *v * base + d;
		any = 1;
	}
	*sp = s;
	return any ? 0 : -1;
}

static int field_num(const char *info, const char *key, int base, uint64_t *v)
{
	const char *s = fd_ev_field(info, key);

	return s ? num(&s, base, v) : -1;
}

int fd_ev_eventfd(const char *info, uint64_t *count, int *sem)
{
	uint64_t v;

	if (field_num(info, "eventfd-count:", 16, count) < 0)
		return -1;
	*sem = field_num(info, "eventfd-semaphore:", 10, &v) < 0 ? -1 : v != 0;
	return 0;
}

/* "(sec, nsec)" as nanoseconds. */
static int timespec_ns(const char *info, const char *key, uint64_t *ns)
{
	const char *s = fd_ev_field(info, key);
	uint64_t sec, nsec;

	if (!s)
		return -1;
	while (is_space(*s))
		s++;
	if (*s++ != '(' || num(&s, 10, &sec) < 0 || *s++ != ',' || num(&s, 10, &nsec) < 0 ||
	    *s != ')' || nsec >= 1000000000 || sec > UINT64_MAX / 1000000000 - 1)
		return -1;
	*ns = sec * 1000000000 + nsec;
	return 0;
}

int fd_ev_timerfd(const char *info, struct fd_ev_timer *t)
{
	uint64_t clock, flags;

	if (field_num(info, "clockid:", 10, &clock) < 0 || clock > 63 ||
	    field_num(info, "ticks:", 10, &t->ticks) < 0 ||
	    field_num(info, "settime flags:", 8, &flags) < 0 ||
	    timespec_ns(info, "it_value:", &t->value_ns) < 0 ||
	    timespec_ns(info, "it_interval:", &t->interval_ns) < 0)
		return -1;
	t->clock = (int)clock;
	t->flags = (uint32_t)flags;
	return 0;
}

int fd_ev_signalfd(const char *info, uint64_t *mask)
{
	return field_num(info, "sigmask:", 16, mask);
}

/* "key" right at s (after blanks), then a number in base: 0, or -1. */
static int keyed(const char **s, const char *key, int base, uint64_t *v)
{
	size_t n = __builtin_strlen(key);

	while (is_space(**s))
		(*s)++;
	if (__builtin_strncmp(*s, key, n))
		return -1;
	*s += n;
	return num(s, base, v);
}

int fd_ev_inotify_next(const char **sp, struct fd_ev_watch *w)
{
	const char *s = fd_ev_field(*sp, "inotify ");
	uint64_t wd, ino, sdev, mask, ign, hb, ht;

	if (!s)
		return 0;
	if (keyed(&s, "wd:", 16, &wd) < 0 || wd == 0 || wd > 0x7fffffff ||
	    keyed(&s, "ino:", 16, &ino) < 0 || keyed(&s, "sdev:", 16, &sdev) < 0 ||
	    sdev > 0xffffffffu || keyed(&s, "mask:", 16, &mask) < 0 || mask > 0xffffffffu ||
	    keyed(&s, "ignored_mask:", 16, &ign) < 0 || ign > 0xffffffffu)
		return -1;
	w->wd = (int)wd;
	w->ino = ino;
	w->sdev = (uint32_t)sdev;
	w->mask = (uint32_t)mask;
	w->ignored_mask = (uint32_t)ign;
	w->handle_bytes = 0;
	w->handle_type = 0;
	/* a kernel without CONFIG_EXPORTFS (or a file system without handles) shows none */
	if (keyed(&s, "fhandle-bytes:", 16, &hb) == 0) {
		if (hb > FD_EV_HANDLE_MAX || keyed(&s, "fhandle-type:", 16, &ht) < 0)
			return -1;
		while (is_space(*s))
			s++;
		if (__builtin_strncmp(s, "f_handle:", 9))
			return -1;
		s += 9;
		for (uint32_t i = 0; i < hb; i++) {
			char two[3] = { 0, 0, 0 };
			const char *t = two;
			uint64_t b;

			if (!s[0] || !s[1])
				return -1;
			two[0] = s[0];
			two[1] = s[1];
			if (num(&t, 16, &b) < 0 || t != two + 2)
				return -1;
			w->handle[i] = (unsigned char)b;
			s += 2;
		}
		w->handle_bytes = (uint32_t)hb;
		w->handle_type = (int)ht;
	}
	while (*s && *s != '\n')
		s++;
	*sp = s;
	return 1;
}

uint64_t fd_ev_dev(uint32_t sdev)
{
	uint64_t major = sdev >> 20, minor = sdev & 0xfffff;

	/* glibc's makedev */
	return (major & 0xfff) << 8 | (major & ~0xfffull) << 32 | (minor & 0xff) |
	       (minor & ~0xffull) << 12;
}
