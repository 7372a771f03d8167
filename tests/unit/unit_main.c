/*
 * unit_main.c - runs every suite that registered itself (see unit.h) and
 * prints CUnit's summary plus a final "N passed, N failed" line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <CUnit/Basic.h>
#include "tests/unit/unit.h"

#define UNIT_MAX_SUITES 64

static struct {
	const char *name;
	const struct unit_test *tests;
	int n;
} suites[UNIT_MAX_SUITES];
static int nsuites;

void unit_add_suite(const char *name, const struct unit_test *tests, int n)
{
	if (nsuites == UNIT_MAX_SUITES) {
		fprintf(stderr, "unit: too many suites (raise UNIT_MAX_SUITES)\n");
		exit(2);
	}
	suites[nsuites].name = name;
	suites[nsuites].tests = tests;
	suites[nsuites].n = n;
	nsuites++;
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (int i = 0; i < nsuites; i++) {
		CU_pSuite s = CU_add_suite(suites[i].name, NULL, NULL);
		for (int t = 0; s && t < suites[i].n; t++)
			CU_add_test(s, suites[i].tests[t].name, suites[i].tests[t].fn);
	}
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_tests_failed();
	unsigned run = CU_get_number_of_tests_run();
	printf("\nunit: %u passed, %u failed\n", run - failed, failed);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
