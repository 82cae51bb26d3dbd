// Builds RecordBatch v2 bytes: what a producer sends and what tests append.
// Thread-safety: one thread per builder.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/storage/record_batch.h"

namespace sluice::storage {

struct BatchOptions {
  Compression compression = Compression::none;
  int zstd_level = 1;
  int64_t producer_id = batch_format::kNoProducerId;
  int16_t producer_epoch = batch_format::kNoProducerEpoch;
  int32_t base_sequence = batch_format::kNoSequence;
  bool transactional = false;
  bool control = false;
  int32_t partition_leader_epoch = -1;
};

struct HeaderView {
  std::string_view key;
  std::optional<ByteSpan> value;
};

class BatchBuilder {
 public:
  explicit BatchBuilder(BatchOptions options = {});

  // Adds a record; its offset delta is the number of records added before it.
  // The first record's timestamp becomes the batch's base timestamp.
  void add(int64_t timestamp, std::optional<ByteSpan> key, std::optional<ByteSpan> value,
           std::span<const HeaderView> headers = {});

  int32_t record_count() const { return count_; }
  // Uncompressed bytes the batch would take, header included.
  size_t estimated_size() const { return batch_format::kHeaderSize + records_size(); }
  bool empty() const { return count_ == 0; }
  // Makes room for a batch of `bytes` (header included), so adding records up to
  // that size never moves the ones already added.
  void reserve(size_t bytes);
  // The idempotent producer's identity and the first record's sequence, for build().
  void set_producer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
    options_.producer_id = producer_id;
    options_.producer_epoch = producer_epoch;
    options_.base_sequence = base_sequence;
  }

  // Produces the batch with base offset 0 and resets the builder for reuse.
  // Fails only if compression fails.
  Result<Bytes> build();

 private:
  size_t records_size() const { return buffer_.empty() ? 0 : buffer_.size() - batch_format::kHeaderSize; }

  BatchOptions options_;
  // Room for the batch header, then the encoded records: an uncompressed batch is
  // finished in place and handed over without copying its records.
  Bytes buffer_;
  int32_t count_ = 0;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
};

// Appends `in` compressed as one zstd frame to `out`.
Status append_zstd(ByteSpan in, int level, Bytes& out);

// Recomputes a batch's CRC over the bytes it covers (attributes to the end), after
// they were written or edited.
void seal_crc(MutableByteSpan batch);

// Rewrites a built batch's producer id, epoch and base sequence and its CRC.
void restamp_producer(MutableByteSpan batch, int64_t producer_id, int16_t producer_epoch, int32_t base_sequence);

// A control batch (transaction marker) with one record.
Bytes make_control_batch(ControlType type, int64_t producer_id, int16_t producer_epoch, int32_t coordinator_epoch,
                         int64_t timestamp);

}  // namespace sluice::storage
