/*
 * info_bt.c - each thread's backtrace, for ckpt-info: where every thread
 * was at the checkpoint, and where a hung program was stuck.
 *
 * Unwound here, after the fact, from what the image holds: the thread's
 * registers (its THREAD record: the context the checkpoint signal
 * interrupted) and the process's memory (info_mem.c: the image's pages,
 * and the mapped files' pages from the files on this machine when they
 * are the ones the image recorded).  libunwind's remote interface does
 * the unwinding over that memory (its accessors below); the unwind
 * tables are each module's .eh_frame_hdr / .eh_frame, and where a
 * function has none, libunwind follows the frame-pointer chain.  Nothing
 * runs at the checkpoint for this (why: docs/INTERNALS.md, "Decisions:
 * backtraces").  Function names come from each file's .symtab/.dynsym
 * (info_elf.c); a file missing or changed since gives the raw address and
 * module+offset, and the backtrace says so.
 *
 * Bounds: INFO_BT_FRAMES frames and INFO_BT_SECONDS per thread.
 */
#define UNW_REMOTE_ONLY
#include <libunwind.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ucontext.h>
#include "tools/info_mem.h"

#define INFO_BT_FRAMES	64
#define INFO_BT_SECONDS	2

/* libunwind's own search of a remote .eh_frame_hdr table (exported, not in its headers). */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
					       unw_dyn_info_t *di, unw_proc_info_t *pi,
					       int need_unwind_info, void *arg);

struct bt_ctx {
	struct info_mem mem;
	uint64_t regs[UNW_X86_64_RIP + 1];	/* what the cursor starts from (libunwind numbers) */
};

struct bt_frame {
	uint64_t ip;
	const char *src;	/* where sym came from: "checkpoint" (stored), "file", or NULL */
	const char *module;	/* the mapped file's path, or NULL (anonymous memory) */
	uint64_t mod_off;	/* file offset of ip in it */
	const char *sym;	/* function, or NULL */
	uint64_t sym_off;
	const char *note;	/* the module's state when it gave no name */
};

struct bt {
	struct bt_frame f[INFO_BT_FRAMES];
	int n;
	int complete;		/* the outermost frame was reached */
	int stored;		/* from the image's BACKTRACE record */
	char why[240];		/* how it ended, when not complete */
};

/* ---- libunwind accessors ---- */

static int acc_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
	struct bt_ctx *c = arg;

	if (write)
		return -UNW_EREADONLYREG;
	return info_mem_read(&c->mem, addr, val, sizeof(*val)) < 0 ? -UNW_EINVAL : 0;
}

static int acc_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
	struct bt_ctx *c = arg;

	if (write)
		return -UNW_EREADONLYREG;
	if (reg < 0 || reg > UNW_X86_64_RIP)
		return -UNW_EBADREG;
	*val = c->regs[reg];
	return 0;
}

/* The thread's registers (glibc's gregs order) in libunwind's numbering. */
static void bt_regs(struct bt_ctx *c, const struct img_thread *t)
{
	static const int map[] = {
		[UNW_X86_64_RAX] = REG_RAX, [UNW_X86_64_RDX] = REG_RDX, [UNW_X86_64_RCX] = REG_RCX,
		[UNW_X86_64_RBX] = REG_RBX, [UNW_X86_64_RSI] = REG_RSI, [UNW_X86_64_RDI] = REG_RDI,
		[UNW_X86_64_RBP] = REG_RBP, [UNW_X86_64_RSP] = REG_RSP, [UNW_X86_64_R8] = REG_R8,
		[UNW_X86_64_R9] = REG_R9, [UNW_X86_64_R10] = REG_R10, [UNW_X86_64_R11] = REG_R11,
		[UNW_X86_64_R12] = REG_R12, [UNW_X86_64_R13] = REG_R13, [UNW_X86_64_R14] = REG_R14,
		[UNW_X86_64_R15] = REG_R15, [UNW_X86_64_RIP] = REG_RIP,
	};

	for (int i = 0; i <= UNW_X86_64_RIP; i++)
		c->regs[i] = t->gregs[map[i]];
}

static int acc_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg)
{
	return -UNW_EBADREG;
}

static int acc_resume(unw_addr_space_t as, unw_cursor_t *cu, void *arg)
{
	return -UNW_EINVAL;
}

static int acc_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len,
			 unw_word_t *off, void *arg)
{
	return -UNW_ENOINFO;
}

static int acc_dyn_list(unw_addr_space_t as, unw_word_t *dil, void *arg)
{
	return -UNW_ENOINFO;
}

