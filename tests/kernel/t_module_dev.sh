#!/bin/bash
# With ckpt_assist.ko loaded (tests/kernel/module.list): the module made
# /dev/ckpt-assist, a character device every user may open (each ioctl
# checks its own policy: kernel-assist/module/), and /proc/modules lists it.
# Run as root and as an unprivileged user (module.list: as=nobody).
. "$(dirname "$0")/../e2e/lib.sh"
grep -q '^ckpt_assist ' /proc/modules || fail "ckpt_assist is not in /proc/modules"
[ -c /dev/ckpt-assist ] || fail "no character device /dev/ckpt-assist: $(ls -l /dev/ckpt-assist 2>&1)"
exec 3<> /dev/ckpt-assist || fail "uid $(id -u) cannot open /dev/ckpt-assist: $(ls -l /dev/ckpt-assist)"
exec 3>&-
echo "ok: /dev/ckpt-assist opened as uid $(id -u)"
