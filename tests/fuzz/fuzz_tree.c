/*
 * fuzz_tree.c - libFuzzer target for the tree protocol's checker
 * (libckpt/tree_proto.c): whatever arrives on a tree's socket (from a
 * member, or from anyone who connects), tree_check must not read out of
 * bounds, and what it accepts must be a message a peer could have sent.
 *
 * The input is tried as every message type, with the entry size and
 * count limit that type has in the protocol (ckpt_tree.c and
 * ckpt_tree_coord.c use exactly these); its first bytes also pick a pid
 * and a cookie for tree_sock_name.
 *
 * Seeds: with FUZZ_SEED_DIR set, LLVMFuzzerInitialize writes a valid
 * PARKED (two children), CAPTURE (three pids) and CAPTURED (one zombie).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libckpt/tree_proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)		\
	do {			\
		if (!(cond))	\
			abort();\
	} while (0)

static const struct {
	uint32_t type;
	size_t entry;
	uint32_t max;
} kinds[] = {
	{ TREE_PARKED, sizeof(int32_t), TREE_MAX_CHILDREN },
	{ TREE_CAPTURE, sizeof(int32_t), TREE_MAX_MEMBERS },
	{ TREE_CAPTURED, sizeof(struct tree_zombie), TREE_MAX_ZOMBIES },
	{ TREE_RELEASE, 1, 0 },
	{ TREE_ABORT, 1, 0 },
	{ TREE_GO, 1, 0 },
	{ TREE_DONE, 1, 0 },
};

static void seed(const char *dir, const char *name, const struct tree_msg *m, const void *extra,
		 size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")))
		return;
	fwrite(m, sizeof(*m), 1, f);
	if (len)
		fwrite(extra, len, 1, f);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");
	struct tree_msg m;
	int32_t pids[3] = { 100, 101, 102 };
	struct tree_zombie z = { .pid = 103, .code = 1, .status = 7 };

	(void)argc;
	(void)argv;
	if (!dir)
		return 0;
	memset(&m, 0, sizeof(m));
	m.magic = TREE_MSG_MAGIC;
	m.type = TREE_PARKED;
	m.pid = 101;
	m.count = 2;
	m.flags = TREE_FAITHFUL;
	seed(dir, "tree-parked", &m, pids + 1, 2 * sizeof(int32_t));
	m.type = TREE_CAPTURE;
	m.count = 3;
	m.index = 1;
	m.flags = TREE_FORKED | TREE_MAPPABLE;
	m.stop_sig = 19;
	seed(dir, "tree-capture", &m, pids, sizeof(pids));
	memset(&m, 0, sizeof(m));
	m.magic = TREE_MSG_MAGIC;
	m.type = TREE_CAPTURED;
	m.count = 1;
	seed(dir, "tree-captured", &m, &z, sizeof(z));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun;
	struct tree_msg m;
	socklen_t len;
	int pid = 0;
	uint32_t cookie = 0;

	if (size >= 8) {
		memcpy(&pid, data, 4);
		memcpy(&cookie, data + 4, 4);
	}
	len = tree_sock_name(&sun, pid, cookie);
	CHECK(len > offsetof(struct sockaddr_un, sun_path) + 1 && len <= sizeof(sun));
	CHECK(sun.sun_path[0] == '\0');
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (tree_check(data, size, kinds[k].type, kinds[k].entry, kinds[k].max) < 0)
			continue;
		/* what was accepted is a message of that type, whole */
		CHECK(size >= sizeof(m));
		memcpy(&m, data, sizeof(m));
		CHECK(m.magic == TREE_MSG_MAGIC && m.type == kinds[k].type);
		CHECK(m.count <= kinds[k].max);
		CHECK(size == sizeof(m) + (size_t)m.count * kinds[k].entry);
		CHECK(memchr(m.err, 0, sizeof(m.err)) != NULL);
		CHECK(m.stop_sig >= 0 && m.stop_sig <= 64);
	}
	return 0;
}
