#!/usr/bin/env bash
# Measures this machine's limits on the disk the storage benchmarks write to, so
# their figures can be read as a fraction of what the hardware allows:
#
#   buffered sequential write   dd bs=1M, no sync: page-cache write speed. The
#                               first run and the median of the warm re-runs are
#                               reported separately (see "cold vs warm" below).
#   page-cache read             dd of the file just written (cached) to /dev/null
#   write + final fdatasync     dd bs=1M conv=fdatasync: what the device sustains
#   write, O_DSYNC every 1 MiB  dd bs=1M oflag=dsync
#   fdatasync latency           C probe: append 4 KiB (and 64 KiB), fdatasync, repeat
#   memcpy                      C probe: 1 MiB (cache-resident) and 256 MiB copies
#   first-touch memory          C probe: memset of freshly mmap'd memory
#
# Cold vs warm: on VMs whose guest memory is handed back to the host when free
# (virtio-balloon free page reporting), the first run after memory was freed pays
# host page faults for every page-cache page, and can be several times slower
# than a run that reuses pages freed seconds earlier. Both are printed.
#
# Usage: bench/disk_limit.sh [DIR]
#   DIR defaults to $SLUICE_BENCH_DIR, else $BUILD_DIR/bench-tmp, else
#   <repo>/build/default/bench-tmp: where storage_bench writes its logs.
# Environment:
#   DD_MIB=2048       size of each buffered / conv=fdatasync dd run
#   WARM_RUNS=5       warm buffered dd re-runs (median reported)
#   DSYNC_MIB=256     size of the oflag=dsync run
#   FSYNC_OPS=2000    appends in the 4 KiB fdatasync probe (64 KiB: a quarter)
#   KV_OUT=FILE       also write the figures as key=value lines to FILE
# Every temporary file is removed on exit, including on error or Ctrl-C.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-${SLUICE_BENCH_DIR:-${BUILD_DIR:-$repo/build/default}/bench-tmp}}
DD_MIB=${DD_MIB:-2048}
WARM_RUNS=${WARM_RUNS:-5}
DSYNC_MIB=${DSYNC_MIB:-256}
FSYNC_OPS=${FSYNC_OPS:-2000}
KV_OUT=${KV_OUT:-}

mkdir -p "$dir"
work=$(mktemp -d "$dir/disk-limit.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "disk_limit.sh: no C compiler ($cc)" >&2; exit 1; }

cat >"$work/probe.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}
/* Keeps the compiler from dropping copies whose result is never read. */
static void* (*volatile copy_fn)(void*, const void*, size_t) = memcpy;

/* fsync PATH BYTES COUNT: append BYTES, fdatasync, COUNT times.
   Prints "avg_us p50_us p99_us max_us". */
static int probe_fsync(const char* path, size_t bytes, int count) {
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) { perror(path); return 1; }
  char* buf = malloc(bytes);
  double* lat = malloc(sizeof(double) * (size_t)count);
  memset(buf, 'x', bytes);
  double start = now();
  for (int i = 0; i < count; ++i) {
    double t = now();
    if (write(fd, buf, bytes) != (ssize_t)bytes) { perror("write"); return 1; }
    if (fdatasync(fd) != 0) { perror("fdatasync"); return 1; }
    lat[i] = now() - t;
  }
  double total = now() - start;
  qsort(lat, (size_t)count, sizeof(double), cmp);
  printf("%.1f %.1f %.1f %.1f\n", total / count * 1e6, lat[count / 2] * 1e6, lat[count * 99 / 100] * 1e6,
         lat[count - 1] * 1e6);
  close(fd);
  unlink(path);
  return 0;
}

/* memcpy BYTES: best-of copy bandwidth in MB/s (bytes copied / s), warm buffers. */
static int probe_memcpy(size_t bytes) {
  char* src = malloc(bytes);
  char* dst = malloc(bytes);
  memset(src, 1, bytes);
  memset(dst, 2, bytes);
  size_t reps = (1ull << 30) / bytes;  /* ~1 GiB copied per trial */
  if (reps < 4) reps = 4;
  double best = 1e30;
  for (int trial = 0; trial < 7; ++trial) {
    double t = now();
    for (size_t r = 0; r < reps; ++r) copy_fn(dst, src, bytes);
    t = now() - t;
    if (t < best) best = t;
  }
  printf("%.0f\n", (double)bytes * (double)reps / best / 1e6);
  return dst[bytes - 1] == 1 ? 0 : 1;
}

/* touch BYTES: memset of freshly mmap'd memory (guest + host page faults), MB/s. */
static int probe_touch(size_t bytes) {
  char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  double t = now();
  memset(p, 3, bytes);
  t = now() - t;
  printf("%.0f\n", (double)bytes / t / 1e6);
  munmap(p, bytes);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 5 && strcmp(argv[1], "fsync") == 0) return probe_fsync(argv[2], strtoull(argv[3], 0, 10), atoi(argv[4]));
  if (argc == 3 && strcmp(argv[1], "memcpy") == 0) return probe_memcpy(strtoull(argv[2], 0, 10));
  if (argc == 3 && strcmp(argv[1], "touch") == 0) return probe_touch(strtoull(argv[2], 0, 10));
  fprintf(stderr, "usage: probe fsync PATH BYTES COUNT | memcpy BYTES | touch BYTES\n");
  return 2;
}
EOF
"$cc" -O2 -o "$work/probe" "$work/probe.c"

