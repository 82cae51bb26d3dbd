#include "memory_budget.h"

#include <algorithm>
#include <string>

#include "sluice/client/client_errors.h"

namespace sluice::client {

Status MemoryBudget::reserve(size_t bytes, Block block, Deadline deadline) {
  std::unique_lock lock(mutex_);
  auto full = [&] {
    return tl::unexpected(
        client_error(ErrorCode::buffer_full, std::to_string(bytes) + " bytes do not fit in buffer_memory (" +
                                                 std::to_string(available_) + " of " + std::to_string(total_) +
                                                 " bytes free)" + (block == Block::yes ? " within max_block_ms" : "")));
  };
  if (waiters_.empty() && available_ >= bytes) {
    available_ -= bytes;
    return {};
  }
  if (block == Block::no) return full();
  uint64_t ticket = next_ticket_++;
  waiters_.push_back(ticket);
  if (on_wait_) {
    lock.unlock();
    on_wait_();
    lock.lock();
  }
  bool ok = clock_.wait_until(cv_, lock, deadline, [&] { return waiters_.front() == ticket && available_ >= bytes; });
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), ticket));
  if (ok) available_ -= bytes;
  // The next waiter may fit now (or the queue head changed).
  cv_.notify_all();
  if (!ok) return full();
  return {};
}

void MemoryBudget::release(size_t bytes) {
  {
    std::lock_guard lock(mutex_);
    available_ = std::min(total_, available_ + bytes);
  }
  cv_.notify_all();
}

size_t MemoryBudget::available() const {
  std::lock_guard lock(mutex_);
  return available_;
}

bool MemoryBudget::has_waiters() const {
  std::lock_guard lock(mutex_);
  return !waiters_.empty();
}

size_t MemoryBudget::waiters() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

}  // namespace sluice::client
