// Runs the real sluice-dump binary on logs written by PartitionLog, clean and then
// damaged on disk, and checks its output and exit code.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/common/crc32c.h"
#include "sluice/storage/batch_builder.h"
#include "sluice/storage/key_offset_map.h"
#include "sluice/storage/partition_log.h"
#include "sluice/storage/segment.h"

#include "test_support.h"

namespace sluice::storage {
namespace {
namespace bf = batch_format;
using testing::make_batch;
using testing::TempDir;

struct DumpRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

DumpRun run_dump(const std::vector<std::string>& args) {
  std::string command = shell_quote(SLUICE_DUMP_PATH);
  for (const auto& arg : args) command += " " + shell_quote(arg);
  command += " 2>&1";
  DumpRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return run;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) run.output.append(buf, n);
  int status = ::pclose(pipe);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

// The first output line that contains `needle`, or "" when none does.
std::string line_with(const std::string& output, const std::string& needle) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

struct WrittenBatch {
  Offset base_offset;
  uint64_t position = 0;  // in its segment, when the log has one segment
  size_t size = 0;
};

// Writes `batches` batches of 5 records each and closes the log cleanly.
std::vector<WrittenBatch> write_log(const std::string& dir, int batches, LogConfig config = {}) {
  config.durability = Durability::none;
  auto log = PartitionLog::open(posix_file_system(), dir, config);
  EXPECT_TRUE(log.has_value());
  std::vector<WrittenBatch> written;
  uint64_t position = 0;
  for (int i = 0; i < batches; ++i) {
    Bytes batch = make_batch(5, "value" + std::to_string(i), 1000 + 10 * i,
                             i % 2 == 1 ? Compression::zstd : Compression::none, 40);
    auto appended = (*log)->append(batch);
    EXPECT_TRUE(appended.has_value());
    written.push_back({appended->base_offset, position, batch.size()});
    position += batch.size();
  }
  EXPECT_TRUE((*log)->close().has_value());
  return written;
}

std::string first_segment(const std::string& dir) { return dir + "/" + segment_file_name(Offset(0), ".log"); }

void flip_byte(const std::string& path, uint64_t position) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(position));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(position));
  f.put(static_cast<char>(c ^ 0x5a));
}

