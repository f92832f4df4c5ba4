#!/usr/bin/env bash
# Unpacks Debian's own Node.js for 32-bit devices (i386, armhf, armel) into a folder, so the iotad
# Node bundle is tested on the runtime those devices really run (Debian 12: Node 18). Only apt is used.
#
# usage: scripts/foreign-node.sh [ARCH...]      (default: i386 armhf armel; needs root for dpkg/apt)
# result: node_modules/.cache/foreign-node/<arch>/ holding usr/bin/node and its libraries;
#         run it in a chroot of <dir> (i386), with  qemu-arm -L <dir> (armhf)  or
#         qemu-arm -cpu arm1176 -L <dir> (armel: built for ARMv6, it dies with SIGILL on ARMv5)
set -euo pipefail
cd "$(dirname "$0")/.."
root="${IOTA_FOREIGN_NODE_DIR:-$PWD/node_modules/.cache/foreign-node}"
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(i386 armhf armel)

die() { echo "foreign-node: $*" >&2; exit 1; }
command -v apt-get >/dev/null || die "apt-get is needed (Debian/Ubuntu host)"
[ "$(id -u)" -eq 0 ] || die "run as root: it adds foreign architectures to dpkg and runs apt-get update"

need_update=0
for arch in "${arches[@]}"; do
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    dpkg --add-architecture "$arch"
    need_update=1
  fi
done
if [ "$need_update" -eq 1 ] || [ -n "${FOREIGN_NODE_UPDATE:-}" ]; then
  # Hint: a mirror can be mid-sync for one architecture's index; retry rather than fail.
  # A failed index (often the security suite) still leaves the main one, which is enough.
  for attempt in 1 2 3; do
    apt-get update -q >/dev/null && break
    [ "$attempt" -lt 3 ] || { echo "foreign-node: apt-get update still reports errors; going on with the indexes it has" >&2; break; }
    echo "foreign-node: apt-get update reported errors (attempt $attempt); retrying" >&2
    sleep $((attempt * 5))
  done
fi

for arch in "${arches[@]}"; do
  dest="$root/$arch"
  if [ -x "$dest/usr/bin/node" ] && [ -f "$dest/.complete" ]; then
    echo "foreign-node: $arch already unpacked in $dest"
    continue
  fi
  rm -rf "$dest" && mkdir -p "$dest/.debs"
  # Every package nodejs:<arch> needs at run time, resolved by apt itself (no recommends: npm etc.).
  # dash and coreutils let the iotad launcher script run inside the unpacked tree (chroot).
  # Hint: the recursion also lists host packages (dpkg, perl...) without a suffix; keep the
  # <arch> ones, plus Debian's node-* packages (Architecture: all) that hold the builtins its
  # Node loads from /usr/share/nodejs (undici for fetch, acorn, cjs-module-lexer).
  mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances --no-pre-depends "nodejs:$arch" "dash:$arch" "coreutils:$arch" \
    | grep -E "^([a-z0-9][^ ]*:$arch|node-[a-z0-9.+-]+|ca-certificates)\$" | sort -u)
  [ ${#pkgs[@]} -gt 3 ] || die "apt found no dependencies for nodejs:$arch (is the $arch index there?)"
  (cd "$dest/.debs" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}" >/dev/null) || die "apt-get download failed for $arch"
  for deb in "$dest"/.debs/*.deb; do dpkg -x "$deb" "$dest"; done
  rm -rf "$dest/.debs"
  [ -x "$dest/usr/bin/node" ] || die "no usr/bin/node in the $arch packages"
  # The tree is also run as a chroot (i386, natively): give it the device nodes a system has.
  mkdir -p "$dest/dev"
  for node in "null 1 3" "zero 1 5" "random 1 8" "urandom 1 9"; do
    set -- $node
    [ -e "$dest/dev/$1" ] || mknod -m 0666 "$dest/dev/$1" c "$2" "$3"
  done
  touch "$dest/.complete"
  echo "foreign-node: $arch Node.js $(ls "$dest"/usr/share/doc | grep -c .) packages unpacked in $dest"
done
