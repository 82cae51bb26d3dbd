#include "sluice/storage/batch_cursor.h"

#include <gtest/gtest.h>

#include <vector>

#include "sluice/storage/file_system.h"

#include "file_batch_cursor.h"
#include "test_support.h"

namespace sluice::storage {
namespace {

namespace bf = batch_format;
using testing::make_batch;
using testing::TempDir;

// `count` batches of 1..count records, back to back, with their offsets stamped.
Bytes batches(int count, std::vector<size_t>* sizes = nullptr) {
  Bytes out;
  int64_t offset = 0;
  for (int i = 1; i <= count; ++i) {
    Bytes b = make_batch(i);
    stamp_base_offset(b, Offset(offset));
    offset += i;
    if (sizes) sizes->push_back(b.size());
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

TEST(BatchCursor, WalksNBatchesThenStopsAtTheEnd) {
  std::vector<size_t> sizes;
  Bytes bytes = batches(5, &sizes);
  BatchCursor cursor(bytes);
  size_t position = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(cursor.frame(), BatchFrame::whole) << "batch " << i;
    EXPECT_EQ(cursor.position(), position);
    EXPECT_EQ(cursor.header().record_count, i + 1);
    EXPECT_EQ(cursor.header().total_size(), sizes[static_cast<size_t>(i)]);
    EXPECT_EQ(cursor.batch().size(), sizes[static_cast<size_t>(i)]);
    EXPECT_TRUE(validate_batch(cursor.batch()).has_value());
    position += sizes[static_cast<size_t>(i)];
    cursor.advance();
  }
  EXPECT_EQ(cursor.frame(), BatchFrame::end);
  EXPECT_EQ(cursor.position(), bytes.size());
}

TEST(BatchCursor, EmptyBytesAreTheEnd) {
  BatchCursor cursor{ByteSpan()};
  EXPECT_EQ(cursor.frame(), BatchFrame::end);
}

TEST(BatchCursor, FewerBytesThanAHeaderAreATruncatedHeader) {
  Bytes bytes = batches(1);
  for (size_t n : {size_t{1}, bf::kLogOverhead, bf::kHeaderSize - 1}) {
    BatchCursor cursor(ByteSpan(bytes.data(), n));
    EXPECT_EQ(cursor.frame(), BatchFrame::truncated_header) << n << " bytes";
  }
}

TEST(BatchCursor, ALengthPastTheEndIsPastEnd) {
  Bytes bytes = batches(2);
  std::vector<size_t> sizes;
  (void)batches(2, &sizes);
  // The second batch loses its last byte.
  BatchCursor cursor(ByteSpan(bytes.data(), bytes.size() - 1));
  ASSERT_EQ(cursor.frame(), BatchFrame::whole);
  cursor.advance();
  EXPECT_EQ(cursor.frame(), BatchFrame::past_end);
  EXPECT_EQ(cursor.header().total_size(), sizes[1]) << "the header is still decoded";
}

TEST(BatchCursor, ZeroOrNegativeLengthIsImplausible) {
  for (int32_t length : {0, -1, static_cast<int32_t>(bf::kHeaderSize - bf::kLogOverhead) - 1, INT32_MIN}) {
    Bytes bytes = batches(1);
    store_be<int32_t>(bytes.data() + bf::kBatchLength, length);
    BatchCursor cursor(bytes);
    EXPECT_EQ(cursor.frame(), BatchFrame::implausible) << "length " << length;
  }
}

TEST(BatchCursor, BadMagicOrNegativeLastOffsetDeltaIsImplausible) {
  Bytes bad_magic = batches(1);
  bad_magic[bf::kMagic] = std::byte{1};
  EXPECT_EQ(BatchCursor(bad_magic).frame(), BatchFrame::implausible);
  Bytes bad_delta = batches(1);
  store_be<int32_t>(bad_delta.data() + bf::kLastOffsetDelta, -1);
  EXPECT_EQ(BatchCursor(bad_delta).frame(), BatchFrame::implausible);
}

// The file cursor reads the file a chunk at a time: a walk over more batches than
// one chunk holds, and one whose chunk is a single header, find the same frames.
TEST(FileBatchCursor, WalksAFileRegionAcrossChunks) {
  TempDir dir;
  std::vector<size_t> sizes;
  Bytes bytes;
  for (int round = 0; round < 20; ++round) {
    Bytes b = batches(6, &sizes);
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
  ASSERT_GT(bytes.size(), 2 * FileBatchCursor::kMaxReadAhead);
  auto file = posix_file_system().open(dir.path() + "/walk.log", OpenMode::create_or_open);
  ASSERT_TRUE(file.has_value());
  ASSERT_TRUE((*file)->append(bytes).has_value());
  for (size_t read_ahead : {FileBatchCursor::kMaxReadAhead, bf::kHeaderSize}) {
    FileBatchCursor walk(**file, 0, bytes.size(), read_ahead);
    size_t position = 0;
    for (size_t size : sizes) {
      auto frame = walk.frame();
      ASSERT_TRUE(frame.has_value());
      ASSERT_EQ(*frame, BatchFrame::whole) << "at " << position;
      EXPECT_EQ(walk.position(), position);
      EXPECT_EQ(walk.header().total_size(), size);
      walk.advance();
      position += size;
    }
    EXPECT_EQ(walk.frame().value(), BatchFrame::end);
  }
  // A region that ends inside the last batch, or inside its header.
  FileBatchCursor short_region(**file, bytes.size() - sizes.back(), bytes.size() - 1);
  EXPECT_EQ(short_region.frame().value(), BatchFrame::past_end);
  FileBatchCursor torn_header(**file, bytes.size() - sizes.back(), bytes.size() - sizes.back() + 10);
  EXPECT_EQ(torn_header.frame().value(), BatchFrame::truncated_header);
}

}  // namespace
}  // namespace sluice::storage
