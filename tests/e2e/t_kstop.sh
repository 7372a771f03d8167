#!/bin/bash
# t_kstop.sh - the kernel-assist module's THREAD_STOP and THREAD_RESUME
# without libckpt (tests/e2e/progs/kstop.c): threads in a read, a futex
# wait, a sleep and a busy loop that block every signal are stopped with
# the registers a SA_RESTART handler would see, stay stopped, go on after
# a resume or the close of the fd; every bad input gets its error; a
# process ends cleanly with a thread stopped.  Then the kernel's log has
# no BUG, Oops or WARNING.  Skipped without /dev/ckpt-assist (the 6.1 VM
# runs it with the module: tests/kernel/module.list).
. "$(dirname "$0")/lib.sh"
[ -c /dev/ckpt-assist ] || skip "no /dev/ckpt-assist (the kernel-assist module is not loaded)"
before=$(dmesg 2>/dev/null | grep -cE "BUG|Oops|WARNING|general protection")
out=$("$PROGS/kstop" 2>&1)
rc=$?
[ $rc -eq 77 ] && skip "$(echo "$out" | grep SKIP:)"
[ $rc -eq 0 ] && echo "$out" | grep -q "^kstop: all passed" || fail "kstop rc $rc: $(echo "$out" | tail -3)"
after=$(dmesg 2>/dev/null | grep -cE "BUG|Oops|WARNING|general protection")
[ "$after" = "$before" ] || fail "the kernel complained: $(dmesg | grep -E "BUG|Oops|WARNING|general protection" | tail -3)"
echo "$(echo "$out" | tail -1)"
