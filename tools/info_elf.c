/*
 * info_elf.c - the bounded ELF reader of ckpt-info's backtraces (see
 * info_elf.h).  Every structure is copied out of the buffer with memcpy
 * after its whole extent was checked to lie inside it (the buffer may be
 * unaligned, truncated or hostile); table sizes are checked with
 * overflow-safe arithmetic before any entry is read.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/info_elf.h"

/* [off, off + n) lies inside the buffer */
static int in_buf(const struct elfr *e, uint64_t off, uint64_t n)
{
	return off <= e->len && n <= e->len - off;
}

/* count entries of size sz at off lie inside the buffer */
static int table_in_buf(const struct elfr *e, uint64_t off, uint64_t count, uint64_t sz)
{
	return sz && count <= UINT64_MAX / sz && in_buf(e, off, count * sz);
}

static int elfr_fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct elfr_sym *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	/* at one address, sized symbols first */
	return (x->size == 0) - (y->size == 0);
}

/* The function symbols of one symbol table section (its string table: sh_link). */
static int add_syms(struct elfr *e, const Elf64_Ehdr *eh, const Elf64_Shdr *sh)
{
	Elf64_Shdr str;
	uint64_t n, soff;

	if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_link >= eh->e_shnum)
		return 0;	/* not one we can read: no names from it */
	n = sh->sh_size / sizeof(Elf64_Sym);
	if (!table_in_buf(e, sh->sh_offset, n, sizeof(Elf64_Sym)))
		return 0;
	soff = eh->e_shoff + (uint64_t)sh->sh_link * sizeof(Elf64_Shdr);
	memcpy(&str, e->buf + soff, sizeof(str));	/* the section table was checked */
	if (str.sh_type != SHT_STRTAB || !in_buf(e, str.sh_offset, str.sh_size))
		return 0;
	for (uint64_t i = 0; i < n; i++) {
		Elf64_Sym s;
		const char *name;
		int type;

		memcpy(&s, e->buf + sh->sh_offset + i * sizeof(s), sizeof(s));
		type = ELF64_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
		    !s.st_value || s.st_name >= str.sh_size)
			continue;
		name = (const char *)e->buf + str.sh_offset + s.st_name;
		if (!memchr(name, 0, str.sh_size - s.st_name) || !*name)
			continue;	/* not NUL-terminated inside its table */
		if (e->nsym >= ELFR_MAX_SYMS)
			return -1;
		if (!(e->nsym & (e->nsym + 1)) || !e->syms) {	/* full at 2^k - 1: grow */
			struct elfr_sym *p = realloc(e->syms, 2 * (e->nsym + 1) * sizeof(*p));

			if (!p)
				return -1;
			e->syms = p;
		}
		e->syms[e->nsym++] = (struct elfr_sym){ s.st_value, s.st_size, name };
	}
	return 0;
}

