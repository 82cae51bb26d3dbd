#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace sluice::tools {
namespace {

constexpr uint64_t kLinear = 128;  // values below are their own bucket
constexpr uint64_t kHalf = kLinear / 2;

// Buckets [0, 128) hold one value each; above, a value with its top bit at
// position b lands in one of 64 buckets spanning [2^b, 2^(b+1)).
size_t index_of(uint64_t v) {
  if (v < kLinear) return v;
  int shift = (63 - std::countl_zero(v)) - 6;  // v >> shift is in [64, 128)
  return static_cast<size_t>(shift) * kHalf + (v >> shift);
}

// The largest value that lands in bucket `index`.
uint64_t upper_edge(size_t index) {
  if (index < kLinear) return index;
  uint64_t shift = index / kHalf - 1;
  uint64_t sub = index % kHalf + kHalf;
  return ((sub + 1) << shift) - 1;
}

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(index_of(std::numeric_limits<uint64_t>::max()) + 1, 0) {}

void LatencyHistogram::record(uint64_t micros) {
  ++buckets_[index_of(micros)];
  ++count_;
  max_ = std::max(max_, micros);
}

uint64_t LatencyHistogram::percentile(double percentile) const {
  if (count_ == 0) return 0;
  auto target =
      static_cast<uint64_t>(std::ceil(std::clamp(percentile, 0.0, 100.0) / 100.0 * static_cast<double>(count_)));
  target = std::max<uint64_t>(target, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= target) return std::min(upper_edge(i), max_);
  }
  return max_;
}

}  // namespace sluice::tools
