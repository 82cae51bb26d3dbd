#include "sluice/storage/record_batch.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sluice/common/crc32c.h"
#include "sluice/storage/batch_builder.h"

#include "test_support.h"

namespace sluice {
// Lets GoogleTest print error codes by name.
}  // namespace sluice

namespace sluice::storage {
namespace {

namespace bf = batch_format;
using testing::make_batch;

std::string str(ByteSpan b) { return std::string(as_string_view(b)); }
std::string str(const std::optional<ByteSpan>& b) { return b ? str(*b) : "<null>"; }

std::vector<Record> read_all(ByteSpan batch, Bytes& scratch) {
  std::vector<Record> records;
  auto status = decode_records(batch, records, scratch);
  EXPECT_TRUE(status.has_value()) << status.error().to_string();
  return records;
}

std::error_code validate_error(ByteSpan batch, const ValidationOptions& options = {}) {
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

void put_raw_record(Bytes& out, const RawRecord& r) {
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
Bytes raw_batch(ByteSpan records, int32_t record_count, int32_t last_offset_delta, int16_t attributes = 0,
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

Bytes raw_batch_of(const std::vector<RawRecord>& records, int32_t last_offset_delta) {
  Bytes section;
  for (const RawRecord& r : records) put_raw_record(section, r);
  return raw_batch(section, static_cast<int32_t>(records.size()), last_offset_delta);
}

Bytes zstd_compress(ByteSpan plain) {
  Bytes out(ZSTD_compressBound(plain.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// ---------------------------------------------------------------- round trips

TEST(RecordBatch, RoundTripsKeysValuesAndHeaders) {
  BatchBuilder builder;
  std::string big(1000, 'b');  // multi-byte varint lengths
  HeaderView h1[] = {{"trace", as_bytes("abc")}, {"empty", as_bytes("")}};
  builder.add(5000, as_bytes("k0"), as_bytes("v0"), h1);
  builder.add(5003, as_bytes("k1"), as_bytes(big));
  builder.add(4990, as_bytes(""), as_bytes(""));  // empty, not null; timestamp before the first
  Bytes batch = std::move(*builder.build());

  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->total_size(), batch.size());
  EXPECT_EQ(header->record_count, 3);
  EXPECT_EQ(header->last_offset_delta, 2);
  EXPECT_EQ(header->base_timestamp, 5000);
  EXPECT_EQ(header->max_timestamp, 5003);
  EXPECT_EQ(header->compression(), Compression::none);
  EXPECT_FALSE(header->is_control());
  EXPECT_FALSE(header->is_transactional());
  EXPECT_EQ(header->producer_id, bf::kNoProducerId);
  EXPECT_EQ(header->base_offset, Offset(0));
  EXPECT_EQ(header->next_offset(), Offset(3));

  Bytes scratch;
  auto records = read_all(batch, scratch);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].offset, Offset(0));
  EXPECT_EQ(records[0].timestamp, 5000);
  EXPECT_EQ(str(records[0].key), "k0");
  EXPECT_EQ(str(records[0].value), "v0");
  ASSERT_EQ(records[0].headers.size(), 2u);
  EXPECT_EQ(records[0].headers[0].key, "trace");
  EXPECT_EQ(str(records[0].headers[0].value), "abc");
  EXPECT_EQ(records[0].headers[1].key, "empty");
  ASSERT_TRUE(records[0].headers[1].value);
  EXPECT_TRUE(records[0].headers[1].value->empty());

  EXPECT_EQ(records[1].offset, Offset(1));
  EXPECT_EQ(records[1].timestamp, 5003);
  EXPECT_EQ(str(records[1].value), big);
  EXPECT_TRUE(records[1].headers.empty());

  EXPECT_EQ(records[2].offset, Offset(2));
  EXPECT_EQ(records[2].timestamp, 4990);
  ASSERT_TRUE(records[2].key);
  EXPECT_TRUE(records[2].key->empty());
  ASSERT_TRUE(records[2].value);
  EXPECT_TRUE(records[2].value->empty());
}

TEST(RecordBatch, NullKeyNullValueAndNullHeaderValueRoundTrip) {
  BatchBuilder builder;
  HeaderView headers[] = {{"nullable", std::nullopt}, {"", as_bytes("empty-key")}};
  builder.add(1, std::nullopt, as_bytes("value-without-key"));
  builder.add(2, as_bytes("tombstone-key"), std::nullopt);
  builder.add(3, std::nullopt, std::nullopt, headers);
  Bytes batch = std::move(*builder.build());
  ASSERT_TRUE(validate_batch(batch));

  Bytes scratch;
  auto records = read_all(batch, scratch);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_FALSE(records[0].key);
  EXPECT_EQ(str(records[0].value), "value-without-key");
  EXPECT_EQ(str(records[1].key), "tombstone-key");
  EXPECT_FALSE(records[1].value);
  EXPECT_FALSE(records[2].key);
  EXPECT_FALSE(records[2].value);
  ASSERT_EQ(records[2].headers.size(), 2u);
  EXPECT_EQ(records[2].headers[0].key, "nullable");
  EXPECT_FALSE(records[2].headers[0].value);
  EXPECT_EQ(records[2].headers[1].key, "");
  EXPECT_EQ(str(records[2].headers[1].value), "empty-key");
}

TEST(RecordBatch, EmptyBatchValidatesAndYieldsNoRecords) {
  BatchBuilder builder;
  EXPECT_TRUE(builder.empty());
  Bytes batch = std::move(*builder.build());
  EXPECT_EQ(batch.size(), bf::kHeaderSize);
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->record_count, 0);
  auto reader = RecordReader::open(batch);
  ASSERT_TRUE(reader);
  Record record;
  auto more = reader->next(record);
  ASSERT_TRUE(more);
  EXPECT_FALSE(*more);
}

TEST(RecordBatch, ManyRecordsRoundTripWithSequentialOffsets) {
  Bytes batch = make_batch(1000, "value", 1'700'000'000'000);
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->record_count, 1000);
  EXPECT_EQ(header->last_offset_delta, 999);
  EXPECT_EQ(header->max_timestamp, 1'700'000'000'999);
  auto reader = RecordReader::open(batch);
  ASSERT_TRUE(reader);
  Record record;
  for (int i = 0; i < 1000; ++i) {
    auto more = reader->next(record);
    ASSERT_TRUE(more && *more) << i;
    EXPECT_EQ(record.offset, Offset(i));
    EXPECT_EQ(record.timestamp, 1'700'000'000'000 + i);
    EXPECT_EQ(str(record.key), "k" + std::to_string(i));
    EXPECT_EQ(str(record.value), "value-" + std::to_string(i));
  }
  auto more = reader->next(record);
  ASSERT_TRUE(more);
  EXPECT_FALSE(*more);
  EXPECT_EQ(reader->records_read(), 1000);
}

TEST(RecordBatch, ProducerFieldsAndAttributesRoundTrip) {
  BatchBuilder builder(BatchOptions{.producer_id = 4242,
                                    .producer_epoch = 7,
                                    .base_sequence = 99,
                                    .transactional = true,
                                    .partition_leader_epoch = 12});
  builder.add(10, as_bytes("k"), as_bytes("v"));
  Bytes batch = std::move(*builder.build());
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->producer_id, 4242);
  EXPECT_EQ(header->producer_epoch, 7);
  EXPECT_EQ(header->base_sequence, 99);
  EXPECT_EQ(header->partition_leader_epoch, 12);
  EXPECT_TRUE(header->is_transactional());
  EXPECT_FALSE(header->is_control());
  EXPECT_FALSE(header->log_append_time());
}

TEST(RecordBatch, BuilderIsReusableAfterBuild) {
  BatchBuilder builder;
  builder.add(100, as_bytes("a"), as_bytes("1"));
  builder.add(101, as_bytes("b"), as_bytes("2"));
  Bytes first = std::move(*builder.build());
  EXPECT_TRUE(builder.empty());
  builder.add(500, as_bytes("c"), as_bytes("3"));
  Bytes second = std::move(*builder.build());

  auto h1 = validate_batch(first);
  auto h2 = validate_batch(second);
  ASSERT_TRUE(h1 && h2);
  EXPECT_EQ(h1->record_count, 2);
  EXPECT_EQ(h2->record_count, 1);
  EXPECT_EQ(h2->base_timestamp, 500);
  EXPECT_EQ(h2->max_timestamp, 500);
  Bytes scratch;
  auto records = read_all(second, scratch);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].offset, Offset(0));
  EXPECT_EQ(str(records[0].key), "c");
}

