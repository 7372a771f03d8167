/*
 * test_tmpfile.c - image files nobody can plant or predict
 * (libckpt/ckpt_tmpfile.c): the O_TMPFILE path, the named fallback, links
 * planted at the exact names, modes, the final path, cleanup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "libckpt/ckpt_tmpfile.h"
#include "tests/unit/unit.h"

static char tt_dir[64];

static void tt_mkdir(void)
{
	strcpy(tt_dir, "/tmp/ckpt-unit-tmp-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(tt_dir) != NULL);
}

/* Names in tt_dir, but "keep"; removes them all when clean. */
static int tt_count(const char *keep, int clean)
{
	DIR *d = opendir(tt_dir);
	struct dirent *e;
	char p[512];
	int n = 0;

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (keep && !strcmp(e->d_name, keep))
			continue;
		n++;
		if (clean) {
			snprintf(p, sizeof(p), "%s/%s", tt_dir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	return n;
}

static void tt_rmdir(void)
{
	char p[512];

	tt_count(NULL, 1);
	snprintf(p, sizeof(p), "%s", tt_dir);
	rmdir(p);
}

static int tt_is_hex16(const char *s)
{
	for (int i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[16] == '\0';
}

static void test_tmpfile_commit(void)
{
	struct ckpt_tmpfile t;
	char path[512], final[4096], err[512];
	struct stat st;
	mode_t old = umask(0);

	tt_mkdir();
	snprintf(path, sizeof(path), "%s/app.img", tt_dir);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_create(&t, 0, err, sizeof(err)), 0);
	umask(old);
	CU_ASSERT_FALSE(t.named);		/* ext4, tmpfs: an O_TMPFILE */
	CU_ASSERT_EQUAL(tt_count(NULL, 0), 0);	/* nothing has a name */
	CU_ASSERT_EQUAL(fstat(t.fd, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(write(t.fd, "image", 5), 5);
	CU_ASSERT_EQUAL(ckpt_tmp_final_path(&t, final, sizeof(final)), (int)strlen(path));
	CU_ASSERT_STRING_EQUAL(final, path);
	/* a link planted at the final name is replaced, never followed */
	CU_ASSERT_EQUAL(symlink("/nonexistent-target", path), 0);
	CU_ASSERT_EQUAL(ckpt_tmp_commit(&t, 1, err, sizeof(err)), 0);
	ckpt_tmp_release(&t);
	CU_ASSERT_EQUAL(lstat(path, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_size, 5);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(tt_count("app.img", 0), 0);
	CU_ASSERT_EQUAL(access("/nonexistent-target", F_OK), -1);
	tt_rmdir();
}

static void test_tmpfile_abort(void)
{
	struct ckpt_tmpfile t;
	char path[512], err[512];

	tt_mkdir();
	snprintf(path, sizeof(path), "%s/app.img", tt_dir);
	/* O_TMPFILE: nothing to remove, nothing left */
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_create(&t, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(write(t.fd, "half", 4), 4);
	ckpt_tmp_abort(&t);
	CU_ASSERT_EQUAL(tt_count(NULL, 0), 0);
	CU_ASSERT_EQUAL(t.fd, -1);
	CU_ASSERT_EQUAL(t.dirfd, -1);
	/* named: removed */
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_create(&t, CKPT_TMP_NAMED, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tt_count(NULL, 0), 1);
	ckpt_tmp_abort(&t);
	CU_ASSERT_EQUAL(tt_count(NULL, 0), 0);
	/* abort twice, release after abort: no harm */
	ckpt_tmp_abort(&t);
	ckpt_tmp_release(&t);
	tt_rmdir();
}

static void test_tmpfile_named(void)
{
	struct ckpt_tmpfile t;
	char path[512], err[512], name[512], target[512], first[CKPT_TMP_NAME_MAX];
	struct stat st;
	mode_t old = umask(0);
	int fd;

	tt_mkdir();
	snprintf(path, sizeof(path), "%s/app.img", tt_dir);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_create(&t, CKPT_TMP_NAMED, err, sizeof(err)), 0);
	umask(old);
	CU_ASSERT(t.named);
	CU_ASSERT_EQUAL(strncmp(t.tmp, "app.img.tmp.", 12), 0);
	CU_ASSERT(tt_is_hex16(t.tmp + 12));
	snprintf(name, sizeof(name), "%s/%s", tt_dir, t.tmp);
	CU_ASSERT_EQUAL(lstat(name, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	strcpy(first, t.tmp);
	CU_ASSERT_EQUAL(ckpt_tmp_commit(&t, 0, err, sizeof(err)), 0);
	ckpt_tmp_release(&t);
	CU_ASSERT_EQUAL(tt_count("app.img", 0), 0);
	/* the next one has another name */
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_create(&t, CKPT_TMP_NAMED, err, sizeof(err)), 0);
	CU_ASSERT_STRING_NOT_EQUAL(t.tmp, first);
	ckpt_tmp_abort(&t);

	/* a symlink and a 0666 file planted at the exact name: refused, untouched */
	snprintf(target, sizeof(target), "%s/precious", tt_dir);
	fd = open(target, O_CREAT | O_WRONLY, 0644);
	CU_ASSERT_EQUAL(write(fd, "precious", 8), 8);
	close(fd);
	snprintf(name, sizeof(name), "%s/app.img.tmp.0000000000000000", tt_dir);
	CU_ASSERT_EQUAL(symlink(target, name), 0);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ckpt_tmp_create_named(&t, "app.img.tmp.0000000000000000", err,
					      sizeof(err)), -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "File exists"));
	CU_ASSERT_EQUAL(t.fd, -1);
	ckpt_tmp_abort(&t);			/* must not remove the planted link */
	CU_ASSERT_EQUAL(lstat(name, &st), 0);
	CU_ASSERT(S_ISLNK(st.st_mode));
	CU_ASSERT_EQUAL(stat(target, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 8);
	unlink(name);
	fd = open(name, O_CREAT | O_WRONLY, 0666);
	fchmod(fd, 0666);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ckpt_tmp_create_named(&t, "app.img.tmp.0000000000000000", err,
					      sizeof(err)), -EEXIST);
	ckpt_tmp_abort(&t);
	CU_ASSERT_EQUAL(lstat(name, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode) && st.st_size == 0);
	tt_rmdir();
}

static void test_tmpfile_paths(void)
{
	struct ckpt_tmpfile t;
	char path[512], final[4096], cwd[4096], err[512], longname[300];

	tt_mkdir();
	/* a relative path: the final path is absolute, as /proc names the directory */
	CU_ASSERT_FATAL(getcwd(cwd, sizeof(cwd)) != NULL);
	CU_ASSERT_EQUAL_FATAL(chdir(tt_dir), 0);
	CU_ASSERT_EQUAL(ckpt_tmp_open_dir(&t, "rel.img", err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/rel.img", tt_dir);
	CU_ASSERT_EQUAL(ckpt_tmp_final_path(&t, final, sizeof(final)), (int)strlen(path));
	CU_ASSERT_STRING_EQUAL(final, path);
	ckpt_tmp_release(&t);
	CU_ASSERT_EQUAL(chdir(cwd), 0);
	/* not a file name */
	snprintf(path, sizeof(path), "%s/", tt_dir);
	CU_ASSERT_EQUAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), -EISDIR);
	snprintf(path, sizeof(path), "%s/..", tt_dir);
	CU_ASSERT_EQUAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), -EISDIR);
	CU_ASSERT_EQUAL(ckpt_tmp_open_dir(&t, "/nonexistent-dir/x.img", err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-dir"));
	CU_ASSERT_EQUAL(t.dirfd, -1);
	/* "/name": the root directory */
	CU_ASSERT_EQUAL(ckpt_tmp_open_dir(&t, "/x.img", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ckpt_tmp_final_path(&t, final, sizeof(final)), 6);
	CU_ASSERT_STRING_EQUAL(final, "/x.img");
	ckpt_tmp_release(&t);
	/* a final name of 250 bytes: its temporary name still fits NAME_MAX */
	memset(longname, 'n', 250);
	longname[250] = '\0';
	snprintf(path, sizeof(path), "%s/%s", tt_dir, longname);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_open_dir(&t, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ckpt_tmp_create(&t, CKPT_TMP_NAMED, err, sizeof(err)), 0);
	CU_ASSERT(strlen(t.tmp) < 256);
	CU_ASSERT_EQUAL(ckpt_tmp_commit(&t, 0, err, sizeof(err)), 0);
	ckpt_tmp_release(&t);
	CU_ASSERT_EQUAL(tt_count(longname, 0), 0);
	tt_rmdir();
}

static void test_random_hex(void)
{
	char a[17], b[17];

	CU_ASSERT_EQUAL(ckpt_tmp_random_hex(a), 0);
	CU_ASSERT_EQUAL(ckpt_tmp_random_hex(b), 0);
	CU_ASSERT(tt_is_hex16(a) && tt_is_hex16(b));
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

UNIT_SUITE(tmpfile,
	   { "O_TMPFILE: nameless, 0600, renamed over a planted link", test_tmpfile_commit },
	   { "abort: nothing left, named or not", test_tmpfile_abort },
	   { "named: random, 0600, a planted link or file refused", test_tmpfile_named },
	   { "paths: relative, root, not a file, long names", test_tmpfile_paths },
	   { "random names differ", test_random_hex });
