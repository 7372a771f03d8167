/*
 * fuzz_elf.c - libFuzzer target for ckpt-info's ELF symbol reader
 * (tools/info_elf.c): any bytes, as a file a path in an image may name.
 * A parse that succeeds is then asked what every loadable segment's
 * first bytes map to and which functions hold a spread of addresses.
 * Seeds: a small valid ELF with symbols is worth giving it by hand
 * (build/fuzz/corpus-fuzz_elf); any binary on the system is one.
 */
#include <stdint.h>
#include <stdlib.h>
#include "tools/info_elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