TEST(RecordBatch, ZstdCompressedRoundTrip) {
  Bytes plain = make_batch(200, "payload", 1000, Compression::none, 100);
  Bytes batch = make_batch(200, "payload", 1000, Compression::zstd, 100);
  EXPECT_LT(batch.size(), plain.size() / 4);
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->compression(), Compression::zstd);
  EXPECT_EQ(header->record_count, 200);

  Bytes scratch;
  auto records = read_all(batch, scratch);
  EXPECT_FALSE(scratch.empty());  // decompressed bytes the records point into
  Bytes plain_scratch;
  auto expected = read_all(plain, plain_scratch);
  ASSERT_EQ(records.size(), expected.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].offset, expected[i].offset);
    EXPECT_EQ(records[i].timestamp, expected[i].timestamp);
    EXPECT_EQ(str(records[i].key), str(expected[i].key));
    EXPECT_EQ(str(records[i].value), str(expected[i].value));
  }
}

TEST(RecordBatch, ZstdEmptyBatchRoundTrips) {
  BatchBuilder builder(BatchOptions{.compression = Compression::zstd});
  Bytes batch = std::move(*builder.build());
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->record_count, 0);
}

TEST(RecordBatch, ZstdReaderOutlivesMove) {
  Bytes batch = make_batch(50, "moved", 1000, Compression::zstd, 64);
  auto opened = RecordReader::open(batch);
  ASSERT_TRUE(opened);
  RecordReader reader = std::move(*opened);
  Record record;
  int n = 0;
  while (true) {
    auto more = reader.next(record);
    ASSERT_TRUE(more) << more.error().to_string();
    if (!*more) break;
    EXPECT_EQ(str(record.key), "k" + std::to_string(n));
    ++n;
  }
  EXPECT_EQ(n, 50);
}

