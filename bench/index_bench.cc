// Lookups in a large segment (~512 MiB of 1 KiB single-record batches, an index
// entry every ~4 batches), at random offsets and timestamps:
//   IndexFloor          the in-memory sparse-index binary search alone
//   PositionOf          Segment::position_of: index floor + batch-header preads
//   ReadFirstBatch      PartitionLog::read(offset, 1 byte): positioning plus
//                       copying and CRC-checking the one (~1 KiB) batch returned
//   OffsetForTimestamp  PartitionLog::offset_for_timestamp
// Reported as time per lookup; the file is in the page cache.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "bench_common.h"
#include "read_fixtures.h"

namespace sluice::bench {
namespace {

constexpr size_t kProbes = 1 << 16;  // a power of two, cycled through

std::vector<int64_t> random_values(int64_t lo, int64_t hi_inclusive) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> dist(lo, hi_inclusive);
  std::vector<int64_t> values(kProbes);
  for (auto& v : values) v = dist(rng);
  return values;
}

// Gets the shared log or fails the benchmark.
const ReadFixture* fixture_or_skip(benchmark::State& state) {
  auto fixture = small_batch_log();
  if (!fixture) {
    skip_with_error(state, "build the small-batch log", fixture.error());
    return nullptr;
  }
  return *fixture;
}

void finish(benchmark::State& state, const ReadFixture& f) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["index_entries"] = static_cast<double>(f.segment->offset_index().size());
  state.counters["batches"] = static_cast<double>(f.end_offset.value());
}

void BM_IndexLookup_IndexFloor(benchmark::State& state) {
  const ReadFixture* f = fixture_or_skip(state);
  if (!f) return;
  auto offsets = random_values(0, f->end_offset.value() - 1);
  size_t i = 0;
  for (auto _ : state) {
    auto e = f->segment->offset_index().floor(static_cast<uint32_t>(offsets[i++ & (kProbes - 1)]));
    benchmark::DoNotOptimize(e);
  }
  finish(state, *f);
}
BENCHMARK(BM_IndexLookup_IndexFloor);

void BM_IndexLookup_PositionOf(benchmark::State& state) {
  const ReadFixture* f = fixture_or_skip(state);
  if (!f) return;
  auto offsets = random_values(0, f->end_offset.value() - 1);
  size_t i = 0;
  bool failed = false;
  for (auto _ : state) {
    if (failed) continue;
    auto pos = f->segment->position_of(Offset(offsets[i++ & (kProbes - 1)]));
    if (!pos) {
      skip_with_error(state, "position_of", pos.error());
      failed = true;
    }
    benchmark::DoNotOptimize(pos);
  }
  finish(state, *f);
}
BENCHMARK(BM_IndexLookup_PositionOf);

void BM_IndexLookup_ReadFirstBatch(benchmark::State& state) {
  const ReadFixture* f = fixture_or_skip(state);
  if (!f) return;
  auto offsets = random_values(0, f->end_offset.value() - 1);
  Bytes buffer;
  size_t i = 0;
  bool failed = false;
  for (auto _ : state) {
    if (failed) continue;
    auto r = f->log->read(Offset(offsets[i++ & (kProbes - 1)]), 1, buffer);
    if (!r || r->batches != 1) {
      state.SkipWithError(r ? "read returned no batch" : r.error().to_string().c_str());
      failed = true;
    }
  }
  finish(state, *f);
}
BENCHMARK(BM_IndexLookup_ReadFirstBatch);

void BM_IndexLookup_OffsetForTimestamp(benchmark::State& state) {
  const ReadFixture* f = fixture_or_skip(state);
  if (!f) return;
  auto timestamps = random_values(f->first_timestamp, f->last_timestamp);
  size_t i = 0;
  bool failed = false;
  for (auto _ : state) {
    if (failed) continue;
    int64_t ts = timestamps[i++ & (kProbes - 1)];
    auto r = f->log->offset_for_timestamp(ts);
    if (!r || !*r || (*r)->timestamp != ts) {
      state.SkipWithError(!r ? r.error().to_string().c_str() : "offset_for_timestamp missed a present timestamp");
      failed = true;
    }
  }
  finish(state, *f);
}
BENCHMARK(BM_IndexLookup_OffsetForTimestamp);

}  // namespace
}  // namespace sluice::bench
