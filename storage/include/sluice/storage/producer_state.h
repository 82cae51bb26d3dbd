// Idempotent producers' state in one partition, as Kafka's ProducerStateManager
// keeps it: per producer id, its epoch and the last kRecentBatches batches it
// appended (sequence range and offsets). That is enough to answer a retried
// batch with the offsets it got the first time (a duplicate, not appended
// again) and to refuse a batch that would leave a gap in the sequence.
//
// Rules for a batch with a producer id (others are not checked):
//   unknown producer          -> append, whatever its sequence (its older
//                                batches may have been removed by retention)
//   epoch older than known    -> producer_fenced
//   epoch newer than known    -> append only at sequence 0, else out_of_order_sequence
//   same epoch, same sequence range as a recent batch -> duplicate of that batch
//   same epoch, otherwise     -> append only at last sequence + 1 (wrapping
//                                from INT32_MAX to 0), else out_of_order_sequence
//
// Control batches (transaction markers) are checked only for fencing.
//
// Transactions (KIP-98): a producer's first transactional batch opens its
// transaction at that batch's base offset; its next control batch (the COMMIT or
// ABORT marker) closes it. The oldest open transaction's first offset is the
// first unstable offset, which bounds the last stable offset: read_committed
// readers get nothing at or past it. A producer with an open transaction is never
// expired. (Markers do not bump the producer's epoch here; KIP-890's bump at the
// end of each transaction comes with the transaction coordinator.)
//
// Kept in memory. A clean close writes it to a snapshot file (encode()); the
// next open loads that when the log ends where the snapshot says, and otherwise
// rebuilds it from the batch headers. A producer that has appended nothing for
// the expiration time is forgotten (Kafka's producer.id.expiration.ms), so
// short-lived producers do not pile up; its next batch is then accepted at any
// sequence, like an unknown producer's.
// kRecentBatches bounds how many batches a producer may have in flight per
// partition for duplicates to be recognised; the client keeps at most that
// many. Kafka remembers 5 (one batch per request, 5 requests); Sluice's
// requests carry several batches of a partition, and 5 would make a producer
// of small batches wait for round trips.
// Thread-safety: none; the partition log's writer lock guards it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/producer_sequence.h"
#include "sluice/storage/record_batch.h"

namespace sluice::storage {

struct ProducerBatchInfo {
  int32_t first_sequence = 0;
  int32_t last_sequence = 0;
  Offset first_offset;
  Offset last_offset;
  int64_t max_timestamp = 0;
};

class ProducerStateTable {
 public:
  static constexpr size_t kRecentBatches = kProducerBatchesRemembered;

  // The batch header carries the producer's identity as raw integers (its
  // bytes, storage/FORMAT.md); the table keys and compares them as ProducerId
  // and ProducerEpoch.
  // Before appending `header`: nullopt to append it, the earlier batch's info if
  // it is a duplicate, or out_of_order_sequence / producer_fenced.
  Result<std::optional<ProducerBatchInfo>> check(const BatchHeader& header) const;
  // After appending `header` (its base offset assigned), at `now_ms` (wall clock).
  void record(const BatchHeader& header, int64_t now_ms);
  void clear() {
    producers_.clear();
    open_transactions_.clear();
  }
  size_t producer_count() const { return producers_.size(); }
  // Producer id -> the last offset of its newest batch (the batch the cleaner
  // must keep a header of, so the sequence survives).
  std::unordered_map<int64_t, int64_t> newest_batches() const;
  // Forgets producers whose last append was at or before `cutoff_ms` and that have
  // no open transaction; returns how many.
  size_t expire(int64_t cutoff_ms);

  struct OpenTransaction {
    ProducerId producer;
    Offset first_offset;
  };
  // The oldest open transaction's first offset; nullopt when none is open.
  std::optional<Offset> first_unstable_offset() const;
  // Every open transaction, oldest first.
  std::vector<OpenTransaction> open_transactions() const;

  // The snapshot file's bytes (storage/FORMAT.md), valid for a log ending at `log_end`.
  Bytes encode(Offset log_end) const;
  // Loads a snapshot; corrupt_data if it is damaged. Returns the log end it is valid for.
  Result<Offset> decode(ByteSpan bytes);

 private:
  struct Entry {
    ProducerEpoch epoch{0};
    int64_t last_append_ms = 0;
    std::optional<Offset> transaction_start;  // the open transaction's first offset
    // The most recent batches, at most kRecentBatches: grows, then is a ring
    // whose oldest element is at `oldest`. Never empty once recorded.
    std::vector<ProducerBatchInfo> recent;
    size_t oldest = 0;
    const ProducerBatchInfo& newest() const { return recent[(oldest + recent.size() - 1) % recent.size()]; }
    // The i-th oldest.
    const ProducerBatchInfo& at(size_t i) const { return recent[(oldest + i) % recent.size()]; }
    void push(const ProducerBatchInfo& batch) {
      if (recent.size() < kRecentBatches) {
        recent.push_back(batch);
      } else {
        recent[oldest] = batch;
        oldest = (oldest + 1) % kRecentBatches;
      }
    }
  };
  void open_transaction(ProducerId id, Entry& entry, Offset first_offset);

  std::unordered_map<ProducerId, Entry> producers_;
  // First offset -> producer, of every open transaction (each one's transaction_start).
  std::map<Offset, ProducerId> open_transactions_;
};

}  // namespace sluice::storage
