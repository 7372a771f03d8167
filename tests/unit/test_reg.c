/*
 * test_reg.c - the fd registry (libckpt/reg_fd.c) on its own: records,
 * caller packing, growth, and setters racing a grower.
 *
 * The wrappers are linked into this binary and record the test's own
 * fds too, so these tests use fd numbers far above anything it opens
 * (TREG_BASE and up) and clear what they set.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "libckpt/reg.h"
#include "tests/unit/unit.h"

#define TREG_BASE	900	/* in the first table: no growth needed */

static void test_kind_names(void)
{
	CU_ASSERT_STRING_EQUAL(reg_kind_name(REG_OPEN), "open");
	CU_ASSERT_STRING_EQUAL(reg_kind_name(REG_SOCKET), "socket");
	CU_ASSERT_STRING_EQUAL(reg_kind_name(REG_MEMFD), "memfd_create");
	CU_ASSERT_STRING_EQUAL(reg_kind_name(REG_EPOLL), "epoll_create");
	CU_ASSERT_STRING_EQUAL(reg_kind_name(REG_KIND_MAX), "unknown");
	CU_ASSERT_STRING_EQUAL(reg_kind_name((enum reg_kind)-1), "unknown");
	for (int k = REG_NONE; k < REG_KIND_MAX; k++)
		CU_ASSERT_STRING_NOT_EQUAL(reg_kind_name((enum reg_kind)k), "unknown");
}

static void test_set_get_clear(void)
{
	enum reg_kind kind = REG_NONE;
	uintptr_t caller = 0;

	reg_fd_set(TREG_BASE, REG_PIPE, (void *)0x1234);
	CU_ASSERT_EQUAL(reg_fd_get(TREG_BASE, &kind, &caller), 0);
	CU_ASSERT_EQUAL(kind, REG_PIPE);
	CU_ASSERT_EQUAL(caller, 0x1234);

	/* Overwrite (dup2 onto an fd that had a record). */
	reg_fd_set(TREG_BASE, REG_DUP, (void *)0x7ffd12345678);
	CU_ASSERT_EQUAL(reg_fd_get(TREG_BASE, &kind, &caller), 0);
	CU_ASSERT_EQUAL(kind, REG_DUP);
	CU_ASSERT_EQUAL(caller, 0x7ffd12345678);

	reg_fd_clear(TREG_BASE);
	CU_ASSERT_EQUAL(reg_fd_get(TREG_BASE, &kind, &caller), -1);

	/* REG_NONE is a clear; bad kinds too. */
	reg_fd_set(TREG_BASE, REG_OPEN, (void *)1);
	reg_fd_set(TREG_BASE, REG_NONE, (void *)1);
	CU_ASSERT_EQUAL(reg_fd_get(TREG_BASE, &kind, &caller), -1);
	reg_fd_set(TREG_BASE, REG_KIND_MAX, (void *)1);
	CU_ASSERT_EQUAL(reg_fd_get(TREG_BASE, &kind, &caller), -1);
}

static void test_caller_packing(void)
{
	enum reg_kind kind;
	uintptr_t caller;

	/* A 5-level-paging user address (56 bits) survives; above is cut. */
	reg_fd_set(TREG_BASE + 1, REG_MEMFD, (void *)0x00ffffffffffff00);
	CU_ASSERT_EQUAL(reg_fd_get(TREG_BASE + 1, &kind, &caller), 0);
	CU_ASSERT_EQUAL(kind, REG_MEMFD);
	CU_ASSERT_EQUAL(caller, 0x00ffffffffffff00);
	reg_fd_set(TREG_BASE + 1, REG_INOTIFY, (void *)0xff00000000000042);
	CU_ASSERT_EQUAL(reg_fd_get(TREG_BASE + 1, &kind, &caller), 0);
	CU_ASSERT_EQUAL(kind, REG_INOTIFY);
	CU_ASSERT_EQUAL(caller, 0x42);
	reg_fd_clear(TREG_BASE + 1);
}

static void test_bad_fds(void)
{
	enum reg_kind kind;
	uintptr_t caller;

	reg_fd_set(-1, REG_OPEN, (void *)1);	/* ignored, no crash */
	reg_fd_clear(-5);
	CU_ASSERT_EQUAL(reg_fd_get(-1, &kind, &caller), -1);
	CU_ASSERT_EQUAL(reg_fd_get(TREG_BASE + 2, &kind, &caller), -1);
	/* Past the end of the table: no record, and clearing does not grow. */
	reg_fd_clear(1 << 28);
	CU_ASSERT_EQUAL(reg_fd_get(1 << 28, &kind, &caller), -1);
}

