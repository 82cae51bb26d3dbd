#include "wall_clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

namespace sluice::client {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kMs = 1'000'000;  // ns

// Two clocks that move only when told: advance() moves both (time passes),
// step_wall() only the wall clock (settimeofday, a hypervisor's time sync).
// Each steady read may add `read_cost_ns` first, to model a preempted read.
class ManualTimeSources final : public TimeSources {
 public:
  int64_t steady_ns() const override { return steady_ += read_cost_.exchange(0); }
  int64_t wall_ns() const override { return steady_.load() + wall_offset_.load(); }
  void advance(std::chrono::nanoseconds d) { steady_ += d.count(); }
  void step_wall(std::chrono::nanoseconds d) { wall_offset_ += d.count(); }
  // The next steady read comes `d` after the previous one.
  void delay_next_steady_read(std::chrono::nanoseconds d) { read_cost_ = d.count(); }

  SteadyTime now() const { return SteadyTime(std::chrono::nanoseconds(steady_.load())); }
  int64_t wall_ms() const { return wall_ns() / kMs; }

 private:
  mutable std::atomic<int64_t> steady_{5'000 * kMs};
  std::atomic<int64_t> wall_offset_{1'700'000'000'000 * kMs};
  mutable std::atomic<int64_t> read_cost_{0};
};

TEST(WallClock, MapsSteadyReadingsToTheWallClockExactlyWithoutSteps) {
  ManualTimeSources sources;
  WallClock clock(sources);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(clock.ms_since_epoch(sources.now()), sources.wall_ms());
    sources.advance(std::chrono::microseconds(700));  // crosses several resync intervals
  }
}

TEST(WallClock, AForwardStepShowsWithinOneResyncInterval) {
  ManualTimeSources sources;
  WallClock clock(sources);
  sources.advance(1ms);
  sources.step_wall(1000ms);
  // Until the interval since the last resync ends, timestamps lag by the step, and no more.
  while (sources.now().time_since_epoch() < std::chrono::nanoseconds(5'000 * kMs) + WallClock::kResyncInterval) {
    const int64_t t = clock.ms_since_epoch(sources.now());
    EXPECT_EQ(t, sources.wall_ms() - 1000);
    sources.advance(1ms);
  }
  // The first reading past it resyncs.
  EXPECT_EQ(clock.ms_since_epoch(sources.now()), sources.wall_ms());
  sources.advance(3ms);
  EXPECT_EQ(clock.ms_since_epoch(sources.now()), sources.wall_ms());
}

TEST(WallClock, ABackwardStepShowsWithinOneResyncInterval) {
  ManualTimeSources sources;
  WallClock clock(sources);
  sources.advance(2ms);
  sources.step_wall(-500ms);
  const int64_t ahead = clock.ms_since_epoch(sources.now());
  EXPECT_EQ(ahead, sources.wall_ms() + 500);
  sources.advance(WallClock::kResyncInterval);
  const int64_t after = clock.ms_since_epoch(sources.now());
  EXPECT_EQ(after, sources.wall_ms());
  EXPECT_LT(after, ahead);  // timestamps follow the wall clock back, as Kafka's do
}

TEST(WallClock, APreemptedResyncIsTriedAgainSoTimestampsAreNotAhead) {
  ManualTimeSources sources;
  sources.delay_next_steady_read(5ms);  // the first try's second read comes 5 ms late
  WallClock clock(sources);
  EXPECT_EQ(clock.ms_since_epoch(sources.now()), sources.wall_ms());
}

TEST(WallClock, ALaterSteadyTimeGivesTheSameLaterTimestamp) {
  ManualTimeSources sources;
  WallClock clock(sources);
  const auto now = sources.now();
  const int64_t t0 = clock.ms_since_epoch(now);
  const int64_t t1 = clock.ms_since_epoch(now + 1500ms);
  EXPECT_EQ(t1 - t0, 1500);
}

TEST(WallClock, AnOldReadingAfterAResyncIsStillMappedConsistently) {
  ManualTimeSources sources;
  WallClock clock(sources);
  const auto then = sources.now();
  const int64_t first = clock.ms_since_epoch(then);
  sources.advance(2 * WallClock::kResyncInterval);
  (void)clock.ms_since_epoch(sources.now());  // resyncs
  EXPECT_EQ(clock.ms_since_epoch(then), first);
}

// Against the real clocks, which a test cannot keep from being stepped: the
// timestamp is within the bound of wall_clock.h, widened by how far the two
// clocks moved apart during the test (zero unless the system clock was stepped,
// plus read noise), which the test measures.
TEST(WallClock, AgreesWithTheSystemClockWithinTheStepsItTook) {
  const auto& system = SystemTimeSources::instance();
  auto probe = [&] {  // the wall clock's offset to the steady clock, read steady first
    const int64_t steady = system.steady_ns();
    return system.wall_ns() - steady;
  };
  int64_t min_offset = probe();
  int64_t max_offset = min_offset;
  WallClock clock;
  const auto end = std::chrono::steady_clock::now() + 5 * WallClock::kResyncInterval;
  int checks = 0;
  while (std::chrono::steady_clock::now() < end) {
    const int64_t before = system.wall_ns() / kMs;
    const int64_t t = clock.ms_since_epoch(std::chrono::steady_clock::now());
    const int64_t after = system.wall_ns() / kMs;
    for (int64_t o : {probe(), probe()}) {
      min_offset = std::min(min_offset, o);
      max_offset = std::max(max_offset, o);
    }
    // How far the clocks moved apart, in whole ms rounded up, plus the resync's
    // read gap, plus 1 for rounding both sides down to ms and the probes' own noise.
    const int64_t slack = (max_offset - min_offset + kMs - 1) / kMs +
                          std::chrono::duration_cast<std::chrono::milliseconds>(WallClock::kResyncReadGap).count() + 1;
    ASSERT_GE(t, before - slack) << "drift " << (max_offset - min_offset) << " ns";
    ASSERT_LE(t, after + slack) << "drift " << (max_offset - min_offset) << " ns";
    ++checks;
  }
  EXPECT_GT(checks, 10);
}

}  // namespace
}  // namespace sluice::client
