// PartitionLog::read with ReadOptions: the upper bound (read_committed will pass
// the last stable offset), min_one_batch, and the defaults that keep the reads
// the broker makes today.
#include <gtest/gtest.h>

#include "sluice/storage/partition_log.h"

#include "test_support.h"

namespace sluice::storage {
namespace {

using testing::make_batch;
using testing::TempDir;

class LogReadOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    LogConfig config;
    config.durability = Durability::none;
    config.segment_bytes = 2048;  // several segments, so bounds are checked across them
    config.index_interval_bytes = 256;
    auto opened = PartitionLog::open(posix_file_system(), dir_.path(), config);
    ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
    log_ = std::move(*opened);
    // 30 batches of 5 records: offsets 0-149, batch boundaries every 5.
    for (int i = 0; i < 30; ++i) {
      Bytes batch = make_batch(5, "v", 1000, Compression::none, 40);
      batch_size_ = batch.size();
      ASSERT_TRUE(log_->append(batch).has_value());
    }
    ASSERT_GT(log_->segment_count(), 2u);
  }

  TempDir dir_;
  std::unique_ptr<PartitionLog> log_;
  size_t batch_size_ = 0;
};

TEST_F(LogReadOptions, DefaultsReadToTheLogEnd) {
  Bytes out;
  auto r = log_->read(Offset(100), ReadOptions{}, out);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->next_offset, Offset(150));
  EXPECT_EQ(r->batches, 10u);
  EXPECT_EQ(out.size(), 10 * batch_size_);
}

TEST_F(LogReadOptions, UpperBoundAtABatchBoundaryIsExclusive) {
  for (auto mode : {ReadMode::copy, ReadMode::locate}) {
    Bytes out;
    auto r = log_->read(Offset(0), ReadOptions{.upper_bound = Offset(60), .mode = mode}, out);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(r->next_offset, Offset(60));
    EXPECT_EQ(r->batches, 12u);
    EXPECT_EQ(r->bytes, 12 * batch_size_);
    EXPECT_EQ(r->log_end_offset, Offset(150)) << "the bound does not change what the log reports";
  }
}

TEST_F(LogReadOptions, ABatchThatPassesTheUpperBoundIsNotReturned) {
  Bytes out;
  // 62 is inside the batch 60-64: that batch would pass the bound.
  auto r = log_->read(Offset(0), ReadOptions{.upper_bound = Offset(62)}, out);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->next_offset, Offset(60));
  // A read at the bound (or in the batch holding it) returns nothing, not an error.
  auto at = log_->read(Offset(60), ReadOptions{.upper_bound = Offset(62)}, out);
  ASSERT_TRUE(at.has_value()) << at.error().to_string();
  EXPECT_EQ(at->bytes, 0u);
  EXPECT_EQ(at->next_offset, Offset(60));
}

TEST_F(LogReadOptions, AnUpperBoundPastTheLogEndIsTheLogEnd) {
  Bytes out;
  auto r = log_->read(Offset(140), ReadOptions{.upper_bound = Offset(1000)}, out);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->next_offset, Offset(150));
}

TEST_F(LogReadOptions, WithoutMinOneBatchAFirstBatchOverMaxBytesIsNotReturned) {
  Bytes out;
  auto whole = log_->read(Offset(0), ReadOptions{.max_bytes = batch_size_ / 2}, out);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->batches, 1u) << "by default the first batch is returned whole (KIP-74)";
  for (auto mode : {ReadMode::copy, ReadMode::locate}) {
    auto none = log_->read(
        Offset(0), ReadOptions{.max_bytes = batch_size_ / 2, .mode = mode, .min_one_batch = MinOneBatch::no}, out);
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(none->batches, 0u);
    EXPECT_EQ(none->bytes, 0u);
    EXPECT_EQ(none->next_offset, Offset(0));
  }
  auto two = log_->read(Offset(0), ReadOptions{.max_bytes = 2 * batch_size_, .min_one_batch = MinOneBatch::no}, out);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->batches, 2u);
}

}  // namespace
}  // namespace sluice::storage
