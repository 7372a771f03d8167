/*
 * ckpt_bt.c - each thread's backtrace, unwound at the checkpoint and
 * stored in the image (IMG_REC_BACKTRACE), so that ckpt-info shows where
 * every thread was even where the program's files are gone or changed.
 *
 * Where: right before the VMA records, in the process that writes them --
 * the forked page writer (a copy of the process), or the checkpoint's
 * signal handler while every other thread is parked.  Either way the
 * memory is the checkpoint's, and any lock a parked thread held stays
 * held: nothing here may take one the application could hold.  So:
 *
 * - libunwind's REMOTE interface (libunwind-x86_64, as ckpt-info's
 *   tools/info_bt.c), with libckpt's accessors: registers from each
 *   thread's saved context (the one its THREAD record stores), memory
 *   through ckpt_bt_mem.c (only what the checkpoint's VMA table says is
 *   readable, read with process_vm_readv: never a fault), unwind tables
 *   from each module's PT_GNU_EH_FRAME found in memory and searched by
 *   libunwind's exported _Ux86_64_dwarf_search_unwind_table.  Never
 *   dl_iterate_phdr (the loader's lock), never malloc.
 * - What libunwind itself does on that path (checked in its source,
 *   1.6): its cursor is ours (on this stack); the CIE and register-state
 *   objects come from its own memory pools (mempool.c: a mutex taken with
 *   every signal blocked, so no thread parked by a signal can hold it;
 *   more memory by mmap, never malloc); UNW_CACHE_NONE leaves its caches
 *   (and their locks) out; its one-time initialisation (tdep_init: a
 *   lock, a pipe) is run here at load time, not at the checkpoint.
 * - libunwind is loaded by dlopen in this library's constructor
 *   (ckpt_bt_load from shim_init: the loader's lock is only taken there),
 *   and only when backtraces are on:
 *   CKPT_BACKTRACES=0 keeps it out of the process, and so does a
 *   sanitizer runtime (its interposed memcpy would run inside the
 *   checkpoint: tools/check-private-libc.sh's rule, which libunwind's
 *   own calls would otherwise bypass).  Without it, no BACKTRACE record:
 *   ckpt-info then unwinds from the image as before.
 *
 * Bounds: IMG_BT_FRAMES_MAX frames a thread; the unwind stops at an
 * unreadable address or a return address outside executable memory.
 * Names: each module's .dynsym in memory (ckpt_bt_mem.c), a small cache
 * by address (threads parked at the same place share their frames).
 */
#define UNW_REMOTE_ONLY
#include <dlfcn.h>
#include <fcntl.h>
#include <libunwind.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_bt.h"

#define BT_NAMECACHE	256		/* addresses named, direct mapped */

/* libunwind, as dlopen gives it (the _Ux86_64_ names of the remote interface) */
static struct {
	unw_addr_space_t (*create_addr_space)(unw_accessors_t *, int);
	int (*set_caching_policy)(unw_addr_space_t, unw_caching_policy_t);
	int (*init_remote)(unw_cursor_t *, unw_addr_space_t, void *);
	int (*step)(unw_cursor_t *);
	int (*get_reg)(unw_cursor_t *, int, unw_word_t *);
	int (*get_proc_info)(unw_cursor_t *, unw_proc_info_t *);
	int (*is_signal_frame)(unw_cursor_t *);
	int (*search_table)(unw_addr_space_t, unw_word_t, unw_dyn_info_t *, unw_proc_info_t *,
			    int, void *);
	unw_addr_space_t as;
} uw;

struct bt_ctx {
	uint64_t regs[UNW_X86_64_RIP + 1];	/* libunwind's numbering */
	int unreadable;			/* a read failed */
};

/* ---- accessors ---- */

static int acc_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
	struct bt_ctx *x = arg;

	if (write)
		return -UNW_EREADONLYREG;
	if (bt_mem_read(addr, val, sizeof(*val)) < 0) {
		x->unreadable = 1;
		return -UNW_EINVAL;
	}
	return 0;
}

static int acc_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
	struct bt_ctx *x = arg;

	if (write)
		return -UNW_EREADONLYREG;
	if (reg < 0 || reg > UNW_X86_64_RIP)
		return -UNW_EBADREG;
	*val = x->regs[reg];
	return 0;
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

/* libunwind frees what its own table search allocated (its pool): nothing of ours to put back */
static void acc_put_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
}

/* .eh_frame_hdr encodings read (what every linker writes) */
#define PE_UDATA4	0x03
#define PE_SDATA4	0x0b
#define PE_DATAREL	0x30

