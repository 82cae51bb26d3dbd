#!/usr/bin/env bash
# Builds and runs every test: the release build, then the whole suite again under
# ASan + UBSan, then a bounded fuzzing run of every decoder, then clang-tidy.
#   scripts/test.sh            # everything (what CI runs)
#   SLUICE_QUICK=1 scripts/test.sh   # release build and tests only
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh

step() { printf '\n=== %s (%d s in) ===\n' "$*" "$SECONDS"; }
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
# Runs ctest, keeping its output to count the results at the end.
run_ctest() {
  local name=$1; shift
  ctest "$@" 2>&1 | tee "$logs/$name.log"
  return "${PIPESTATUS[0]}"
}
# "100% tests passed, 0 tests failed out of 123" -> "123 0"
counts() { sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2 \1/p' "$logs/$1.log"; }

step "release build"
cmake --preset default >/dev/null
cmake --build --preset default
step "release tests"
run_ctest release --preset default

if [[ "${SLUICE_QUICK:-0}" == "1" ]]; then exit 0; fi

step "ASan + UBSan build"
cmake --preset asan >/dev/null
cmake --build --preset asan
step "ASan + UBSan tests"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SLUICE_MODEL_RUNS=4 run_ctest asan --preset asan

step "fuzzing"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" scripts/fuzz.sh

step "clang-format and clang-tidy"
scripts/tidy.sh build/default

read -r total_r failed_r < <(counts release)
read -r total_a failed_a < <(counts asan)
step "summary: release ${total_r} tests, asan ${total_a} tests, fuzzing and clang-tidy passed"
echo "$(( total_r + total_a - failed_r - failed_a )) passed, $(( failed_r + failed_a )) failed"
