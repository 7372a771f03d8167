/*
 * restart_trust.c - whom ckpt-restart believes, and whom it acts as.
 *
 * An image is a file its writer could edit: the format is public and its
 * checksums are CRC32C, which anyone can recompute.  So what an image
 * says about identity (uid, gid, groups, capabilities) is believed only
 * when nobody but root could have written it.  The rule (docs/SECURITY.md,
 * "Who may restart what"):
 *
 *   trusted    the image file, as opened (fstat of our fd, never the
 *              name again), is a regular file owned by root that nobody
 *              else may write: no group or other write bit, no POSIX ACL
 *              entry granting write, no NFSv4 ACL, and a file system
 *              that stores owners (not FUSE, vfat, exfat, ntfs, iso9660,
 *              udf, cifs).  Or the administrator said so: --trust-image.
 *              For an incremental chain, every parent too
 *              (restart_chain.c checks each on its own fd).
 *   owned      any other regular file: it belongs to its owner, who
 *              could have written anything in it.
 *   no owner   a pipe, a socket, a file on a file system whose owners
 *              mean nothing, root's file that others may write.
 *
 * What follows, for root (a non-root ckpt-restart restarts only images
 * of its own uid, restart_env.c, and holds no identity to lend):
 *   trusted    as before: files are opened as root, the restorer takes
 *              the recorded uid, gid and groups, and each thread gets its
 *              recorded capabilities if ckpt-restart holds them itself;
 *   owned      refused (exit 4) unless the recorded uid is the owner's
 *              and the recorded gid one of the owner's groups; then,
 *              before anything the image names is opened, mapped,
 *              entered or read (parents, mapped files, fds, cwd, exe),
 *              ckpt-restart becomes the owner: the owner's groups from
 *              the group database (as initgroups), the recorded gid, the
 *              owner's uid, no capability but the one restoring pids
 *              needs (CAP_CHECKPOINT_RESTORE; with --lazy also
 *              CAP_SYS_PTRACE, for userfaultfd), kept in the permitted
 *              set only and made effective by the restorer for clone3
 *              set_tid and the exe link, then dropped by every thread;
 *   no owner   refused (exit 4) unless --trust-image.
 * Capabilities come back only from a trusted image and only those
 * ckpt-restart held when it started (s->caps_held), never those a setcap
 * on ckpt-restart gave it (AT_SECURE) nor those a user namespace gives
 * its owner (held is measured outside).  A --pidns image's are its own
 * namespace's, made anew by the restart, where its owner holds them all:
 * they are given back whatever ckpt-restart holds outside
 * (restart_env.c check_caps).
 *
 * Invariants:
 *  1. ckpt-restart never runs setuid or setgid (refused at start).
 *  2. Between becoming the owner and the restorer's last thread dropping
 *     what is kept, the process is not dumpable and holds a capability
 *     its owner lacks: the owner can neither ptrace it nor read or write
 *     its memory through /proc (restorer.c sets it dumpable last).
 *  3. An effective capability is never raised while ckpt-restart opens a
 *     path the image names.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "restart/rst.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE	40
#endif
#define CAP_BIT(c)		(1ULL << (c))
#define NTFS3_SUPER_MAGIC	0x5346544e

/* ---- capability sets (the restarter's own) ---- */

static int caps_get(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};

	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

void rst_caps_raise(struct rst_state *s)
{
	uint64_t e, p, i;

	if (s->cap_keep && caps_get(&e, &p, &i) == 0)
		caps_set(e | (s->cap_keep & p), p, i);
}

void rst_caps_lower(struct rst_state *s)
{
	uint64_t e, p, i;

	if (s->cap_keep && caps_get(&e, &p, &i) == 0)
		caps_set(e & ~s->cap_keep, p, i);
}

void rst_caps_release(struct rst_state *s)
{
	uint64_t e, p, i;

	if (s->cap_keep && caps_get(&e, &p, &i) == 0)
		caps_set(e & ~s->cap_keep, p & ~s->cap_keep, i);
	s->cap_keep = 0;
}

/*
 * What restoring pids and the exe link need, out of p: CAP_CHECKPOINT_
 * RESTORE (CAP_SYS_ADMIN on a kernel older than 5.9, which lacks it);
 * with --lazy, CAP_SYS_PTRACE (userfaultfd serving kernel faults).
 */
