/*
 * fuzz_ctl.c - libFuzzer target for the control protocol parsers
 * (libckpt/ctl_proto.c): whatever arrives on the control socket, the
 * parsers must not read out of bounds, and what they accept must be a
 * message the other side could have sent.
 *
 * The input is tried as a request, a reply and a progress message; the first byte also
 * picks a pid for ctl_sock_name.  Accepted messages are checked against
 * the protocol's rules (exact size, magic, version, known flags, zero
 * reserved, NUL inside msg) and must come back byte for byte.
 *
 * Seeds: with FUZZ_SEED_DIR set, LLVMFuzzerInitialize writes a valid
 * request and a valid reply there (tests/fuzz/run.sh does this).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libckpt/ctl_proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)		\
	do {			\
		if (!(cond))	\
			abort();\
	} while (0)

/* s[cap] holds a string followed by zeros only: its length. */
static size_t fz_padded(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	CHECK(n < cap);
	for (size_t i = n; i < cap; i++)
		CHECK(s[i] == '\0');
	return n;
}

static void fuzz_request(const uint8_t *data, size_t size)
{
	struct ctl_request r;
	size_t plen, tlen;

	if (ctl_parse_request(data, size, &r) < 0)
		return;
	CHECK(size == sizeof(r));
	CHECK(r.magic == CTL_REQ_MAGIC && r.version == CTL_VERSION);
	CHECK((r.flags & ~(uint32_t)CTL_F_KNOWN) == 0);
	CHECK(r.reserved == 0);
	plen = fz_padded(r.path, sizeof(r.path));
	tlen = fz_padded(r.tmp_name, sizeof(r.tmp_name));
	CHECK(plen == 0 || r.path[0] == '/');
	/* what the handler joins and unlinks: one component of path's directory */
	if (tlen) {
		CHECK(plen > 0);
		CHECK(!memchr(r.tmp_name, '/', tlen));
		CHECK(strcmp(r.tmp_name, ".") && strcmp(r.tmp_name, ".."));
	}
	CHECK(memcmp(&r, data, sizeof(r)) == 0);
}

static void fuzz_reply(const uint8_t *data, size_t size)
{
	struct ctl_reply r;

	if (ctl_parse_reply(data, size, &r) < 0)
		return;
	CHECK(size == sizeof(r));
	CHECK(r.magic == CTL_REP_MAGIC && r.version == CTL_VERSION);
	CHECK(r.status <= 0);
	CHECK(strlen(r.msg) < sizeof(r.msg));
	CHECK(memcmp(&r, data, sizeof(r)) == 0);
}

static void fuzz_progress(const uint8_t *data, size_t size)
{
	struct ctl_progress p;

	if (ctl_parse_progress(data, size, &p) < 0)
		return;
	CHECK(size == sizeof(p));
	CHECK(p.magic == CTL_PRG_MAGIC && p.version == CTL_VERSION);
	CHECK(memcmp(&p, data, sizeof(p)) == 0);
}

static void fuzz_name(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun;
	int32_t pid = 0;
	socklen_t len;

	memcpy(&pid, data, size < sizeof(pid) ? size : sizeof(pid));
	len = ctl_sock_name(&sun, pid);
	CHECK(len > offsetof(struct sockaddr_un, sun_path) + 1);
	CHECK(len <= sizeof(sun));
	CHECK(sun.sun_family == AF_UNIX && sun.sun_path[0] == '\0');
	CHECK(memcmp(sun.sun_path + 1, "libckpt-ctl.", 12) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Copies, so an over-read of the exact-size input shows up in ASan. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fuzz_request(copy, size);
	fuzz_reply(copy, size);
	fuzz_progress(copy, size);
	fuzz_name(copy, size);

	/* Valid headers are too rare to find by chance: also try the input
	 * with each magic and version in place, so the fuzzer reaches the
	 * flag, reserved and msg checks. */
	if (size == sizeof(struct ctl_request)) {
		struct ctl_request r;

		memcpy(&r, copy, sizeof(r));
		r.magic = CTL_REQ_MAGIC;
		r.version = CTL_VERSION;
		fuzz_request((const uint8_t *)&r, sizeof(r));
		/* and with flags, reserved and the padding right: the names */
		r.flags &= CTL_F_KNOWN;
		r.reserved = 0;
		r.path[sizeof(r.path) - 1] = '\0';
		memset(r.path + strlen(r.path), 0, sizeof(r.path) - strlen(r.path));
		r.tmp_name[sizeof(r.tmp_name) - 1] = '\0';
		memset(r.tmp_name + strlen(r.tmp_name), 0,
		       sizeof(r.tmp_name) - strlen(r.tmp_name));
		fuzz_request((const uint8_t *)&r, sizeof(r));
	}
	if (size == sizeof(struct ctl_progress)) {
		struct ctl_progress p;

		memcpy(&p, copy, sizeof(p));
		p.magic = CTL_PRG_MAGIC;
		p.version = CTL_VERSION;
		fuzz_progress((const uint8_t *)&p, sizeof(p));
	}
	if (size == sizeof(struct ctl_reply)) {
		struct ctl_reply r;

		memcpy(&r, copy, sizeof(r));
		r.magic = CTL_REP_MAGIC;
		r.version = CTL_VERSION;
		fuzz_reply((const uint8_t *)&r, sizeof(r));
	}
	free(copy);
	return 0;
}

static void fz_seed(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(p, 1, n, f);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");
	static struct ctl_request req = {
		.magic = CTL_REQ_MAGIC, .version = CTL_VERSION, .flags = CTL_F_FSYNC,
		.path = "/var/tmp/app.img", .tmp_name = "app.img.tmp.0123456789abcdef",
	};
	struct ctl_reply rep = {
		.magic = CTL_REP_MAGIC, .version = CTL_VERSION, .status = -22,
		.pid = 1234, .image_bytes = 1 << 20, .mem_bytes = 4 << 20,
		.elapsed_ns = 85000000,
	};
	struct ctl_progress prg = {
		.magic = CTL_PRG_MAGIC, .version = CTL_VERSION, .done_bytes = 3 << 20,
		.total_bytes = 8 << 20,
	};

	(void)argc;
	(void)argv;
	if (!dir)
		return 0;
	strcpy(rep.msg, "fd 5: a netlink socket, not supported");
	fz_seed(dir, "seed-request", &req, sizeof(req));
	fz_seed(dir, "seed-reply", &rep, sizeof(rep));
	fz_seed(dir, "seed-progress", &prg, sizeof(prg));
	return 0;
}
