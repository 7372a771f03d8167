/*
 * thr_avx.c - each thread's own vector, general and control registers
 * survive a transparent checkpoint taken while 4 threads spin.
 *
 *   thr_avx AVX(0|1) [SECONDS]
 * tspin() (assembly below) loads the calling thread's patterns into
 * ymm0-15 (xmm0-15 when AVX is 0), r8-r15, MXCSR (its own rounding mode
 * and FTZ/DAZ bits) and the x87 control word (its own rounding mode),
 * writes "LOOP START i" with a raw write(2), counts rcx down to zero,
 * then stores everything for main to compare.  main calibrates the count
 * to SECONDS (default 0.6) of one core, starts 4 threads with distinct
 * patterns, and prints "LOOP END i ok|BAD" for each and "ALL OK" if all
 * match.  The test checkpoints while they spin: the restarted copy must
 * not print "LOOP START" again (each thread resumed inside its loop).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NT 4

struct tpat {			/* offsets used by the assembly */
	uint8_t vec[16][32];	/* 0 */
	uint64_t gpr[8];	/* 512: r8..r15 */
	uint32_t mxcsr;		/* 576 */
	uint16_t fcw;		/* 580 */
	uint16_t pad;
	const char *msg;	/* 584: NULL: no message */
	uint64_t msglen;	/* 592 */
	char text[16];
};
struct tout {
	uint8_t vec[16][32];	/* 0 */
	uint64_t gpr[8];	/* 512 */
	uint32_t mxcsr;		/* 576 */
	uint16_t fcw;		/* 580 */
	uint16_t pad;
	uint64_t rcx;		/* 584 */
};
_Static_assert(__builtin_offsetof(struct tpat, msg) == 584, "layout");
_Static_assert(__builtin_offsetof(struct tout, rcx) == 584, "layout");

void tspin(uint64_t n, struct tout *out, const struct tpat *pat, uint64_t avx);

