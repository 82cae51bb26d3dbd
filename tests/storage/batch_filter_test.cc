// Compaction's batch rewrite: kept records keep their offsets, timestamps and bytes;
// the batch keeps its offset range and producer fields; the CRC is valid again; a
// zstd batch is compressed again; a batch with nothing kept is an empty header.
#include "sluice/storage/batch_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sluice/storage/batch_builder.h"

#include "record_batch_fixtures.h"

namespace sluice::storage {
namespace {

using testing::read_all;
using testing::str;

// Records k0..k{n-1} with values v0.., timestamps 1000 + i, from an idempotent producer;
// the batch stamped at base offset 100.
Bytes batch_of(int n, Compression compression = Compression::none) {
  BatchBuilder builder(BatchOptions{.compression = compression});
  for (int i = 0; i < n; ++i) {
    const std::string key = "k" + std::to_string(i), value = "v" + std::to_string(i);
    builder.add(1000 + i, as_bytes(key), as_bytes(value));
  }
  builder.set_producer(7, 3, 40);
  Bytes batch = std::move(*builder.build());
  stamp_base_offset(batch, Offset(100));
  return batch;
}

bool odd_offsets(const Record& r) { return r.offset.value() % 2 == 1; }

void expect_same_frame(const BatchHeader& before, const BatchHeader& after) {
  EXPECT_EQ(after.base_offset, before.base_offset);
  EXPECT_EQ(after.last_offset_delta, before.last_offset_delta);
  EXPECT_EQ(after.base_timestamp, before.base_timestamp);
  EXPECT_EQ(after.max_timestamp, before.max_timestamp);
  EXPECT_EQ(after.producer_id, before.producer_id);
  EXPECT_EQ(after.producer_epoch, before.producer_epoch);
  EXPECT_EQ(after.base_sequence, before.base_sequence);
}

class BatchFilterTest : public ::testing::TestWithParam<Compression> {};

TEST_P(BatchFilterTest, KeptRecordsKeepTheirOffsetsTimestampsAndValues) {
  const Bytes batch = batch_of(6, GetParam());
  auto filtered = filter_batch(batch, odd_offsets);
  ASSERT_TRUE(filtered) << filtered.error().to_string();
  EXPECT_EQ(filtered->outcome, FilteredBatch::Outcome::rewritten);
  EXPECT_EQ(filtered->kept, 3);
  EXPECT_EQ(filtered->dropped, 3);
  auto header = validate_batch(filtered->bytes, {.check_records = true});
  ASSERT_TRUE(header) << header.error().to_string();
  expect_same_frame(*read_batch_header(batch), *header);
  EXPECT_EQ(header->record_count, 3);
  EXPECT_EQ(header->compression(), GetParam());
  Bytes scratch;
  const auto records = read_all(filtered->bytes, scratch);
  ASSERT_EQ(records.size(), 3u);
  for (size_t i = 0; i < records.size(); ++i) {
    const int n = 2 * static_cast<int>(i) + 1;
    EXPECT_EQ(records[i].offset, Offset(100 + n));
    EXPECT_EQ(records[i].timestamp, 1000 + n);
    EXPECT_EQ(str(records[i].key), "k" + std::to_string(n));
    EXPECT_EQ(str(records[i].value), "v" + std::to_string(n));
  }
}

TEST_P(BatchFilterTest, DroppingTheLastRecordKeepsTheBatchsOffsetRange) {
  const Bytes batch = batch_of(4, GetParam());
  auto filtered = filter_batch(batch, [](const Record& r) { return r.offset.value() < 102; });
  ASSERT_TRUE(filtered);
  auto header = validate_batch(filtered->bytes, {.check_records = true});
  ASSERT_TRUE(header) << header.error().to_string();
  EXPECT_EQ(header->next_offset(), Offset(104)) << "the next batch still starts where it did";
  EXPECT_EQ(header->record_count, 2);
}

TEST_P(BatchFilterTest, KeepingEveryRecordLeavesTheBatchAsItIs) {
  const Bytes batch = batch_of(3, GetParam());
  auto filtered = filter_batch(batch, [](const Record&) { return true; });
  ASSERT_TRUE(filtered);
  EXPECT_EQ(filtered->outcome, FilteredBatch::Outcome::unchanged);
  EXPECT_TRUE(filtered->bytes.empty());
  EXPECT_EQ(filtered->kept, 3);
}

TEST_P(BatchFilterTest, KeepingNoRecordLeavesAnEmptyHeaderWithTheProducerState) {
  const Bytes batch = batch_of(3, GetParam());
  auto filtered = filter_batch(batch, [](const Record&) { return false; });
  ASSERT_TRUE(filtered);
  EXPECT_EQ(filtered->outcome, FilteredBatch::Outcome::emptied);
  EXPECT_EQ(filtered->bytes.size(), batch_format::kHeaderSize);
  auto header = validate_batch(filtered->bytes, {.check_records = true});
  ASSERT_TRUE(header) << header.error().to_string();
  expect_same_frame(*read_batch_header(batch), *header);
  EXPECT_EQ(header->record_count, 0);
  EXPECT_EQ(header->compression(), Compression::none) << "no records section to decompress";
  Bytes scratch;
  EXPECT_TRUE(read_all(filtered->bytes, scratch).empty());
}

INSTANTIATE_TEST_SUITE_P(Codecs, BatchFilterTest, ::testing::Values(Compression::none, Compression::zstd));

TEST(BatchFilter, ACorruptRecordIsAnErrorNotAGuess) {
  Bytes batch = batch_of(3);
  batch[batch_format::kHeaderSize] = std::byte{0x7f};  // the first record's length: past the end
  auto filtered = filter_batch(batch, odd_offsets);
  EXPECT_FALSE(filtered);
}

}  // namespace
}  // namespace sluice::storage