/* The unwind table of ip's module, searched by libunwind; -UNW_ENOINFO where there is none. */
static int acc_find(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg)
{
	const struct bt_mod *m = bt_mod_of(ip);
	unsigned char hdr[12];
	uint32_t count;
	unw_dyn_info_t di;

	if (!m || !m->eh || ip < m->text_lo || ip >= m->text_hi ||
	    bt_mem_read(m->eh, hdr, sizeof(hdr)) < 0)
		return -UNW_ENOINFO;
	if (hdr[0] != 1 || ((hdr[1] & 0x0f) != PE_SDATA4 && (hdr[1] & 0x0f) != PE_UDATA4) ||
	    hdr[2] != PE_UDATA4 || hdr[3] != (PE_DATAREL | PE_SDATA4))
		return -UNW_ENOINFO;
	__builtin_memcpy(&count, hdr + 8, sizeof(count));
	if (!count || count > m->eh_size / 8)
		return -UNW_ENOINFO;
	__builtin_memset(&di, 0, sizeof(di));
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = m->text_lo;
	di.end_ip = m->text_hi;
	di.u.rti.segbase = m->eh;
	di.u.rti.table_data = m->eh + 12;
	di.u.rti.table_len = (uint64_t)count * 8 / sizeof(unw_word_t);
	return uw.search_table(as, ip, &di, pi, need, arg);
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

/* ---- loading libunwind (the constructor: never at a checkpoint) ---- */

/*
 * libunwind's one-time initialisation opens a pipe (for the memory checks
 * of its local unwinding, which this instance never does): two fds the
 * application did not open, at the lowest free numbers.  They are closed
 * again -- found as the two numbers a probe pipe got just before, and
 * checked to be libunwind's (a pipe, O_NONBLOCK, close-on-exec).
 */
static void bt_close_validate_pipe(const int probe[2])
{
	for (int i = 0; i < 2; i++) {
		struct stat st;
		long fl = arch_sys2(SYS_fcntl, probe[i], F_GETFL), fd = arch_sys2(SYS_fcntl, probe[i], F_GETFD);

		if (fl < 0 || fd < 0 || !(fl & O_NONBLOCK) || !(fd & FD_CLOEXEC) ||
		    arch_sys2(SYS_fstat, probe[i], &st) < 0 || !S_ISFIFO(st.st_mode))
			return;
	}
	arch_sys1(SYS_close, probe[0]);
	arch_sys1(SYS_close, probe[1]);
}

void ckpt_bt_load(void)
{
	const char *v = getenv("CKPT_BACKTRACES");
	int probe[2] = { -1, -1 };
	unw_cursor_t cu;
	struct bt_ctx x;
	void *h;

	if (uw.as || (v && !strcmp(v, "0")) || dlsym(RTLD_DEFAULT, "__asan_init") ||
	    dlsym(RTLD_DEFAULT, "__tsan_init") || dlsym(RTLD_DEFAULT, "__msan_init"))
		return;
	/* libunwind's pipe comes at the dlopen or its first init: see bt_close_validate_pipe */
	if (arch_sys2(SYS_pipe2, probe, O_CLOEXEC) == 0) {
		arch_sys1(SYS_close, probe[0]);
		arch_sys1(SYS_close, probe[1]);
	} else {
		probe[0] = probe[1] = -1;
	}
	/*
	 * RTLD_DEEPBIND: libunwind's own calls (sigprocmask around its pool
	 * lock, pipe2, memcpy) go to libc itself, not to libckpt's wrappers
	 * that the preload puts first: their bookkeeping (the application's
	 * view of its signal mask, its fds) is the application's, and
	 * libunwind's brief full mask inside a checkpoint must not enter it.
	 */
	if (!(h = dlopen("libunwind-x86_64.so.8", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)))
		return;
	*(void **)&uw.create_addr_space = dlsym(h, "_Ux86_64_create_addr_space");
	*(void **)&uw.set_caching_policy = dlsym(h, "_Ux86_64_set_caching_policy");
	*(void **)&uw.init_remote = dlsym(h, "_Ux86_64_init_remote");
	*(void **)&uw.step = dlsym(h, "_Ux86_64_step");
	*(void **)&uw.get_reg = dlsym(h, "_Ux86_64_get_reg");
	*(void **)&uw.get_proc_info = dlsym(h, "_Ux86_64_get_proc_info");
	*(void **)&uw.is_signal_frame = dlsym(h, "_Ux86_64_is_signal_frame");
	*(void **)&uw.search_table = dlsym(h, "_Ux86_64_dwarf_search_unwind_table");
	if (!uw.create_addr_space || !uw.set_caching_policy || !uw.init_remote || !uw.step ||
	    !uw.get_reg || !uw.get_proc_info || !uw.is_signal_frame || !uw.search_table ||
	    !(uw.as = uw.create_addr_space(&bt_acc, 0))) {
		uw.as = NULL;
		if (probe[0] >= 0)
			bt_close_validate_pipe(probe);
		return;		/* the handle stays: a half-resolved library is harmless */
	}
	uw.set_caching_policy(uw.as, UNW_CACHE_NONE);
	/* libunwind's one-time initialisation (locks, its pools), here rather than at a checkpoint */
	memset(&x, 0, sizeof(x));
	uw.init_remote(&cu, uw.as, &x);
	if (probe[0] >= 0)
		bt_close_validate_pipe(probe);
}

/* ---- one thread ---- */

struct bt_rec {
	struct img_backtrace b;
	struct img_bt_frame f[IMG_BT_FRAMES_MAX];
	char names[IMG_BT_FRAMES_MAX * IMG_BT_NAME_MAX];
};

struct bt_name {
	uint64_t look;			/* address looked up + 1 (0: empty) */
	uint64_t start;			/* the function's start; 0: none found */
	char name[IMG_BT_NAME_MAX];
};

struct bt_work {
	struct bt_rec rec;
	struct bt_name names[BT_NAMECACHE];
};

/* The function holding look, from the cache or its module's .dynsym. */
static const struct bt_name *bt_lookup(struct bt_work *w, uint64_t look)
{
	struct bt_name *n = &w->names[(look >> 2) % BT_NAMECACHE];
	const struct bt_mod *m;

	if (n->look == look + 1)
		return n->start ? n : NULL;
	n->look = look + 1;
	n->start = 0;
	if ((m = bt_mod_of(look)) && m->nsyms &&
	    bt_mod_symbol(m, look, n->name, sizeof(n->name), &n->start) < 0)
		n->start = 0;
	return n->start ? n : NULL;
}

static void bt_frame_name(struct bt_work *w, struct img_bt_frame *f, int is_return)
{
	struct bt_rec *r = &w->rec;
	const struct bt_name *n = bt_lookup(w, f->pc - (is_return ? 1 : 0));
	size_t len;

	f->name = IMG_BT_NONAME;
	if (!n)
		return;
	f->sym_off = f->pc - n->start;
	/* a name the previous frame stored already is shared */
	if (r->b.nframes > 1 && r->f[r->b.nframes - 2].name != IMG_BT_NONAME &&
	    !strcmp(r->names + r->f[r->b.nframes - 2].name, n->name)) {
		f->name = r->f[r->b.nframes - 2].name;
		return;
	}
	len = strlen(n->name) + 1;
	if (r->b.names_len + len > sizeof(r->names))
		return;
	memcpy(r->names + r->b.names_len, n->name, len);
	f->name = r->b.names_len;
	r->b.names_len += (uint32_t)len;
}

/*
 * A frame without unwind information: one step along the frame-pointer
 * chain (rbp, [rbp], [rbp+8]), the cursor restarted from the caller's
 * registers, as tools/info_bt.c does.  0, or the stop reason.
 */
static int bt_fp_step(struct bt_ctx *x, unw_cursor_t *cu)
{
	uint64_t rbp, saved[2];

	for (int i = 0; i <= UNW_X86_64_RIP; i++) {
		unw_word_t v;

		if (uw.get_reg(cu, i, &v) == 0)
			x->regs[i] = v;
	}
	rbp = x->regs[UNW_X86_64_RBP];
	if (!rbp)
		return IMG_BT_END;
	if (rbp < x->regs[UNW_X86_64_RSP] || rbp % 8 || bt_mem_read(rbp, saved, sizeof(saved)) < 0)
		return IMG_BT_NOINFO;
	if (!saved[1])
		return IMG_BT_END;
	x->regs[UNW_X86_64_RBP] = saved[0];
	x->regs[UNW_X86_64_RSP] = rbp + 16;
	x->regs[UNW_X86_64_RIP] = saved[1];
	return uw.init_remote(cu, uw.as, x) < 0 ? IMG_BT_FAILED : 0;
}

static void bt_regs(struct bt_ctx *x, const ucontext_t *uc)
{
	static const int map[] = {
		[UNW_X86_64_RAX] = REG_RAX, [UNW_X86_64_RDX] = REG_RDX, [UNW_X86_64_RCX] = REG_RCX,
		[UNW_X86_64_RBX] = REG_RBX, [UNW_X86_64_RSI] = REG_RSI, [UNW_X86_64_RDI] = REG_RDI,
		[UNW_X86_64_RBP] = REG_RBP, [UNW_X86_64_RSP] = REG_RSP, [UNW_X86_64_R8] = REG_R8,
		[UNW_X86_64_R9] = REG_R9, [UNW_X86_64_R10] = REG_R10, [UNW_X86_64_R11] = REG_R11,
		[UNW_X86_64_R12] = REG_R12, [UNW_X86_64_R13] = REG_R13, [UNW_X86_64_R14] = REG_R14,
		[UNW_X86_64_R15] = REG_R15, [UNW_X86_64_RIP] = REG_RIP,
	};

	memset(x, 0, sizeof(*x));
	for (int i = 0; i <= UNW_X86_64_RIP; i++)
		x->regs[i] = (uint64_t)uc->uc_mcontext.gregs[map[i]];
}

static void bt_unwind(struct bt_work *w, const struct ckpt_thread_state *t)
{
	struct bt_rec *r = &w->rec;
	struct bt_ctx x;
	unw_cursor_t cu;
	int is_return = 0, fp = 0;

	memset(&r->b, 0, sizeof(r->b));
	r->b.tid = t->img.tid;
	bt_regs(&x, t->uc);
	if (uw.init_remote(&cu, uw.as, &x) < 0) {
		r->b.stop = IMG_BT_FAILED;
		return;
	}
	for (;;) {
		unw_proc_info_t pi;
		unw_word_t ip, sp;
		struct img_bt_frame *f;
		int signal_frame, rc;

		if (r->b.nframes == IMG_BT_FRAMES_MAX) {
			r->b.stop = IMG_BT_LIMIT;
			return;
		}
		if (uw.get_reg(&cu, UNW_REG_IP, &ip) < 0 || !ip) {
			r->b.stop = IMG_BT_END;
			return;
		}
		if (r->b.nframes && !bt_mem_exec(ip)) {
			r->b.stop = IMG_BT_NOTEXEC;
			return;
		}
		f = &r->f[r->b.nframes++];
		memset(f, 0, sizeof(*f));
		f->pc = ip;
		f->sp = uw.get_reg(&cu, UNW_REG_SP, &sp) == 0 ? sp : 0;
		signal_frame = uw.is_signal_frame(&cu) > 0;
		f->flags = (signal_frame ? IMG_BT_F_SIGNAL : 0) | (fp ? IMG_BT_F_FP : 0);
		bt_frame_name(w, f, is_return);
		/* after a signal frame, the next pc is where the signal came: exact */
		is_return = !signal_frame;
		fp = 0;
		x.unreadable = 0;
		if (!signal_frame && uw.get_proc_info(&cu, &pi) < 0) {
			if ((rc = bt_fp_step(&x, &cu))) {
				r->b.stop = (uint16_t)rc;
				return;
			}
			fp = 1;
			continue;
		}
		rc = uw.step(&cu);
		if (rc <= 0) {
			r->b.stop = rc == 0 ? IMG_BT_END : x.unreadable ? IMG_BT_UNREADABLE :
				    IMG_BT_FAILED;
			return;
		}
	}
}

static void bt_write_one(struct ckpt_ctx *c, struct bt_work *w, const struct ckpt_thread_state *t)
{
	struct bt_rec *r = &w->rec;
	size_t frames;

	bt_unwind(w, t);
	frames = r->b.nframes * sizeof(r->f[0]);
	img_write_record(&c->w, IMG_REC_BACKTRACE, &r->b, sizeof(r->b) + frames,
			 r->names, r->b.names_len);
}

int ckpt_bt_write(struct ckpt_ctx *c)
{
	struct bt_work *w;

	if (!uw.as || c->error || c->w.error)
		return c->w.error;
	w = ckpt_map_anon(sizeof(*w), PROT_READ | PROT_WRITE);
	if (w == MAP_FAILED)
		return c->w.error;		/* no backtraces: ckpt-info unwinds from the image */
	if (bt_mem_begin(c) == 0) {
		bt_write_one(c, w, &c->leader);
		for (int i = 0; i < ckpt_nparked && !c->w.error; i++)
			bt_write_one(c, w, &ckpt_parked[i]);
		bt_mem_end();
	}
	munmap(w, sizeof(*w));
	return c->w.error;
}
