// One partition's batch in the producer: the records' encoding (a BatchBuilder
// until sealed, then the batch bytes as sent and re-sent) and one delivery
// callback per record, in offset-delta order.
// Thread-safety: owned by one thread at a time (the accumulator's lock while
// open, the io thread once drained).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sluice/client/producer.h"
#include "sluice/client/types.h"
#include "sluice/common/strong_int.h"
#include "sluice/storage/batch_builder.h"

#include "time_util.h"

namespace sluice::client {

// An idempotent producer's id before InitProducerId has given it one (the batch
// header's "no producer").
inline constexpr ProducerId kNoProducerId{storage::batch_format::kNoProducerId};
inline constexpr ProducerEpoch kNoProducerEpoch{storage::batch_format::kNoProducerEpoch};

class ProducerBatch {
 public:
  // `capacity`: the batch size it is expected to reach (batch_bytes), reserved up
  // front so records are written once and never moved while the batch fills.
  ProducerBatch(uint64_t id, TopicPartition partition, storage::BatchOptions options, SteadyTime created,
                size_t capacity);

  void add(int64_t timestamp, std::optional<ByteSpan> key, std::optional<ByteSpan> value,
           std::span<const storage::HeaderView> headers, DeliveryCallback on_delivery, size_t reserved_bytes);

  // An idempotent producer's batch: its producer identity and the sequence of its
  // first record (given once, in queue order, before or after sealing; a sealed
  // batch's header and CRC are rewritten).
  void set_sequence(ProducerId producer_id, ProducerEpoch producer_epoch, int32_t base_sequence);
  bool has_sequence() const { return base_sequence_ >= 0; }
  int32_t base_sequence() const { return base_sequence_; }

  // Encodes (and compresses) the records once; later calls keep the bytes.
  Status seal();
  bool sealed() const { return sealed_; }
  const Bytes& bytes() const { return bytes_; }

  // Reports offset base_offset + i to the i-th record (-1 for all with acks=0).
  void complete(int64_t base_offset);
  void fail(const Error& error);

  uint64_t id() const { return id_; }
  const TopicPartition& partition() const { return partition_; }
  int32_t record_count() const { return static_cast<int32_t>(deliveries_.size()); }
  // Uncompressed size, batch header included; the bytes sent once sealed.
  size_t size_bytes() const { return sealed_ ? bytes_.size() : builder_.estimated_size(); }
  size_t reserved_bytes() const { return reserved_bytes_; }
  SteadyTime created() const { return created_; }

  // Retry state, kept by the sender.
  int attempts = 0;
  SteadyTime retry_at{};
  std::optional<Error> last_error;

 private:
  struct Delivery {
    DeliveryCallback callback;
    int64_t timestamp;
  };
  void deliver(Delivery& d, const Result<RecordMetadata>& result);

  uint64_t id_;
  TopicPartition partition_;
  SteadyTime created_;
  storage::BatchBuilder builder_;
  std::vector<Delivery> deliveries_;
  size_t reserved_bytes_ = 0;
  bool sealed_ = false;
  bool done_ = false;
  int32_t base_sequence_ = -1;
  Bytes bytes_;
};

}  // namespace sluice::client