static uint64_t keep_set(struct rst_state *s, uint64_t p)
{
	uint64_t k = CAP_BIT(CAP_CHECKPOINT_RESTORE);
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0 && atoi(buf) < CAP_CHECKPOINT_RESTORE)
			k = CAP_BIT(CAP_SYS_ADMIN);
		close(fd);
	}
	if (s->want_lazy)
		k |= CAP_BIT(CAP_SYS_PTRACE);
	return k & p;
}

int rst_creds_init(struct rst_state *s)
{
	uid_t r, e, sv;
	gid_t rg, eg, sg;
	uint64_t eff, prm, inh;

	getresuid(&r, &e, &sv);
	getresgid(&rg, &eg, &sg);
	if (r != e || r != sv || rg != eg || rg != sg) {
		fprintf(stderr, "ckpt-restart: refusing to run setuid or setgid (uids %u/%u/%u, gids "
			"%u/%u/%u): it restarts images as their owner, and a set-id bit would let "
			"anyone act as another; remove it (chmod u-s,g-s)\n", r, e, sv, rg, eg, sg);
		return RST_EXIT_ENV;
	}
	if (caps_get(&eff, &prm, &inh) < 0)
		prm = 0;
	/* Given by a file capability (setcap), not held by whoever ran us. */
	s->caps_held = getauxval(AT_SECURE) ? 0 : prm;
	if (e != 0) {
		/* Not root: only what restoring pids needs, and only while it does. */
		s->cap_keep = keep_set(s, prm);
		if (eff)
			caps_set(0, prm, inh);
	}
	return 0;
}

/* ---- the trust decision, from the open image file ---- */

/*
 * 1 when an ACL entry other than the owner's grants write: a named user,
 * the owning group or a named group (each bounded by the mask), others.
 * Under POSIX ACL rules the mode's group bits are the mask, so the mode
 * check already covers this; it is read all the same, in case a file
 * system keeps the two apart.  Malformed: granting (-1).
 */
static int acl_grants_write(int fd)
{
	unsigned char buf[8192];
	ssize_t n = fgetxattr(fd, "system.posix_acl_access", buf, sizeof(buf));
	int mask = 1, other = 0, named = 0;

	if (n < 0)
		return errno == ERANGE ? -1 : 0;	/* ENODATA, ENOTSUP: none */
	if (n < 4 || (n - 4) % 8 || buf[0] != 2)
		return -1;
	for (ssize_t i = 4; i < n; i += 8) {
		unsigned tag = buf[i] | buf[i + 1] << 8, w = buf[i + 2] & 2;

		if (tag == 0x10)		/* ACL_MASK */
			mask = !!w;
		else if (tag == 0x20)		/* ACL_OTHER */
			other = !!w;
		else if (tag != 0x01)		/* USER, GROUP_OBJ, GROUP */
			named |= !!w;
	}
	return other || (named && mask);
}

static const char *fs_without_owners(long type)
{
	switch (type) {
	case FUSE_SUPER_MAGIC:	return "a FUSE file system (its owners are what its mounter says)";
	case MSDOS_SUPER_MAGIC:	return "a FAT file system, which stores no owners";
	case EXFAT_SUPER_MAGIC:	return "an exFAT file system, which stores no owners";
	case NTFS3_SUPER_MAGIC:	return "an NTFS file system (owners from its mount options)";
	case ISOFS_SUPER_MAGIC:	return "an ISO 9660 file system (owners from its mount options)";
	case UDF_SUPER_MAGIC:	return "a UDF file system (owners from its mount options)";
	case CIFS_SUPER_MAGIC:
	case SMB2_SUPER_MAGIC:	return "an SMB file system (owners from its mount options)";
	}
	return NULL;
}

/*
 * What the open file fd lets us believe: RST_TRUST_ROOT, _OWNER (with
 * *owner) or _NONE, and why, in words.
 */
