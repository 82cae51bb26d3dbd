// Recovery of logs with gaps and damage below the recovery point: nothing intact
// is deleted, damage is set aside and reported, offsets never go back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sluice/storage/partition_log.h"
#include "sluice/storage/testing/fault_injection_file_system.h"

#include "recovery_support.h"
#include "test_support.h"

namespace sluice::storage {
namespace {

using testing::config_with;
using testing::fill;
using testing::flip_byte;
using testing::log_path;
using testing::make_batch;
using testing::read_all;
using testing::read_around_holes;
using testing::TempDir;

size_t batch_size() { return make_batch(5, "v0", 1000, Compression::none, 20).size(); }

std::unique_ptr<PartitionLog> open_with(FileSystem& fs, const std::string& dir, LogConfig config) {
  auto log = PartitionLog::open(fs, dir, config);
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().to_string());
  return log ? std::move(*log) : nullptr;
}

// The segment bases of a closed log in `dir`, oldest first.
std::vector<int64_t> segment_bases(const TempDir& dir) {
  std::vector<int64_t> bases;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    std::string name = entry.path().filename().string();
    if (name.size() == 24 && name.ends_with(".log")) bases.push_back(std::stoll(name.substr(0, 20)));
  }
  std::sort(bases.begin(), bases.end());
  return bases;
}

size_t quarantined_files(const TempDir& dir) {
  if (!std::filesystem::exists(dir.sub("quarantine"))) return 0;
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.sub("quarantine"))) {
    if (entry.path().extension() != ".txt") ++n;
  }
  return n;
}

// What a cleaner does to a closed segment: drop its last batch. The segment then
// ends below its successor's base.
void drop_last_batch(const TempDir& dir, int64_t base) {
  std::filesystem::resize_file(log_path(dir, base), std::filesystem::file_size(log_path(dir, base)) - batch_size());
  std::filesystem::remove(dir.sub(segment_file_name(Offset(base), ".index")));
  std::filesystem::remove(dir.sub(segment_file_name(Offset(base), ".timeindex")));
}

// The report: truncating a closed segment by 100 bytes and restarting
// deleted the three intact segments after it (segments_removed_after_damage).
TEST(DamageRecovery, ATruncatedClosedSegmentKeepsEverySegmentAfterIt) {
  TempDir dir;
  {
    auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
    fill(*log, 80);
    ASSERT_GE(log->segment_count(), 4u);
    // Destroyed without close(): the process died.
  }
  std::vector<int64_t> bases = segment_bases(dir);
  std::filesystem::resize_file(log_path(dir, 0), std::filesystem::file_size(log_path(dir, 0)) - 100);
  auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
  EXPECT_EQ(log->log_end_offset(), Offset(400));
  EXPECT_EQ(log->recovery().bytes_truncated, 0u) << "below the recovery point nothing is cut";
  EXPECT_EQ(log->recovery().segments_quarantined, 1u);
  EXPECT_EQ(quarantined_files(dir), 1u);
  auto holes = log->damaged_ranges();
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes[0].end, Offset(bases[1]));
  EXPECT_EQ(holes[0].end.value() - holes[0].first.value(), 5) << "only the torn batch is lost";
  EXPECT_EQ(read_around_holes(*log), 395);
}

// Offsets gaps are legal in a compacted log: a segment that ends below its
// successor's base is kept as it is, and reads go on past the gap.
TEST(DamageRecovery, AGapBetweenSegmentsIsKeptThroughAnUncleanRestartWhereGapsAreLegal) {
  TempDir dir;
  LogConfig config = config_with(Durability::fsync);
  config.offset_gaps = OffsetGaps::are_legal;
  {
    auto log = open_with(posix_file_system(), dir.path(), config);
    fill(*log, 80);
  }
  std::vector<int64_t> bases = segment_bases(dir);
  ASSERT_GE(bases.size(), 3u);
  drop_last_batch(dir, bases[bases.size() - 2]);  // the segment before the active one
  auto log = open_with(posix_file_system(), dir.path(), config);
  EXPECT_EQ(log->log_end_offset(), Offset(400)) << "the active segment is kept whole";
  EXPECT_EQ(log->recovery().segments_quarantined, 0u);
  EXPECT_TRUE(log->damaged_ranges().empty());
  EXPECT_EQ(read_all(*log), 395);
  Bytes buffer;
  auto r = log->read(Offset(bases.back() - 3), 1 << 20, buffer);  // inside the gap
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(read_batch_header(buffer)->base_offset, Offset(bases.back()));
}

