/*
 * regs.c - every user register survives a transparent checkpoint taken
 * in the middle of a tight loop.
 *
 *   regs AVX(0|1) [SECONDS]
 * spin() (assembly below) loads a known pattern into every general
 * register but rsp (the loop counter is rcx), into xmm0-15 (ymm0-15 when
 * AVX is 1: all 32 bytes), two 80-bit values onto the x87 stack, a
 * non-default x87 control word (round down) and MXCSR (round toward zero,
 * FTZ, DAZ), sets the direction flag, writes "LOOP START" with a raw
 * write(2), and counts rcx down to zero.  Then it stores everything and
 * main() compares it with the patterns.  The test checkpoints the process
 * while it spins (the counter is calibrated to SECONDS, default 1.5), kills
 * it and restarts it: the restarted copy must not print "LOOP START" again
 * (it resumed inside the loop) and must print "LOOP END ok".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct spin_out {
	uint64_t gpr[15];	/* rax rbx rcx rdx rsi rdi rbp r8..r15 */
	uint64_t rflags;
	uint8_t vec[16][32];	/* ymm0-15 (xmm: the low 16 bytes) */
	uint16_t fcw;
	uint8_t pad1[6];
	uint8_t st0[16];	/* first value popped (loaded last) */
	uint8_t st1[16];
	uint16_t fsw;
	uint16_t pad2;
	uint32_t mxcsr;
};
_Static_assert(sizeof(struct spin_out) == 688, "layout shared with the assembly");

/* Read by the assembly (global names, no GOT needed in the executable). */
uint64_t regs_gpat[15];
uint8_t regs_vpat[16][32];
long double regs_x87a = 3.14159265358979323846264338327950288L;
long double regs_x87b = -2.71828182845904523536028747135266250e-300L;
static const char *const names[15] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

#define FCW_SET		0x077f	/* default 0x037f with RC = round down */
#define MXCSR_SET	0xffc0	/* masks, RC = toward zero, FTZ, DAZ */
#define RFLAGS_DF	0x400

void spin(uint64_t n, struct spin_out *out, uint64_t avx);

/* Frame: 0 out, 8 avx, 16 saved fcw, 20 saved mxcsr, 24 new fcw,
 * 28 new mxcsr, 64.. the spin_out image (688 bytes). */
