// The durability of one partition log: how far it is known to be synced
// (durable end), and group commit — appends that wait for durability while a
// sync runs share the next one, so one fdatasync covers many batches.
//
//   offsets:  [ .......... durable end) ........... log end)
//                 synced                  written, not yet synced
//
// Invariant: the durable end only rises, except that a truncation lowers it to
// the new log end. A sync that overlapped a truncation (the truncation
// generation changed while it ran) may have run before the bytes now at its
// target offsets were written, so it does not raise the durable end.
// Thread-safety: every method from any thread; one sync runs at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/segment_set.h"

namespace sluice::storage {

class GroupCommit {
 public:
  // `log_end` and `segments` are the log's; they must outlive this object.
  GroupCommit(const std::string& dir, const std::atomic<int64_t>& log_end, const SegmentSet& segments)
      : dir_(dir), log_end_(log_end), segments_(segments) {}

  // At open: everything below `end` is synced.
  void reset(Offset end);
  // Blocks until offsets below `next_offset` (or the log end, if a truncation
  // pulled it below) are synced, syncing itself when no sync is running.
  Status wait_durable(Offset next_offset);
  // Offsets below `end` were synced by other means (a roll syncs the finished segment).
  void synced_to(Offset end);
  // A truncation cut the log at `end`.
  void truncated_to(Offset end);

  Offset durable_end() const;
  uint64_t syncs() const;

 private:
  const std::string& dir_;
  const std::atomic<int64_t>& log_end_;
  const SegmentSet& segments_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool sync_running_ = false;  // under mu_
  int64_t durable_end_ = 0;    // under mu_
  uint64_t syncs_ = 0;         // under mu_
  uint64_t truncations_ = 0;   // under mu_: bumped by truncated_to
};

}  // namespace sluice::storage
