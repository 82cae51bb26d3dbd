#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset "fuzz": clang, ASan + UBSan, libraries with
# -fsanitize=fuzzer-no-link; only the target sluice_fuzzers and what it links) and runs
# each <name>_fuzz binary for a bounded time on a copy of tests/fuzz/corpus/<name>/.
# Exits non-zero if any target finds a crash, UB, leak, timeout or out-of-memory; the
# reproducer and the log are kept under build/fuzz/runs/.
#
#   scripts/fuzz.sh                       # 60 s of fuzzing in total, split over the targets, one per core at a time
#   FUZZ_SECONDS=600 scripts/fuzz.sh      # longer run
#   FUZZ_ARGS="-max_len=65536" scripts/fuzz.sh   # extra libFuzzer flags
#   build/fuzz/tests/fuzz/record_batch_fuzz <crash-file>   # replay a reproducer
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

total_seconds="${FUZZ_SECONDS:-60}"
if ! [[ "$total_seconds" =~ ^[0-9]+$ ]] || (( total_seconds < 1 )); then
  echo "fuzz: FAIL: FUZZ_SECONDS must be a positive integer, got '$total_seconds'" >&2
  exit 2
fi
read -r -a extra_args <<< "${FUZZ_ARGS:-}"

# Only the fuzz targets and what they link: the rest of the tree need not build under clang here.
if ! cmake --preset fuzz; then
  echo "fuzz: FAIL: cmake --preset fuzz did not configure" >&2
  exit 2
fi
if ! cmake --build --preset fuzz --target sluice_fuzzers; then
  echo "fuzz: FAIL: building the fuzz targets failed" >&2
  exit 2
fi

fuzz_bin_dir="build/fuzz/tests/fuzz"
mapfile -t targets < <(find "$fuzz_bin_dir" -maxdepth 1 -type f -name '*_fuzz' -perm -u+x | sort)
if (( ${#targets[@]} == 0 )); then
  echo "fuzz: FAIL: no *_fuzz binaries in $fuzz_bin_dir" >&2
  exit 2
fi
per_target=$(( total_seconds / ${#targets[@]} ))
(( per_target >= 1 )) || per_target=1

run_dir="build/fuzz/runs/$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$run_dir"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One libFuzzer process per core at a time (each is single-threaded); results are
# collected once every target ran.
run_target() {
  local bin=$1 name corpus_name work rc=0
  name="$(basename "$bin")"
  corpus_name="${name%_fuzz}"
  work="$run_dir/$name"
  mkdir -p "$work/corpus" "$work/artifacts"
  if [[ -d "tests/fuzz/corpus/$corpus_name" ]]; then
    cp -R "tests/fuzz/corpus/$corpus_name/." "$work/corpus/"
  fi
  echo "fuzz: running $name for ${per_target}s (log: $work/fuzz.log)"
  "$bin" -max_total_time="$per_target" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "${extra_args[@]}" "$work/corpus" > "$work/fuzz.log" 2>&1 || rc=$?
  echo "$rc" > "$work/exit_code"
}
parallel=$(nproc)
for bin in "${targets[@]}"; do
  while (( $(jobs -rp | wc -l) >= parallel )); do wait -n || true; done
  run_target "$bin" &
done
wait

failed=()
summary=()
total_execs=0
for bin in "${targets[@]}"; do
  name="$(basename "$bin")"
  work="$run_dir/$name"
  rc="$(cat "$work/exit_code" 2>/dev/null || echo 127)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$work/fuzz.log" | tail -n 1)"
  execs="${execs:-0}"
  total_execs=$(( total_execs + execs ))
  corpus_size="$(find "$work/corpus" -type f | wc -l)"
  mapfile -t artifacts < <(find "$work/artifacts" -type f | sort)
  if (( rc != 0 || ${#artifacts[@]} > 0 )); then
    failed+=("$name")
    summary+=("$name: FAIL (exit $rc, $execs execs)")
    echo "fuzz: $name FAILED (exit $rc). Last lines of $work/fuzz.log:" >&2
    tail -n 40 "$work/fuzz.log" >&2
    for a in "${artifacts[@]}"; do echo "fuzz: reproducer: $a (replay: $bin $a)" >&2; done
  else
    summary+=("$name: ok ($execs execs, corpus $corpus_size)")
  fi
done

for line in "${summary[@]}"; do echo "fuzz:   $line"; done
if (( ${#failed[@]} > 0 )); then
  echo "fuzz: FAIL: ${#failed[@]} of ${#targets[@]} target(s) crashed: ${failed[*]}; $total_execs execs in ${per_target}s per target; artifacts in $run_dir"
  exit 1
fi
echo "fuzz: PASS: ${#targets[@]} target(s), $total_execs execs, ${per_target}s per target, no crashes (run dir $run_dir)"
