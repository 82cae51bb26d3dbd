// Batch validation against damaged and hostile bytes: every field a reader trusts is checked, and each failure has its
// code.
#include <gtest/gtest.h>

#include "sluice/storage/record_batch.h"

#include "record_batch_fixtures.h"

namespace sluice::storage {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the fixtures of these tests

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

// A cleaned batch (compaction dropped its last records) keeps its last offset delta;
// a client's batch must end on it.
TEST(ValidateBatch, LastOffsetDeltaBeyondTheLastRecordIsLegalStoredAndRefusedFromAClient) {
  Bytes batch = raw_batch_of({{.offset_delta = 0, .value = "a"}, {.offset_delta = 1, .value = "b"}}, 3);
  EXPECT_EQ(validate_error(batch), std::error_code(Errc::ok));
  EXPECT_EQ(validate_error(batch, {.from_client = true}), StorageErrc::invalid_record);
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

}  // namespace
}  // namespace sluice::storage