__asm__(
	".text\n"
	".globl tspin\n"
	".type tspin,@function\n"
	"tspin:\n"
	"	push %rbp\n push %rbx\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"	sub $72, %rsp\n"
	"	mov %rdi, 0(%rsp)\n"
	"	mov %rsi, 8(%rsp)\n"
	"	mov %rcx, 16(%rsp)\n"
	"	mov %rdx, %rbx\n"
	"	fnstcw 32(%rsp)\n"
	"	stmxcsr 36(%rsp)\n"
	"	fldcw 580(%rbx)\n"
	"	ldmxcsr 576(%rbx)\n"
	"	test %rcx, %rcx\n"
	"	jz 1f\n"
	"	vmovdqu 0(%rbx), %ymm0\n	vmovdqu 32(%rbx), %ymm1\n"
	"	vmovdqu 64(%rbx), %ymm2\n	vmovdqu 96(%rbx), %ymm3\n"
	"	vmovdqu 128(%rbx), %ymm4\n	vmovdqu 160(%rbx), %ymm5\n"
	"	vmovdqu 192(%rbx), %ymm6\n	vmovdqu 224(%rbx), %ymm7\n"
	"	vmovdqu 256(%rbx), %ymm8\n	vmovdqu 288(%rbx), %ymm9\n"
	"	vmovdqu 320(%rbx), %ymm10\n	vmovdqu 352(%rbx), %ymm11\n"
	"	vmovdqu 384(%rbx), %ymm12\n	vmovdqu 416(%rbx), %ymm13\n"
	"	vmovdqu 448(%rbx), %ymm14\n	vmovdqu 480(%rbx), %ymm15\n"
	"	jmp 2f\n"
	"1:\n"
	"	movdqu 0(%rbx), %xmm0\n	movdqu 32(%rbx), %xmm1\n"
	"	movdqu 64(%rbx), %xmm2\n	movdqu 96(%rbx), %xmm3\n"
	"	movdqu 128(%rbx), %xmm4\n	movdqu 160(%rbx), %xmm5\n"
	"	movdqu 192(%rbx), %xmm6\n	movdqu 224(%rbx), %xmm7\n"
	"	movdqu 256(%rbx), %xmm8\n	movdqu 288(%rbx), %xmm9\n"
	"	movdqu 320(%rbx), %xmm10\n	movdqu 352(%rbx), %xmm11\n"
	"	movdqu 384(%rbx), %xmm12\n	movdqu 416(%rbx), %xmm13\n"
	"	movdqu 448(%rbx), %xmm14\n	movdqu 480(%rbx), %xmm15\n"
	"2:\n"
	"	mov 584(%rbx), %rsi\n"
	"	test %rsi, %rsi\n"
	"	jz 3f\n"
	"	mov $1, %eax\n"			/* write(1, msg, msglen) */
	"	mov $1, %edi\n"
	"	mov 592(%rbx), %rdx\n"
	"	syscall\n"
	"3:\n"
	"	mov 0(%rsp), %rcx\n"
	"	mov 512(%rbx), %r8\n	mov 520(%rbx), %r9\n"
	"	mov 528(%rbx), %r10\n	mov 536(%rbx), %r11\n"
	"	mov 544(%rbx), %r12\n	mov 552(%rbx), %r13\n"
	"	mov 560(%rbx), %r14\n	mov 568(%rbx), %r15\n"
	"4:	dec %rcx\n"
	"	jnz 4b\n"
	"	mov 8(%rsp), %rdi\n"
	"	mov %r8, 512(%rdi)\n	mov %r9, 520(%rdi)\n"
	"	mov %r10, 528(%rdi)\n	mov %r11, 536(%rdi)\n"
	"	mov %r12, 544(%rdi)\n	mov %r13, 552(%rdi)\n"
	"	mov %r14, 560(%rdi)\n	mov %r15, 568(%rdi)\n"
	"	mov %rcx, 584(%rdi)\n"
	"	stmxcsr 576(%rdi)\n"
	"	fnstcw 580(%rdi)\n"
	"	cmpq $0, 16(%rsp)\n"
	"	jz 5f\n"
	"	vmovdqu %ymm0, 0(%rdi)\n	vmovdqu %ymm1, 32(%rdi)\n"
	"	vmovdqu %ymm2, 64(%rdi)\n	vmovdqu %ymm3, 96(%rdi)\n"
	"	vmovdqu %ymm4, 128(%rdi)\n	vmovdqu %ymm5, 160(%rdi)\n"
	"	vmovdqu %ymm6, 192(%rdi)\n	vmovdqu %ymm7, 224(%rdi)\n"
	"	vmovdqu %ymm8, 256(%rdi)\n	vmovdqu %ymm9, 288(%rdi)\n"
	"	vmovdqu %ymm10, 320(%rdi)\n	vmovdqu %ymm11, 352(%rdi)\n"
	"	vmovdqu %ymm12, 384(%rdi)\n	vmovdqu %ymm13, 416(%rdi)\n"
	"	vmovdqu %ymm14, 448(%rdi)\n	vmovdqu %ymm15, 480(%rdi)\n"
	"	vzeroupper\n"
	"	jmp 6f\n"
	"5:\n"
	"	movdqu %xmm0, 0(%rdi)\n	movdqu %xmm1, 32(%rdi)\n"
	"	movdqu %xmm2, 64(%rdi)\n	movdqu %xmm3, 96(%rdi)\n"
	"	movdqu %xmm4, 128(%rdi)\n	movdqu %xmm5, 160(%rdi)\n"
	"	movdqu %xmm6, 192(%rdi)\n	movdqu %xmm7, 224(%rdi)\n"
	"	movdqu %xmm8, 256(%rdi)\n	movdqu %xmm9, 288(%rdi)\n"
	"	movdqu %xmm10, 320(%rdi)\n	movdqu %xmm11, 352(%rdi)\n"
	"	movdqu %xmm12, 384(%rdi)\n	movdqu %xmm13, 416(%rdi)\n"
	"	movdqu %xmm14, 448(%rdi)\n	movdqu %xmm15, 480(%rdi)\n"
	"6:\n"
	"	fldcw 32(%rsp)\n"
	"	ldmxcsr 36(%rsp)\n"
	"	add $72, %rsp\n"
	"	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbx\n pop %rbp\n"
	"	ret\n"
	".size tspin, .-tspin\n");

