/*
 * ckpt_bt.h - each thread's backtrace, unwound at the checkpoint and
 * stored in the image (BACKTRACE records; docs/INTERNALS.md, "Seeing
 * inside an image").
 */
#ifndef CKPT_BT_H
#define CKPT_BT_H

#include <stdint.h>

struct ckpt_ctx;

/*
 * One BACKTRACE record per thread (the leader, then the parked threads),
 * right before the VMA records, from wherever those are written (the
 * forked copy, or the handler).  Never fails the checkpoint: a thread it
 * cannot unwind gets a shorter backtrace with its stop reason, and none
 * at all is stored while backtraces are off (CKPT_BACKTRACES=0, no
 * libunwind, a sanitizer).  Returns c->w.error.
 */
int ckpt_bt_write(struct ckpt_ctx *c);
/*
 * Loads libunwind and makes its address space (the constructor: never at
 * a checkpoint), unless CKPT_BACKTRACES=0 or a sanitizer is in the process.
 */
void ckpt_bt_load(void);

/* ---- ckpt_bt_mem.c: the process's own memory and modules, read without a fault ---- */

struct bt_mod {
	uint64_t base;			/* where file offset 0 is mapped: the key */
	uint64_t end;			/* the end of its last mapping */
	uint64_t bias;			/* load bias (address - ELF vaddr) */
	uint64_t text_lo, text_hi;	/* its executable PT_LOADs */
	uint64_t eh, eh_size;		/* .eh_frame_hdr (PT_GNU_EH_FRAME), 0 if none */
	uint64_t symtab, strtab, strsz;	/* .dynsym and .dynstr (PT_DYNAMIC), 0 if none */
	uint32_t nsyms;
};

/* Starts a checkpoint's reads: c's VMA table says what may be read; 0 or -1 (no memory). */
int bt_mem_begin(const struct ckpt_ctx *c);
void bt_mem_end(void);
/* n bytes at addr into buf: 0, or -1 when any is outside readable memory. */
int bt_mem_read(uint64_t addr, void *buf, uint64_t n);
/* addr is in executable memory. */
int bt_mem_exec(uint64_t addr);
/* The module (ELF file or vDSO) whose executable mapping holds ip, or NULL. */
const struct bt_mod *bt_mod_of(uint64_t ip);
/*
 * The .dynsym function that holds addr (in m): its name copied into name
 * (len bytes at most, NUL-terminated) and its start in *start; 0, or -1
 * when none.
 */
int bt_mod_symbol(const struct bt_mod *m, uint64_t addr, char *name, size_t len,
		  uint64_t *start);

#endif
