#include "record_accumulator.h"

#include <algorithm>

#include "sluice/storage/producer_sequence.h"

namespace sluice::client {

size_t estimate_record_size(std::optional<ByteSpan> key, std::optional<ByteSpan> value,
                            std::span<const storage::HeaderView> headers) {
  // length + attributes + timestamp delta + offset delta + key/value lengths + header count,
  // each varint at its widest (5 bytes for an int32, 10 for an int64).
  size_t size = 5 + 1 + 10 + 5 + 5 + 5 + 5;
  if (key) size += key->size();
  if (value) size += value->size();
  for (const auto& h : headers) size += 5 + h.key.size() + 5 + (h.value ? h.value->size() : 0);
  return size;
}

RecordAccumulator::RecordAccumulator(AccumulatorConfig config, MemoryBudget& memory, const SteadyClock& clock)
    : config_(config), memory_(memory), clock_(clock) {
  batch_options_.compression =
      config.compression == CompressionType::zstd ? storage::Compression::zstd : storage::Compression::none;
  batch_options_.zstd_level = config.zstd_level;
}

Result<RecordAccumulator::AppendResult> RecordAccumulator::append(const AppendRequest& request,
                                                                  DeliveryCallback& on_delivery, SteadyTime now) {
  size_t estimate = estimate_record_size(request.key, request.value, request.headers);
  if (auto s = memory_.reserve(estimate, request.may_block, request.block_deadline); !s) {
    return tl::unexpected(s.error());
  }
  std::unique_lock lock(mutex_);
  AppendResult result;
  auto& queue = queues_[request.partition];
  ProducerBatch* open = nullptr;
  if (!queue.empty() && !queue.back()->sealed()) {
    ProducerBatch* last = queue.back().get();
    if (last->record_count() == 0 || last->size_bytes() + estimate <= config_.batch_bytes) open = last;
  }
  if (open == nullptr) {
    if (request.abort_on_new_batch) {
      lock.unlock();
      memory_.release(estimate);
      result.aborted_for_new_batch = true;
      return result;
    }
    // The batch before the new one is complete: finish it (header and CRC) here, so
    // the sender, which waits on the broker, only has to send it. Compression stays
    // with the sender: it would hold the lock for too long.
    // An idempotent batch needs its sequence first; without a producer id yet, the
    // sender seals it when it drains it.
    if (!queue.empty() && !queue.back()->sealed() && batch_options_.compression == storage::Compression::none &&
        (!config_.idempotent || producer_id_ != kNoProducerId)) {
      if (config_.idempotent) assign_sequence(*queue.back());
      (void)queue.back()->seal();  // on an error it stays open; the sender seals again and fails it
    }
    uint64_t id = next_id_++;
    size_t capacity = std::max(config_.batch_bytes, storage::batch_format::kHeaderSize + estimate);
    queue.push_back(std::make_unique<ProducerBatch>(id, request.partition, batch_options_, now, capacity));
    incomplete_.insert(id);
    open = queue.back().get();
    result.new_batch = true;
  }
  const bool was_full = open->size_bytes() >= config_.batch_bytes;
  open->add(request.timestamp, request.key, request.value, request.headers, std::move(on_delivery), estimate);
  // Only a change of readiness needs the sender: waking it on every record while
  // earlier batches wait for a free request slot costs more than the record.
  result.batch_ready =
      (result.new_batch && queue.size() > 1) || (!was_full && open->size_bytes() >= config_.batch_bytes);
  return result;
}

bool RecordAccumulator::ready(const ProducerBatch& batch, const std::deque<BatchPtr>& queue, SteadyTime now,
                              Flushing flushing) const {
  if (batch.attempts > 0) return now >= batch.retry_at;
  return flushing == Flushing::yes || queue.size() > 1 || batch.size_bytes() >= config_.batch_bytes ||
         now >= batch.created() + config_.linger || memory_.has_waiters();
}

SteadyTime RecordAccumulator::ready_time(const ProducerBatch& batch, const std::deque<BatchPtr>& queue) const {
  if (batch.attempts > 0) return batch.retry_at;
  if (flushing_ > 0 || queue.size() > 1 || batch.size_bytes() >= config_.batch_bytes || memory_.has_waiters()) {
    return SteadyTime::min();
  }
  return batch.created() + config_.linger;
}

void RecordAccumulator::assign_sequence(ProducerBatch& batch) {
  int32_t& next = next_sequence_[batch.partition()];
  batch.set_sequence(producer_id_, producer_epoch_, next);
  next = storage::sequence_after(next, batch.record_count());
}

void RecordAccumulator::set_producer(ProducerId producer_id, ProducerEpoch producer_epoch) {
  std::lock_guard lock(mutex_);
  producer_id_ = producer_id;
  producer_epoch_ = producer_epoch;
  next_sequence_.clear();
  // Every batch closed to new records gets its sequence now, in queue order; the
  // open one at the back gets it when it is closed.
  for (auto& [partition, queue] : queues_) {
    for (size_t i = 0; i < queue.size(); ++i) {
      if (i + 1 == queue.size() && !queue[i]->sealed()) break;
      assign_sequence(*queue[i]);
    }
  }
}

std::vector<RecordAccumulator::BatchPtr> RecordAccumulator::drain(SteadyTime now, const PartitionRoom& room,
                                                                  size_t max_bytes) {
  std::lock_guard lock(mutex_);
  std::vector<BatchPtr> out;
  if (queues_.empty()) return out;
  std::vector<std::pair<const TopicPartition, std::deque<BatchPtr>>*> entries;
  entries.reserve(queues_.size());
  for (auto& entry : queues_) entries.push_back(&entry);
  const size_t n = entries.size();
  const size_t start = drain_start_ % n;
  Flushing flushing = flushing_ > 0 ? Flushing::yes : Flushing::no;
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    auto& [partition, queue] = *entries[(start + i) % n];
    if (queue.empty()) continue;
    size_t allowed = room(partition);
    while (allowed > 0 && !queue.empty() && ready(*queue.front(), queue, now, flushing)) {
      size_t size = queue.front()->size_bytes();
      if (!out.empty() && total + size > max_bytes) {
        drain_start_ = (start + i) % n;  // start here next time
        return out;
      }
      total += size;
      --allowed;
      if (config_.idempotent && !queue.front()->has_sequence()) assign_sequence(*queue.front());
      out.push_back(std::move(queue.front()));
      queue.pop_front();
    }
  }
  drain_start_ = start + 1;
  return out;
}

