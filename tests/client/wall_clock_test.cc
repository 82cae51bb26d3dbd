#include "wall_clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::client {
namespace {

using namespace std::chrono_literals;

int64_t system_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(WallClock, AgreesWithTheSystemClockAcrossResyncs) {
  WallClock clock;
  const auto end = std::chrono::steady_clock::now() + 5 * WallClock::kResyncInterval;
  int checks = 0;
  while (std::chrono::steady_clock::now() < end) {
    const int64_t before = system_ms();
    const int64_t t = clock.ms_since_epoch(std::chrono::steady_clock::now());
    const int64_t after = system_ms();
    ASSERT_LE(before, t);
    ASSERT_LE(t, after);
    ++checks;
    std::this_thread::sleep_for(100us);
  }
  EXPECT_GT(checks, 10);
}

TEST(WallClock, ALaterSteadyTimeGivesTheSameLaterTimestamp) {
  WallClock clock;
  const auto now = std::chrono::steady_clock::now();
  const int64_t t0 = clock.ms_since_epoch(now);
  const int64_t t1 = clock.ms_since_epoch(now + 1500ms);
  EXPECT_NEAR(t1 - t0, 1500, 1);
}

TEST(WallClock, AnOldReadingAfterAResyncIsStillMappedConsistently) {
  WallClock clock;
  const auto then = std::chrono::steady_clock::now();
  const int64_t first = clock.ms_since_epoch(then);
  std::this_thread::sleep_for(2 * WallClock::kResyncInterval);
  (void)clock.ms_since_epoch(std::chrono::steady_clock::now());  // resyncs
  EXPECT_NEAR(clock.ms_since_epoch(then), first, 1);
}

}  // namespace
}  // namespace sluice::client
