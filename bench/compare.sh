#!/usr/bin/env bash
# End-to-end comparison in one run, interleaved round by round on this machine:
#   Sluice (sluiced + sluice-perf), Redis Streams and NATS JetStream (../shared/peers),
#   1 KiB records, one producer, then read back; plus Sluice's produce latency at a fixed
#   rate with acks=all on a durability=fsync topic, and the loopback limit (iperf-like
#   memcpy over a TCP socket pair is not available, so we report sluice consume vs it).
#
#   bench/compare.sh                      # 3 rounds, 200,000 records
#   ROUNDS=5 RECORDS=400000 bench/compare.sh
#   BUILD_DIR=build/default PEERS=../shared/peers bench/compare.sh
#   WARM_MIB=0 bench/compare.sh           # no memory warm-up before each system (below)
# Prints a Markdown table; raw JSON lines go to $OUT (default build/compare-<time>.jsonl).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-3}"
records="${RECORDS:-200000}"
size="${RECORD_SIZE:-1024}"
peers="${PEERS:-$root/../shared/peers}"
out="${OUT:-$root/build/compare-$(date +%Y%m%d-%H%M%S).jsonl}"
latency_rate="${LATENCY_RATE:-20000}"
latency_seconds="${LATENCY_SECONDS:-10}"
max_steal="${MAX_STEAL_PCT:-5}"
warm_mib="${WARM_MIB:-2048}"

# shellcheck source=bench/sluice_broker.sh
source "$root/bench/sluice_broker.sh"
mkdir -p "$(dirname "$out")"
: > "$out"

# One round of Sluice: produce then consume, durability=none (no fsync per ack, like
# the peers), acks=1, on a fresh broker. $2 is the producer mode:
#   idempotent:  Sluice's default; up to 5 batches of the partition in flight, and
#                order (and no duplicates) kept through retries by sequence numbers;
#   ordered:     idempotence off, one request per partition in flight (the default
#                before idempotence), order kept through retries;
#   5-in-flight: idempotence off, up to 5 requests of the partition in flight, as
#                Kafka's producer with acks=1 and idempotence off: order holds unless
#                a request is retried after an error (none happen in this benchmark).
run_sluice() {
  start_broker "$1"
  "$sluice" --brokers "$addr" topic create perf --partitions 1 --config durability=none >/dev/null
  local p c mode flags
  case "$2" in
    idempotent) flags=(--idempotence true) mode="none-acks1-idempotent" ;;
    ordered) flags=(--idempotence false --preserve-order true) mode="none-acks1-ordered" ;;
    5-in-flight) flags=(--idempotence false --preserve-order false) mode="none-acks1-5-in-flight" ;;
  esac
  p=$("$perf" --brokers "$addr" produce --topic perf --records "$records" --record-size "$size" \
        --acks 1 --batch-bytes 262144 --linger-ms 5 "${flags[@]}" --json)
  c=$("$perf" --brokers "$addr" consume --topic perf --records "$records" --json)
  stop_broker
  # Free the round's page cache, as the peers free their memory when they exit:
  # otherwise every round writes into memory the VM has not touched yet, which is
  # slower here (bench/RESULTS.md) and makes later rounds unlike earlier ones.
  rm -rf "$work/data-$1"
  python3 - "$p" "$c" "$mode" <<'PY'
import json, sys
p, c = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"peer": "sluice", "mode": sys.argv[3], "record_size": p["record_size"],
                  "records": p["records"], "produce_records_per_sec": p["records_per_sec"],
                  "produce_mb_per_sec": p["mb_per_sec"], "consume_records_per_sec": c["records_per_sec"],
                  "consume_mb_per_sec": c["mb_per_sec"], "produce_p99_ms": p.get("p99")}))
PY
}

run_latency() {
  start_broker latency
  "$sluice" --brokers "$addr" topic create lat --partitions 1 --config durability=fsync >/dev/null
  local l
  l=$("$perf" --brokers "$addr" produce --topic lat --seconds "$latency_seconds" --rate "$latency_rate" \
        --record-size "$size" --acks all --linger-ms 1 --batch-bytes 65536 --json)
  stop_broker
  echo "{\"peer\":\"sluice\",\"mode\":\"latency-fsync-acks-all\",\"rate\":$latency_rate,\"result\":$l}"
}