std::optional<SteadyTime> RecordAccumulator::next_ready_time(SteadyTime now, const PartitionRoom& room) const {
  std::lock_guard lock(mutex_);
  std::optional<SteadyTime> earliest;
  for (const auto& [partition, queue] : queues_) {
    if (queue.empty() || room(partition) == 0) continue;
    SteadyTime t = ready_time(*queue.front(), queue);
    if (!earliest || t < *earliest) earliest = t;
    if (*earliest <= now) break;
  }
  return earliest;
}

void RecordAccumulator::reenqueue(BatchPtr batch) {
  std::lock_guard lock(mutex_);
  auto& queue = queues_[batch->partition()];
  auto at = std::find_if(queue.begin(), queue.end(), [&](const BatchPtr& b) { return b->id() > batch->id(); });
  queue.insert(at, std::move(batch));
}

std::vector<RecordAccumulator::BatchPtr> RecordAccumulator::expire(SteadyTime now, std::chrono::milliseconds max_age) {
  std::lock_guard lock(mutex_);
  std::vector<BatchPtr> out;
  for (auto& [partition, queue] : queues_) {
    for (auto it = queue.begin(); it != queue.end();) {
      if ((*it)->created() + max_age <= now) {
        out.push_back(std::move(*it));
        it = queue.erase(it);
      } else {
        ++it;
      }
    }
  }
  return out;
}

std::vector<RecordAccumulator::BatchPtr> RecordAccumulator::drain_all() {
  std::lock_guard lock(mutex_);
  std::vector<BatchPtr> out;
  for (auto& [partition, queue] : queues_) {
    for (auto& b : queue) out.push_back(std::move(b));
    queue.clear();
  }
  return out;
}

void RecordAccumulator::done(const ProducerBatch& batch) {
  memory_.release(batch.reserved_bytes());
  {
    std::lock_guard lock(mutex_);
    incomplete_.erase(batch.id());
  }
  done_cv_.notify_all();
}

uint64_t RecordAccumulator::begin_flush() {
  std::lock_guard lock(mutex_);
  ++flushing_;
  return next_id_ - 1;
}

bool RecordAccumulator::await_flush(uint64_t up_to_id, SteadyTime deadline) {
  std::unique_lock lock(mutex_);
  return clock_.wait_until(done_cv_, lock, deadline,
                           [&] { return incomplete_.empty() || *incomplete_.begin() > up_to_id; });
}

void RecordAccumulator::end_flush() {
  std::lock_guard lock(mutex_);
  --flushing_;
}

size_t RecordAccumulator::queued_batches() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [partition, queue] : queues_) n += queue.size();
  return n;
}

size_t RecordAccumulator::incomplete_batches() const {
  std::lock_guard lock(mutex_);
  return incomplete_.size();
}

}  // namespace sluice::client