TEST(RecordBatch, UnsupportedCodecPassesCrcCheckButNotRecordCheck) {
  Bytes batch = make_batch(2);
  store_be<int16_t>(batch.data() + bf::kAttributes, static_cast<int16_t>(Compression::lz4));
  seal_crc(batch);
  EXPECT_TRUE(validate_batch_crc(batch, 1 << 20));
  EXPECT_TRUE(validate_batch(batch, ValidationOptions{.check_records = false}));
  EXPECT_EQ(validate_error(batch), Errc::unsupported);
}

// ---------------------------------------------------------------- batches from clients

// What the produce path asks for: the client checks, records decoded into a reused buffer.
ValidationOptions from_client(Bytes& scratch) { return ValidationOptions{.from_client = true, .scratch = &scratch}; }

TEST(ClientBatch, WhatTheProducerBuildsIsAccepted) {
  Bytes scratch;
  EXPECT_TRUE(validate_batch(make_batch(5), from_client(scratch)));
  auto header = validate_batch(make_batch(5, "z", 1000, Compression::zstd), from_client(scratch));
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->record_count, 5);
}

TEST(ClientBatch, CodecsOtherThanNoneAndZstdAreUnsupportedCompression) {
  Bytes scratch;
  Bytes batch = make_batch(2);
  store_be<int16_t>(batch.data() + bf::kAttributes, static_cast<int16_t>(Compression::gzip));
  seal_crc(batch);
  auto result = validate_batch(batch, from_client(scratch));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, StorageErrc::unsupported_compression);
  EXPECT_NE(result.error().message.find("codec 1"), std::string::npos) << result.error().message;
  // Refused from the header even when the records are not decoded.
  EXPECT_EQ(validate_error(batch, ValidationOptions{.check_records = false, .from_client = true}),
            StorageErrc::unsupported_compression);
}

TEST(ClientBatch, ControlAndTransactionalBatchesAreInvalidRecords) {
  Bytes scratch;
  Bytes marker = make_control_batch(ControlType::commit, 77, 3, 19, 123456);
  ASSERT_TRUE(validate_batch(marker));  // a valid batch, which only the broker may write
  auto control = validate_batch(marker, from_client(scratch));
  ASSERT_FALSE(control);
  EXPECT_EQ(control.error().code, StorageErrc::invalid_record);
  EXPECT_NE(control.error().message.find("control"), std::string::npos) << control.error().message;

  BatchBuilder builder(
      BatchOptions{.producer_id = 4242, .producer_epoch = 0, .base_sequence = 0, .transactional = true});
  builder.add(1000, std::nullopt, as_bytes(std::string("v")));
  Bytes transactional = std::move(*builder.build());
  ASSERT_TRUE(validate_batch(transactional));
  auto refused = validate_batch(transactional, from_client(scratch));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StorageErrc::invalid_record);
  EXPECT_NE(refused.error().message.find("transaction"), std::string::npos) << refused.error().message;
}

TEST(ClientBatch, BatchWithoutRecordsIsInvalidRecord) {
  Bytes scratch;
  Bytes empty = std::move(*BatchBuilder().build());
  ASSERT_TRUE(validate_batch(empty));
  EXPECT_EQ(validate_error(empty, from_client(scratch)), StorageErrc::invalid_record);
  Bytes empty_zstd = raw_batch(zstd_compress({}), 0, 0, static_cast<int16_t>(Compression::zstd));
  EXPECT_EQ(validate_error(empty_zstd, from_client(scratch)), StorageErrc::invalid_record);
}

TEST(ClientBatch, RecordCountMustBeLastOffsetDeltaPlusOne) {
  Bytes scratch;
  // Deltas 0 and 2: a valid batch (compaction leaves such gaps), not one a client sends.
  Bytes gap = raw_batch_of({{.offset_delta = 0, .value = "a"}, {.offset_delta = 2, .value = "b"}}, 2);
  ASSERT_TRUE(validate_batch(gap));
  auto result = validate_batch(gap, from_client(scratch));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, StorageErrc::invalid_record);
  EXPECT_NE(result.error().message.find("last offset delta 2"), std::string::npos) << result.error().message;

  // The compressed batch whose header claimed 2^31 offsets for 3 records.
  Bytes huge = make_batch(3, "h", 1000, Compression::zstd);
  store_be<int32_t>(huge.data() + bf::kLastOffsetDelta, std::numeric_limits<int32_t>::max());
  seal_crc(huge);
  EXPECT_EQ(validate_error(huge, from_client(scratch)), StorageErrc::invalid_record);
}

