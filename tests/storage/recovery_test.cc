// Crash recovery: what a reopened log keeps after torn writes, flipped bits,
// lost index files and power loss.
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "sluice/storage/partition_log.h"
#include "sluice/storage/testing/fault_injection_file_system.h"

#include "recovery_support.h"
#include "test_support.h"

namespace sluice::storage {
namespace {

using testing::fill;
using testing::flip_byte;
using testing::log_path;
using testing::make_batch;
using testing::open_log;
using testing::read_all;
using testing::read_around_holes;
using testing::TempDir;

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

// Damage in a closed segment is corruption, not a torn write: the batches around
// it are all kept, and only the damaged batch's offsets are lost (it used to cut
// the log there and delete every later segment).
TEST(Recovery, CrcFlippedInAClosedSegmentLosesOnlyThatBatch) {
  TempDir dir;
  uint64_t original_size = 0;
  {
    auto log = open_log(posix_file_system(), dir.path());
    fill(*log, 40);
    ASSERT_GT(log->segment_count(), 2u);
    original_size = std::filesystem::file_size(log_path(dir, 0));
  }
  // Damage the 4th batch of the first segment (each batch is the same size).
  auto size_of_batch = make_batch(5, "v0", 1000, Compression::none, 20).size();
  flip_byte(log_path(dir, 0), 3 * size_of_batch + 70);
  auto log = open_log(posix_file_system(), dir.path());
  EXPECT_EQ(log->log_end_offset(), Offset(200)) << "nothing after the damage is lost";
  EXPECT_EQ(log->recovery().bytes_truncated, 0u);
  EXPECT_EQ(log->recovery().segments_quarantined, 1u);
  auto holes = log->damaged_ranges();
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes[0].first, Offset(15));
  EXPECT_EQ(holes[0].end, Offset(20));
  EXPECT_EQ(holes[0].position, 3 * size_of_batch);
  EXPECT_EQ(read_around_holes(*log), 195);
  Bytes buffer;
  auto before = log->read(Offset(0), 1 << 20, buffer);
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->next_offset, Offset(15)) << "a read stops in front of the damage";
  auto at = log->read(Offset(17), 1 << 20, buffer);
  ASSERT_FALSE(at.has_value());
  EXPECT_EQ(at.error().code, Errc::corrupt_data);
  EXPECT_NE(at.error().message.find(segment_file_name(Offset(0), ".log") + " at position " +
                                    std::to_string(3 * size_of_batch)),
            std::string::npos)
      << at.error().message;
  // The original file is kept, byte for byte, in the quarantine folder.
  size_t copies = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.sub("quarantine"))) {
    if (entry.path().extension() == ".txt") continue;
    ++copies;
    EXPECT_EQ(entry.file_size(), original_size);
  }
  EXPECT_EQ(copies, 1u);
  // Appends go on at the end, and a restart finds the same log.
  Bytes more = make_batch(1);
  EXPECT_EQ(log->append(more)->base_offset, Offset(200));
  log.reset();
  log = open_log(posix_file_system(), dir.path());
  EXPECT_EQ(log->recovery().segments_quarantined, 0u) << "set aside once";
  EXPECT_EQ(log->damaged_ranges().size(), 1u);
  EXPECT_EQ(read_around_holes(*log), 196);
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
