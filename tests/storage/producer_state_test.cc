// Idempotent producers in the partition log: duplicates, gaps, fencing, and the
// state surviving a reopen (it is rebuilt from the batch headers); open
// transactions and the last stable offset.
#include "sluice/storage/producer_state.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>

#include "sluice/common/crc32c.h"

#include "test_support.h"

namespace sluice::storage {
namespace {

using testing::TempDir;

LogConfig test_config() {
  LogConfig config;
  config.segment_bytes = 1024;  // a few batches per segment: the rebuild reads several
  config.durability = Durability::none;
  config.retention_ms = -1;
  return config;
}

std::unique_ptr<PartitionLog> open_log(const std::string& dir, LogConfig config = test_config(),
                                       Clock& clock = SystemClock::instance()) {
  auto log = PartitionLog::open(posix_file_system(), dir, config, clock);
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().to_string());
  return log ? std::move(*log) : nullptr;
}

Bytes idempotent_batch(int64_t producer_id, int16_t epoch, int32_t base_sequence, int records = 3) {
  BatchBuilder builder(
      BatchOptions{.producer_id = producer_id, .producer_epoch = epoch, .base_sequence = base_sequence});
  for (int i = 0; i < records; ++i) {
    std::string value = "seq-" + std::to_string(base_sequence + i);
    builder.add(1000 + i, std::nullopt, as_bytes(value));
  }
  return std::move(*builder.build());
}

Result<AppendResult> append(PartitionLog& log, Bytes batch) { return log.append(batch); }

Bytes transactional_batch(int64_t producer_id, int16_t epoch, int32_t base_sequence, int records = 3) {
  BatchBuilder builder(BatchOptions{
      .producer_id = producer_id, .producer_epoch = epoch, .base_sequence = base_sequence, .transactional = true});
  for (int i = 0; i < records; ++i) {
    std::string value = "txn-" + std::to_string(base_sequence + i);
    builder.add(1000 + i, std::nullopt, as_bytes(value));
  }
  return std::move(*builder.build());
}

Bytes marker(ControlType type, int64_t producer_id, int16_t epoch = 0) {
  return make_control_batch(type, producer_id, epoch, 0, 2000);
}

// Replaces the partition's producer-state snapshot file with `bytes`.
void write_snapshot(const TempDir& dir, const Bytes& bytes) {
  std::ofstream(dir.sub("producer-state"), std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(ProducerState, LastSequenceWrapsPastInt32Max) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(last_sequence_of(10, 4), 14);
  EXPECT_EQ(last_sequence_of(kMax, 0), kMax);
  EXPECT_EQ(last_sequence_of(kMax - 1, 2), 0);
  EXPECT_EQ(last_sequence_of(kMax, 3), 2);
  EXPECT_EQ(sequence_after(10, 5), 15);
  EXPECT_EQ(sequence_after(kMax, 1), 0);
  EXPECT_EQ(sequence_after(kMax - 1, 3), 1);
}

TEST(ProducerState, ARetriedBatchGetsItsFirstOffsetsAndIsNotWrittenTwice) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_TRUE(append(*log, idempotent_batch(7, 0, 0)).has_value());
  auto second = append(*log, idempotent_batch(7, 0, 3));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->base_offset, Offset(3));
  EXPECT_FALSE(second->duplicate);

  auto retried = append(*log, idempotent_batch(7, 0, 3));
  ASSERT_TRUE(retried.has_value()) << retried.error().to_string();
  EXPECT_TRUE(retried->duplicate);
  EXPECT_EQ(retried->base_offset, Offset(3));
  EXPECT_EQ(retried->last_offset, Offset(5));
  EXPECT_EQ(log->log_end_offset(), Offset(6));
  // An older batch, still among the recent ones, is recognised too.
  auto first_again = append(*log, idempotent_batch(7, 0, 0));
  ASSERT_TRUE(first_again.has_value());
  EXPECT_TRUE(first_again->duplicate);
  EXPECT_EQ(first_again->base_offset, Offset(0));
  EXPECT_EQ(log->log_end_offset(), Offset(6));
}

