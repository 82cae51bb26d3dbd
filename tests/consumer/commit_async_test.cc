// commit_async() and lag() against the fake broker: callbacks run on the caller's
// thread from poll(), commit_sync() or close(), in the order the commits were made,
// with each commit's outcome; lag follows the high watermark of the last fetch.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "sluice/client/client_errors.h"
#include "sluice/consumer/consumer.h"

#include "fake_broker.h"
#include "fake_fetch_log.h"
#include "fake_group_coordinator.h"

namespace sluice::consumer {
namespace {

using namespace std::chrono_literals;
using client::OffsetAndMetadata;
using testing::FakeBroker;
using testing::FakeFetchLog;
using testing::FakeGroupCoordinator;

const TopicPartition kP0{"t", 0};
const TopicPartition kP1{"t", 1};
constexpr auto kPatience = 10s;  // a failure bound, never the synchronization

struct Outcome {
  std::map<TopicPartition, OffsetAndMetadata> offsets;
  Status status;
  std::thread::id thread;
};

class CommitAsyncTest : public ::testing::Test {
 protected:
  CommitAsyncTest()
      : coordinator_(log_), broker_([this](const FakeBroker::Request& r) { return coordinator_.handle(r); }) {
    log_.add_partition(kP0);
    log_.add_partition(kP1);
  }

  Consumer make_consumer(int32_t max_poll_records = 500) {
    auto c = Consumer::create({.bootstrap = broker_.bootstrap(),
                               .group_id = "g",
                               .auto_offset_reset = OffsetReset::earliest,
                               .fetch_max_wait_ms = 10,
                               .max_poll_records = max_poll_records,
                               .request_timeout_ms = 5000});
    EXPECT_TRUE(c) << c.error().to_string();
    return std::move(*c);
  }

  CommitCallback recorder() {
    return [this](const std::map<TopicPartition, OffsetAndMetadata>& offsets, const Status& status) {
      outcomes_.push_back(Outcome{offsets, status, std::this_thread::get_id()});
    };
  }

  // Polls until `n` callbacks ran (or kPatience passed).
  void poll_until_outcomes(Consumer& c, size_t n) {
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (outcomes_.size() < n && std::chrono::steady_clock::now() < give_up) (void)c.poll(20ms);
    ASSERT_EQ(outcomes_.size(), n);
  }

  // How many records one poll returned (none on an error).
  static size_t polled(Consumer& c) {
    auto records = c.poll(20ms);
    return records ? records->size() : 0;
  }

  static std::map<TopicPartition, OffsetAndMetadata> at(const TopicPartition& tp, int64_t offset) {
    return {{tp, OffsetAndMetadata{offset, ""}}};
  }

  FakeFetchLog log_;
  FakeGroupCoordinator coordinator_;
  FakeBroker broker_;
  std::vector<Outcome> outcomes_;
};

TEST_F(CommitAsyncTest, CallbacksRunFromPollOnTheCallersThreadInCommitOrder) {
  Consumer c = make_consumer();
  c.assign({kP0});
  for (int64_t offset = 1; offset <= 5; ++offset) c.commit_async(at(kP0, offset), recorder());
  EXPECT_TRUE(outcomes_.empty());  // never from inside commit_async()
  poll_until_outcomes(c, 5);
  for (size_t i = 0; i < outcomes_.size(); ++i) {
    EXPECT_TRUE(outcomes_[i].status) << outcomes_[i].status.error().to_string();
    EXPECT_EQ(outcomes_[i].offsets.at(kP0).offset, static_cast<int64_t>(i + 1));
    EXPECT_EQ(outcomes_[i].thread, std::this_thread::get_id());
  }
  std::vector<int64_t> sent;
  for (const auto& commit : coordinator_.commits()) sent.push_back(commit.offsets.at(kP0));
  EXPECT_EQ(sent, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  auto committed = c.committed({kP0});
  ASSERT_TRUE(committed);
  EXPECT_EQ(committed->at(kP0).offset, 5);
}

TEST_F(CommitAsyncTest, ARefusedPartitionReachesTheCallbackWithItsCode) {
  coordinator_.refuse_commits(kP1, wire::UNKNOWN_TOPIC_OR_PARTITION);
  Consumer c = make_consumer();
  c.assign({kP0, kP1});
  c.commit_async(at(kP0, 3), recorder());
  c.commit_async({{kP0, OffsetAndMetadata{4, ""}}, {kP1, OffsetAndMetadata{7, ""}}}, recorder());
  poll_until_outcomes(c, 2);
  EXPECT_TRUE(outcomes_[0].status);
  ASSERT_FALSE(outcomes_[1].status);
  EXPECT_EQ(outcomes_[1].status.error().code, client::ErrorCode::unknown_topic_or_partition);
  EXPECT_NE(outcomes_[1].status.error().message.find("t-1"), std::string::npos) << outcomes_[1].status.error().message;
  EXPECT_EQ(outcomes_[1].offsets.at(kP1).offset, 7);
}

TEST_F(CommitAsyncTest, CommitSyncWaitsForTheQueuedCommitsAndRunsTheirCallbacksFirst) {
  coordinator_.delay_commits(100ms);
  Consumer c = make_consumer();
  c.assign({kP0});
  c.commit_async(at(kP0, 10), recorder());
  ASSERT_TRUE(c.commit_sync(at(kP0, 11)));
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_TRUE(outcomes_[0].status);
  auto commits = coordinator_.commits();
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0].offsets.at(kP0), 10);
  EXPECT_EQ(commits[1].offsets.at(kP0), 11);
}

TEST_F(CommitAsyncTest, CloseWaitsForThePendingCommitAndRunsItsCallback) {
  coordinator_.delay_commits(100ms);
  Consumer c = make_consumer();
  c.assign({kP0});
  c.commit_async(at(kP0, 42), recorder());
  c.close();
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_TRUE(outcomes_[0].status) << outcomes_[0].status.error().to_string();
  ASSERT_EQ(coordinator_.commits().size(), 1u);
}

TEST_F(CommitAsyncTest, WithoutOffsetsItCommitsThePositionsPollReached) {
  log_.append(kP0, 6);
  Consumer c = make_consumer(/*max_poll_records=*/4);
  c.assign({kP0});
  size_t got = 0;
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (got == 0 && std::chrono::steady_clock::now() < give_up) got = polled(c);
  ASSERT_EQ(got, 4u);
  c.commit_async(recorder());
  poll_until_outcomes(c, 1);
  EXPECT_EQ(outcomes_[0].offsets.at(kP0).offset, 4);
}

TEST_F(CommitAsyncTest, LagIsTheHighWatermarkOfTheLastFetchMinusThePosition) {
  log_.append(kP0, 10);
  Consumer c = make_consumer(/*max_poll_records=*/4);
  c.assign({kP0});
  EXPECT_EQ(c.lag(kP0), std::nullopt);  // nothing fetched yet
  EXPECT_EQ(c.lag(kP1), std::nullopt);  // not assigned
  size_t got = 0;
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (got == 0 && std::chrono::steady_clock::now() < give_up) got = polled(c);
  ASSERT_EQ(got, 4u);
  EXPECT_EQ(c.lag(kP0), 6);
  // More records arrive: the lag grows once a fetch has seen them.
  log_.append(kP0, 5);
  while (got < 15 && std::chrono::steady_clock::now() < give_up) got += polled(c);
  ASSERT_EQ(got, 15u);
  EXPECT_EQ(c.lag(kP0), 0);
  ASSERT_TRUE(c.seek(kP0, 3));
  EXPECT_EQ(c.lag(kP0), 12);
}

}  // namespace
}  // namespace sluice::consumer
