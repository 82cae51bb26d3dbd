// Crash recovery: what a reopened log keeps after torn writes, flipped bits,
// lost index files and power loss.
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "sluice/storage/partition_log.h"

#include "test_support.h"

namespace sluice::storage {
namespace {

using testing::make_batch;
using testing::TempDir;

LogConfig config_with(Durability durability) {
  LogConfig config;
  config.segment_bytes = 4096;
  config.index_interval_bytes = 256;
  config.durability = durability;
  config.retention_ms = -1;
  return config;
}

std::unique_ptr<PartitionLog> open_log(FileSystem& fs, const std::string& dir, Durability d = Durability::none) {
  auto log = PartitionLog::open(fs, dir, config_with(d));
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().to_string());
  return log ? std::move(*log) : nullptr;
}

// Appends `batches` batches of 5 records and returns each batch's base offset.
std::vector<Offset> fill(PartitionLog& log, int batches) {
  std::vector<Offset> bases;
  for (int i = 0; i < batches; ++i) {
    Bytes batch = make_batch(5, "v" + std::to_string(i), 1000 + i, Compression::none, 20);
    auto r = log.append(batch);
    EXPECT_TRUE(r.has_value());
    bases.push_back(r->base_offset);
  }
  return bases;
}

// Reads the whole log, checking every batch; returns the number of records.
int64_t read_all(const PartitionLog& log) {
  Bytes buffer;
  Offset at = log.log_start_offset();
  int64_t records = 0;
  while (at < log.log_end_offset()) {
    auto r = log.read(at, 1 << 16, buffer);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    if (!r) return -1;
    ByteSpan rest(buffer.data(), r->bytes);
    while (!rest.empty()) {
      auto h = validate_batch(rest);
      EXPECT_TRUE(h.has_value());
      if (!h) return -1;
      EXPECT_EQ(h->base_offset, at);
      at = h->next_offset();
      records += h->record_count;
      rest = rest.subspan(h->total_size());
    }
  }
  return records;
}

std::string log_path(const TempDir& dir, int64_t base) { return dir.sub(segment_file_name(Offset(base), ".log")); }

void flip_byte(const std::string& path, uint64_t position) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(position));
  char c = 0;
  f.read(&c, 1);
  c ^= 0x5a;
  f.seekp(static_cast<std::streamoff>(position));
  f.write(&c, 1);
}

TEST(Recovery, TornFinalBatchIsTruncated) {
  TempDir dir;
  uint64_t size_before_last = 0;
  {
    auto log = open_log(posix_file_system(), dir.path());
    fill(*log, 3);
    size_before_last = log->size_bytes();
    fill(*log, 1);
    // Destroyed without close(): the process died.
  }
  std::filesystem::resize_file(log_path(dir, 0), std::filesystem::file_size(log_path(dir, 0)) - 7);
  auto log = open_log(posix_file_system(), dir.path());
  EXPECT_FALSE(log->recovery().clean_shutdown);
  EXPECT_EQ(log->log_end_offset(), Offset(15));
  EXPECT_EQ(log->size_bytes(), size_before_last);
  EXPECT_GT(log->recovery().bytes_truncated, 0u);
  EXPECT_EQ(read_all(*log), 15);
  Bytes batch = make_batch(1);
  EXPECT_EQ(log->append(batch)->base_offset, Offset(15)) << "appends continue after the cut";
}

TEST(Recovery, CrcFlippedInTheMiddleOfASegmentCutsTheLogThere) {
  TempDir dir;
  {
    auto log = open_log(posix_file_system(), dir.path());
    fill(*log, 40);
    ASSERT_GT(log->segment_count(), 2u);
  }
  // Damage the 4th batch of the first segment (each batch is the same size).
  auto size_of_batch = make_batch(5, "v0", 1000, Compression::none, 20).size();
  flip_byte(log_path(dir, 0), 3 * size_of_batch + 70);
  auto log = open_log(posix_file_system(), dir.path());
  EXPECT_EQ(log->log_end_offset(), Offset(15)) << "everything from the damaged batch on is gone";
  EXPECT_EQ(log->segment_count(), 1u) << "later segments are removed: offsets stay contiguous";
  EXPECT_GT(log->recovery().segments_removed, 0u);
  EXPECT_EQ(read_all(*log), 15);
  EXPECT_FALSE(std::filesystem::exists(log_path(dir, log->log_end_offset().value() + 100)));
}