TEST(ProducerState, AGapInTheSequenceIsRefusedAndNothingIsWritten) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_TRUE(append(*log, idempotent_batch(7, 0, 0)).has_value());
  auto gap = append(*log, idempotent_batch(7, 0, 6));  // 3..5 never arrived
  ASSERT_FALSE(gap.has_value());
  EXPECT_EQ(gap.error().code, StorageErrc::out_of_order_sequence);
  EXPECT_NE(gap.error().message.find("expected 3"), std::string::npos) << gap.error().message;
  EXPECT_EQ(log->log_end_offset(), Offset(3));
  // The missing batch, then the one after it, append in order.
  EXPECT_TRUE(append(*log, idempotent_batch(7, 0, 3)).has_value());
  EXPECT_TRUE(append(*log, idempotent_batch(7, 0, 6)).has_value());
  EXPECT_EQ(log->log_end_offset(), Offset(9));
}

TEST(ProducerState, AnOlderEpochIsFencedAndANewerOneStartsAtSequenceZero) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_TRUE(append(*log, idempotent_batch(7, 1, 0)).has_value());
  auto old_epoch = append(*log, idempotent_batch(7, 0, 3));
  ASSERT_FALSE(old_epoch.has_value());
  EXPECT_EQ(old_epoch.error().code, StorageErrc::producer_fenced);

  auto new_epoch_mid_sequence = append(*log, idempotent_batch(7, 2, 3));
  ASSERT_FALSE(new_epoch_mid_sequence.has_value());
  EXPECT_EQ(new_epoch_mid_sequence.error().code, StorageErrc::out_of_order_sequence);
  EXPECT_TRUE(append(*log, idempotent_batch(7, 2, 0)).has_value());
  // The new epoch's sequence continues from its own batches.
  EXPECT_TRUE(append(*log, idempotent_batch(7, 2, 3)).has_value());
  EXPECT_EQ(log->log_end_offset(), Offset(9));
}

TEST(ProducerState, ProducersAreTrackedSeparatelyAndPlainBatchesAreNotChecked) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_TRUE(append(*log, idempotent_batch(7, 0, 0)).has_value());
  ASSERT_TRUE(append(*log, idempotent_batch(8, 0, 0)).has_value());  // same sequence, other producer
  ASSERT_TRUE(append(*log, testing::make_batch(2)).has_value());
  ASSERT_TRUE(append(*log, testing::make_batch(2)).has_value());  // no producer id: never a duplicate
  // A producer the partition has not seen may start anywhere (its earlier
  // batches may be gone with retention).
  ASSERT_TRUE(append(*log, idempotent_batch(9, 0, 40)).has_value());
  EXPECT_EQ(log->log_end_offset(), Offset(13));
}

TEST(ProducerState, OnlyTheLastKRecentBatchesAreRecognisedAsDuplicates) {
  TempDir dir;
  auto log = open_log(dir.path());
  constexpr auto kRecent = static_cast<int32_t>(ProducerStateTable::kRecentBatches);
  for (int32_t i = 0; i <= kRecent; ++i) ASSERT_TRUE(append(*log, idempotent_batch(7, 0, i * 3)).has_value());
  auto oldest_remembered = append(*log, idempotent_batch(7, 0, 3));
  ASSERT_TRUE(oldest_remembered.has_value());
  EXPECT_TRUE(oldest_remembered->duplicate);
  auto forgotten = append(*log, idempotent_batch(7, 0, 0));
  ASSERT_FALSE(forgotten.has_value());
  EXPECT_EQ(forgotten.error().code, StorageErrc::out_of_order_sequence);
}

