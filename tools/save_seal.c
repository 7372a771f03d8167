/*
 * save_seal.c - `ckpt-save --key FILE`: the image is sealed with a keyed
 * MAC (libckpt/img_seal.c) that also names the saved process's uid and
 * gid as ckpt-save sees them in /proc — not as the process says.
 *
 * To a file: once the target reported success, the finished temporary
 * file is read back (mapped), the seal appended, and only then renamed.
 * To stdout: the target writes into a pipe of ours, and we copy it to
 * stdout while computing the MAC, then append the seal; so a sealed image
 * can go straight to `ckpt-restart --key FILE -` on another machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libckpt/img.h"
#include "tools/save.h"

/* The real uid and gid of pid (its "Uid:" and "Gid:" lines). */
static void target_ids(pid_t pid, uint32_t *uid, uint32_t *gid)
{
	char path[64], line[256];
	FILE *f;
	int have = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "re")))
		save_die(EXIT_TARGET, "cannot read %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Uid:", 4))
			have |= (sscanf(line + 4, "%u", uid) == 1);
		else if (!strncmp(line, "Gid:", 4))
			have |= (sscanf(line + 4, "%u", gid) == 1) << 1;
	}
	fclose(f);
	if (have != 3)
		save_die(EXIT_TARGET, "cannot read the ids of process %d", (int)pid);
}

void save_seal_init(struct save_seal *k, const char *keyfile, pid_t pid)
{
	char err[512];

	if (img_seal_key_load(keyfile, k->key, err, sizeof(err)) < 0)
		save_die(EXIT_USAGE, "%s", err);
	target_ids(pid, &k->uid, &k->gid);
	k->relay_in = -1;
}

void save_seal_file(struct save_seal *k, int fd, off_t base)
{
	char self[64], err[512];
	int rw;

	/* the image fd may be write-only: the same file again, to read it back */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	rw = open(self, O_RDWR | O_CLOEXEC);
	if (rw < 0)
		save_die(EXIT_LOCAL, "cannot read the image back to seal it: %s", strerror(errno));
	if (img_seal_file(rw, base, k->key, k->uid, k->gid, err, sizeof(err)) < 0)
		save_die(EXIT_LOCAL, "%s", err);
	close(rw);
}

int save_seal_relay_start(struct save_seal *k)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		save_die(EXIT_LOCAL, "pipe: %s", strerror(errno));
	k->relay_in = p[0];
	img_seal_begin(&k->ctx, k->key);
	return p[1];		/* the target's image fd */
}

void save_seal_relay(struct save_seal *k, int out)
{
	static char buf[1 << 16];
	struct img_seal s;
	ssize_t n;

	while ((n = read(k->relay_in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			save_die(EXIT_LOCAL, "reading the image from the process: %s",
				 strerror(errno));
		}
		img_seal_update(&k->ctx, buf, n);
		for (ssize_t off = 0; off < n; ) {
			ssize_t w = write(out, buf + off, n - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				save_die(EXIT_LOCAL, "cannot write the image: %s", strerror(errno));
			off += w;
		}
	}
	close(k->relay_in);
	k->relay_in = -1;
	k->relayed_end = 1;
	img_seal_finish(&k->ctx, k->key, k->uid, k->gid, &s);
	k->seal = s;
}

void save_seal_relay_commit(struct save_seal *k, int out)
{
	if (write(out, &k->seal, sizeof(k->seal)) != (ssize_t)sizeof(k->seal))
		save_die(EXIT_LOCAL, "cannot write the seal: %s", strerror(errno));
}
