/*
 * test_assist.c - kernel-assist's choice of a back end for pids
 * (kernel-assist/assist_module.c, assist_decide): from the facts alone,
 * what --assist=auto|upstream|module picks and what it says when it
 * refuses.
 */
#include <errno.h>
#include <string.h>
#include "kernel-assist/assist.h"
#include "kernel-assist/module/ckpt_assist_uapi.h"
#include "tests/unit/unit.h"

static struct assist_facts facts(int want, int upstream)
{
	struct assist_facts f;

	memset(&f, 0, sizeof(f));
	f.want = want;
	f.upstream = upstream;
	f.uid = 1000;
	f.mod.err = ENOENT;	/* no module */
	return f;
}

static void loaded(struct assist_facts *f, uint32_t abi, uint64_t ops, uint32_t policy)
{
	f->mod.present = 1;
	f->mod.err = 0;
	f->mod.abi = abi;
	f->mod.ops = ops;
	f->mod.policy = policy;
}

#define OPS	(CKPT_ASSIST_OP_CLONE | CKPT_ASSIST_OP_TIMER_ID)

static int says(const struct assist_facts *f, int want_backend, const char *text)
{
	char why[256];
	int r = assist_decide(f, why, sizeof(why));

	if (r != want_backend || !strstr(why, text)) {
		fprintf(stderr, "\n  assist_decide: %d (want %d): %s (want '%s')\n", r, want_backend,
			why, text);
		return 0;
	}
	return 1;
}

static void test_parse(void)
{
	CU_ASSERT_EQUAL(assist_parse("auto"), ASSIST_AUTO);
	CU_ASSERT_EQUAL(assist_parse("upstream"), ASSIST_UPSTREAM);
	CU_ASSERT_EQUAL(assist_parse("module"), ASSIST_MODULE);
	CU_ASSERT_EQUAL(assist_parse("Module"), -1);
	CU_ASSERT_EQUAL(assist_parse(""), -1);
	CU_ASSERT_STRING_EQUAL(assist_name(ASSIST_MODULE), "module");
	CU_ASSERT_STRING_EQUAL(assist_name(-1), "none");
}

/* auto: the module when it serves this caller, else upstream, else neither */
static void test_auto(void)
{
	struct assist_facts f = facts(ASSIST_AUTO, 1);

	CU_ASSERT(says(&f, ASSIST_UPSTREAM, "not the module: the kernel-assist module is not loaded"));
	loaded(&f, CKPT_ASSIST_ABI, OPS, CKPT_ASSIST_POL_CLONE);
	CU_ASSERT(says(&f, ASSIST_MODULE, "its policy allows uid 1000"));
	f.upstream = 0;
	CU_ASSERT(says(&f, ASSIST_MODULE, "kernel-assist module"));
	f.mod.policy = 0;
	CU_ASSERT(says(&f, -1, "policy does not list uid 1000"));
	CU_ASSERT(says(&f, -1, "CAP_CHECKPOINT_RESTORE"));
	f.upstream = 1;
	CU_ASSERT(says(&f, ASSIST_UPSTREAM, "policy does not list uid 1000"));
	f = facts(ASSIST_AUTO, 0);
	CU_ASSERT(says(&f, -1, "not loaded (no /dev/ckpt-assist)"));
}

/* a module of another abi, or without CLONE, is never used */
static void test_abi(void)
{
	struct assist_facts f = facts(ASSIST_AUTO, 0);

	loaded(&f, CKPT_ASSIST_ABI + 1, OPS, CKPT_ASSIST_POL_CLONE);
	CU_ASSERT(says(&f, -1, "speaks abi 2, this libckpt abi 1"));
	f.upstream = 1;
	CU_ASSERT(says(&f, ASSIST_UPSTREAM, "speaks abi 2"));
	loaded(&f, CKPT_ASSIST_ABI, CKPT_ASSIST_OP_TIMER_ID, CKPT_ASSIST_POL_CLONE);
	CU_ASSERT(says(&f, ASSIST_UPSTREAM, "has no CLONE"));
	f.mod.present = 0;
	f.mod.err = EACCES;
	CU_ASSERT(says(&f, ASSIST_UPSTREAM, "/dev/ckpt-assist: Permission denied"));
}

/* forced: that one or a refusal naming it, never the other */
static void test_forced(void)
{
	struct assist_facts f = facts(ASSIST_MODULE, 1);

	CU_ASSERT(says(&f, -1, "--assist=module: the kernel-assist module is not loaded"));
	loaded(&f, CKPT_ASSIST_ABI, OPS, 0);
	CU_ASSERT(says(&f, -1, "--assist=module: the kernel-assist module's policy does not list"));
	f.mod.policy = CKPT_ASSIST_POL_CLONE;
	CU_ASSERT(says(&f, ASSIST_MODULE, "as --assist=module asks"));
	f.want = ASSIST_UPSTREAM;
	CU_ASSERT(says(&f, ASSIST_UPSTREAM, "as --assist=upstream asks"));
	f.upstream = 0;
	CU_ASSERT(says(&f, -1, "--assist=upstream: a chosen pid needs root or CAP_CHECKPOINT_RESTORE"));
}

UNIT_SUITE(assist, { "parse", test_parse }, { "auto", test_auto }, { "abi", test_abi },
	   { "forced", test_forced });