TEST(ProducerState, StateIsRebuiltFromTheLogWhenItIsOpenedAgain) {
  TempDir dir;
  {
    auto log = open_log(dir.path());
    // Enough batches to roll several 1 KiB segments.
    for (int32_t i = 0; i < 40; ++i) ASSERT_TRUE(append(*log, idempotent_batch(7, 0, i * 3)).has_value());
    ASSERT_GT(log->segment_count(), 3u);
    ASSERT_TRUE(log->close().has_value());
  }
  for (bool clean : {true, false}) {
    auto log = open_log(dir.path());
    auto retried = append(*log, idempotent_batch(7, 0, 39 * 3));
    ASSERT_TRUE(retried.has_value()) << retried.error().to_string();
    EXPECT_TRUE(retried->duplicate) << "clean=" << clean;
    EXPECT_EQ(retried->base_offset, Offset(117));
    auto gap = append(*log, idempotent_batch(7, 0, 41 * 3));
    ASSERT_FALSE(gap.has_value());
    EXPECT_EQ(gap.error().code, StorageErrc::out_of_order_sequence);
    if (clean) {
      ASSERT_TRUE(log->close().has_value());
    }
    // The second round opens without a clean close: recovery, then the same state.
  }
}

TEST(ProducerState, TruncationForgetsTheBatchesItRemoves) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_TRUE(append(*log, idempotent_batch(7, 0, 0)).has_value());
  ASSERT_TRUE(append(*log, idempotent_batch(7, 0, 3)).has_value());
  ASSERT_TRUE(log->truncate_to(Offset(3)).has_value());
  // The removed batch is no duplicate any more: it is written again.
  auto again = append(*log, idempotent_batch(7, 0, 3));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->duplicate);
  EXPECT_EQ(again->base_offset, Offset(3));
}

// The state a clean close saved is what the next open uses: a snapshot written
// by hand (producer 99, never in the log) is believed, the log is not read.
TEST(ProducerState, TheNextOpenAfterACleanCloseLoadsTheSnapshot) {
  TempDir dir;
  {
    auto log = open_log(dir.path());
    ASSERT_TRUE(append(*log, idempotent_batch(7, 0, 0)).has_value());
    ASSERT_TRUE(log->close().has_value());
  }
  ProducerStateTable forged;
  BatchHeader h;
  h.producer_id = 99;
  h.producer_epoch = 0;
  h.base_sequence = 0;
  h.last_offset_delta = 2;
  forged.record(h, 0);
  Bytes bytes = forged.encode(Offset(3));
  write_snapshot(dir, bytes);

  auto log = open_log(dir.path());
  auto forged_duplicate = append(*log, idempotent_batch(99, 0, 0));
  ASSERT_TRUE(forged_duplicate.has_value());
  EXPECT_TRUE(forged_duplicate->duplicate) << "the snapshot was loaded";
  auto unknown = append(*log, idempotent_batch(7, 0, 30));
  ASSERT_TRUE(unknown.has_value()) << "producer 7 is not in the snapshot, so any sequence goes";
}

TEST(ProducerState, ASnapshotThatDoesNotMatchTheLogIsIgnoredAndTheLogIsRead) {
  for (bool corrupt : {false, true}) {
    TempDir dir;
    {
      auto log = open_log(dir.path());
      ASSERT_TRUE(append(*log, idempotent_batch(7, 0, 0)).has_value());
      ASSERT_TRUE(log->close().has_value());
    }
    Bytes bytes = ProducerStateTable().encode(corrupt ? Offset(3) : Offset(1234));  // no producers
    if (corrupt) bytes[6] ^= std::byte{1};
    write_snapshot(dir, bytes);
    auto log = open_log(dir.path());
    auto retried = append(*log, idempotent_batch(7, 0, 0));
    ASSERT_TRUE(retried.has_value());
    EXPECT_TRUE(retried->duplicate) << "rebuilt from the log, corrupt=" << corrupt;
  }
}

