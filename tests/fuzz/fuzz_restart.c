/*
 * fuzz_restart.c - libFuzzer target for what ckpt-restart does with an
 * image before it builds anything: `ckpt-restart --check` of it, in this
 * process.  The image is read and staged (restart_load.c, the decoding
 * pool, a chain's parents), every record's meaning checked against the
 * others (threads, timers, signals, files and fds, mappings), and the
 * environment checked as a restart would (files, pids, vDSO, CPU,
 * capabilities, scheduling, timers, fds to inherit).
 *
 * The inputs are hostile images with every checksum right (fz_image.c's
 * mutator: boundary values in fields, records duplicated, dropped or
 * swapped) — what an attacker who can recompute a CRC32C hands root.
 * Each must end in a clean problem or a clean verdict: no crash, no
 * sanitizer report, no unbounded allocation (libFuzzer's malloc limit).
 * What happens after --check (becoming the owner, the restorer) changes
 * this process's identity and memory, so it is not run here; the trust
 * decision's inputs (uid, gid, capabilities) are checked by the same
 * functions --check calls.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "restart/rst.h"
#include "tests/fuzz/fz_image.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed);

/* The leaks a restart does not care about (it exits) are not this target's. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static int fz_fd = -1;

static void fz_check(struct rst_state *s)
{
	if (rst_load_proc(s) || rst_load_rest(s) || rst_chain_load(s))
		return;
	rst_check_env(s);
	rst_trust_check_fds(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rst_state s;
	unsigned char *copy;

	if (fz_fd < 0) {
		fz_fd = memfd_create("fuzz_restart", MFD_CLOEXEC);
		rst_err_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fz_fd < 0 || rst_err_fd < 0)
			abort();
	}
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	fz_fixup(copy, size);
	if (ftruncate(fz_fd, 0) < 0 || (size && pwrite(fz_fd, copy, size, 0) != (ssize_t)size) ||
	    lseek(fz_fd, 0, SEEK_SET) != 0)
		abort();
	free(copy);

	memset(&s, 0, sizeof(s));
	s.image = "/fuzz/image.img";
	s.img_fd = fz_fd;
	s.exe_fd = s.lazy_fd = -1;
	s.check_only = 1;
	s.trust = RST_TRUST_ROOT;	/* what root's own image gets: its ids are believed */
	fz_check(&s);
	s.img_fd = -1;
	rst_state_free(&s);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");

	(void)argc;
	(void)argv;
	if (dir && *dir)
		fz_seeds(dir);
	return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed)
{
	return fz_mutate(data, size, max, seed);
}
