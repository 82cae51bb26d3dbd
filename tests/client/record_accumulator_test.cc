#include "record_accumulator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include "sluice/client/client_errors.h"
#include "sluice/storage/record_batch.h"

#include "manual_steady_clock.h"

namespace sluice::client {
namespace {

using namespace std::chrono_literals;

const TopicPartition kP0{"t", 0};
const TopicPartition kP1{"t", 1};

struct Fixture {
  explicit Fixture(AccumulatorConfig config, size_t memory = 1 << 20)
      : budget(memory, clock), acc(config, budget, clock) {}

  Result<RecordAccumulator::AppendResult> add(const TopicPartition& tp, const std::string& value, SteadyTime now,
                                              bool abort_on_new_batch = false) {
    RecordAccumulator::AppendRequest req;
    req.partition = tp;
    req.timestamp = 1000;
    req.value = as_bytes(value);
    req.abort_on_new_batch = abort_on_new_batch;
    req.may_block = MemoryBudget::Block::no;
    DeliveryCallback cb = [this](const Result<RecordMetadata>& r) {
      if (r) delivered.push_back(r->offset);
    };
    return acc.append(req, cb, now);
  }

  testing::ManualSteadyClock clock;  // the waits' clock; linger is judged on the `now` each call passes
  MemoryBudget budget;
  RecordAccumulator acc;
  std::vector<int64_t> delivered;
};

const SteadyTime kT0 = SteadyTime() + std::chrono::hours(1);
// Drain rooms: every partition open, or kP0 muted.
const PartitionRoom kAll = [](const TopicPartition&) { return SIZE_MAX; };
const PartitionRoom kAllButP0 = [](const TopicPartition& tp) { return tp == kP0 ? size_t{0} : SIZE_MAX; };

TEST(RecordAccumulator, RecordsShareABatchUntilItIsFull) {
  Fixture f({.batch_bytes = 1000, .linger = 1000ms});
  const std::string value(100, 'v');
  int batches = 0;
  int ready_at = -1;
  int ready_reports = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = f.add(kP0, value, kT0);
    ASSERT_TRUE(r);
    if (r->new_batch) ++batches;
    if (r->batch_ready && ready_at < 0) ready_at = i;
    if (r->batch_ready) ++ready_reports;
  }
  // ~137 bytes per record estimate (worst-case varints) in 1000-byte batches.
  EXPECT_GE(batches, 3);
  EXPECT_GE(ready_at, 5);
  // A batch's readiness is reported once, when it changes (the sender is woken
  // for it), not again by every record appended behind it.
  EXPECT_EQ(ready_reports, batches - 1);
  EXPECT_EQ(f.acc.queued_batches(), static_cast<size_t>(batches));
  // Full batches drain before linger; the last, partly filled one waits.
  auto drained = f.acc.drain(kT0, kAll, 1 << 20);
  // Every full batch of the partition, in order, in one drain.
  ASSERT_EQ(drained.size(), static_cast<size_t>(batches - 1));
  for (size_t i = 0; i < drained.size(); ++i) {
    EXPECT_LE(drained[i]->size_bytes(), 1000u);
    if (i > 0) {
      EXPECT_GT(drained[i]->id(), drained[i - 1]->id()) << "queue order";
    }
  }
  size_t total = 0;
  while (!drained.empty()) {
    total += drained.size();
    for (auto& b : drained) {
      ASSERT_TRUE(b->seal());
      auto header = storage::validate_batch(b->bytes());
      ASSERT_TRUE(header) << header.error().to_string();
      EXPECT_EQ(header->record_count, b->record_count());
      b->complete(0);
      f.acc.done(*b);
    }
    drained = f.acc.drain(kT0, kAll, 1 << 20);
  }
  EXPECT_EQ(total, static_cast<size_t>(batches - 1));
  EXPECT_EQ(f.acc.queued_batches(), 1u);
}

// The appending thread finishes a full uncompressed batch when the next one
// starts, so the sender only sends it; compression is left to the sender.
TEST(RecordAccumulator, AFullUncompressedBatchIsSealedWhenTheNextOneStarts) {
  for (auto compression : {CompressionType::none, CompressionType::zstd}) {
    Fixture f({.batch_bytes = 1000, .linger = 1000ms, .compression = compression});
    const std::string value(100, 'v');
    int batches = 0;
    while (batches < 2) {
      auto r = f.add(kP0, value, kT0);
      ASSERT_TRUE(r);
      if (r->new_batch) ++batches;
    }
    auto drained = f.acc.drain(kT0, kAll, 1 << 20);
    ASSERT_EQ(drained.size(), 1u);
    EXPECT_EQ(drained[0]->sealed(), compression == CompressionType::none);
    ASSERT_TRUE(drained[0]->seal());
    auto header = storage::validate_batch(drained[0]->bytes());
    ASSERT_TRUE(header) << header.error().to_string();
    EXPECT_EQ(header->record_count, drained[0]->record_count());
    drained[0]->complete(0);
    f.acc.done(*drained[0]);
  }
}

TEST(RecordAccumulator, LingerHoldsAPartialBatchUntilItExpires) {
  Fixture f({.batch_bytes = 16384, .linger = 50ms});
  ASSERT_TRUE(f.add(kP0, "a", kT0));
  ASSERT_TRUE(f.add(kP0, "b", kT0 + 10ms));
  EXPECT_TRUE(f.acc.drain(kT0 + 49ms, kAll, 1 << 20).empty());
  auto next = f.acc.next_ready_time(kT0 + 10ms, kAll);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, kT0 + 50ms);  // linger counts from the first record
  auto drained = f.acc.drain(kT0 + 50ms, kAll, 1 << 20);
  ASSERT_EQ(drained.size(), 1u);
  EXPECT_EQ(drained[0]->record_count(), 2);
}

