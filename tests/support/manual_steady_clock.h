// A steady clock for tests that moves only when told (advance()), so timeouts
// are tested without sleeping: a wait against it ends when the test moves the
// time past its deadline, or when it is notified; an asio waiter that
// registered with on_advance() is called back by advance() and re-reads now().
// Condition-variable waits re-read the time every millisecond of real time,
// which bounds how long after an advance() a waiter notices it; the test waits
// on what the waiter does next (it returns, a thread joins), never on that
// millisecond.
// Thread-safety: every method may be called from any thread. Callbacks run
// under the registry's lock, so they must not call on_advance() or
// cancel_on_advance() themselves (they only post or notify).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "sluice/common/steady_clock.h"

namespace sluice::testing {

class ManualSteadyClock final : public SteadyClock {
 public:
  SteadyTime now() const override { return SteadyTime(std::chrono::nanoseconds(now_ns_.load())); }

  void advance(std::chrono::nanoseconds d) {
    now_ns_ += d.count();
    std::lock_guard lock(mu_);
    for (auto& [id, callback] : callbacks_) callback();
  }

  bool jumps() const override { return true; }
  Subscription on_advance(const AdvanceCallback& callback) const override {
    std::lock_guard lock(mu_);
    const Subscription id = next_id_++;
    callbacks_.emplace(id, callback);
    changed_.notify_all();
    return id;
  }

  void cancel_on_advance(Subscription subscription) const override {
    std::lock_guard lock(mu_);
    callbacks_.erase(subscription);
    changed_.notify_all();
  }

  // Blocks until pred(waiters registered now, registrations ever made) holds, or
  // `limit` of real time passed (a failure bound only); returns pred's last value.
  // A test learns from it that the code under test is waiting on this clock.
  template <typename Predicate>
  bool await_waiters(Predicate pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) const {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, limit, [&] { return pred(callbacks_.size(), next_id_ - 1); });
  }

 protected:
  void wait_for_notify(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, SteadyTime /*deadline*/,
                       SteadyTime /*now_time*/) const override {
    cv.wait_for(lock, std::chrono::milliseconds(1));
  }

 private:
  std::atomic<int64_t> now_ns_{std::chrono::nanoseconds(std::chrono::hours(1)).count()};
  mutable std::mutex mu_;
  mutable Subscription next_id_ = 1;
  mutable std::map<Subscription, AdvanceCallback> callbacks_;
  mutable std::condition_variable changed_;
};

}  // namespace sluice::testing
