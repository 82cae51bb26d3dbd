// The segment cleaner under failure, on real files: a pass interrupted at any
// file operation (then power loss) recovers to the log before or after that
// group's swap; a random history with power losses always reads as its model; a
// corrupt batch fails the pass and leaves nothing behind; a reader racing the
// cleaner sees a consistent log.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "sluice/common/clock.h"
#include "sluice/storage/batch_builder.h"
#include "sluice/storage/key_offset_map.h"
#include "sluice/storage/partition_log.h"
#include "sluice/storage/testing/fault_injection_file_system.h"

#include "log_cleaner_support.h"
#include "test_support.h"

namespace sluice::storage {
namespace {

using namespace cleaner_testing;
using testing::TempDir;

TEST(LogCleaner, APassThatMeetsACorruptBatchFailsAndLeavesNoCleanedFiles) {
  TempDir dir;
  ManualClock clock;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  std::mt19937 random(9);
  fill(*log, 40, 10, clock.now().value(), random);
  ASSERT_TRUE(log->roll());
  KeyOffsetMap map(1 << 20);
  ASSERT_TRUE(log->clean(map).value().cleaned);
  // Damage the clean part (on disk, so a reopened log has not checked it yet):
  // the next pass maps only the new (dirty) data, then meets the damage while it
  // rewrites from the log start.
  ASSERT_TRUE(log->close());
  log.reset();
  // The first cleaned segment with data (an emptied one stays, 0 bytes, as the log start).
  std::vector<std::string> segments;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().extension() == ".log" && entry.file_size() > 200) segments.push_back(entry.path().string());
  }
  std::sort(segments.begin(), segments.end());
  ASSERT_FALSE(segments.empty());
  const std::string first = segments.front();
  {
    std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(80);
    f.put('\x55');
  }
  log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  fill(*log, 10, 10, clock.now().value(), random);
  ASSERT_TRUE(log->roll());
  auto failed = log->clean(map);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, StorageErrc::crc_mismatch) << failed.error().to_string();
  const std::vector<std::string> names = posix_file_system().list_dir(dir.path()).value();
  for (const auto& name : names) EXPECT_EQ(name.find(".cleaned"), std::string::npos) << name;
  EXPECT_TRUE(std::filesystem::exists(first)) << "the damaged segment itself is left for recovery and the operator";
}

// A reader from the start, racing a writer that appends, rolls and cleans: each
// key's values come in the order written, offsets only increase, and no key goes
// missing or back in time: a read that began after value v of a key was written
// ends on v or a later value of that key.
TEST(LogCleaner, AReaderRacingTheCleanerSeesEveryKeysLatestValueInOrder) {
  TempDir dir;
  ManualClock clock;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  constexpr int kKeys = 20;
  constexpr int kBatches = 1500;
  std::array<std::atomic<int64_t>, kKeys> latest_seq;
  for (auto& seq : latest_seq) seq = -1;
  std::atomic<bool> done{false};
  std::atomic<int> passes{0};
  std::thread writer([&] {
    struct Done {  // also when an assertion returns early, or the reader would wait forever
      std::atomic<bool>& flag;
      ~Done() { flag = true; }
    } finished{done};
    std::mt19937 random(17);
    KeyOffsetMap map(1 << 20);
    for (int b = 0; b < kBatches; ++b) {
      std::vector<Entry> entries;
      std::vector<int> keys;
      for (int r = 0; r < 8; ++r) {
        keys.push_back(std::uniform_int_distribution<int>(0, kKeys - 1)(random));
        entries.push_back({"key-" + std::to_string(keys.back()), std::to_string(b * 8 + r)});
      }
      Bytes batch = batch_of(entries, clock.now().value());
      ASSERT_TRUE(log->append(batch));
      for (int r = 0; r < 8; ++r) latest_seq[keys[r]].store(b * 8 + r);
      if (b % 25 == 24) {
        ASSERT_TRUE(log->roll());
        auto cleaned = log->clean(map);
        ASSERT_TRUE(cleaned) << cleaned.error().to_string();
        if (cleaned->cleaned) ++passes;
      }
    }
  });
  int reads = 0;
  Bytes buf;
  Bytes scratch;
  while (!done || reads == 0) {
    std::array<int64_t, kKeys> floor{};
    for (int k = 0; k < kKeys; ++k) floor[k] = latest_seq[k].load();
    std::array<int64_t, kKeys> last{};
    last.fill(-1);
    int64_t previous = -1;
    Offset at = log->log_start_offset();
    while (at < log->log_end_offset()) {
      auto r = log->read(at, 64 * 1024, buf);
      ASSERT_TRUE(r) << "at " << at.value() << ": " << r.error().to_string();
      ByteSpan rest(buf.data(), r->bytes);
      while (!rest.empty()) {
        auto header = read_batch_header(rest);
        ASSERT_TRUE(header);
        std::vector<Record> records;
        ASSERT_TRUE(decode_records(rest.first(header->total_size()), records, scratch));
        for (const Record& rec : records) {
          ASSERT_GT(rec.offset.value(), previous);
          previous = rec.offset.value();
          const int key = std::stoi(std::string(as_string_view(*rec.key)).substr(4));
          const int64_t seq = std::stoll(std::string(as_string_view(*rec.value)));
          ASSERT_GT(seq, last[key]) << "key " << key << " went back in time at offset " << previous;
          last[key] = seq;
        }
        rest = rest.subspan(header->total_size());
      }
      at = r->next_offset;
    }
    for (int k = 0; k < kKeys; ++k) {
      ASSERT_GE(last[k], floor[k]) << "key " << k << " lost its value " << floor[k] << " to the cleaner";
    }
    ++reads;
  }
  writer.join();
  EXPECT_GT(passes.load(), 20);
  EXPECT_GT(reads, 1);
}

