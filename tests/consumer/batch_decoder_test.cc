#include "batch_decoder.h"

#include <gtest/gtest.h>

#include "sluice/client/client_errors.h"
#include "sluice/common/crc32c.h"
#include "sluice/storage/batch_builder.h"
#include "sluice/storage/record_batch.h"

namespace sluice::consumer {
namespace {

namespace bf = storage::batch_format;
const TopicPartition kTp{"t", 3};

// A batch of `count` records "v<offset>" starting at `base`.
Bytes make_batch(int64_t base, int count, storage::Compression compression = storage::Compression::none) {
  storage::BatchBuilder builder({.compression = compression});
  for (int i = 0; i < count; ++i) {
    std::string key = "k" + std::to_string(base + i);
    std::string value = "v" + std::to_string(base + i);
    std::string hv = "h";
    storage::HeaderView headers[] = {{"trace", as_bytes(hv)}, {"empty", std::nullopt}};
    builder.add(1000 + base + i, as_bytes(key), as_bytes(value), headers);
  }
  auto bytes = builder.build();
  EXPECT_TRUE(bytes);
  storage::stamp_base_offset(*bytes, Offset(base));
  return *bytes;
}

// Decodes a copy of `bytes` that only the returned records keep alive.
Result<DecodedRecords> decode(ByteSpan bytes, int64_t fetch_offset, CheckCrcs check_crcs = CheckCrcs::yes) {
  auto owner = std::make_shared<const Bytes>(bytes.begin(), bytes.end());
  return decode_batches(kTp, *owner, fetch_offset, check_crcs, owner);
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(DecodeBatches, RecordsBelowTheFetchOffsetInTheFirstBatchAreSkipped) {
  Bytes bytes = concat({make_batch(10, 5), make_batch(15, 5)});
  auto r = decode(bytes, 12);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->records.size(), 8u);
  EXPECT_EQ(r->records.front().offset, 12);
  EXPECT_EQ(*r->records.front().value, "v12");
  EXPECT_EQ(r->records.back().offset, 19);
  EXPECT_EQ(r->next_offset, 20);
}

TEST(DecodeBatches, RecordsKeepTheirBytesAliveAndKeepHeaders) {
  Bytes bytes = make_batch(0, 2);
  auto owner = std::make_shared<Bytes>(bytes);
  auto r = decode_batches(kTp, *owner, 0, CheckCrcs::yes, owner);
  owner.reset();  // only the records hold the fetched bytes now
  ASSERT_TRUE(r);
  EXPECT_EQ(r->records[0].storage, r->records[1].storage) << "records of one fetch share its bytes";
  const ConsumerRecord& rec = r->records[1];
  EXPECT_EQ(rec.topic, "t");
  EXPECT_EQ(rec.partition, 3);
  EXPECT_EQ(*rec.key, "k1");
  EXPECT_EQ(*rec.value, "v1");
  EXPECT_EQ(rec.timestamp, 1001);
  EXPECT_EQ(rec.timestamp_type, TimestampType::create_time);
  ASSERT_EQ(rec.headers.size(), 2u);
  EXPECT_EQ(rec.headers[0], (Header{"trace", "h"}));
  EXPECT_EQ(rec.headers[1], (Header{"empty", std::nullopt}));
}

TEST(DecodeBatches, ACutShortLastBatchIsLeftForTheNextFetch) {
  Bytes second = make_batch(5, 5);
  Bytes bytes = concat({make_batch(0, 5), Bytes(second.begin(), second.begin() + 30)});
  auto r = decode(bytes, 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->records.size(), 5u);
  EXPECT_EQ(r->next_offset, 5);
}

TEST(DecodeBatches, OnlyPartOfOneBatchIsMessageTooLarge) {
  Bytes batch = make_batch(0, 50);
  auto r = decode(ByteSpan(batch).first(batch.size() - 1), 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(client::error_reason(r.error()), "MESSAGE_TOO_LARGE");
}

TEST(DecodeBatches, EmptyIsNothing) {
  auto r = decode({}, 42);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->records.empty());
  EXPECT_EQ(r->next_offset, 42);
}

TEST(DecodeBatches, ZstdBatchesAreDecompressed) {
  Bytes bytes = concat({make_batch(0, 100, storage::Compression::zstd), make_batch(100, 3)});
  auto r = decode(bytes, 0);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->records.size(), 103u);
  for (int i = 0; i < 103; ++i) EXPECT_EQ(*r->records[i].value, "v" + std::to_string(i));
}

TEST(DecodeBatches, ControlBatchesYieldNoRecordsButMoveTheOffset) {
  Bytes control = storage::make_control_batch(storage::ControlType::commit, 7, 0, 0, 5000);
  storage::stamp_base_offset(control, Offset(3));
  Bytes bytes = concat({make_batch(0, 3), control});
  auto r = decode(bytes, 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->records.size(), 3u);
  EXPECT_EQ(r->next_offset, 4);
}

// The base offset is outside the CRC: a broker could send one whose last offset
// overflows int64. Found by fetch_records_fuzz; an error, never undefined behaviour.
TEST(DecodeBatches, ABaseOffsetWhoseLastOffsetOverflowsIsCorrupt) {
  Bytes batch = make_batch(0, 5);
  storage::stamp_base_offset(batch, Offset(INT64_MAX - 2));
  for (CheckCrcs check_crcs : {CheckCrcs::yes, CheckCrcs::no}) {
    auto r = decode(batch, 0, check_crcs);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, client::ErrorCode::corrupt_message);
  }
  EXPECT_EQ(next_offset_after(batch, 7), 7) << "the header walk stops at it too";
}

TEST(DecodeBatches, ABadCrcInTheFirstBatchIsCorruptMessage) {
  Bytes bytes = make_batch(0, 3);
  bytes[bytes.size() - 2] ^= std::byte{0x40};
  auto r = decode(bytes, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, client::ErrorCode::corrupt_message);
  EXPECT_EQ(client::error_reason(r.error()), "CORRUPT_MESSAGE");
}

TEST(DecodeBatches, ABadCrcLaterEndsTheResultBeforeIt) {
  Bytes second = make_batch(3, 3);
  second[second.size() - 2] ^= std::byte{0x40};
  Bytes bytes = concat({make_batch(0, 3), second});
  auto r = decode(bytes, 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->records.size(), 3u);
  EXPECT_EQ(r->next_offset, 3) << "the next fetch starts at the bad batch and reports it";
}

TEST(DecodeBatches, LogAppendTimeUsesTheBatchTimestamp) {
  Bytes bytes = make_batch(0, 3);
  int16_t attributes = load_be<int16_t>(bytes.data() + bf::kAttributes) | bf::kTimestampTypeBit;
  store_be<int16_t>(bytes.data() + bf::kAttributes, attributes);
  store_be<int64_t>(bytes.data() + bf::kMaxTimestamp, 777);
  store_be<uint32_t>(bytes.data() + bf::kCrc, crc32c(ByteSpan(bytes).subspan(bf::kAttributes)));
  auto r = decode(bytes, 0);
  ASSERT_TRUE(r) << r.error().to_string();
  for (const auto& rec : r->records) {
    EXPECT_EQ(rec.timestamp, 777);
    EXPECT_EQ(rec.timestamp_type, TimestampType::log_append_time);
  }
}

}  // namespace
}  // namespace sluice::consumer
