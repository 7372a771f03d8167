/*
 * stdio.c - standard input and output redirected, and O_PATH fds, across
 * a checkpoint (tests/e2e/t_stdio.sh).
 *
 *   stdio IMG|- DIR
 *
 * Copies stdin to stdout line by line, "N: line", reading with read(2)
 * one byte at a time (so the fd offset is exactly what was consumed, as
 * `sort -o` or a filter relies on).  After the third line it is
 * checkpointed: IMG, by its own ckpt_save(), or "-": it prints "READY
 * <pid>" on stderr and waits for DIR/go, the test's ckpt-save, and then
 * the test kills it.  The original stops there ("SAVED" on stderr, then
 * it waits to be killed); the restarted copy ("RESTORED") copies the
 * rest.  It holds O_PATH fds on DIR/file, on DIR itself and on the
 * symbolic link DIR/link (O_NOFOLLOW); at the end it checks that each
 * still names the same kind of file (and the directory one still works
 * with openat) and prints "OPATH ok", then "FDS" and its open fds, then
 * "DONE".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(2, buf, n) < 0)
		_exit(3);
}

/* One line from fd 0 into buf: its length, 0 at EOF. */
static size_t read_line(char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap && read(0, buf + n, 1) == 1)
		if (buf[n++] == '\n')
			break;
	buf[n] = '\0';
	return n;
}

static void wait_for(const char *path)
{
	struct timespec ms = { 0, 10 * 1000 * 1000 };

	while (access(path, F_OK) < 0)
		nanosleep(&ms, NULL);
}

static int check_opath(int fd, mode_t type, const char *what)
{
	struct stat st;

	if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0 || (st.st_mode & S_IFMT) != type) {
		say("OPATH %s: fstat %s, mode %o\n", what, strerror(errno), st.st_mode);
		return 1;
	}
	if (!(fcntl(fd, F_GETFL) & O_PATH)) {
		say("OPATH %s: not O_PATH any more\n", what);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char line[1024], path[4096], go[4200];
	int pfile, pdir, plink, sub, bad = 0;
	size_t n;
	DIR *d;
	struct dirent *e;

	if (argc != 3)
		return 2;
	snprintf(path, sizeof(path), "%s/file", argv[2]);
	pfile = open(path, O_PATH | O_CLOEXEC);
	pdir = open(argv[2], O_PATH | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/link", argv[2]);
	plink = open(path, O_PATH | O_NOFOLLOW);
	if (pfile < 0 || pdir < 0 || plink < 0) {
		say("open O_PATH: %s\n", strerror(errno));
		return 2;
	}
	for (int i = 1; (n = read_line(line, sizeof(line))) > 0; i++) {
		printf("%d: %s", i, line);
		fflush(stdout);
		if (i != 3)
			continue;
		if (strcmp(argv[1], "-")) {
			int r = ckpt_save(argv[1]);

			if (r == CKPT_SAVED) {
				say("SAVED\n");
				for (;;)
					pause();
			}
			if (r != CKPT_RESTORED) {
				say("ckpt_save: %s\n", ckpt_last_error());
				return 2;
			}
			say("RESTORED\n");
		} else {
			snprintf(go, sizeof(go), "%s/go", argv[2]);
			say("READY %d\n", (int)getpid());
			wait_for(go);	/* the test saves us meanwhile, then kills us */
			say("RESTORED\n");
		}
	}
	bad |= check_opath(pfile, S_IFREG, "file");
	bad |= check_opath(pdir, S_IFDIR, "dir");
	bad |= check_opath(plink, S_IFLNK, "link");
	if (!(fcntl(pfile, F_GETFD) & FD_CLOEXEC) || (fcntl(pdir, F_GETFD) & FD_CLOEXEC)) {
		say("OPATH: FD_CLOEXEC lost or gained\n");
		bad = 1;
	}
	sub = openat(pdir, "file", O_RDONLY);
	if (sub < 0 || read(sub, line, 4) != 4 || memcmp(line, "data", 4)) {
		say("OPATH dir: openat: %s\n", strerror(errno));
		bad = 1;
	}
	if (sub >= 0)
		close(sub);
	if (!bad)
		say("OPATH ok\n");
	/* the fd table: what the process has, nothing of ckpt-restart's */
	say("FDS");
	if ((d = opendir("/proc/self/fd"))) {
		while ((e = readdir(d)))
			if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
				say(" %s", e->d_name);
		closedir(d);
	}
	say("\nDONE\n");
	return bad;
}
