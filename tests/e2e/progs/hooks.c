/*
 * hooks.c - checkpoint hooks (ckpt_hook_add) as a C/R-aware program uses
 * them (e2e t_hooks).  Every hook prints "HOOK name event thread n" with
 * stdio (which a signal handler must not use) and mallocs: it runs in a
 * normal thread context.  Two hooks, A added before B, on every event.
 *
 *   hooks self IMG     ckpt_save(IMG): prints SAVED or RESTORED after the hooks
 *   hooks veto IMG     B vetoes: ckpt_save fails (ECANCELED, B's reason)
 *   hooks serve DIR    counts in its main thread until DIR/go exists, then
 *                      prints "DONE count"; B vetoes while DIR/veto exists.
 *                      Saved from outside (ckpt-save, CKPT_SIGNAL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

static const char *dir;
static int veto_always;

static const char *event(int when)
{
	return when == CKPT_HOOK_BEFORE ? "before" : when == CKPT_HOOK_AFTER ? "after" : "restart";
}

static int hook(int when, void *arg, char *msg, size_t len)
{
	const char *name = arg;
	char thread[17] = "", path[4096];
	char *p = malloc(64);
	struct stat st;

	prctl(PR_GET_NAME, thread, 0, 0, 0);
	printf("HOOK %s %s %s\n", name, event(when), thread);
	fflush(stdout);
	free(p);
	if (when != CKPT_HOOK_BEFORE || strcmp(name, "B"))
		return 0;
	if (dir) {
		snprintf(path, sizeof(path), "%s/veto", dir);
		if (stat(path, &st) < 0)
			return 0;
	} else if (!veto_always) {
		return 0;
	}
	snprintf(msg, len, "the database is in the middle of a transaction");
	return 1;
}

static int file_exists(const char *d, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	return stat(path, &st) == 0;
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 1000000 };
	unsigned long count = 0;
	int r;

	if (argc != 3)
		return 2;
	if (ckpt_hook_add(CKPT_HOOK_BEFORE | CKPT_HOOK_AFTER | CKPT_HOOK_RESTART, hook, "A") < 0 ||
	    ckpt_hook_add(CKPT_HOOK_BEFORE | CKPT_HOOK_AFTER | CKPT_HOOK_RESTART, hook, "B") < 0) {
		printf("ckpt_hook_add: %s\n", strerror(errno));
		return 1;
	}
	if (ckpt_hook_add(0x100, hook, "C") == 0 || errno != EINVAL ||
	    ckpt_hook_remove(CKPT_HOOK_AFTER, hook, "A") == 0 || errno != ENOENT) {
		printf("BAD: a bad hook was taken\n");
		return 1;
	}
	if (!strcmp(argv[1], "self") || !strcmp(argv[1], "veto")) {
		veto_always = !strcmp(argv[1], "veto");
		r = ckpt_save(argv[2]);
		if (r == CKPT_SAVED || r == CKPT_RESTORED)
			printf("%s\n", r == CKPT_SAVED ? "SAVED" : "RESTORED");
		else
			printf("FAILED %s: %s\n", errno == ECANCELED ? "ECANCELED" : strerror(errno),
			       ckpt_last_error());
		return 0;
	}
	dir = argv[2];
	printf("READY\n");
	fflush(stdout);
	while (!file_exists(dir, "go")) {
		count++;
		nanosleep(&ms, NULL);
	}
	printf("DONE %lu\n", count);
	return 0;
}
