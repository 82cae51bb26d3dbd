// The consumer against the fake broker: positions, seeks, per-partition fetch
// errors, out-of-range resets and pause/resume, with the broker's answers
// scripted by FakeFetchLog.
#include "sluice/consumer/consumer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "sluice/client/client_errors.h"

#include "fake_broker.h"
#include "fake_fetch_log.h"
#include "manual_steady_clock.h"

namespace sluice::consumer {
namespace {

using namespace std::chrono_literals;
using testing::FakeBroker;
using testing::FakeFetchLog;

const TopicPartition kP0{"t", 0};
const TopicPartition kP1{"t", 1};

// A failure bound for waits on records, never the synchronization itself.
constexpr auto kPatience = 10s;

class ConsumerTest : public ::testing::Test {
 protected:
  ConsumerTest() : broker_([this](const FakeBroker::Request& r) { return log_.handle(r); }) {
    log_.add_partition(kP0);
    log_.add_partition(kP1);
  }

  // max_partition_fetch_bytes = 1: one batch per partition and fetch.
  Consumer make_consumer(OffsetReset reset = OffsetReset::earliest, int32_t max_poll_records = 500,
                         int32_t max_partition_fetch_bytes = 1 << 20) {
    auto c = Consumer::create({.bootstrap = broker_.bootstrap(),
                               .auto_offset_reset = reset,
                               .fetch_max_wait_ms = 10,
                               .max_partition_fetch_bytes = max_partition_fetch_bytes,
                               .max_poll_records = max_poll_records,
                               .request_timeout_ms = 5000});
    EXPECT_TRUE(c) << c.error().to_string();
    return std::move(*c);
  }

  // Polls until `n` records arrived (or kPatience passed); fails on a poll error.
  std::vector<ConsumerRecord> poll_records(Consumer& c, size_t n) {
    std::vector<ConsumerRecord> out;
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (out.size() < n && std::chrono::steady_clock::now() < give_up) {
      auto records = c.poll(100ms);
      if (!records) {
        ADD_FAILURE() << records.error().to_string();
        break;
      }
      for (auto& r : *records) out.push_back(std::move(r));
    }
    return out;
  }

  static std::vector<int64_t> offsets_of(const std::vector<ConsumerRecord>& records, const TopicPartition& tp) {
    std::vector<int64_t> out;
    for (const auto& r : records) {
      if (r.topic == tp.topic && r.partition == tp.partition) out.push_back(r.offset);
    }
    return out;
  }

  static std::vector<int64_t> range(int64_t from, int64_t to) {
    std::vector<int64_t> out;
    for (int64_t o = from; o < to; ++o) out.push_back(o);
    return out;
  }

  // Whether any fetch after the first `skip` asked for tp.
  bool fetched_since(size_t skip, const TopicPartition& tp) const {
    auto fetches = log_.fetches();
    for (size_t i = skip; i < fetches.size(); ++i) {
      for (const auto& ask : fetches[i]) {
        if (ask.partition == tp) return true;
      }
    }
    return false;
  }