__asm__(
	".text\n"
	".globl spin\n"
	".type spin,@function\n"
	"spin:\n"
	"	push %rbp\n push %rbx\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"	sub $1032, %rsp\n"
	"	mov %rsi, 0(%rsp)\n"
	"	mov %rdx, 8(%rsp)\n"
	"	mov %rdi, 40(%rsp)\n"
	"	fnclex\n"
	"	fnstcw 16(%rsp)\n"
	"	stmxcsr 20(%rsp)\n"
	"	movw $0x077f, 24(%rsp)\n"
	"	fldcw 24(%rsp)\n"
	"	movl $0xffc0, 28(%rsp)\n"
	"	ldmxcsr 28(%rsp)\n"
	"	fldt regs_x87b(%rip)\n"
	"	fldt regs_x87a(%rip)\n"
	"	test %rdx, %rdx\n"
	"	jz 1f\n"
	"	vmovdqu regs_vpat+0(%rip), %ymm0\n"
	"	vmovdqu regs_vpat+32(%rip), %ymm1\n"
	"	vmovdqu regs_vpat+64(%rip), %ymm2\n"
	"	vmovdqu regs_vpat+96(%rip), %ymm3\n"
	"	vmovdqu regs_vpat+128(%rip), %ymm4\n"
	"	vmovdqu regs_vpat+160(%rip), %ymm5\n"
	"	vmovdqu regs_vpat+192(%rip), %ymm6\n"
	"	vmovdqu regs_vpat+224(%rip), %ymm7\n"
	"	vmovdqu regs_vpat+256(%rip), %ymm8\n"
	"	vmovdqu regs_vpat+288(%rip), %ymm9\n"
	"	vmovdqu regs_vpat+320(%rip), %ymm10\n"
	"	vmovdqu regs_vpat+352(%rip), %ymm11\n"
	"	vmovdqu regs_vpat+384(%rip), %ymm12\n"
	"	vmovdqu regs_vpat+416(%rip), %ymm13\n"
	"	vmovdqu regs_vpat+448(%rip), %ymm14\n"
	"	vmovdqu regs_vpat+480(%rip), %ymm15\n"
	"	jmp 2f\n"
	"1:\n"
	"	movdqu regs_vpat+0(%rip), %xmm0\n"
	"	movdqu regs_vpat+32(%rip), %xmm1\n"
	"	movdqu regs_vpat+64(%rip), %xmm2\n"
	"	movdqu regs_vpat+96(%rip), %xmm3\n"
	"	movdqu regs_vpat+128(%rip), %xmm4\n"
	"	movdqu regs_vpat+160(%rip), %xmm5\n"
	"	movdqu regs_vpat+192(%rip), %xmm6\n"
	"	movdqu regs_vpat+224(%rip), %xmm7\n"
	"	movdqu regs_vpat+256(%rip), %xmm8\n"
	"	movdqu regs_vpat+288(%rip), %xmm9\n"
	"	movdqu regs_vpat+320(%rip), %xmm10\n"
	"	movdqu regs_vpat+352(%rip), %xmm11\n"
	"	movdqu regs_vpat+384(%rip), %xmm12\n"
	"	movdqu regs_vpat+416(%rip), %xmm13\n"
	"	movdqu regs_vpat+448(%rip), %xmm14\n"
	"	movdqu regs_vpat+480(%rip), %xmm15\n"
	"2:\n"
	/* write(1, "LOOP START\n", 11): the last thing before the loop */
	"	mov $1, %eax\n"
	"	mov $1, %edi\n"
	"	lea regs_msg(%rip), %rsi\n"
	"	mov $11, %edx\n"
	"	syscall\n"
	"	mov 40(%rsp), %rcx\n"
	"	mov regs_gpat+0(%rip), %rax\n"
	"	mov regs_gpat+8(%rip), %rbx\n"
	"	mov regs_gpat+24(%rip), %rdx\n"
	"	mov regs_gpat+32(%rip), %rsi\n"
	"	mov regs_gpat+40(%rip), %rdi\n"
	"	mov regs_gpat+48(%rip), %rbp\n"
	"	mov regs_gpat+56(%rip), %r8\n"
	"	mov regs_gpat+64(%rip), %r9\n"
	"	mov regs_gpat+72(%rip), %r10\n"
	"	mov regs_gpat+80(%rip), %r11\n"
	"	mov regs_gpat+88(%rip), %r12\n"
	"	mov regs_gpat+96(%rip), %r13\n"
	"	mov regs_gpat+104(%rip), %r14\n"
	"	mov regs_gpat+112(%rip), %r15\n"
	"	std\n"
	"3:	dec %rcx\n"
	"	jnz 3b\n"
	"	mov %rax, 64(%rsp)\n"
	"	mov %rbx, 72(%rsp)\n"
	"	mov %rcx, 80(%rsp)\n"
	"	mov %rdx, 88(%rsp)\n"
	"	mov %rsi, 96(%rsp)\n"
	"	mov %rdi, 104(%rsp)\n"
	"	mov %rbp, 112(%rsp)\n"
	"	mov %r8, 120(%rsp)\n"
	"	mov %r9, 128(%rsp)\n"
	"	mov %r10, 136(%rsp)\n"
	"	mov %r11, 144(%rsp)\n"
	"	mov %r12, 152(%rsp)\n"
	"	mov %r13, 160(%rsp)\n"
	"	mov %r14, 168(%rsp)\n"
	"	mov %r15, 176(%rsp)\n"
	"	pushfq\n"
	"	pop %rax\n"
	"	mov %rax, 184(%rsp)\n"
	"	cld\n"
	"	cmpq $0, 8(%rsp)\n"
	"	jz 4f\n"
	"	vmovdqu %ymm0, 192(%rsp)\n"
	"	vmovdqu %ymm1, 224(%rsp)\n"
	"	vmovdqu %ymm2, 256(%rsp)\n"
	"	vmovdqu %ymm3, 288(%rsp)\n"
	"	vmovdqu %ymm4, 320(%rsp)\n"
	"	vmovdqu %ymm5, 352(%rsp)\n"
	"	vmovdqu %ymm6, 384(%rsp)\n"
	"	vmovdqu %ymm7, 416(%rsp)\n"
	"	vmovdqu %ymm8, 448(%rsp)\n"
	"	vmovdqu %ymm9, 480(%rsp)\n"
	"	vmovdqu %ymm10, 512(%rsp)\n"
	"	vmovdqu %ymm11, 544(%rsp)\n"
	"	vmovdqu %ymm12, 576(%rsp)\n"
	"	vmovdqu %ymm13, 608(%rsp)\n"
	"	vmovdqu %ymm14, 640(%rsp)\n"
	"	vmovdqu %ymm15, 672(%rsp)\n"
	"	vzeroupper\n"
	"	jmp 5f\n"
	"4:\n"
	"	movdqu %xmm0, 192(%rsp)\n"
	"	movdqu %xmm1, 224(%rsp)\n"
	"	movdqu %xmm2, 256(%rsp)\n"
	"	movdqu %xmm3, 288(%rsp)\n"
	"	movdqu %xmm4, 320(%rsp)\n"
	"	movdqu %xmm5, 352(%rsp)\n"
	"	movdqu %xmm6, 384(%rsp)\n"
	"	movdqu %xmm7, 416(%rsp)\n"
	"	movdqu %xmm8, 448(%rsp)\n"
	"	movdqu %xmm9, 480(%rsp)\n"
	"	movdqu %xmm10, 512(%rsp)\n"
	"	movdqu %xmm11, 544(%rsp)\n"
	"	movdqu %xmm12, 576(%rsp)\n"
	"	movdqu %xmm13, 608(%rsp)\n"
	"	movdqu %xmm14, 640(%rsp)\n"
	"	movdqu %xmm15, 672(%rsp)\n"
	"5:\n"
	"	fnstcw 704(%rsp)\n"
	"	fstpt 712(%rsp)\n"
	"	fstpt 728(%rsp)\n"
	"	fnstsw 744(%rsp)\n"
	"	stmxcsr 748(%rsp)\n"
	"	fldcw 16(%rsp)\n"
	"	ldmxcsr 20(%rsp)\n"
	"	mov 0(%rsp), %rdi\n"
	"	lea 64(%rsp), %rsi\n"
	"	mov $688, %ecx\n"
	"	rep movsb\n"
	"	add $1032, %rsp\n"
	"	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbx\n pop %rbp\n"
	"	ret\n"
	".size spin, .-spin\n"
	".section .rodata\n"
	"regs_msg: .ascii \"LOOP START\\n\"\n"
	".text\n");

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every difference from the patterns, printed; returns their number. */
static int check(const struct spin_out *o, int avx)
{
	int bad = 0, vlen = avx ? 32 : 16;
	long double a, b;

	for (int i = 0; i < 15; i++) {
		uint64_t want = i == 2 ? 0 : regs_gpat[i];

		if (o->gpr[i] != want) {
			printf("BAD %s: %#lx, want %#lx\n", names[i], (unsigned long)o->gpr[i],
			       (unsigned long)want);
			bad++;
		}
	}
	if (!(o->rflags & RFLAGS_DF)) {
		printf("BAD rflags %#lx: direction flag lost\n", (unsigned long)o->rflags);
		bad++;
	}
	for (int i = 0; i < 16; i++) {
		if (memcmp(o->vec[i], regs_vpat[i], vlen)) {
			printf("BAD %s%d differs\n", avx ? "ymm" : "xmm", i);
			bad++;
		}
	}
	if (o->fcw != FCW_SET) {
		printf("BAD x87 control word %#x, want %#x\n", o->fcw, FCW_SET);
		bad++;
	}
	memcpy(&a, o->st0, 10);
	memcpy(&b, o->st1, 10);
	if (memcmp(o->st0, &regs_x87a, 10) || memcmp(o->st1, &regs_x87b, 10)) {
		printf("BAD x87 stack: %Lg %Lg, want %Lg %Lg\n", a, b, regs_x87a, regs_x87b);
		bad++;
	}
	if (o->fsw & 0x3f) {
		printf("BAD x87 status word %#x (exception flags: stack lost?)\n", o->fsw);
		bad++;
	}
	if (o->mxcsr != MXCSR_SET) {
		printf("BAD mxcsr %#x, want %#x\n", o->mxcsr, MXCSR_SET);
		bad++;
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct spin_out o;
	double secs = argc > 2 ? atof(argv[2]) : 1.5, t;
	int avx;

	if (argc < 2)
		return 2;
	avx = atoi(argv[1]);
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < 15; i++)
		regs_gpat[i] = 0x8000000000000000ULL ^ ((uint64_t)(i + 1) * 0x0102030405060708ULL) ^
			       ((uint64_t)0x5a << (i * 4));
	for (int r = 0; r < 16; r++)
		for (int j = 0; j < 32; j++)
			regs_vpat[r][j] = (uint8_t)(r * 37 + j * 11 + 0x5a) | 1;

	/* calibrate, and check the checker on an uninterrupted run */
	uint64_t n = 20000000;
	t = now();
	spin(n, &o, avx);
	t = now() - t;
	if (check(&o, avx)) {
		printf("calibration run already wrong\n");
		return 3;
	}
	n = (uint64_t)(n / (t > 1e-6 ? t : 1e-6) * secs);
	printf("READY n=%lu\n", (unsigned long)n);
	spin(n, &o, avx);
	int bad = check(&o, avx);
	printf("LOOP END %s\n", bad ? "BAD" : "ok");
	return bad ? 1 : 0;
}
