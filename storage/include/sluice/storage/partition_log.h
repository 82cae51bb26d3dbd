// The log of one partition: a directory of segments, appended by one writer and
// read by any number of readers that never wait for it.
//
//   segments:  [0 .. 99] [100 .. 250] [251 .. (active)
//              ^ log start offset                    ^ log end offset (next to assign)
//
// Durability: an append returns after its bytes are synced when the log's
// durability is `fsync` (group commit: appends that arrive while a sync runs share
// the next one). durable_end_offset() says how far the log is known to be synced.
//
// Crash recovery: `recovery-point` (written atomically) holds an offset below which
// every segment was synced; a `clean-shutdown` marker says the last close flushed
// everything. Without the marker, every segment from the one holding the recovery
// point on is scanned: lengths, CRCs and offset order checked, indexes rebuilt.
// Recovery never destroys intact data: the one cut it makes is a torn tail of the
// last segment past the recovery point (bytes never synced). Damage anywhere else
// is corruption: the file is copied to `quarantine/`, every good batch before and
// after the damage stays served, and the damaged offsets become a hole between
// two segments:
//
//   [0 .. 14] damaged [20 .. 99] [100 .. (active)
//   00..00.log        00..20.log  00..100.log       (the original 00..00.log is in quarantine/)
//
// In a log whose offset gaps are damage (any log but a compacted one) a hole is
// reported (log, damaged_ranges()) and a read of its offsets fails with
// corrupt_data naming the segment and position; a read from before it stops
// in front of it. A segment that overlaps the one before it is moved to
// quarantine/ whole.
//
// The parts, in Kafka's words: LogLoader (log_loader.h, private: open and
// recovery), SegmentSet (the ordered segments: lookup, roll, retention,
// truncation), LogReader (reads bounded by ReadOptions) and GroupCommit
// (durability). This class is the facade that owns them and the writer lock.
//
// Thread-safety: every method is safe to call from any thread. append, truncate_to,
// roll, apply_retention, set_config and close serialise on the writer lock; read,
// offset_for_timestamp and the offset getters never take it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sluice/common/bytes.h"
#include "sluice/common/clock.h"
#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/file_system.h"
#include "sluice/storage/group_commit.h"
#include "sluice/storage/interval_flusher.h"
#include "sluice/storage/io_throttle.h"
#include "sluice/storage/key_offset_map.h"
#include "sluice/storage/log_config.h"
#include "sluice/storage/log_read.h"
#include "sluice/storage/log_reader.h"
#include "sluice/storage/log_recovery.h"
#include "sluice/storage/producer_state.h"
#include "sluice/storage/segment.h"
#include "sluice/storage/segment_set.h"

namespace sluice::storage {

struct AppendResult {
  Offset base_offset;
  Offset last_offset;
  int64_t max_timestamp = 0;
  // A retried batch of an idempotent producer: not written again; the offsets
  // are those it was given the first time.
  bool duplicate = false;
};

struct LogStats {
  uint64_t appends = 0;
  uint64_t syncs = 0;  // fdatasync calls made for durability (group commits)
};

struct CleanerCheckpoint;  // log_cleaning.h, private
struct CleanedGroup;

// One compaction pass (PartitionLog::clean).
struct CleanResult {
  bool cleaned = false;  // false: nothing was cleanable
  Offset first_dirty;    // the dirty section mapped: [first_dirty, end)
  Offset end;
  size_t groups = 0;  // segment groups rewritten
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
  int64_t records_dropped = 0;
  int64_t tombstones_dropped = 0;
};

// What a cleaner needs to choose a log (Kafka's LogToClean).
struct CleanableState {
  Offset first_dirty;
  Offset cleanable_end;          // the active segment's base, or lower: min.compaction.lag.ms, an open transaction
  uint64_t clean_bytes = 0;      // segments below the first dirty offset
  uint64_t dirty_bytes = 0;      // segments from it to the cleanable end
  int64_t oldest_dirty_ms = -1;  // the max timestamp of the first dirty segment; -1 when none
  int64_t last_clean_ms = -1;    // when the last pass that cleaned something ended (kept across restarts); -1: never
  double dirty_ratio() const {
    const uint64_t total = clean_bytes + dirty_bytes;
    return total == 0 ? 0.0 : static_cast<double>(dirty_bytes) / static_cast<double>(total);
  }
};

class PartitionLog {
 public:
  // Opens (creating if needed) the log in `dir`. The file system and clock must
  // outlive the log. A log that compacts, or was compacted before (it has a
  // cleaner checkpoint), opens with OffsetGaps::are_legal whatever `config` says.
  static Result<std::unique_ptr<PartitionLog>> open(FileSystem& fs, std::string dir, LogConfig config,
                                                    Clock& clock = SystemClock::instance());
  ~PartitionLog();