  FakeFetchLog log_;
  FakeBroker broker_;
};

TEST_F(ConsumerTest, PositionsAdvanceAcrossPollsWithoutGapsOrRepeats) {
  for (int i = 0; i < 3; ++i) log_.append(kP0, 5);
  Consumer c = make_consumer(OffsetReset::earliest, /*max_poll_records=*/4);
  c.assign({kP0});
  ASSERT_EQ(*c.position(kP0), 0);
  std::vector<int64_t> seen;
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (seen.size() < 15 && std::chrono::steady_clock::now() < give_up) {
    auto records = c.poll(100ms);
    ASSERT_TRUE(records) << records.error().to_string();
    ASSERT_LE(records->size(), 4u);
    for (const auto& r : *records) {
      seen.push_back(r.offset);
      EXPECT_EQ(*r.value, "v" + std::to_string(r.offset));
    }
    if (!records->empty()) {
      EXPECT_EQ(*c.position(kP0), records->back().offset + 1);
    }
  }
  EXPECT_EQ(seen, range(0, 15));
  EXPECT_EQ(*c.position(kP0), 15);
}

TEST_F(ConsumerTest, APartitionWithoutPositionStartsAtTheLogEndWithLatest) {
  log_.append(kP0, 5);
  Consumer c = make_consumer(OffsetReset::latest);
  c.assign({kP0});
  EXPECT_EQ(*c.position(kP0), 5);
  log_.append(kP0, 3);
  EXPECT_EQ(offsets_of(poll_records(c, 3), kP0), range(5, 8));
}

TEST_F(ConsumerTest, SeekDropsWhatWasFetchedAndRestartsThere) {
  for (int i = 0; i < 4; ++i) log_.append(kP0, 5);
  Consumer c = make_consumer(OffsetReset::earliest, /*max_poll_records=*/3);
  c.assign({kP0});
  auto first = poll_records(c, 3);
  ASSERT_EQ(offsets_of(first, kP0), range(0, 3));
  // Records 3..19 are buffered: they are dropped.
  ASSERT_TRUE(c.seek(kP0, 12));
  EXPECT_EQ(*c.position(kP0), 12);
  auto after = poll_records(c, 8);
  EXPECT_EQ(offsets_of(after, kP0), range(12, 20));
  // Back to an earlier offset, too.
  ASSERT_TRUE(c.seek(kP0, 1));
  EXPECT_EQ(offsets_of(poll_records(c, 3), kP0), range(1, 4));
}

TEST_F(ConsumerTest, AFetchInFlightDuringASeekIsDropped) {
  for (int i = 0; i < 4; ++i) log_.append(kP0, 5);
  Consumer c = make_consumer(OffsetReset::earliest, /*max_poll_records=*/5, /*max_partition_fetch_bytes=*/1);
  c.assign({kP0});
  ASSERT_EQ(offsets_of(poll_records(c, 5), kP0), range(0, 5));
  // The first batch is drained, so the fetch of the second (5..9) is on its way.
  ASSERT_TRUE(c.seek(kP0, 15));
  EXPECT_EQ(offsets_of(poll_records(c, 5), kP0), range(15, 20));
  EXPECT_EQ(*c.position(kP0), 20);
}

TEST_F(ConsumerTest, SeekOfAPartitionNotAssignedOrToANegativeOffsetIsRefused) {
  Consumer c = make_consumer();
  c.assign({kP0});
  auto s = c.seek(kP1, 0);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  EXPECT_FALSE(c.seek(kP0, -1));
}

TEST_F(ConsumerTest, ARetriableFetchErrorOnOnePartitionDoesNotStallTheOther) {
  log_.append(kP0, 5);
  log_.append(kP1, 5);
  log_.fail_fetches(kP1, wire::STORAGE_ERROR);
  Consumer c = make_consumer();
  c.assign({kP0, kP1});
  auto records = poll_records(c, 5);
  EXPECT_EQ(offsets_of(records, kP0), range(0, 5));
  EXPECT_TRUE(offsets_of(records, kP1).empty());
  // More records on p0 still flow while p1 keeps failing, and p1 recovers.
  log_.append(kP0, 5);
  EXPECT_EQ(offsets_of(poll_records(c, 5), kP0), range(5, 10));
  log_.fail_fetches(kP1, wire::NONE);
  EXPECT_EQ(offsets_of(poll_records(c, 5), kP1), range(0, 5));
}

TEST_F(ConsumerTest, AMissingPartitionIsReportedOnlyOnceNothingElseIsBuffered) {
  log_.append(kP0, 5);
  const TopicPartition missing{"t", 7};
  Consumer c = make_consumer();
  c.assign({kP0, missing});
  ASSERT_TRUE(c.seek(missing, 0));
  // The first fetch returns p0's records and the error for the missing one: records win.
  std::vector<ConsumerRecord> got;
  std::optional<Error> error;
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (!error && std::chrono::steady_clock::now() < give_up) {
    auto records = c.poll(100ms);
    if (!records) {
      error = records.error();
      break;
    }
    for (auto& r : *records) got.push_back(std::move(r));
  }
  EXPECT_EQ(offsets_of(got, kP0), range(0, 5));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, client::ErrorCode::unknown_topic_or_partition);
  EXPECT_EQ(client::error_code(*error), client::ErrorCode::unknown_topic_or_partition);
}

// A partition read from, then gone (its topic deleted): the consumer decides on
// the wire code, so the UNKNOWN_TOPIC_OR_PARTITION reaches the caller although
// it is retriable, while another retriable code (a leader moving) is retried
// in silence.
TEST_F(ConsumerTest, APartitionDeletedWhileReadIsReportedByItsCode) {
  log_.append(kP0, 5);
  Consumer c = make_consumer();
  c.assign({kP0});
  EXPECT_EQ(offsets_of(poll_records(c, 5), kP0), range(0, 5));

  log_.fail_fetches(kP0, wire::NOT_LEADER_OR_FOLLOWER);
  const size_t fetches_before = log_.fetches().size();
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  // Polls until the consumer has fetched (and met the error) twice more.
  while (log_.fetches().size() < fetches_before + 2 && std::chrono::steady_clock::now() < give_up) {
    auto records = c.poll(20ms);
    ASSERT_TRUE(records) << records.error().to_string();
    EXPECT_TRUE(records->empty());
  }
  ASSERT_GE(log_.fetches().size(), fetches_before + 2);

  log_.fail_fetches(kP0, wire::UNKNOWN_TOPIC_OR_PARTITION);
  std::optional<Error> error;
  while (!error && std::chrono::steady_clock::now() < give_up) {
    auto records = c.poll(100ms);
    if (!records) error = records.error();
  }
  ASSERT_TRUE(error);
  EXPECT_EQ(client::error_code(*error), client::ErrorCode::unknown_topic_or_partition) << error->to_string();
  EXPECT_TRUE(client::is_retriable(*error));
}

// A partition failing for a passing reason is fetched again after retry_backoff_ms,
// not at once: without the backoff this fake answers an error fetch every 5 ms (about
// 200 fetches in the second), as a down broker refuses connections in microseconds.
TEST_F(ConsumerTest, AFetchThatFailedForAPassingReasonIsSentAgainAfterTheBackoff) {
  log_.append(kP0, 5);
  auto c = Consumer::create({.bootstrap = broker_.bootstrap(),
                             .auto_offset_reset = OffsetReset::earliest,
                             .fetch_max_wait_ms = 10,
                             .request_timeout_ms = 5000,
                             .retry_backoff_ms = 200});
  ASSERT_TRUE(c) << c.error().to_string();
  c->assign({kP0});
  EXPECT_EQ(offsets_of(poll_records(*c, 5), kP0), range(0, 5));

  log_.fail_fetches(kP0, wire::NOT_LEADER_OR_FOLLOWER);
  const size_t before = log_.fetches().size();
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 1s) {
    auto records = c->poll(50ms);
    ASSERT_TRUE(records) << records.error().to_string();
  }
  const size_t fetched = log_.fetches().size() - before;
  EXPECT_LE(fetched, 7u) << "one fetch per 200 ms backoff, and the one in flight";
  EXPECT_GE(fetched, 2u) << "it keeps trying";

