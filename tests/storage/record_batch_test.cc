// The record-batch codec round trips: what BatchBuilder writes decodes to the same records, plain and zstd; control
// batches; stamping base offsets.
#include "sluice/storage/record_batch.h"

#include <gtest/gtest.h>

#include "record_batch_fixtures.h"

namespace sluice::storage {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the fixtures of these tests

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
