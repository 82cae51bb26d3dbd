// What recovery found when a partition log opened: the report, and the damaged
// offset ranges it left as holes (see partition_log.h for the rules).
// Thread-safety: value types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sluice/common/strong_int.h"

namespace sluice::storage {

struct RecoveryReport {
  bool clean_shutdown = false;
  size_t segments_scanned = 0;
  uint64_t bytes_truncated = 0;       // the torn tail cut off the last segment
  size_t segments_quarantined = 0;    // damaged or overlapping segment files set aside
  size_t empty_segments_removed = 0;  // empty files a power cut left after the last record
};

// Offsets [first, end) that a log whose gaps are damage does not hold: they were
// in `segment` at `position` (where its good bytes end) before recovery found
// them damaged and set the file aside.
struct DamagedRange {
  Offset first;
  Offset end;
  std::string segment;
  uint64_t position = 0;
};

}  // namespace sluice::storage