  log_.fail_fetches(kP0, wire::NONE);
  log_.append(kP0, 3);
  EXPECT_EQ(offsets_of(poll_records(*c, 3), kP0), range(5, 8));
}

TEST_F(ConsumerTest, AnOffsetBelowTheLogStartIsResetToTheEarliestOffset) {
  for (int i = 0; i < 4; ++i) log_.append(kP0, 5);
  log_.advance_log_start(kP0, 10);
  Consumer c = make_consumer(OffsetReset::earliest);
  c.assign({kP0});
  ASSERT_TRUE(c.seek(kP0, 2));
  EXPECT_EQ(offsets_of(poll_records(c, 10), kP0), range(10, 20));
  EXPECT_EQ(*c.position(kP0), 20);
}

TEST_F(ConsumerTest, AnOffsetPastTheLogEndIsResetToTheLatestOffset) {
  log_.append(kP0, 5);
  Consumer c = make_consumer(OffsetReset::latest);
  c.assign({kP0});
  ASSERT_TRUE(c.seek(kP0, 50));
  // The reset lands on the log end (5); what is appended after it is read.
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (*c.position(kP0) != 5 && std::chrono::steady_clock::now() < give_up) ASSERT_TRUE(c.poll(20ms));
  ASSERT_EQ(*c.position(kP0), 5);
  log_.append(kP0, 2);
  EXPECT_EQ(offsets_of(poll_records(c, 2), kP0), range(5, 7));
}