int elfr_parse(struct elfr *e, const void *buf, size_t len, char *err, size_t errlen)
{
	Elf64_Ehdr eh;

	memset(e, 0, sizeof(*e));
	e->buf = buf;
	e->len = len;
	if (len < sizeof(eh))
		return elfr_fail(err, errlen, "too short for an ELF header");
	memcpy(&eh, buf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return elfr_fail(err, errlen, "not an ELF file");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return elfr_fail(err, errlen, "not a 64-bit little-endian x86-64 ELF file");
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return elfr_fail(err, errlen, "not an executable or shared object");
	e->type = eh.e_type;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !table_in_buf(e, eh.e_phoff, eh.e_phnum, sizeof(Elf64_Phdr)))
		return elfr_fail(err, errlen, "program headers outside the file");
	e->text_lo = UINT64_MAX;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, e->buf + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_GNU_EH_FRAME) {
			e->eh_hdr_vaddr = ph.p_vaddr;
			e->eh_hdr_size = ph.p_memsz;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (e->nload >= ELFR_MAX_LOAD)
			return elfr_fail(err, errlen, "too many loadable segments");
		if (ph.p_filesz > ph.p_memsz || ph.p_vaddr > UINT64_MAX - ph.p_memsz ||
		    ph.p_offset > UINT64_MAX - ph.p_filesz)
			return elfr_fail(err, errlen, "a loadable segment's sizes are inconsistent");
		if ((ph.p_offset & 0xfff) != (ph.p_vaddr & 0xfff) || ph.p_vaddr < (ph.p_offset & 0xfff))
			return elfr_fail(err, errlen, "a loadable segment is not page-congruent");
		e->load[e->nload++] = (struct elfr_load){ ph.p_vaddr, ph.p_memsz, ph.p_offset,
							  ph.p_filesz, ph.p_flags };
		if ((ph.p_flags & PF_X) && ph.p_memsz) {
			if (ph.p_vaddr < e->text_lo)
				e->text_lo = ph.p_vaddr;
			if (ph.p_vaddr + ph.p_memsz > e->text_hi)
				e->text_hi = ph.p_vaddr + ph.p_memsz;
		}
	}
	if (e->text_lo == UINT64_MAX)
		e->text_lo = 0;
	/* Sections are optional (a stripped file may lose them): no names then. */
	if (eh.e_shnum && eh.e_shentsize == sizeof(Elf64_Shdr) &&
	    table_in_buf(e, eh.e_shoff, eh.e_shnum, sizeof(Elf64_Shdr))) {
		for (unsigned i = 0; i < eh.e_shnum; i++) {
			Elf64_Shdr sh;

			memcpy(&sh, e->buf + eh.e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
			if ((sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) &&
			    add_syms(e, &eh, &sh) < 0) {
				elfr_free(e);
				return elfr_fail(err, errlen, "too many symbols, or out of memory");
			}
		}
	}
	if (e->nsym)
		qsort(e->syms, e->nsym, sizeof(*e->syms), sym_cmp);
	return 0;
}

void elfr_free(struct elfr *e)
{
	free(e->syms);
	e->syms = NULL;
	e->nsym = 0;
}

int elfr_off_to_vaddr(const struct elfr *e, uint64_t off, uint64_t *vaddr)
{
	for (int i = 0; i < e->nload; i++) {
		const struct elfr_load *l = &e->load[i];
		uint64_t first = l->off & ~(uint64_t)0xfff;	/* the page it starts in */

		/* parse checked: off + filesz does not wrap, vaddr >= off - first */
		if (off >= first && off < l->off + l->filesz) {
			*vaddr = l->vaddr - (l->off - first) + (off - first);
			return 0;
		}
	}
	return -1;
}

/* vaddr lies in an executable segment */
static int in_text(const struct elfr *e, uint64_t vaddr)
{
	for (int i = 0; i < e->nload; i++)
		if ((e->load[i].flags & PF_X) && vaddr >= e->load[i].vaddr &&
		    vaddr - e->load[i].vaddr < e->load[i].memsz)
			return 1;
	return 0;
}

const char *elfr_symbolize(const struct elfr *e, uint64_t vaddr, uint64_t *off)
{
	size_t lo = 0, hi = e->nsym, k;

	/* the first symbol above vaddr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->syms[mid].value <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* a sized symbol that holds it, among the few just below (aliases, nested) */
	for (k = lo; k > 0 && lo - k < 16; k--) {
		const struct elfr_sym *s = &e->syms[k - 1];

		if (s->size && vaddr - s->value < s->size) {
			*off = vaddr - s->value;
			return s->name;
		}
	}
	/* an unsized one (assembly) right below, in the same executable segment */
	if (lo > 0 && !e->syms[lo - 1].size && in_text(e, vaddr) && in_text(e, e->syms[lo - 1].value)) {
		*off = vaddr - e->syms[lo - 1].value;
		return e->syms[lo - 1].name;
	}
	return NULL;
}