static void acc_put_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
}

/* DW_EH_PE encodings this reads in .eh_frame_hdr (what every linker writes) */
#define PE_UDATA4	0x03
#define PE_SDATA4	0x0b
#define PE_PCREL	0x10
#define PE_DATAREL	0x30

/*
 * The unwind table of the module ip is in: its .eh_frame_hdr search table,
 * searched by libunwind.  -UNW_ENOINFO when there is none (anonymous
 * code, a missing or changed file, no PT_GNU_EH_FRAME, an encoding this
 * does not read): libunwind then tries the frame-pointer chain.
 */
static int acc_find(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg)
{
	struct bt_ctx *c = arg;
	const struct info_vma *v = info_mem_vma(c->mem.in, ip);
	struct info_mod *md = v ? info_mod_of(v) : NULL;
	unsigned char hdr[12];
	uint64_t vaddr, bias, eh;
	uint32_t count;
	unw_dyn_info_t di;

	if (!md || md->state != MOD_OK || !md->elf.eh_hdr_vaddr ||
	    elfr_off_to_vaddr(&md->elf, v->v.pgoff, &vaddr) < 0)
		return -UNW_ENOINFO;
	bias = v->v.start - vaddr;
	eh = bias + md->elf.eh_hdr_vaddr;
	if (info_mem_read(&c->mem, eh, hdr, sizeof(hdr)) < 0)
		return -UNW_ENOINFO;
	/* version 1; eh_frame_ptr any 4-byte form; fde_count udata4; table datarel sdata4 */
	if (hdr[0] != 1 || ((hdr[1] & 0x0f) != PE_SDATA4 && (hdr[1] & 0x0f) != PE_UDATA4) ||
	    hdr[2] != PE_UDATA4 || hdr[3] != (PE_DATAREL | PE_SDATA4))
		return -UNW_ENOINFO;
	memcpy(&count, hdr + 8, sizeof(count));
	if (!count || count > md->elf.eh_hdr_size / 8)
		return -UNW_ENOINFO;
	memset(&di, 0, sizeof(di));
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = bias + md->elf.text_lo;
	di.end_ip = bias + md->elf.text_hi;
	di.u.rti.segbase = eh;
	di.u.rti.table_data = eh + 12;
	di.u.rti.table_len = (uint64_t)count * 8 / sizeof(unw_word_t);
	if (ip < di.start_ip || ip >= di.end_ip)
		return -UNW_ENOINFO;
	return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need, arg);
}

static unw_accessors_t bt_acc = {
	.find_proc_info = acc_find,
	.put_unwind_info = acc_put_info,
	.get_dyn_info_list_addr = acc_dyn_list,
	.access_mem = acc_mem,
	.access_reg = acc_reg,
	.access_fpreg = acc_fpreg,
	.resume = acc_resume,
	.get_proc_name = acc_proc_name,
};

/* ---- frames ---- */

/* Names frame f (ip; look up ip - 1 for a return address: the call may end its function). */
static void bt_name(const struct info *in, struct bt_frame *f, int is_return)
{
	const struct info_vma *v = info_mem_vma(in, f->ip);
	struct info_mod *md = v ? info_mod_of(v) : NULL;
	uint64_t vaddr, look = f->ip - (is_return ? 1 : 0);

	if (!md)
		return;
	f->module = md->path;
	f->mod_off = v->v.pgoff + (f->ip - v->v.start);
	if (md->state != MOD_OK) {
		f->note = md->why;
		return;
	}
	if (elfr_off_to_vaddr(&md->elf, v->v.pgoff + (look - v->v.start), &vaddr) == 0 &&
	    (f->sym = elfr_symbolize(&md->elf, vaddr, &f->sym_off))) {
		f->sym_off += look != f->ip;
		f->src = "file";
	}
}

/*
 * A frame without unwind information (code built without unwind tables):
 * one step along the frame-pointer chain, done here -- libunwind's own
 * guess keeps a wrong CFA, which breaks the next frame's DWARF step --
 * and the cursor started again from the caller's registers (rbp, rsp and
 * rip known; the other callee-saved registers as they were).  0, or -1
 * with why (the end of the chain: 1 in *end).
 */