TEST_F(ConsumerTest, AnOffsetOutOfRangeWithoutAResetPolicyIsAnError) {
  log_.append(kP0, 5);
  Consumer c = make_consumer(OffsetReset::none);
  c.assign({kP0});
  ASSERT_TRUE(c.seek(kP0, 50));
  auto records = c.poll(kPatience);
  ASSERT_FALSE(records);
  EXPECT_EQ(records.error().code, client::ErrorCode::no_offset);
  EXPECT_EQ(client::error_code(records.error()), client::ErrorCode::no_offset);
  EXPECT_EQ(client::error_reason(records.error()), client::reason::kNoOffset);
  // The position stays where the caller put it, for the caller to decide.
  EXPECT_EQ(*c.position(kP0), 50);
}

TEST_F(ConsumerTest, APausedPartitionIsNotFetchedUntilResumed) {
  log_.append(kP0, 5);
  log_.append(kP1, 5);
  Consumer c = make_consumer();
  c.assign({kP0, kP1});
  ASSERT_TRUE(c.pause({kP1}));
  EXPECT_EQ(c.paused(), std::vector<TopicPartition>{kP1});
  EXPECT_EQ(*c.position(kP1), 0);  // resolved now, so a fetch could name it
  const size_t before = log_.fetches().size();
  auto records = poll_records(c, 5);
  EXPECT_EQ(offsets_of(records, kP0), range(0, 5));
  // More fetches of p0 go out while p1 stays paused; none names p1.
  log_.append(kP0, 5);
  records = poll_records(c, 5);
  EXPECT_EQ(offsets_of(records, kP0), range(5, 10));
  EXPECT_TRUE(offsets_of(records, kP1).empty());
  EXPECT_FALSE(fetched_since(before, kP1));
  EXPECT_EQ(*c.position(kP1), 0);

  ASSERT_TRUE(c.resume({kP1}));
  EXPECT_TRUE(c.paused().empty());
  EXPECT_EQ(offsets_of(poll_records(c, 5), kP1), range(0, 5));
}

TEST_F(ConsumerTest, RecordsFetchedBeforeAPauseAreReturnedAfterTheResume) {
  for (int i = 0; i < 2; ++i) log_.append(kP0, 5);
  Consumer c = make_consumer(OffsetReset::earliest, /*max_poll_records=*/2);
  c.assign({kP0});
  ASSERT_EQ(offsets_of(poll_records(c, 2), kP0), range(0, 2));
  ASSERT_TRUE(c.pause({kP0}));
  auto paused = c.poll(20ms);  // every partition paused: waits out the timeout
  ASSERT_TRUE(paused);
  EXPECT_TRUE(paused->empty());
  EXPECT_EQ(*c.position(kP0), 2);
  ASSERT_TRUE(c.resume({kP0}));
  EXPECT_EQ(offsets_of(poll_records(c, 8), kP0), range(2, 10));
}

TEST_F(ConsumerTest, PauseOfAPartitionNotAssignedChangesNothing) {
  Consumer c = make_consumer();
  c.assign({kP0});
  auto s = c.pause({kP0, kP1});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  EXPECT_TRUE(c.paused().empty());
  EXPECT_FALSE(c.resume({kP1}));
}

