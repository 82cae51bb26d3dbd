// Compaction's record-level work in memory, the cleaner's CPU cost without its I/O:
// building the key -> latest offset map over a dirty section, then rewriting every
// batch to keep each key's latest record. 1 KiB records, 16 per batch, 16 MiB per run;
// the argument is the share of records overwritten later (10 % or 90 %). Bytes per
// second are of dirty input. BM_CleanLog is the whole cleaner on real files:
// PartitionLog::clean over a log of those batches in 1 MiB closed segments (read,
// filter, write and fsync the cleaned segments, the swap).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/batch_filter.h"
#include "sluice/storage/key_offset_map.h"
#include "sluice/storage/partition_log.h"

namespace sluice::storage {
namespace {

constexpr int kRecordsPerBatch = 16;
constexpr size_t kValueBytes = 1000;
constexpr size_t kInputBytes = 16u << 20;

// Batches whose keys repeat so that `overwritten_percent` of the records have a later one.
std::vector<Bytes> dirty_batches(int overwritten_percent) {
  const size_t records = kInputBytes / (kValueBytes + 24);
  const size_t keys = std::max<size_t>(1, records * (100 - overwritten_percent) / 100);
  std::mt19937_64 random(42);
  const std::string value(kValueBytes, 'v');
  std::vector<Bytes> batches;
  int64_t offset = 0;
  BatchBuilder builder;
  for (size_t i = 0; i < records; ++i) {
    // The first `keys` records introduce every key; the rest overwrite random ones.
    const size_t k = i < keys ? i : random() % keys;
    const std::string key = "key-" + std::to_string(k);
    builder.add(1'700'000'000'000 + static_cast<int64_t>(i), as_bytes(key), as_bytes(value));
    if (builder.record_count() == kRecordsPerBatch || i + 1 == records) {
      const int n = builder.record_count();
      Bytes batch = std::move(*builder.build());
      stamp_base_offset(batch, Offset(offset));
      offset += n;
      batches.push_back(std::move(batch));
    }
  }
  return batches;
}

void BM_CompactDirtySection(benchmark::State& state) {
  const std::vector<Bytes> batches = dirty_batches(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (const Bytes& b : batches) bytes += b.size();
  KeyOffsetMap map(4u << 20);  // room for every key; clear() per pass stays small
  Bytes scratch;
  std::vector<Record> records;
  size_t kept_bytes = 0;
  for (auto _ : state) {
    map.clear();
    for (const Bytes& b : batches) {
      (void)decode_records(b, records, scratch);
      for (const Record& r : records) map.put(*r.key, r.offset.value());
    }
    kept_bytes = 0;
    for (const Bytes& b : batches) {
      auto filtered = filter_batch(b, [&](const Record& r) { return map.get(*r.key) == r.offset.value(); });
      kept_bytes += filtered->outcome == FilteredBatch::Outcome::unchanged ? b.size() : filtered->bytes.size();
      benchmark::DoNotOptimize(filtered);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["kept_fraction"] = static_cast<double>(kept_bytes) / static_cast<double>(bytes);
  state.counters["keys"] = static_cast<double>(map.size());
  state.counters["map_bytes_per_key"] =
      static_cast<double>(map.memory_bytes()) / static_cast<double>(map.max_entries());
}
BENCHMARK(BM_CompactDirtySection)->Arg(10)->Arg(90)->Unit(benchmark::kMillisecond);

void BM_CleanLog(benchmark::State& state) {
  const std::vector<Bytes> batches = dirty_batches(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (const Bytes& b : batches) bytes += b.size();
  const std::string dir = (std::filesystem::temp_directory_path() / "sluice-bench-clean-log").string();
  LogConfig config;
  config.segment_bytes = 1u << 20;
  config.durability = Durability::none;
  config.cleanup_policy = CleanupPolicy::compact;
  KeyOffsetMap map(4u << 20);
  uint64_t after = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    auto log = PartitionLog::open(posix_file_system(), dir, config);
    if (!log) {
      state.SkipWithError(log.error().to_string().c_str());
      break;
    }
    for (const Bytes& b : batches) {
      Bytes copy = b;
      if (!(*log)->append(copy)) state.SkipWithError("append failed");
    }
    (void)(*log)->roll();
    state.ResumeTiming();
    auto result = (*log)->clean(map);
    if (!result || !result->cleaned) state.SkipWithError("clean failed");
    after = (*log)->size_bytes();
  }
  std::filesystem::remove_all(dir);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["kept_fraction"] = static_cast<double>(after) / static_cast<double>(bytes);
}
BENCHMARK(BM_CleanLog)->Arg(10)->Arg(90)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace sluice::storage