static int bt_fp_step(struct bt_ctx *c, unw_cursor_t *cu, unw_addr_space_t as, int *end,
		      char *why, size_t len)
{
	uint64_t rbp, saved[2];

	for (int i = 0; i <= UNW_X86_64_RIP; i++) {
		unw_word_t v;

		if (unw_get_reg(cu, i, &v) == 0)
			c->regs[i] = v;
	}
	rbp = c->regs[UNW_X86_64_RBP];
	if (!rbp) {
		*end = 1;
		return -1;
	}
	if (rbp < c->regs[UNW_X86_64_RSP] || rbp % 8 ||
	    info_mem_read(&c->mem, rbp, saved, sizeof(saved)) < 0) {
		snprintf(why, len, "unwinding stopped: no unwind information, and no frame pointer "
			 "chain at rbp 0x%llx%s%s", (unsigned long long)rbp, c->mem.why[0] ? ": " : "",
			 c->mem.why);
		return -1;
	}
	if (!saved[1]) {
		*end = 1;
		return -1;
	}
	c->regs[UNW_X86_64_RBP] = saved[0];
	c->regs[UNW_X86_64_RSP] = rbp + 16;
	c->regs[UNW_X86_64_RIP] = saved[1];
	if (unw_init_remote(cu, as, c) < 0) {
		snprintf(why, len, "unwinding stopped: libunwind cannot start at 0x%llx",
			 (unsigned long long)saved[1]);
		return -1;
	}
	return 0;
}

static void bt_unwind(const struct info *in, const struct img_thread *t, struct bt *b)
{
	struct bt_ctx c;
	unw_addr_space_t as;
	unw_cursor_t cu;
	int rc, is_return = 0;

	memset(b, 0, sizeof(*b));
	memset(&c, 0, sizeof(c));
	info_mem_init(&c.mem, in);
	bt_regs(&c, t);
	clock_gettime(CLOCK_MONOTONIC, &c.mem.deadline);
	c.mem.deadline.tv_sec += INFO_BT_SECONDS;
	if (!(as = unw_create_addr_space(&bt_acc, 0))) {
		snprintf(b->why, sizeof(b->why), "libunwind: cannot create an address space");
		return;
	}
	unw_set_caching_policy(as, UNW_CACHE_NONE);
	if ((rc = unw_init_remote(&cu, as, &c)) < 0) {
		snprintf(b->why, sizeof(b->why), "libunwind: %s", unw_strerror(rc));
		goto out;
	}
	for (;;) {
		unw_proc_info_t pi;
		unw_word_t ip;
		struct bt_frame *f;
		int signal_frame, end = 0;

		if (b->n == INFO_BT_FRAMES) {
			snprintf(b->why, sizeof(b->why), "stopped after %d frames", INFO_BT_FRAMES);
			break;
		}
		if (unw_get_reg(&cu, UNW_REG_IP, &ip) < 0 || !ip) {
			b->complete = 1;
			break;
		}
		if (b->n && (!info_mem_vma(in, ip) || !(info_mem_vma(in, ip)->v.prot & PROT_EXEC))) {
			snprintf(b->why, sizeof(b->why), "unwinding stopped: the next return address, "
				 "0x%llx, is not in executable memory", (unsigned long long)ip);
			break;
		}
		f = &b->f[b->n++];
		f->ip = ip;
		bt_name(in, f, is_return);
		signal_frame = unw_is_signal_frame(&cu) > 0;
		/* after a signal frame, the next ip is where the signal came: exact */
		is_return = !signal_frame;
		c.mem.why[0] = 0;
		if (!signal_frame && unw_get_proc_info(&cu, &pi) < 0 && !c.mem.timed_out) {
			if (bt_fp_step(&c, &cu, as, &end, b->why, sizeof(b->why)) < 0) {
				b->complete = end;
				break;
			}
			continue;
		}
		rc = unw_step(&cu);
		if (rc == 0) {
			b->complete = 1;
			break;
		}
		if (rc < 0) {
			snprintf(b->why, sizeof(b->why), "unwinding stopped: %s%s%s",
				 c.mem.timed_out ? "out of time" : unw_strerror(rc),
				 c.mem.why[0] && !c.mem.timed_out ? ": " : "",
				 c.mem.timed_out ? "" : c.mem.why);
			break;
		}
	}
out:
	unw_destroy_addr_space(as);
	info_mem_done(&c.mem);
}

/* ---- the backtrace the checkpoint stored ---- */

const struct img_backtrace *info_bt_stored(const struct info *in, int tid)
{
	for (size_t i = 0; i < in->nbt; i++)
		if (in->bts[i]->tid == tid)
			return in->bts[i];
	return NULL;
}

