// CRC-32C throughput: every append and every read checks a batch CRC, so this
// bounds both.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

#include "sluice/common/bytes.h"
#include "sluice/common/crc32c.h"

#include "bench_common.h"

namespace sluice::bench {
namespace {

Bytes crc_input(size_t size) {
  Bytes data(size);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (auto& b : data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::byte>(x);
  }
  return data;
}

// The production path: crc32c_extend (SSE4.2, three interleaved streams).
void BM_Crc32c(benchmark::State& state) {
  if (!crc32c_uses_hardware()) {
    state.SkipWithError("crc32c_uses_hardware() is false: no SSE4.2 on this CPU");
    return;
  }
  Bytes data = crc_input(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    uint32_t crc = crc32c_extend(0, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(64 * kKiB);

// The table fallback, for scale.
void BM_Crc32cPortable(benchmark::State& state) {
  Bytes data = crc_input(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    uint32_t crc = crc32c_extend_portable(0, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cPortable)->Arg(64 * kKiB);

}  // namespace
}  // namespace sluice::bench
