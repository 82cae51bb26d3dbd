#include "sluice/storage/partition_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "sluice/storage/testing/fault_injection_file_system.h"

#include "test_support.h"

namespace sluice::storage {
namespace {

using testing::make_batch;
using testing::TempDir;

LogConfig small_config() {
  LogConfig config;
  config.segment_bytes = 4096;
  config.index_interval_bytes = 256;
  config.durability = Durability::none;
  config.retention_ms = -1;
  return config;
}

std::unique_ptr<PartitionLog> open_log(const std::string& dir, LogConfig config,
                                       Clock& clock = SystemClock::instance()) {
  auto log = PartitionLog::open(posix_file_system(), dir, config, clock);
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().to_string());
  return log ? std::move(*log) : nullptr;
}

AppendResult append(PartitionLog& log, Bytes batch) {
  auto result = log.append(batch);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().to_string());
  return result.value_or(AppendResult{});
}

// Decodes every record from `offset` to the log end.
std::vector<Record> read_records(const PartitionLog& log, Offset offset, std::vector<Bytes>& keep) {
  std::vector<Record> records;
  Bytes buffer;
  while (offset < log.log_end_offset()) {
    auto r = log.read(offset, 1000, buffer);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
    if (!r || r->bytes == 0) break;
    keep.push_back(buffer);
    ByteSpan rest = keep.back();
    while (!rest.empty()) {
      auto h = validate_batch(rest);
      EXPECT_TRUE(h.has_value());
      std::vector<Record> batch_records;
      keep.emplace_back();
      EXPECT_TRUE(decode_records(rest.first(h->total_size()), batch_records, keep.back()).has_value());
      for (auto& rec : batch_records) {
        if (rec.offset >= offset) records.push_back(rec);
      }
      rest = rest.subspan(h->total_size());
    }
    offset = r->next_offset;
  }
  return records;
}

TEST(PartitionLog, AppendAssignsContiguousOffsets) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  EXPECT_EQ(append(*log, make_batch(3)).base_offset, Offset(0));
  auto second = append(*log, make_batch(5));
  EXPECT_EQ(second.base_offset, Offset(3));
  EXPECT_EQ(second.last_offset, Offset(7));
  EXPECT_EQ(log->log_end_offset(), Offset(8));
  EXPECT_EQ(log->log_start_offset(), Offset(0));
}

// The produce path validates a request's batches one at a time and hands each to
// append_validated with the rest of the request behind it: only the batch is written.
TEST(PartitionLog, AppendValidatedWritesOnlyTheValidatedBatch) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  Bytes request = make_batch(3, "a");
  Bytes second = make_batch(2, "b");
  request.insert(request.end(), second.begin(), second.end());
  auto header = validate_batch(request);
  ASSERT_TRUE(header.has_value());
  auto appended = log->append_validated(request, *header, PartitionLog::AwaitDurable::yes);
  ASSERT_TRUE(appended.has_value()) << appended.error().to_string();
  EXPECT_EQ(appended->base_offset, Offset(0));
  EXPECT_EQ(appended->last_offset, Offset(2));
  EXPECT_EQ(log->log_end_offset(), Offset(3));
  std::vector<Bytes> keep;
  auto records = read_records(*log, Offset(0), keep);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(as_string_view(*records[2].value), "a-2");
}

TEST(PartitionLog, ReadReturnsRecordsWithOffsetsKeysAndValues) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  append(*log, make_batch(4, "a"));
  append(*log, make_batch(4, "b", 5000, Compression::zstd));
  std::vector<Bytes> keep;
  auto records = read_records(*log, Offset(0), keep);
  ASSERT_EQ(records.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(records[i].offset, Offset(i));
    EXPECT_EQ(as_string_view(*records[i].key), "k" + std::to_string(i % 4));
    EXPECT_EQ(as_string_view(*records[i].value), std::string(i < 4 ? "a-" : "b-") + std::to_string(i % 4));
  }
  EXPECT_EQ(records[5].timestamp, 5001);
}

TEST(PartitionLog, ReadAtLogEndReturnsNoBytes) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  append(*log, make_batch(2));
  Bytes buffer;
  auto r = log->read(Offset(2), 1 << 20, buffer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->bytes, 0u);
  EXPECT_EQ(r->next_offset, Offset(2));
  EXPECT_EQ(r->log_end_offset, Offset(2));
}

TEST(PartitionLog, ReadPastLogEndIsOutOfRange) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  append(*log, make_batch(2));
  Bytes buffer;
  auto r = log->read(Offset(3), 1 << 20, buffer);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, StorageErrc::offset_out_of_range);
}

