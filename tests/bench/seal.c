/*
 * seal.c - seals an image that a process saved itself, for the
 * benchmark of sealed restarts (tests/bench/modes.sh, mode "sealed").
 *
 *   seal KEY IMAGE
 * Appends the seal ckpt-save --key would: the ids are the image's own
 * PROC uid and gid (believed: only a benchmark does this; ckpt-save
 * reads them from /proc instead).  Prints "seal_ns N": the MAC's time.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "libckpt/img.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint8_t key[IMG_SEAL_KEY_BYTES];
	struct img_reader r;
	struct img_rec rec;
	const struct img_proc *p;
	char err[512];
	uint64_t t0;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: seal KEY IMAGE\n");
		return 1;
	}
	if (img_seal_key_load(argv[1], key, err, sizeof(err)) < 0) {
		fprintf(stderr, "seal: %s\n", err);
		return 1;
	}
	fd = open(argv[2], O_RDWR | O_CLOEXEC);
	if (fd < 0 || img_reader_open(&r, fd) < 0 || img_reader_next(&r, &rec) != 1 ||
	    !(p = img_get_proc(&r, &rec))) {
		fprintf(stderr, "seal: %s: not an image\n", argv[2]);
		return 1;
	}
	t0 = now_ns();
	if (img_seal_file(fd, 0, key, p->uid, p->gid, err, sizeof(err)) < 0) {
		fprintf(stderr, "seal: %s\n", err);
		return 1;
	}
	printf("seal_ns %llu\n", (unsigned long long)(now_ns() - t0));
	img_reader_close(&r);
	close(fd);
	return 0;
}
