/*
 * ckpt-info - what a libckpt image holds, for people and for scripts.
 *
 *   ckpt-info [--json] [--no-verify] IMAGE      (IMAGE "-" is stdin)
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
#include <unistd.h>
#include "tools/info.h"

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr, "usage: ckpt-info [--json] [--no-verify] IMAGE\n"
		"  IMAGE may be - for standard input\n");
}

int main(int argc, char **argv)
{
	struct info in;
	const char *path = NULL;
	int json = 0, fd, rc;

	memset(&in, 0, sizeof(in));
	in.verify = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--no-verify"))
			in.verify = 0;
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
	if (!path) {
		usage();
		return INFO_EXIT_USAGE;
	}
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
	rc = info_load(&in, fd);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc) {
		fprintf(stderr, "ckpt-info: %s: %s\n", path, in.err);
		info_free(&in);
		return rc;
	}
	if (json)
		json_print(&in);
	else
		txt_print(&in);
	info_free(&in);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ckpt-info: cannot write the summary: %s\n", strerror(errno));
		return INFO_EXIT_CORRUPT;
	}
	return 0;
}