static enum rst_trust file_trust(int fd, uid_t *owner, char *why, size_t len)
{
	struct stat st;
	struct statfs sf;
	const char *fs;
	int acl;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "it is read from a %s, which has no owner",
			 S_ISFIFO(st.st_mode) ? "pipe" : S_ISSOCK(st.st_mode) ? "socket" :
			 "file that is not a regular file");
		return RST_TRUST_NONE;
	}
	if (fstatfs(fd, &sf) == 0 && (fs = fs_without_owners(sf.f_type))) {
		snprintf(why, len, "it lies on %s", fs);
		return RST_TRUST_NONE;
	}
	*owner = st.st_uid;
	if (st.st_uid != 0) {
		snprintf(why, len, "its file belongs to uid %u, not root", st.st_uid);
		return RST_TRUST_OWNER;
	}
	acl = acl_grants_write(fd);
	if (acl)
		snprintf(why, len, "its file belongs to root, but %s", acl < 0 ?
			 "has a POSIX ACL that cannot be read" : "a POSIX ACL entry lets others write it");
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		snprintf(why, len, "its file belongs to root, but is writable by %s (mode %04o)",
			 st.st_mode & S_IWOTH ? "others" : "its group", st.st_mode & 07777);
	else if (fgetxattr(fd, "system.nfs4_acl", NULL, 0) >= 0)
		snprintf(why, len, "its file belongs to root, but has an NFSv4 ACL, which "
			 "ckpt-restart does not read");
	else {
		snprintf(why, len, "its file belongs to root and nobody else may write it");
		return RST_TRUST_ROOT;
	}
	return RST_TRUST_NONE;
}

void rst_trust_decide(struct rst_state *s)
{
	if (s->trust_opt) {
		s->trust = RST_TRUST_GIVEN;
		snprintf(s->trust_why, sizeof(s->trust_why), "--trust-image");
		return;
	}
	/*
	 * Sealed with the key (restart_seal.c): whoever held it saw the
	 * process run as the seal's uid, so that is whom to believe and act
	 * as, whoever owns the file (a pipe's copy is ours).  Root's process:
	 * trusted; anyone else's: as an image that uid owns.
	 */
	if (s->sealed) {
		s->owner_uid = s->seal.uid;
		s->trust = s->seal.uid == 0 ? RST_TRUST_ROOT : RST_TRUST_OWNER;
		snprintf(s->trust_why, sizeof(s->trust_why), "its seal (--key) says its process "
			 "ran as uid %u", s->seal.uid);
		return;
	}
	s->trust = file_trust(s->img_fd, &s->owner_uid, s->trust_why, sizeof(s->trust_why));
}

int rst_trust_parent(struct rst_state *s, int fd, const char *name)
{
	char why[160];
	uid_t owner = 0;

	/* a sealed chain: every parent's seal was checked (rst_seal_parent) */
	if (s->trust != RST_TRUST_ROOT || s->sealed ||
	    file_trust(fd, &owner, why, sizeof(why)) == RST_TRUST_ROOT)
		return 0;
	rst_error(s, "parent image %s is not trusted: %s; the image itself is (%s), and an "
		  "incremental chain is trusted only when every image in it is.  Restart it with "
		  "--trust-image if you know who wrote them", name, why, s->trust_why);
	return RST_EXIT_ENV;
}

int rst_trusted(const struct rst_state *s)
{
	return s->trust == RST_TRUST_ROOT || s->trust == RST_TRUST_GIVEN;
}

/* ---- who an untrusted image runs as ---- */

/* "name" of uid, or "no name" (static buffer, for messages). */
static const char *user_name(uid_t uid)
{
	static char buf[64];
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, sizeof(buf), "%s", pw ? pw->pw_name : "no name");
	return buf;
}

/*
 * The owner's groups as initgroups(3) would set them: its primary gid,
 * then every group that lists it.  0, or a problem reported.
 */
static int owner_groups(struct rst_state *s)
{
	struct passwd *pw = getpwuid(s->owner_uid);
	int n = 65536;

	if (!pw)
		return rst_problem(s, RST_EXIT_ENV, "uid %u, the owner of the image file, has no "
				   "entry in the user database, so its groups are unknown: restart "
				   "it as that user, or with --trust-image if you know who wrote it",
				   s->owner_uid);
	s->owner_gid = pw->pw_gid;
	s->run_groups = malloc(n * sizeof(gid_t));
	if (!s->run_groups)
		abort();
	if (getgrouplist(pw->pw_name, pw->pw_gid, s->run_groups, &n) < 0)
		n = 0;
	s->run_ngroups = n;
	return 0;
}

