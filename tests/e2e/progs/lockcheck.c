/*
 * lockcheck - another process's view of a file's locks (t_locks.sh,
 * t_sqlite_wal.sh):
 *
 *   lockcheck posix FILE START LEN   F_GETLK for a write lock on the range:
 *                                    "read|write PID START LEN" of the
 *                                    first lock in the way, or "free"
 *   lockcheck ofd FILE START LEN     the same with F_OFD_GETLK (an OFD
 *                                    holder's pid is -1)
 *   lockcheck flock FILE             "exclusive", "shared" or "free"
 *   lockcheck lease FILE             opens FILE for writing, non-blocking:
 *                                    "leased" (EWOULDBLOCK; the holder is
 *                                    sent its lease-break signal) or "free"
 *   lockcheck hold posix|ofd FILE START LEN r|w
 *   lockcheck hold flock FILE sh|ex  takes the lock, prints HELD, and
 *                                    keeps it until killed
 *   lockcheck hold open FILE         keeps FILE open for writing (what a
 *                                    read lease does not allow)
 *   lockcheck hold lease FILE        a read lease (SIGIO ignored: a break
 *                                    is never answered)
 *   lockcheck hold lease-pgrp FILE   the same, its break signal sent to the
 *                                    process group (F_SETOWN)
 *   lockcheck hold flock-fd N        an exclusive flock on its fd N
 *   lockcheck hold many FILE N       N POSIX write locks, on every other byte
 * HELD goes to stderr (stdout may be what is locked).  Run under libckpt,
 * the last three are what a checkpoint refuses (t_lock_refusals.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: lockcheck posix|ofd FILE START LEN | flock|lease FILE |\n"
		"       hold posix|ofd FILE START LEN r|w | hold flock FILE sh|ex |\n"
		"       hold open|lease|lease-pgrp FILE | hold flock-fd N | hold many FILE N\n");
	return 2;
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

static int hold(int argc, char **argv)
{
	int fd;

	if (argc == 4 && !strcmp(argv[2], "open")) {
		fd = open_or_die(argv[3], O_WRONLY);
	} else if (argc == 4 && !strncmp(argv[2], "lease", 5)) {
		signal(SIGIO, SIG_IGN);
		fd = open_or_die(argv[3], O_RDONLY);
		if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0 ||
		    (!strcmp(argv[2], "lease-pgrp") && fcntl(fd, F_SETOWN, -getpgrp()) < 0)) {
			perror("lease");
			return 1;
		}
	} else if (argc == 5 && !strcmp(argv[2], "many")) {
		fd = open_or_die(argv[3], O_RDWR);
		for (int i = 0; i < atoi(argv[4]); i++) {
			struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
					    .l_start = 2 * i, .l_len = 1 };

			if (fcntl(fd, F_SETLK, &fl) < 0) {
				perror("fcntl");
				return 1;
			}
		}
	} else if (argc == 4 && !strcmp(argv[2], "flock-fd")) {
		if (flock(atoi(argv[3]), LOCK_EX | LOCK_NB) < 0) {
			perror("flock");
			return 1;
		}
	} else if (argc == 5 && !strcmp(argv[2], "flock")) {
		fd = open_or_die(argv[3], O_RDONLY);
		if (flock(fd, (!strcmp(argv[4], "ex") ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
			perror("flock");
			return 1;
		}
	} else if (argc == 7 && (!strcmp(argv[2], "posix") || !strcmp(argv[2], "ofd"))) {
		struct flock fl = { .l_type = argv[6][0] == 'w' ? F_WRLCK : F_RDLCK,
				    .l_whence = SEEK_SET, .l_start = atoll(argv[4]),
				    .l_len = atoll(argv[5]) };

		fd = open_or_die(argv[3], O_RDWR);
		if (fcntl(fd, argv[2][0] == 'p' ? F_SETLK : F_OFD_SETLK, &fl) < 0) {
			perror("fcntl");
			return 1;
		}
	} else {
		return usage();
	}
	fprintf(stderr, "HELD\n");
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	if (!strcmp(argv[1], "hold"))
		return hold(argc, argv);
	if (argc == 5 && (!strcmp(argv[1], "posix") || !strcmp(argv[1], "ofd"))) {
		int fd = open_or_die(argv[2], O_RDONLY);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				    .l_start = atoll(argv[3]), .l_len = atoll(argv[4]) };

		if (fcntl(fd, argv[1][0] == 'p' ? F_GETLK : F_OFD_GETLK, &fl) < 0) {
			perror("fcntl");
			return 1;
		}
		if (fl.l_type == F_UNLCK)
			printf("free\n");
		else
			printf("%s %d %lld %lld\n", fl.l_type == F_WRLCK ? "write" : "read",
			       (int)fl.l_pid, (long long)fl.l_start, (long long)fl.l_len);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "flock")) {
		int fd = open_or_die(argv[2], O_RDONLY);

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			printf("free\n");
		else if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			printf("shared\n");
		else
			printf("exclusive\n");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "lease")) {
		int fd = open(argv[2], O_WRONLY | O_NONBLOCK);

		if (fd < 0 && errno == EWOULDBLOCK) {
			printf("leased\n");
			return 0;
		}
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		printf("free\n");
		return 0;
	}
	return usage();
}
