// Sequential reads of a log that sits in the page cache: PartitionLog::read of up
// to 1 MiB at a time, next to a bare pread of the same file for scale.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "sluice/storage/file_system.h"
#include "sluice/storage/segment.h"

#include "bench_common.h"
#include "read_fixtures.h"

namespace sluice::bench {
namespace {

constexpr size_t kReadBytes = 1 * kMiB;

void BM_ReadPageCache(benchmark::State& state) {
  auto fixture = page_cache_log();
  if (!fixture) {
    skip_with_error(state, "build the page-cache log", fixture.error());
    return;
  }
  const ReadFixture& f = **fixture;
  Bytes buffer;
  Offset next(0);
  uint64_t bytes = 0;
  uint64_t batches = 0;
  bool failed = false;
  for (auto _ : state) {
    if (failed) continue;
    auto r = f.log->read(next, kReadBytes, buffer);
    if (!r) {
      skip_with_error(state, "read", r.error());
      failed = true;
      continue;
    }
    bytes += r->bytes;
    batches += r->batches;
    next = r->next_offset >= f.end_offset ? Offset(0) : r->next_offset;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["batches_per_read"] =
      state.iterations() ? static_cast<double>(batches) / static_cast<double>(state.iterations()) : 0.0;
  state.counters["log_mib"] = static_cast<double>(f.bytes) / kMiB;
}
BENCHMARK(BM_ReadPageCache)->MinTime(2.0)->UseRealTime()->Unit(benchmark::kMicrosecond);

// The same file read with plain pread(2) into a buffer that is never resized: the
// ceiling for BM_ReadPageCache on this machine.
void BM_PreadPageCache(benchmark::State& state) {
  auto fixture = page_cache_log();
  if (!fixture) {
    skip_with_error(state, "build the page-cache log", fixture.error());
    return;
  }
  const ReadFixture& f = **fixture;
  auto file = storage::posix_file_system().open(f.dir + "/" + storage::segment_file_name(Offset(0), ".log"),
                                                storage::OpenMode::must_exist);
  if (!file) {
    skip_with_error(state, "open the segment", file.error());
    return;
  }
  Bytes buffer(kReadBytes);
  const uint64_t size = (*file)->size();
  uint64_t pos = 0;
  uint64_t bytes = 0;
  bool failed = false;
  for (auto _ : state) {
    if (failed) continue;
    auto n = (*file)->read_at(pos, buffer);
    if (!n) {
      skip_with_error(state, "pread", n.error());
      failed = true;
      continue;
    }
    bytes += *n;
    pos += *n;
    if (pos >= size) pos = 0;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_PreadPageCache)->MinTime(2.0)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sluice::bench
