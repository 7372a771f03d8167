/*
 * unit.h - CUnit suites register themselves, so adding a test file needs
 * no edit elsewhere:
 *
 *   static void test_x(void) { CU_ASSERT(...); }
 *   UNIT_SUITE(img_crc, { "crc of empty", test_x }, ...);
 */
#ifndef CKPT_UNIT_H
#define CKPT_UNIT_H

#include <stddef.h>
#include <stdint.h>
#include <CUnit/CUnit.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

void unit_add_suite(const char *name, const struct unit_test *tests, int n);

#define UNIT_SUITE(sname, ...)						\
	static const struct unit_test unit_tests_##sname[] = { __VA_ARGS__ }; \
	__attribute__((constructor)) static void unit_reg_##sname(void)	\
	{								\
		unit_add_suite(#sname, unit_tests_##sname,		\
			       sizeof(unit_tests_##sname) /		\
			       sizeof(unit_tests_##sname[0]));		\
	}

/* unit_data.c: one deterministic xorshift stream for every suite */
uint64_t unit_rand(void);
void unit_fill_random(unsigned char *p, size_t n);
void unit_fill_text(unsigned char *p, size_t n);	/* words, spaces */

#endif
