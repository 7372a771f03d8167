/*
 * save.h - what the parts of ckpt-save share: ckpt_save.c (the command,
 * the conversation with the target) and save_seal.c (--key).
 */
#ifndef CKPT_TOOLS_SAVE_H
#define CKPT_TOOLS_SAVE_H

#include <stdint.h>
#include <sys/types.h>
#include "libckpt/img.h"

#define EXIT_USAGE	1
#define EXIT_LOCAL	2
#define EXIT_FAILED	5
#define EXIT_TARGET	6

/* Prints "ckpt-save: <msg>", removes the temporary image, exits with code. */
__attribute__((format(printf, 2, 3), noreturn))
void save_die(int code, const char *fmt, ...);

/* --key: the key, the target's ids, and for stdout the relay through us. */
struct save_seal {
	uint8_t key[IMG_SEAL_KEY_BYTES];
	uint32_t uid, gid;		/* the target's, from /proc/PID/status */
	int relay_in;			/* stdout: the pipe the target writes, or -1 */
	int relayed_end;
	struct img_seal_ctx ctx;
	struct img_seal seal;
};

void save_seal_init(struct save_seal *k, const char *keyfile, pid_t pid);
/* A finished image in file fd from offset base: appends the seal (before the rename). */
void save_seal_file(struct save_seal *k, int fd, off_t base);
/*
 * stdout: start returns the fd to hand the target; relay copies what it
 * writes to out until it closes it, computing the MAC; commit appends the
 * seal once the target has reported success.
 */
int save_seal_relay_start(struct save_seal *k);
void save_seal_relay(struct save_seal *k, int out);
void save_seal_relay_commit(struct save_seal *k, int out);

#endif