static int in_groups(const struct rst_state *s, gid_t g)
{
	for (int i = 0; i < s->run_ngroups; i++)
		if (s->run_groups[i] == g)
			return 1;
	return g == s->owner_gid;
}

/*
 * Root restarting an untrusted image: the ids it will run with, checked
 * against what the image records.  0, or the problems reported.
 */
static int owner_identity(struct rst_state *s)
{
	int bad = 0;

	if (s->trust == RST_TRUST_NONE)
		return rst_problem(s, RST_EXIT_ENV, "the image is not trusted (%s), and root "
				   "restarts an untrusted image only as the user who owns its file, "
				   "which cannot be done here.  Restart it from a file its user owns, "
				   "or with --trust-image if you know who wrote it (it then runs as "
				   "uid %u, which it records)", s->trust_why, s->proc.uid);
	if (owner_groups(s))
		return RST_EXIT_ENV;
	if (s->proc.uid != s->owner_uid)
		bad = rst_problem(s, RST_EXIT_ENV, "the image says uid %u, but its file belongs to "
				  "uid %u (%s), who could have edited it; root restarts such an image "
				  "as its owner, so it is refused.  Restart it with --trust-image only "
				  "if you know who wrote it (it then runs as uid %u)", s->proc.uid,
				  s->owner_uid, user_name(s->owner_uid), s->proc.uid);
	if (!in_groups(s, s->proc.gid))
		bad = rst_problem(s, RST_EXIT_ENV, "the image says gid %u, but uid %u (%s), the "
				  "owner of its file, is not in group %u; refused.  Restart it with "
				  "--trust-image only if you know who wrote it", s->proc.gid,
				  s->owner_uid, user_name(s->owner_uid), s->proc.gid);
	return bad;
}

int rst_trust_ns_ids(struct rst_state *s, uid_t *uid, gid_t *gid, const gid_t **groups, int *n)
{
	int r;

	*uid = s->proc.uid;
	*gid = s->proc.gid;
	*groups = s->img_groups;
	*n = s->img_ngroups;
	if (geteuid() != 0)
		return 0;
	s->foreign = s->proc.uid != 0 || !rst_trusted(s);
	if (rst_trusted(s))
		return 0;
	if ((r = owner_identity(s)))
		return r;		/* --check too: nobody to make the namespace as */
	s->as_owner = 1;
	*uid = s->owner_uid;
	*groups = s->run_groups;
	*n = s->run_ngroups;
	return 0;
}

/* Root to the owner, keeping only cap_keep, permitted, not effective. */
static int become_owner(struct rst_state *s)
{
	uint64_t e, p, i;

	if (caps_get(&e, &p, &i) < 0)
		p = 0;
	s->cap_keep = keep_set(s, p);
	/* --check goes on after a refused gid: with the owner's own */
	gid_t gid = in_groups(s, s->proc.gid) ? s->proc.gid : s->owner_gid;

	if (setgroups(s->run_ngroups, s->run_groups) < 0 || setresgid(gid, gid, gid) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 1) < 0 ||
	    setresuid(s->owner_uid, s->owner_uid, s->owner_uid) < 0)
		goto fail;
	prctl(PR_SET_KEEPCAPS, 0);
	if (caps_set(0, s->cap_keep, 0) < 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		goto fail;
	/* The kernel made us undumpable with the uid change; say so whatever suid_dumpable is. */
	prctl(PR_SET_DUMPABLE, 0);
	s->as_owner = 1;
	return 0;
fail:
	rst_error(s, "cannot become uid %u gid %u, the image file's owner: %s", s->owner_uid,
		  gid, strerror(errno));
	return RST_EXIT_ENV;
}

int rst_trust_apply(struct rst_state *s)
{
	int r;

	if (geteuid() != 0)
		return 0;
	s->foreign = s->proc.uid != 0 || !rst_trusted(s);
	if (rst_trusted(s))
		return 0;
	if ((r = owner_identity(s)) && !s->check_only)
		return r;
	if (s->trust == RST_TRUST_NONE || !s->run_groups)
		return r;		/* --check: nobody to become */
	return become_owner(s) ? RST_EXIT_ENV : r;
}