// Writes 40 batches of 5 records, closes cleanly, then flips a byte inside the
// third batch (offsets 10-14). Returns the size of one batch.
size_t write_then_damage_the_third_batch(const TempDir& dir) {
  {
    auto log = open_log(posix_file_system(), dir.path());
    fill(*log, 40);
    EXPECT_TRUE(log->close().has_value());
  }
  auto size_of_batch = make_batch(5, "v0", 1000, Compression::none, 20).size();
  flip_byte(log_path(dir, 0), 2 * size_of_batch + 70);
  return size_of_batch;
}

TEST(Recovery, CrcFlippedAfterCleanShutdownIsNeverServed) {
  TempDir dir;
  write_then_damage_the_third_batch(dir);
  auto log = open_log(posix_file_system(), dir.path());
  Bytes buffer;
  // Reading from before the damage stops in front of it ...
  auto before = log->read(Offset(0), 1 << 20, buffer);
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->next_offset, Offset(10));
  // ... and reading the damaged batch is an error, never its bytes.
  auto at = log->read(Offset(10), 1 << 20, buffer);
  ASSERT_FALSE(at.has_value());
  EXPECT_EQ(at.error().code, Errc::corrupt_data);
  // Later batches are still readable.
  EXPECT_TRUE(log->read(Offset(15), 1 << 20, buffer).has_value());
}

// The same with reads that only walk headers (what the broker's fetch does):
// bytes not checked since the log was opened are checked before they are located.
TEST(Recovery, CrcFlippedAfterCleanShutdownIsNeverLocated) {
  TempDir dir;
  size_t size_of_batch = write_then_damage_the_third_batch(dir);
  auto log = open_log(posix_file_system(), dir.path());
  Bytes scratch;
  constexpr auto kLocate = PartitionLog::ReadMode::locate;
  for (int round = 0; round < 2; ++round) {  // the second round walks bytes the first one checked
    SCOPED_TRACE("round " + std::to_string(round));
    auto before = log->read(Offset(0), 1 << 20, scratch, kLocate);
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(before->next_offset, Offset(10));
    EXPECT_EQ(before->bytes, 2 * size_of_batch);
    auto at = log->read(Offset(10), 1 << 20, scratch, kLocate);
    ASSERT_FALSE(at.has_value());
    EXPECT_EQ(at.error().code, Errc::corrupt_data);
  }
  EXPECT_TRUE(log->read(Offset(15), 1 << 20, scratch, kLocate).has_value());
}

TEST(Recovery, DeletedIndexFileIsRebuilt) {
  TempDir dir;
  {
    auto log = open_log(posix_file_system(), dir.path());
    fill(*log, 40);
    ASSERT_TRUE(log->close().has_value());
  }
  auto index = dir.sub(segment_file_name(Offset(0), ".index"));
  auto original = std::filesystem::file_size(index);
  ASSERT_GT(original, 0u);
  std::filesystem::remove(index);
  auto log = open_log(posix_file_system(), dir.path());
  EXPECT_EQ(read_all(*log), 200);
  Bytes buffer;
  auto r = log->read(Offset(12), 100, buffer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(read_batch_header(buffer)->base_offset, Offset(10));
  ASSERT_TRUE(log->close().has_value());
  EXPECT_EQ(std::filesystem::file_size(index), original) << "the rebuilt index is written back";
}

TEST(Recovery, GarbageIndexFileIsRebuilt) {
  TempDir dir;
  {
    auto log = open_log(posix_file_system(), dir.path());
    fill(*log, 40);
    ASSERT_TRUE(log->close().has_value());
  }
  {
    std::ofstream f(dir.sub(segment_file_name(Offset(0), ".index")), std::ios::binary | std::ios::trunc);
    static constexpr char kGarbage[] = "\xff\xff\xff\xff\x00\x00\x00\x01 garbage";
    f.write(kGarbage, sizeof(kGarbage) - 1);  // all of it: `<<` would stop at the first NUL
  }
  auto log = open_log(posix_file_system(), dir.path());
  EXPECT_EQ(read_all(*log), 200);
  for (int64_t offset : {0, 7, 33, 120, 199}) {
    Bytes buffer;
    auto r = log->read(Offset(offset), 100, buffer);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(read_batch_header(buffer)->base_offset, Offset(offset / 5 * 5));
  }
}

TEST(Recovery, PowerLossKeepsEveryAcknowledgedFsyncBatch) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  {
    auto log = open_log(fs, dir.path(), Durability::fsync);
    fill(*log, 30);
  }
  ASSERT_TRUE(fs.drop_unsynced().has_value());
  auto log = open_log(fs, dir.path(), Durability::fsync);
  EXPECT_EQ(log->log_end_offset(), Offset(150));
  EXPECT_EQ(read_all(*log), 150);
}

