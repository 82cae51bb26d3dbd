// The client's clock seam: the steady time that deadlines, linger, backoff and
// poll timeouts are measured on, and waits against it, so a test can move time
// instead of sleeping (tests/support/manual_steady_clock.h).
//
// Why not sluice::Clock (common/clock.h): that one is the wall clock in whole
// milliseconds, for retention and timestamps; a step of the wall clock must not
// stretch or cut a linger, a max_block_ms or a request timeout, so the client
// measures them on the steady clock, in its resolution.
//
// Thread-safety: SteadyClock implementations are safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace sluice::client {

using SteadyTime = std::chrono::steady_clock::time_point;

class SteadyClock {
 public:
  virtual ~SteadyClock() = default;
  virtual SteadyTime now() const = 0;

  // cv.wait_until(lock, deadline, pred) with `deadline` by this clock: true once
  // pred() holds, false if the deadline passed first. REQUIRES: lock is held;
  // whoever makes pred() true notifies cv.
  template <typename Predicate>
  bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, SteadyTime deadline,
                  Predicate pred) const {
    while (!pred()) {
      const SteadyTime now_time = now();
      if (now_time >= deadline) return pred();
      wait_for_notify(cv, lock, deadline, now_time);
    }
    return true;
  }

 protected:
  // One wait on cv, returning on a notify, a spurious wake-up, or once `deadline`
  // may have passed. `now_time` is now() read just before.
  virtual void wait_for_notify(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, SteadyTime deadline,
                               SteadyTime now_time) const = 0;
};

class SystemSteadyClock final : public SteadyClock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  static const SystemSteadyClock& instance() {
    static const SystemSteadyClock kClock;
    return kClock;
  }

 protected:
  void wait_for_notify(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, SteadyTime deadline,
                       SteadyTime /*now_time*/) const override {
    cv.wait_until(lock, deadline);
  }
};

}  // namespace sluice::client
