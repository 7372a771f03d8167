/*
 * ckpt_bt_mem.c - the unwinder's view of the process being checkpointed
 * (ckpt_bt.c): its memory, its modules' unwind tables and .dynsym names.
 *
 * Runs in the checkpoint's signal handler or in the forked page writer,
 * so only system calls and libckpt's own code: no malloc, no stdio, no
 * dl_iterate_phdr (the loader's lock may be held by a parked thread), and
 * no read that could fault.  An address is read only when the
 * checkpoint's own VMA table (c->vmas, read from /proc/self/maps in this
 * pause) has it in a readable mapping, and then with process_vm_readv on
 * this very process: a guard region, a page past the end of a mapped
 * file, device memory give EFAULT, never SIGSEGV or SIGBUS.  Pages read
 * are kept (BT_CACHE of them) for the checkpoint's duration.
 *
 * Modules are found from memory, as the loader left them: the first
 * mapping of the file (offset 0) holds its ELF header and program
 * headers; PT_GNU_EH_FRAME gives the unwind table, PT_DYNAMIC the
 * .dynsym (DT_SYMTAB, DT_STRTAB, DT_STRSZ, and DT_GNU_HASH or DT_HASH for
 * the count).  Every count is bounded and every pointer read through
 * bt_mem_read: a corrupt module gives no name, never a crash.
 */
#include <elf.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_bt.h"

#define BT_PAGE		4096ull
#define BT_CACHE	32		/* pages kept, direct mapped */
#define BT_MODS		128		/* modules a checkpoint looks at */
#define BT_PHNUM_MAX	64
#define BT_DYN_MAX	512
#define BT_SYMS_MAX	(1u << 18)
#define BT_BUCKETS_MAX	(1u << 18)
#define BT_SYMCHUNK	128		/* symbols read at once (bt_mem.syms) */

struct bt_page {
	uint64_t addr;			/* page address + 1 when valid (0: empty) */
	int bad;			/* the read failed */
	unsigned char data[BT_PAGE];
};

struct bt_mem {
	struct bt_page cache[BT_CACHE];
	struct bt_mod mods[BT_MODS];
	int nmods;
	long pid;
	Elf64_Sym syms[BT_SYMCHUNK];	/* bt_mod_symbol's window on a symbol table */
};

static const struct ckpt_ctx *bt_c;
static struct bt_mem *bt_m;

int bt_mem_begin(const struct ckpt_ctx *c)
{
	void *p = ckpt_map_anon(sizeof(struct bt_mem), PROT_READ | PROT_WRITE);

	if (p == MAP_FAILED)
		return -1;
	bt_m = p;
	bt_c = c;
	bt_m->pid = arch_sys0(SYS_getpid);
	return 0;
}

void bt_mem_end(void)
{
	if (bt_m)
		arch_sys2(SYS_munmap, bt_m, sizeof(*bt_m));
	bt_m = NULL;
	bt_c = NULL;
}

/* The VMA holding addr (c->vmas is in address order), or NULL. */
static const struct ckpt_vma *bt_vma(uint64_t addr)
{
	int lo = 0, hi = bt_c->nvmas;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		const struct ckpt_vma *v = &bt_c->vmas[mid];

		if (addr < v->start)
			hi = mid;
		else if (addr >= v->end)
			lo = mid + 1;
		else
			return v;
	}
	return NULL;
}

static const struct bt_page *bt_page(uint64_t page)
{
	struct bt_page *p = &bt_m->cache[(page / BT_PAGE) % BT_CACHE];
	const struct ckpt_vma *v;

	if (p->addr == page + 1)
		return p;
	p->addr = page + 1;
	p->bad = 1;
	v = bt_vma(page);
	if (v && (v->prot & PROT_READ)) {
		struct iovec local = { p->data, BT_PAGE }, remote = { (void *)page, BT_PAGE };

		p->bad = arch_sys6(SYS_process_vm_readv, bt_m->pid, &local, 1, &remote, 1, 0) !=
			 (long)BT_PAGE;
	}
	return p;
}

int bt_mem_read(uint64_t addr, void *buf, uint64_t n)
{
	unsigned char *out = buf;

	if (!bt_m || addr + n < addr)
		return -1;
	while (n) {
		uint64_t page = addr & ~(BT_PAGE - 1), off = addr - page;
		uint64_t k = BT_PAGE - off < n ? BT_PAGE - off : n;
		const struct bt_page *p = bt_page(page);

		if (p->bad)
			return -1;
		__builtin_memcpy(out, p->data + off, k);
		out += k;
		addr += k;
		n -= k;
	}
	return 0;
}

