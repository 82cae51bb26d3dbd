#include "sluice/storage/interval_flusher.h"

namespace sluice::storage {

IntervalFlusher::IntervalFlusher(size_t threads) {
  for (size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this](const std::stop_token& stop) { work(stop); });
  }
}

IntervalFlusher::~IntervalFlusher() {
  for (auto& t : threads_) t.request_stop();
  cv_.notify_all();
  threads_.clear();  // joins
}

IntervalFlusher& IntervalFlusher::shared() {
  static IntervalFlusher flusher(2);
  return flusher;
}

IntervalFlusher::Registration& IntervalFlusher::Registration::operator=(Registration&& o) noexcept {
  if (this != &o) {
    reset();
    flusher_ = std::exchange(o.flusher_, nullptr);
    id_ = o.id_;
  }
  return *this;
}

void IntervalFlusher::Registration::reset() {
  if (flusher_) std::exchange(flusher_, nullptr)->remove(id_);
}

IntervalFlusher::Registration IntervalFlusher::add(std::chrono::milliseconds interval, std::function<void()> task) {
  std::lock_guard lock(mu_);
  uint64_t id = next_id_++;
  Clock::time_point due = Clock::now() + interval;
  tasks_.emplace(id, Task{interval, std::move(task), due});
  due_.emplace(due, id);
  cv_.notify_all();
  return Registration(this, id);
}

void IntervalFlusher::remove(uint64_t id) {
  std::unique_lock lock(mu_);
  // A run in progress still uses the task, and the caller may free what it
  // touches once we return: wait for it (it queues the task again when it ends).
  cv_.wait(lock, [&] { return !running_.contains(id); });
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  due_.erase({it->second.due, id});
  tasks_.erase(it);
  cv_.notify_all();
}

size_t IntervalFlusher::size() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

void IntervalFlusher::work(const std::stop_token& stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    if (due_.empty()) {
      cv_.wait(lock, stop, [&] { return !due_.empty(); });
      continue;
    }
    const Clock::time_point due = due_.begin()->first;
    const uint64_t id = due_.begin()->second;
    if (Clock::now() < due) {
      // Woken early by a new task, a removal or stop: look again.
      cv_.wait_until(lock, stop, due, [&] { return due_.empty() || due_.begin()->first < due; });
      continue;
    }
    due_.erase(due_.begin());
    running_.insert(id);
    Task& task = tasks_.at(id);  // std::map: stays valid while other tasks come and go
    lock.unlock();
    task.run();
    lock.lock();
    running_.erase(id);
    task.due = Clock::now() + task.interval;
    due_.emplace(task.due, id);
    cv_.notify_all();
  }
}

}  // namespace sluice::storage
