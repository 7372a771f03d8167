/*
 * info_elf.h - a small ELF reader for ckpt-info's backtraces: where a
 * file offset lies in the program's addresses, where .eh_frame_hdr is,
 * and which function holds an address (.symtab and .dynsym).
 *
 * The file is untrusted (whatever a path in an image names, possibly
 * replaced since): every offset, size and count is bounded against the
 * buffer before it is used, names are used only when NUL-terminated
 * inside their string table, and nothing is read outside buf[0, len).
 * ELF64 little-endian x86-64 only; anything else is refused (-1).
 * Fuzzed by tests/fuzz/fuzz_elf.c, tested by tests/unit/test_info_elf.c.
 */
#ifndef CKPT_TOOLS_INFO_ELF_H
#define CKPT_TOOLS_INFO_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELFR_MAX_LOAD	32	/* PT_LOAD segments kept (more: refused) */
#define ELFR_MAX_SYMS	(1u << 22)	/* function symbols kept, at most */

struct elfr_load {
	uint64_t vaddr, memsz, off, filesz;
	uint32_t flags;		/* PF_X, PF_W, PF_R */
};

struct elfr_sym {
	uint64_t value, size;
	const char *name;	/* inside the buffer, NUL-terminated there */
};

struct elfr {
	const unsigned char *buf;	/* the file (the caller's; kept until elfr_free) */
	size_t len;
	int type;			/* ET_EXEC, ET_DYN */
	struct elfr_load load[ELFR_MAX_LOAD];
	int nload;
	uint64_t eh_hdr_vaddr, eh_hdr_size;	/* PT_GNU_EH_FRAME; 0 when none */
	uint64_t text_lo, text_hi;		/* lowest and highest PF_X address */
	struct elfr_sym *syms;		/* functions, sorted by value */
	size_t nsym;
};

/* Parses buf (len bytes): 0, or -1 with why in err (the buffer is not an ELF this reads). */
int elfr_parse(struct elfr *e, const void *buf, size_t len, char *err, size_t errlen);
void elfr_free(struct elfr *e);
/*
 * The address at which the byte at file offset off is loaded (off inside
 * a PT_LOAD's file bytes, or the page those start in): 0 and *vaddr, or
 * -1 when no segment loads it.
 */
int elfr_off_to_vaddr(const struct elfr *e, uint64_t off, uint64_t *vaddr);
/*
 * The function symbol whose [value, value + size) holds vaddr (a sized
 * symbol; else an unsized one at or below it, in an executable segment):
 * its name and *off = vaddr - value, or NULL when none does.
 */
const char *elfr_symbolize(const struct elfr *e, uint64_t vaddr, uint64_t *off);

#endif
