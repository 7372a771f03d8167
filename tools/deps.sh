#!/bin/sh
# Installs the Debian packages libckpt builds and tests with (missing ones only).
set -e
pkgs="build-essential clang libclang-rt-dev libsnappy-dev liburcu-dev libunwind-dev libffi-dev libcunit1-dev libsodium-dev musl-tools libsqlite3-dev sqlite3 python3 curl redis-server redis-tools socat python3-numpy"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