  // Validates framing and CRC, checks an idempotent producer's sequence
  // (ProducerStateTable: a duplicate returns its first offsets, a gap or an old
  // epoch is an error), assigns offsets from the log end (rewriting the
  // batch's base offset in place), writes it, rolls the segment if needed, and
  // waits for durability as configured (unless told not to: a caller that only
  // needs the write, like acks=1, can pass AwaitDurable::no).
  enum class AwaitDurable : bool { no, yes };
  Result<AppendResult> append(MutableByteSpan batch, AwaitDurable await_durable = AwaitDurable::yes);
  // As append, for a batch that validate_batch or validate_batch_crc (with this
  // log's max_batch_bytes) accepted just before and returned `header` for: the CRC,
  // a pass over every byte, is not computed a second time.
  Result<AppendResult> append_validated(MutableByteSpan batch, BatchHeader header, AwaitDurable await_durable);

  // Whole batches starting with the one that holds `offset`, within `options`
  // (see LogReader::read and ReadOptions; by default at most max_bytes unless
  // the first batch alone is larger, up to the log end), as file regions and
  // (ReadMode::copy) copied into `out` (resized as needed). Reading at the log
  // end returns no bytes.
  Result<ReadResult> read(Offset offset, const ReadOptions& options, Bytes& out) const;
  using ReadMode = storage::ReadMode;
  // The same with default options but these.
  Result<ReadResult> read(Offset offset, size_t max_bytes, Bytes& out, ReadMode mode = ReadMode::copy) const {
    return read(offset, ReadOptions{.max_bytes = max_bytes, .mode = mode}, out);
  }

  // The first record with timestamp >= `timestamp`, or nullopt if there is none.
  Result<std::optional<TimestampLookup>> offset_for_timestamp(int64_t timestamp) const;

  // Removes every record at or after `offset`. Fails with not_batch_boundary when
  // `offset` is inside a batch, offset_out_of_range outside [start, end].
  Status truncate_to(Offset offset);

  // Starts a new segment now (no-op when the active one is empty).
  Status roll();

  // Deletes whole segments, oldest first and never the active one, whose newest
  // record is older than retention_ms or while the log stays over retention_bytes
  // without them. Returns the number of segments removed.
  Result<size_t> apply_retention();

  // One compaction pass (log_cleaning.h): maps the dirty section's keys into
  // `map` (cleared first) and rewrites the closed segments up to where the map
  // reaches, keeping each key's latest record. Readers are never blocked; appends
  // wait only for the renames of each swap. Fails with invalid_argument on a log
  // that does not compact; a segment that does not check stops the pass
  // (corrupt_data) with nothing changed past the groups already swapped.
  // Only one pass runs at a time per log. Its reads and writes go through
  // `throttle` when one is given (log.cleaner.io.max.bytes.per.second).
  // The last stable offset (KIP-98): the first offset of the oldest open
  // transaction, or the log end when none is open. A read_committed reader gets
  // nothing at or past it (nor past the high watermark, which the caller applies).
  Offset last_stable_offset() const;
  // The open transactions, oldest first.
  std::vector<ProducerStateTable::OpenTransaction> open_transactions() const;

  Result<CleanResult> clean(KeyOffsetMap& map, IoThrottle* throttle = nullptr);
  CleanableState cleanable_state() const;

