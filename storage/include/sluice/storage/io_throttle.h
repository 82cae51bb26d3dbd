// Paces the log cleaner's I/O to at most a rate (log.cleaner.io.max.bytes.per.second,
// Kafka's Throttler). The cleaner reports every batch it reads and writes. A
// token bucket: credit grows at the rate, up to kBurst's worth, and each batch
// spends its bytes; a batch that overdraws sleeps until the debt is paid. So
// idle time between passes buys at most kBurst of unpaced I/O.
// Shared by every cleaner thread: a sleep holds back all of them, so the rate
// bounds their sum.
// Thread-safety: any thread. stop() ends a sleep at once and disables the throttle for good.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace sluice::storage {

class IoThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kBurst{100};

  // A rate of 0 or less, or infinity, never pauses.
  explicit IoThrottle(double bytes_per_second);

  struct Pace {
    std::chrono::nanoseconds pause{0};
    double credit = 0;  // bytes that may go unpaced after the pause
  };
  // The bucket's arithmetic: `credit` bytes were left `elapsed` ago, and now
  // `bytes` go at `bytes_per_second` (> 0).
  static Pace pace(double credit, std::chrono::nanoseconds elapsed, uint64_t bytes, double bytes_per_second);

  // Counts `bytes` of I/O; sleeps when they overdraw the bucket.
  void record(uint64_t bytes);
  void stop();

  uint64_t bytes_recorded() const;
  std::chrono::nanoseconds time_paused() const;

 private:
  const double bytes_per_second_;  // 0: no limit
  std::mutex pace_mu_;             // held through a sleep: the other threads wait behind it
  mutable std::mutex mu_;
  std::condition_variable stopped_;
  bool stopping_ = false;
  double credit_ = 0;
  Clock::time_point last_ = Clock::now();
  uint64_t bytes_recorded_ = 0;
  std::chrono::nanoseconds time_paused_{0};
};

}  // namespace sluice::storage
