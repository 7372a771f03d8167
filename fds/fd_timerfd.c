/*
 * fd_timerfd.c - timerfds (timerfd_create(2)): a timer whose expirations
 * a read counts.  Saved from fdinfo: the clock ("clockid"), the time left
 * and the period ("it_value", "it_interval": relative, as timerfd_gettime
 * gives them), the flags of the last timerfd_settime ("settime flags":
 * TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET) and the expirations not yet
 * read ("ticks"); O_NONBLOCK from the file's flags (TFD_CLOEXEC is the FD
 * record's FD_CLOEXEC).
 *
 * Time: as for POSIX timers (libckpt/ckpt_timer.c), the time between
 * checkpoint and restart does not count: a restart arms the timer with
 * the time that was left and the same period.  A TFD_TIMER_ABSTIME timer
 * too (also on CLOCK_REALTIME: it fires as late after the restart as it
 * would have after the checkpoint, not at its old wall-clock time; a
 * CLOCK_MONOTONIC or BOOTTIME deadline means nothing on another boot); it
 * is armed TFD_TIMER_ABSTIME at the clock's now + time left, so
 * TFD_TIMER_CANCEL_ON_SET still works.  The timer runs from the moment
 * ckpt-restart makes the fd, before the process's memory is loaded.
 *
 * Expirations not read: given back with TFD_IOC_SET_TICKS (Linux 3.17,
 * CONFIG_CHECKPOINT_RESTORE) once the timer is armed (arming clears
 * them); a kernel without it is a problem of --check ("cannot give back
 * N expirations").  Alarm clocks (CLOCK_*_ALARM) need CAP_WAKE_ALARM at
 * restart as they did at creation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "fds/fd_kind.h"

#define TIMERFD_OFLAGS	(O_ACCMODE | O_NONBLOCK)
#define TIMERFD_NS_MAX	(UINT64_C(1) << 62)	/* a time a timespec holds with room to add */

#ifndef CLOCK_REALTIME_ALARM
#define CLOCK_REALTIME_ALARM	8
#define CLOCK_BOOTTIME_ALARM	9
#endif

static int clock_ok(int32_t clock)
{
	return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME ||
	       clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM;
}

static int timerfd_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	const struct img_file_timerfd *d = data;

	if (f->data_len != sizeof(*d) || !clock_ok(d->clock) || (d->flags & ~IMG_TIMERFD_FLAGS) ||
	    d->value_ns >= TIMERFD_NS_MAX || d->interval_ns >= TIMERFD_NS_MAX ||
	    (f->flags & ~(uint32_t)TIMERFD_OFLAGS) || (f->flags & O_ACCMODE) != O_RDWR) {
		snprintf(err, len, "%u bytes of kind data, flags %#o, clock %d, timer flags %#x",
			 f->data_len, f->flags, f->data_len == sizeof(*d) ? d->clock : -1,
			 f->data_len == sizeof(*d) ? d->flags : 0);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_timerfd_info = { IMG_FILE_TIMERFD, "timerfd", timerfd_valid };

#ifdef FD_SAVE
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "fds/fd_ev.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

static int timerfd_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return !__builtin_strcmp(p->path, "anon_inode:[timerfd]");
}

/*
 * The timer's state into t: timerfd_gettime first, which is what brings
 * a periodic timer that has expired up to date (the kernel counts its
 * further expirations, and re-arms it, only when it is read or asked:
 * until then fdinfo shows 1 expiration and no time left), then fdinfo.
 * The program sees nothing of it: its next read or gettime would do the
 * same.  0, or the refusal.
 */
static int timerfd_state(struct ckpt_ctx *c, const struct fd_probe *p, struct fd_ev_timer *t)
{
	struct { struct timespec interval, value; } its;
	char name[64], buf[1024];

	ckpt_fmt(name, sizeof(name), "/proc/self/fdinfo/%d", p->fd);
	if (arch_sys2(SYS_timerfd_gettime, p->fd, &its) < 0 ||
	    ckpt_read_file(name, buf, sizeof(buf)) < 0 || fd_ev_timerfd(buf, t) < 0)
		return ckpt_fail(c, -EINVAL, "fd %d: a timerfd whose fdinfo does not show its "
				 "clock, time left and expirations (\"clockid\", \"it_value\", "
				 "\"ticks\"); it cannot be saved%s", p->fd, p->origin);
	t->value_ns = (uint64_t)its.value.tv_sec * 1000000000 + (uint64_t)its.value.tv_nsec;
	t->interval_ns = (uint64_t)its.interval.tv_sec * 1000000000 +
			 (uint64_t)its.interval.tv_nsec;
	if (!clock_ok(t->clock))
		return ckpt_fail(c, -ENOTSUP, "fd %d: a timerfd on clock %d, which libckpt does "
				 "not know; not supported%s", p->fd, t->clock, p->origin);
	if ((t->flags & ~(uint32_t)IMG_TIMERFD_FLAGS) || t->value_ns >= TIMERFD_NS_MAX ||
	    t->interval_ns >= TIMERFD_NS_MAX)
		return ckpt_fail(c, -ENOTSUP, "fd %d: a timerfd with settime flags %#o, %llu ns "
				 "left, period %llu ns: not supported%s", p->fd, t->flags,
				 (unsigned long long)t->value_ns, (unsigned long long)t->interval_ns,
				 p->origin);
	return 0;
}

