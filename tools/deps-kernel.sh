#!/bin/sh
# Installs the Debian packages `make check-kernel` needs (missing ones
# only): qemu to boot a VM without KVM (TCG), Debian's own kernel and its
# headers (the kernel the tests boot, the headers the kernel-assist module
# builds against; on Debian 12 both are 6.1), a static busybox and cpio
# for the VM's initramfs, kmod for insmod/rmmod/modinfo, xz-utils to
# extract the uncompressed vmlinux (it boots in half the time under TCG)
# and util-linux for setpriv (tests run as an unprivileged user).  Not in
# tools/deps.sh: only that test needs them.  Recommends are left out
# (qemu-system-x86 would pull in a desktop's worth).
set -e
pkgs="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod xz-utils util-linux"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
