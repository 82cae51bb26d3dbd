// Reads of a partition log: whole batches from an offset, bounded by
// ReadOptions (bytes, an upper offset, at least one batch), checked before they
// are served, and lookups by timestamp. Works on a published snapshot of the
// segments, so it never waits for the writer.
//
// Every batch returned passed its CRC check, in this read or an earlier one
// (ReadMode::locate reads only the headers of bytes checked before). A damaged
// first batch is an error; a later one ends the read early; a read from before
// a hole stops in front of it, and a read inside one fails with corrupt_data.
// Thread-safety: const, any number of threads at once; allow_gaps() may run
// beside reads.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/storage/log_config.h"
#include "sluice/storage/log_read.h"
#include "sluice/storage/segment_set.h"

namespace sluice::storage {

class LogReader {
 public:
  // `dir` names the log in errors; it must outlive the reader.
  LogReader(const std::string& dir, size_t max_batch_bytes, OffsetGaps gaps)
      : dir_(dir), max_batch_bytes_(max_batch_bytes), gaps_(gaps) {}

  // From now on gaps between batches are legal (a log switched to compaction;
  // never switched back, as gaps a cleaner left stay legal).
  void allow_gaps() { gaps_.store(OffsetGaps::are_legal, std::memory_order_relaxed); }

  // Whole batches starting with the one that holds `offset`, within `options`,
  // from `segments` of a log that ends at `log_end` (loaded after the segments).
  // Reading at the bound returns no bytes; offsets outside [log start, log end]
  // are offset_out_of_range. `out` is resized as needed (ReadMode::copy: to the
  // bytes read).
  Result<ReadResult> read(const SegmentList& segments, Offset log_end, Offset offset, const ReadOptions& options,
                          Bytes& out) const;

  // The first record with timestamp >= `timestamp`, or nullopt if there is none.
  Result<std::optional<TimestampLookup>> offset_for_timestamp(const SegmentList& segments, int64_t timestamp) const;

 private:
  const std::string& dir_;
  size_t max_batch_bytes_;
  std::atomic<OffsetGaps> gaps_;
};

}  // namespace sluice::storage
