/*
 * ckpt_kfeat.c - the test builds' way to take a kernel feature away
 * (ckpt_kfeat.h).  Compiled twice: into libckpt.so without
 * CKPT_KFEAT_TEST (nothing is ever off), and into the test library with
 * it.  Async-signal-safe: the environment is read with libckpt's own
 * string functions, once, on the first question (a checkpoint handler).
 */
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_kfeat.h"

#ifdef CKPT_KFEAT_TEST
extern char **environ;

static const struct {
	const char *name;
	int bits;
} kf_names[] = {
	{ "pagemap_scan", CKPT_KF_PAGEMAP_SCAN | CKPT_KF_GUARD },	/* 6.7 > 6.13 */
	{ "guard_regions", CKPT_KF_GUARD },
	{ "mincore", CKPT_KF_MINCORE },
	{ "wp_async", CKPT_KF_WP_ASYNC },
	{ "soft_dirty", CKPT_KF_SOFT_DIRTY },
	{ "eventfd_semaphore", CKPT_KF_EVENTFD_SEM },
};

static int kf_off = -1;

static int kf_parse(const char *v)
{
	int off = 0;

	while (*v) {
		size_t n = 0;

		while (v[n] && v[n] != ',')
			n++;
		for (size_t k = 0; k < sizeof(kf_names) / sizeof(kf_names[0]); k++)
			if (ckpt_strlen(kf_names[k].name) == n &&
			    ckpt_memeq(kf_names[k].name, v, n))
				off |= kf_names[k].bits;
		v += n + (v[n] == ',');
	}
	return off;
}

int ckpt_kfeat_off(enum ckpt_kfeat f)
{
	static const char key[] = "CKPT_TEST_KFEAT_OFF=";

	if (kf_off < 0) {
		int off = 0;

		for (char **e = environ; e && *e; e++)
			if (ckpt_memeq(*e, key, sizeof(key) - 1))
				off = kf_parse(*e + sizeof(key) - 1);
		kf_off = off;
	}
	return (kf_off & f) != 0;
}
#else
int ckpt_kfeat_off(enum ckpt_kfeat f)
{
	return 0;
}
#endif
