#!/bin/bash
# mkinitramfs.sh KVER OUT.cpio.gz - the VM's initramfs: static busybox, the
# installed kernel KVER's modules the VM needs to reach the host's files
# (virtio-pci, 9p over virtio, overlay) with everything they depend on,
# loaded in dependency order by tests/kernel/init (copied as /init).
# The modules are found through KVER's modules.dep: nothing here names a
# kernel version or a module's path.
set -euo pipefail
kver=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
mods=/lib/modules/$kver
[ -f "$mods/modules.dep" ] || { echo "mkinitramfs: no $mods/modules.dep (is linux-image-$kver installed?)" >&2; exit 1; }
bb=$(command -v busybox || true)
[ -n "$bb" ] && file -L "$bb" 2>/dev/null | grep -q 'statically linked' || bb=/bin/busybox
file -L "$bb" | grep -q 'statically linked' || { echo "mkinitramfs: no static busybox (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot,lower,upper,mods}
cp "$bb" "$work/bin/busybox"
ln -s busybox "$work/bin/sh"

# Module closure, dependencies first (modules.dep: "path: dep dep ...",
# built-in ones are absent from it and need nothing).
declare -A done=()
order=()
path_of() { grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$mods/modules.dep" | head -1 | cut -d: -f1; }
add() {
	local p=$1 d
	[ -n "${done[$p]:-}" ] && return 0
	done[$p]=1
	for d in $(grep -E "^$p:" "$mods/modules.dep" | cut -d: -f2-); do add "$d"; done
	order+=("$p")
}
for m in virtio_pci 9pnet_virtio 9p overlay; do
	p=$(path_of "$m")
	if [ -z "$p" ]; then
		grep -qE "/$m\.ko" "$mods/modules.builtin" || { echo "mkinitramfs: module $m neither in modules.dep nor built in" >&2; exit 1; }
		continue
	fi
	add "$p"
done
: > "$work/mods/order"
for p in "${order[@]}"; do
	case $p in
	*.ko) cp "$mods/$p" "$work/mods/" ;;
	*.ko.xz) xz -dc "$mods/$p" > "$work/mods/$(basename "$p" .xz)" ;;
	*.ko.zst) zstd -qdc "$mods/$p" > "$work/mods/$(basename "$p" .zst)" ;;
	*.ko.gz) gzip -dc "$mods/$p" > "$work/mods/$(basename "$p" .gz)" ;;
	esac
	b=$(basename "$p"); echo "${b%%.ko*}.ko" >> "$work/mods/order"
done
cp "$here/init" "$work/init"
chmod 755 "$work/init"
(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
