# libckpt build.  `make` builds everything into build/; `make check` runs
# every test; `make bench` the benchmarks; `make fuzz` the fuzz targets.
# Sources are found by directory, so a new file needs no edit here.

CC       ?= gcc
CLANG    ?= clang
PREFIX   ?= /usr/local
# The ckpt Python module: PREFIX/lib/python3.X/dist-packages, which
# Debian's python3 searches for PREFIX=/usr/local and /usr (docs/USAGE.md,
# "Python"); python3 for X where there is no python3 to ask.
PYTHONDIR ?= $(PREFIX)/lib/python$(shell /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3)/dist-packages
B        := build
WARN     := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wmissing-prototypes
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -D_GNU_SOURCE -I. -Iinclude $(WARN) -fno-strict-aliasing
DEPFLAGS  = -MMD -MP
# The restarter's compiler: musl's where installed (see ckpt-restart below).
MUSL_CC    := $(shell command -v musl-gcc 2>/dev/null)
RESTART_CC ?= $(or $(MUSL_CC),$(CC))
RST_HDRS   := $(if $(filter %musl-gcc,$(RESTART_CC)),$(B)/musl-include/.done)
RST_INC    := $(if $(RST_HDRS),-isystem $(B)/musl-include)

# --- what goes where ------------------------------------------------------
# fds/: one file per kind of open file, holding its save half (built into
# libckpt.so, -DFD_SAVE), its restore half (ckpt-restart, -DFD_RESTORE)
# and the record checks every reader needs (fds/fd_kind.h).
FD_SRCS     := $(wildcard fds/*.c)
IMG_SRCS    := $(wildcard libckpt/img_*.c) $(FD_SRCS)
CTL_SRCS    := libckpt/ctl_proto.c libckpt/tree_proto.c
ENGINE_SRCS := $(filter-out $(IMG_SRCS) $(CTL_SRCS),$(wildcard libckpt/*.c)) \
               $(wildcard arch/x86_64/*.c)
# The preloaded library writes images but never reads them: it leaves the
# reader (img_read.c, img_pages.c, the Snappy decoder...) out of every
# application.
IMG_WSRCS   := libckpt/img_write.c libckpt/img_crc32c.c libckpt/img_snappy.c
LIB_SRCS    := $(wildcard shim/*.c) $(wildcard wrappers/*.c) $(ENGINE_SRCS) $(IMG_WSRCS) \
               $(CTL_SRCS) $(FD_SRCS)
RST_SRCS    := $(filter-out restart/restorer.c,$(wildcard restart/*.c)) tools/progress.c \
               $(wildcard kernel-assist/*.c) $(IMG_SRCS)
UNIT_SRCS   := $(wildcard tests/unit/*.c)
E2E_PROGS   := $(patsubst tests/e2e/progs/%.c,$(B)/tests/%,$(wildcard tests/e2e/progs/*.c)) \
               $(B)/tests/threads-nopie $(B)/tests/execprobe-static $(B)/tests/btstuck-fp \
               $(B)/tests/btstore-plain \
               $(patsubst tests/e2e/static/%.c,$(B)/tests/%,$(wildcard tests/e2e/static/*.c)) \
               $(B)/tests/reaper
SAMPLES     := $(patsubst samples/%.c,$(B)/samples/%,$(wildcard samples/*.c))
BENCH_PROGS := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))
TOOLS       := $(B)/bin/ckpt-save $(B)/bin/ckpt-info $(B)/bin/ckpt-run
KFEAT_LIB   := $(B)/tests/kfeat/libckpt.so

pic = $(patsubst %.c,$(B)/pic/%.o,$(1))
sta = $(patsubst %.c,$(B)/static/%.o,$(1))
obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

all: $(B)/libckpt.so $(B)/bin/ckpt-restart $(TOOLS) $(SAMPLES) $(E2E_PROGS) \
     $(B)/tests/unit-tests $(B)/tests/ckpt-edit $(B)/ckpt.pc $(B)/tests/slurm-lcg $(KFEAT_LIB)
.PHONY: check-kernel-full all check check-slurm check-kernel bench fuzz fuzz-build install uninstall deps clean demo faststart faststart-python FORCE

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFD_SAVE $(DEPFLAGS) -fPIC -fvisibility=hidden -c $< -o $@
$(B)/static/%.o: %.c $(B)/static/.cc | $(RST_HDRS)
	@mkdir -p $(dir $@)
	$(RESTART_CC) $(CFLAGS) -DFD_RESTORE $(RST_INC) $(DEPFLAGS) -c $< -o $@
$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# The shim and engine: what users LD_PRELOAD or link.
$(B)/libckpt.so: $(call pic,$(LIB_SRCS))
	$(CC) -shared -Wl,-soname,libckpt.so -Wl,-z,defs -Wl,-z,now -o $@ $^ -lurcu-bp -ldl
	@tools/check-private-libc.sh $@
# The test library: libckpt.so with ckpt_kfeat.c built -DCKPT_KFEAT_TEST,
# which honours CKPT_TEST_KFEAT_OFF (take kernel features away: the
# fallbacks of libckpt/ckpt_kfeat.h run on a kernel that has them).  Same
# soname: LD_PRELOAD of it stands in for libckpt.so in linked programs.
$(B)/pic-kfeat/libckpt/ckpt_kfeat.o: libckpt/ckpt_kfeat.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFD_SAVE -DCKPT_KFEAT_TEST $(DEPFLAGS) -fPIC -fvisibility=hidden -c $< -o $@
$(KFEAT_LIB): $(filter-out $(B)/pic/libckpt/ckpt_kfeat.o,$(call pic,$(LIB_SRCS))) \
	      $(B)/pic-kfeat/libckpt/ckpt_kfeat.o
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libckpt.so -Wl,-z,defs -Wl,-z,now -o $@ $^ -lurcu-bp -ldl
# libckpt's own copies of libc functions (so an application's interposed
# ones, ASan's memcpy, never run inside a checkpoint): gcc must not turn
# their loops back into calls to the very functions they implement.
$(B)/pic/libckpt/ckpt_libc.o: CFLAGS += -fno-tree-loop-distribute-patterns -fno-builtin

# The restorer runs after the restarter's own memory is gone: it must be
# position independent and reference nothing outside its own section.
RESTORER_CFLAGS := -O2 -fPIC -fno-stack-protector -fno-builtin -ffreestanding \
	-fno-jump-tables -mgeneral-regs-only -fno-asynchronous-unwind-tables \
	-fcf-protection=none -fno-exceptions -fno-tree-loop-distribute-patterns
$(B)/static/restart/restorer.o: restart/restorer.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -I. -Iinclude $(WARN) $(DEPFLAGS) $(RESTORER_CFLAGS) -c $< -o $@
	@tools/check-restorer.sh $@

# The restarter: static, so it depends on no library an image may map.
# Plain C and libc only (Snappy is decoded by libckpt/img_snappy_dec.c),
# so it is linked with musl where musl-gcc is installed (tools/deps.sh
# installs it): static glibc's start-up probes the CPU with cpuid, a VM
# exit each, about 0.4 ms of every restart on a VM, and musl's does
# nothing of the kind.  RESTART_CC=gcc builds it with glibc.  musl brings
# no kernel headers: $(B)/musl-include links Debian's.
$(B)/musl-include/.done: Makefile
	@mkdir -p $(dir $@)
	ln -sfn /usr/include/sodium $(dir $@)sodium
	ln -sfn /usr/include/sodium.h $(dir $@)sodium.h
	ln -sfn /usr/include/linux $(dir $@)linux
	ln -sfn /usr/include/asm-generic $(dir $@)asm-generic
	ln -sfn /usr/include/$(shell $(CC) -print-multiarch)/asm $(dir $@)asm
	@touch $@
# The objects are rebuilt when the restarter's compiler changes.
$(B)/static/.cc: FORCE
	@mkdir -p $(dir $@)
	@echo '$(RESTART_CC)' | cmp -s - $@ || echo '$(RESTART_CC)' > $@
FORCE:
# libsodium (image seals, libckpt/img_seal.c) is linked from Debian's
# static archive, built against glibc: restart/restart_compat.c gives musl
# the one glibc entry point it calls.
SODIUM_A := $(shell $(CC) -print-file-name=libsodium.a)
$(B)/bin/ckpt-restart: $(call sta,$(RST_SRCS)) $(B)/static/restart/restorer.o
	@mkdir -p $(dir $@)
	$(RESTART_CC) -static -o $@ $^ $(SODIUM_A)

# ckpt-save is static too, with the restarter's compiler: its round trip
# for a small process is a few ms, and the exec of a dynamic glibc
# program (the loader, libc and libsodium mapped and relocated) was
# ~0.45 ms of it; a static musl one starts in ~0.1 ms (docs/PERFORMANCE.md,
# issue #15).
$(B)/bin/ckpt-save: $(call sta,tools/ckpt_save.c tools/save_seal.c tools/progress.c libckpt/ctl_proto.c \
				  libckpt/img_seal.c libckpt/ckpt_tmpfile.c libckpt/ckpt_fmt.c \
				  restart/restart_compat.c)
	@mkdir -p $(dir $@)
	$(RESTART_CC) -static -o $@ $^ $(SODIUM_A)
# libunwind (remote unwinding only) for the backtraces (tools/info_bt.c).
$(B)/bin/ckpt-info: $(call obj,tools/ckpt_info.c $(wildcard tools/info_*.c) $(IMG_SRCS) \
		      kernel-assist/assist_module.c kernel-assist/assist_upstream.c)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lsodium -lunwind-x86_64
$(B)/bin/ckpt-run: $(call obj,tools/ckpt_run.c kernel-assist/assist_ns.c)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^

$(B)/samples/%: samples/%.c $(B)/libckpt.so include/ckpt.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -L$(B) -Wl,--push-state,--no-as-needed -lckpt -Wl,--pop-state -Wl,-rpath,'$$ORIGIN/..'
$(B)/tests/%: tests/e2e/progs/%.c $(B)/libckpt.so include/ckpt.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -o $@ $< -L$(B) -Wl,--push-state,--no-as-needed -lckpt -Wl,--pop-state -Wl,-rpath,'$$ORIGIN/..' -lm
# run.sh runs each test under it (a subreaper): plain, no libckpt.
$(B)/tests/reaper: tests/e2e/reaper.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<
# tests/e2e/static/: statically linked, so that no libckpt can be preloaded into them.
$(B)/tests/%: tests/e2e/static/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -static -o $@ $<
# sqlite_wal.c uses the real SQLite (tools/deps.sh installs libsqlite3-dev).
$(B)/tests/sqlite_wal: tests/e2e/progs/sqlite_wal.c $(B)/libckpt.so include/ckpt.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -o $@ $< -L$(B) -Wl,--push-state,--no-as-needed -lckpt -Wl,--pop-state -Wl,-rpath,'$$ORIGIN/..' -lsqlite3
# threads.c linked at a fixed address (0x400000), where ckpt-restart's own
# text is too (tests/e2e/t_aslr_off.sh).
$(B)/tests/threads-nopie: tests/e2e/progs/threads.c $(B)/libckpt.so include/ckpt.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -no-pie -o $@ $< -L$(B) -Wl,--push-state,--no-as-needed -lckpt -Wl,--pop-state -Wl,-rpath,'$$ORIGIN/..' -lm
# btstuck.c without unwind tables, with frame pointers: ckpt-info's
# backtraces must follow the frame-pointer chain (tests/e2e/t_info_bt.sh).
$(B)/tests/btstuck-fp: tests/e2e/progs/btstuck.c $(B)/libckpt.so include/ckpt.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-unwind-tables \
		-o $@ $< -L$(B) -Wl,--push-state,--no-as-needed -lckpt -Wl,--pop-state -Wl,-rpath,'$$ORIGIN/..'
# btstore.c exports its functions (-rdynamic): the checkpoint names frames
# from .dynsym (tests/e2e/t_info_btstore.sh); btstore-plain does not.
$(B)/tests/btstore: tests/e2e/progs/btstore.c $(B)/libckpt.so include/ckpt.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -rdynamic -o $@ $< -L$(B) -Wl,--push-state,--no-as-needed -lckpt -Wl,--pop-state -Wl,-rpath,'$$ORIGIN/..'
$(B)/tests/btstore-plain: tests/e2e/progs/btstore.c $(B)/libckpt.so include/ckpt.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -o $@ $< -L$(B) -Wl,--push-state,--no-as-needed -lckpt -Wl,--pop-state -Wl,-rpath,'$$ORIGIN/..'
# execprobe.c is NOT linked with libckpt: what reaches it is what the exec
# wrappers handed on (tests/e2e/t_exec.sh).  Its static twin is built with
# the restarter's compiler (musl where installed); where no static libc
# links, the test says so and skips that case.
$(B)/tests/execprobe: tests/e2e/progs/execprobe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -o $@ $<
$(B)/tests/execprobe-static: tests/e2e/progs/execprobe.c | $(RST_HDRS)
	@mkdir -p $(dir $@)
	$(RESTART_CC) $(CFLAGS) -O1 -DPROBE_STATIC -static -o $@ $< 2>/dev/null || \
		{ echo "note: no static libc to link $@ with; t_exec.sh skips that case"; rm -f $@; }
# The trust tests' image editor (tests/tools/ckpt_edit.c): a hostile owner's edits.
$(B)/tests/ckpt-edit: tests/tools/ckpt_edit.c libckpt/img_crc32c.c libckpt/img_format.h libckpt/img_format_files.h libckpt/img.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^)
$(B)/bench/%: tests/bench/%.c $(B)/libckpt.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -L$(B) -Wl,--push-state,--no-as-needed -lckpt -Wl,--pop-state -Wl,-rpath,'$$ORIGIN/..' -lm
# The sealed-restart benchmark seals a self-saved image (the image code and libsodium).
$(B)/bench/seal: tests/bench/seal.c $(IMG_SRCS) libckpt/img_format.h libckpt/img_format_files.h libckpt/img.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^) -lsodium
# The decoder benchmark links the codecs themselves (libckpt.so exports
# neither) and libsnappy, the decoder it is measured against.
$(B)/bench/snappy_dec: tests/bench/snappy_dec.c libckpt/img_snappy.c libckpt/img_snappy_dec.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lsnappy

# Unit tests link the sources they test directly, and libsnappy: the
# reference our Snappy encoder and decoder are tested against.
UNIT_LIB := $(IMG_SRCS) $(CTL_SRCS) $(wildcard wrappers/*.c) $(wildcard shim/*.c) $(ENGINE_SRCS) \
            tools/info_elf.c tools/info_diffcmp.c kernel-assist/assist_module.c
$(B)/tests/unit-tests: $(call obj,$(UNIT_SRCS)) $(call pic,$(UNIT_LIB))
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lcunit -lsnappy -lurcu-bp -ldl -lsodium

$(B)/ckpt.pc: ckpt.pc.in
	@mkdir -p $(dir $@)
	sed 's|@PREFIX@|$(PREFIX)|' $< > $@

check: all
	@bash tests/run-all.sh

# ckpt-slurm on a real Slurm started on this machine (root; Debian's
# slurmctld, slurmd, slurm-client and munge: tools/deps-slurm.sh).
$(B)/tests/slurm-lcg: tests/slurm/lcg.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<
check-slurm: all
	@bash tests/slurm/run.sh

# Debian's own kernel (6.1 on Debian 12) booted under qemu (TCG), the e2e
# tests that fit ~15 minutes and the kernel-assist module's tests run inside
# (tools/deps-kernel.sh installs qemu, the kernel and its headers;
# tests/kernel/run.sh says how; docs/TESTING.md).
check-kernel: all
	@bash tests/kernel/run.sh

# Every e2e test on Debian's kernel without the module, then the module's
# phase: about an hour under TCG on 2 cores (not in CI; docs/TESTING.md).
check-kernel-full: all
	@CKVM_PHASES="e2e module" CKVM_TIMEOUT=$${CKVM_TIMEOUT:-5400} \
		CKVM_TEST_TIMEOUT=$${CKVM_TEST_TIMEOUT:-1200} bash tests/kernel/run.sh tests/e2e/t_*.sh

bench: all $(BENCH_PROGS)
	@$(B)/tests/reaper bash tests/bench/run.sh

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
fuzz: $(FUZZ_BINS)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)
fuzz-build: $(FUZZ_BINS)
# FUZZ_LIBS: what a target links beyond the image code (set per target).
# fuzz_snappy compares our Snappy decoder with libsnappy's.
$(B)/fuzz/fuzz_snappy: FUZZ_LIBS := -lsnappy
# fz_image.c: the image targets' shared fix-up, hostile mutator and seeds.
$(B)/fuzz/fuzz_img: FUZZ_LIBS += tests/fuzz/fz_image.c
# fuzz_restart: ckpt-restart's --check path, in the fuzzer (its main renamed).
$(B)/fuzz/fuzz_restart: FUZZ_LIBS += tests/fuzz/fz_image.c $(filter-out restart/restorer.c,$(wildcard restart/*.c)) tools/progress.c \
	$(wildcard kernel-assist/*.c) restart/restorer.c -DFD_RESTORE -Dmain=rst_cli_main -lpthread
# fuzz_info: ckpt-info's command line, in the fuzzer (its main renamed).
$(B)/fuzz/fuzz_info: FUZZ_LIBS += tests/fuzz/fz_image.c tools/ckpt_info.c $(wildcard tools/info_*.c) \
	kernel-assist/assist_module.c kernel-assist/assist_upstream.c -Dmain=info_cli_main -lunwind-x86_64
# fuzz_elf: ckpt-info's ELF symbol reader, on any bytes.
$(B)/fuzz/fuzz_elf: FUZZ_LIBS += tools/info_elf.c
$(B)/fuzz/%: tests/fuzz/%.c $(IMG_SRCS) $(CTL_SRCS) tests/fuzz/fz_image.c tests/fuzz/fz_image.h
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -D_GNU_SOURCE -I. -Iinclude -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c,$<) $(IMG_SRCS) $(CTL_SRCS) $(FUZZ_LIBS) -lsodium

demo: all
	@bash samples/demo.sh

# Fast startup: cold start vs restart from a mappable snapshot, in C
# and (where Debian's python3 with numpy is installed) in Python.
faststart: all
	@bash samples/faststart.sh
	@echo
	@if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then bash samples/python/faststart.sh; \
	else echo "faststart-python: skipped (no /usr/bin/python3 with numpy: make deps)"; fi

faststart-python: all
	@bash samples/python/faststart.sh

# Man pages (docs/man, roff) go in uncompressed; the bash completion is one
# script, installed under the name of each command (bash-completion loads
# the file named after the command being completed).
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MAN_PAGES   := $(wildcard docs/man/*.[1-8])
COMMANDS    := ckpt-run ckpt-save ckpt-restart ckpt-info

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(B)/libckpt.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/bin/ckpt-restart $(TOOLS) samples/slurm/ckpt-slurm $(DESTDIR)$(PREFIX)/bin/
	install -m 644 include/ckpt.h $(DESTDIR)$(PREFIX)/include/
	sed 's|@PREFIX@|$(PREFIX)|' ckpt.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ckpt.pc
	for p in $(MAN_PAGES); do \
		install -d $(DESTDIR)$(MANDIR)/man$${p##*.} && \
		install -m 644 $$p $(DESTDIR)$(MANDIR)/man$${p##*.}/ || exit 1; \
	done
	install -d $(DESTDIR)$(BASHCOMPDIR)
	for c in $(COMMANDS); do \
		install -m 644 tools/completion/ckpt.bash $(DESTDIR)$(BASHCOMPDIR)/$$c || exit 1; \
	done
	install -d $(DESTDIR)$(PYTHONDIR)/ckpt
	install -m 644 python/ckpt/__init__.py python/ckpt/__main__.py $(DESTDIR)$(PYTHONDIR)/ckpt/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libckpt.so $(DESTDIR)$(PREFIX)/include/ckpt.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/ckpt.pc
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(COMMANDS) ckpt-slurm)
	rm -f $(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))
	rm -f $(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(COMMANDS))
	rm -rf $(DESTDIR)$(PYTHONDIR)/ckpt

deps:
	@bash tools/deps.sh

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
