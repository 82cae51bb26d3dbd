// What recovery does with a segment file that is damaged below the recovery point
// (bytes that were synced, so the damage is corruption, not a torn write): find
// the good batches after the damage, set the original file aside in the
// partition's quarantine folder, and keep every good batch served.
//
// The good batches after the damage become segments of their own, named by their
// base offsets; the damaged segment keeps its good prefix. The damaged offsets are
// then a hole between two segments, which recovery and reads report (in a log
// whose offset gaps are damage) without any state beyond the segment files.
//
// Thread-safety: free functions, called by the partition log's loader only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/file_system.h"
#include "sluice/storage/log_config.h"

namespace sluice::storage {

// Consecutive good batches of a file: [position, position + size), offsets [base, next).
struct GoodRun {
  uint64_t position = 0;
  uint64_t size = 0;
  Offset base;
  Offset next;
  uint64_t size_of_first = 0;  // bytes of the run's first batch
};

// The runs of good batches in [from, file.size()), where the bytes at `from` are
// damaged and the next good batch must start at `expected` or later. A batch is
// good when its framing and CRC check and its offsets keep order (see
// offset_order_violation). A frame too garbled to skip is searched past byte by
// byte for the next batch that checks.
Result<std::vector<GoodRun>> find_good_runs(const File& file, uint64_t from, Offset expected, OffsetGaps gaps,
                                            size_t max_batch_bytes);

// Copies `<dir>/<file_name>` to `<dir>/quarantine/<file_name>.<now_ms>` with a
// `.txt` beside it holding `reason`, both synced. Returns the copy's path.
Result<std::string> quarantine_copy(FileSystem& fs, const std::string& dir, const std::string& file_name,
                                    const std::string& reason, int64_t now_ms);

// Moves `<dir>/<file_name>` into the quarantine folder (as quarantine_copy names
// it), for a file recovery cannot use at all. Returns the new path.
Result<std::string> quarantine_move(FileSystem& fs, const std::string& dir, const std::string& file_name,
                                    const std::string& reason, int64_t now_ms);

// Writes the bytes of `run` in `from` as the segment file `<dir>/<run.base>.log`
// (a temporary file, synced, renamed over any file of that name).
Status write_run_as_segment(FileSystem& fs, const File& from, const std::string& dir, const GoodRun& run);

}  // namespace sluice::storage
