// PartitionLog::set_config: the settings a topic can change while its log is
// open take effect on the next roll or retention pass; the others are refused.
#include <gtest/gtest.h>

#include "sluice/common/clock.h"
#include "sluice/storage/partition_log.h"

#include "test_support.h"

namespace sluice::storage {
namespace {

using testing::make_batch;
using testing::TempDir;

LogConfig base_config() {
  LogConfig config;
  config.durability = Durability::none;
  config.segment_bytes = 1 << 20;
  config.index_interval_bytes = 256;
  config.retention_ms = -1;
  return config;
}

std::unique_ptr<PartitionLog> open_log(const std::string& dir, const LogConfig& config, Clock& clock) {
  auto log = PartitionLog::open(posix_file_system(), dir, config, clock);
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().to_string());
  return log ? std::move(*log) : nullptr;
}

Bytes batch(int64_t timestamp = 1000) { return make_batch(5, "v", timestamp, Compression::none, 40); }

// Appends one batch (a fresh one: append stamps its offset into the bytes).
bool append(PartitionLog& log, int64_t timestamp = 1000) {
  Bytes b = batch(timestamp);
  auto r = log.append(b);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r.has_value();
}

TEST(LogRuntimeConfig, SmallerSegmentBytesRollsOnTheNextAppend) {
  TempDir dir;
  ManualClock clock(1'000'000);
  auto log = open_log(dir.path(), base_config(), clock);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(append(*log));
  ASSERT_EQ(log->segment_count(), 1u);
  const size_t one = batch().size();

  LogConfig config = log->config();
  config.segment_bytes = 3 * one;
  ASSERT_TRUE(log->set_config(config).has_value());
  EXPECT_EQ(log->config().segment_bytes, 3 * one);
  EXPECT_EQ(log->segment_count(), 1u) << "a change rolls nothing by itself";
  // The active segment is past the new size: the next append starts a new one,
  // and from then on a segment holds three batches.
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(append(*log));
  EXPECT_EQ(log->segment_count(), 4u);  // the old one, then 3 + 3 + 1 batches
}

TEST(LogRuntimeConfig, SegmentMsTakesEffectOnTheNextAppend) {
  TempDir dir;
  ManualClock clock(1'000'000);
  auto log = open_log(dir.path(), base_config(), clock);
  ASSERT_TRUE(append(*log));
  clock.advance_ms(10'000);
  ASSERT_TRUE(append(*log));
  ASSERT_EQ(log->segment_count(), 1u) << "the default segment.ms is a week";
  LogConfig config = log->config();
  config.segment_ms = 5'000;
  ASSERT_TRUE(log->set_config(config).has_value());
  ASSERT_TRUE(append(*log));
  EXPECT_EQ(log->segment_count(), 2u);
}

TEST(LogRuntimeConfig, RetentionChangesTakeEffectOnTheNextPass) {
  TempDir dir;
  ManualClock clock(1'000'000);
  LogConfig config = base_config();
  config.segment_bytes = 4096;
  auto log = open_log(dir.path(), config, clock);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(append(*log, 1'000'000));
  const size_t segments = log->segment_count();
  ASSERT_GT(segments, 3u);
  clock.advance_ms(60'000);
  ASSERT_EQ(log->apply_retention().value(), 0u) << "retention.ms is -1: kept forever";

  config = log->config();
  config.retention_ms = 30'000;
  ASSERT_TRUE(log->set_config(config).has_value());
  EXPECT_EQ(log->segment_count(), segments) << "nothing is removed before the next pass";
  EXPECT_EQ(log->apply_retention().value(), segments - 1) << "every segment but the active one is too old";
  EXPECT_EQ(log->segment_count(), 1u);

  // retention.bytes the same way.
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(append(*log, 1'060'000));
  config.retention_ms = -1;
  ASSERT_TRUE(log->set_config(config).has_value());
  ASSERT_EQ(log->apply_retention().value(), 0u);
  config.retention_bytes = 0;
  ASSERT_TRUE(log->set_config(config).has_value());
  EXPECT_GT(log->apply_retention().value(), 0u);
  EXPECT_EQ(log->segment_count(), 1u);
}

TEST(LogRuntimeConfig, SettingsThatShapeWrittenDataAreRefused) {
  TempDir dir;
  ManualClock clock(1'000'000);
  auto log = open_log(dir.path(), base_config(), clock);
  const LogConfig before = log->config();
  auto refused = [&](LogConfig config) {
    auto s = log->set_config(config);
    EXPECT_FALSE(s.has_value());
    if (!s) {
      EXPECT_EQ(s.error().code, Errc::invalid_argument);
    }
  };
  LogConfig c = before;
  c.index_interval_bytes = 512;
  refused(c);
  c = before;
  c.max_batch_bytes = 2 << 20;
  refused(c);
  c = before;
  c.durability = Durability::fsync;
  refused(c);
  c = before;
  c.segment_bytes = 10;
  refused(c);
  c = before;
  c.cleanup_policy = CleanupPolicy::compact;
  c.retention_ms = 5;  // with a refused field, nothing changes
  c.durability = Durability::fsync;
  refused(c);
  EXPECT_EQ(log->config().offset_gaps, OffsetGaps::are_damage);
  EXPECT_EQ(log->config().retention_ms, before.retention_ms);
  EXPECT_EQ(log->config().cleanup_policy, CleanupPolicy::delete_segments);
}

TEST(LogRuntimeConfig, ACompactingLogOpensWithLegalGapsAndKeepsThemAfterSwitchingToDelete) {
  TempDir dir;
  ManualClock clock(1'000'000);
  LogConfig config = base_config();
  config.cleanup_policy = CleanupPolicy::compact;
  auto log = open_log(dir.path(), config, clock);
  EXPECT_EQ(log->config().offset_gaps, OffsetGaps::are_legal);
  config.cleanup_policy = CleanupPolicy::delete_segments;
  ASSERT_TRUE(log->set_config(config).has_value());
  ASSERT_TRUE(log->close().has_value());
  log.reset();
  // Reopened as a delete log: the gaps a cleaner may have left are still legal.
  log = open_log(dir.path(), config, clock);
  EXPECT_EQ(log->config().offset_gaps, OffsetGaps::are_legal);
}

TEST(LogRuntimeConfig, ATruncatedDeleteLogStillTreatsGapsAsDamage) {
  TempDir dir;
  ManualClock clock(1'000'000);
  auto log = open_log(dir.path(), base_config(), clock);
  ASSERT_TRUE(append(*log));
  ASSERT_TRUE(append(*log));
  ASSERT_TRUE(log->truncate_to(Offset(5)).has_value());
  ASSERT_TRUE(log->close().has_value());
  log.reset();
  log = open_log(dir.path(), base_config(), clock);
  EXPECT_EQ(log->config().offset_gaps, OffsetGaps::are_damage);
}

TEST(CleanupPolicy, NamesRoundTrip) {
  for (auto p : {CleanupPolicy::delete_segments, CleanupPolicy::compact, CleanupPolicy::compact_and_delete}) {
    EXPECT_EQ(parse_cleanup_policy(cleanup_policy_name(p)), p);
  }
  EXPECT_EQ(parse_cleanup_policy("delete,compact"), CleanupPolicy::compact_and_delete);
  EXPECT_EQ(parse_cleanup_policy("shred"), std::nullopt);
}

}  // namespace
}  // namespace sluice::storage
