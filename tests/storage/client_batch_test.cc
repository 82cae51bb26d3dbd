// The checks on a batch a client produces: what the producer builds is accepted; what a client may not write is refused
// with its own code.
#include <gtest/gtest.h>

#include "sluice/storage/record_batch.h"

#include "record_batch_fixtures.h"

namespace sluice::storage {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the fixtures of these tests

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

}  // namespace
}  // namespace sluice::storage
