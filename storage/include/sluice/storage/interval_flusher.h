// Runs the periodic syncs of `durability=interval` logs on a fixed pool of
// threads, so a log costs no thread of its own: 1,000 such partitions used to
// start 1,000 threads.
//
// Each registered task runs about every `interval` (never two runs of one task at
// once; a run that is late is not made up for). A slow task delays the tasks
// queued behind it on the same thread, never the appends of any log.
//
// Thread-safety: every method is thread-safe. A task must not destroy its own
// registration.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

namespace sluice::storage {

class IntervalFlusher {
 public:
  using Clock = std::chrono::steady_clock;

  explicit IntervalFlusher(size_t threads);
  ~IntervalFlusher();
  IntervalFlusher(const IntervalFlusher&) = delete;
  IntervalFlusher& operator=(const IntervalFlusher&) = delete;

  // The process-wide pool (two threads) that partition logs use.
  static IntervalFlusher& shared();

  // Unregisters on destruction, waiting for a run of the task in progress.
  class Registration {
   public:
    Registration() = default;
    Registration(IntervalFlusher* flusher, uint64_t id) : flusher_(flusher), id_(id) {}
    Registration(Registration&& o) noexcept : flusher_(std::exchange(o.flusher_, nullptr)), id_(o.id_) {}
    Registration& operator=(Registration&& o) noexcept;
    ~Registration() { reset(); }
    void reset();

   private:
    IntervalFlusher* flusher_ = nullptr;
    uint64_t id_ = 0;
  };

  [[nodiscard]] Registration add(std::chrono::milliseconds interval, std::function<void()> task);

  // Tasks registered now (for tests and metrics).
  size_t size() const;

 private:
  struct Task {
    std::chrono::milliseconds interval;
    std::function<void()> run;
    Clock::time_point due;
  };
  void remove(uint64_t id);
  void work(const std::stop_token& stop);

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<uint64_t, Task> tasks_;                        // under mu_
  std::set<std::pair<Clock::time_point, uint64_t>> due_;  // under mu_: tasks not running, by due time
  std::set<uint64_t> running_;                            // under mu_
  uint64_t next_id_ = 1;                                  // under mu_
  std::vector<std::jthread> threads_;
};

}  // namespace sluice::storage
