#!/usr/bin/env bash
# Builds storage_bench, measures the machine's limits (bench/disk_limit.sh) and
# runs the storage benchmarks in one go, on the same disk, then prints the figures
# the storage targets are judged by:
#   append (durability none)  >= 70% of buffered sequential write bandwidth
#   batches per fdatasync with 8 concurrent appenders >= 4
#   sequential read from the page cache >= 2 GB/s
#
# Usage: bench/run_storage_bench.sh [storage_bench flags, e.g. --benchmark_filter=Append]
# Environment:
#   BUILD_DIR         build tree to use. Unset: the "default" preset
#                     (<repo>/build/default, built with cmake --preset default).
#                     Set: configured there (Ninja, RelWithDebInfo) if needed.
#   SKIP_BUILD=1      use the binary already in BUILD_DIR
#   SLUICE_BENCH_DIR  where logs and dd files go (default $BUILD_DIR/bench-tmp)
#   REPETITIONS=5     --benchmark_repetitions, randomly interleaved across
#                     benchmarks (medians are reported; this machine is noisy)
#   RESULTS_DIR       keep bench.json (Google Benchmark JSON) and limits.txt there
#   plus disk_limit.sh's DD_MIB, WARM_RUNS, DSYNC_MIB, FSYNC_OPS
# MB/s and GB/s are decimal (10^6, 10^9 bytes per second) throughout.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPETITIONS=${REPETITIONS:-5}

if [[ -z ${BUILD_DIR:-} ]]; then
  BUILD_DIR=$repo/build/default
  if [[ -z ${SKIP_BUILD:-} ]]; then
    (cd "$repo" && cmake --preset default >/dev/null && cmake --build --preset default --target storage_bench)
  fi
elif [[ -z ${SKIP_BUILD:-} ]]; then
  if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    cmake -S "$repo" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$BUILD_DIR" --target storage_bench
fi
bench=$BUILD_DIR/bench/storage_bench
[[ -x $bench ]] || { echo "run_storage_bench.sh: no $bench (build it or unset SKIP_BUILD)" >&2; exit 1; }

export SLUICE_BENCH_DIR=${SLUICE_BENCH_DIR:-$BUILD_DIR/bench-tmp}
mkdir -p "$SLUICE_BENCH_DIR"
if [[ -n ${RESULTS_DIR:-} ]]; then
  out=$RESULTS_DIR
  mkdir -p "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

echo "== Sluice storage benchmark run, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')," \
  "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
echo "dir:  $SLUICE_BENCH_DIR ($(df --output=source "$SLUICE_BENCH_DIR" | tail -1), $(stat -f -c %T "$SLUICE_BENCH_DIR"))"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== Machine limits (bench/disk_limit.sh)"
KV_OUT=$out/limits.txt "$repo/bench/disk_limit.sh" "$SLUICE_BENCH_DIR"
echo
echo "== Benchmarks ($bench)"
"$bench" --benchmark_repetitions="$REPETITIONS" --benchmark_enable_random_interleaving=true \
  --benchmark_display_aggregates_only=true \
  --benchmark_out="$out/bench.json" --benchmark_out_format=json "$@"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== Targets"
python3 - "$out/bench.json" "$out/limits.txt" <<'EOF'
import json
import sys

bench = json.load(open(sys.argv[1]))
limits = {}
for line in open(sys.argv[2]):
    key, _, value = line.rstrip("\n").partition("=")
    limits[key] = value


def limit(key):
    try:
        return float(limits[key])
    except (KeyError, ValueError):
        return None


def matches(b, key):
    """key is a whole run name or a leading part of one ending at a '/'."""
    return b["run_name"] == key or b["run_name"].startswith(key + "/")


def runs(key):
    """Per-repetition runs of one benchmark."""
    return [b for b in bench["benchmarks"]
            if matches(b, key) and b.get("run_type") == "iteration" and not b.get("error_occurred")]


