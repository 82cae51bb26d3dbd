// The producer's buffer_memory: bytes of records accepted by send() and not yet
// acknowledged. reserve() takes bytes, blocking until others release() them or
// a deadline passes (by the clock it is given); waiters are served first come,
// first served so a large record is not starved by a stream of small ones.
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

#include "sluice/common/error.h"

#include "time_util.h"

namespace sluice::client {

class MemoryBudget {
 public:
  using Deadline = SteadyTime;

  // `clock` must outlive the budget.
  explicit MemoryBudget(size_t total_bytes, const SteadyClock& clock = SystemSteadyClock::instance())
      : total_(total_bytes), clock_(clock), available_(total_bytes) {}

  // Called (without the lock) each time a reserve() starts to wait, so whoever
  // frees memory can hurry. Set before any reserve().
  void set_on_wait(std::function<void()> on_wait) { on_wait_ = std::move(on_wait); }

  // Whether reserve() may wait for memory to be released.
  enum class Block : bool { no, yes };

  // Takes `bytes`. With Block::no, or once `deadline` passes, fails with
  // BUFFER_FULL instead of waiting. REQUIRES: bytes <= total().
  Status reserve(size_t bytes, Block block, Deadline deadline);
  void release(size_t bytes);

  size_t total() const { return total_; }
  size_t available() const;
  // True while some reserve() is waiting: the sender then treats every batch as
  // ready, to free memory sooner.
  bool has_waiters() const;
  // How many reserve() calls are waiting.
  size_t waiters() const;

 private:
  const size_t total_;
  const SteadyClock& clock_;
  std::function<void()> on_wait_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  size_t available_;
  std::deque<uint64_t> waiters_;  // tickets in arrival order
  uint64_t next_ticket_ = 0;
};

}  // namespace sluice::client
