#include "sluice/storage/group_commit.h"

#include <algorithm>

#include "sluice/common/log.h"

namespace sluice::storage {

void GroupCommit::reset(Offset end) {
  std::lock_guard lock(mu_);
  durable_end_ = end.value();
}

Status GroupCommit::wait_durable(Offset next_offset) {
  std::unique_lock lock(mu_);
  // A truncation may pull the log end below `next_offset`; then the wait ends once
  // everything up to the new end is synced, instead of syncing forever.
  auto goal = [&] { return std::min(next_offset.value(), log_end_.load(std::memory_order_acquire)); };
  while (durable_end_ < goal()) {
    if (sync_running_) {
      cv_.wait(lock);
      continue;
    }
    sync_running_ = true;
    int64_t synced_from = durable_end_;
    uint64_t truncations = truncations_;
    lock.unlock();
    // Everything below `target` was written before we read it; syncing every
    // segment that may hold offsets >= synced_from covers it.
    int64_t target = log_end_.load(std::memory_order_acquire);
    auto list = segments_.snapshot();
    Status status;
    for (const auto& segment : *list) {
      if (segment->next_offset().value() > synced_from) {
        status = segment->sync();
        if (!status) break;
      }
    }
    lock.lock();
    sync_running_ = false;
    ++syncs_;
    if (!status) {
      cv_.notify_all();
      // The page cache may have dropped the failed pages; nothing can be promised.
      log::error("storage", "fsync_failed", {{"dir", dir_}, {"error", status.error().to_string()}});
      return status;
    }
    if (truncations == truncations_) durable_end_ = std::max(durable_end_, target);
    cv_.notify_all();
  }
  return {};
}

void GroupCommit::synced_to(Offset end) {
  std::lock_guard lock(mu_);
  durable_end_ = std::max(durable_end_, end.value());
}

void GroupCommit::truncated_to(Offset end) {
  std::lock_guard lock(mu_);
  durable_end_ = std::min(durable_end_, end.value());
  ++truncations_;
}

Offset GroupCommit::durable_end() const {
  std::lock_guard lock(mu_);
  return Offset(durable_end_);
}

uint64_t GroupCommit::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

}  // namespace sluice::storage
