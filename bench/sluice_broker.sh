# Sourced by the end-to-end bench scripts (compare.sh, compaction_produce.sh), after
# they set $root and $warm_mib: builds the binaries unless BUILD_DIR is given, names
# them ($sluiced, $sluice, $perf), makes a scratch dir $work (removed at exit, with
# any broker still running) and runs one sluiced at a time.
# shellcheck shell=bash disable=SC2034,SC2154
build="${BUILD_DIR:-$root/build/default}"
if [[ -z "${BUILD_DIR:-}" ]]; then
  cmake --preset default >/dev/null
  cmake --build --preset default --target sluiced sluice sluice-perf >&2
fi
sluiced="$build/broker/sluiced"
sluice="$build/tools/sluice"
perf="$build/tools/sluice-perf"

work="$(mktemp -d)"
broker_pid=""
cleanup() {
  if [[ -n "$broker_pid" ]]; then kill -9 "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Starts sluiced on $work/data-NAME with any further flags; sets $addr and $http.
# Not for a subshell: $broker_pid must survive.
start_broker() {  # NAME [sluiced flags...]
  local dir="$work/data-$1"
  shift
  rm -rf "$dir"
  "$sluiced" --data-dir "$dir" --listen 127.0.0.1:0 --http 127.0.0.1:0 "$@" 2> "$work/broker.log" &
  broker_pid=$!
  addr=""
  http=""
  for _ in $(seq 1 500); do
    read -r addr http < <(sed -n 's/.*broker started listen=\([0-9.:]*\) http=\([0-9.:]*\).*/\1 \2/p' \
      "$work/broker.log" | head -1) || true
    if [[ -n "$addr" ]]; then return 0; fi
    sleep 0.02
  done
  echo "bench: sluiced did not start: $(cat "$work/broker.log")" >&2
  return 1
}

stop_broker() {
  kill -TERM "$broker_pid" 2>/dev/null || true
  wait "$broker_pid" 2>/dev/null || true
  broker_pid=""
}

# This VM hands freed memory back to its host (bench/compare.sh says how that
# skews a run): before each system, write and delete a $warm_mib MiB file so it
# starts with that much host-backed free memory.
warm_memory() {
  if (( warm_mib > 0 )); then
    dd if=/dev/zero of="$work/warm" bs=1M count="$warm_mib" status=none
    rm -f "$work/warm"
  fi
}