TEST(ClientBatch, CompressedRecordsMustBeTheOnesTheHeaderDeclares) {
  Bytes scratch;
  const auto zstd = static_cast<int16_t>(Compression::zstd);
  auto section = [](const std::vector<RawRecord>& records) {
    Bytes plain;
    for (const RawRecord& r : records) put_raw_record(plain, r);
    return zstd_compress(plain);
  };
  Bytes garbage(64, std::byte{0x5A});
  EXPECT_EQ(validate_error(raw_batch(garbage, 1, 0, zstd), from_client(scratch)), StorageErrc::compression_error);
  // Three records where the header says four.
  Bytes three = section({{.offset_delta = 0}, {.offset_delta = 1}, {.offset_delta = 2}});
  EXPECT_EQ(validate_error(raw_batch(three, 4, 3, zstd), from_client(scratch)), StorageErrc::record_count_mismatch);
  // Right count, but a repeated delta and one past the last.
  Bytes repeated = section({{.offset_delta = 0}, {.offset_delta = 0}});
  EXPECT_EQ(validate_error(raw_batch(repeated, 2, 1, zstd), from_client(scratch)),
            StorageErrc::offset_delta_not_monotonic);
  Bytes beyond = section({{.offset_delta = 0}, {.offset_delta = 2}});
  EXPECT_EQ(validate_error(raw_batch(beyond, 2, 1, zstd), from_client(scratch)),
            StorageErrc::offset_delta_not_monotonic);
  // Records that do not parse.
  Bytes junk = zstd_compress(Bytes(40, std::byte{0x7f}));
  EXPECT_EQ(validate_error(raw_batch(junk, 1, 0, zstd), from_client(scratch)), Errc::corrupt_data);
  EXPECT_TRUE(validate_batch(raw_batch(three, 3, 2, zstd), from_client(scratch)));
}

TEST(ClientBatch, ScratchIsReusedAndADeclaredBombAllocatesNothing) {
  Bytes scratch;
  ASSERT_TRUE(validate_batch(make_batch(64, "big", 1000, Compression::zstd, 4096), from_client(scratch)));
  const std::byte* buffer = scratch.data();
  const size_t high_water = scratch.size();
  EXPECT_GE(high_water, 64u * 4096);
  ASSERT_TRUE(validate_batch(make_batch(8, "small", 1000, Compression::zstd, 100), from_client(scratch)));
  EXPECT_EQ(scratch.data(), buffer) << "a smaller batch reuses the buffer";
  EXPECT_EQ(scratch.size(), high_water);

  // A frame that declares 80 MiB is refused before any buffer grows.
  Bytes zeros(80u << 20);
  Bytes bomb = raw_batch(zstd_compress(zeros), 1, 0, static_cast<int16_t>(Compression::zstd));
  zeros = Bytes();
  EXPECT_EQ(validate_error(bomb, from_client(scratch)), StorageErrc::batch_too_large);
  EXPECT_EQ(scratch.size(), high_water);
}

// ---------------------------------------------------------------- control batches

TEST(ControlBatch, CommitMarkerRoundTrips) {
  Bytes batch = make_control_batch(ControlType::commit, 77, 3, 19, 123456);
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_TRUE(header->is_control());
  EXPECT_TRUE(header->is_transactional());
  EXPECT_EQ(header->producer_id, 77);
  EXPECT_EQ(header->producer_epoch, 3);
  EXPECT_EQ(header->record_count, 1);
  EXPECT_EQ(header->base_timestamp, 123456);

  Bytes scratch;
  auto records = read_all(batch, scratch);
  ASSERT_EQ(records.size(), 1u);
  auto control = parse_control_record(records[0]);
  ASSERT_TRUE(control) << control.error().to_string();
  EXPECT_EQ(control->type, ControlType::commit);
  EXPECT_EQ(control->coordinator_epoch, 19);
}

TEST(ControlBatch, AbortMarkerRoundTrips) {
  Bytes batch = make_control_batch(ControlType::abort, 5, 0, -1, 1);
  ASSERT_TRUE(validate_batch(batch));
  Bytes scratch;
  auto records = read_all(batch, scratch);
  ASSERT_EQ(records.size(), 1u);
  auto control = parse_control_record(records[0]);
  ASSERT_TRUE(control);
  EXPECT_EQ(control->type, ControlType::abort);
  EXPECT_EQ(control->coordinator_epoch, -1);
}

TEST(ControlBatch, ShortKeyIsRejected) {
  Record record;
  Bytes key = {std::byte{0}, std::byte{0}, std::byte{0}};
  record.key = ByteSpan(key);
  EXPECT_EQ(parse_control_record(record).error().code, Errc::corrupt_data);
  record.key.reset();
  EXPECT_EQ(parse_control_record(record).error().code, Errc::corrupt_data);
}

