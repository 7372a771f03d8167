/*
 * info_assist.c - what a restart of the image on this machine, by this
 * user, would use to make its pids and its POSIX timers' ids (ckpt-info's
 * "restart:" line and its JSON "assist"), as ckpt-restart --check would
 * say it: kernel-assist/assist.h decides.
 */
#include <stdio.h>
#include <sys/prctl.h>
#include "kernel-assist/assist.h"
#include "restart/restorer.h"
#include "tools/info.h"

const char *info_assist(const struct info *in, char *pids, size_t plen, char *timers,
			size_t tlen)
{
	struct assist_caps caps;
	int b, posix = 0;

	timers[0] = '\0';
	if (in->hdr.flags & IMG_F_PIDNS) {
		snprintf(pids, plen, "a new user+pid namespace (ckpt-run --pidns): no privilege needed");
		return "pidns";
	}
	assist_probe(&caps);
	b = assist_choose(ASSIST_AUTO, caps.set_tid || caps.ns_last_pid, pids, plen);
	for (size_t i = 0; i < in->ntimer; i++)
		posix += in->timers[i].kind == IMG_TIMER_POSIX;
	if (posix)
		assist_timer_mode(prctl(RST_PR_TIMER_CREATE_RESTORE_IDS, RST_PR_TIMER_IDS_GET,
					0, 0, 0) >= 0, timers, tlen);
	return b < 0 ? "none" : assist_name(b);
}