TEST(ProducerState, ASnapshotKeepsTheRecentBatchesInOrder) {
  constexpr auto kRecent = static_cast<int32_t>(ProducerStateTable::kRecentBatches);
  ProducerStateTable table;
  for (int32_t i = 0; i < kRecent + 2; ++i) {
    BatchHeader h;
    h.producer_id = 7;
    h.producer_epoch = 3;
    h.base_sequence = i * 2;
    h.last_offset_delta = 1;
    h.base_offset = Offset(100 + i * 2);
    table.record(h, 42);
  }
  ProducerStateTable loaded;
  auto valid_for = loaded.decode(table.encode(Offset(100 + (kRecent + 2) * 2)));
  ASSERT_TRUE(valid_for.has_value()) << valid_for.error().to_string();
  EXPECT_EQ(*valid_for, Offset(100 + (kRecent + 2) * 2));
  BatchHeader probe;
  probe.producer_id = 7;
  probe.producer_epoch = 3;
  probe.last_offset_delta = 1;
  for (int32_t i = 2; i < kRecent + 2; ++i) {
    probe.base_sequence = i * 2;
    auto dup = loaded.check(probe);
    ASSERT_TRUE(dup.has_value() && dup->has_value()) << "batch " << i;
    EXPECT_EQ((*dup)->first_offset, Offset(100 + i * 2));
  }
  probe.base_sequence = 2;  // one older than the window: no longer remembered
  EXPECT_FALSE(loaded.check(probe).has_value());
  probe.base_sequence = (kRecent + 2) * 2;  // the next one
  auto next = loaded.check(probe);
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->has_value());
}

TEST(ProducerState, AnIdleProducerIsForgottenAfterTheExpirationTime) {
  TempDir dir;
  ManualClock clock(1'000'000);
  LogConfig config = test_config();
  config.producer_id_expiration_ms = 60'000;
  auto log = open_log(dir.path(), config, clock);
  ASSERT_TRUE(append(*log, idempotent_batch(7, 0, 0)).has_value());
  ASSERT_TRUE(append(*log, idempotent_batch(8, 0, 0)).has_value());
  clock.advance_ms(30'000);
  ASSERT_TRUE(append(*log, idempotent_batch(8, 0, 3)).has_value());  // 8 stays active
  clock.advance_ms(30'001);
  ASSERT_TRUE(log->apply_retention().has_value());
  auto forgotten = append(*log, idempotent_batch(7, 0, 30));
  EXPECT_TRUE(forgotten.has_value()) << "producer 7 is unknown again: any sequence goes";
  auto kept = append(*log, idempotent_batch(8, 0, 30));
  ASSERT_FALSE(kept.has_value());
  EXPECT_EQ(kept.error().code, StorageErrc::out_of_order_sequence);
}

TEST(ProducerState, ATransactionOpensAtItsFirstBatchAndClosesAtItsMarker) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_TRUE(append(*log, idempotent_batch(8, 0, 0)).has_value());  // offsets 0-2, not transactional
  EXPECT_EQ(log->last_stable_offset(), Offset(3)) << "nothing open: the log end";
  auto first = append(*log, transactional_batch(7, 0, 0));  // 3-5
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(append(*log, idempotent_batch(8, 0, 3)).has_value());     // 6-8
  ASSERT_TRUE(append(*log, transactional_batch(7, 0, 3)).has_value());  // 9-11: the same transaction
  ASSERT_TRUE(append(*log, transactional_batch(9, 0, 0)).has_value());  // 12-14
  EXPECT_EQ(log->last_stable_offset(), first->base_offset);
  auto open = log->open_transactions();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].producer, ProducerId(7));
  EXPECT_EQ(open[1].producer, ProducerId(9));
  EXPECT_EQ(open[1].first_offset, Offset(12));

  auto committed = append(*log, marker(ControlType::commit, 7));  // 15
  ASSERT_TRUE(committed.has_value()) << committed.error().to_string();
  EXPECT_EQ(log->last_stable_offset(), Offset(12)) << "producer 9's transaction is still open";
  ASSERT_TRUE(append(*log, marker(ControlType::abort, 9)).has_value());  // 16
  EXPECT_EQ(log->last_stable_offset(), Offset(17));
  EXPECT_TRUE(log->open_transactions().empty());
  // The next transactional batch opens a new transaction; the sequence goes on.
  ASSERT_TRUE(append(*log, transactional_batch(7, 0, 6)).has_value());
  EXPECT_EQ(log->last_stable_offset(), Offset(17));
  EXPECT_EQ(log->log_end_offset(), Offset(20));
}

