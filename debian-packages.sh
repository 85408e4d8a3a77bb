#!/bin/sh
# The Debian packages weidang needs besides Python: Chromium for browser capture, and CJK fonts
# so Chinese renders in screenshots and PDFs instead of empty boxes; libgcrypt for its faster SM3
# (warc_store/sm3.py; every Debian has it, systemd needs it). Does nothing when they are
# installed already; otherwise installs them (as root, or through sudo).
set -e
PACKAGES="chromium fonts-noto-cjk libgcrypt20"
installed=$(dpkg-query -W -f='${Status}\n' $PACKAGES 2>/dev/null | grep -c "install ok installed" || true)
[ "$installed" -eq 3 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES
