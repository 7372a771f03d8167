/*
 * ckpt_timer.c - TIMER records: the interval timers (setitimer, alarm)
 * and the POSIX timers (timer_create), each with its time left.
 *
 * Interval timers come from getitimer, one record per armed one.  POSIX
 * timers are listed by /proc/self/timers (id, signal and sigev_value,
 * notification, clock) and read with timer_gettime; every one is saved,
 * armed or not, since its id is the application's handle.  libckpt's own
 * timer (CKPT_INTERVAL: it signals libckpt's signal) is left out: a
 * restarted copy arms its own again (shim_arm_interval).
 *
 * Read by the leader while every other thread is parked, so the
 * application changes nothing meanwhile; the clocks go on, and the time
 * left is what it was when read.  A restart arms each timer with that
 * time left and the same period (restart/restorer.c): the time between
 * checkpoint and restart does not count, as for sleeps (wrap_time.c).
 */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"

static uint64_t ns_of(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000 + (uint64_t)t->tv_nsec;
}

static int write_itimers(struct ckpt_ctx *c)
{
	for (int which = 0; which < 3; which++) {
		struct itimerval it;
		struct img_timer t = { .kind = IMG_TIMER_ITIMER, .id = which };

		if (arch_sys2(SYS_getitimer, which, &it) < 0 ||
		    (!it.it_value.tv_sec && !it.it_value.tv_usec))
			continue;
		t.value_ns = (uint64_t)it.it_value.tv_sec * 1000000000 +
			     (uint64_t)it.it_value.tv_usec * 1000;
		t.interval_ns = (uint64_t)it.it_interval.tv_sec * 1000000000 +
				(uint64_t)it.it_interval.tv_usec * 1000;
		img_write_record(&c->w, IMG_REC_TIMER, &t, sizeof(t), NULL, 0);
	}
	return c->w.error;
}

/* Whether tid is a thread of this checkpoint (the leader or a parked one). */
static int saved_thread(const struct ckpt_ctx *c, int tid)
{
	if (tid == c->leader.img.tid)
		return 1;
	for (int i = 0; i < ckpt_nparked && i < CKPT_MAX_THREADS; i++)
		if (ckpt_parked[i].img.tid == tid)
			return 1;
	return 0;
}

/*
 * One entry of /proc/self/timers, from s (at "ID: "):
 *   ID: 3
 *   signal: 10/00000000000003e9      signo / sigev_value
 *   notify: signal/tid.1234          signal|none|thread / pid|tid . id
 *   ClockID: 1
 * Fills t but the times; returns the text after it, or NULL if malformed.
 */
static const char *parse_timer(const char *s, struct img_timer *t)
{
	const char *n;

	s += 4;
	t->id = (int32_t)ckpt_parse_dec(&s);
	if (!(s = __builtin_strstr(s, "signal: ")))
		return NULL;
	s += 8;
	t->signo = (int32_t)ckpt_parse_dec(&s);
	if (*s++ != '/')
		return NULL;
	t->sigval = ckpt_parse_hex(&s);
	if (!(s = __builtin_strstr(s, "notify: ")))
		return NULL;
	n = s + 8;
	if (!__builtin_strncmp(n, "signal/", 7))
		t->notify = IMG_SIGEV_SIGNAL;
	else if (!__builtin_strncmp(n, "none/", 5))
		t->notify = IMG_SIGEV_NONE;
	else if (!__builtin_strncmp(n, "thread/", 7))
		t->notify = IMG_SIGEV_THREAD;
	else
		return NULL;
	while (*n && *n != '/')
		n++;
	if (!__builtin_strncmp(n, "/tid.", 5)) {
		n += 5;
		t->notify_tid = (int32_t)ckpt_parse_dec(&n);
		t->notify |= IMG_SIGEV_THREAD_ID;
	}
	if (!(s = __builtin_strstr(n, "ClockID: ")))
		return NULL;
	s += 9;
	t->clock = (int32_t)ckpt_parse_dec(&s);
	if (t->notify == IMG_SIGEV_NONE)
		t->signo = 0;		/* the kernel keeps one, unused */
	return s;
}

static int write_posix_timers(struct ckpt_ctx *c)
{
	char *buf = (char *)c->bounce;
	ssize_t len = ckpt_read_file("/proc/self/timers", buf, IMG_PAGES_MAX * IMG_PAGE_SIZE);
	const char *s = buf;

	if (len == -ENOENT)		/* a kernel without CONFIG_CHECKPOINT_RESTORE */
		return 0;
	if (len < 0)
		return ckpt_fail(c, (int)len, "cannot read /proc/self/timers");
	while ((s = __builtin_strstr(s, "ID: "))) {
		struct img_timer t = { .kind = IMG_TIMER_POSIX };
		struct { struct timespec interval, value; } its;
		long r;

		if (!(s = parse_timer(s, &t)))
			return ckpt_fail(c, -EINVAL, "cannot parse /proc/self/timers");
		if (t.notify != IMG_SIGEV_NONE && t.signo == c->ctl_sig_no)
			continue;		/* libckpt's own */
		if ((t.notify & IMG_SIGEV_THREAD_ID) && !saved_thread(c, t.notify_tid))
			return ckpt_fail(c, -ESRCH, "POSIX timer %d signals thread %d, which has "
					 "exited", t.id, t.notify_tid);
		if ((r = arch_sys2(SYS_timer_gettime, t.id, &its)) < 0)
			return ckpt_fail(c, (int)r, "cannot read POSIX timer %d", t.id);
		t.value_ns = ns_of(&its.value);
		t.interval_ns = ns_of(&its.interval);
		img_write_record(&c->w, IMG_REC_TIMER, &t, sizeof(t), NULL, 0);
	}
	return c->w.error;
}

int ckpt_timer_write(struct ckpt_ctx *c)
{
	return write_itimers(c) < 0 ? c->w.error : write_posix_timers(c);
}
