#include "producer_batch.h"

#include <exception>

#include "sluice/common/log.h"

namespace sluice::client {

ProducerBatch::ProducerBatch(uint64_t id, TopicPartition partition, storage::BatchOptions options, SteadyTime created,
                             size_t capacity)
    : id_(id), partition_(std::move(partition)), created_(created), builder_(options) {
  builder_.reserve(capacity);
}

void ProducerBatch::add(int64_t timestamp, std::optional<ByteSpan> key, std::optional<ByteSpan> value,
                        std::span<const storage::HeaderView> headers, DeliveryCallback on_delivery,
                        size_t reserved_bytes) {
  builder_.add(timestamp, key, value, headers);
  deliveries_.push_back(Delivery{std::move(on_delivery), timestamp});
  reserved_bytes_ += reserved_bytes;
}

void ProducerBatch::set_sequence(ProducerId producer_id, ProducerEpoch producer_epoch, int32_t base_sequence) {
  base_sequence_ = base_sequence;
  // The batch header's bytes carry the identity as plain integers.
  if (sealed_) {
    storage::restamp_producer(bytes_, producer_id.value(), producer_epoch.value(), base_sequence);
  } else {
    builder_.set_producer(producer_id.value(), producer_epoch.value(), base_sequence);
  }
}

Status ProducerBatch::seal() {
  if (sealed_) return {};
  auto bytes = builder_.build();
  if (!bytes) return tl::unexpected(bytes.error());
  bytes_ = std::move(*bytes);
  sealed_ = true;
  builder_ = storage::BatchBuilder();  // frees the uncompressed records
  return {};
}

void ProducerBatch::deliver(Delivery& d, const Result<RecordMetadata>& result) {
  if (!d.callback) return;
  try {
    d.callback(result);
  } catch (const std::exception& e) {
    log::error("producer", "delivery_callback_threw", {{"partition", partition_.to_string()}, {"what", e.what()}});
  } catch (...) {
    log::error("producer", "delivery_callback_threw", {{"partition", partition_.to_string()}});
  }
}

void ProducerBatch::complete(int64_t base_offset) {
  if (done_) return;
  done_ = true;
  // One report, updated per record: the topic name is copied once per batch.
  Result<RecordMetadata> result(RecordMetadata{partition_.topic, partition_.partition, -1, -1});
  for (size_t i = 0; i < deliveries_.size(); ++i) {
    result->offset = base_offset < 0 ? -1 : base_offset + static_cast<int64_t>(i);
    result->timestamp = deliveries_[i].timestamp;
    deliver(deliveries_[i], result);
  }
}

void ProducerBatch::fail(const Error& error) {
  if (done_) return;
  done_ = true;
  Result<RecordMetadata> result = tl::unexpected(error);
  for (Delivery& d : deliveries_) deliver(d, result);
}

}  // namespace sluice::client
