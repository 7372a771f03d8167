/*
 * btstore.c - threads stopped in known functions, for the backtraces the
 * checkpoint stores (tests/e2e/t_info_btstore.sh).  Linked with
 * -rdynamic (Makefile), so that its functions are in .dynsym, the table
 * the checkpoint names frames from:
 *   main     level_one -> level_two -> level_three -> nanosleep
 *   reader   blocked_in_read -> read on a pipe nobody writes
 *   signal   before_signal, interrupted by SIGUSR1: in_handler -> nanosleep
 *            (the other threads block SIGUSR1: a kill -USR1 of the
 *            process puts main to sleep in in_handler too)
 *   asm      no_tables (assembly, no unwind table, a frame pointer) ->
 *            called_from_asm -> nanosleep
 *   mallocs  (argument "malloc") malloc_loop: malloc and free, forever
 * Prints "READY pid" once every thread is about to block (the test then
 * waits for them in their system calls).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static int pipefd[2];
static volatile int placed;
static volatile unsigned long sink;

NOINLINE void level_three(void);
NOINLINE void level_two(void);
NOINLINE void level_one(void);
NOINLINE void *blocked_in_read(void *arg);
NOINLINE void in_handler(int sig);
NOINLINE void *before_signal(void *arg);
NOINLINE void called_from_asm(void);
void no_tables(void);
NOINLINE void *asm_thread(void *arg);
NOINLINE void *malloc_loop(void *arg);

static void sleep_forever(void)
{
	struct timespec ts = { 1, 0 };

	__sync_fetch_and_add(&placed, 1);
	for (;;)
		nanosleep(&ts, NULL);
}

NOINLINE void level_three(void) { sleep_forever(); sink++; }
NOINLINE void level_two(void) { level_three(); sink++; }
NOINLINE void level_one(void) { level_two(); sink++; }

NOINLINE void *blocked_in_read(void *arg)
{
	char c;

	__sync_fetch_and_add(&placed, 1);
	for (;;)
		if (read(pipefd[0], &c, 1) == 1)
			sink += c;
	return NULL;
}

NOINLINE void in_handler(int sig)
{
	sleep_forever();
	sink += sig;
}

NOINLINE void *before_signal(void *arg)
{
	sigset_t usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	pthread_kill(pthread_self(), SIGUSR1);
	for (;;)
		sink++;
	return NULL;
}

NOINLINE void called_from_asm(void)
{
	sleep_forever();
	sink++;
}

/* a function with a frame pointer and no CFI: unwound along rbp */
__asm__(".text\n"
	".globl no_tables\n"
	".type no_tables, @function\n"
	"no_tables:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	call called_from_asm\n"
	"	pop %rbp\n"
	"	ret\n"
	".size no_tables, .-no_tables\n");

NOINLINE void *asm_thread(void *arg)
{
	no_tables();
	sink++;
	return NULL;
}

NOINLINE void *malloc_loop(void *arg)
{
	__sync_fetch_and_add(&placed, 1);
	for (unsigned long i = 0;; i++) {
		char *p = malloc(16 + i % 4096);

		if (p) {
			p[0] = (char)i;
			sink += p[0];
		}
		free(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int with_malloc = argc > 1 && !strcmp(argv[1], "malloc");
	struct sigaction sa;
	sigset_t usr1;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = in_handler;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	/* the threads start with SIGUSR1 blocked: a kill -USR1 of the process reaches main */
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	if (pipe(pipefd) < 0 || sigaction(SIGUSR1, &sa, NULL) < 0 ||
	    pthread_create(&t, NULL, blocked_in_read, NULL) ||
	    pthread_create(&t, NULL, before_signal, NULL) ||
	    pthread_create(&t, NULL, asm_thread, NULL) ||
	    (with_malloc && pthread_create(&t, NULL, malloc_loop, NULL)))
		return 1;
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	while (placed < 3 + with_malloc)
		;
	printf("READY %d\n", getpid());
	fflush(stdout);
	level_one();
	return 0;
}
