// Storage-engine micro-benchmarks (Google Benchmark). The benchmarks themselves
// live in crc_bench.cc, append_bench.cc, read_bench.cc and index_bench.cc; this
// file owns main(), which creates the on-disk scratch root before any benchmark
// runs and removes it afterwards.
//
//   storage_bench [--benchmark_filter=...] [--benchmark_out=...]
//   SLUICE_BENCH_DIR=/some/disk/dir storage_bench   # where logs are written
//
// bench/run_storage_bench.sh runs this binary next to the machine's limits
// (bench/disk_limit.sh) and prints the ratios the storage targets are judged by.
#include <benchmark/benchmark.h>

#include "bench_common.h"
#include "read_fixtures.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!sluice::bench::init_bench_root()) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // The shared read-side logs hold files under the root; close them first.
  sluice::bench::release_read_fixtures();
  sluice::bench::remove_bench_root();
  return 0;
}
