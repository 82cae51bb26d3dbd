#!/usr/bin/env bash
# The tree's conventions, checked: every source formatted as .clang-format says,
# then clang-tidy with .clang-tidy's checks (naming, bugprone, performance); any
# finding fails. Needs a configured build for compile_commands.json
# (default: build/default).
#   scripts/tidy.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/default}"
[[ -f "$build/compile_commands.json" ]] || { echo "tidy: no $build/compile_commands.json; configure first" >&2; exit 2; }
cd "$root"
mapfile -t sources < <(git ls-files '*.cc' '*.h')
if ! clang-format --dry-run --Werror "${sources[@]}"; then
  echo "tidy: formatting differs from .clang-format (clang-format -i FILE fixes it)" >&2
  exit 1
fi
# Clang 14 does not detect the C++20 coroutines GCC builds asio with; say so.
run-clang-tidy -p "$build" -j "$(nproc)" -quiet \
  -extra-arg=-DASIO_HAS_CO_AWAIT=1 -extra-arg=-DASIO_HAS_STD_COROUTINE=1 \
  "$root/(common|storage|broker|client|consumer|proto|tools|tests|bench)/" > "$build/tidy.log" 2>&1 || true
sed -i 's/\x1b\[[0-9;]*m//g' "$build/tidy.log"
# Findings in our files only: system headers (gtest's) have their own.
findings=$(grep -E "^$root/[^:]+:[0-9]+:[0-9]+: (warning|error):" "$build/tidy.log" | sort -u || true)
if [[ -n "$findings" ]]; then
  echo "$findings" >&2
  echo "tidy: $(echo "$findings" | wc -l) findings (full log: $build/tidy.log)" >&2
  exit 1
fi
files=$(grep -c "^clang-tidy-14 \|^clang-tidy " "$build/tidy.log" || true)
if [[ "$files" -eq 0 ]]; then
  echo "tidy: clang-tidy checked no file: $(head -5 "$build/tidy.log")" >&2
  exit 1
fi
echo "tidy: clean ($files files)"
