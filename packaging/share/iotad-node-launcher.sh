#!/bin/sh
# iotad for devices without a Bun runtime (32-bit x86 and ARM): runs the single-file bundle on the
# device's Node.js (>= 18). The bundle sits at ../lib/iotad/iotad.mjs from this script.
here=$(dirname "$(readlink -f "$0")")
bundle="$here/../lib/iotad/iotad.mjs"
node="${IOTAD_NODE:-node}"
command -v "$node" >/dev/null 2>&1 || { echo "iotad: Node.js >= 18 is needed (apt install nodejs), or set IOTAD_NODE" >&2; exit 1; }
# --no-deprecation: mqtt.js calls url.parse(), whose warning must not fill the device log.
# (BUN_GC_TIMER_DISABLE, set by the service files for the Bun executable, means nothing to Node.js.)
exec "$node" --no-deprecation "$bundle" "$@"
