/*
 * shim_inplace.c - whether a transparent checkpoint (ckpt-save,
 * CKPT_SIGNAL, CKPT_INTERVAL) has a forked copy write the pages, or
 * writes them in place (issue #15).
 *
 * The copy exists so that the application runs on while its pages are
 * written: its pause is the state's capture and the fork.  For a small
 * process the copy costs more than it saves, on the path ckpt-save waits
 * for: the fork (~0.2 ms), the copy's start (its /proc files opened
 * again; on a busy machine a new process also waits for a CPU: 2-35 ms
 * were seen on 2 loaded cores), its reply, exit and reaping — against
 * ~1 ms of pages a MiB.  So, unless CKPT_FORK says otherwise, a process
 * with at most SHIM_INPLACE_KIB of private memory (RssAnon) and at most
 * SHIM_INPLACE_THREADS threads (each thread's stored backtrace, ~0.1 ms
 * of unwinding, is in the pause when written in place) is written in
 * place: its pause is the whole save (~2-3 ms for a MiB), its ckpt-save
 * round trip ~0.4 ms shorter on an idle machine (docs/PERFORMANCE.md).
 * CKPT_FORK=1 always forks (where a fork is faithful), CKPT_FORK=0 never
 * does (shim_config.c).  The image is the same either way.
 *
 * Runs in the signal handler: raw system calls, no allocation.  When
 * /proc/self/status cannot be read or parsed, the copy is forked, as
 * before this rule.
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "shim/shim_int.h"

/* "\nKEY:<spaces>N ": N, or -1 when the key is absent or has no whole number. */
static long status_field(const char *s, const char *key)
{
	for (const char *p = s; *p; p++) {
		const char *k = key, *q = p;
		long v = 0;

		if (p != s && p[-1] != '\n')
			continue;
		while (*k && *q == *k)
			k++, q++;
		if (*k || *q != ':')
			continue;
		for (q++; *q == ' ' || *q == '\t'; q++)
			;
		if (*q < '0' || *q > '9')
			return -1;
		for (; *q >= '0' && *q <= '9'; q++) {
			if (v > (1L << 50))
				return -1;
			v = v * 10 + (*q - '0');
		}
		return *q ? v : -1;	/* a number cut short by the buffer is unknown */
	}
	return -1;
}

int shim_inplace_parse(const char *status, long *anon_kib, long *threads)
{
	*anon_kib = status_field(status, "RssAnon");
	*threads = status_field(status, "Threads");
	return *anon_kib >= 0 && *threads >= 1 ? 0 : -1;
}

int shim_inplace_small(long anon_kib, long threads)
{
	return anon_kib <= SHIM_INPLACE_KIB && threads <= SHIM_INPLACE_THREADS;
}

int shim_save_how(void)
{
	char buf[4096];
	long fd, n, got = 0, anon, threads;

	if (shim_cfg.no_fork || shim_cfg.fork_always)
		return SHIM_SAVE_FORK;		/* ctx_init() applies CKPT_FORK */
	fd = arch_sys4(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return SHIM_SAVE_FORK;
	while (got < (long)sizeof(buf) - 1 &&
	       (n = arch_sys3(SYS_read, fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	arch_sys1(SYS_close, fd);
	buf[got] = '\0';
	if (shim_inplace_parse(buf, &anon, &threads) < 0 || !shim_inplace_small(anon, threads))
		return SHIM_SAVE_FORK;
	shim_log(SHIM_LOG_DEBUG, "written in place: %ld KiB of private memory, %ld thread%s "
		 "(a forked copy costs more; CKPT_FORK=1 forks anyway)", anon, threads,
		 threads > 1 ? "s" : "");
	return 0;
}
