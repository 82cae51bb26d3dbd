// One partition as the broker serves it: its log, the high watermark readers are
// bounded by, the wake-ups of fetches waiting for data, and its traffic counters.
// Every write to a partition goes through append() (the produce handler's, and
// the coordinators' writes to internal topics), so validation, counting and
// wake-ups happen in one place; the acks policy on top of it is
// append_with_acks() (broker/src/append_with_acks.h).
//
//   [log start ............................ high watermark = log end)
//    ^ log_start()                          ^ high_watermark(): next offset to assign;
//                                             a read never returns offsets at or past it
//
// On one node every appended offset is visible at once, so the high watermark is the
// log end offset; with replication it becomes the minimum in-sync end offset, and a
// read_committed read is bounded lower still by the last stable offset.
//
// Thread-safety: every method is safe from any thread. append() and wait_durable()
// block on storage (write, fdatasync): REQUIRES they run off the I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/partition_log.h"

namespace sluice::broker {

// What a produce asks to wait for before it is answered (Kafka's acks).
enum class Acks : int8_t {
  none = 0,    // no answer at all
  leader = 1,  // written to the log (page cache)
  all = -1,    // durable as the topic's `durability` says (fsync: synced)
};
// The wire's acks value, or nullopt if it is not 0, 1 or -1.
std::optional<Acks> parse_acks(int32_t acks);

// Bytes and records in and out of one topic, shared by its partitions. Relaxed
// atomics: counted on the data path without a lock, read by the /metrics scrape.
struct TopicTraffic {
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> records_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> records_out{0};
};

// The outcome of appending a run of batches: the batches before a failing one stay
// appended (and acknowledged with their offsets), the rest are not written.
struct AppendedRun {
  Status status;                      // the error of the batch that stopped the run
  std::optional<Offset> first_base;   // base offset of the first batch appended
  std::optional<Offset> next_offset;  // after the last batch appended: what durability waits for
};

struct PartitionReadOptions {
  Offset start;
  size_t max_bytes = 1 << 20;  // the first batch is returned whole even if larger (KIP-74)
  // Nothing at or past this offset is returned (a batch that straddles it is left
  // out whole); nullopt: the high watermark. read_committed will pass the last
  // stable offset.
  std::optional<Offset> upper_bound;
  storage::PartitionLog::ReadMode mode = storage::PartitionLog::ReadMode::locate;
};

class Partition {
 public:
  // REQUIRES: `traffic` outlives the partition (it is its topic's).
  Partition(PartitionId id, std::unique_ptr<storage::PartitionLog> log, TopicTraffic& traffic)
      : id_(id), log_(std::move(log)), traffic_(traffic) {}

  PartitionId id() const { return id_; }
  storage::PartitionLog& log() { return *log_; }
  const storage::PartitionLog& log() const { return *log_; }

  // Validates (every record, as a client's batch must be) and appends each batch of
  // `records` in order without waiting for a sync, calls `on_batch` with each
  // batch's base offset, counts the traffic and wakes the fetches waiting here.
  // REQUIRES: one caller at a time per ordering domain (the connection's append
  // strand), off the I/O thread.
  AppendedRun append(MutableByteSpan records, const std::function<void(Offset base)>& on_batch);

  // Whether an append acknowledged with `acks` must wait for a sync first: acks=all
  // on a topic whose durability is fsync.
  bool syncs_before_ack(Acks acks) const {
    return acks == Acks::all && log_->durability() == storage::Durability::fsync;
  }
  // Blocks until offsets below `next_offset` are synced (group commit: waits share
  // one fdatasync).
  Status wait_durable(Offset next_offset) { return log_->wait_durable(next_offset); }

  // Whole batches from `options.start`, bounded by options.max_bytes and the upper
  // bound; `scratch` is reused across calls (see PartitionLog::read).
  Result<storage::ReadResult> read(const PartitionReadOptions& options, Bytes& scratch) const;

  Offset high_watermark() const { return log_->log_end_offset(); }
  Offset log_start() const { return log_->log_start_offset(); }

  // Bytes and records a fetch sent from this partition.
  void count_sent(uint64_t bytes, uint64_t records) {
    traffic_.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    traffic_.records_out.fetch_add(records, std::memory_order_relaxed);
  }

  // Long-poll support: `fn` runs once, on the appending thread, after the next append.
  uint64_t on_next_append(std::function<void()> fn);
  void cancel_wait(uint64_t id);
  // Runs every waiting `fn` now, as an append would (the broker stopping).
  void wake_waiters() { notify_appended(); }

 private:
  void notify_appended();

  const PartitionId id_;
  std::unique_ptr<storage::PartitionLog> log_;
  TopicTraffic& traffic_;
  std::mutex waiters_mu_;
  uint64_t next_waiter_ = 1;                           // under waiters_mu_
  std::map<uint64_t, std::function<void()>> waiters_;  // under waiters_mu_
};

}  // namespace sluice::broker
