/*
 * img_seal.c - sealing an image with a keyed MAC, and checking the seal
 * (struct img_seal, img_format.h; the threat model: docs/SECURITY.md).
 *
 * Why: an image's checksums are CRC32C, which anyone can recompute, so
 * they prove nothing about who wrote the bytes.  An image that crosses a
 * trust boundary (saved by an administrator's ckpt-save, restarted by
 * root elsewhere; sent over a network) is sealed with a key that only the
 * administrator holds: Poly1305 (libsodium's crypto_onetimeauth) under a
 * one-time key derived from the sealing key and a random nonce with
 * keyed BLAKE2b, over every image byte before the seal, then over the
 * seal's own fields up to `mac` (alg, the process's uid and gid, the key
 * id, the nonce), so neither the image nor the identity it claims can be
 * changed without the key.  Poly1305 runs at 2.5-4 GB/s a core here,
 * keyed BLAKE2b over the whole image at 0.6-0.9 GB/s, HMAC-SHA-512 at
 * 0.4-0.6 GB/s: a sealed restart reads every byte, so the MAC's speed is
 * the restart's (docs/PERFORMANCE.md).
 *
 * What a seal proves: the holder of the key's tool wrote these bytes, and
 * the process it saved ran as uid/gid.  It does not make the process's
 * own memory trustworthy: that is as trustworthy as the process was.
 *
 * Not in libckpt.so: the application never holds the key (whatever is in
 * its memory is in its image); ckpt-save, ckpt-restart and ckpt-info do.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "libckpt/img.h"

_Static_assert(IMG_SEAL_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
	       IMG_SEAL_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX, "key size");
_Static_assert(sizeof(((struct img_seal *)0)->mac) == crypto_onetimeauth_BYTES, "mac size");
_Static_assert(sizeof(struct img_seal_ctx) >= sizeof(crypto_onetimeauth_state), "seal ctx");

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int img_seal_key_load(const char *path, uint8_t key[IMG_SEAL_KEY_BYTES], char *err, size_t len)
{
	unsigned char buf[2 * IMG_SEAL_KEY_BYTES + 2];
	struct stat st;
	ssize_t n;
	int fd;

	if (sodium_init() < 0) {
		snprintf(err, len, "cannot initialise libsodium");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, len, "key %s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, len, "key %s: not a regular file", path);
		close(fd);
		return -1;
	}
	/*
	 * A key proves what its holders say: one that belongs to another
	 * user (not us, not root) is theirs to forge seals with.
	 */
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, len, "key %s belongs to uid %u: a key proves only what its owner "
			 "says; use one that belongs to you or root", path, st.st_uid);
		close(fd);
		return -1;
	}
	/* A key others can read lets them seal anything; one they can write, replace it. */
	if (st.st_mode & 077) {
		snprintf(err, len, "key %s is mode %03o: anyone in its group or others could use or "
			 "replace it; make it 0600 (chmod 600 %s)", path, st.st_mode & 0777, path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n == IMG_SEAL_KEY_BYTES) {
		memcpy(key, buf, IMG_SEAL_KEY_BYTES);
	} else if (n == 2 * IMG_SEAL_KEY_BYTES || (n == 2 * IMG_SEAL_KEY_BYTES + 1 &&
						    buf[2 * IMG_SEAL_KEY_BYTES] == '\n')) {
		for (int i = 0; i < IMG_SEAL_KEY_BYTES; i++) {
			int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);

			if (hi < 0 || lo < 0)
				goto bad;
			key[i] = (uint8_t)(hi << 4 | lo);
		}
	} else {
		goto bad;
	}
	sodium_memzero(buf, sizeof(buf));
	return 0;
bad:
	sodium_memzero(buf, sizeof(buf));
	snprintf(err, len, "key %s: want %d random bytes, or %d hex digits (make one with: head "
		 "-c %d /dev/urandom > %s)", path, IMG_SEAL_KEY_BYTES, 2 * IMG_SEAL_KEY_BYTES,
		 IMG_SEAL_KEY_BYTES, path);
	return -1;
}

void img_seal_key_id(const uint8_t key[IMG_SEAL_KEY_BYTES], uint8_t id[16])
{
	static const char tag[] = "libckpt seal key id";

	crypto_generichash(id, 16, (const unsigned char *)tag, sizeof(tag) - 1, key,
			   IMG_SEAL_KEY_BYTES);
}

/* The one-time Poly1305 key of a seal: BLAKE2b-256(key; nonce || "libckpt seal"). */
static void seal_otk(const uint8_t key[IMG_SEAL_KEY_BYTES], const uint8_t nonce[16],
		     uint8_t otk[crypto_onetimeauth_KEYBYTES])
{
	static const char tag[] = "libckpt seal";
	unsigned char in[16 + sizeof(tag) - 1];

	memcpy(in, nonce, 16);
	memcpy(in + 16, tag, sizeof(tag) - 1);
	crypto_generichash(otk, crypto_onetimeauth_KEYBYTES, in, sizeof(in), key,
			   IMG_SEAL_KEY_BYTES);
}

static void seal_begin_nonce(struct img_seal_ctx *c, const uint8_t key[IMG_SEAL_KEY_BYTES],
			     const uint8_t nonce[16])
{
	uint8_t otk[crypto_onetimeauth_KEYBYTES];

	memcpy(c->nonce, nonce, sizeof(c->nonce));
	seal_otk(key, nonce, otk);
	crypto_onetimeauth_init((crypto_onetimeauth_state *)c->st, otk);
	sodium_memzero(otk, sizeof(otk));
}

