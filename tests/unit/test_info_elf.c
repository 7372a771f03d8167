/*
 * test_info_elf.c - ckpt-info's ELF symbol reader (tools/info_elf.c):
 * a hand-made ELF's functions found by address (sized, unsized, none),
 * file offsets mapped to addresses, hostile headers refused or their
 * tables ignored without reading outside the buffer, and this very test
 * binary read from /proc/self/exe naming one of its own functions.
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/info_elf.h"
#include "tests/unit/unit.h"

static const char tie_strtab[] = "\0alpha\0beta\0gamma\0data";	/* + the final NUL */

struct tie_img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Sym sym[5];
	char str[sizeof(tie_strtab)];
	Elf64_Shdr sh[3];
};

static void tie_sym(Elf64_Sym *s, uint32_t name, int type, uint64_t value, uint64_t size)
{
	memset(s, 0, sizeof(*s));
	s->st_name = name;
	s->st_info = ELF64_ST_INFO(STB_GLOBAL, type);
	s->st_shndx = 1;
	s->st_value = value;
	s->st_size = size;
}

/* alpha [0x1000, +0x20), beta [0x1020, +0x10), gamma at 0x2000 unsized, data an object */
static void tie_make(struct tie_img *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
	m->eh.e_ident[EI_CLASS] = ELFCLASS64;
	m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh.e_type = ET_DYN;
	m->eh.e_machine = EM_X86_64;
	m->eh.e_phoff = offsetof(struct tie_img, ph);
	m->eh.e_phentsize = sizeof(Elf64_Phdr);
	m->eh.e_phnum = 2;
	m->eh.e_shoff = offsetof(struct tie_img, sh);
	m->eh.e_shentsize = sizeof(Elf64_Shdr);
	m->eh.e_shnum = 3;
	m->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
				 .p_vaddr = 0, .p_filesz = sizeof(*m), .p_memsz = 0x3000 };
	m->ph[1] = (Elf64_Phdr){ .p_type = PT_GNU_EH_FRAME, .p_vaddr = 0x100, .p_memsz = 0x20 };
	tie_sym(&m->sym[1], 1, STT_FUNC, 0x1000, 0x20);
	tie_sym(&m->sym[2], 7, STT_FUNC, 0x1020, 0x10);
	tie_sym(&m->sym[3], 12, STT_FUNC, 0x2000, 0);
	tie_sym(&m->sym[4], 18, STT_OBJECT, 0x1010, 4);
	memcpy(m->str, tie_strtab, sizeof(tie_strtab));
	m->sh[1] = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_offset = offsetof(struct tie_img, sym),
				 .sh_size = sizeof(m->sym), .sh_link = 2,
				 .sh_entsize = sizeof(Elf64_Sym) };
	m->sh[2] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_offset = offsetof(struct tie_img, str),
				 .sh_size = sizeof(m->str) };
}

/* The name at vaddr, "" when none; *off set. */
static const char *tie_at(const struct elfr *e, uint64_t vaddr, uint64_t *off)
{
	const char *s = elfr_symbolize(e, vaddr, off);

	return s ? s : "";
}