def median(prefix, field):
    for b in bench["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median" and matches(b, prefix):
            return b.get(field)
    r = runs(prefix)  # a single repetition has no aggregates
    return r[0].get(field) if len(r) == 1 else None


def spread(prefix, field, scale):
    values = sorted(b[field] / scale for b in runs(prefix) if field in b)
    return "n/a" if not values else " ".join(f"{v:.0f}" for v in values)


def fmt(v, unit, scale=1.0, digits=0):
    return "n/a" if v is None else f"{v / scale:,.{digits}f} {unit}"


rows = []
def row(name, value, limit_text="", ratio="", target="", met=""):
    rows.append((name, value, limit_text, ratio, target, met))


def verdict(ok):
    return "n/a" if ok is None else ("MET" if ok else "MISSED")


crc = median("BM_Crc32c", "bytes_per_second")
row("CRC-32C, 64 KiB (hardware)", fmt(crc, "GB/s", 1e9, 2))

none_med = median("BM_AppendNone/batch", "bytes_per_second")
base_med = median("BM_PwriteBaseline/batch", "bytes_per_second")
warm = limit("buffered_warm_MBps")
ratio_warm = none_med / (warm * 1e6) if none_med and warm else None
row("append, durability none (median)", fmt(none_med, "MB/s", 1e6),
    fmt(warm, "MB/s") + " buffered dd (warm median)", fmt(ratio_warm, "%", 0.01), ">= 70%",
    verdict(None if ratio_warm is None else ratio_warm >= 0.70))
row("  runs (MB/s)", spread("BM_AppendNone/batch", "bytes_per_second", 1e6),
    "dd runs: " + limits.get("buffered_warm_runs_MBps", "n/a") + "; 1st (cold): " + limits.get("buffered_cold_MBps", "n/a"))
row("  bare pwrite of the same batches", fmt(base_med, "MB/s", 1e6),
    "runs: " + spread("BM_PwriteBaseline/batch", "bytes_per_second", 1e6),
    fmt(none_med / base_med if none_med and base_med else None, "%", 0.01), "(info)")
al_med = median("BM_AppendNone/aligned64k", "bytes_per_second")
al_base = median("BM_PwriteBaseline/aligned64k", "bytes_per_second")
row("  append, page-aligned 64 KiB batches", fmt(al_med, "MB/s", 1e6),
    "runs: " + spread("BM_AppendNone/aligned64k", "bytes_per_second", 1e6),
    fmt(al_med / (warm * 1e6) if al_med and warm else None, "%", 0.01), "(info)")
row("  bare pwrite, page-aligned 64 KiB", fmt(al_base, "MB/s", 1e6),
    "runs: " + spread("BM_PwriteBaseline/aligned64k", "bytes_per_second", 1e6), "", "(info)")

lat64 = limit("fsync64k_avg_us")
row("64 KiB append+fdatasync probe (1 thread)", fmt(lat64, "us"), "p50 " + limits.get("fsync64k_p50_us", "n/a") + " us",
    "", "")
for threads in (1, 2, 4, 8, 16):
    prefix = f"BM_AppendFsync/min_time:2.000/real_time/threads:{threads}"
    if median(prefix, "bytes_per_second") is None:
        continue
    bps = median(prefix, "bytes_per_second")
    bpf = median(prefix, "batches_per_fsync")
    fps = median(prefix, "fsyncs_per_s")
    row(f"append, fsync, {threads} appender{'s' if threads > 1 else ''}", fmt(bps, "MB/s", 1e6, 1),
        f"{fmt(fps, 'fdatasync/s')}, {fmt(1e6 / fps if fps else None, 'us')} each")
    row("  batches per fdatasync", fmt(bpf, "", 1, 2), "", "", ">= 4" if threads == 8 else "(info)",
        verdict(None if bpf is None else bpf >= 4) if threads == 8 else "")

rd = median("BM_ReadPageCache", "bytes_per_second")
pread = median("BM_PreadPageCache", "bytes_per_second")
cached = limit("cached_read_MBps")
row("read from page cache, 1 MiB reads", fmt(rd, "GB/s", 1e9, 2),
    fmt(cached / 1e3 if cached else None, "GB/s", 1, 2) + " dd cached read",
    fmt(rd / (cached * 1e6) if rd and cached else None, "%", 0.01), ">= 2 GB/s",
    verdict(None if rd is None else rd >= 2e9))
row("  bare pread of the same file, 1 MiB", fmt(pread, "GB/s", 1e9, 2), "", fmt(rd / pread if rd and pread else None, "%", 0.01))

for label, prefix in (("index floor (in memory)", "BM_IndexLookup_IndexFloor"),
                      ("Segment::position_of", "BM_IndexLookup_PositionOf"),
                      ("read(offset, 1 byte): position + 1 batch", "BM_IndexLookup_ReadFirstBatch"),
                      ("offset_for_timestamp", "BM_IndexLookup_OffsetForTimestamp")):
    t = median(prefix, "cpu_time")
    w = median(prefix, "real_time")
    row("lookup: " + label, fmt(w, "ns"), "cpu " + fmt(t, "ns"))

widths = [max(len(r[i]) for r in rows + [("measure", "value", "machine limit", "ratio", "target", "")]) for i in range(6)]
print("  ".join(h.ljust(w) for h, w in zip(("measure", "value", "machine limit", "ratio", "target", ""), widths)))
for r in rows:
    print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
EOF
[[ -n ${RESULTS_DIR:-} ]] && echo && echo "raw results kept in $out"
exit 0
