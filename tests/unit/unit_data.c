/*
 * unit_data.c - test data the suites share: a deterministic generator,
 * random bytes and text-like words (unit.h).
 */
#include <stdint.h>
#include <string.h>
#include "tests/unit/unit.h"

static uint64_t unit_rng = 0x9e3779b97f4a7c15ull;

uint64_t unit_rand(void)
{
	unit_rng ^= unit_rng << 13;		/* xorshift64 */
	unit_rng ^= unit_rng >> 7;
	unit_rng ^= unit_rng << 17;
	return unit_rng;
}

void unit_fill_random(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)unit_rand();
}

/* Words and numbers, like the heap of a program that handles text. */
void unit_fill_text(unsigned char *p, size_t n)
{
	static const char *words[] = {
		"checkpoint", "restart", "the", "image", "of", "a", "process",
		"page", "0x7ffd1234", "thread", "\n", "signal", "=", "fd", "42",
	};
	size_t i = 0;

	while (i < n) {
		const char *w = words[unit_rand() % (sizeof(words) / sizeof(words[0]))];
		size_t l = strlen(w);

		for (size_t k = 0; k < l && i < n; k++)
			p[i++] = (unsigned char)w[k];
		if (i < n)
			p[i++] = ' ';
	}
}