int bt_mem_exec(uint64_t addr)
{
	const struct ckpt_vma *v = bt_m ? bt_vma(addr) : NULL;

	return v && (v->prot & PROT_EXEC);
}

/* ---- modules ---- */

/* A dynamic-section pointer: glibc relocates them in place, the vDSO's are not. */
static uint64_t bt_dynptr(const struct bt_mod *m, uint64_t v)
{
	return v >= m->base && v < m->end ? v : v + m->bias;
}

/* The symbol count from DT_GNU_HASH: one past the last chain's end. */
static uint32_t bt_gnu_nsyms(uint64_t gh)
{
	uint32_t h[4], maxb = 0, w;
	uint64_t buckets, chain;

	if (bt_mem_read(gh, h, sizeof(h)) < 0 || !h[0] || h[0] > BT_BUCKETS_MAX ||
	    h[2] > BT_BUCKETS_MAX)
		return 0;
	buckets = gh + 16 + (uint64_t)h[2] * 8;
	for (uint32_t i = 0; i < h[0]; i++) {
		uint32_t b;

		if (bt_mem_read(buckets + 4ull * i, &b, 4) < 0)
			return 0;
		if (b > maxb)
			maxb = b;
	}
	if (maxb < h[1])
		return h[1];
	chain = buckets + 4ull * h[0];
	for (uint32_t i = maxb; i < BT_SYMS_MAX; i++) {
		if (bt_mem_read(chain + 4ull * (i - h[1]), &w, 4) < 0)
			return 0;
		if (w & 1)
			return i + 1;
	}
	return 0;
}

static void bt_mod_dynamic(struct bt_mod *m, uint64_t dyn, uint64_t size)
{
	uint64_t hash = 0, gnu = 0, syment = sizeof(Elf64_Sym);

	for (uint64_t i = 0; i < size / sizeof(Elf64_Dyn) && i < BT_DYN_MAX; i++) {
		Elf64_Dyn d;

		if (bt_mem_read(dyn + i * sizeof(d), &d, sizeof(d)) < 0 || d.d_tag == DT_NULL)
			break;
		switch (d.d_tag) {
		case DT_SYMTAB:   m->symtab = bt_dynptr(m, d.d_un.d_ptr); break;
		case DT_STRTAB:   m->strtab = bt_dynptr(m, d.d_un.d_ptr); break;
		case DT_STRSZ:    m->strsz = d.d_un.d_val; break;
		case DT_SYMENT:   syment = d.d_un.d_val; break;
		case DT_HASH:     hash = bt_dynptr(m, d.d_un.d_ptr); break;
		case DT_GNU_HASH: gnu = bt_dynptr(m, d.d_un.d_ptr); break;
		}
	}
	if (!m->symtab || !m->strtab || syment != sizeof(Elf64_Sym))
		goto none;
	if (gnu)
		m->nsyms = bt_gnu_nsyms(gnu);
	else if (hash) {
		uint32_t h[2];

		if (bt_mem_read(hash, h, sizeof(h)) == 0 && h[1] <= BT_SYMS_MAX)
			m->nsyms = h[1];
	}
	if (m->nsyms)
		return;
none:
	m->symtab = m->strtab = m->strsz = 0;
	m->nsyms = 0;
}

/* Reads the module mapped at base (file offset 0) from its headers in memory. */
static void bt_mod_read(struct bt_mod *m)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[BT_PHNUM_MAX];
	uint64_t dyn = 0, dynsz = 0, first = ~0ull;
	int n;

	if (bt_mem_read(m->base, &eh, sizeof(eh)) < 0 ||
	    __builtin_memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum || eh.e_phnum > BT_PHNUM_MAX ||
	    eh.e_phoff > BT_PAGE * 16)
		return;
	n = eh.e_phnum;
	if (bt_mem_read(m->base + eh.e_phoff, ph, n * sizeof(ph[0])) < 0)
		return;
	for (int i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset < first) {
			first = ph[i].p_offset;
			m->bias = m->base - ((ph[i].p_vaddr - ph[i].p_offset) & ~(BT_PAGE - 1));
		}
	if (first == ~0ull)
		return;
	m->text_lo = ~0ull;
	for (int i = 0; i < n; i++) {
		const Elf64_Phdr *p = &ph[i];

		if (p->p_type == PT_LOAD && (p->p_flags & PF_X)) {
			if (m->bias + p->p_vaddr < m->text_lo)
				m->text_lo = m->bias + p->p_vaddr;
			if (m->bias + p->p_vaddr + p->p_memsz > m->text_hi)
				m->text_hi = m->bias + p->p_vaddr + p->p_memsz;
		} else if (p->p_type == PT_GNU_EH_FRAME) {
			m->eh = m->bias + p->p_vaddr;
			m->eh_size = p->p_memsz;
		} else if (p->p_type == PT_DYNAMIC) {
			dyn = m->bias + p->p_vaddr;
			dynsz = p->p_memsz;
		}
	}
	if (m->text_lo >= m->text_hi)
		m->text_lo = m->text_hi = 0;
	if (dyn)
		bt_mod_dynamic(m, dyn, dynsz);
}

