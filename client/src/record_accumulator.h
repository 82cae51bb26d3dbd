// Per-partition queues of producer batches between send() and the sender.
//
// send() appends a record to the newest open batch of its partition, or starts
// a new batch when it would not fit in batch_bytes. The sender drains, from the
// front of every partition's queue, the batches that are ready:
//
//   ready = full (or a newer batch exists behind it)
//         | linger_ms passed since its first record
//         | a flush or close is in progress
//         | some send() is waiting for buffer memory
//   and, for a batch being retried, its backoff has passed.
//
// A full uncompressed batch is sealed (header, CRC) by the append that starts
// the next one, under the lock; the sender seals the rest when it drains them.
// A batch that failed retriably goes back to the front of its queue, in batch
// id order, so per-partition order survives retries.
// Idempotence: once the producer id is known, every batch gets its sequence
// when it is closed to new records (sealed by the append that starts the next
// one, or drained), under the lock and so in queue order; a batch keeps it
// through retries.
// Memory: every record reserves its estimated size from the MemoryBudget before
// it is added; the sender releases a batch's bytes once it is acknowledged.
// Thread-safety: thread-safe; append() may block (memory) without the lock held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "sluice/client/types.h"

#include "memory_budget.h"
#include "producer_batch.h"

namespace sluice::client {

struct AccumulatorConfig {
  size_t batch_bytes = 16 * 1024;
  std::chrono::milliseconds linger{5};
  CompressionType compression = CompressionType::none;
  int zstd_level = 3;
  bool idempotent = false;
};

// How many more batches of a partition the sender takes now (0: the partition is muted).
using PartitionRoom = std::function<size_t(const TopicPartition&)>;

// Upper bound of the bytes a record adds to a batch (its varints at their widest).
size_t estimate_record_size(std::optional<ByteSpan> key, std::optional<ByteSpan> value,
                            std::span<const storage::HeaderView> headers);

class RecordAccumulator {
 public:
  using BatchPtr = std::unique_ptr<ProducerBatch>;

  struct AppendRequest {
    TopicPartition partition;
    int64_t timestamp = 0;
    std::optional<ByteSpan> key;
    std::optional<ByteSpan> value;
    std::span<const storage::HeaderView> headers;
    // Give up instead of starting a new batch (the sticky partitioner then moves on).
    bool abort_on_new_batch = false;
    MemoryBudget::Block may_block = MemoryBudget::Block::yes;
    SteadyTime block_deadline{};
  };
  struct AppendResult {
    bool aborted_for_new_batch = false;  // nothing appended, the callback not taken
    bool new_batch = false;              // the record started a batch
    bool batch_ready = false;            // a batch of this partition became ready by this record
  };

  // `memory` and `clock` must outlive the accumulator.
  RecordAccumulator(AccumulatorConfig config, MemoryBudget& memory,
                    const SteadyClock& clock = SystemSteadyClock::instance());

  // Appends the record; `on_delivery` is moved from only when it was appended.
  // Fails (BUFFER_FULL) when memory cannot be reserved in time.
  Result<AppendResult> append(const AppendRequest& request, DeliveryCallback& on_delivery, SteadyTime now);

  // Takes the ready batches at the front of each partition's queue (in queue
  // order, so one request can carry a partition's batches in order), at most
  // room(partition) per partition, up to `max_bytes` in total (at least one
  // batch), starting where the last drain stopped.
  std::vector<BatchPtr> drain(SteadyTime now, const PartitionRoom& room, size_t max_bytes);
  // The earliest time a queued batch of a partition with room becomes ready;
  // nullopt if none is queued. A time <= now means ready now.
  std::optional<SteadyTime> next_ready_time(SteadyTime now, const PartitionRoom& room) const;

  // Idempotence: the producer id and epoch for the batches from now on. Every
  // partition's sequence starts again at 0, and the queued batches closed to
  // new records are numbered (again), in queue order. Call with none in flight.
  void set_producer(ProducerId producer_id, ProducerEpoch producer_epoch);

  // Puts a drained batch back for a retry at `batch->retry_at`.
  void reenqueue(BatchPtr batch);
  // Removes queued batches older than `max_age` (delivery timeout).
  std::vector<BatchPtr> expire(SteadyTime now, std::chrono::milliseconds max_age);
  // Removes every queued batch (close).
  std::vector<BatchPtr> drain_all();
  // The batch is acknowledged or failed: frees its memory and lets flushes progress.
  void done(const ProducerBatch& batch);

  // flush(): begin_flush() makes every batch ready and returns the newest batch
  // id; await_flush() blocks until every batch up to it is done or `deadline`.
  uint64_t begin_flush();
  bool await_flush(uint64_t up_to_id, SteadyTime deadline);
  void end_flush();

  size_t queued_batches() const;
  size_t incomplete_batches() const;

 private:
  // While a flush() waits, every batch is ready, however small.
  enum class Flushing : bool { no, yes };
  bool ready(const ProducerBatch& batch, const std::deque<BatchPtr>& queue, SteadyTime now, Flushing flushing) const;
  SteadyTime ready_time(const ProducerBatch& batch, const std::deque<BatchPtr>& queue) const;
  void assign_sequence(ProducerBatch& batch);  // REQUIRES: mutex_ held, producer id known

  AccumulatorConfig config_;
  storage::BatchOptions batch_options_;
  MemoryBudget& memory_;
  const SteadyClock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable done_cv_;
  std::map<TopicPartition, std::deque<BatchPtr>> queues_;
  std::set<uint64_t> incomplete_;  // ids of batches created and not done
  uint64_t next_id_ = 1;
  int flushing_ = 0;
  size_t drain_start_ = 0;
  ProducerId producer_id_ = kNoProducerId;  // idempotence: until the sender learns it
  ProducerEpoch producer_epoch_ = kNoProducerEpoch;
  std::map<TopicPartition, int32_t> next_sequence_;
};

}  // namespace sluice::client