static struct tpat pats[NT + 1];	/* [NT]: calibration */
static struct tout outs[NT + 1];
static uint64_t count;
static int avx;

static void make_pat(struct tpat *p, int i, int loud)
{
	for (int r = 0; r < 16; r++)
		for (int j = 0; j < 32; j++)
			p->vec[r][j] = (uint8_t)((i + 1) * 91 + r * 37 + j * 11 + 0x5a) | 1;
	for (int r = 0; r < 8; r++)
		p->gpr[r] = 0x8000000000000000ULL ^ ((uint64_t)(i + 1) << 56) ^
			    ((uint64_t)(r + 8) * 0x0102030405060708ULL);
	/* all exceptions masked; rounding mode i; FTZ on odd, DAZ on i >= 2 */
	p->mxcsr = 0x1f80 | (uint32_t)(i & 3) << 13 | (i & 1 ? 0x8000 : 0) | (i & 2 ? 0x40 : 0);
	p->fcw = 0x037f | (uint16_t)(i & 3) << 10;
	if (loud) {
		p->msglen = snprintf(p->text, sizeof(p->text), "LOOP START %d\n", i);
		p->msg = p->text;
	}
}

/* Differences from the pattern, printed; returns their number. */
static int check(int i, const struct tpat *p, const struct tout *o)
{
	int bad = 0, vlen = avx ? 32 : 16;

	for (int r = 0; r < 16; r++)
		if (memcmp(o->vec[r], p->vec[r], vlen)) {
			printf("BAD thread %d: %s%d differs\n", i, avx ? "ymm" : "xmm", r);
			bad++;
		}
	for (int r = 0; r < 8; r++)
		if (o->gpr[r] != p->gpr[r]) {
			printf("BAD thread %d: r%d %#lx, want %#lx\n", i, r + 8,
			       (unsigned long)o->gpr[r], (unsigned long)p->gpr[r]);
			bad++;
		}
	if (o->mxcsr != p->mxcsr || o->fcw != p->fcw || o->rcx) {
		printf("BAD thread %d: mxcsr %#x (want %#x), fcw %#x (want %#x), rcx %lu\n", i,
		       o->mxcsr, p->mxcsr, o->fcw, p->fcw, (unsigned long)o->rcx);
		bad++;
	}
	return bad;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;

	tspin(count, &outs[i], &pats[i], avx);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NT];
	double secs = argc > 2 ? atof(argv[2]) : 0.6, t;
	int bad = 0;

	if (argc < 2)
		return 2;
	avx = atoi(argv[1]);
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < NT; i++)
		make_pat(&pats[i], i, 1);
	make_pat(&pats[NT], NT, 0);

	uint64_t n = 20000000;
	t = now();
	tspin(n, &outs[NT], &pats[NT], avx);
	t = now() - t;
	if (check(NT, &pats[NT], &outs[NT])) {
		printf("calibration run already wrong\n");
		return 3;
	}
	count = (uint64_t)(n / (t > 1e-6 ? t : 1e-6) * secs);
	printf("READY n=%lu\n", (unsigned long)count);
	for (int i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	for (int i = 0; i < NT; i++) {
		int b;

		pthread_join(th[i], NULL);
		b = check(i, &pats[i], &outs[i]);
		printf("LOOP END %d %s\n", i, b ? "BAD" : "ok");
		bad += b;
	}
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}