// The same segment set in a log whose gaps are damage: nothing is deleted either,
// and the hole is reported.
TEST(DamageRecovery, AGapBetweenSegmentsIsReportedWhereGapsAreDamage) {
  TempDir dir;
  {
    auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
    fill(*log, 80);
  }
  std::vector<int64_t> bases = segment_bases(dir);
  drop_last_batch(dir, bases[bases.size() - 2]);
  auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
  EXPECT_EQ(log->log_end_offset(), Offset(400));
  auto holes = log->damaged_ranges();
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes[0].first, Offset(bases.back() - 5));
  EXPECT_EQ(holes[0].end, Offset(bases.back()));
  EXPECT_EQ(read_around_holes(*log), 395);
}

// Gaps through the power-loss model: every synced batch on either side of a gap
// survives a power cut.
TEST(DamageRecovery, AGapSurvivesPowerLossWithEveryAcknowledgedBatch) {
  TempDir dir;
  FaultInjectionFileSystem fs;
  LogConfig config = config_with(Durability::fsync);
  config.offset_gaps = OffsetGaps::are_legal;
  {
    auto log = open_with(fs, dir.path(), config);
    fill(*log, 80);
    ASSERT_TRUE(log->close().has_value());
  }
  std::vector<int64_t> bases = segment_bases(dir);
  {
    // Through the fault-injecting file system, so it knows the file's new size.
    auto file = fs.open(log_path(dir, bases[1]), OpenMode::must_exist);
    ASSERT_TRUE(file.has_value());
    ASSERT_TRUE((*file)->truncate((*file)->size() - batch_size()).has_value());
    ASSERT_TRUE((*file)->sync().has_value());
  }
  std::filesystem::remove(dir.sub("clean-shutdown"));
  {
    auto log = open_with(fs, dir.path(), config);
    fill(*log, 40);  // acknowledged after fsync
  }
  ASSERT_TRUE(fs.drop_unsynced().has_value());
  auto log = open_with(fs, dir.path(), config);
  EXPECT_EQ(log->log_end_offset(), Offset(600));
  EXPECT_EQ(read_all(*log), 595);
  EXPECT_EQ(log->recovery().segments_quarantined, 0u);
}

// A segment whose offsets overlap the one before it cannot be served (offsets
// would go back), and is not deleted either: it goes to quarantine/ whole.
TEST(DamageRecovery, AnOverlappingSegmentIsMovedToQuarantine) {
  TempDir dir;
  {
    auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
    fill(*log, 40);
    ASSERT_TRUE(log->close().has_value());
  }
  std::vector<int64_t> bases = segment_bases(dir);
  ASSERT_GE(bases.size(), 2u);
  // A copy of the first segment's tail named as if it started inside it.
  std::filesystem::copy_file(log_path(dir, bases[1]), log_path(dir, bases[1] - 5));
  std::filesystem::remove(dir.sub("clean-shutdown"));
  auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
  EXPECT_EQ(log->recovery().segments_quarantined, 1u);
  EXPECT_EQ(quarantined_files(dir), 1u);
  EXPECT_FALSE(std::filesystem::exists(log_path(dir, bases[1] - 5)));
  EXPECT_EQ(log->log_end_offset(), Offset(200));
  EXPECT_EQ(read_all(*log), 200);
}

// The report: a flipped bit in a stored base offset (not covered by the
// CRC) made a consume from 1320 print 1495... then 1330.... After a clean
// shutdown nothing is scanned at open; the first read must catch it.
TEST(DamageRecovery, AFlippedBaseOffsetIsNeverServedAfterACleanShutdown) {
  TempDir dir;
  {
    auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
    fill(*log, 40);
    ASSERT_TRUE(log->close().has_value());
  }
  // The base offset of the third batch (offsets 10-14): 10 becomes 10 ^ 0x80 = 138.
  flip_byte(log_path(dir, 0), 2 * batch_size() + 7);
  auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
  for (auto mode : {PartitionLog::ReadMode::copy, PartitionLog::ReadMode::locate}) {
    Bytes buffer;
    auto before = log->read(Offset(0), 1 << 20, buffer, mode);
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(before->next_offset, Offset(10)) << "a read stops in front of the damaged batch";
    auto at = log->read(Offset(10), 1 << 20, buffer, mode);
    ASSERT_FALSE(at.has_value());
    EXPECT_EQ(at.error().code, Errc::corrupt_data);
    EXPECT_NE(at.error().message.find("position " + std::to_string(2 * batch_size())), std::string::npos)
        << at.error().message;
  }
}

