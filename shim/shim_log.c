/*
 * shim_log.c - one line per event on stderr, "libckpt[pid]: ...".
 * Async-signal-safe (ckpt_fmt + write); errors only unless CKPT_LOG says
 * otherwise, so a successful run prints nothing.
 */
#include <errno.h>
#include <unistd.h>
#include "libckpt/ckpt_fmt.h"
#include "shim/shim_int.h"

void shim_log(int level, const char *fmt, ...)
{
	char buf[1024];
	size_t n;
	va_list ap;
	int saved = errno;

	if (level > shim_cfg.log_level)
		return;
	n = ckpt_fmt(buf, sizeof(buf) - 1, "libckpt[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += ckpt_vfmt(buf + n, sizeof(buf) - 1 - n, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	if (write(2, buf, n) < 0) {
		/* nowhere to report it */
	}
	errno = saved;
}