TEST(ControlBatch, UnknownControlTypeIsRejected) {
  Record record;
  Bytes key(4);
  store_be<int16_t>(key.data() + 2, 2);
  record.key = ByteSpan(key);
  EXPECT_EQ(parse_control_record(record).error().code, Errc::corrupt_data);
}

// ---------------------------------------------------------------- validation errors

TEST(ValidateBatch, WrongMagicIsRejected) {
  for (int8_t magic : {0, 1, 3, -1}) {
    Bytes batch = make_batch(3);
    store_be<int8_t>(batch.data() + bf::kMagic, magic);
    EXPECT_EQ(validate_error(batch), StorageErrc::wrong_magic) << int{magic};
    EXPECT_EQ(validate_batch_crc(batch, 1 << 20).error().code, StorageErrc::wrong_magic);
  }
}

TEST(ValidateBatch, BufferShorterThanHeaderIsTruncated) {
  Bytes batch = make_batch(1);
  for (size_t n : {size_t{0}, size_t{11}, size_t{12}, bf::kHeaderSize - 1}) {
    EXPECT_EQ(validate_error(ByteSpan(batch).first(n)), Errc::truncated) << n;
  }
}

TEST(ValidateBatch, LengthBeyondTheBufferIsTruncated) {
  Bytes batch = make_batch(3);
  // The buffer lost its last byte.
  EXPECT_EQ(validate_error(ByteSpan(batch).first(batch.size() - 1)), Errc::truncated);
  EXPECT_EQ(validate_error(ByteSpan(batch).first(bf::kHeaderSize)), Errc::truncated);
  // The length field claims one byte more than there is.
  store_be<int32_t>(batch.data() + bf::kBatchLength, static_cast<int32_t>(batch.size() - bf::kLogOverhead + 1));
  EXPECT_EQ(validate_error(batch), Errc::truncated);
  EXPECT_EQ(RecordReader::open(batch).error().code, Errc::truncated);
}

TEST(ValidateBatch, LengthBelowTheHeaderIsCorrupt) {
  for (int32_t length :
       {0, 10, static_cast<int32_t>(bf::kHeaderSize - bf::kLogOverhead) - 1, -1, std::numeric_limits<int32_t>::min()}) {
    Bytes batch = make_batch(1);
    store_be<int32_t>(batch.data() + bf::kBatchLength, length);
    EXPECT_EQ(validate_error(batch), Errc::corrupt_data) << length;
    EXPECT_FALSE(RecordReader::open(batch)) << length;
  }
}

TEST(ValidateBatch, TrailingBytesAfterTheBatchAreIgnored) {
  Bytes batch = make_batch(2);
  size_t size = batch.size();
  batch.push_back(std::byte{0xAB});
  Bytes second = make_batch(1);
  batch.insert(batch.end(), second.begin(), second.end());
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->total_size(), size);
}

TEST(ValidateBatch, CrcFlippedInRecordsIsRejected) {
  Bytes batch = make_batch(3);
  batch[bf::kRecords + 5] ^= std::byte{0x01};
  EXPECT_EQ(validate_error(batch), StorageErrc::crc_mismatch);
  EXPECT_EQ(validate_batch_crc(batch, 1 << 20).error().code, StorageErrc::crc_mismatch);
  EXPECT_EQ(validate_error(batch, ValidationOptions{.check_records = false}), StorageErrc::crc_mismatch);
}

TEST(ValidateBatch, CrcFlippedInLastByteIsRejected) {
  Bytes batch = make_batch(3);
  batch.back() ^= std::byte{0x80};
  EXPECT_EQ(validate_error(batch), StorageErrc::crc_mismatch);
}

TEST(ValidateBatch, CrcCoveredHeaderFieldChangeIsRejected) {
  for (size_t at : {bf::kAttributes, bf::kLastOffsetDelta + 3, bf::kBaseTimestamp, bf::kMaxTimestamp + 7,
                    bf::kProducerId, bf::kProducerEpoch, bf::kBaseSequence, bf::kRecordCount + 3}) {
    Bytes batch = make_batch(3);
    batch[at] ^= std::byte{0x04};
    auto result = validate_batch(batch);
    ASSERT_FALSE(result) << at;
    EXPECT_EQ(result.error().code, StorageErrc::crc_mismatch) << at;
    EXPECT_NE(result.error().message.find("crc"), std::string::npos) << result.error().message;
  }
}

TEST(ValidateBatch, StoredCrcFieldChangeIsRejected) {
  Bytes batch = make_batch(3);
  batch[bf::kCrc] ^= std::byte{0x10};
  EXPECT_EQ(validate_error(batch), StorageErrc::crc_mismatch);
}

TEST(ValidateBatch, ZstdPayloadByteFlipIsRejectedByCrc) {
  Bytes batch = make_batch(20, "v", 1000, Compression::zstd);
  batch[batch.size() / 2 + bf::kRecords / 2] ^= std::byte{0xFF};
  EXPECT_EQ(validate_error(batch), StorageErrc::crc_mismatch);
}

