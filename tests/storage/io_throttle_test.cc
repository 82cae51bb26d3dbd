// IoThrottle, the pace of the log cleaner's I/O: the token bucket's arithmetic, a real
// cleaning pass held to a rate, and stop() ending a pause at once.
#include "sluice/storage/io_throttle.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "sluice/common/clock.h"
#include "sluice/storage/batch_builder.h"
#include "sluice/storage/key_offset_map.h"
#include "sluice/storage/partition_log.h"

#include "test_support.h"

namespace sluice::storage {
namespace {

using namespace std::chrono_literals;

TEST(IoThrottle, ABatchThatOverdrawsTheBucketPausesUntilItIsPaid) {
  // At 1 MB/s the bucket holds at most 100 KB (kBurst).
  auto p = IoThrottle::pace(0, 0ns, 1'000'000, 1e6);
  EXPECT_EQ(p.pause, 1s);
  EXPECT_EQ(p.credit, 0);
  p = IoThrottle::pace(0, 250ms, 1'000'000, 1e6);  // 100 KB refilled (not 250 KB: the cap)
  EXPECT_EQ(p.pause, 900ms);
  p = IoThrottle::pace(100'000, 0ns, 40'000, 1e6);
  EXPECT_EQ(p.pause, 0ns);
  EXPECT_EQ(p.credit, 60'000);
  p = IoThrottle::pace(60'000, 10ms, 30'000, 1e6);  // +10 KB refilled
  EXPECT_EQ(p.pause, 0ns);
  EXPECT_EQ(p.credit, 40'000);
  p = IoThrottle::pace(0, 1h, 100'001, 1e6);  // an hour idle still buys only the burst
  EXPECT_EQ(p.pause, 1us);
}

TEST(IoThrottle, AnUnlimitedThrottleOnlyCounts) {
  IoThrottle throttle(0);
  for (int i = 0; i < 1000; ++i) throttle.record(1 << 20);
  EXPECT_EQ(throttle.bytes_recorded(), 1000ull << 20);
  EXPECT_EQ(throttle.time_paused(), 0ns);
}

TEST(IoThrottle, StopEndsAPauseAtOnce) {
  IoThrottle throttle(1);                                   // a byte a second
  std::thread worker([&] { throttle.record(1'000'000); });  // due in ~11 days
  // Waits until the worker is in its pause (the bytes are counted before it).
  while (throttle.bytes_recorded() < 1'000'000) std::this_thread::yield();
  const auto stopped_at = std::chrono::steady_clock::now();
  throttle.stop();
  worker.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 10s) << "stop() must wake the pause, not wait it out";
  throttle.record(1'000'000);  // a stopped throttle never pauses again
  EXPECT_EQ(throttle.bytes_recorded(), 2'000'000u);
}

LogConfig compacted_config() {
  LogConfig config;
  config.segment_bytes = 64 * 1024;
  config.index_interval_bytes = 4096;
  config.durability = Durability::none;
  config.cleanup_policy = CleanupPolicy::compact;
  return config;
}

TEST(IoThrottle, ACleaningPassReportsEveryByteAndKeepsToTheRate) {
  testing::TempDir dir;
  ManualClock clock;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  std::mt19937 random(5);
  const std::string value(1000, 'v');
  for (int b = 0; b < 64; ++b) {
    BatchBuilder builder;
    for (int r = 0; r < 8; ++r) {
      const std::string key = "key-" + std::to_string(std::uniform_int_distribution<int>(0, 99)(random));
      builder.add(clock.now().value(), as_bytes(key), as_bytes(value));
    }
    Bytes batch = std::move(*builder.build());
    ASSERT_TRUE(log->append(batch));
  }
  ASSERT_TRUE(log->roll());
  // The pass reads the dirty section twice (the key map, then the rewrite) and
  // writes what it keeps: about 1.2 MB here, paced to take at least a second.
  const uint64_t dirty = log->cleanable_state().dirty_bytes;
  ASSERT_GT(dirty, 500'000u);
  IoThrottle throttle(static_cast<double>(2 * dirty));
  KeyOffsetMap map(1 << 20);
  const auto started = std::chrono::steady_clock::now();
  auto result = log->clean(map, &throttle);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(result) << result.error().to_string();
  ASSERT_TRUE(result->cleaned);
  EXPECT_EQ(result->bytes_before, dirty);
  EXPECT_EQ(throttle.bytes_recorded(), 2 * result->bytes_before + result->bytes_after);
  // All but the first burst waited for the rate.
  const double due_seconds = static_cast<double>(throttle.bytes_recorded()) / static_cast<double>(2 * dirty) -
                             std::chrono::duration<double>(IoThrottle::kBurst).count();
  EXPECT_GE(std::chrono::duration<double>(took).count(), due_seconds);
  EXPECT_GT(throttle.time_paused(), 0ns);
}

}  // namespace
}  // namespace sluice::storage
