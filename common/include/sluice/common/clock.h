// A seam for wall-clock time so retention, segment age and timestamps can be tested
// without sleeping. Thread-safety: implementations must be safe to call concurrently.
#pragma once

#include <atomic>
#include <chrono>

#include "sluice/common/strong_int.h"

namespace sluice {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimestampMs now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimestampMs now() const override {
    using namespace std::chrono;
    return TimestampMs(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that only moves when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  TimestampMs now() const override { return TimestampMs(now_.load()); }
  void advance_ms(int64_t ms) { now_ += ms; }
  void set_ms(int64_t ms) { now_ = ms; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace sluice
