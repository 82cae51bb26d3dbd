#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and starts the broker with its
# embedded defaults: data under ./data, native protocol on 127.0.0.1:7400,
# /metrics and /healthz on 127.0.0.1:7401. Extra arguments go to sluiced
# (`scripts/run.sh --help` lists every setting). Ctrl-C stops it cleanly.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target sluiced sluice
exec build/default/broker/sluiced "$@"