  // Syncs everything appended so far.
  Status flush();
  // Flushes, writes indexes and the clean-shutdown marker. Further calls fail.
  Status close();

  // Blocks until offsets below `next_offset` are synced (group commit).
  Status wait_durable(Offset next_offset);

  Offset log_start_offset() const;
  Offset log_end_offset() const { return Offset(log_end_.load(std::memory_order_acquire)); }
  Offset durable_end_offset() const;
  uint64_t size_bytes() const;
  size_t segment_count() const;
  LogStats stats() const;
  const RecoveryReport& recovery() const { return recovery_; }
  // Holes in the offsets (none in a log whose gaps are legal).
  std::vector<DamagedRange> damaged_ranges() const;
  // Heap bytes of the in-memory indexes of every segment.
  size_t index_memory_bytes() const;
  const std::string& dir() const { return dir_; }
  // A copy of the settings in force (takes the writer lock).
  LogConfig config() const;
  // Settings fixed while the log is open, read without the lock (the append path's).
  Durability durability() const { return config_.durability; }
  size_t max_batch_bytes() const { return config_.max_batch_bytes; }
  // Whether the cleanup policy compacts (read without the lock: a relaxed flag set_config keeps).
  bool compacts() const { return compacts_.load(std::memory_order_relaxed); }

  // Replaces the settings a log takes while open: segment_bytes and segment_ms
  // (from the next append's roll check; segments already rolled keep their size),
  // retention_ms, retention_bytes and producer_id_expiration_ms (from the next
  // apply_retention). Every other field shapes what is already written or
  // running (index_interval_bytes, max_batch_bytes, which reads check stored
  // batches against, durability, flush_interval_ms): a change to one is
  // invalid_argument, as is a segment_bytes below one batch header. offset_gaps
  // is the log's own (see open) and ignored here, except that a switch to a
  // compacting cleanup_policy makes gaps legal for good (it writes the cleaner
  // checkpoint first). cleanup_policy and the compaction settings apply from
  // the next clean(). Nothing changes on an error.
  Status set_config(const LogConfig& config);

 private:
  PartitionLog(FileSystem& fs, std::string dir, LogConfig config, Clock& clock);
  Status load();
  // REQUIRES: writer_mu_ held.
  Status roll_locked(Offset next_base);
  // REQUIRES: writer_mu_ held, or the log not yet published (open).
  Status write_recovery_point(Offset offset);

  // Step 2 on of the swap, under the writer lock. False when the group changed
  // (retention or truncation) and the cleaned segment was thrown away.
  Result<bool> swap_in(CleanedGroup& cleaned, const SegmentList& group, uint64_t truncations);
  CleanableState cleanable_state_locked(const SegmentList& list, int64_t now_ms) const;

  FileSystem& fs_;
  const std::string dir_;
  // The fields set_config changes are written under writer_mu_ and read only
  // under it; the others never change after open, so any thread reads them.
  LogConfig config_;
  Clock& clock_;
  RecoveryReport recovery_;

  mutable std::mutex writer_mu_;  // guards appends, every change to the segment list, and set_config
  SegmentSet segments_;
  std::atomic<int64_t> log_end_{0};
  int64_t active_created_ms_ = 0;                  // under writer_mu_
  Offset recovery_point_{0};                       // under writer_mu_: every segment below it is synced
  bool closed_ = false;                            // under writer_mu_
  ProducerStateTable producers_;                   // under writer_mu_
  std::unique_ptr<CleanerCheckpoint> checkpoint_;  // under writer_mu_
  uint64_t truncations_ = 0;                       // under writer_mu_: a pass started before one must not swap
  std::mutex cleaner_mu_;                          // one clean() at a time; taken before writer_mu_
  std::atomic<uint64_t> appends_{0};
  std::atomic<bool> compacts_{false};
  LogReader reader_;  // const but for allow_gaps(), under writer_mu_
  GroupCommit durability_;

  IntervalFlusher::Registration flusher_;  // for Durability::interval; released first on close
};

}  // namespace sluice::storage