# dd's summary line, e.g. "2147483648 bytes (2.1 GB, 2.0 GiB) copied, 1.02 s, 2.1 GB/s",
# as decimal MB/s computed from bytes and seconds (dd's own unit varies).
dd_mbps() {
  local line
  line=$(dd "$@" 2>&1 | grep ' copied, ' | tail -1)
  awk -v l="$line" 'BEGIN { split(l, f, " "); n = split(l, g, ", "); split(g[n - 1], s, " ");
                            printf "%.0f\n", f[1] / s[1] / 1e6 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

seq_file="$work/seq"
fs_type=$(stat -f -c %T "$dir")
device=$(df --output=source "$dir" | tail -1)
echo "disk_limit: measuring in $dir ($device, $fs_type)" >&2
if [[ $fs_type == tmpfs || $fs_type == ramfs ]]; then
  echo "disk_limit: WARNING: $dir is on $fs_type, not a disk" >&2
fi

sync
# Buffered sequential write: first run (cold), then warm re-runs that reuse the
# page-cache pages the previous run just freed.
buffered_cold=$(dd_mbps if=/dev/zero of="$seq_file" bs=1M count="$DD_MIB")
rm -f "$seq_file"
warm_list=()
for ((i = 0; i < WARM_RUNS; ++i)); do
  [[ $i -gt 0 ]] && rm -f "$seq_file"
  warm_list+=("$(dd_mbps if=/dev/zero of="$seq_file" bs=1M count="$DD_MIB")")
done
buffered_warm=$(printf '%s\n' "${warm_list[@]}" | median)
# The file just written is in the page cache: read it back.
cached_read=$(dd_mbps if="$seq_file" of=/dev/null bs=1M)
rm -f "$seq_file"
sync

fdatasync_seq=$(dd_mbps if=/dev/zero of="$seq_file" bs=1M count="$DD_MIB" conv=fdatasync)
rm -f "$seq_file"
dsync_seq=$(dd_mbps if=/dev/zero of="$seq_file" bs=1M count="$DSYNC_MIB" oflag=dsync)
rm -f "$seq_file"

read -r f4_avg f4_p50 f4_p99 f4_max < <("$work/probe" fsync "$work/fsync4k" 4096 "$FSYNC_OPS")
read -r f64_avg f64_p50 f64_p99 f64_max < <("$work/probe" fsync "$work/fsync64k" 65536 $((FSYNC_OPS / 4)))

memcpy_1m=$("$work/probe" memcpy $((1 << 20)))
memcpy_256m=$("$work/probe" memcpy $((256 << 20)))
touch_1g=$("$work/probe" touch $((1 << 30)))

row() { printf '%-44s %12s  %s\n' "$1" "$2" "$3"; }
echo
echo "Machine limits ($dir: $device, $fs_type; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg))"
row "measure" "value" "how"
row "--------------------------------------------" "------------" "---"
row "buffered seq write, first run (cold)" "$buffered_cold MB/s" "dd bs=1M count=$DD_MIB"
row "buffered seq write, warm (median)" "$buffered_warm MB/s" "dd bs=1M count=$DD_MIB, runs: ${warm_list[*]}"
row "page-cache seq read" "$cached_read MB/s" "dd bs=1M of=/dev/null, file cached"
row "seq write + final fdatasync" "$fdatasync_seq MB/s" "dd bs=1M count=$DD_MIB conv=fdatasync"
row "seq write, O_DSYNC every 1 MiB" "$dsync_seq MB/s" "dd bs=1M count=$DSYNC_MIB oflag=dsync"
row "4 KiB append+fdatasync latency avg" "$f4_avg us" "p50 $f4_p50 us, p99 $f4_p99 us, max $f4_max us; $FSYNC_OPS ops"
row "64 KiB append+fdatasync latency avg" "$f64_avg us" "p50 $f64_p50 us, p99 $f64_p99 us, max $f64_max us; $((FSYNC_OPS / 4)) ops"
row "memcpy 1 MiB (cache-resident)" "$memcpy_1m MB/s" "C, best of 7"
row "memcpy 256 MiB (DRAM)" "$memcpy_256m MB/s" "C, best of 7"
row "first-touch memset of fresh 1 GiB mmap" "$touch_1g MB/s" "C; page-fault bound"

if [[ -n $KV_OUT ]]; then
  cat >"$KV_OUT" <<EOF
dir=$dir
device=$device
fs_type=$fs_type
buffered_cold_MBps=$buffered_cold
buffered_warm_MBps=$buffered_warm
buffered_warm_runs_MBps=${warm_list[*]}
cached_read_MBps=$cached_read
fdatasync_seq_MBps=$fdatasync_seq
dsync_seq_MBps=$dsync_seq
fsync4k_avg_us=$f4_avg
fsync4k_p50_us=$f4_p50
fsync4k_p99_us=$f4_p99
fsync64k_avg_us=$f64_avg
fsync64k_p50_us=$f64_p50
fsync64k_p99_us=$f64_p99
memcpy_1m_MBps=$memcpy_1m
memcpy_256m_MBps=$memcpy_256m
touch_1g_MBps=$touch_1g
EOF
fi
