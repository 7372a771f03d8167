/*
 * fuzz_elf.c - libFuzzer target for ckpt-info's ELF symbol reader
 * (tools/info_elf.c): any bytes, as a file a path in an image may name.
 * A parse that succeeds is then asked what every loadable segment's
 * first bytes map to and which functions hold a spread of addresses.
 * Seeds: with FUZZ_SEED_DIR set, LLVMFuzzerInitialize copies the small
 * test programs the build made (build/tests/btstuck, btstuck-fp: real
 * PIE executables with .symtab, .dynsym and .eh_frame_hdr) there.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools/info_elf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Copies build/tests/NAME (next to build/fuzz/) into dir, if it is there and small. */
static void fz_seed(const char *dir, const char *name)
{
	static unsigned char buf[1 << 16];
	char self[PATH_MAX], src[PATH_MAX + 64], dst[PATH_MAX + 64];
	ssize_t n, k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int in, out;

	if (k <= 0)
		return;
	self[k] = 0;
	snprintf(src, sizeof(src), "%s/../tests/%s", dirname(self), name);
	snprintf(dst, sizeof(dst), "%s/seed-%s", dir, name);
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(in, buf, sizeof(buf));
	close(in);
	if (n <= 0 || n == (ssize_t)sizeof(buf))	/* missing, or too big for a seed */
		return;
	unlink(dst);	/* the last build's seed: made again, never through a planted name */
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return;
	if (write(out, buf, (size_t)n) != n)
		unlink(dst);
	close(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");

	(void)argc;
	(void)argv;
	if (dir && *dir) {
		fz_seed(dir, "btstuck");
		fz_seed(dir, "btstuck-fp");
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elfr e;
	char err[128];
	uint64_t v, off;
	unsigned char *copy = malloc(size ? size : 1);	/* exact size: ASan sees any overrun */

	if (!copy)
		abort();
	for (size_t i = 0; i < size; i++)
		copy[i] = data[i];
	if (elfr_parse(&e, copy, size, err, sizeof(err)) == 0) {
		for (int i = 0; i < e.nload; i++) {
			if (elfr_off_to_vaddr(&e, e.load[i].off, &v) == 0)
				(void)elfr_symbolize(&e, v, &off);
			(void)elfr_symbolize(&e, e.load[i].vaddr + e.load[i].memsz / 2, &off);
		}
		for (size_t i = 0; i < e.nsym && i < 64; i++)
			(void)elfr_symbolize(&e, e.syms[i].value + e.syms[i].size, &off);
		(void)elfr_symbolize(&e, UINT64_MAX, &off);
		(void)elfr_off_to_vaddr(&e, UINT64_MAX, &v);
		elfr_free(&e);
	}
	free(copy);
	return 0;
}
