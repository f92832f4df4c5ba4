#!/usr/bin/env bash
# Verifies a built release by running it: checks dist/ against SHA256SUMS, unpacks Debian's
# 32-bit Node.js if needed, then runs test/dist.test.ts (each packaged iotad provisions, serves
# /healthz and renews against a real iota-server on its own architecture; .deb and install.sh).
#
# usage: scripts/verify-dist.sh [--build]     (--build: run npm run build first)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--build" ]; then npm run build; fi
[ -f dist/SHA256SUMS ] || { echo "verify-dist: dist/ is empty: run npm run build (or scripts/verify-dist.sh --build)" >&2; exit 2; }
(cd dist && sha256sum --check --strict --quiet SHA256SUMS) || { echo "verify-dist: dist/ does not match its SHA256SUMS" >&2; exit 1; }
echo "verify-dist: $(wc -l < dist/SHA256SUMS) artifacts match SHA256SUMS"
for tool in qemu-aarch64 qemu-arm dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "verify-dist: $tool is missing: apt-get install qemu-user libc6-arm64-cross dpkg" >&2; exit 2; }
done
[ -d /usr/aarch64-linux-gnu ] || { echo "verify-dist: /usr/aarch64-linux-gnu is missing: apt-get install libc6-arm64-cross" >&2; exit 2; }
scripts/foreign-node.sh i386 armhf armel
exec node_modules/.bin/bun test test/dist.test.ts
