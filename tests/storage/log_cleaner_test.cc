// PartitionLog::clean, the segment cleaner, on real files: each key's latest
// record survives with its offset, tombstones go after delete.retention.ms, an
// idempotent producer's state survives, readers holding old segments keep them,
// a log switched to compact at runtime, open transactions and the compaction lag
// hold data back. Crashes, power loss, damage and racing readers:
// log_cleaner_crash_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "sluice/common/clock.h"
#include "sluice/storage/batch_builder.h"
#include "sluice/storage/key_offset_map.h"
#include "sluice/storage/partition_log.h"

#include "log_cleaner_support.h"
#include "test_support.h"

namespace sluice::storage {
namespace {

using namespace cleaner_testing;
using testing::TempDir;

TEST(LogCleaner, KeepsTheLatestRecordPerKeyAtItsOffset) {
  TempDir dir;
  ManualClock clock;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  std::mt19937 random(7);
  auto latest = fill(*log, 200, 20, clock.now().value(), random);
  const Offset end = log->log_end_offset();
  const uint64_t before = log->size_bytes();
  ASSERT_GT(log->segment_count(), 5u);
  ASSERT_TRUE(log->roll());
  CleanableState state = log->cleanable_state();
  EXPECT_EQ(state.first_dirty, Offset(0));
  EXPECT_EQ(state.cleanable_end, end);
  EXPECT_DOUBLE_EQ(state.dirty_ratio(), 1.0);

  KeyOffsetMap map(1 << 20);
  auto result = log->clean(map);
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_TRUE(result->cleaned);
  EXPECT_EQ(result->end, end);
  EXPECT_EQ(result->records_dropped, 200 * 8 - 20);
  EXPECT_LT(log->size_bytes(), before / 10);
  EXPECT_EQ(log->log_end_offset(), end);
  EXPECT_EQ(log->log_start_offset(), Offset(0));
  int64_t count = 0;
  auto seen = read_log(*log, &count);
  EXPECT_EQ(count, 20);
  expect_latest_only(*log, latest, true);
  EXPECT_EQ(log->cleanable_state().first_dirty, end);
  EXPECT_EQ(log->cleanable_state().dirty_bytes, 0u);

  // Nothing new: a second pass changes nothing.
  auto again = log->clean(map);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->cleaned);