TEST(ValidateBatch, RecordCountAboveActualIsRejected) {
  Bytes batch = make_batch(3);
  store_be<int32_t>(batch.data() + bf::kRecordCount, 4);
  seal_crc(batch);
  EXPECT_EQ(validate_error(batch), StorageErrc::record_count_mismatch);
  // Without record checks only structure and CRC are verified.
  EXPECT_TRUE(validate_batch(batch, ValidationOptions{.check_records = false}));
}

TEST(ValidateBatch, RecordCountBelowActualIsRejected) {
  Bytes batch = make_batch(3);
  store_be<int32_t>(batch.data() + bf::kRecordCount, 2);
  seal_crc(batch);
  EXPECT_EQ(validate_error(batch), StorageErrc::record_count_mismatch);
}

TEST(ValidateBatch, RecordCountMismatchInZstdBatchIsRejected) {
  Bytes batch = make_batch(5, "v", 1000, Compression::zstd);
  store_be<int32_t>(batch.data() + bf::kRecordCount, 6);
  seal_crc(batch);
  EXPECT_EQ(validate_error(batch), StorageErrc::record_count_mismatch);
}

TEST(ValidateBatch, NegativeRecordCountIsCorrupt) {
  Bytes batch = make_batch(1);
  store_be<int32_t>(batch.data() + bf::kRecordCount, -1);
  seal_crc(batch);
  EXPECT_EQ(validate_error(batch), Errc::corrupt_data);
}

TEST(ValidateBatch, NegativeLastOffsetDeltaIsCorrupt) {
  Bytes batch = make_batch(1);
  store_be<int32_t>(batch.data() + bf::kLastOffsetDelta, -1);
  seal_crc(batch);
  EXPECT_EQ(validate_error(batch), Errc::corrupt_data);
}

TEST(ValidateBatch, HandBuiltBatchWithIncreasingDeltasIsAccepted) {
  // The helper itself must produce a valid batch, or the rejections below prove nothing.
  Bytes batch = raw_batch_of({{.offset_delta = 0, .key = "a", .value = "1"}, {.offset_delta = 1, .value = "2"}}, 1);
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->record_count, 2);
}

TEST(ValidateBatch, RepeatedOffsetDeltaIsRejected) {
  Bytes batch = raw_batch_of({{.offset_delta = 0, .value = "a"}, {.offset_delta = 0, .value = "b"}}, 0);
  EXPECT_TRUE(validate_batch_crc(batch, 1 << 20));
  EXPECT_EQ(validate_error(batch), StorageErrc::offset_delta_not_monotonic);
}

TEST(ValidateBatch, DecreasingOffsetDeltaIsRejected) {
  Bytes batch = raw_batch_of({{.offset_delta = 1, .value = "a"}, {.offset_delta = 0, .value = "b"}}, 1);
  EXPECT_TRUE(validate_batch_crc(batch, 1 << 20));
  EXPECT_EQ(validate_error(batch), StorageErrc::offset_delta_not_monotonic);
}

TEST(ValidateBatch, NegativeFirstOffsetDeltaIsRejected) {
  Bytes batch = raw_batch_of({{.offset_delta = -1, .value = "a"}}, 0);
  EXPECT_EQ(validate_error(batch), StorageErrc::offset_delta_not_monotonic);
}

TEST(ValidateBatch, OffsetDeltaBeyondLastOffsetDeltaIsRejected) {
  Bytes batch = raw_batch_of({{.offset_delta = 0, .value = "a"}, {.offset_delta = 5, .value = "b"}}, 1);
  EXPECT_EQ(validate_error(batch), StorageErrc::offset_delta_not_monotonic);
}

TEST(ValidateBatch, LastOffsetDeltaBeyondLastRecordIsRejected) {
  Bytes batch = raw_batch_of({{.offset_delta = 0, .value = "a"}, {.offset_delta = 1, .value = "b"}}, 3);
  EXPECT_EQ(validate_error(batch), StorageErrc::offset_delta_not_monotonic);
}

TEST(ValidateBatch, GapsBetweenOffsetDeltasAreAccepted) {
  // A compacted batch keeps its offsets: deltas 0, 2, 5 with last offset delta 5.
  Bytes batch = raw_batch_of(
      {{.offset_delta = 0, .value = "a"}, {.offset_delta = 2, .value = "b"}, {.offset_delta = 5, .value = "c"}}, 5);
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->next_offset(), Offset(6));
  Bytes scratch;
  auto records = read_all(batch, scratch);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].offset, Offset(2));
  EXPECT_EQ(records[2].offset, Offset(5));
}

TEST(ValidateBatch, RecordLengthPastTheEndIsCorrupt) {
  Bytes section;
  put_raw_record(section, {.offset_delta = 0, .value = "abc"});
  section[0] = static_cast<std::byte>(static_cast<uint8_t>(section[0]) + 2);  // length + 1
  Bytes batch = raw_batch(section, 1, 0);
  EXPECT_EQ(validate_error(batch), Errc::corrupt_data);
}

