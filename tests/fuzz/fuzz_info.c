/*
 * fuzz_info.c - libFuzzer target for ckpt-info: its whole command line
 * (tools/ckpt_info.c, main renamed), text, --json and --diff (the image
 * with itself: both loads, the comparison, the page reads, the output), on
 * images that may come from anywhere.  ckpt-info keeps more of an image
 * than the reader checks (a tree's sections, FILEs borrowed between them, IPC objects,
 * every table it prints), so it gets its own target: a heap overflow in
 * its FILE table (an exact realloc behind info_grow's back) was found by
 * a real image, not by fuzz_img.
 *
 * The input is fixed up as fuzz_img's second pass does (fz_fixup: the
 * checksums recomputed), written to a memfd and given by its /proc path.
 * Its output goes to /dev/null, and so does its stderr while it runs
 * (one complaint per bad input would fill the log); the sanitizers'
 * reports go to the real stderr (__sanitizer_set_report_fd).  Seeds:
 * fz_seeds (a tree among them).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "tests/fuzz/fz_image.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed);
int info_cli_main(int argc, char **argv);
void __sanitizer_set_report_fd(void *fd);

/* ckpt-info exits after one image: what it does not free is not this target's. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static int fz_fd = -1, fz_null = -1, fz_stderr = -1;
static char fz_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text[] = { "ckpt-info", fz_path, NULL };
	char *json[] = { "ckpt-info", "--json", fz_path, NULL };
	/* --diff of the image with itself: both loads, the comparison, the output */
	char *diff[] = { "ckpt-info", "--diff", fz_path, fz_path, NULL };
	unsigned char *copy;

	if (fz_fd < 0) {
		fz_null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		fz_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		fz_fd = memfd_create("fuzz_info", MFD_CLOEXEC);
		if (fz_fd < 0 || fz_null < 0 || fz_stderr < 0 || dup2(fz_null, STDOUT_FILENO) < 0)
			abort();
		__sanitizer_set_report_fd((void *)(intptr_t)fz_stderr);
		snprintf(fz_path, sizeof(fz_path), "/proc/self/fd/%d", fz_fd);
	}
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	fz_fixup(copy, size);
	if (ftruncate(fz_fd, 0) < 0 || (size && pwrite(fz_fd, copy, size, 0) != (ssize_t)size))
		abort();
	free(copy);
	fflush(stderr);
	dup2(fz_null, STDERR_FILENO);
	info_cli_main(2, text);
	info_cli_main(3, json);
	info_cli_main(4, diff);
	fflush(stdout);
	fflush(stderr);
	dup2(fz_stderr, STDERR_FILENO);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");

	(void)argc;
	(void)argv;
	if (dir && *dir)
		fz_seeds(dir);
	return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed)
{
	return fz_mutate(data, size, max, seed);
}