TEST(Recovery, PowerLossWithoutFsyncLosesOnlyAnUnsyncedTail) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  {
    auto log = open_log(fs, dir.path(), Durability::none);
    fill(*log, 10);
    ASSERT_TRUE(log->flush().has_value());
    fill(*log, 30);
  }
  ASSERT_TRUE(fs.drop_unsynced().has_value());
  auto log = open_log(fs, dir.path(), Durability::none);
  EXPECT_GE(log->log_end_offset(), Offset(50)) << "flushed records survive";
  EXPECT_LT(log->log_end_offset(), Offset(200)) << "unsynced records were dropped";
  EXPECT_EQ(read_all(*log), log->log_end_offset().value());
}

// A flush whose sync overlapped a truncation must not count the bytes written
// after the truncation as synced: they did not exist when the sync ran.
TEST(Recovery, SyncThatOverlapsATruncationDoesNotCoverLaterAppends) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  {
    auto log = open_log(fs, dir.path(), Durability::none);
    std::vector<Offset> bases = fill(*log, 4);  // offsets [0, 20), one segment
    std::mutex mu;
    std::condition_variable cv;
    bool in_sync = false;
    bool release = false;
    fs.set_after_sync([&](const std::string&) {
      std::unique_lock lock(mu);
      if (in_sync) return;  // hold only the first sync
      in_sync = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    });
    std::thread flusher([&] { EXPECT_TRUE(log->flush().has_value()); });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_sync; });
    }
    // The sync recorded the file as it was; now the log is cut and refilled.
    ASSERT_TRUE(log->truncate_to(bases[1]).has_value());
    fill(*log, 3);  // offsets [5, 20) again, new bytes
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    flusher.join();
    ASSERT_TRUE(log->flush().has_value());
    fs.set_after_sync(nullptr);
  }
  ASSERT_TRUE(fs.drop_unsynced().has_value());
  auto log = open_log(fs, dir.path(), Durability::none);
  EXPECT_EQ(log->log_end_offset(), Offset(20)) << "every flushed batch survives power loss";
  EXPECT_EQ(read_all(*log), 20);
}

// A wait for an offset that a truncation removed ends once the shorter log is
// synced; it used to sync in a loop forever (and hang close() in interval mode).
TEST(Recovery, WaitForATruncatedOffsetEnds) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  auto log = open_log(fs, dir.path(), Durability::none);
  std::vector<Offset> bases = fill(*log, 4);  // offsets [0, 20)
  ASSERT_TRUE(log->truncate_to(bases[1]).has_value());
  auto done = std::make_shared<std::promise<bool>>();
  auto result = done->get_future();
  std::thread([done, raw = log.get()] { done->set_value(raw->wait_durable(Offset(20)).has_value()); }).detach();
  if (result.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    [[maybe_unused]] PartitionLog* leaked = log.release();  // still used by the stuck thread
    FAIL() << "wait_durable(20) after truncating to 5 did not return";
  }
  EXPECT_TRUE(result.get());
  EXPECT_EQ(log->durable_end_offset(), bases[1]);
}

TEST(Recovery, RecoveryPointLimitsTheScanToUnsyncedSegments) {
  TempDir dir;
  {
    auto log = open_log(posix_file_system(), dir.path(), Durability::fsync);
    fill(*log, 60);
    ASSERT_GT(log->segment_count(), 3u);
  }
  auto log = open_log(posix_file_system(), dir.path(), Durability::fsync);
  EXPECT_EQ(log->recovery().segments_scanned, 1u) << "only the active segment is past the recovery point";
  EXPECT_EQ(read_all(*log), 300);
}

TEST(Recovery, LeftoverTemporaryFilesAreRemoved) {
  TempDir dir;
  {
    auto log = open_log(posix_file_system(), dir.path());
    fill(*log, 3);
  }
  { std::ofstream(dir.sub("recovery-point.tmp")) << "999"; }
  auto log = open_log(posix_file_system(), dir.path());
  EXPECT_FALSE(std::filesystem::exists(dir.sub("recovery-point.tmp")));
  EXPECT_EQ(log->log_end_offset(), Offset(15));
}

TEST(Recovery, GarbageAppendedAfterTheLastBatchIsCut) {
  TempDir dir;
  {
    auto log = open_log(posix_file_system(), dir.path());
    fill(*log, 3);
  }
  {
    std::ofstream f(log_path(dir, 0), std::ios::binary | std::ios::app);
    std::string junk(300, '\x07');
    f << junk;
  }
  auto log = open_log(posix_file_system(), dir.path());
  EXPECT_EQ(log->log_end_offset(), Offset(15));
  EXPECT_EQ(log->recovery().bytes_truncated, 300u);
}

}  // namespace
}  // namespace sluice::storage