static void test_growth_keeps_records(void)
{
	enum reg_kind kind;
	uintptr_t caller;

	reg_fd_set(TREG_BASE + 3, REG_EVENTFD, (void *)0xabc);
	reg_fd_set(5000, REG_TIMERFD, (void *)0xdef);	/* grows: 1024 -> 8192 */
	reg_fd_set(70000, REG_SOCKET, (void *)0x123);	/* and again */
	CU_ASSERT_EQUAL(reg_fd_get(TREG_BASE + 3, &kind, &caller), 0);
	CU_ASSERT_EQUAL(kind, REG_EVENTFD);
	CU_ASSERT_EQUAL(caller, 0xabc);
	CU_ASSERT_EQUAL(reg_fd_get(5000, &kind, &caller), 0);
	CU_ASSERT_EQUAL(kind, REG_TIMERFD);
	CU_ASSERT_EQUAL(caller, 0xdef);
	CU_ASSERT_EQUAL(reg_fd_get(70000, &kind, &caller), 0);
	CU_ASSERT_EQUAL(kind, REG_SOCKET);
	CU_ASSERT_EQUAL(reg_fd_get(69999, &kind, &caller), -1);
	reg_fd_clear(TREG_BASE + 3);
	reg_fd_clear(5000);
	reg_fd_clear(70000);
	CU_ASSERT_EQUAL(reg_fd_get(70000, &kind, &caller), -1);
}

/*
 * Setters racing a grower (reg_fd.c invariant 3): four threads rewrite
 * their own fds while a fifth grows the table three times (to 8 MiB); no write may
 * be lost.  Each setter ends every round by writing its round number, so
 * the final value of every slot is known.
 */
#define TREG_SETTERS	4
#define TREG_PER	512
#define TREG_ROUNDS	200
#define TREG_RACE_BASE	100000

static volatile int treg_go;

static void *treg_setter(void *arg)
{
	int id = (int)(intptr_t)arg;
	int base = TREG_RACE_BASE + id * TREG_PER;

	while (!treg_go)
		;
	for (int r = 1; r <= TREG_ROUNDS; r++)
		for (int i = 0; i < TREG_PER; i++)
			reg_fd_set(base + i, (enum reg_kind)(1 + (r + i) % (REG_KIND_MAX - 1)),
				   (void *)(uintptr_t)(r * 100000 + i));
	return NULL;
}

static void *treg_grower(void *arg)
{
	while (!treg_go)
		;
	for (int shift = 17; shift <= 19; shift++)
		reg_fd_set(1 << shift, REG_OPEN, (void *)1);
	return NULL;
}

static void test_setters_race_growth(void)
{
	pthread_t t[TREG_SETTERS + 1];
	int bad = 0;

	for (int i = 0; i < TREG_SETTERS; i++)
		pthread_create(&t[i], NULL, treg_setter, (void *)(intptr_t)i);
	pthread_create(&t[TREG_SETTERS], NULL, treg_grower, NULL);
	treg_go = 1;
	for (int i = 0; i <= TREG_SETTERS; i++)
		pthread_join(t[i], NULL);

	for (int id = 0; id < TREG_SETTERS; id++) {
		for (int i = 0; i < TREG_PER; i++) {
			int fd = TREG_RACE_BASE + id * TREG_PER + i;
			enum reg_kind kind;
			uintptr_t caller;

			if (reg_fd_get(fd, &kind, &caller) < 0 ||
			    kind != (enum reg_kind)(1 + (TREG_ROUNDS + i) % (REG_KIND_MAX - 1)) ||
			    caller != (uintptr_t)(TREG_ROUNDS * 100000 + i))
				bad++;
			reg_fd_clear(fd);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	for (int shift = 17; shift <= 19; shift++)
		reg_fd_clear(1 << shift);
}

/*
 * fork while another thread is inside its read sections: the child must
 * still be able to grow the table (a grace period there must not wait
 * for a reader that only existed in the parent: reg_fd.c's atfork).
 */
static volatile int treg_stop;
static volatile long treg_spins;

static void *treg_spinner(void *arg)
{
	(void)arg;
	while (!treg_stop) {
		reg_fd_set(TREG_BASE + 5, REG_PIPE, (void *)2);
		reg_fd_clear(TREG_BASE + 5);
		treg_spins++;
	}
	return NULL;
}

/* The child's exit status, or -1 when it hangs 10 s (it is killed). */
static int treg_wait(pid_t pid)
{
	int status;

	for (int ms = 0; ms < 10000; ms += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void test_fork_while_setting(void)
{
	pthread_t t;
	int ok = 0;

	treg_stop = 0;
	treg_spins = 0;
	pthread_create(&t, NULL, treg_spinner, NULL);
	while (treg_spins < 1000)
		;
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			enum reg_kind kind;
			uintptr_t caller;
			int fd = (1 << 20) + 1 + i;	/* past the end: grows */

			reg_fd_set(fd, REG_SOCKET, (void *)3);
			_exit(reg_fd_get(fd, &kind, &caller) == 0 && kind == REG_SOCKET ? 0 : 1);
		}
		ok += treg_wait(pid) == 0;
	}
	treg_stop = 1;
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(ok, 20);
}

UNIT_SUITE(reg_fd,
	{ "kind names", test_kind_names },
	{ "set, get, clear", test_set_get_clear },
	{ "caller packing (56 bits)", test_caller_packing },
	{ "bad and unrecorded fds", test_bad_fds },
	{ "growth keeps records", test_growth_keeps_records },
	{ "setters racing a grower lose nothing", test_setters_race_growth },
	{ "fork amid setters: the child can grow", test_fork_while_setting },
);