TEST(ValidateBatch, TrailingBytesInsideARecordAreCorrupt) {
  Bytes section;
  put_raw_record(section, {.offset_delta = 0, .value = "abc"});
  section[0] = static_cast<std::byte>(static_cast<uint8_t>(section[0]) + 2);
  section.push_back(std::byte{0});
  Bytes batch = raw_batch(section, 1, 0);
  EXPECT_EQ(validate_error(batch), Errc::corrupt_data);
}

TEST(ValidateBatch, NegativeRecordLengthIsCorrupt) {
  Bytes section;
  ByteWriter(section).put_varint(-1);
  Bytes batch = raw_batch(section, 1, 0);
  EXPECT_EQ(validate_error(batch), Errc::corrupt_data);
}

TEST(ValidateBatch, KeyLengthPastTheRecordIsCorrupt) {
  Bytes body;
  ByteWriter w(body);
  w.put_be<int8_t>(0);
  w.put_varint(0);
  w.put_varint(0);
  w.put_varint(100);  // key length, but no key bytes follow
  Bytes section;
  ByteWriter o(section);
  o.put_varint(static_cast<int64_t>(body.size()));
  o.put_bytes(body);
  Bytes batch = raw_batch(section, 1, 0);
  EXPECT_EQ(validate_error(batch), Errc::corrupt_data);
}

TEST(ValidateBatch, HugeHeaderCountIsCorrupt) {
  Bytes body;
  ByteWriter w(body);
  w.put_be<int8_t>(0);
  w.put_varint(0);
  w.put_varint(0);
  w.put_varint(-1);
  w.put_varint(-1);
  w.put_varint(std::numeric_limits<int32_t>::max());  // header count
  Bytes section;
  ByteWriter o(section);
  o.put_varint(static_cast<int64_t>(body.size()));
  o.put_bytes(body);
  Bytes batch = raw_batch(section, 1, 0);
  EXPECT_EQ(validate_error(batch), Errc::corrupt_data);
}

TEST(ValidateBatch, BaseOffsetWhoseNextOffsetOverflowsIsCorrupt) {
  Bytes batch = make_batch(3);  // last offset delta 2
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  stamp_base_offset(batch, Offset(kMax - 3));  // next offset is exactly INT64_MAX
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->next_offset(), Offset(kMax));
  for (int64_t base : {kMax - 2, kMax}) {
    stamp_base_offset(batch, Offset(base));
    EXPECT_EQ(validate_error(batch), Errc::corrupt_data) << base;
    EXPECT_EQ(validate_batch_crc(batch, 1 << 20).error().code, Errc::corrupt_data) << base;
  }
}

TEST(RecordReader, RecordOffsetOverflowingInt64IsCorrupt) {
  // The reader does not validate the header, so it checks each record's offset itself.
  Bytes batch = make_batch(2);
  stamp_base_offset(batch, Offset(std::numeric_limits<int64_t>::max()));
  auto reader = RecordReader::open(batch);
  ASSERT_TRUE(reader);
  Record record;
  auto first = reader->next(record);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(record.offset, Offset(std::numeric_limits<int64_t>::max()));
  auto second = reader->next(record);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::corrupt_data);
}

TEST(ValidateBatch, TimestampOverflowingInt64IsCorrupt) {
  Bytes section;
  put_raw_record(section, {.offset_delta = 0, .timestamp_delta = std::numeric_limits<int64_t>::max(), .value = "a"});
  Bytes batch = raw_batch(section, 1, 0, 0, /*base_timestamp=*/1);
  EXPECT_EQ(validate_error(batch), Errc::corrupt_data);
  Bytes ok_section;
  put_raw_record(ok_section, {.offset_delta = 0, .timestamp_delta = -5, .value = "a"});
  Bytes ok = raw_batch(ok_section, 1, 0, 0, /*base_timestamp=*/1);
  Bytes scratch;
  auto records = read_all(ok, scratch);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].timestamp, -4);
}

TEST(ValidateBatch, OversizeBatchIsRejected) {
  Bytes batch = make_batch(100, "v", 1000, Compression::none, 100);
  EXPECT_EQ(validate_error(batch, ValidationOptions{.max_batch_bytes = batch.size() - 1}),
            StorageErrc::batch_too_large);
  EXPECT_EQ(validate_batch_crc(batch, batch.size() - 1).error().code, StorageErrc::batch_too_large);
  // Exactly at the limit is fine.
  EXPECT_TRUE(validate_batch(batch, ValidationOptions{.max_batch_bytes = batch.size()}));
}

TEST(ValidateBatch, OversizeLengthFieldIsRejectedBeforeReadingIt) {
  // A length near INT32_MAX must be refused by the limit, not read.
  Bytes batch = make_batch(1);
  store_be<int32_t>(batch.data() + bf::kBatchLength, std::numeric_limits<int32_t>::max());
  EXPECT_EQ(validate_error(batch), StorageErrc::batch_too_large);
}

