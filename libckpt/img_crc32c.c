/*
 * img_crc32c.c - CRC32C (Castagnoli), the checksum of every image record
 * and of the image as a whole.
 *
 * Why CRC32C: x86_64 has had an instruction for it since SSE4.2
 * (Nehalem, 2008), so checksumming page data costs about one cycle per
 * 8 bytes instead of a table lookup per byte.
 *
 * Convention: reflected, polynomial 0x82F63B78, initial value ~0 and final
 * xor ~0, both applied inside img_crc32c() so that callers start from 0
 * and chain:  img_crc32c(img_crc32c(0, a, n), b, m) == crc of a || b,
 * and img_crc32c(0, "123456789", 9) == 0xE3069283 (the check value).
 *
 * Async-signal-safe: the writer calls this from the checkpoint signal
 * handler.  No locks, no allocation; the table is constant data and the
 * one piece of state, the cached CPU check, is a relaxed atomic int whose
 * racing writers all store the same value.
 *
 * Cost: O(len).  The hardware loop is one dependent crc32 instruction per
 * 8 bytes (3 cycles latency), so ~8 GB/s at 3 GHz.  From CRC_3WAY bytes on,
 * three streams (the buffer's thirds) run interleaved, which the CPU
 * overlaps, and are combined (crc32c_shift: a few hundred cycles): about
 * 2.5x the speed.  It matters where one thread checks everything: a
 * restart's reader checks every payload before the decoding threads see
 * it (562 MB for 1 GiB of mixed memory: 70 ms, then 30 ms; issue #15).
 */
#include <stdint.h>
#include <stddef.h>
#include <nmmintrin.h>
#include "libckpt/img.h"

/* crc32c_table[b] = CRC of byte b alone (no init/xor): the fallback. */
static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
	0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
	0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
	0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
	0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
	0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
	0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
	0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
	0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
	0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
	0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
	0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
	0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
	0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
	0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
	0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
	0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
	0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
	0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
	0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
	0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
	0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

static uint32_t crc32c_sw(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc;

	/* Unaligned 8-byte loads cost the same as aligned ones on every
	 * x86_64 that has SSE4.2, so there is no alignment prologue. */
	while (len >= 8) {
		uint64_t v;
		__builtin_memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len--)
		crc = _mm_crc32_u8(crc, *p++);
	return crc;
}

static uint32_t crc32c_multmodp(uint32_t a, uint32_t b);
static uint32_t crc32c_xpow8n(uint64_t n);

#define CRC_3WAY	4096	/* below it, the combine costs more than it saves */

/*
 * Three interleaved streams over len bytes (a multiple of 24 is taken,
 * the rest goes on in one stream).  crc is the raw register, as in
 * crc32c_hw.  Conditioned crcs of the thirds a, b, c combine as
 * crc(a||b) = crc(a) * x^(8n) xor crc(b) (img_crc32c_combine below).
 */
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw3(uint32_t crc, const unsigned char *p, size_t len)
{
	size_t n = len / 24 * 8;
	uint64_t a = crc, b = 0xffffffffu, c = 0xffffffffu;
	const unsigned char *pb = p + n, *pc = p + 2 * n;
	uint32_t x, r;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t va, vb, vc;

		__builtin_memcpy(&va, p + i, 8);
		__builtin_memcpy(&vb, pb + i, 8);
		__builtin_memcpy(&vc, pc + i, 8);
		a = _mm_crc32_u64(a, va);
		b = _mm_crc32_u64(b, vb);
		c = _mm_crc32_u64(c, vc);
	}
	x = crc32c_xpow8n(n);
	r = crc32c_multmodp(x, ~(uint32_t)a) ^ ~(uint32_t)b;
	r = crc32c_multmodp(x, r) ^ ~(uint32_t)c;
	return crc32c_hw(~r, p + 3 * n, len - 3 * n);
}

/* -1: not checked yet; 0: use the table; 1: use SSE4.2. */
static int crc32c_have_hw = -1;

static int crc32c_check_hw(void)
{
	int hw = __atomic_load_n(&crc32c_have_hw, __ATOMIC_RELAXED);

	if (hw < 0) {
		/*
		 * CPUID leaf 1, ECX bit 20: SSE4.2.  One cpuid, here, not
		 * __builtin_cpu_supports: that links libgcc's
		 * __cpu_indicator_init, a constructor that runs ~20 cpuid at
		 * the start of every process that has this file (ckpt-restart,
		 * and every program libckpt.so is preloaded into), and in a
		 * VM each cpuid is an exit to the hypervisor: ~3.7 us here,
		 * ~70 us a start (issue #15).
		 */
		uint32_t a = 1, b, c = 0, d;

		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		hw = (c >> 20) & 1;
		__atomic_store_n(&crc32c_have_hw, hw, __ATOMIC_RELAXED);
	}
	return hw;
}

uint32_t img_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	crc = ~crc;
	if (crc32c_check_hw())
		crc = len >= CRC_3WAY ? crc32c_hw3(crc, p, len) : crc32c_hw(crc, p, len);
	else
		crc = crc32c_sw(crc, p, len);
	return ~crc;
}

/*
 * Combining: the crc of a || b from crc(a), crc(b) and len(b), without
 * reading a byte.  CRC32C is linear over GF(2): with the ~ conditioning
 * above, crc(a || b) = crc(a) * x^(8*len(b)) mod P  xor  crc(b) (the
 * method of zlib's crc32_combine).  This lets the checkpoint's worker
 * threads checksum page data once, in parallel, and the image writer and
 * reader extend the whole-image crc without a second pass over it.
 *
 * Cost: O(log len) multiplications of 32 shift-and-xor steps each, about
 * a microsecond; constant data only (async-signal-safe).
 */

/* crc32c_x2n[k] = x^(2^k) mod P, reflected (bit 31 is x^0); the last
 * entry equals the first: x^(2^31) = x, so powers repeat with period 31. */
static const uint32_t crc32c_x2n[32] = {
	0x40000000, 0x20000000, 0x08000000, 0x00800000, 0x00008000, 0x82f63b78,
	0x6ea2d55c, 0x18b8ea18, 0x510ac59a, 0xb82be955, 0xb8fdb1e7, 0x88e56f72,
	0x74c360a4, 0xe4172b16, 0x0d65762a, 0x35d73a62, 0x28461564, 0xbf455269,
	0xe2ea32dc, 0xfe7740e6, 0xf946610b, 0x3c204f8f, 0x538586e3, 0x59726915,
	0x734d5309, 0xbc1ac763, 0x7d0722cc, 0xd289cabe, 0xe94ca9bc, 0x05b74f3f,
	0xa51e1f42, 0x40000000,
};

/* a * b mod P, both reflected polynomials. */
static uint32_t crc32c_multmodp(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ 0x82f63b78u : b >> 1;
	}
	return p;
}

/* x^(8n) mod P: the operator that shifts a crc over n zero bytes. */
static uint32_t crc32c_xpow8n(uint64_t n)
{
	uint32_t p = 1u << 31;		/* x^0 */
	unsigned k = 3;			/* x^(8n) = (x^(2^3))^n */

	for (; n; n >>= 1, k++)
		if (n & 1)
			p = crc32c_multmodp(crc32c_x2n[k % 31], p);
	return p;
}

uint32_t img_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	return crc32c_multmodp(crc32c_xpow8n(len_b), crc_a) ^ crc_b;
}