TEST(SluiceDump, CleanPartitionListsEveryBatchWithCrcOk) {
  TempDir dir;
  LogConfig config;
  config.segment_bytes = 1024;  // several segments
  auto written = write_log(dir.path(), 12, config);

  DumpRun run = run_dump({dir.path()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const auto& batch : written) {
    std::string line = line_with(run.output, " base_offset=" + std::to_string(batch.base_offset.value()) + " ");
    EXPECT_NE(line.find("crc=ok"), std::string::npos) << line;
  }
  EXPECT_EQ(count_of(run.output, "crc=ok"), written.size());
  EXPECT_EQ(count_of(run.output, "DAMAGED"), 0u) << run.output;
  EXPECT_GE(count_of(run.output, "\nsegment "), 2u) << run.output;
  EXPECT_NE(run.output.find("compression=zstd"), std::string::npos);
  EXPECT_NE(run.output.find("clean_shutdown=yes"), std::string::npos);
  EXPECT_NE(run.output.find("partition summary segments="), std::string::npos);
  EXPECT_NE(run.output.find("batches=12 records=60"), std::string::npos) << run.output;
}

// What recovery leaves after setting damage aside: a hole between segments and the
// original file in quarantine/. Both are damage for the dump (exit 1), unless the
// partition is compacted (--gaps-legal), where a gap is what the cleaner leaves.
TEST(SluiceDump, OffsetsMissingBetweenSegmentsAndQuarantinedFilesAreReported) {
  TempDir dir;
  LogConfig config;
  config.segment_bytes = 1024;
  write_log(dir.path(), 12, config);
  std::filesystem::remove(dir.sub("clean-shutdown"));
  // Cut the first (closed) segment's last batch in half; recovery sets it aside.
  std::string first = first_segment(dir.path());
  std::filesystem::resize_file(first, std::filesystem::file_size(first) - 20);
  Offset hole_first;
  Offset hole_end;
  {
    config.durability = Durability::none;
    auto log = PartitionLog::open(posix_file_system(), dir.path(), config);
    ASSERT_TRUE(log.has_value());
    ASSERT_EQ((*log)->damaged_ranges().size(), 1u);
    hole_first = (*log)->damaged_ranges()[0].first;
    hole_end = (*log)->damaged_ranges()[0].end;
    ASSERT_TRUE((*log)->close().has_value());
  }
  DumpRun run = run_dump({dir.path()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("DAMAGED missing offsets=[" + std::to_string(hole_first.value()) + ", " +
                            std::to_string(hole_end.value()) + ")"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("QUARANTINED " + dir.sub("quarantine/") + segment_file_name(Offset(0), ".log")),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("quarantined_files=1"), std::string::npos) << run.output;
  // With gaps legal only the quarantined file is damage.
  DumpRun legal = run_dump({"--gaps-legal", dir.path()});
  EXPECT_EQ(count_of(legal.output, "DAMAGED missing"), 0u) << legal.output;
  EXPECT_NE(legal.output.find("missing_offsets=0"), std::string::npos) << legal.output;
}

// A log the cleaner rewrote: offsets missing inside and between segments are
// what compaction leaves, so the dump (which sees the cleaner checkpoint) reports
// no damage and lists exactly the records the log still holds.
TEST(SluiceDump, ACleanedLogHasGapsButNoDamage) {
  TempDir dir;
  LogConfig config;
  config.segment_bytes = 2048;
  config.durability = Durability::none;
  config.cleanup_policy = CleanupPolicy::compact;
  int64_t kept = 0;
  {
    auto log = PartitionLog::open(posix_file_system(), dir.path(), config).value();
    for (int i = 0; i < 60; ++i) {
      BatchBuilder builder;
      for (int r = 0; r < 4; ++r) {
        const std::string key = "key-" + std::to_string((i * 4 + r) % 7);
        builder.add(1000, as_bytes(key), as_bytes(std::string(30, 'v')));
      }
      Bytes batch = std::move(*builder.build());
      ASSERT_TRUE(log->append(batch));
    }
    ASSERT_TRUE(log->roll());
    KeyOffsetMap map(1 << 20);
    auto cleaned = log->clean(map);
    ASSERT_TRUE(cleaned) << cleaned.error().to_string();
    ASSERT_GT(cleaned->records_dropped, 200);
    kept = 240 - cleaned->records_dropped;
    ASSERT_TRUE(log->close());
  }
  DumpRun run = run_dump({"--records", dir.path()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("compacted=yes"), std::string::npos) << run.output;
  EXPECT_EQ(count_of(run.output, "DAMAGED"), 0u) << run.output;
  EXPECT_NE(run.output.find(" records=" + std::to_string(kept) + " "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("missing_offsets=0"), std::string::npos) << run.output;
  // Without the checkpoint the same files read as a delete log's, whose gaps
  // between segments are damage: the checkpoint is what tells them apart.
  std::filesystem::remove(dir.sub("cleaner-checkpoint"));
  DumpRun unmarked = run_dump({dir.path()});
  EXPECT_EQ(unmarked.exit_code, 1) << unmarked.output;
  EXPECT_GT(count_of(unmarked.output, "DAMAGED missing"), 0u) << unmarked.output;
}

TEST(SluiceDump, SegmentsAreListedInBaseOffsetOrder) {
  TempDir dir;
  LogConfig config;
  config.segment_bytes = 1024;
  write_log(dir.path(), 12, config);

  DumpRun run = run_dump({dir.path()});
  std::vector<int64_t> bases;
  std::istringstream in(run.output);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("segment ")) {
      bases.push_back(std::stoll(std::filesystem::path(line.substr(8, line.find(" size=") - 8)).stem().string()));
    }
  }
  ASSERT_GE(bases.size(), 3u);
  EXPECT_TRUE(std::is_sorted(bases.begin(), bases.end()));
}

// A byte flipped in the middle batch, either in its stored CRC or in the bytes the
// CRC covers: that batch is reported, and the batches after it are still listed.
void expect_middle_batch_damage_reported(uint64_t offset_in_batch) {
  TempDir dir;
  auto written = write_log(dir.path(), 5);
  const WrittenBatch& bad = written[2];
  flip_byte(first_segment(dir.path()), bad.position + offset_in_batch);

  DumpRun run = run_dump({first_segment(dir.path())});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  std::string line = line_with(run.output, " base_offset=" + std::to_string(bad.base_offset.value()) + " ");
  EXPECT_NE(line.find("position=" + std::to_string(bad.position)), std::string::npos) << line;
  EXPECT_NE(line.find("crc=MISMATCH stored=0x"), std::string::npos) << line;
  EXPECT_NE(line.find(" computed=0x"), std::string::npos) << line;
  for (size_t i = 3; i < written.size(); ++i) {
    std::string later = line_with(run.output, " base_offset=" + std::to_string(written[i].base_offset.value()) + " ");
    EXPECT_NE(later.find("crc=ok"), std::string::npos) << run.output;
  }
  EXPECT_NE(run.output.find("batches=5 records="), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("damaged_batches=1 damaged_tail_bytes=0"), std::string::npos) << run.output;
}

TEST(SluiceDump, FlippedStoredCrcByteIsReportedAndLaterBatchesListed) {
  expect_middle_batch_damage_reported(bf::kCrc + 1);
}

TEST(SluiceDump, FlippedPayloadByteIsReportedAndLaterBatchesListed) {
  expect_middle_batch_damage_reported(bf::kRecords + 7);
}

TEST(SluiceDump, TornTailIsReportedWithPositionAndSize) {
  TempDir dir;
  auto written = write_log(dir.path(), 4);
  const WrittenBatch& last = written.back();
  std::filesystem::resize_file(first_segment(dir.path()), last.position + last.size - 10);

  DumpRun run = run_dump({dir.path()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  std::string tail = line_with(run.output, "DAMAGED tail");
  EXPECT_NE(tail.find("position=" + std::to_string(last.position)), std::string::npos) << run.output;
  EXPECT_NE(tail.find("bytes=" + std::to_string(last.size - 10)), std::string::npos) << tail;
  EXPECT_EQ(count_of(run.output, "crc=ok"), 3u) << run.output;
}

TEST(SluiceDump, GarbageAfterTheLastBatchIsReportedAsGarbledTail) {
  TempDir dir;
  auto written = write_log(dir.path(), 3);
  uint64_t end = written.back().position + written.back().size;
  std::ofstream(first_segment(dir.path()), std::ios::app | std::ios::binary) << std::string(100, '\xff');

  DumpRun run = run_dump({first_segment(dir.path())});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  std::string tail = line_with(run.output, "DAMAGED tail");
  EXPECT_NE(tail.find("position=" + std::to_string(end) + " bytes=100"), std::string::npos) << run.output;
  EXPECT_EQ(count_of(run.output, "crc=ok"), 3u);
}

TEST(SluiceDump, RecordCountThatDisagreesWithTheRecordsIsDamageDespiteGoodCrc) {
  TempDir dir;
  auto written = write_log(dir.path(), 2);
  // Claim one record more in the first batch and fix up the CRC, as a buggy producer might.
  std::string path = first_segment(dir.path());
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  Bytes batch(written[0].size);
  f.read(reinterpret_cast<char*>(batch.data()), static_cast<std::streamsize>(batch.size()));
  store_be<int32_t>(batch.data() + bf::kRecordCount, 6);
  store_be<uint32_t>(batch.data() + bf::kCrc, crc32c(ByteSpan(batch).subspan(bf::kAttributes)));
  f.seekp(0);
  f.write(reinterpret_cast<const char*>(batch.data()), static_cast<std::streamsize>(batch.size()));
  f.close();

  DumpRun run = run_dump({path});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(count_of(run.output, "crc=ok"), 2u) << run.output;
  EXPECT_NE(run.output.find("DAMAGED header says 6 records, found 5"), std::string::npos) << run.output;
}

TEST(SluiceDump, RecordsFlagPrintsKeysValuesAndHeaders) {
  TempDir dir;
  {
    LogConfig config;
    config.durability = Durability::none;
    auto log = PartitionLog::open(posix_file_system(), dir.path(), config);
    ASSERT_TRUE(log.has_value());
    BatchBuilder builder(BatchOptions{.compression = Compression::zstd});
    HeaderView headers[] = {{"trace-id", as_bytes(std::string_view("abc123"))}};
    builder.add(5000, as_bytes(std::string_view("user-1")), as_bytes(std::string_view("hello world")), headers);
    const std::byte binary[] = {std::byte{0x00}, std::byte{0xff}, std::byte{0x10}};
    builder.add(5001, as_bytes(std::string_view("bin")), ByteSpan(binary));
    builder.add(5002, as_bytes(std::string_view("gone")), std::nullopt);
    builder.add(5003, std::nullopt, as_bytes(std::string(100, 'x')));
    builder.add(5004, as_bytes(std::string_view("utf8")), as_bytes(std::string_view("caf\xc3\xa9 \xe2\x98\x95")));
    builder.add(5005, as_bytes(std::string_view("ctrl")), as_bytes(std::string_view("a\nb")));
    Bytes batch = std::move(*builder.build());
    ASSERT_TRUE((*log)->append(batch).has_value());
    ASSERT_TRUE((*log)->close().has_value());
  }

  DumpRun run = run_dump({"--records", dir.path()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("record offset=0 timestamp=5000 key=\"user-1\" value=\"hello world\" "
                            "headers={\"trace-id\"=\"abc123\"}"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("key=\"bin\" value=0x00ff10"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("key=\"gone\" value=null"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("key=null value=\"" + std::string(64, 'x') + "\"...(100 bytes)"), std::string::npos)
      << run.output;

  EXPECT_NE(run.output.find("key=\"utf8\" value=\"caf\xc3\xa9 \xe2\x98\x95\""), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("key=\"ctrl\" value=0x610a62"), std::string::npos) << run.output;

  DumpRun full = run_dump({"--records", "--full", dir.path()});
  EXPECT_NE(full.output.find("value=\"" + std::string(100, 'x') + "\""), std::string::npos) << full.output;

  DumpRun plain = run_dump({dir.path()});
  EXPECT_EQ(plain.output.find("record offset="), std::string::npos) << plain.output;
}

TEST(SluiceDump, IndexFileEntriesAreListedAndCheckedAgainstTheLog) {
  TempDir dir;
  LogConfig config;
  config.index_interval_bytes = 256;  // an entry every batch or so
  auto written = write_log(dir.path(), 8, config);
  std::string index = dir.path() + "/" + segment_file_name(Offset(0), ".index");
  size_t entries = std::filesystem::file_size(index) / OffsetIndexEntry::kDiskSize;
  ASSERT_GE(entries, 2u);

  DumpRun run = run_dump({index});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(count_of(run.output, "\nentry offset="), entries) << run.output;
  size_t matched = 0;  // every entry names a batch's base offset and that batch's position
  for (const auto& batch : written) {
    std::string line = line_with(run.output, "entry offset=" + std::to_string(batch.base_offset.value()) + " ");
    if (line.empty()) continue;
    ++matched;
    EXPECT_NE(line.find("position=" + std::to_string(batch.position)), std::string::npos) << line;
  }
  EXPECT_EQ(matched, entries) << run.output;
  EXPECT_NE(run.output.find("entries=" + std::to_string(entries) + " damaged_entries=0"), std::string::npos);

  DumpRun time = run_dump({dir.path() + "/" + segment_file_name(Offset(0), ".timeindex")});
  EXPECT_EQ(time.exit_code, 0) << time.output;
  EXPECT_EQ(count_of(time.output, "\nentry timestamp="), entries) << time.output;

  // An entry pointing into the middle of a batch is damage.
  flip_byte(index, OffsetIndexEntry::kDiskSize - 1);  // low byte of the first entry's position
  DumpRun damaged = run_dump({index});
  EXPECT_EQ(damaged.exit_code, 1) << damaged.output;
  EXPECT_NE(damaged.output.find("DAMAGED position"), std::string::npos) << damaged.output;
}

TEST(SluiceDump, UsageAndIoErrorsExitWithTwo) {
  TempDir dir;
  EXPECT_EQ(run_dump({}).exit_code, 2);
  EXPECT_EQ(run_dump({"--no-such-flag", dir.path()}).exit_code, 2);
  EXPECT_EQ(run_dump({dir.sub("missing")}).exit_code, 2);
  EXPECT_EQ(run_dump({dir.path()}).exit_code, 2);  // no segments
  std::ofstream(dir.sub("notes.txt")) << "hello";
  EXPECT_EQ(run_dump({dir.sub("notes.txt")}).exit_code, 2);

  DumpRun help = run_dump({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--records"), std::string::npos) << help.output;
}

}  // namespace
}  // namespace sluice::storage