TEST(PartitionLog, ReadInsideBatchReturnsTheWholeBatch) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  append(*log, make_batch(5));
  Bytes buffer;
  auto r = log->read(Offset(3), 1 << 20, buffer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->batches, 1u);
  auto h = read_batch_header(buffer);
  EXPECT_EQ(h->base_offset, Offset(0));
  EXPECT_EQ(r->next_offset, Offset(5));
}

TEST(PartitionLog, ReadStopsAtMaxBytesButReturnsAnOversizeFirstBatchWhole) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  Bytes batch = make_batch(10);
  size_t batch_size = batch.size();
  append(*log, batch);
  append(*log, make_batch(10));
  Bytes buffer;
  auto r = log->read(Offset(0), 10, buffer);  // smaller than one batch
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->batches, 1u);
  EXPECT_EQ(r->bytes, batch_size);
  r = log->read(Offset(0), batch_size + batch_size / 2, buffer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->batches, 1u) << "a partial second batch is never returned";
  EXPECT_EQ(buffer.size(), batch_size);
}

TEST(PartitionLog, RollExactlyAtTheSizeLimit) {
  TempDir dir;
  Bytes batch = make_batch(10);
  LogConfig config = small_config();
  config.segment_bytes = 2 * batch.size();  // exactly two batches fit
  auto log = open_log(dir.path(), config);
  append(*log, make_batch(10));
  append(*log, make_batch(10));
  EXPECT_EQ(log->segment_count(), 1u) << "a segment may fill up to exactly segment_bytes";
  append(*log, make_batch(10));
  EXPECT_EQ(log->segment_count(), 2u);
  EXPECT_TRUE(std::filesystem::exists(dir.sub("00000000000000000020.log")));
}

// A rolled segment keeps no disk reserved for growth: with many partitions,
// 8 MiB per finished segment would add up while the broker runs.
TEST(PartitionLog, ARolledSegmentGivesBackItsReservedBlocks) {
  TempDir dir;
  LogConfig config = small_config();
  config.segment_bytes = 3 << 20;  // past the 1 MiB where files start reserving
  auto log = open_log(dir.path(), config);
  Bytes batch = make_batch(16, "v", 1000, Compression::none, 16 << 10);  // ~256 KiB
  while (log->segment_count() < 2) ASSERT_TRUE(log->append(batch));
  const std::string first = dir.sub(segment_file_name(Offset(0), ".log"));
  struct stat st {};
  ASSERT_EQ(::stat(first.c_str(), &st), 0);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, static_cast<uint64_t>(st.st_size) + (64u << 10));
}

TEST(PartitionLog, ReadAcrossSegmentBoundary) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  for (int i = 0; i < 20; ++i) append(*log, make_batch(10, "v", 1000, Compression::none, 30));
  ASSERT_GT(log->segment_count(), 2u);
  std::vector<Bytes> keep;
  auto records = read_records(*log, Offset(0), keep);
  ASSERT_EQ(records.size(), 200u);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(records[i].offset, Offset(i));
  // One read that starts near the end of a segment continues into the next one.
  Bytes buffer;
  Offset second_base(0);
  for (auto& name : std::filesystem::directory_iterator(dir.path())) {
    auto stem = name.path().stem().string();
    if (name.path().extension() == ".log" && stem != "00000000000000000000") {
      Offset base(std::stoll(stem));
      if (second_base == Offset(0) || base < second_base) second_base = base;
    }
  }
  auto r = log->read(second_base - 1, 1 << 20, buffer);
  ASSERT_TRUE(r.has_value());
  EXPECT_GT(r->next_offset, second_base + 10);
}

TEST(PartitionLog, RollsBySegmentAge) {
  TempDir dir;
  ManualClock clock;
  LogConfig config = small_config();
  config.segment_bytes = 1 << 20;
  config.segment_ms = 60'000;
  auto log = open_log(dir.path(), config, clock);
  append(*log, make_batch(1));
  clock.advance_ms(59'999);
  append(*log, make_batch(1));
  EXPECT_EQ(log->segment_count(), 1u);
  clock.advance_ms(1);
  append(*log, make_batch(1));
  EXPECT_EQ(log->segment_count(), 2u);
}

TEST(PartitionLog, TruncateInsideBatchIsRejected) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  append(*log, make_batch(5));
  append(*log, make_batch(5));
  auto s = log->truncate_to(Offset(7));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, StorageErrc::not_batch_boundary);
  EXPECT_EQ(log->log_end_offset(), Offset(10)) << "a rejected truncation changes nothing";
  std::vector<Bytes> keep;
  EXPECT_EQ(read_records(*log, Offset(0), keep).size(), 10u);
}