void img_seal_begin(struct img_seal_ctx *c, const uint8_t key[IMG_SEAL_KEY_BYTES])
{
	uint8_t nonce[16];

	randombytes_buf(nonce, sizeof(nonce));
	seal_begin_nonce(c, key, nonce);
}

void img_seal_update(struct img_seal_ctx *c, const void *p, size_t n)
{
	crypto_onetimeauth_update((crypto_onetimeauth_state *)c->st, p, n);
}

void img_seal_finish(struct img_seal_ctx *c, const uint8_t key[IMG_SEAL_KEY_BYTES],
		     uint32_t uid, uint32_t gid, struct img_seal *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->magic, IMG_SEAL_MAGIC, sizeof(s->magic));
	s->alg = IMG_SEAL_POLY1305;
	s->uid = uid;
	s->gid = gid;
	img_seal_key_id(key, s->key_id);
	memcpy(s->nonce, c->nonce, sizeof(s->nonce));
	crypto_onetimeauth_update((crypto_onetimeauth_state *)c->st, (const unsigned char *)s,
				  offsetof(struct img_seal, mac));
	crypto_onetimeauth_final((crypto_onetimeauth_state *)c->st, s->mac);
}

/* MACs n bytes of fd from off (mapped in 64 MiB windows: no copy). */
static int mac_range(struct img_seal_ctx *c, int fd, uint64_t off, uint64_t n, char *err,
		     size_t len)
{
	const uint64_t win = 64u << 20;

	while (n) {
		uint64_t a = off & ~(uint64_t)4095, take = n < win ? n : win;
		size_t mlen = (size_t)(off - a + take);
		/* populated: one fault per window, not one per page */
		void *p = mmap(NULL, mlen, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, (off_t)a);

		if (p == MAP_FAILED) {
			snprintf(err, len, "cannot map the image to check its seal: %s",
				 strerror(errno));
			return -1;
		}
		img_seal_update(c, (const char *)p + (off - a), (size_t)take);
		munmap(p, mlen);
		off += take;
		n -= take;
	}
	return 0;
}

int img_seal_file(int fd, int64_t base, const uint8_t key[IMG_SEAL_KEY_BYTES], uint32_t uid,
		  uint32_t gid, char *err, size_t len)
{
	struct img_seal_ctx c;
	struct img_seal s;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < base) {
		snprintf(err, len, "cannot seal the image: not a regular file");
		return -1;
	}
	img_seal_begin(&c, key);
	if (mac_range(&c, fd, (uint64_t)base, (uint64_t)(st.st_size - base), err, len) < 0)
		return -1;
	img_seal_finish(&c, key, uid, gid, &s);
	if (pwrite(fd, &s, sizeof(s), st.st_size) != (ssize_t)sizeof(s)) {
		snprintf(err, len, "cannot write the seal: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int img_seal_verify(int fd, int64_t base, const uint8_t key[IMG_SEAL_KEY_BYTES],
		    struct img_seal *out, char *err, size_t len)
{
	struct img_seal_ctx c;
	struct img_seal s, want;
	uint8_t id[16];
	struct stat st;
	uint64_t body;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, len, "a sealed image must be a regular file");
		return -1;
	}
	if (st.st_size < base + (int64_t)(sizeof(struct img_header) + sizeof(s)) ||
	    pread(fd, &s, sizeof(s), st.st_size - sizeof(s)) != (ssize_t)sizeof(s) ||
	    memcmp(s.magic, IMG_SEAL_MAGIC, sizeof(s.magic))) {
		snprintf(err, len, "the image is not sealed (--key requires a seal: save it with "
			 "ckpt-save --key)");
		return -1;
	}
	img_seal_key_id(key, id);
	if (s.alg != IMG_SEAL_POLY1305 || s.reserved) {
		snprintf(err, len, "the image's seal is of an unknown kind (%u)", s.alg);
		return -1;
	}
	if (sodium_memcmp(id, s.key_id, sizeof(id))) {
		snprintf(err, len, "the image was sealed with another key");
		return -1;
	}
	body = (uint64_t)(st.st_size - base) - sizeof(s);
	seal_begin_nonce(&c, key, s.nonce);
	if (mac_range(&c, fd, (uint64_t)base, body, err, len) < 0)
		return -1;
	img_seal_finish(&c, key, s.uid, s.gid, &want);
	if (sodium_memcmp(want.mac, s.mac, sizeof(s.mac))) {
		snprintf(err, len, "the image's seal does not match its contents: it was changed "
			 "after it was sealed");
		return -1;
	}
	if (out)
		*out = s;
	return 0;
}

int img_seal_spool(int fd, char *err, size_t len)
{
	static char buf[1 << 16];
	int m = memfd_create("ckpt-image", MFD_CLOEXEC);
	ssize_t n;

	if (m < 0) {
		snprintf(err, len, "cannot hold the image in memory: %s", strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(m, buf, n) != n) {
			snprintf(err, len, "cannot read the image into memory: %s", strerror(errno));
			close(m);
			return -1;
		}
	}
	if (lseek(m, 0, SEEK_SET) < 0) {
		snprintf(err, len, "cannot read the image into memory: %s", strerror(errno));
		close(m);
		return -1;
	}
	return m;
}
