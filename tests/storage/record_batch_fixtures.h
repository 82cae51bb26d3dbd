// Hand-encoded record batches and small helpers shared by the record-batch codec
// tests (round trips, client-batch checks, validation): they write what
// BatchBuilder never would, so the tests can reach every check.
#pragma once

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "sluice/common/crc32c.h"
#include "sluice/storage/batch_builder.h"
#include "sluice/storage/record_batch.h"

#include "test_support.h"

namespace sluice::storage::testing {

namespace bf = batch_format;
inline std::string str(ByteSpan b) { return std::string(as_string_view(b)); }
inline std::string str(const std::optional<ByteSpan>& b) { return b ? str(*b) : "<null>"; }

inline std::vector<Record> read_all(ByteSpan batch, Bytes& scratch) {
  std::vector<Record> records;
  auto status = decode_records(batch, records, scratch);
  EXPECT_TRUE(status.has_value()) << status.error().to_string();
  return records;
}

inline std::error_code validate_error(ByteSpan batch, const ValidationOptions& options = {}) {
  auto result = validate_batch(batch, options);
  return result ? std::error_code(Errc::ok) : result.error().code;
}

// One hand-encoded record, so tests can write what BatchBuilder never would.
struct RawRecord {
  int64_t offset_delta = 0;
  int64_t timestamp_delta = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
};

inline void put_raw_record(Bytes& out, const RawRecord& r) {
  Bytes body;
  ByteWriter w(body);
  w.put_be<int8_t>(0);
  w.put_varint(r.timestamp_delta);
  w.put_varint(r.offset_delta);
  for (const auto& field : {r.key, r.value}) {
    if (!field) {
      w.put_varint(-1);
    } else {
      w.put_varint(static_cast<int64_t>(field->size()));
      w.put_bytes(as_bytes(*field));
    }
  }
  w.put_varint(0);  // no headers
  ByteWriter o(out);
  o.put_varint(static_cast<int64_t>(body.size()));
  o.put_bytes(body);
}

// A sealed (CRC-correct) batch around an arbitrary records section.
inline Bytes raw_batch(ByteSpan records, int32_t record_count, int32_t last_offset_delta, int16_t attributes = 0,
                       int64_t base_timestamp = 1000) {
  Bytes batch(bf::kHeaderSize + records.size());
  std::copy(records.begin(), records.end(), batch.begin() + bf::kHeaderSize);
  std::byte* p = batch.data();
  store_be<int64_t>(p + bf::kBaseOffset, 0);
  store_be<int32_t>(p + bf::kBatchLength, static_cast<int32_t>(batch.size() - bf::kLogOverhead));
  store_be<int32_t>(p + bf::kPartitionLeaderEpoch, -1);
  store_be<int8_t>(p + bf::kMagic, bf::kMagicV2);
  store_be<int16_t>(p + bf::kAttributes, attributes);
  store_be<int32_t>(p + bf::kLastOffsetDelta, last_offset_delta);
  store_be<int64_t>(p + bf::kBaseTimestamp, base_timestamp);
  store_be<int64_t>(p + bf::kMaxTimestamp, base_timestamp);
  store_be<int64_t>(p + bf::kProducerId, bf::kNoProducerId);
  store_be<int16_t>(p + bf::kProducerEpoch, bf::kNoProducerEpoch);
  store_be<int32_t>(p + bf::kBaseSequence, bf::kNoSequence);
  store_be<int32_t>(p + bf::kRecordCount, record_count);
  seal_crc(batch);
  return batch;
}

inline Bytes raw_batch_of(const std::vector<RawRecord>& records, int32_t last_offset_delta) {
  Bytes section;
  for (const RawRecord& r : records) put_raw_record(section, r);
  return raw_batch(section, static_cast<int32_t>(records.size()), last_offset_delta);
}

inline Bytes zstd_compress(ByteSpan plain) {
  Bytes out(ZSTD_compressBound(plain.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// What the produce path asks for: the client checks, records decoded into a reused buffer.
inline ValidationOptions from_client(Bytes& scratch) {
  return ValidationOptions{.from_client = true, .scratch = &scratch};
}

}  // namespace sluice::storage::testing
