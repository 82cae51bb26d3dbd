// The parts of compaction a partition log's clean() is made of (Kafka's
// LogCleaner.Cleaner), private to storage: the cleaner checkpoint, the key map
// of the dirty section, and the crash-safe swap of cleaned segments.
//
//   [ clean section ][ dirty section ][ active segment ]
//   ^ log start      ^ first dirty    ^ cleanable end (never cleaned)
//
// A pass maps every key of the dirty section (as far as the map holds) to its
// latest offset, then rewrites the segments from the log start up to the map's
// end in groups, keeping a record unless the map holds a later offset for its
// key. Kept records keep their offsets; batches keep their boundaries and
// producer fields (batch_filter.h).
//
// The swap, with B the group's first base and E its end (storage/FORMAT.md):
//   1. write and sync `<B>.<E>.cleaned.log` (and its indexes)
//   2. rename the indexes then the log to `<B>.<E>.swap.*`; sync the directory
//      -- the commit point: from here recovery finishes the swap --
//   3. remove every segment file with base in [B, E)
//   4. rename `<B>.<E>.swap.*` to `<B>.*`; sync the directory
// Recovery (finish_interrupted_swaps) removes `.cleaned` files and, for a
// `.swap.log`, redoes steps 3 and 4. Neither name is a segment name, so nothing
// else reads them.
// Thread-safety: free functions and a value type; the caller serialises passes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/file_system.h"
#include "sluice/storage/io_throttle.h"
#include "sluice/storage/key_offset_map.h"
#include "sluice/storage/segment_set.h"

namespace sluice::storage {

inline constexpr std::string_view kCleanerCheckpointFile = "cleaner-checkpoint";

std::string cleaned_segment_stem(Offset base, Offset end);
std::string swap_segment_stem(Offset base, Offset end);

// Removes what an interrupted pass left: `.cleaned` files are dropped, a
// committed `.swap` replaces the segments it was cleaned from. Runs before the
// segments are listed.
Status finish_interrupted_swaps(FileSystem& fs, const std::string& dir);

// Where the last pass ended, and when each earlier pass ended: a tombstone may
// go once it has been in the clean section for delete.retention.ms.
struct CleanerCheckpoint {
  struct Pass {
    Offset end;
    int64_t time_ms = 0;
  };
  static constexpr size_t kMaxPasses = 32;

  Offset first_dirty{0};
  std::vector<Pass> passes;  // ascending end; the newest pass last

  // Tombstones below this offset are removable at `now_ms`.
  Offset tombstone_horizon(int64_t now_ms, int64_t delete_retention_ms) const;
  // A pass that cleaned up to `end` at `now_ms`. Past kMaxPasses the two oldest
  // merge into one with the later time (a tombstone then lives longer, never shorter).
  void record_pass(Offset end, int64_t now_ms);
  // The log was cut at `end`: nothing at or past it is clean.
  void truncate(Offset end);

  std::string encode() const;
  // A missing or unreadable checkpoint is the empty one: everything dirty, no
  // tombstone removable yet. Cleaning again is safe; removing early is not.
  static CleanerCheckpoint read(FileSystem& fs, const std::string& dir);
  Status write(FileSystem& fs, const std::string& dir) const;
};

// Fills `map` with the latest offset of every key in the batches of `list` from
// `first_dirty` (a batch boundary) to `end`, stopping before the first batch
// that might not fit. Returns where it stopped: every mapped offset is below it.
// Fails with invalid_argument when not even the first batch fits. Each batch
// read is reported to `throttle` (if any).
Result<Offset> build_key_map(const SegmentList& list, Offset first_dirty, Offset end, size_t max_batch_bytes,
                             KeyOffsetMap& map, IoThrottle* throttle = nullptr);

// What a pass decides for each record and emptied batch.
struct CleanRules {
  const KeyOffsetMap* map = nullptr;
  Offset tombstone_horizon{0};  // tombstones below it are dropped
  // Producer id -> the last offset of its newest batch: an emptied batch that is
  // one of these keeps its header, so the producer's sequence survives.
  const std::unordered_map<int64_t, int64_t>* newest_batches = nullptr;
  IoThrottle* throttle = nullptr;  // told of every batch read and written
};

struct CleanedGroup {
  std::unique_ptr<Segment> segment;  // named cleaned_segment_stem(base, end), synced, indexes written
  Offset end;                        // the group's end before cleaning
  uint64_t bytes_before = 0;
  int64_t records_dropped = 0;
  int64_t tombstones_dropped = 0;
};

// Writes the kept batches of `group` (consecutive segments) to a new segment.
Result<CleanedGroup> write_cleaned_group(FileSystem& fs, const std::string& dir, const SegmentList& group,
                                         const SegmentOptions& options, size_t max_batch_bytes,
                                         const CleanRules& rules);

}  // namespace sluice::storage