TEST_F(ConsumerTest, APausedPartitionStaysPausedWhenReassignedAndIsForgottenWhenDropped) {
  Consumer c = make_consumer();
  c.assign({kP0, kP1});
  ASSERT_TRUE(c.pause({kP0, kP1}));
  c.assign({kP0});
  EXPECT_EQ(c.paused(), std::vector<TopicPartition>{kP0});
  c.assign({kP0, kP1});
  EXPECT_EQ(c.paused(), std::vector<TopicPartition>{kP0});
}

TEST(ConsumerClock, PollReturnsNothingWhenItsTimeoutPassesByItsClock) {
  FakeFetchLog log;
  log.add_partition(kP0);
  std::promise<void> fetch_received;
  bool first_fetch = true;
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() != wire::FETCH) return log.handle(r);
    if (first_fetch) fetch_received.set_value();
    first_fetch = false;
    return FakeBroker::Reply::silence();  // a long poll that never ends
  });
  testing::ManualSteadyClock clock;
  // The fetch's own timeout (request.timeout.ms) lies beyond the poll's, on the same clock.
  auto c = Consumer::create(
      {.bootstrap = broker.bootstrap(), .auto_offset_reset = OffsetReset::earliest, .request_timeout_ms = 3'600'000},
      clock);
  ASSERT_TRUE(c) << c.error().to_string();
  c->assign({kP0});
  std::promise<Result<std::vector<ConsumerRecord>>> polled;
  std::thread poller([&] { polled.set_value(c->poll(std::chrono::minutes(10))); });
  fetch_received.get_future().wait();  // poll() took its deadline and waits on the fetch
  clock.advance(std::chrono::minutes(10));
  // Ten virtual minutes: a poll() that waited on the real clock would hang here.
  auto records = polled.get_future().get();
  poller.join();
  ASSERT_TRUE(records) << records.error().to_string();
  EXPECT_TRUE(records->empty());
}

// A fetch times out by the consumer's clock, and is sent again after retry_backoff_ms
// by that clock too; poll() does not fail for it (as Kafka's poll() does not).
TEST(ConsumerClock, AFetchTimesOutAndIsSentAgainByTheConsumersClock) {
  FakeFetchLog log;
  log.add_partition(kP0);
  std::promise<void> first_fetch, second_fetch;
  std::atomic<int> fetches{0};
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() != wire::FETCH) return log.handle(r);
    const int n = ++fetches;
    if (n == 1) first_fetch.set_value();
    if (n == 2) second_fetch.set_value();
    return FakeBroker::Reply::silence();
  });
  testing::ManualSteadyClock clock;
  auto c = Consumer::create({.bootstrap = broker.bootstrap(),
                             .auto_offset_reset = OffsetReset::earliest,
                             .fetch_max_wait_ms = 500,
                             .request_timeout_ms = 3'600'000,
                             .retry_backoff_ms = 100},
                            clock);
  ASSERT_TRUE(c) << c.error().to_string();
  c->assign({kP0});
  std::promise<Result<std::vector<ConsumerRecord>>> polled;
  std::thread poller([&] { polled.set_value(c->poll(std::chrono::hours(2))); });
  first_fetch.get_future().wait();
  // Past request.timeout.ms + fetch.max.wait.ms, virtually: the connection gives up on the
  // fetch now; one timing it on the real clock would hold it for an hour.
  clock.advance(std::chrono::milliseconds(3'600'500));
  // The retry waits 100 virtual ms from whenever the consumer saw the timeout: move the
  // clock on in steps until it has been sent.
  auto resent = second_fetch.get_future();
  int64_t advanced_ms = 0;
  while (resent.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready && advanced_ms < 10'000) {
    clock.advance(std::chrono::milliseconds(10));
    advanced_ms += 10;
  }
  ASSERT_EQ(resent.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_GE(advanced_ms, 100) << "sent again only after the backoff";
  clock.advance(std::chrono::hours(2));
  auto records = polled.get_future().get();
  poller.join();
  ASSERT_TRUE(records) << records.error().to_string();
  EXPECT_TRUE(records->empty());
}

}  // namespace
}  // namespace sluice::consumer
