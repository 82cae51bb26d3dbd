// A steady clock for client tests that moves only when told (advance()), so
// timeouts are tested without sleeping: a wait against it ends when the test
// moves the time past its deadline, or when it is notified.
// Waits re-read the time every millisecond of real time, which bounds how long
// after an advance() a waiter notices it; the test waits on what the waiter
// does next (it returns, a thread joins), never on that millisecond.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>

#include "sluice/client/steady_clock.h"

namespace sluice::testing {

class ManualSteadyClock final : public client::SteadyClock {
 public:
  client::SteadyTime now() const override { return client::SteadyTime(std::chrono::nanoseconds(now_ns_.load())); }
  void advance(std::chrono::nanoseconds d) { now_ns_ += d.count(); }

 protected:
  void wait_for_notify(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, client::SteadyTime /*deadline*/,
                       client::SteadyTime /*now_time*/) const override {
    cv.wait_for(lock, std::chrono::milliseconds(1));
  }

 private:
  std::atomic<int64_t> now_ns_{std::chrono::nanoseconds(std::chrono::hours(1)).count()};
};

}  // namespace sluice::testing
