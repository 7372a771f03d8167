/*
 * kfeatures - what this kernel offers of the features libckpt does without
 * on older kernels (libckpt/ckpt_kfeat.h), one "name 0|1" line each, as
 * libckpt's own probes find them:
 *   pagemap_scan  ioctl PAGEMAP_SCAN (Linux 6.7)
 *   wp_async      userfaultfd UFFD_FEATURE_WP_ASYNC (6.7)
 *   soft_dirty    pagemap's soft-dirty bit (CONFIG_MEM_SOFT_DIRTY)
 *   guard         MADV_GUARD_INSTALL (6.13)
 *   mseal         mseal() (6.10)
 *   vvar_vclock   a [vvar_vclock] mapping (6.13)
 *   smaps_lf      smaps' VmFlags show "lf" (MLOCK_ONFAULT); 6.1's do not
 * Tests use it to know which outcome is the right one here.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "libckpt/ckpt_uffd.h"

/* 1 when a page locked with MLOCK_ONFAULT shows "lf" in its smaps VmFlags. */
static int smaps_lf(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char line[512], want[32];
	int in = 0, lf = 0;
	FILE *f;

	if (p == MAP_FAILED || syscall(SYS_mlock2, p, 4096, 1 /* MLOCK_ONFAULT */) < 0)
		return 0;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	if (!(f = fopen("/proc/self/smaps", "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want)))
			in = 1;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			lf = strstr(line, " lf") != NULL;
			break;
		}
	}
	fclose(f);
	munmap(p, 4096);
	return lf;
}

int main(void)
{
	struct pm_scan_arg a = { .size = sizeof(a), .return_mask = PAGE_IS_PRESENT };
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
	int pm = open("/proc/self/pagemap", O_RDONLY), scan, async = 0, sd;
	volatile char here = 1;
	uint64_t e = 0;
	long uffd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	char line[512];
	int vclock = 0;
	FILE *maps = fopen("/proc/self/maps", "r");

	scan = pm >= 0 && ioctl(pm, PAGEMAP_SCAN, &a) >= 0;
	if (uffd >= 0)
		async = ioctl(uffd, UFFDIO_API, &api) == 0 && (api.features & UFFD_FEATURE_WP_ASYNC);
	here = 2;
	sd = pm >= 0 && pread(pm, &e, 8, ((uintptr_t)&here / 4096) * 8) == 8 && (e >> 55 & 1);
	while (maps && fgets(line, sizeof(line), maps))
		vclock |= strstr(line, "[vvar_vclock]") != NULL;
	printf("pagemap_scan %d\nwp_async %d\nsoft_dirty %d\n", scan, async, sd);
	printf("guard %d\n", syscall(SYS_madvise, 0, 0, 102) == 0);
	printf("mseal %d\n", syscall(462, 0, 0, 0) == 0);
	printf("vvar_vclock %d\n", vclock);
	printf("smaps_lf %d\n", smaps_lf());
	return 0;
}
