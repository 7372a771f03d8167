/*
 * ckpt-info - what a libckpt image holds, for people and for scripts.
 *
 *   ckpt-info [--json] [--no-verify] [--no-backtrace] [--unwind] [--key FILE] IMAGE   (IMAGE "-" is stdin)
 *   ckpt-info [--json] --diff A B     (info_diff.c: what changed from A to B)
 *
 * The whole image is read and checked before anything is printed, so a
 * corrupt image prints one error line and nothing else (a half summary of
 * a broken image would look like a good one).  Page data is decoded, to
 * prove it restores, unless --no-verify.
 *
 * Beyond what the reader checks record by record, ckpt-info checks what
 * spans records: the record order PROC, FD*, THREAD+, VMA*, PAGES*, that
 * memory areas do not overlap and that every page run lies inside one.
 *
 * --key FILE: the image must carry a seal made with that key
 * (libckpt/img_seal.c), checked over every byte before anything else.
 *
 * Exit status: 0 ok, 1 usage, 2 unreadable or corrupt, 3 incompatible
 * (another arch, a newer format, another page size).
 *
 * Cost: one pass over the image; memory is the record metadata (one
 * struct per fd, thread and area) plus one 256 KiB page-run buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/info.h"
#include "tools/info_mem.h"
#include "tools/info_diff.h"

/*
 * --key: the seal is checked before the image is read (from a pipe, the
 * image is held in memory first, *fd becomes that copy).  0 or an exit
 * status, reported.
 */
static int info_check_seal(struct info *in, const char *keyfile, int *fd)
{
	uint8_t key[IMG_SEAL_KEY_BYTES];
	char err[512];
	struct stat st;
	off_t base = 0;

	if (img_seal_key_load(keyfile, key, err, sizeof(err)) < 0) {
		fprintf(stderr, "ckpt-info: --key: %s\n", err);
		return INFO_EXIT_USAGE;
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int m = img_seal_spool(*fd, err, sizeof(err));

		if (m < 0)
			goto bad;
		if (*fd != STDIN_FILENO)
			close(*fd);
		*fd = m;
	} else if ((base = lseek(*fd, 0, SEEK_CUR)) < 0) {
		base = 0;
	}
	if (img_seal_verify(*fd, base, key, &in->seal, err, sizeof(err)) < 0)
		goto bad;
	in->sealed = in->seal_verified = 1;
	return 0;
bad:
	fprintf(stderr, "ckpt-info: %s: %s\n", in->name, err);
	return INFO_EXIT_CORRUPT;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr, "usage: ckpt-info [--json] [--no-verify] [--no-backtrace] [--unwind] [--key FILE] IMAGE\n"
		"       ckpt-info [--json] --diff A B\n"
		"  IMAGE may be - for standard input\n"
		"  --key FILE  verify the image's seal (ckpt-save --key) with this key\n"
		"  --no-backtrace  do not show the threads' backtraces\n"
		"  --unwind    unwind the stacks from the image even where the checkpoint stored\n"
		"              backtraces\n"
		"  --diff A B  what changed from image A to image B of one process\n");
}

int main(int argc, char **argv)
{
	struct info in;
	const char *path = NULL, *key = NULL, *diff = NULL;
	int json = 0, fd, rc;

	memset(&in, 0, sizeof(in));
	in.verify = 1;
	info_bt_skip = info_bt_unwind = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--diff") && i + 1 < argc && !diff)
			diff = argv[++i];
		else if (!strcmp(argv[i], "--no-backtrace"))
			info_bt_skip = 1;
		else if (!strcmp(argv[i], "--unwind"))
			info_bt_unwind = 1;
		else if (!strcmp(argv[i], "--no-verify"))
			in.verify = 0;
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return 0;
		} else if (!strcmp(argv[i], "--") && i + 2 == argc && !path)
			path = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ckpt-info: unknown option %s\n", argv[i]);
			usage();
			return INFO_EXIT_USAGE;
		} else if (path) {
			usage();
			return INFO_EXIT_USAGE;
		} else
			path = argv[i];
	}
	if (!path || (diff && (key || !strcmp(path, "-") || !strcmp(diff, "-")))) {
		usage();
		return INFO_EXIT_USAGE;
	}
	if (diff)
		return info_diff_main(diff, path, json);
	in.name = path;

	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "ckpt-info: %s: cannot open: %s\n", path, strerror(errno));
			return INFO_EXIT_CORRUPT;
		}
	}
	if (key && (rc = info_check_seal(&in, key, &fd))) {
		if (fd != STDIN_FILENO)
			close(fd);
		return rc;
	}
	/* a tree's sections are read by offset: a pipe is read into memory first */
	{
		struct stat st;
		char err[256];

		if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
			int m = img_seal_spool(fd, err, sizeof(err));

			if (m < 0) {
				fprintf(stderr, "ckpt-info: %s: %s\n", path, err);
				return INFO_EXIT_CORRUPT;
			}
			if (fd != STDIN_FILENO)
				close(fd);
			fd = m;
		}
	}
	rc = info_load(&in, fd);
	if (rc) {
		fprintf(stderr, "ckpt-info: %s: %s\n", path, in.err);
		info_free(&in);
		if (fd != STDIN_FILENO)
			close(fd);
		return rc;
	}
	/* the image stays open while printing: backtraces read its pages (info_mem.c) */
	if (in.nsection)
		(json ? json_tree : txt_tree)(&in);
	else if (json)
		json_print(&in);
	else
		txt_print(&in);
	info_free(&in);
	info_mods_free();
	if (fd != STDIN_FILENO)
		close(fd);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ckpt-info: cannot write the summary: %s\n", strerror(errno));
		return INFO_EXIT_CORRUPT;
	}
	return 0;
}

