// The steady clock seam: the time that deadlines, linger, backoff, long polls
// and idle timeouts are measured on, and waits against it, so a test can move
// time instead of sleeping (tests/support/manual_steady_clock.h).
//
// Why not sluice::Clock (clock.h): that one is the wall clock in whole
// milliseconds, for retention and timestamps; a step of the wall clock must not
// stretch or cut a linger, a max_block_ms or a request timeout.
//
// Asio timers run on the real steady clock. A timer is therefore only a
// wake-up: the deadline is computed from now() of this clock, the timer is set
// to the same deadline (exact with the system clock), and a clock that moves
// by other means (the manual one) calls the callbacks registered with
// on_advance(), after which the waiter re-reads now() and re-arms.
//
// Thread-safety: SteadyClock implementations are safe to call from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace sluice {

using SteadyTime = std::chrono::steady_clock::time_point;

class SteadyClock {
 public:
  // Called after the clock jumped forward. It runs on the thread that moved the
  // clock: it must only post to the waiter's executor or notify, never block.
  using AdvanceCallback = std::function<void()>;
  // 0 is never returned; a clock that only runs in real time returns 0 and
  // never calls back (its asio timers fire at the deadline by themselves).
  using Subscription = uint64_t;

  virtual ~SteadyClock() = default;
  virtual SteadyTime now() const = 0;

  // Whether this clock jumps (and calls back through on_advance). Per-wait
  // callers check it first, so the real clock costs them no callback object.
  virtual bool jumps() const { return false; }
  virtual Subscription on_advance(const AdvanceCallback& /*callback*/) const { return 0; }
  // After it returns the callback is not running and will not run again.
  virtual void cancel_on_advance(Subscription /*subscription*/) const {}

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

// The real steady time an asio timer is set to for `deadline` on `clock`: the
// deadline itself with the system clock; with a clock that moves by other means,
// the same distance from now in real time, and on_advance() wakes the waiter
// earlier when the clock jumps.
inline std::chrono::steady_clock::time_point timer_expiry(const SteadyClock& clock, SteadyTime deadline) {
  if (deadline == SteadyTime::max()) return std::chrono::steady_clock::time_point::max();
  const auto remaining = std::max(deadline - clock.now(), SteadyTime::duration::zero());
  return std::chrono::steady_clock::now() + remaining;
}

}  // namespace sluice