static const char *bt_stop_why(uint16_t stop)
{
	switch (stop) {
	case IMG_BT_LIMIT:	return "stopped after 64 frames";
	case IMG_BT_UNREADABLE:	return "unwinding stopped: a read outside readable memory";
	case IMG_BT_NOTEXEC:	return "unwinding stopped: the next return address is not in "
				       "executable memory";
	case IMG_BT_NOINFO:	return "unwinding stopped: no unwind information, and no frame "
				       "pointer chain";
	default:		return "unwinding stopped: libunwind could not read the unwind "
				       "information";
	}
}

/*
 * The stored frames, as the checkpoint named them from .dynsym; a frame it
 * could not name is named here from the file's .symtab when the file is
 * the one the image recorded (a local function of the program).
 */
static void bt_from_record(const struct info *in, const struct img_backtrace *b, struct bt *out)
{
	const struct img_bt_frame *fr = img_bt_frames(b);

	memset(out, 0, sizeof(*out));
	out->stored = 1;
	out->complete = b->stop == IMG_BT_END;
	if (!out->complete)
		snprintf(out->why, sizeof(out->why), "%s", bt_stop_why(b->stop));
	for (unsigned i = 0; i < b->nframes && i < INFO_BT_FRAMES; i++) {
		struct bt_frame *f = &out->f[out->n++];
		int is_return = i && !(fr[i - 1].flags & IMG_BT_F_SIGNAL);

		f->ip = fr[i].pc;
		bt_name(in, f, is_return);
		if (img_bt_name(b, &fr[i])) {
			f->sym = img_bt_name(b, &fr[i]);
			f->sym_off = fr[i].sym_off;
			f->src = "checkpoint";
		}
		if (f->sym)
			f->note = NULL;
	}
}

static void bt_get(const struct info *in, const struct img_thread *t, struct bt *b)
{
	const struct img_backtrace *st = info_bt_unwind ? NULL : info_bt_stored(in, t->tid);

	if (st)
		bt_from_record(in, st, b);
	else
		bt_unwind(in, t, b);
}

/* ---- output ---- */

int info_bt_skip;
int info_bt_unwind;

void info_bt_text(const struct info *in, const struct img_thread *t)
{
	struct bt b;
	const char *last_note = NULL;

	if (info_bt_skip)
		return;
	bt_get(in, t, &b);
	printf("    backtrace%s:\n", b.stored ? " (stored at the checkpoint)" : "");
	for (int i = 0; i < b.n; i++) {
		const struct bt_frame *f = &b.f[i];

		printf("      #%-2d 0x%012llx  ", i, (unsigned long long)f->ip);
		if (f->sym)
			printf("%s+0x%llx", f->sym, (unsigned long long)f->sym_off);
		else
			printf("??");
		if (f->module)
			printf("  (%s+0x%llx)", f->module, (unsigned long long)f->mod_off);
		else
			printf("  (%s)", info_mem_vma(in, f->ip) ?
			       info_vma_kind(&info_mem_vma(in, f->ip)->v) : "no memory area");
		if (b.stored && f->sym && !strcmp(f->src, "file"))
			printf("  [name from the file]");
		printf("\n");
		if (f->note && f->note != last_note)
			printf("          note: %s\n", last_note = f->note);
	}
	if (!b.complete)
		printf("      (%s)\n", b.why);
}

void info_bt_json(const struct info *in, const struct img_thread *t,
		  void (*str)(const char *s, size_t n))
{
	struct bt b;

	if (info_bt_skip) {
		printf(", \"backtrace\": null");
		return;
	}
	bt_get(in, t, &b);
	printf(",\n     \"backtrace\": {\"source\": \"%s\", \"complete\": %s, \"stopped\": ",
	       b.stored ? "checkpoint" : "ckpt-info", b.complete ? "true" : "false");
	if (b.complete)
		printf("null");
	else
		str(b.why, strlen(b.why));
	printf(", \"frames\": [");
	for (int i = 0; i < b.n; i++) {
		const struct bt_frame *f = &b.f[i];

		printf("%s\n       {\"ip\": %llu, \"symbol\": ", i ? "," : "", (unsigned long long)f->ip);
		if (f->sym)
			str(f->sym, strlen(f->sym));
		else
			printf("null");
		printf(", \"symbol_source\": ");
		if (f->src)
			str(f->src, strlen(f->src));
		else
			printf("null");
		printf(", \"symbol_offset\": %llu, \"module\": ", (unsigned long long)f->sym_off);
		if (f->module)
			str(f->module, strlen(f->module));
		else
			printf("null");
		printf(", \"module_offset\": %llu, \"note\": ", (unsigned long long)f->mod_off);
		if (f->note)
			str(f->note, strlen(f->note));
		else
			printf("null");
		printf("}");
	}
	printf("]}");
}
