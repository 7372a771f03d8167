/*
 * test_tree.c - a tree's checkpoint, the pieces that stand alone: the
 * protocol's checker and socket name (libckpt/tree_proto.c), what /proc
 * says about a process (libckpt/ckpt_tree_scan.c).
 */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "libckpt/ckpt_tree.h"
#include "libckpt/tree_proto.h"
#include "tests/unit/unit.h"

static unsigned char tt_buf[sizeof(struct tree_msg) + 16 * sizeof(int32_t)];

static struct tree_msg *tt_msg(uint32_t type, uint32_t count)
{
	struct tree_msg *m = (struct tree_msg *)tt_buf;

	memset(tt_buf, 0, sizeof(tt_buf));
	m->magic = TREE_MSG_MAGIC;
	m->type = type;
	m->count = count;
	return m;
}

static int tt_check(uint32_t type, size_t len)
{
	return tree_check(tt_buf, len, type, sizeof(int32_t), 8);
}

static void test_check_accepts(void)
{
	const size_t base = sizeof(struct tree_msg);
	struct tree_msg *m = tt_msg(TREE_PARKED, 3);

	m->flags = TREE_FAITHFUL;
	strcpy(m->err, "why");
	CU_ASSERT_EQUAL(tt_check(TREE_PARKED, base + 3 * 4), 0);
	m = tt_msg(TREE_CAPTURE, 0);
	m->flags = TREE_FORKED | TREE_MAPPABLE;
	m->stop_sig = SIGSTOP;
	CU_ASSERT_EQUAL(tt_check(TREE_CAPTURE, base), 0);
	m = tt_msg(TREE_RELEASE, 0);
	CU_ASSERT_EQUAL(tree_check(tt_buf, base, TREE_RELEASE, 1, 0), 0);
}

static void test_check_refuses(void)
{
	const size_t base = sizeof(struct tree_msg);
	struct tree_msg *m = tt_msg(TREE_PARKED, 3);

	CU_ASSERT_EQUAL(tt_check(TREE_PARKED, base + 2 * 4), -1);	/* short */
	CU_ASSERT_EQUAL(tt_check(TREE_PARKED, base + 4 * 4), -1);	/* long */
	CU_ASSERT_EQUAL(tt_check(TREE_CAPTURE, base + 3 * 4), -1);	/* another type */
	CU_ASSERT_EQUAL(tt_check(TREE_PARKED, base - 1), -1);
	m->count = 9;						/* over the limit */
	CU_ASSERT_EQUAL(tt_check(TREE_PARKED, base + 9 * 4), -1);
	m = tt_msg(TREE_PARKED, 0);
	m->magic ^= 1;
	CU_ASSERT_EQUAL(tt_check(TREE_PARKED, base), -1);
	m = tt_msg(TREE_PARKED, 0);
	m->flags = 0x100;					/* unknown flag */
	CU_ASSERT_EQUAL(tt_check(TREE_PARKED, base), -1);
	m = tt_msg(TREE_CAPTURE, 0);
	m->stop_sig = 65;
	CU_ASSERT_EQUAL(tt_check(TREE_CAPTURE, base), -1);
	m->stop_sig = -1;
	CU_ASSERT_EQUAL(tt_check(TREE_CAPTURE, base), -1);
	m = tt_msg(TREE_PARKED, 0);
	memset(m->err, 'x', sizeof(m->err));			/* no NUL */
	CU_ASSERT_EQUAL(tt_check(TREE_PARKED, base), -1);
	/* a count whose size would overflow a 32-bit product */
	m = tt_msg(TREE_CAPTURED, 0xffffffffu);
	CU_ASSERT_EQUAL(tree_check(tt_buf, base, TREE_CAPTURED, sizeof(struct tree_zombie),
				   TREE_MAX_ZOMBIES), -1);
}

static void test_sock_name(void)
{
	struct sockaddr_un sun;
	socklen_t len = tree_sock_name(&sun, 1234, 0xbeefu);
	static const char want[] = "libckpt-tree-1234-beef";

	CU_ASSERT_EQUAL(sun.sun_family, AF_UNIX);
	CU_ASSERT_EQUAL(sun.sun_path[0], '\0');
	CU_ASSERT_EQUAL(len, offsetof(struct sockaddr_un, sun_path) + 1 + sizeof(want) - 1);
	CU_ASSERT(memcmp(sun.sun_path + 1, want, sizeof(want) - 1) == 0);
}

static void test_stat_self(void)
{
	struct ckpt_tree_stat st;
	char buf[4096], old[16];

	/* a name with a ") " in it: the last ')' ends it */
	prctl(PR_GET_NAME, old);
	prctl(PR_SET_NAME, "x) S 1 2 (y");
	CU_ASSERT_EQUAL(ckpt_tree_stat(getpid(), &st, buf, sizeof(buf)), 0);
	prctl(PR_SET_NAME, old);
	CU_ASSERT_STRING_EQUAL(st.comm, "x) S 1 2 (y");
	CU_ASSERT_EQUAL(st.ppid, getppid());
	CU_ASSERT_EQUAL(st.pgid, getpgid(0));
	CU_ASSERT_EQUAL(st.sid, getsid(0));
	CU_ASSERT_EQUAL(st.exit_signal, SIGCHLD);
	CU_ASSERT(st.state == 'R');
	CU_ASSERT(ckpt_tree_stat(-1, &st, buf, sizeof(buf)) < 0);
}

static void test_children(void)
{
	int32_t kids[8];
	char buf[4096];
	pid_t a, b;
	int n, seen = 0, st;
	struct ckpt_tree_stat s;

	a = fork();
	if (a == 0) {
		pause();
		_exit(0);
	}
	b = fork();
	if (b == 0)
		_exit(3);
	/* b a zombie, a alive: both are children */
	while (ckpt_tree_stat(b, &s, buf, sizeof(buf)) == 0 && s.state != 'Z')
		usleep(1000);
	n = ckpt_tree_children(getpid(), kids, 8, buf, sizeof(buf));
	CU_ASSERT(n >= 2);
	for (int i = 0; i < n; i++)
		seen |= (kids[i] == a) | (kids[i] == b) << 1;
	CU_ASSERT_EQUAL(seen, 3);
	CU_ASSERT_EQUAL(ckpt_tree_children(getpid(), kids, 1, buf, sizeof(buf)), -E2BIG);
	kill(a, SIGKILL);
	waitpid(a, &st, 0);
	waitpid(b, &st, 0);
}

UNIT_SUITE(tree,
	   { "tree_check: messages of each kind accepted", test_check_accepts },
	   { "tree_check: sizes, types, flags, limits refused", test_check_refuses },
	   { "tree_sock_name: abstract, pid and cookie", test_sock_name },
	   { "ckpt_tree_stat: ids and a name with parentheses", test_stat_self },
	   { "ckpt_tree_children: a live child and a zombie", test_children });