static int timerfd_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	struct fd_ev_timer t;

	return timerfd_state(c, p, &t);
}

static int timerfd_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
			void *data, size_t cap)
{
	struct fd_ev_timer t;
	struct img_file_timerfd d = { 0 };
	int r = timerfd_state(c, p, &t);

	if (r < 0)
		return r;
	d.clock = t.clock;
	d.flags = t.flags;
	d.value_ns = t.value_ns;
	d.interval_ns = t.interval_ns;
	d.ticks = t.ticks;
	f->flags = (p->flags & O_NONBLOCK) | O_RDWR;
	__builtin_memcpy(data, &d, sizeof(d));
	return sizeof(d);
}

const struct fd_save_ops fd_timerfd_save = { .kind = IMG_FILE_TIMERFD, .match = timerfd_match,
					     .check = timerfd_check, .save = timerfd_save };
#endif

#ifdef FD_RESTORE
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "restart/rst.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS	_IOW('T', 0, uint64_t)
#endif

static const char *clock_name(int32_t clock)
{
	switch (clock) {
	case CLOCK_REALTIME:		return "CLOCK_REALTIME";
	case CLOCK_MONOTONIC:		return "CLOCK_MONOTONIC";
	case CLOCK_BOOTTIME:		return "CLOCK_BOOTTIME";
	case CLOCK_REALTIME_ALARM:	return "CLOCK_REALTIME_ALARM";
	default:			return "CLOCK_BOOTTIME_ALARM";
	}
}

/* The machine can make it: its clock (alarm clocks: CAP_WAKE_ALARM), its ticks. */
static int timerfd_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_timerfd *d = f->data;
	uint64_t one = 1;
	int fd = timerfd_create(d->clock, TFD_CLOEXEC), r = 0;

	if (fd < 0)
		return rst_problem(s, errno == EPERM ? RST_EXIT_ENV : RST_EXIT_INCOMPAT,
				   "fd %d is a timerfd on %s, which cannot be made here: %s%s",
				   f->first_fd, clock_name(d->clock), strerror(errno),
				   errno == EPERM ? " (alarm clocks need CAP_WAKE_ALARM)" : "");
	if (d->ticks && ioctl(fd, TFD_IOC_SET_TICKS, &one) < 0)
		r = rst_problem(s, RST_EXIT_INCOMPAT, "fd %d is a timerfd with %llu expirations "
				"not read yet, which this kernel cannot give back "
				"(TFD_IOC_SET_TICKS: %s; it needs CONFIG_CHECKPOINT_RESTORE)",
				f->first_fd, (unsigned long long)d->ticks, strerror(errno));
	close(fd);
	return r;
}

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
}

static int timerfd_open(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_timerfd *d = f->data;
	struct itimerspec its = { ts_of(d->interval_ns), ts_of(d->value_ns) };
	int flags = 0, fd;

	fd = timerfd_create(d->clock, TFD_CLOEXEC | ((f->f.flags & O_NONBLOCK) ? TFD_NONBLOCK : 0));
	if (fd < 0) {
		rst_error(s, "fd %d: cannot make the timerfd again (%s): %s", f->first_fd,
			  clock_name(d->clock), strerror(errno));
		return -1;
	}
	if (d->flags & IMG_TIMERFD_ABSTIME) {
		struct timespec now;

		flags = TFD_TIMER_ABSTIME | ((d->flags & IMG_TIMERFD_CANCEL_ON_SET) ?
					     TFD_TIMER_CANCEL_ON_SET : 0);
		if (d->value_ns && clock_gettime(d->clock, &now) == 0)
			its.it_value = ts_of((uint64_t)now.tv_sec * 1000000000 +
					     (uint64_t)now.tv_nsec + d->value_ns);
	}
	if (timerfd_settime(fd, flags, &its, NULL) < 0) {
		rst_error(s, "fd %d: cannot arm the timerfd again (%llu ns left, period %llu ns): "
			  "%s", f->first_fd, (unsigned long long)d->value_ns,
			  (unsigned long long)d->interval_ns, strerror(errno));
		close(fd);
		return -1;
	}
	if (d->ticks && ioctl(fd, TFD_IOC_SET_TICKS, &d->ticks) < 0) {
		rst_error(s, "fd %d: cannot give the timerfd back its %llu expirations not read "
			  "yet (TFD_IOC_SET_TICKS): %s", f->first_fd,
			  (unsigned long long)d->ticks, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

const struct fd_restore_ops fd_timerfd_restore = { .kind = IMG_FILE_TIMERFD,
						   .verify = timerfd_verify,
						   .open = timerfd_open };
#endif
