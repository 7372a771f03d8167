/*
 * files.c - open files, cwd, umask and rlimits survive checkpoint and
 * restart.
 *
 *   files DIR IMAGE
 * DIR holds (made by the test): ro.txt (10000 bytes of pattern), mapped
 * (8192 bytes), sub/inside.txt ("inside\n"), an empty directory cwd/.
 * The program opens
 *   ro.txt       O_RDONLY|O_CLOEXEC, 1234 bytes read (offset 1234)
 *   rw.dat       O_RDWR|O_CREAT, 5000 bytes written, lseek to 3000;
 *                dup()ed to fd 100 (one open file description, one offset)
 *   log          O_WRONLY|O_APPEND|O_CREAT, "prog line 1" written
 *   sub/         O_RDONLY|O_DIRECTORY
 *   /dev/null    O_WRONLY|O_NONBLOCK, /dev/zero, /dev/full O_WRONLY,
 *   /dev/urandom O_RDONLY|O_CLOEXEC
 * maps `mapped` MAP_PRIVATE, chdir(DIR/cwd), umask(027), lowers the soft
 * RLIMIT_NOFILE to 200 and sets RLIMIT_CORE to 4096/1 MiB, then
 * ckpt_save(IMAGE); the original prints "SAVED" and exits.
 * The restarted copy checks every fd's number, FD_CLOEXEC, status flags
 * and offset, reads on from ro.txt, writes "XYZ" into rw.dat at the
 * saved offset, appends "prog line 2" to log (the test appends lines in
 * between: they must stay before it), reads through /dev/zero,
 * /dev/urandom, writes to /dev/null and /dev/full (ENOSPC), openat()s and
 * fchdir()s through the directory fd, compares the map, cwd, umask and
 * rlimits.  Prints "RESTORED ok" (exit 0) or "BAD ..." lines.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "ckpt.h"

#define NFD 9

struct fdinfo {
	const char *name;
	int fd, fdflags, flflags;
	off_t off;
};

static int bad;

#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad++; } while (0)

static unsigned char pat(long i)
{
	return (unsigned char)('a' + i * 7 % 26);
}

static int opn(const char *dir, const char *name, int flags)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return open(p, flags, 0644);
}

static void record(struct fdinfo *f, const char *name, int fd)
{
	f->name = name;
	f->fd = fd;
	f->fdflags = fcntl(fd, F_GETFD);
	f->flflags = fcntl(fd, F_GETFL);
	f->off = lseek(fd, 0, SEEK_CUR);
}

int main(int argc, char **argv)
{
	static struct fdinfo fds[NFD];
	char buf[10000], cwd0[4096], cwd1[4096], sub0[4096], subp[4096];
	struct rlimit nofile0, core0, r1;
	int ro, rw, rwdup, lg, dir, dnull, dzero, dfull, durand;
	int r;

	if (argc != 3)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *d = argv[1];

	ro = opn(d, "ro.txt", O_RDONLY | O_CLOEXEC);
	rw = opn(d, "rw.dat", O_RDWR | O_CREAT | O_TRUNC);
	lg = opn(d, "log", O_WRONLY | O_APPEND | O_CREAT | O_TRUNC);
	dir = opn(d, "sub", O_RDONLY | O_DIRECTORY);
	dnull = open("/dev/null", O_WRONLY | O_NONBLOCK);
	dzero = open("/dev/zero", O_RDONLY);
	dfull = open("/dev/full", O_WRONLY);
	durand = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (ro < 0 || rw < 0 || lg < 0 || dir < 0 || dnull < 0 || dzero < 0 || dfull < 0 || durand < 0) {
		printf("setup: open: %s\n", strerror(errno));
		return 3;
	}
	rwdup = dup2(rw, 100);
	if (read(ro, buf, 1234) != 1234)
		return 3;
	for (int i = 0; i < 5000; i++)
		buf[i] = (char)pat(i + 3);
	if (write(rw, buf, 5000) != 5000 || lseek(rw, 3000, SEEK_SET) != 3000)
		return 3;
	if (write(lg, "prog line 1\n", 12) != 12)
		return 3;
	if (read(dzero, buf, 100) != 100)
		return 3;

	int mfd = opn(d, "mapped", O_RDONLY);
	unsigned char *map = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, mfd, 0);
	close(mfd);
	if (map == MAP_FAILED)
		return 3;
	unsigned char map0[8192];
	memcpy(map0, map, 8192);

	snprintf(cwd0, sizeof(cwd0), "%s/cwd", d);
	snprintf(subp, sizeof(subp), "%s/sub", d);
	if (chdir(cwd0) || !getcwd(cwd0, sizeof(cwd0)) || !realpath(subp, sub0))
		return 3;
	umask(027);
	getrlimit(RLIMIT_NOFILE, &nofile0);
	nofile0.rlim_cur = 200;
	core0.rlim_cur = 4096;
	core0.rlim_max = 1 << 20;
	if (setrlimit(RLIMIT_NOFILE, &nofile0) || setrlimit(RLIMIT_CORE, &core0)) {
		printf("setup: setrlimit: %s\n", strerror(errno));
		return 3;
	}

	record(&fds[0], "ro.txt", ro);
	record(&fds[1], "rw.dat", rw);
	record(&fds[2], "rw.dat (dup 100)", rwdup);
	record(&fds[3], "log", lg);
	record(&fds[4], "sub/", dir);
	record(&fds[5], "/dev/null", dnull);
	record(&fds[6], "/dev/zero", dzero);
	record(&fds[7], "/dev/full", dfull);
	record(&fds[8], "/dev/urandom", durand);

	r = ckpt_save(argv[2]);
	if (r == CKPT_SAVED) {
		printf("SAVED\n");
		return 0;
	}
	if (r != CKPT_RESTORED) {
		printf("ckpt_save failed: %s\n", ckpt_last_error());
		return 1;
	}

	for (int i = 0; i < NFD; i++) {
		struct fdinfo now;

		record(&now, fds[i].name, fds[i].fd);
		if (now.fdflags != fds[i].fdflags)
			BAD("fd %d (%s): F_GETFD %#x, was %#x", fds[i].fd, fds[i].name, now.fdflags,
			    fds[i].fdflags);
		if (now.flflags != fds[i].flflags)
			BAD("fd %d (%s): F_GETFL %#o, was %#o", fds[i].fd, fds[i].name, now.flflags,
			    fds[i].flflags);
		if (now.off != fds[i].off)
			BAD("fd %d (%s): offset %ld, was %ld", fds[i].fd, fds[i].name, (long)now.off,
			    (long)fds[i].off);
	}
	/* no fd but ours (and 0-2) is open: the restarter leaked none */
	DIR *dp = opendir("/proc/self/fd");
	struct dirent *de;
	while (dp && (de = readdir(dp))) {
		int n = atoi(de->d_name), known = n <= 2 || n == dirfd(dp) || de->d_name[0] == '.';

		for (int i = 0; i < NFD; i++)
			known |= n == fds[i].fd;
		if (!known) {
			char l[256] = "";

			snprintf(buf, sizeof(buf), "/proc/self/fd/%d", n);
			if (readlink(buf, l, sizeof(l) - 1) < 0)
				l[0] = 0;
			BAD("fd %d (%s) is open in the restarted copy", n, l);
		}
	}
	if (dp)
		closedir(dp);

	/* ro.txt: reads on from 1234 */
	if (read(ro, buf, 100) != 100)
		BAD("read ro.txt: %s", strerror(errno));
	else
		for (int i = 0; i < 100; i++)
			if ((unsigned char)buf[i] != pat(1234 + i)) {
				BAD("ro.txt byte %d: '%c', want '%c'", 1234 + i, buf[i], pat(1234 + i));
				break;
			}
	/* rw.dat: write at 3000, read back through the dup (shared offset) */
	if (write(rw, "XYZ", 3) != 3)
		BAD("write rw.dat: %s", strerror(errno));
	if (lseek(rwdup, 0, SEEK_CUR) != 3003)
		BAD("dup of rw.dat does not share the offset: %ld, want 3003",
		    (long)lseek(rwdup, 0, SEEK_CUR));
	if (pread(rw, buf, 5000, 0) != 5000)
		BAD("rw.dat is not 5000 bytes long any more");
	else
		for (int i = 0; i < 5000; i++) {
			char want = i >= 3000 && i < 3003 ? "XYZ"[i - 3000] : (char)pat(i + 3);

			if (buf[i] != want) {
				BAD("rw.dat byte %d: '%c', want '%c'", i, buf[i], want);
				break;
			}
		}
	/* log: O_APPEND goes to the end, after the lines the test added */
	if (write(lg, "prog line 2\n", 12) != 12)
		BAD("write log: %s", strerror(errno));
	/* devices */
	memset(buf, 1, 100);
	if (read(dzero, buf, 100) != 100 || memchr(buf, 1, 100))
		BAD("/dev/zero read");
	if (write(dnull, buf, 100) != 100)
		BAD("/dev/null write: %s", strerror(errno));
	errno = 0;
	if (write(dfull, buf, 10) != -1 || errno != ENOSPC)
		BAD("/dev/full write did not fail with ENOSPC (%s)", strerror(errno));
	if (read(durand, buf, 64) != 64)
		BAD("/dev/urandom read: %s", strerror(errno));
	struct stat st;
	if (fstat(dnull, &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		BAD("fd %d is not /dev/null", dnull);
	if (fstat(durand, &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 9))
		BAD("fd %d is not /dev/urandom", durand);
	/* the mapped file */
	if (memcmp(map, map0, 8192))
		BAD("mapped file contents differ");
	/* cwd, umask, rlimits */
	if (!getcwd(cwd1, sizeof(cwd1)) || strcmp(cwd0, cwd1))
		BAD("cwd \"%s\", was \"%s\"", cwd1, cwd0);
	mode_t um = umask(0);
	if (um != 027)
		BAD("umask %03o, was 027", (unsigned)um);
	getrlimit(RLIMIT_NOFILE, &r1);
	if (r1.rlim_cur != nofile0.rlim_cur || r1.rlim_max != nofile0.rlim_max)
		BAD("RLIMIT_NOFILE %lu/%lu, was %lu/%lu", (unsigned long)r1.rlim_cur,
		    (unsigned long)r1.rlim_max, (unsigned long)nofile0.rlim_cur,
		    (unsigned long)nofile0.rlim_max);
	getrlimit(RLIMIT_CORE, &r1);
	if (r1.rlim_cur != core0.rlim_cur || r1.rlim_max != core0.rlim_max)
		BAD("RLIMIT_CORE %lu/%lu, was %lu/%lu", (unsigned long)r1.rlim_cur,
		    (unsigned long)r1.rlim_max, (unsigned long)core0.rlim_cur,
		    (unsigned long)core0.rlim_max);
	/* the directory fd: openat through it, then fchdir */
	int in = openat(dir, "inside.txt", O_RDONLY);
	if (in < 0 || read(in, buf, 7) != 7 || memcmp(buf, "inside\n", 7))
		BAD("openat(dirfd, \"inside.txt\"): %s", strerror(errno));
	if (fchdir(dir) || !getcwd(cwd1, sizeof(cwd1)) || strcmp(cwd1, sub0))
		BAD("fchdir(dirfd): cwd \"%s\", want \"%s\"", cwd1, sub0);
	printf("RESTORED %s\n", bad ? "BAD" : "ok");
	return bad ? 1 : 0;
}