TEST(RecordAccumulator, ZeroLingerIsReadyAtOnce) {
  Fixture f({.batch_bytes = 16384, .linger = 0ms});
  ASSERT_TRUE(f.add(kP0, "a", kT0));
  EXPECT_EQ(f.acc.drain(kT0, kAll, 1 << 20).size(), 1u);
}

TEST(RecordAccumulator, FlushMakesEveryBatchReady) {
  Fixture f({.batch_bytes = 16384, .linger = 10'000ms});
  ASSERT_TRUE(f.add(kP0, "a", kT0));
  ASSERT_TRUE(f.add(kP1, "b", kT0));
  EXPECT_TRUE(f.acc.drain(kT0, kAll, 1 << 20).empty());
  uint64_t target = f.acc.begin_flush();
  auto drained = f.acc.drain(kT0, kAll, 1 << 20);
  EXPECT_EQ(drained.size(), 2u);
  EXPECT_FALSE(f.acc.await_flush(target, f.clock.now()));  // not done, and the deadline is now
  for (auto& b : drained) f.acc.done(*b);
  EXPECT_TRUE(f.acc.await_flush(target, f.clock.now()));
  f.acc.end_flush();
}

TEST(RecordAccumulator, AwaitFlushWaitsForTheBatchesUntilTheDeadlineByItsClock) {
  Fixture f({.batch_bytes = 16384, .linger = 10'000ms});
  ASSERT_TRUE(f.add(kP0, "a", kT0));
  ASSERT_TRUE(f.add(kP1, "b", kT0));
  uint64_t target = f.acc.begin_flush();
  auto drained = f.acc.drain(kT0, kAll, 1 << 20);
  ASSERT_EQ(drained.size(), 2u);
  // Done in time: the wait ends when the last batch is done.
  std::promise<bool> in_time;
  std::thread flusher([&, deadline = f.clock.now() + 1min] { in_time.set_value(f.acc.await_flush(target, deadline)); });
  f.acc.done(*drained[0]);
  f.acc.done(*drained[1]);
  EXPECT_TRUE(in_time.get_future().get());
  flusher.join();
  f.acc.end_flush();
  // Not done: it gives up when its clock passes the deadline (a real-clock wait would hang a minute).
  ASSERT_TRUE(f.add(kP0, "c", kT0));
  target = f.acc.begin_flush();
  drained = f.acc.drain(kT0, kAll, 1 << 20);
  ASSERT_EQ(drained.size(), 1u);
  std::promise<bool> late;
  std::thread waiter([&, deadline = f.clock.now() + 1min] { late.set_value(f.acc.await_flush(target, deadline)); });
  f.clock.advance(1min);
  EXPECT_FALSE(late.get_future().get());
  waiter.join();
  f.acc.done(*drained[0]);
  f.acc.end_flush();
}

TEST(RecordAccumulator, MutedPartitionsAreNotDrained) {
  Fixture f({.batch_bytes = 16384, .linger = 0ms});
  ASSERT_TRUE(f.add(kP0, "a", kT0));
  ASSERT_TRUE(f.add(kP1, "b", kT0));
  auto drained = f.acc.drain(kT0, kAllButP0, 1 << 20);
  ASSERT_EQ(drained.size(), 1u);
  EXPECT_EQ(drained[0]->partition(), kP1);
  EXPECT_FALSE(f.acc.next_ready_time(kT0, kAllButP0));
}

TEST(RecordAccumulator, DrainStopsAtMaxBytesButTakesAtLeastOneBatch) {
  Fixture f({.batch_bytes = 16384, .linger = 0ms});
  const std::string big(3000, 'x');
  ASSERT_TRUE(f.add(kP0, big, kT0));
  ASSERT_TRUE(f.add(kP1, big, kT0));
  auto first = f.acc.drain(kT0, kAll, 1000);
  EXPECT_EQ(first.size(), 1u);
  auto second = f.acc.drain(kT0, kAll, 1000);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(first[0]->partition(), second[0]->partition());
}

TEST(RecordAccumulator, RetriedBatchGoesBackInFrontAndWaitsForItsBackoff) {
  Fixture f({.batch_bytes = 200, .linger = 0ms});
  ASSERT_TRUE(f.add(kP0, std::string(100, 'a'), kT0));
  auto first = f.acc.drain(kT0, kAll, 1 << 20);
  ASSERT_EQ(first.size(), 1u);
  uint64_t first_id = first[0]->id();
  ASSERT_TRUE(first[0]->seal());
  first[0]->attempts = 1;
  first[0]->retry_at = kT0 + 100ms;
  f.acc.reenqueue(std::move(first[0]));
  ASSERT_TRUE(f.add(kP0, std::string(100, 'b'), kT0));  // a newer batch, ready at once
  // The retry blocks the partition until its backoff passes: the newer batch may not overtake it.
  EXPECT_TRUE(f.acc.drain(kT0 + 50ms, kAll, 1 << 20).empty());
  EXPECT_EQ(*f.acc.next_ready_time(kT0 + 50ms, kAll), kT0 + 100ms);
  auto again = f.acc.drain(kT0 + 100ms, kAll, 1 << 20);
  ASSERT_EQ(again.size(), 2u) << "the retry, then the newer batch behind it";
  EXPECT_EQ(again[0]->id(), first_id);
  EXPECT_GT(again[1]->id(), first_id);
}

TEST(RecordAccumulator, NewRecordsNeverJoinASealedRetryBatch) {
  Fixture f({.batch_bytes = 16384, .linger = 0ms});
  ASSERT_TRUE(f.add(kP0, "a", kT0));
  auto drained = f.acc.drain(kT0, kAll, 1 << 20);
  ASSERT_TRUE(drained[0]->seal());
  drained[0]->attempts = 1;
  f.acc.reenqueue(std::move(drained[0]));
  auto r = f.add(kP0, "b", kT0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->new_batch);
  EXPECT_EQ(f.acc.queued_batches(), 2u);
}

TEST(RecordAccumulator, AbortOnNewBatchLeavesNothingBehind) {
  Fixture f({.batch_bytes = 16384, .linger = 0ms}, 10'000);
  auto r = f.add(kP0, "a", kT0, /*abort_on_new_batch=*/true);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->aborted_for_new_batch);
  EXPECT_EQ(f.acc.queued_batches(), 0u);
  EXPECT_EQ(f.budget.available(), 10'000u);  // the reservation was returned
  ASSERT_TRUE(f.add(kP0, "a", kT0));
  r = f.add(kP0, "b", kT0, true);  // fits in the open batch: no abort
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->aborted_for_new_batch);
}

TEST(RecordAccumulator, ExpireRemovesBatchesPastTheDeliveryTimeout) {
  Fixture f({.batch_bytes = 16384, .linger = 10'000ms});
  ASSERT_TRUE(f.add(kP0, "a", kT0));
  ASSERT_TRUE(f.add(kP1, "b", kT0 + 500ms));
  EXPECT_TRUE(f.acc.expire(kT0 + 999ms, 1000ms).empty());
  auto expired = f.acc.expire(kT0 + 1000ms, 1000ms);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0]->partition(), kP0);
}

TEST(RecordAccumulator, MemoryIsReservedPerRecordAndReleasedPerBatch) {
  Fixture f({.batch_bytes = 16384, .linger = 0ms}, 10'000);
  ASSERT_TRUE(f.add(kP0, std::string(1000, 'x'), kT0));
  size_t after_one = f.budget.available();
  EXPECT_LT(after_one, 9'000u);
  auto drained = f.acc.drain(kT0, kAll, 1 << 20);
  f.acc.done(*drained[0]);
  EXPECT_EQ(f.budget.available(), 10'000u);
}

TEST(RecordAccumulator, BufferFullFailsAtOnceWhenNotBlocking) {
  Fixture f({.batch_bytes = 16384, .linger = 0ms}, 3'000);
  ASSERT_TRUE(f.add(kP0, std::string(2000, 'x'), kT0));
  auto r = f.add(kP0, std::string(2000, 'y'), kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kBufferFull);
}

TEST(RecordAccumulator, BufferFullBlocksUntilABatchIsDone) {
  Fixture f({.batch_bytes = 16384, .linger = 0ms}, 3'000);
  ASSERT_TRUE(f.add(kP0, std::string(2000, 'x'), kT0));
  auto drained = f.acc.drain(kT0, kAll, 1 << 20);
  ASSERT_EQ(drained.size(), 1u);
  std::atomic<bool> appended{false};
  std::thread sender_thread([&] {
    RecordAccumulator::AppendRequest req;
    req.partition = kP1;
    std::string value(2000, 'y');
    req.value = as_bytes(value);
    req.may_block = MemoryBudget::Block::yes;
    req.block_deadline = f.clock.now() + 60s;
    DeliveryCallback cb = [](const Result<RecordMetadata>&) {};
    auto r = f.acc.append(req, cb, kT0);
    EXPECT_TRUE(r) << r.error().to_string();
    appended = true;
  });
  while (!f.budget.has_waiters()) std::this_thread::yield();  // the append is blocked on memory
  EXPECT_FALSE(appended.load());
  f.acc.done(*drained[0]);  // acknowledged: its memory comes back
  sender_thread.join();
  EXPECT_TRUE(appended.load());
}

TEST(RecordAccumulator, WaitingForMemoryMakesBatchesReady) {
  Fixture f({.batch_bytes = 16384, .linger = 10'000ms}, 3'000);
  ASSERT_TRUE(f.add(kP0, std::string(2000, 'x'), kT0));
  EXPECT_TRUE(f.acc.drain(kT0, kAll, 1 << 20).empty());
  std::thread waiter(
      [&, deadline = f.clock.now() + 300ms] { (void)f.budget.reserve(2000, MemoryBudget::Block::yes, deadline); });
  while (!f.budget.has_waiters()) std::this_thread::yield();
  EXPECT_EQ(f.acc.drain(kT0, kAll, 1 << 20).size(), 1u);  // sent early to free memory
  f.clock.advance(300ms);                                 // the waiter gives up
  waiter.join();
}

}  // namespace
}  // namespace sluice::client