// Fails every operation from the n-th rename, remove or directory sync on: the
// process died there. The fault-injecting layer then drops what was not synced.
class DyingFileSystem final : public FileSystem {
 public:
  explicit DyingFileSystem(FaultInjectionFileSystem& base) : base_(base) {}
  void die_at(int n) { left_ = n; }
  bool died() const { return left_ == 0; }

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    if (left_ == 0) return dead();
    return base_.open(path, mode);
  }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override { return base_.list_dir(dir); }
  bool exists(const std::string& path) override { return base_.exists(path); }
  Status create_dirs(const std::string& dir) override { return base_.create_dirs(dir); }
  Status remove(const std::string& path) override { return step() ? base_.remove(path) : dead(); }
  Status remove_all(const std::string& dir) override { return step() ? base_.remove_all(dir) : dead(); }
  Status rename(const std::string& from, const std::string& to) override {
    return step() ? base_.rename(from, to) : dead();
  }
  Status sync_dir(const std::string& dir) override { return step() ? base_.sync_dir(dir) : dead(); }

 private:
  bool step() {
    if (left_ > 0) --left_;
    return left_ != 0;
  }
  static tl::unexpected<Error> dead() { return tl::unexpected(Error{Errc::io_error, "the process died"}); }

  FaultInjectionFileSystem& base_;
  int left_ = -1;
};