TEST(ProducerState, AMarkerFromAnOlderEpochIsFenced) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_TRUE(append(*log, transactional_batch(7, 1, 0)).has_value());
  auto stale = append(*log, marker(ControlType::commit, 7, 0));
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, StorageErrc::producer_fenced);
  EXPECT_EQ(log->last_stable_offset(), Offset(0)) << "the transaction is still open";
}

TEST(ProducerState, OpenTransactionsSurviveACrashAndACleanClose) {
  TempDir dir;
  {
    auto log = open_log(dir.path());
    ASSERT_TRUE(append(*log, transactional_batch(7, 0, 0)).has_value());    // 0-2
    ASSERT_TRUE(append(*log, marker(ControlType::commit, 7)).has_value());  // 3
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(append(*log, idempotent_batch(8, 0, 3 * i)).has_value());
    ASSERT_TRUE(append(*log, transactional_batch(9, 0, 0)).has_value());  // 64-66
    ASSERT_GT(log->segment_count(), 2u);
  }  // a crash: the state is rebuilt from the batch headers
  auto log = open_log(dir.path());
  EXPECT_EQ(log->last_stable_offset(), Offset(64));
  ASSERT_EQ(log->open_transactions().size(), 1u);
  EXPECT_EQ(log->open_transactions()[0].producer, ProducerId(9));
  ASSERT_TRUE(log->close().has_value());
  log.reset();
  log = open_log(dir.path());  // from the snapshot this time
  EXPECT_EQ(log->last_stable_offset(), Offset(64));
  ASSERT_TRUE(append(*log, marker(ControlType::abort, 9)).has_value());
  EXPECT_EQ(log->last_stable_offset(), log->log_end_offset());
}

TEST(ProducerState, AProducerWithAnOpenTransactionIsNotExpired) {
  TempDir dir;
  ManualClock clock(1'000'000);
  LogConfig config = test_config();
  config.producer_id_expiration_ms = 60'000;
  auto log = open_log(dir.path(), config, clock);
  ASSERT_TRUE(append(*log, transactional_batch(7, 0, 0)).has_value());
  clock.advance_ms(120'000);
  ASSERT_TRUE(log->apply_retention().has_value());
  EXPECT_EQ(log->last_stable_offset(), Offset(0));
  auto gap = append(*log, transactional_batch(7, 0, 30));
  ASSERT_FALSE(gap.has_value()) << "producer 7 is still known";
  EXPECT_EQ(gap.error().code, StorageErrc::out_of_order_sequence);
}

TEST(ProducerState, AVersionOneSnapshotStillLoads) {
  TempDir dir;
  {
    auto log = open_log(dir.path());
    ASSERT_TRUE(append(*log, idempotent_batch(7, 0, 0)).has_value());
    ASSERT_TRUE(log->close().has_value());
  }
  // What a broker before transactions wrote: producer 99 with one batch, no transaction field.
  Bytes v1;
  ByteWriter w(v1);
  w.put_be<uint32_t>(0x534c5053);
  w.put_be<int16_t>(1);
  w.put_be<int64_t>(3);  // log end
  w.put_be<int32_t>(1);
  w.put_be<int64_t>(99);
  w.put_be<int16_t>(0);
  w.put_be<int64_t>(0);  // last append
  w.put_be<int8_t>(1);
  for (int64_t field : {0, 2}) w.put_be<int32_t>(static_cast<int32_t>(field));  // sequences 0-2
  for (int64_t field : {0, 2, 1002}) w.put_be<int64_t>(field);                  // offsets 0-2, max timestamp
  w.put_be<uint32_t>(crc32c(v1));
  write_snapshot(dir, v1);
  auto log = open_log(dir.path());
  auto duplicate = append(*log, idempotent_batch(99, 0, 0));
  ASSERT_TRUE(duplicate.has_value());
  EXPECT_TRUE(duplicate->duplicate) << "the version 1 snapshot was loaded";
  EXPECT_EQ(log->last_stable_offset(), log->log_end_offset());
}

}  // namespace
}  // namespace sluice::storage
