#include "sluice/storage/batch_builder.h"

#include <zstd.h>

#include <algorithm>

#include "sluice/common/crc32c.h"

namespace sluice::storage {
namespace bf = batch_format;

BatchBuilder::BatchBuilder(BatchOptions options) : options_(options) {}

void BatchBuilder::reserve(size_t bytes) { buffer_.reserve(std::max(bytes, bf::kHeaderSize)); }

void BatchBuilder::add(int64_t timestamp, std::optional<ByteSpan> key, std::optional<ByteSpan> value,
                       std::span<const HeaderView> headers) {
  if (count_ == 0) {
    base_timestamp_ = timestamp;
    max_timestamp_ = timestamp;
  }
  if (buffer_.empty()) buffer_.resize(bf::kHeaderSize);
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  // The record's length prefix comes first, so its size is worked out before
  // anything is written; the fields then go straight into the buffer.
  auto nullable_size = [](const std::optional<ByteSpan>& b) {
    return b ? varint_size(static_cast<int64_t>(b->size())) + b->size() : varint_size(-1);
  };
  const int64_t timestamp_delta = timestamp - base_timestamp_;
  size_t body = 1 + varint_size(timestamp_delta) + varint_size(count_) + nullable_size(key) + nullable_size(value) +
                varint_size(static_cast<int64_t>(headers.size()));
  for (const HeaderView& h : headers) {
    body += varint_size(static_cast<int64_t>(h.key.size())) + h.key.size() + nullable_size(h.value);
  }
  ByteWriter w(buffer_);
  auto put_nullable = [&](const std::optional<ByteSpan>& b) {
    if (!b) {
      w.put_varint(-1);
      return;
    }
    w.put_varint(static_cast<int64_t>(b->size()));
    w.put_bytes(*b);
  };
  // The fields before the key go in with one append (this is the producer's hot path).
  std::byte prefix[4 * kMaxVarintSize + 1];
  std::byte* p = encode_varint(prefix, static_cast<int64_t>(body));
  *p++ = std::byte{0};  // attributes
  p = encode_varint(p, timestamp_delta);
  p = encode_varint(p, count_);
  w.put_bytes(ByteSpan(prefix, p));
  put_nullable(key);
  put_nullable(value);
  w.put_varint(static_cast<int64_t>(headers.size()));
  for (const HeaderView& h : headers) {
    w.put_varint(static_cast<int64_t>(h.key.size()));
    w.put_bytes(as_bytes(h.key));
    put_nullable(h.value);
  }
  ++count_;
}

Result<Bytes> BatchBuilder::build() {
  if (buffer_.empty()) buffer_.resize(bf::kHeaderSize);
  Bytes batch;
  if (options_.compression == Compression::zstd) {
    batch.resize(bf::kHeaderSize);
    if (auto s = append_zstd(ByteSpan(buffer_).subspan(bf::kHeaderSize), options_.zstd_level, batch); !s) {
      return tl::unexpected(s.error());
    }
    buffer_.clear();
  } else if (options_.compression == Compression::none) {
    batch = std::move(buffer_);
    buffer_ = Bytes();
  } else {
    return make_error(Errc::unsupported, "only none and zstd compression are supported");
  }
  int16_t attributes = static_cast<int16_t>(options_.compression);
  if (options_.transactional) attributes |= bf::kTransactionalBit;
  if (options_.control) attributes |= bf::kControlBit;
  std::byte* p = batch.data();
  store_be<int64_t>(p + bf::kBaseOffset, 0);
  store_be<int32_t>(p + bf::kBatchLength, static_cast<int32_t>(batch.size() - bf::kLogOverhead));
  store_be<int32_t>(p + bf::kPartitionLeaderEpoch, options_.partition_leader_epoch);
  store_be<int8_t>(p + bf::kMagic, bf::kMagicV2);
  store_be<int16_t>(p + bf::kAttributes, attributes);
  store_be<int32_t>(p + bf::kLastOffsetDelta, std::max(count_ - 1, 0));
  store_be<int64_t>(p + bf::kBaseTimestamp, base_timestamp_);
  store_be<int64_t>(p + bf::kMaxTimestamp, max_timestamp_);
  store_be<int64_t>(p + bf::kProducerId, options_.producer_id);
  store_be<int16_t>(p + bf::kProducerEpoch, options_.producer_epoch);
  store_be<int32_t>(p + bf::kBaseSequence, options_.base_sequence);
  store_be<int32_t>(p + bf::kRecordCount, count_);
  seal_crc(batch);
  count_ = 0;
  return batch;
}

Status append_zstd(ByteSpan in, int level, Bytes& out) {
  const size_t at = out.size();
  out.resize(at + ZSTD_compressBound(in.size()));
  const size_t n = ZSTD_compress(out.data() + at, out.size() - at, in.data(), in.size(), level);
  if (ZSTD_isError(n)) return make_error(StorageErrc::compression_error, std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(at + n);
  return {};
}

void seal_crc(MutableByteSpan batch) {
  store_be<uint32_t>(batch.data() + bf::kCrc, crc32c(ByteSpan(batch).subspan(bf::kAttributes)));
}

void restamp_producer(MutableByteSpan batch, int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
  std::byte* p = batch.data();
  store_be<int64_t>(p + bf::kProducerId, producer_id);
  store_be<int16_t>(p + bf::kProducerEpoch, producer_epoch);
  store_be<int32_t>(p + bf::kBaseSequence, base_sequence);
  seal_crc(batch);
}

Bytes make_control_batch(ControlType type, int64_t producer_id, int16_t producer_epoch, int32_t coordinator_epoch,
                         int64_t timestamp) {
  std::byte key[4];
  store_be<int16_t>(key, 0);
  store_be<int16_t>(key + 2, static_cast<int16_t>(type));
  std::byte value[6];
  store_be<int16_t>(value, 0);
  store_be<int32_t>(value + 2, coordinator_epoch);
  BatchBuilder builder(BatchOptions{
      .producer_id = producer_id, .producer_epoch = producer_epoch, .transactional = true, .control = true});
  builder.add(timestamp, ByteSpan(key), ByteSpan(value));
  return std::move(*builder.build());  // uncompressed: cannot fail
}

}  // namespace sluice::storage