static void test_elf_symbols(void)
{
	struct tie_img m;
	struct elfr e;
	char err[128];
	uint64_t off = 99, v;

	tie_make(&m);
	CU_ASSERT_EQUAL_FATAL(elfr_parse(&e, &m, sizeof(m), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(e.nsym, 3);		/* the object is no function */
	CU_ASSERT_EQUAL(e.nload, 1);
	CU_ASSERT_EQUAL(e.eh_hdr_vaddr, 0x100);
	CU_ASSERT_STRING_EQUAL(tie_at(&e, 0x1000, &off), "alpha");
	CU_ASSERT_EQUAL(off, 0);
	CU_ASSERT_STRING_EQUAL(tie_at(&e, 0x101f, &off), "alpha");
	CU_ASSERT_EQUAL(off, 0x1f);
	CU_ASSERT_STRING_EQUAL(tie_at(&e, 0x1025, &off), "beta");
	CU_ASSERT_EQUAL(off, 5);
	CU_ASSERT_STRING_EQUAL(tie_at(&e, 0x1030, &off), "");	/* past beta's end */
	CU_ASSERT_STRING_EQUAL(tie_at(&e, 0x2004, &off), "gamma");	/* unsized, in text */
	CU_ASSERT_EQUAL(off, 4);
	CU_ASSERT_STRING_EQUAL(tie_at(&e, 0x3004, &off), "");	/* beyond the text */
	CU_ASSERT_STRING_EQUAL(tie_at(&e, 0x10, &off), "");
	CU_ASSERT_EQUAL(elfr_off_to_vaddr(&e, 0x40, &v), 0);
	CU_ASSERT_EQUAL(v, 0x40);
	CU_ASSERT_EQUAL(elfr_off_to_vaddr(&e, sizeof(m) + 4096, &v), -1);
	elfr_free(&e);
}

static void test_elf_hostile(void)
{
	struct tie_img m;
	struct elfr e;
	char err[128];

	tie_make(&m);
	CU_ASSERT_EQUAL(elfr_parse(&e, &m, 10, err, sizeof(err)), -1);	/* truncated */
	m.eh.e_ident[EI_CLASS] = ELFCLASS32;
	CU_ASSERT_EQUAL(elfr_parse(&e, &m, sizeof(m), err, sizeof(err)), -1);
	tie_make(&m);
	m.eh.e_phoff = sizeof(m) - 8;				/* program headers run out */
	CU_ASSERT_EQUAL(elfr_parse(&e, &m, sizeof(m), err, sizeof(err)), -1);
	tie_make(&m);
	m.eh.e_phnum = 0xffff;
	CU_ASSERT_EQUAL(elfr_parse(&e, &m, sizeof(m), err, sizeof(err)), -1);
	tie_make(&m);
	m.ph[0].p_offset = UINT64_MAX - 2;			/* offset + size wraps */
	m.ph[0].p_filesz = 16;
	CU_ASSERT_EQUAL(elfr_parse(&e, &m, sizeof(m), err, sizeof(err)), -1);

	/* Tables that point outside: parsed, no names from them. */
	tie_make(&m);
	m.sh[1].sh_offset = 1ull << 62;
	CU_ASSERT_EQUAL_FATAL(elfr_parse(&e, &m, sizeof(m), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(e.nsym, 0);
	elfr_free(&e);
	tie_make(&m);
	m.sh[1].sh_link = 200;					/* no such section */
	CU_ASSERT_EQUAL_FATAL(elfr_parse(&e, &m, sizeof(m), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(e.nsym, 0);
	elfr_free(&e);
	/* The string table cut before gamma's NUL: gamma is dropped, the rest kept. */
	tie_make(&m);
	m.sh[2].sh_size = 14;
	CU_ASSERT_EQUAL_FATAL(elfr_parse(&e, &m, sizeof(m), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(e.nsym, 2);
	elfr_free(&e);
	/* A name offset beyond the table. */
	tie_make(&m);
	m.sym[1].st_name = 5000;
	CU_ASSERT_EQUAL_FATAL(elfr_parse(&e, &m, sizeof(m), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(e.nsym, 2);
	elfr_free(&e);
}

static int tie_bias_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uint64_t *)data = info->dlpi_addr;	/* the first object: the program */
	return 1;
}

/* This binary names its own function (its .symtab: the tests are built with symbols). */
static void test_elf_self(void)
{
	struct stat st;
	struct elfr e;
	char err[128];
	uint64_t bias = 0, off = 99;
	void *map;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	CU_ASSERT_FATAL(fd >= 0 && fstat(fd, &st) == 0);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	CU_ASSERT_FATAL(map != MAP_FAILED);
	dl_iterate_phdr(tie_bias_cb, &bias);
	CU_ASSERT_EQUAL_FATAL(elfr_parse(&e, map, (size_t)st.st_size, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(tie_at(&e, (uint64_t)(uintptr_t)test_elf_self - bias + 3, &off),
			       "test_elf_self");
	CU_ASSERT_EQUAL(off, 3);
	elfr_free(&e);
	munmap(map, (size_t)st.st_size);
}

UNIT_SUITE(info_elf,
	{ "elf: functions by address", test_elf_symbols },
	{ "elf: hostile headers and tables", test_elf_hostile },
	{ "elf: this binary names its own function", test_elf_self },
);
