#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and shows Sluice's storage at work.
# Until the broker daemon lands, this writes a demo partition log under ./demo-data
# and prints it with sluice-dump, the operator's view of a log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target sluice-dump sluice-demo-log

data="${SLUICE_DEMO_DIR:-$root/demo-data/demo-0}"
rm -rf "$data"
build/default/tools/sluice-demo-log "$data"
build/default/tools/sluice-dump --records "$data"
