// One segment of a partition log: `<base>.log` with its sparse `<base>.index` and
// `<base>.timeindex`, all named by the 20-digit base offset.
//
// Invariants: batches are stored back to back with increasing offsets, all >= the
// base offset; [0, size()) holds only whole batches, and [0, verified_size()) only
// batches whose CRC this process has checked (after a clean shutdown nothing is
// checked at open: readers check on first read); the index files on disk are
// written when the segment stops being active (roll) and on clean close, and
// rebuilt whenever they are missing, damaged or may be stale.
//
// Thread-safety: one writer (the partition log's appender) calls the mutating
// methods; any number of readers call the const ones concurrently, without locks.
// The writer publishes size, next offset and index entries after the bytes they
// describe are written.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/file_system.h"
#include "sluice/storage/log_config.h"
#include "sluice/storage/record_batch.h"
#include "sluice/storage/sparse_index.h"

namespace sluice::storage {

struct SegmentOptions {
  uint32_t index_interval_bytes = 4096;
  size_t max_batch_bytes = 1 << 20;
  uint64_t segment_bytes = 1ull << 30;  // bounds the index entries of an active segment
  OffsetGaps offset_gaps = OffsetGaps::are_damage;
};

// What a scan found in a segment file. The segment opened with only the good
// prefix [0, valid_bytes); the bytes after it are still in the file until the
// partition log decides what they are (a torn tail to cut, or damage to set aside).
struct SegmentRecovery {
  uint64_t original_bytes = 0;
  uint64_t valid_bytes = 0;
  bool damaged = false;  // the file holds bytes past valid_bytes that are not good batches
  std::string reason;    // why, when damaged
};

// Checks that a batch starting at `base` may follow a batch that ended at
// `expected` (the next offset after it): equal when gaps are damage, not below it
// when they are legal. Returns why not, or an empty string.
std::string offset_order_violation(Offset base, Offset expected, OffsetGaps gaps);

// Where the batch holding an offset starts, and the base offset it must have
// (see offset_order_violation) given the batches before it.
struct BatchPosition {
  uint64_t position = 0;
  Offset expected_base;
};

std::string segment_file_name(Offset base_offset, std::string_view suffix);

// The folder of a partition directory where recovery sets damaged files aside.
inline constexpr std::string_view kQuarantineDir = "quarantine";

class Segment {
 public:
  static Result<std::unique_ptr<Segment>> create(FileSystem& fs, const std::string& dir, Offset base_offset,
                                                 const SegmentOptions& options);
  // As create, with files named `<stem>.log` (and `.index`, `.timeindex`) instead of
  // by the base offset: the cleaner writes a segment under a name recovery
  // recognises (log_cleaning.h) and renames it into place.
  static Result<std::unique_ptr<Segment>> create_named(FileSystem& fs, const std::string& dir, Offset base_offset,
                                                       const SegmentOptions& options, std::string stem);
  // Opens an existing segment. With Scan::yes, every batch is checked (length,
  // CRC, offset order) and the indexes are rebuilt; without it, the index files
  // are loaded if sane, and the file is scanned when they are not. A scan that
  // finds damage opens the good prefix and says so in `report`; the file is not
  // changed (cut_to_size() or the partition log's quarantine decides).
  enum class Scan : bool { no, yes };
  static Result<std::unique_ptr<Segment>> open(FileSystem& fs, const std::string& dir, Offset base_offset,
                                               const SegmentOptions& options, Scan scan, SegmentRecovery& report);

  Offset base_offset() const { return base_offset_; }
  // One past the last offset stored (the base offset when empty).
  Offset next_offset() const { return Offset(next_offset_.load(std::memory_order_acquire)); }
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  bool empty() const { return size() == 0; }
  // Largest batch max-timestamp in the segment; -1 when empty.
  int64_t max_timestamp() const { return max_timestamp_.load(std::memory_order_acquire); }
  // [0, verified_size()) passed a CRC check in this process: at append, in a
  // recovery scan, or in an earlier read. A segment opened after a clean shutdown
  // starts unverified, so corruption at rest is still caught once.
  uint64_t verified_size() const { return verified_.load(std::memory_order_acquire); }
  // Records that [from, to) passed its check; extends the verified prefix if it
  // reaches it.
  void mark_verified(uint64_t from, uint64_t to) const;

  // --- writer ---
  // REQUIRES: header describes `batch`, the batch passed its CRC check, and
  // header.base_offset >= next_offset().
  Status append(ByteSpan batch, const BatchHeader& header);
  // Removes every batch at or after `offset`. REQUIRES: base_offset() <= offset.
  // Fails with not_batch_boundary if `offset` is inside a batch.
  Status truncate_to(Offset offset);
  Status sync() { return log_->sync(); }
  // Cuts the file to size(): drops what a scan found past the good prefix.
  Status cut_to_size() { return log_->truncate(size()); }
  // Whether write_indexes() makes the files durable (atomic replace, synced).
  enum class Sync : bool { no, yes };
  // Writes `.index` and `.timeindex` (with Sync::yes, durably).
  Status write_indexes(Sync sync);
  Status remove_files();
  // Renames the segment's files to `<stem>.*`: the index files first, the log
  // last, so a log file under the new name means the indexes were moved too (or
  // never written). The open file stays valid.
  Status rename_files(std::string stem);

  // --- readers ---
  // File position of the batch that contains `offset`, or of the first batch after
  // it; size() when there is none. REQUIRES: offset >= base_offset(). The index
  // entry it starts from must point at a batch with the entry's offset (else an
  // earlier entry is used), and the headers it walks must keep offset order;
  // a header that does not is corrupt_data.
  Result<BatchPosition> locate(Offset offset) const;
  Result<uint64_t> position_of(Offset offset) const;
  // Position of the first batch whose max timestamp is >= `timestamp`, or size().
  Result<uint64_t> position_of_timestamp(int64_t timestamp) const;
  const File& log_file() const { return *log_; }
  // The segment is full: give back the disk its log file reserved for growth.
  void release_reserve() { log_->release_reserve(); }
  const OffsetIndex& offset_index() const { return index_; }
  // Heap bytes held by the in-memory indexes.
  size_t index_memory_bytes() const { return index_.memory_bytes() + time_index_.memory_bytes(); }
  const SegmentOptions& options() const { return options_; }

 private:
  Segment(FileSystem& fs, std::string dir, Offset base, SegmentOptions options, std::unique_ptr<File> log);
  // Rebuilds the indexes from a scan of the file. Without a report, damage is an
  // error (corrupt_data); with one, the segment keeps the good prefix.
  Status rebuild(SegmentRecovery* report);
  bool load_indexes();
  void index_batch(const BatchHeader& header, uint64_t position);
  std::string path(std::string_view suffix) const;

  FileSystem& fs_;
  std::string dir_;
  Offset base_offset_;
  std::string stem_;  // file names are stem_ + ".log" and so on
  SegmentOptions options_;
  std::unique_ptr<File> log_;
  OffsetIndex index_;
  TimeIndex time_index_;
  std::atomic<uint64_t> size_{0};
  mutable std::atomic<uint64_t> verified_{0};
  mutable std::atomic<bool> index_mismatch_logged_{false};  // a damaged index entry is logged once
  std::atomic<int64_t> next_offset_;
  std::atomic<int64_t> max_timestamp_{-1};
  uint64_t bytes_since_index_entry_ = 0;  // writer only
};

}  // namespace sluice::storage
