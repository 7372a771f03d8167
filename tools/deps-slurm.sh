#!/bin/sh
# Installs the Debian packages `make check-slurm` needs (missing ones only):
# Slurm's controller, node daemon and commands, and munge, its
# authentication.  Not in tools/deps.sh: only that test needs them, and the
# node and controller daemons are nothing a build wants.  Recommends are
# left out (slurm-wlm pulls in every plugin: 40-odd packages).
set -e
pkgs="slurmctld slurmd slurm-client munge"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
