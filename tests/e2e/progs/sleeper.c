/*
 * sleeper.c - sleeps that checkpoints must not cut short.
 *
 *   sleeper SECONDS
 * Prints "READY", then sleeps SECONDS in one nanosleep() and prints
 * "SLEPT nanosleep r=<ret> errno=<e> at=<CLOCK_REALTIME ns>"; then a
 * quarter second with clock_nanosleep(), 1 s with sleep() and a quarter
 * second with usleep(), one line each.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	struct timespec req = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) }, rem;
	int r;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("READY at=%lu\n", (unsigned long)now());
	r = nanosleep(&req, &rem);
	printf("SLEPT nanosleep r=%d errno=%d at=%lu\n", r, r ? errno : 0, (unsigned long)now());
	req = (struct timespec){ 0, 250000000 };
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
	printf("SLEPT clock_nanosleep r=%d errno=0 at=%lu\n", r, (unsigned long)now());
	r = sleep(1);
	printf("SLEPT sleep r=%d errno=0 at=%lu\n", r, (unsigned long)now());
	r = usleep(250000);
	printf("SLEPT usleep r=%d errno=%d at=%lu\n", r, r ? errno : 0, (unsigned long)now());
	return 0;
}
