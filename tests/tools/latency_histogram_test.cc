// sluice-perf's latency histogram: exact small values, bounded relative error,
// exact max.
#include "latency_histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace sluice::tools {
namespace {

TEST(LatencyHistogramTest, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(99), 99u);
  EXPECT_EQ(h.percentile(100), 100u);
  EXPECT_EQ(h.percentile(0), 1u);
}

TEST(LatencyHistogramTest, LargeValuesWithinTwoPercent) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 1'000'000; ++v) h.record(v);
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    double exact = p / 100.0 * 1'000'000;
    EXPECT_NEAR(static_cast<double>(h.percentile(p)), exact, exact * 0.02) << p;
    EXPECT_GE(static_cast<double>(h.percentile(p)), exact) << "reported as the bucket's upper edge";
  }
  EXPECT_EQ(h.max(), 1'000'000u);
  EXPECT_EQ(h.count(), 1'000'000u);
}

TEST(LatencyHistogramTest, PercentileNeverExceedsMax) {
  LatencyHistogram h;
  h.record(1'000'001);  // in a bucket whose upper edge is above the value
  EXPECT_EQ(h.percentile(50), 1'000'001u);
  EXPECT_EQ(h.percentile(99.9), 1'000'001u);
}

TEST(LatencyHistogramTest, ExtremeValuesDoNotOverflow) {
  LatencyHistogram h;
  h.record(0);
  h.record(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.percentile(100), std::numeric_limits<uint64_t>::max());
}

}  // namespace
}  // namespace sluice::tools
