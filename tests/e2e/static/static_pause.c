/*
 * static_pause.c - a statically linked program (no libckpt can be
 * preloaded into it): it waits for a signal.  A child of a tree running
 * it makes the tree's checkpoint fail, naming it (t_refusals.sh).
 */
#include <unistd.h>

int main(void)
{
	for (;;)
		pause();
}