# A round during which the hypervisor took more than $max_steal % of the CPU is run
# again, at most twice, as ../shared/peers/run-all.sh does: Sluice needs both vCPUs
# at once (client and broker), so a stolen slice hits it harder than a one-thread
# peer and the ratio would measure the neighbours. The table says how often.
# This VM reports freed memory to the host at once (virtio-balloon free page
# reporting, /sys/module/page_reporting: min_free_ms=0; one round hands back about
# 460 MiB), so whatever runs first after a pause writes into pages the host must
# map again. A fixed cycle, even rotated, gives every system the same predecessor
# in every round (the one after NATS, which frees the most, paid for it in every
# round of the 07:31 run), so the rounds follow a Williams design (below): over
# ten rounds each system runs in every position and after every other system.
# Free memory on this VM is handed back to the host as soon as it is freed in 2 MiB
# blocks (free page reporting, /sys/module/page_reporting: min_free_ms=0, order 9),
# and touching it again costs a host fault per page: writing 1.5 GiB into such
# memory took 4.7 s of system time, against about 1 s into memory freed a moment
# ago. Which kind a system gets depends on what ran before it (Redis's heap is
# freed in 2 MiB blocks and reported, 184 MiB in one run; a deleted file's page
# cache was not), which made a Sluice run after a peer half as fast as one after
# Sluice (bench/RESULTS.md). So before every system the script writes and deletes a
# $warm_mib MiB file (warm_memory, bench/sluice_broker.sh): each system starts with that much host-backed free memory,
# as on a machine that has been running for a while.
systems=(sluice-idempotent sluice-ordered sluice-5-in-flight redis-streams nats-jetstream)
run_system() {  # name round
  case "$1" in
    sluice-idempotent) run_sluice "$2" idempotent ;;
    sluice-ordered) run_sluice "$2" ordered ;;
    sluice-5-in-flight) run_sluice "$2" 5-in-flight ;;
    redis-streams | nats-jetstream)
      if [[ -x "$peers/$1.sh" ]]; then
        "$peers/$1.sh" --record-size "$size" --records "$records" --repeat 1 || echo "compare: $1 failed" >&2
      fi
      ;;
  esac
}
cpu_ticks() { awk '/^cpu /{t=0; for (i=2; i<=NF; i++) t+=$i; print t, $9}' /proc/stat; }
for round in $(seq 1 "$rounds"); do
  for attempt in 1 2 3; do
    echo "compare: round $round/$rounds (attempt $attempt)" >&2
    read -r t0 s0 < <(cpu_ticks)
    : > "$work/round.jsonl"
    mapfile -t order < <(python3 - "$round" "${systems[@]}" <<'PY'
import sys
# Williams design: round r runs row (r-1) % 10 of a Latin square, rows 5-9 reversed,
# so over 10 rounds every system runs in every position and after every other one.
r, s = int(sys.argv[1]) - 1, sys.argv[2:]
n, k = len(s), (int(sys.argv[1]) - 1) % (2 * len(s))
base = [0] + [((i + 1) // 2 if i % 2 else n - i // 2) % n for i in range(1, n)]
row = [s[(x + k) % n] for x in base]
print("\n".join(reversed(row) if k >= n else row))
PY
)
    echo "compare: round $round order: ${order[*]}" >&2
    for system in "${order[@]}"; do
      warm_memory
      run_system "$system" "$round" >> "$work/round.jsonl"
    done
    read -r t1 s1 < <(cpu_ticks)
    tenths=$(( 1000 * (s1 - s0) / (t1 - t0 > 0 ? t1 - t0 : 1) ))
    pct="$(( tenths / 10 )).$(( tenths % 10 ))"
    echo "compare: round $round steal ${pct}%" >&2
    if (( tenths <= max_steal * 10 || attempt == 3 )); then
      echo "{\"round\":$round,\"attempts\":$attempt,\"steal_pct\":$pct}" >> "$out"
      cat "$work/round.jsonl" >> "$out"
      break
    fi
  done
done
# The throughput rounds leave hundreds of MB of dirty pages behind (durability none,
# NATS's files); their writeback would land in the fsync latency run. Start it from
# a clean disk, as a broker in steady state would be.
rm -rf "$work"/data-*
sync
run_latency >> "$out"

python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    if "peer" not in r or r.get("mode", "").startswith("latency"):
        continue
    by.setdefault((r["peer"], r["mode"]), []).append(r)
med = lambda rs, k: statistics.median(r[k] for r in rs)
print(f"| system | mode | produce rec/s | produce MB/s | consume rec/s | consume MB/s | rounds |")
print("|---|---|---:|---:|---:|---:|---:|")
base = {}
for (peer, mode), rs in by.items():
    vals = [med(rs, k) for k in ("produce_records_per_sec", "produce_mb_per_sec", "consume_records_per_sec", "consume_mb_per_sec")]
    base[(peer, mode)] = vals
    print(f"| {peer} | {mode} | {vals[0]:,.0f} | {vals[1]:,.1f} | {vals[2]:,.0f} | {vals[3]:,.1f} | {len(rs)} |")
# Ratios within each round: both sides saw the same minute of this shared machine.
round_rows, current = {}, None
for r in rows:
    if "round" in r:
        current = r["round"]
        round_rows[current] = {"meta": r}
    elif current is not None and "peer" in r and not r.get("mode", "").startswith("latency"):
        round_rows[current][(r["peer"], r["mode"])] = r
ours = [k for k in base if k[0] == "sluice"]
peers = [k for k in base if k[0] != "sluice"]
for peer in peers:
    for mine in ours:
        s, vals = base[mine], base[peer]
        print(f"\nSluice ({mine[1]}) / {peer[0]}: produce {s[0]/vals[0]:.2f}x, consume {s[2]/vals[2]:.2f}x (medians)")
        ratios = [(n, rr[mine]["produce_records_per_sec"] / rr[peer]["produce_records_per_sec"],
                   rr[mine]["consume_records_per_sec"] / rr[peer]["consume_records_per_sec"], rr["meta"])
                  for n, rr in sorted(round_rows.items()) if mine in rr and peer in rr]
        if ratios:
            print("  per round (produce / consume): " + ", ".join(
                f"{n}: {p:.2f}x / {c:.2f}x (steal {m['steal_pct']}%, attempt {m['attempts']})" for n, p, c, m in ratios))
            print(f"  median of the per-round produce ratios: {statistics.median(p for _, p, _, _ in ratios):.2f}x")
for r in rows:
    if r.get("mode", "").startswith("latency"):
        l = r["result"]
        print(f"\nSluice latency, acks=all, durability=fsync, {r['rate']} rec/s x {l['seconds']:.0f} s ({l['records']} records): "
              f"p50 {l['p50']:.2f} ms, p99 {l['p99']:.2f} ms, p99.9 {l['p999']:.2f} ms, max {l['max']:.2f} ms, achieved {l['records_per_sec']:,.0f} rec/s")
PY
echo "compare: raw results in $out" >&2