TEST(PartitionLog, TruncateToBatchBoundaryThenAppendReusesOffsets) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  for (int i = 0; i < 80; ++i) append(*log, make_batch(5, "old", 1000, Compression::none, 20));
  ASSERT_GT(log->segment_count(), 2u);
  ASSERT_TRUE(log->truncate_to(Offset(25)).has_value());
  EXPECT_EQ(log->log_end_offset(), Offset(25));
  EXPECT_EQ(append(*log, make_batch(2, "new")).base_offset, Offset(25));
  std::vector<Bytes> keep;
  auto records = read_records(*log, Offset(20), keep);
  ASSERT_EQ(records.size(), 7u);
  EXPECT_EQ(as_string_view(*records[5].value), "new-0");
  EXPECT_EQ(records[5].offset, Offset(25));
}

TEST(PartitionLog, TruncateOutsideTheLogIsOutOfRange) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  append(*log, make_batch(5));
  EXPECT_EQ(log->truncate_to(Offset(6)).error().code, StorageErrc::offset_out_of_range);
}

TEST(PartitionLog, RetentionBySizeRemovesOnlyTheActiveSegmentsPredecessors) {
  TempDir dir;
  LogConfig config = small_config();
  config.retention_bytes = 0;  // as small as possible: everything that may go, goes
  auto log = open_log(dir.path(), config);
  for (int i = 0; i < 80; ++i) append(*log, make_batch(5, "v", 1000, Compression::none, 20));
  size_t before = log->segment_count();
  ASSERT_GT(before, 2u);
  Offset end = log->log_end_offset();
  auto removed = log->apply_retention();
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(*removed, before - 1);
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_EQ(log->log_end_offset(), end);
  EXPECT_GT(log->log_start_offset(), Offset(0));
  Bytes buffer;
  EXPECT_EQ(log->read(Offset(0), 100, buffer).error().code, StorageErrc::offset_out_of_range);
  EXPECT_TRUE(log->read(log->log_start_offset(), 100, buffer).has_value());
}

TEST(PartitionLog, RetentionBySizeKeepsAtLeastRetentionBytes) {
  TempDir dir;
  LogConfig config = small_config();
  auto log = open_log(dir.path(), config);
  for (int i = 0; i < 40; ++i) append(*log, make_batch(5, "v", 1000, Compression::none, 20));
  config.retention_bytes = static_cast<int64_t>(log->size_bytes() / 2);
  log->close();
  log = open_log(dir.path(), config);
  ASSERT_TRUE(log->apply_retention().has_value());
  EXPECT_GE(log->size_bytes(), static_cast<uint64_t>(config.retention_bytes));
  EXPECT_LT(log->size_bytes(), static_cast<uint64_t>(config.retention_bytes) + config.segment_bytes);
}

TEST(PartitionLog, RetentionByAgeUsesTheNewestTimestampOfASegment) {
  TempDir dir;
  ManualClock clock(1'000'000);
  LogConfig config = small_config();
  config.retention_ms = 10'000;
  auto log = open_log(dir.path(), config, clock);
  for (int i = 0; i < 20; ++i) append(*log, make_batch(5, "old", 1'000'000, Compression::none, 30));
  for (int i = 0; i < 20; ++i) append(*log, make_batch(5, "new", 1'050'000, Compression::none, 30));
  clock.set_ms(1'055'000);
  auto removed = log->apply_retention();
  ASSERT_TRUE(removed.has_value());
  EXPECT_GT(*removed, 0u);
  std::vector<Bytes> keep;
  auto records = read_records(*log, log->log_start_offset(), keep);
  ASSERT_FALSE(records.empty());
  // Segments holding any new record stay; all old-only segments went.
  EXPECT_LE(log->log_start_offset(), Offset(100));
  EXPECT_GT(log->log_start_offset(), Offset(50));
}