  // New writes over the same keys are cleaned against the old ones, and it all
  // survives a reopen after a crash (no close).
  auto newer = fill(*log, 50, 20, clock.now().value(), random);
  for (auto& [k, v] : newer) latest[k] = v;
  ASSERT_TRUE(log->roll());
  ASSERT_TRUE(log->clean(map).value().cleaned);
  expect_latest_only(*log, latest, true);
  const Offset end2 = log->log_end_offset();
  log.reset();
  log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  EXPECT_EQ(log->log_end_offset(), end2);
  expect_latest_only(*log, latest, true);
  EXPECT_EQ(log->cleanable_state().first_dirty, end2);
}

TEST(LogCleaner, ASmallKeyMapCleansThePartThatFits) {
  TempDir dir;
  ManualClock clock;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  std::mt19937 random(3);
  auto latest = fill(*log, 100, 400, clock.now().value(), random);
  ASSERT_TRUE(log->roll());
  KeyOffsetMap map(64 * KeyOffsetMap::kEntryBytes);  // 57 entries: a few batches per pass
  Offset previous{0};
  int passes = 0;
  while (log->cleanable_state().first_dirty < log->log_end_offset()) {
    auto result = log->clean(map);
    ASSERT_TRUE(result) << result.error().to_string();
    ASSERT_TRUE(result->cleaned);
    EXPECT_GT(result->end, previous);
    EXPECT_LE(map.size(), map.max_entries());
    previous = result->end;
    ASSERT_LT(++passes, 200);
  }
  EXPECT_GT(passes, 10);
  expect_latest_only(*log, latest, true);
}

TEST(LogCleaner, TombstonesGoOnlyDeleteRetentionAfterTheyWereCleaned) {
  TempDir dir;
  ManualClock clock;
  LogConfig config = compacted_config();
  config.delete_retention_ms = 60'000;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), config, clock).value();
  std::mt19937 random(11);
  KeyOffsetMap map(1 << 20);
  auto latest = fill(*log, 100, 30, clock.now().value(), random, 5);
  ASSERT_TRUE(log->roll());
  ASSERT_TRUE(log->clean(map).value().cleaned);
  expect_latest_only(*log, latest, true);  // kept: cleaned just now

  clock.advance_ms(30'000);
  auto more = fill(*log, 5, 30, clock.now().value(), random);
  for (auto& [k, v] : more) latest[k] = v;
  ASSERT_TRUE(log->roll());
  auto early = log->clean(map).value();
  EXPECT_EQ(early.tombstones_dropped, 0);
  expect_latest_only(*log, latest, true);

  clock.advance_ms(30'001);
  auto last = fill(*log, 1, 30, clock.now().value(), random);
  for (auto& [k, v] : last) latest[k] = v;
  ASSERT_TRUE(log->roll());
  auto late = log->clean(map).value();
  EXPECT_GT(late.tombstones_dropped, 0);
  // Tombstones from the first pass are gone; a key tombstoned and then written again keeps its new value.
  auto seen = read_log(*log);
  for (const auto& [key, s] : seen) {
    if (!s.value) {
      EXPECT_GE(s.offset, early.first_dirty.value()) << key << ": an old tombstone survived";
    }
  }
}

TEST(LogCleaner, AnIdempotentProducersSequenceSurvivesCleaning) {
  TempDir dir;
  ManualClock clock;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  // Producer 9 writes key "a" twice; the second batch is its newest.
  Bytes first = batch_of({{"a", "1", 9, 0}}, 1000);
  Bytes second = batch_of({{"a", "2", 9, 1}}, 1000);
  ASSERT_TRUE(log->append(first));
  ASSERT_TRUE(log->append(second));
  // Another producer overwrites "a": producer 9's newest batch is emptied by the clean.
  Bytes other = batch_of({{"a", "3", 10, 0}}, 1000);
  ASSERT_TRUE(log->append(other));
  ASSERT_TRUE(log->roll());
  KeyOffsetMap map(1 << 20);
  auto result = log->clean(map).value();
  EXPECT_EQ(result.records_dropped, 2);
  // Recovery rebuilds producer state from the batch headers (a crash: no close).
  log.reset();
  log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  Bytes retry = batch_of({{"a", "2", 9, 1}}, 1000);
  auto dup = log->append(retry);
  ASSERT_TRUE(dup) << dup.error().to_string();
  EXPECT_TRUE(dup->duplicate) << "the emptied batch's header still carries producer 9's sequence";
  EXPECT_EQ(dup->base_offset, Offset(1));
  Bytes next = batch_of({{"a", "4", 9, 2}}, 1000);
  EXPECT_TRUE(log->append(next));
  Bytes gap = batch_of({{"a", "5", 9, 9}}, 1000);
  EXPECT_FALSE(log->append(gap));
}

TEST(LogCleaner, AReaderHoldingOldSegmentsStillReadsThem) {
  TempDir dir;
  ManualClock clock;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  std::mt19937 random(5);
  fill(*log, 50, 5, clock.now().value(), random);
  ASSERT_TRUE(log->roll());
  Bytes buf;
  auto held = log->read(Offset(0), ReadOptions{.max_bytes = 1 << 20, .mode = ReadMode::locate}, buf).value();
  const Bytes before = testing::region_bytes(held);
  KeyOffsetMap map(1 << 20);
  ASSERT_TRUE(log->clean(map).value().cleaned);
  EXPECT_EQ(testing::region_bytes(held), before) << "the old files are gone from the directory, not from the reader";
}

TEST(LogCleaner, ADeleteLogSwitchedToCompactWhileOpenIsCleanedAndReadAcrossItsGaps) {
  TempDir dir;
  ManualClock clock;
  LogConfig config = compacted_config();
  config.cleanup_policy = CleanupPolicy::delete_segments;
  config.offset_gaps = OffsetGaps::are_damage;  // what the broker opens a delete topic with
  auto log = PartitionLog::open(posix_file_system(), dir.path(), config, clock).value();
  ASSERT_EQ(log->config().offset_gaps, OffsetGaps::are_damage);
  std::mt19937 random(21);
  auto latest = fill(*log, 120, 15, clock.now().value(), random);
  ASSERT_TRUE(log->roll());
  Bytes buf;
  auto held = log->read(Offset(0), ReadOptions{.max_bytes = 1 << 20, .mode = ReadMode::locate}, buf).value();

  config.cleanup_policy = CleanupPolicy::compact;
  ASSERT_TRUE(log->set_config(config));
  EXPECT_EQ(log->config().offset_gaps, OffsetGaps::are_legal);
  KeyOffsetMap map(1 << 20);
  auto result = log->clean(map);
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_EQ(result->records_dropped, 120 * 8 - 15);
  // Every read from the start crosses the cleaner's gaps, inside segments and between them.
  expect_latest_only(*log, latest, true);
  EXPECT_TRUE(log->damaged_ranges().empty());
  for (int64_t at = 0; at < log->log_end_offset().value(); at += 37) {
    auto r = log->read(Offset(at), 4096, buf);
    ASSERT_TRUE(r) << at << ": " << r.error().to_string();
    EXPECT_GT(r->bytes, 0u) << at;
  }
  EXPECT_GT(held.bytes, 0u);

  // Back to delete and reopened after a crash: the checkpoint the switch wrote keeps the gaps legal.
  config.cleanup_policy = CleanupPolicy::delete_segments;
  ASSERT_TRUE(log->set_config(config));
  log.reset();
  log = PartitionLog::open(posix_file_system(), dir.path(), config, clock).value();
  EXPECT_EQ(log->config().offset_gaps, OffsetGaps::are_legal);
  expect_latest_only(*log, latest, true);
}

TEST(LogCleaner, NothingFromTheSegmentOfTheOldestOpenTransactionIsCleaned) {
  TempDir dir;
  ManualClock clock;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), compacted_config(), clock).value();
  std::mt19937 random(13);
  auto latest = fill(*log, 40, 10, clock.now().value(), random);
  ASSERT_TRUE(log->roll());
  // Producer 5 opens a transaction in this segment and writes keys the others overwrite later.
  BatchBuilder txn(BatchOptions{.producer_id = 5, .producer_epoch = 0, .base_sequence = 0, .transactional = true});
  txn.add(clock.now().value(), as_bytes(std::string("key-1")), as_bytes(std::string("in the transaction")));
  Bytes txn_batch = std::move(*txn.build());
  const Offset txn_start = log->append(txn_batch).value().base_offset;
  for (auto& [k, v] : fill(*log, 40, 10, clock.now().value(), random)) latest[k] = v;
  ASSERT_TRUE(log->roll());
  for (auto& [k, v] : fill(*log, 40, 10, clock.now().value(), random)) latest[k] = v;
  ASSERT_TRUE(log->roll());
  EXPECT_EQ(log->last_stable_offset(), txn_start);
  EXPECT_EQ(log->cleanable_state().cleanable_end, txn_start) << "the transaction opened its segment";

  KeyOffsetMap map(1 << 20);
  auto held_back = log->clean(map).value();
  EXPECT_EQ(held_back.end, txn_start);
  // The open transaction's record is still there, though later writes overwrote its key.
  auto seen = read_log(*log);
  auto [first, last] = seen.equal_range("key-1");
  EXPECT_TRUE(std::any_of(first, last, [&](const auto& e) { return e.second.offset == txn_start.value(); }));

  Bytes commit = make_control_batch(ControlType::commit, 5, 0, 0, clock.now().value());
  ASSERT_TRUE(log->append(commit));
  ASSERT_TRUE(log->roll());
  EXPECT_EQ(log->last_stable_offset(), log->log_end_offset());
  auto rest = log->clean(map).value();
  EXPECT_EQ(rest.end, log->log_end_offset()) << "once the marker is written, everything closed is cleanable";
  seen = read_log(*log);
  std::tie(first, last) = seen.equal_range("key-1");
  EXPECT_FALSE(std::any_of(first, last, [&](const auto& e) { return e.second.offset == txn_start.value(); }))
      << "the committed record was overwritten later, so it went";
}

TEST(LogCleaner, RefusesALogThatDoesNotCompact) {
  TempDir dir;
  ManualClock clock;
  LogConfig config = compacted_config();
  config.cleanup_policy = CleanupPolicy::delete_segments;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), config, clock).value();
  KeyOffsetMap map(1 << 20);
  auto result = log->clean(map);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::invalid_argument);
  // Turning compaction on at runtime works (the log's gaps are legal).
  config.cleanup_policy = CleanupPolicy::compact;
  ASSERT_TRUE(log->set_config(config));
  std::mt19937 random(1);
  fill(*log, 20, 3, clock.now().value(), random);
  ASSERT_TRUE(log->roll());
  EXPECT_TRUE(log->clean(map).value().cleaned);
}

TEST(LogCleaner, MinCompactionLagKeepsYoungSegmentsDirty) {
  TempDir dir;
  ManualClock clock(1'000'000);
  LogConfig config = compacted_config();
  config.min_compaction_lag_ms = 10'000;
  auto log = PartitionLog::open(posix_file_system(), dir.path(), config, clock).value();
  std::mt19937 random(2);
  fill(*log, 40, 5, clock.now().value(), random);
  ASSERT_TRUE(log->roll());
  KeyOffsetMap map(1 << 20);
  EXPECT_FALSE(log->clean(map).value().cleaned);
  clock.advance_ms(10'000);
  EXPECT_TRUE(log->clean(map).value().cleaned);
}

}  // namespace
}  // namespace sluice::storage