/*
 * An fd the image says to inherit takes ckpt-restart's own fd of that
 * number: a terminal, pipe or socket at 0-2 is the only kind libckpt
 * writes (fds/fd_inherit.c).  One above 2 in an image root may not trust
 * would hand the process whatever root started ckpt-restart with there
 * (a socket systemd passed, a file a script opened): refused, unless
 * root says --inherit-fd for it.
 */
int rst_trust_check_fds(struct rst_state *s)
{
	int bad = 0;

	if (!s->foreign || rst_trusted(s))
		return 0;
	for (int i = 0; i < s->nfds; i++) {
		const struct rst_file *f = rst_file_by_id(s, s->fds[i].file);
		int given = 0;

		for (int k = 0; k < s->ninherit; k++)
			given |= s->inherit[k].fd == s->fds[i].fd;
		if (s->fds[i].fd > 2 && f && f->f.kind == IMG_FILE_INHERIT && !given)
			bad = rst_problem(s, RST_EXIT_ENV, "fd %d: the image says it is ckpt-restart's "
					  "own fd %d, which libckpt only writes for fds 0-2, and the "
					  "image is not trusted (%s); refused.  Give --inherit-fd %d=M if "
					  "the process should have your fd M", s->fds[i].fd, s->fds[i].fd,
					  s->trust_why, s->fds[i].fd);
	}
	return bad;
}

/* ---- what the restorer is told ---- */

int rst_caps_restored(const struct rst_state *s)
{
	return rst_trusted(s);
}

uint64_t rst_image_caps(const struct rst_state *s)
{
	uint64_t want = 0;

	for (int i = 0; i < s->nthreads; i++)
		want |= s->threads[i].cap_permitted | s->threads[i].cap_inheritable |
			s->threads[i].cap_effective;
	return want;
}

void rst_caps_note(struct rst_state *s)
{
	uint64_t want = rst_image_caps(s);

	if (want && !rst_caps_restored(s))
		dprintf(rst_err_fd, "ckpt-restart: %s: note: the image's capabilities (%#lx) are not "
			"restored: the image is not trusted (%s)\n", s->image, (unsigned long)want,
			s->trust_why);
}

void rst_trust_report(struct rst_state *s)
{
	gid_t own[256];
	const gid_t *g = s->img_groups;
	int n = s->img_ngroups;
	uid_t uid = s->proc.uid;
	gid_t gid = s->proc.gid;
	char groups[512] = "";
	size_t len = 0;

	if (geteuid() != 0) {	/* a user, or root become the owner: the ids we have */
		uid = getuid();
		gid = getgid();
		n = getgroups(256, own);
		g = own;
	}
	for (int i = 0; i < n && len < sizeof(groups) - 16; i++)
		len += snprintf(groups + len, sizeof(groups) - len, "%s%u", i ? "," : "", g[i]);
	printf("ckpt-restart: %s: %s: %s; runs as uid %u (%s) gid %u groups [%s] %s\n", s->image,
	       rst_trusted(s) ? "trusted" : "not trusted", s->trust_why, uid, user_name(uid), gid,
	       groups, rst_caps_restored(s) ? "with the capabilities it records, if ckpt-restart "
	       "holds them" : "with no capabilities");
}

/*
 * In the child, when root restarts a process that will run as another
 * user (trusted or not: its code is that user's): lose the controlling
 * terminal (root's, usually), so that the process cannot push input into
 * it (TIOCSTI needs it to be our own) nor take it back (TIOCSCTTY needs a
 * session leader).  The session and process group stay: ^C still
 * reaches it.
 */
void rst_trust_child(struct rst_state *s)
{
	int fd;

	if (!s->foreign || (fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return;
	ioctl(fd, TIOCNOTTY);
	close(fd);
}

void rst_trust_hint(struct rst_state *s, int r)
{
	if (s->as_owner && r == RST_EXIT_ENV)
		dprintf(rst_err_fd, "ckpt-restart: %s: note: the restart ran as uid %u (%s), the image "
			"file's owner, because the image is not trusted (%s); what that uid may not "
			"open is refused (docs/SECURITY.md)\n", s->image, s->owner_uid,
			user_name(s->owner_uid), s->trust_why);
}