TEST(PartitionLog, OffsetForTimestampFindsTheFirstRecordAtOrAfter) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  for (int i = 0; i < 50; ++i) append(*log, make_batch(4, "v", 10'000 + i * 100, Compression::none, 30));
  ASSERT_GT(log->segment_count(), 2u);
  auto hit = log->offset_for_timestamp(10'000 + 17 * 100 + 2);
  ASSERT_TRUE(hit.has_value());
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ((*hit)->offset, Offset(17 * 4 + 2));
  EXPECT_EQ((*hit)->timestamp, 10'000 + 17 * 100 + 2);
  auto between = log->offset_for_timestamp(10'000 + 17 * 100 + 50);
  EXPECT_EQ((*between)->offset, Offset(18 * 4));
  EXPECT_EQ((*log->offset_for_timestamp(0))->offset, Offset(0));
  EXPECT_FALSE(log->offset_for_timestamp(1'000'000)->has_value());
}

TEST(PartitionLog, AppendWithBadCrcIsRejectedAndChangesNothing) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  Bytes batch = make_batch(3);
  batch[batch.size() - 2] ^= std::byte{0x40};
  auto r = log->append(batch);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, StorageErrc::crc_mismatch);
  EXPECT_EQ(log->log_end_offset(), Offset(0));
  EXPECT_EQ(log->size_bytes(), 0u);
}

TEST(PartitionLog, AppendOverMaxBatchBytesIsRejected) {
  TempDir dir;
  LogConfig config = small_config();
  config.max_batch_bytes = 200;
  auto log = open_log(dir.path(), config);
  Bytes batch = make_batch(20);
  auto r = log->append(batch);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, StorageErrc::batch_too_large);
}

TEST(PartitionLog, ReadersSeeOnlyWholeBatchesWhileAWriterAppends) {
  TempDir dir;
  LogConfig config = small_config();
  config.segment_bytes = 64 * 1024;
  auto log = open_log(dir.path(), config);
  std::atomic<bool> done{false};
  std::atomic<int> checked{0};
  std::thread reader([&] {
    Bytes buffer;
    Offset at(0);
    while (!done || at < log->log_end_offset()) {
      auto r = log->read(at, 4096, buffer);
      ASSERT_TRUE(r.has_value()) << r.error().to_string();
      ByteSpan rest(buffer.data(), r->bytes);
      while (!rest.empty()) {
        auto h = validate_batch(rest);
        ASSERT_TRUE(h.has_value()) << h.error().to_string();
        ASSERT_EQ(h->base_offset, at);
        at = h->next_offset();
        rest = rest.subspan(h->total_size());
        ++checked;
      }
    }
  });
  for (int i = 0; i < 2000; ++i) append(*log, make_batch(1 + i % 7, "v", 1000, Compression::none, 40));
  done = true;
  reader.join();
  EXPECT_EQ(checked.load(), 2000);
}

TEST(PartitionLog, FsyncDurabilityReportsDurableOnlyAfterSync) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  LogConfig config = small_config();
  config.durability = Durability::fsync;
  auto opened = PartitionLog::open(fs, dir.path(), config);
  ASSERT_TRUE(opened.has_value());
  auto& log = **opened;
  std::vector<std::thread> writers;
  std::atomic<int> not_durable{0};
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Bytes batch = make_batch(2);
        auto r = log.append(batch);
        if (!r || log.durable_end_offset() <= r->last_offset) ++not_durable;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(not_durable.load(), 0);
  EXPECT_EQ(log.durable_end_offset(), Offset(800));
  auto stats = log.stats();
  EXPECT_EQ(stats.appends, 400u);
  EXPECT_LE(stats.syncs, stats.appends) << "never more syncs than appends";
}

TEST(PartitionLog, IntervalDurabilitySyncsInTheBackground) {
  TempDir dir;
  LogConfig config = small_config();
  config.durability = Durability::interval;
  config.flush_interval_ms = 20;
  auto log = open_log(dir.path(), config);
  append(*log, make_batch(3));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (log->durable_end_offset() < Offset(3) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a condition, bounded by the deadline
  }
  EXPECT_EQ(log->durable_end_offset(), Offset(3));
}

TEST(PartitionLog, AppendAfterCloseFails) {
  TempDir dir;
  auto log = open_log(dir.path(), small_config());
  ASSERT_TRUE(log->close().has_value());
  Bytes batch = make_batch(1);
  auto r = log->append(batch);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::closed);
}

TEST(PartitionLog, ReopenAfterCleanCloseSkipsRecoveryAndKeepsEverything) {
  TempDir dir;
  {
    auto log = open_log(dir.path(), small_config());
    for (int i = 0; i < 30; ++i) append(*log, make_batch(5, "v", 1000 + i, Compression::zstd, 20));
    ASSERT_TRUE(log->close().has_value());
  }
  auto log = open_log(dir.path(), small_config());
  EXPECT_TRUE(log->recovery().clean_shutdown);
  EXPECT_EQ(log->recovery().segments_scanned, 0u);
  EXPECT_EQ(log->log_end_offset(), Offset(150));
  std::vector<Bytes> keep;
  EXPECT_EQ(read_records(*log, Offset(0), keep).size(), 150u);
  EXPECT_EQ(append(*log, make_batch(1)).base_offset, Offset(150));
}

TEST(PartitionLog, InvalidConfigIsRejected) {
  TempDir dir;
  LogConfig config = small_config();
  config.segment_bytes = 10;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), config);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace sluice::storage