static int bt_same_file(const struct ckpt_vma *a, const struct ckpt_vma *b)
{
	if ((a->flags & IMG_VMA_VDSO) || (b->flags & IMG_VMA_VDSO))
		return 0;
	return (a->flags & IMG_VMA_FILE) && (b->flags & IMG_VMA_FILE) && a->dev == b->dev &&
	       a->ino == b->ino;
}

const struct bt_mod *bt_mod_of(uint64_t ip)
{
	const struct ckpt_vma *v = bt_m ? bt_vma(ip) : NULL, *first, *last;
	struct bt_mod *m;

	if (!v || !(v->prot & PROT_EXEC) || !(v->flags & (IMG_VMA_FILE | IMG_VMA_VDSO)))
		return NULL;
	/* the file's first mapping (offset 0) and its last, around v */
	first = last = v;
	while (first > bt_c->vmas && bt_same_file(first - 1, v) && first->pgoff)
		first--;
	while (last + 1 < bt_c->vmas + bt_c->nvmas && bt_same_file(last + 1, v))
		last++;
	if (first->pgoff)
		return NULL;
	for (int i = 0; i < bt_m->nmods; i++)
		if (bt_m->mods[i].base == first->start)
			return bt_m->mods[i].text_hi ? &bt_m->mods[i] : NULL;
	if (bt_m->nmods == BT_MODS)
		return NULL;
	m = &bt_m->mods[bt_m->nmods++];
	__builtin_memset(m, 0, sizeof(*m));
	m->base = first->start;
	m->end = last->end;
	bt_mod_read(m);
	return m->text_hi ? m : NULL;
}

int bt_mod_symbol(const struct bt_mod *m, uint64_t addr, char *name, size_t len,
		  uint64_t *start)
{
	Elf64_Sym *chunk = bt_m->syms;
	uint64_t best = 0, best_end = 0;
	uint32_t best_name = 0, have = 0, first = 0;
	size_t k;

	for (uint32_t i = 1; i < m->nsyms; i++) {
		uint64_t lo;
		int type;

		/*
		 * The table is read a chunk at a time (a frame's lookup scans all
		 * of it: libc's ~3000 symbols one bt_mem_read each were most of
		 * a backtrace's cost); a chunk that cannot be read whole is read
		 * one symbol at a time, so the scan stops where it always did.
		 */
		if (i - first >= have) {
			uint32_t want = m->nsyms - i < BT_SYMCHUNK ? m->nsyms - i : BT_SYMCHUNK;

			first = i;
			have = bt_mem_read(m->symtab + (uint64_t)i * sizeof(*chunk), chunk,
					   want * sizeof(*chunk)) == 0 ? want : 0;
			if (!have) {
				if (bt_mem_read(m->symtab + (uint64_t)i * sizeof(*chunk), chunk,
						sizeof(*chunk)) < 0)
					break;
				have = 1;
			}
		}
		const Elf64_Sym s = chunk[i - first];

		type = ELF64_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
		    !s.st_value)
			continue;
		lo = m->bias + s.st_value;
		if (lo > addr || lo < best)
			continue;
		/* a sized symbol must hold addr; an unsized one is taken only as the nearest below */
		if (s.st_size ? addr >= lo + s.st_size : best_end > addr)
			continue;
		best = lo;
		best_end = s.st_size ? lo + s.st_size : 0;
		best_name = s.st_name;
	}
	if (!best || !best_name || best_name >= m->strsz)
		return -1;
	for (k = 0; k + 1 < len; k++) {
		if (bt_mem_read(m->strtab + best_name + k, &name[k], 1) < 0)
			return -1;
		if (!name[k])
			break;
	}
	name[k] = '\0';
	if (!k)
		return -1;
	*start = best;
	return 0;
}
