// The ordered segments of one partition log, published as one immutable list so
// readers never wait for the writer: lookup by offset, the holes between
// segments, and the changes of whole segments (roll, retention, truncation).
//
//   [0 .. 99] [100 .. 250] [251 .. (active)
//   ^ front(): log start offset      ^ back(): the active segment
//
// Invariants: never empty once published; bases increase; only the last segment
// is ever appended to.
// Thread-safety: snapshot() and the const getters from any thread, without locks;
// publish() and the mutators only from the log's writer (under its lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/log_config.h"
#include "sluice/storage/log_recovery.h"
#include "sluice/storage/segment.h"

namespace sluice::storage {

using SegmentList = std::vector<std::shared_ptr<Segment>>;

// The index in `list` of the segment that holds `offset`, or of the last one
// whose base is below it (0 when every base is above it). REQUIRES: list not empty.
size_t segment_index_for(const SegmentList& list, Offset offset);

// The offsets missing between two consecutive segments: what the first held
// past its good bytes.
DamagedRange hole_between(const Segment& before, const Segment& after);
// The holes between consecutive segments, in a log whose gaps are damage.
std::vector<DamagedRange> holes(const SegmentList& list, OffsetGaps gaps);
// The error a read of a hole's offsets fails with.
Error hole_error(const std::string& dir, const DamagedRange& hole);

class SegmentSet {
 public:
  std::shared_ptr<const SegmentList> snapshot() const { return segments_.load(std::memory_order_acquire); }
  void publish(SegmentList list) { segments_.store(std::make_shared<const SegmentList>(std::move(list))); }

  Offset log_start_offset() const { return snapshot()->front()->base_offset(); }
  uint64_t size_bytes() const;
  size_t count() const { return snapshot()->size(); }
  size_t index_memory_bytes() const;

  // --- writer ---
  // Adds `segment` (the new active one) at the end.
  void push_back(std::shared_ptr<Segment> segment);
  // Deletes whole segments, oldest first and never the active one, whose newest
  // record is older than retention_ms at `now_ms`, or while the log stays over
  // retention_bytes without them (-1: no limit). Returns how many.
  Result<size_t> apply_retention(int64_t now_ms, int64_t retention_ms, int64_t retention_bytes);
  // Cuts the log at `offset`, a batch boundary in [log start, log end]: the
  // segment holding it is truncated, `log_end` lowered to where the kept batches
  // end (so readers stop there), and only then the later segments' files removed.
  // Returns the segments left, not yet published (the caller publishes them once
  // the state that depends on them is rebuilt).
  Result<SegmentList> truncated_at(Offset offset, std::atomic<int64_t>& log_end);

 private:
  std::atomic<std::shared_ptr<const SegmentList>> segments_;
};

}  // namespace sluice::storage
