#!/usr/bin/env bash
# Produce with the log cleaner idle and with it cleaning the topic all along, in
# one run, alternating round by round: 1 KiB records over $KEYS keys into a
# compacted topic (durability=none, segment.bytes=$SEGMENT_BYTES so segments close
# and become cleanable while the producer runs).
#   idle:     --log-cleaner-backoff-ms 3600000 (the cleaner never looks);
#   cleaning: --log-cleaner-backoff-ms 100 and min.cleanable.dirty.ratio=0.01, so a
#             pass starts as soon as a segment closes;
#   throttled: the same, with --log-cleaner-io-max-bytes-per-second $THROTTLE (50 MB/s).
# Each run measures throughput (unpaced, acks=1, 256 KiB batches) and then delivery
# latency at a fixed rate (acks=all, $LATENCY_RATE records/s for $LATENCY_SECONDS s)
# on a second compacted topic, and reads the cleaner's passes and bytes from /metrics
# (a "cleaning" run with no pass would measure nothing). Memory is warmed before every
# run as bench/compare.sh does (a $WARM_MIB MiB file written and deleted).
#   bench/compaction_produce.sh                  # 3 rounds, 300,000 records
#   ROUNDS=5 RECORDS=400000 bench/compaction_produce.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-3}"
records="${RECORDS:-300000}"
keys="${KEYS:-10000}"
segment_bytes="${SEGMENT_BYTES:-8388608}"
latency_rate="${LATENCY_RATE:-20000}"
latency_seconds="${LATENCY_SECONDS:-10}"
warm_mib="${WARM_MIB:-2048}"
throttle="${THROTTLE:-50000000}"
# shellcheck source=bench/sluice_broker.sh
source "$root/bench/sluice_broker.sh"

metric() {  # name: its value from /metrics
  local host="${http%:*}" port="${http##*:}"
  exec 3<>"/dev/tcp/$host/$port"
  printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >&3
  sed -n "s/^$1 //p" <&3 | head -1
  exec 3<&-
}

run() {  # mode
  local flags=(--log-cleaner-backoff-ms 3600000)
  [[ "$1" == cleaning ]] && flags=(--log-cleaner-backoff-ms 100)
  [[ "$1" == throttled ]] && flags=(--log-cleaner-backoff-ms 100 --log-cleaner-io-max-bytes-per-second "$throttle")
  warm_memory
  start_broker run "${flags[@]}"
  for topic in table lat; do
    "$sluice" --brokers "$addr" topic create "$topic" --config cleanup.policy=compact \
      --config durability=none --config segment.bytes="$segment_bytes" \
      --config min.cleanable.dirty.ratio=0.01 >/dev/null
  done
  local t l
  t=$("$perf" --brokers "$addr" produce --topic table --records "$records" --record-size 1024 --keys "$keys" \
        --acks 1 --batch-bytes 262144 --linger-ms 5 --json)
  l=$("$perf" --brokers "$addr" produce --topic lat --seconds "$latency_seconds" --rate "$latency_rate" \
        --record-size 1024 --keys "$keys" --acks all --linger-ms 1 --batch-bytes 65536 --json)
  local passes bytes_read
  passes=$(metric sluice_log_cleaner_passes_total)
  bytes_read=$(metric sluice_log_cleaner_bytes_read_total)
  stop_broker
  python3 - "$1" "$t" "$l" "$passes" "$bytes_read" <<'PY'
import json, sys
mode, t, l, passes, read = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
print(json.dumps({"mode": mode, "produce_mb_per_sec": t["mb_per_sec"], "produce_p99_ms": t.get("p99"),
                  "paced_p50_ms": l.get("p50"), "paced_p99_ms": l.get("p99"), "paced_p999_ms": l.get("p999"),
                  "paced_errors": l["errors"], "cleaner_passes": int(passes or 0),
                  "cleaner_mb_read": round(int(read or 0) / 1e6, 1)}))
PY
}

results=()
for round in $(seq 1 "$rounds"); do
  order=(idle cleaning throttled)
  (( round % 3 == 2 )) && order=(cleaning throttled idle)
  (( round % 3 == 0 )) && order=(throttled idle cleaning)
  for mode in "${order[@]}"; do
    line=$(run "$mode")
    echo "$line" >&2
    results+=("$line")
  done
done
printf '%s\n' "${results[@]}" > "$work/results.jsonl"
python3 - "$work/results.jsonl" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| cleaner | produce MB/s (median) | unpaced p99 ms | paced p50 / p99 / p99.9 ms | cleaner passes, MB read (median) |")
print("|---|---:|---:|---:|---:|")
for mode in ("idle", "cleaning", "throttled"):
    r = [x for x in rows if x["mode"] == mode]
    med = lambda k: statistics.median(x[k] for x in r)
    print(f"| {mode} | {med('produce_mb_per_sec'):.0f} | {med('produce_p99_ms'):.1f} | "
          f"{med('paced_p50_ms'):.2f} / {med('paced_p99_ms'):.2f} / {med('paced_p999_ms'):.2f} | "
          f"{med('cleaner_passes'):.0f}, {med('cleaner_mb_read'):.0f} |")
PY