TEST(ValidateBatch, ZstdBombIsLimitedByMaxUncompressedBytes) {
  // 1 MiB of records that compress to a few hundred bytes.
  Bytes batch = make_batch(16, "bomb", 1000, Compression::zstd, 64 * 1024);
  ASSERT_LT(batch.size(), 4096u);
  ASSERT_TRUE(validate_batch(batch));  // fine under the default cap
  ValidationOptions tight{.max_uncompressed_bytes = 256 * 1024};
  EXPECT_EQ(validate_error(batch, tight), StorageErrc::batch_too_large);
  EXPECT_EQ(RecordReader::open(batch, 256 * 1024).error().code, StorageErrc::batch_too_large);
  // Record checks off: the records are never decompressed.
  tight.check_records = false;
  EXPECT_TRUE(validate_batch(batch, tight));
}

TEST(ValidateBatch, ZstdBombBeyondDefaultCapIsRejected) {
  // 80 MiB of zeros in one frame, larger than the 64 MiB default cap. The
  // records would not parse either; the cap must stop decompression first.
  Bytes zeros(80u << 20);
  Bytes compressed = zstd_compress(zeros);
  zeros = Bytes();
  ASSERT_LT(compressed.size(), 64u * 1024);
  Bytes batch = raw_batch(compressed, 1, 0, static_cast<int16_t>(Compression::zstd));
  EXPECT_EQ(validate_error(batch), StorageErrc::batch_too_large);
}

TEST(ValidateBatch, CorruptZstdFrameIsCompressionError) {
  Bytes garbage(64, std::byte{0x5A});
  Bytes batch = raw_batch(garbage, 1, 0, static_cast<int16_t>(Compression::zstd));
  EXPECT_EQ(validate_error(batch), StorageErrc::compression_error);
}

TEST(ValidateBatch, TruncatedZstdFrameIsCompressionError) {
  Bytes section;
  for (int i = 0; i < 10; ++i) put_raw_record(section, {.offset_delta = i, .value = std::string(100, 'q')});
  Bytes compressed = zstd_compress(section);
  compressed.resize(compressed.size() - 3);
  Bytes batch = raw_batch(compressed, 10, 9, static_cast<int16_t>(Compression::zstd));
  EXPECT_EQ(validate_error(batch), StorageErrc::compression_error);
}

TEST(ValidateBatch, ConcatenatedZstdFramesAreOneRecordsSection) {
  Bytes a;
  Bytes b;
  put_raw_record(a, {.offset_delta = 0, .value = "first"});
  put_raw_record(b, {.offset_delta = 1, .value = "second"});
  Bytes compressed = zstd_compress(a);
  Bytes more = zstd_compress(b);
  compressed.insert(compressed.end(), more.begin(), more.end());
  Bytes batch = raw_batch(compressed, 2, 1, static_cast<int16_t>(Compression::zstd));
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  Bytes scratch;
  auto records = read_all(batch, scratch);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(str(records[1].value), "second");
}

// ---------------------------------------------------------------- stamping

TEST(StampBaseOffset, KeepsCrcValidAndShiftsRecordOffsets) {
  Bytes batch = make_batch(5);
  const Bytes crc_before(batch.begin() + bf::kCrc, batch.begin() + bf::kCrc + 4);
  stamp_base_offset(batch, Offset(1'000'000'007));
  EXPECT_EQ(Bytes(batch.begin() + bf::kCrc, batch.begin() + bf::kCrc + 4), crc_before);
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->base_offset, Offset(1'000'000'007));
  EXPECT_EQ(header->last_offset(), Offset(1'000'000'011));
  EXPECT_EQ(header->next_offset(), Offset(1'000'000'012));
  Bytes scratch;
  auto records = read_all(batch, scratch);
  ASSERT_EQ(records.size(), 5u);
  for (size_t i = 0; i < records.size(); ++i)
    EXPECT_EQ(records[i].offset, Offset(1'000'000'007 + static_cast<int64_t>(i)));
}

TEST(StampBaseOffset, KeepsZstdAndControlBatchesValid) {
  for (Bytes batch :
       {make_batch(10, "z", 1000, Compression::zstd), make_control_batch(ControlType::commit, 1, 0, 0, 5)}) {
    stamp_base_offset(batch, Offset(42));
    auto header = validate_batch(batch);
    ASSERT_TRUE(header) << header.error().to_string();
    EXPECT_EQ(header->base_offset, Offset(42));
  }
}

TEST(StampBaseOffset, LeaderEpochIsOutsideTheCrc) {
  Bytes batch = make_batch(2);
  store_be<int32_t>(batch.data() + bf::kPartitionLeaderEpoch, 31);
  auto header = validate_batch(batch);
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->partition_leader_epoch, 31);
}

}  // namespace
}  // namespace sluice::storage
