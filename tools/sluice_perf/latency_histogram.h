// A log-linear histogram of latencies in microseconds, HdrHistogram-style: exact
// below 128 us, then 64 buckets per power of two, so a reported percentile is
// within 1.6% of the true value (max is exact). Fixed memory (~30 KiB) however
// many values are recorded.
// Thread-safety: none; callers serialize record() and the queries.
#pragma once

#include <cstdint>
#include <vector>

namespace sluice::tools {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(uint64_t micros);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  // The smallest recorded bucket's upper edge covering `percentile` (0-100) of the
  // values, capped at max(); 0 when empty.
  uint64_t percentile(double percentile) const;

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace sluice::tools
