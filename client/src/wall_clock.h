// Record timestamps (wall-clock milliseconds) from the steady-clock reading that
// send() takes anyway: one clock read per record instead of two. A clock read costs
// about 25 ns on this VM, a tenth of the producer's own CPU per record.
//
// How: the offset between the two clocks is read (resync) and added to steady
// readings. CLOCK_REALTIME and CLOCK_MONOTONIC advance at the same rate (NTP and
// adjtime slew both) and only move apart when the wall clock is stepped
// (settimeofday, a hypervisor's time sync, chrony's makestep), so the offset is
// read again at most kResyncInterval after the last time.
//
// The bound, for a steady reading `now` mapped to timestamp t:
//   - No step since the last resync: wall(now) <= t <= wall(now) + g, where wall
//     is the system clock (in ms, rounded down) and g the time between the two
//     reads of the last resync (the tightest of a few tries; microseconds unless
//     the thread was preempted on every try). t is never behind the wall clock.
//   - A step of S since the last resync: t is off by S (behind after a forward
//     step, ahead after a backward one) until the first reading at least
//     kResyncInterval after that resync, which maps exactly again.
//
// Thread-safety: every method may be called from any thread; two threads resyncing
// at once both store a valid offset. The TimeSources must be thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "time_util.h"

namespace sluice::client {

// Where WallClock reads the two clocks, in nanoseconds since their epochs. Tests
// substitute clocks they step; read only on a resync, so a virtual call is cheap.
class TimeSources {
 public:
  virtual ~TimeSources() = default;
  virtual int64_t steady_ns() const = 0;
  virtual int64_t wall_ns() const = 0;
};

class SystemTimeSources final : public TimeSources {
 public:
  int64_t steady_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  int64_t wall_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const SystemTimeSources& instance() {
    static const SystemTimeSources kSources;
    return kSources;
  }
};

class WallClock {
 public:
  static constexpr std::chrono::milliseconds kResyncInterval{10};
  // A resync whose two reads are further apart than this (preempted between
  // them) is tried again, up to kResyncTries times; the tightest try is kept.
  static constexpr std::chrono::microseconds kResyncReadGap{20};
  static constexpr int kResyncTries = 3;

  // `sources` must outlive the clock.
  explicit WallClock(const TimeSources& sources = SystemTimeSources::instance()) : sources_(sources) { resync(); }

  // Milliseconds since the Unix epoch at the steady time `now` (a recent reading
  // of the steady clock of `sources`).
  int64_t ms_since_epoch(SteadyTime now) {
    const int64_t steady_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    if (steady_ns - synced_at_ns_.load(std::memory_order_relaxed) >= kResyncNs) resync();
    return (steady_ns + offset_ns_.load(std::memory_order_relaxed)) / 1'000'000;
  }

 private:
  static constexpr int64_t kResyncNs = std::chrono::nanoseconds(kResyncInterval).count();
  static constexpr int64_t kResyncReadGapNs = std::chrono::nanoseconds(kResyncReadGap).count();

  // The steady clock is read first, so the offset is never smaller than the
  // true one: timestamps are never behind the wall clock (see the bound above).
  void resync() {
    int64_t best_offset = 0;
    int64_t best_gap = INT64_MAX;
    int64_t synced_at = 0;
    for (int i = 0; i < kResyncTries && best_gap > kResyncReadGapNs; ++i) {
      const int64_t steady_before = sources_.steady_ns();
      const int64_t wall = sources_.wall_ns();
      const int64_t gap = sources_.steady_ns() - steady_before;
      if (gap < best_gap) {
        best_gap = gap;
        best_offset = wall - steady_before;
        synced_at = steady_before;
      }
    }
    offset_ns_.store(best_offset, std::memory_order_relaxed);
    synced_at_ns_.store(synced_at, std::memory_order_relaxed);
  }

  const TimeSources& sources_;
  std::atomic<int64_t> offset_ns_{0};
  std::atomic<int64_t> synced_at_ns_{0};
};

}  // namespace sluice::client