// A log under random appends (keys, values, tombstones), rolls, cleaning passes
// with key maps of random size, clock jumps past delete.retention.ms, crashes and
// power losses at a random file operation of a pass. After every pass and every
// reopen, a read from the start matches the model: each key's latest value at
// its offset, a deleted key's tombstone while it is within delete.retention.ms of
// the passes that cleaned it (after that, gone or still there), only offsets that
// an append assigned, in increasing order.
TEST(LogCleaner, ARandomHistoryWithPowerLossesAlwaysReadsAsTheModel) {
  struct Machine {
    std::unique_ptr<FaultInjectionFileSystem> faulty = std::make_unique<FaultInjectionFileSystem>();
    std::unique_ptr<DyingFileSystem> dying = std::make_unique<DyingFileSystem>(*faulty);
    std::unique_ptr<PartitionLog> log;
  };
  int power_losses = 0;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir dir;
    ManualClock clock;
    LogConfig config = compacted_config();
    config.durability = Durability::fsync;
    config.delete_retention_ms = 1000;
    std::mt19937 random(seed);
    auto chance = [&](int percent) { return std::uniform_int_distribution<int>(0, 99)(random) < percent; };
    auto machine = std::make_unique<Machine>();
    machine->log = PartitionLog::open(*machine->dying, dir.path(), config, clock).value();
    std::map<std::string, Seen> latest;
    std::set<int64_t> assigned;
    int passes = 0;
    // Passes that may be in the cleaner checkpoint: the finished ones, and the
    // interrupted ones (their checkpoint may have been written before the power
    // went), with the cleanable end before the pass as their end (an upper bound).
    struct PassMark {
      int64_t end;
      int64_t time_ms;
    };
    std::vector<PassMark> marks;
    int64_t last_clean_ms = -1;
    // Whether a tombstone at `offset` must still be there: no pass that may have
    // cleaned it is delete.retention.ms older than the latest pass.
    auto tombstone_required = [&](int64_t offset) {
      return std::none_of(marks.begin(), marks.end(), [&](const PassMark& m) {
        return m.end > offset && m.time_ms <= last_clean_ms - config.delete_retention_ms;
      });
    };

    auto check = [&](PartitionLog& log) {
      auto seen = read_log(log);
      for (const auto& [key, s] : seen) {
        EXPECT_TRUE(assigned.contains(s.offset)) << key << " at " << s.offset;
        EXPECT_TRUE(latest.contains(key)) << key;
      }
      for (const auto& [key, want] : latest) {
        auto [first, last] = seen.equal_range(key);
        if (first == last) {
          EXPECT_FALSE(want.value.has_value()) << key << ": its latest value is gone";
          EXPECT_FALSE(tombstone_required(want.offset)) << key << ": its tombstone went before delete.retention.ms";
          continue;
        }
        auto newest = std::prev(last);
        EXPECT_EQ(newest->second.offset, want.offset) << key;
        EXPECT_EQ(newest->second.value, want.value) << key;
      }
    };
    auto reopen = [&] {
      machine->log.reset();  // a crash: no close
      ASSERT_TRUE(machine->faulty->drop_unsynced());
      auto next = std::make_unique<Machine>();
      auto opened = PartitionLog::open(*next->dying, dir.path(), config, clock);
      ASSERT_TRUE(opened) << opened.error().to_string();
      next->log = std::move(*opened);
      machine = std::move(next);
      check(*machine->log);
    };

    for (int op = 0; op < 60; ++op) {
      PartitionLog& log = *machine->log;
      std::vector<Entry> entries;
      const int records = std::uniform_int_distribution<int>(1, 8)(random);
      for (int r = 0; r < records; ++r) {
        const int k = std::uniform_int_distribution<int>(0, 30)(random);
        std::optional<std::string> value;
        if (!chance(15)) value = "v" + std::to_string(op) + "-" + std::to_string(r) + std::string(30, 'x');
        entries.push_back({"key-" + std::to_string(k), value});
      }
      Bytes batch = batch_of(entries, clock.now().value());
      auto appended = log.append(batch);
      ASSERT_TRUE(appended) << appended.error().to_string();
      for (int r = 0; r < records; ++r) {
        const int64_t offset = appended->base_offset.value() + r;
        assigned.insert(offset);
        latest[entries[r].key] = Seen{offset, entries[r].value};
      }
      if (chance(30)) {
        auto rolled = log.roll();
        ASSERT_TRUE(rolled) << rolled.error().to_string();
      }
      clock.advance_ms(std::uniform_int_distribution<int>(0, 400)(random));
      if (chance(35)) {
        const bool power_loss = chance(30);
        if (power_loss) machine->dying->die_at(std::uniform_int_distribution<int>(1, 12)(random));
        KeyOffsetMap map(std::uniform_int_distribution<size_t>(16, 400)(random) * KeyOffsetMap::kEntryBytes);
        const int64_t bound = log.cleanable_state().cleanable_end.value();
        last_clean_ms = clock.now().value();
        auto result = log.clean(map);
        ++passes;
        if (machine->dying->died()) {
          ++power_losses;
          marks.push_back({bound, last_clean_ms});
          reopen();
          continue;
        }
        machine->dying->die_at(-1);  // the pass had fewer steps: no death pending
        ASSERT_TRUE(result) << result.error().to_string();
        if (result->cleaned) marks.push_back({result->end.value(), last_clean_ms});
        check(log);
      }
      if (chance(5)) reopen();  // a crash between operations
    }
    reopen();
    EXPECT_GT(passes, 5);
  }
  EXPECT_GT(power_losses, 5) << "too few passes were interrupted to mean anything";
}

TEST(LogCleaner, APassInterruptedAtAnyStepRecoversToACompleteLog) {
  int steps_seen = 0;
  for (int step = 1;; ++step) {
    TempDir dir;
    ManualClock clock;
    FaultInjectionFileSystem faulty;
    DyingFileSystem dying(faulty);
    LogConfig config = compacted_config();
    config.durability = Durability::fsync;
    auto log = PartitionLog::open(dying, dir.path(), config, clock).value();
    std::mt19937 random(step);
    auto latest = fill(*log, 60, 10, clock.now().value(), random);
    ASSERT_TRUE(log->roll());
    const Offset end = log->log_end_offset();
    dying.die_at(step);
    KeyOffsetMap map(1 << 20);
    auto result = log->clean(map);
    const bool died = dying.died();
    log.reset();
    ASSERT_TRUE(faulty.drop_unsynced());
    auto reopened = PartitionLog::open(posix_file_system(), dir.path(), config, clock);
    ASSERT_TRUE(reopened) << "step " << step << ": " << reopened.error().to_string();
    EXPECT_EQ((*reopened)->log_end_offset(), end) << "step " << step;
    expect_latest_only(**reopened, latest, true);
    EXPECT_TRUE((*reopened)->damaged_ranges().empty());
    const std::vector<std::string> names = posix_file_system().list_dir(dir.path()).value();
    for (const auto& name : names) {
      EXPECT_EQ(name.find(".cleaned"), std::string::npos) << name;
      EXPECT_EQ(name.find(".swap"), std::string::npos) << name;
    }
    if (!died) {
      ASSERT_TRUE(result) << result.error().to_string();
      break;  // the pass finished before the step: every step was tried
    }
    EXPECT_FALSE(result);
    ++steps_seen;
    ASSERT_LT(step, 500);
  }
  EXPECT_GT(steps_seen, 6);
}

}  // namespace
}  // namespace sluice::storage