// After an unclean restart the same damage is found by the scan and set aside:
// the damaged batch's offsets are a hole, every other batch is served.
TEST(DamageRecovery, AFlippedBaseOffsetIsSetAsideByRecovery) {
  TempDir dir;
  {
    auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::none));
    fill(*log, 40);
  }
  flip_byte(log_path(dir, 0), 2 * batch_size() + 7);
  auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::none));
  auto holes = log->damaged_ranges();
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes[0].first, Offset(10));
  EXPECT_EQ(holes[0].end, Offset(15));
  EXPECT_EQ(read_around_holes(*log), 195);
}

// A frame too garbled to skip (its length is damaged): recovery searches past it
// for the next batch that checks.
TEST(DamageRecovery, AGarbledBatchLengthIsSearchedPast) {
  TempDir dir;
  {
    auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::none));
    fill(*log, 40);
  }
  flip_byte(log_path(dir, 0), 3 * batch_size() + 8);  // the length's high byte
  auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::none));
  auto holes = log->damaged_ranges();
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes[0].first, Offset(15));
  EXPECT_EQ(holes[0].end, Offset(20));
  EXPECT_EQ(read_around_holes(*log), 195);
}

// The report: one `.index` entry moved to the next batch boundary made a
// fetch at 1340 silently skip ten records.
TEST(DamageRecovery, AnIndexEntryPointingAtTheWrongBatchIsNotTrusted) {
  TempDir dir;
  {
    auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
    fill(*log, 40);
    ASSERT_TRUE(log->close().has_value());
  }
  std::string index_path = dir.sub(segment_file_name(Offset(0), ".index"));
  Bytes index(std::filesystem::file_size(index_path));
  {
    std::ifstream in(index_path, std::ios::binary);
    in.read(reinterpret_cast<char*>(index.data()), static_cast<std::streamsize>(index.size()));
  }
  ASSERT_GE(index.size(), 2 * OffsetIndexEntry::kDiskSize);
  OffsetIndexEntry entry = OffsetIndexEntry::decode(index.data() + OffsetIndexEntry::kDiskSize);
  entry.position += static_cast<uint32_t>(batch_size());  // now at the batch after the entry's offset
  entry.encode(index.data() + OffsetIndexEntry::kDiskSize);
  {
    std::ofstream out(index_path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(index.data()), static_cast<std::streamsize>(index.size()));
  }
  auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
  for (auto mode : {PartitionLog::ReadMode::copy, PartitionLog::ReadMode::locate}) {
    Bytes buffer;
    auto r = log->read(Offset(entry.relative_offset), 1 << 20, buffer, mode);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    Bytes bytes = testing::region_bytes(*r);
    EXPECT_EQ(read_batch_header(bytes)->base_offset, Offset(entry.relative_offset)) << "no record skipped";
  }
  EXPECT_EQ(read_all(*log), 200);
}

// Damage in the last segment below the recovery point (after a clean close the
// point is the log end): the damaged tail is set aside, not cut, and the log
// does not hand out the lost offsets again.
TEST(DamageRecovery, TheLogEndNeverGoesBackBelowTheRecoveryPoint) {
  TempDir dir;
  {
    auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
    fill(*log, 10);
    ASSERT_EQ(log->segment_count(), 1u);
    ASSERT_TRUE(log->close().has_value());
  }
  std::filesystem::remove(dir.sub("clean-shutdown"));
  std::filesystem::resize_file(log_path(dir, 0), std::filesystem::file_size(log_path(dir, 0)) - 30);
  auto log = open_with(posix_file_system(), dir.path(), config_with(Durability::fsync));
  EXPECT_EQ(log->log_end_offset(), Offset(50));
  EXPECT_EQ(log->recovery().bytes_truncated, 0u);
  EXPECT_EQ(quarantined_files(dir), 1u);
  auto holes = log->damaged_ranges();
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes[0].first, Offset(45));
  EXPECT_EQ(holes[0].end, Offset(50));
  Bytes batch = make_batch(1);
  EXPECT_EQ(log->append(batch)->base_offset, Offset(50));
}

}  // namespace
}  // namespace sluice::storage
