// Committed offsets end to end: the real sluiced over TCP with the SDK. Commits
// come back, a consumer with a group resumes where it committed after a restart,
// acknowledged commits survive kill -9, and refused commits get clear errors
// while the rest of the request commits and the broker keeps serving.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/consumer/consumer.h"

#include "../broker/raw_client.h"
#include "broker_process.h"
#include "e2e_helpers.h"

namespace sluice {
namespace {

using client::OffsetAndMetadata;
using client::TopicPartition;
using testing::BrokerProcess;
using testing::RawClient;

class OffsetsE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    RawClient c(broker_.address());
    create_topic(c, "orders", "fsync");
    for (int n = 0; n < 3; ++n) ASSERT_TRUE(produce(c, "orders", batch_for(n)));  // offsets 0-11
  }
  void TearDown() override {
    broker_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  consumer::Consumer consumer(const std::string& group, int32_t max_poll_records = 500) {
    return consumer::Consumer({.bootstrap = broker_.address(),
                               .group_id = group,
                               .auto_offset_reset = consumer::OffsetReset::earliest,
                               .max_poll_records = max_poll_records});
  }

  std::string dir_ = temp_dir("sluice-offsets-e2e");
  BrokerProcess broker_{SLUICED_PATH, dir_};
};

const TopicPartition kOrders0{"orders", 0};

TEST_F(OffsetsE2e, CommittedOffsetsAreFetchedBackByTheConsumerAndTheAdmin) {
  auto c = consumer("g1");
  c.assign({kOrders0});
  auto before = c.committed({kOrders0});
  ASSERT_TRUE(before) << before.error().to_string();
  EXPECT_EQ(before->at(kOrders0).offset, -1);
  ASSERT_TRUE(c.commit_sync({{kOrders0, OffsetAndMetadata{7, "checkpoint"}}}));
  auto after = c.committed({kOrders0});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->at(kOrders0), (OffsetAndMetadata{7, "checkpoint"}));

  client::Admin admin({.bootstrap = broker_.address()});
  auto listed = admin.list_consumer_group_offsets("g1");
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(kOrders0).offset, 7);
  EXPECT_TRUE(admin.list_consumer_group_offsets("nobody")->empty());
}

TEST_F(OffsetsE2e, AConsumerWithAGroupResumesAtTheCommittedOffsetAfterARestart) {
  {
    auto c = consumer("resume", 5);
    c.assign({kOrders0});
    auto records = c.poll(std::chrono::seconds(10));
    ASSERT_TRUE(records) << records.error().to_string();
    ASSERT_EQ(records->size(), 5u);
    EXPECT_EQ(records->front().offset, 0);
    ASSERT_TRUE(c.commit_sync());  // the position after what poll() returned
  }
  ASSERT_EQ(broker_.stop(), 0);
  ASSERT_TRUE(broker_.start(broker_.address()));
  auto c = consumer("resume");
  c.assign({kOrders0});
  auto records = c.poll(std::chrono::seconds(10));
  ASSERT_TRUE(records) << records.error().to_string();
  ASSERT_FALSE(records->empty());
  EXPECT_EQ(records->front().offset, 5);
  auto other = consumer("another-group");
  other.assign({kOrders0});
  EXPECT_EQ(other.position(kOrders0).value(), 0) << "a group with no commit starts per auto_offset_reset";
}

TEST_F(OffsetsE2e, EveryAcknowledgedCommitSurvivesKillDashNine) {
  constexpr int kGroups = 5;
  std::array<std::atomic<int64_t>, kGroups> acked{};
  for (auto& a : acked) a = -1;
  std::atomic<int> count{0};
  std::thread committer([&] {
    auto net = client::NetworkClient::create({broker_.address()});
    if (!net) return;
    for (int64_t n = 0;; ++n) {
      auto g = static_cast<size_t>(n % kGroups);
      auto results =
          client::commit_offsets(**net, "g" + std::to_string(g), {{kOrders0, {n, ""}}}, std::chrono::seconds(5));
      if (!results || !results->at(kOrders0)) return;  // the broker died under us
      acked[g] = n;
      ++count;
    }
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (count < 200 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(broker_.stop(SIGKILL), -SIGKILL);
  committer.join();
  ASSERT_GE(count.load(), 200);

  ASSERT_TRUE(broker_.start(broker_.address()));
  client::Admin admin({.bootstrap = broker_.address()});
  for (size_t g = 0; g < kGroups; ++g) {
    auto listed = admin.list_consumer_group_offsets("g" + std::to_string(g));
    ASSERT_TRUE(listed) << listed.error().to_string();
    ASSERT_EQ(listed->count(kOrders0), 1u) << g;
    EXPECT_GE(listed->at(kOrders0).offset, acked[g].load()) << "group g" << g;
  }
}

wire::OffsetCommitResponse raw_commit(
    RawClient& c, const std::string& group, const std::string& member, int32_t epoch,
    const std::vector<std::tuple<std::string, int32_t, int64_t, std::string>>& parts) {
  wire::OffsetCommitRequest req;
  req.set_group_id(group);
  req.set_member_id(member);
  req.set_member_epoch(epoch);
  for (const auto& [topic, partition, offset, metadata] : parts) {
    auto* p = req.add_partitions();
    p->set_topic(topic);
    p->set_partition(partition);
    p->set_offset(offset);
    p->set_metadata(metadata);
  }
  auto resp = c.call<wire::OffsetCommitResponse>(wire::OFFSET_COMMIT, req);
  EXPECT_TRUE(resp);
  return resp.value_or(wire::OffsetCommitResponse{});
}

TEST_F(OffsetsE2e, RefusedPartitionsGetClearErrorsAndTheOthersCommit) {
  RawClient c(broker_.address());
  auto resp = raw_commit(c, "mixed", "", -1,
                         {{"orders", 0, 3, ""},
                          {"nope", 0, 1, ""},
                          {"orders", 9, 1, ""},
                          {"orders", 0, -5, ""},
                          {"orders", 0, 4, std::string(4097, 'm')}});
  ASSERT_EQ(resp.results_size(), 5);
  EXPECT_EQ(resp.results(0).error().code(), wire::NONE);
  EXPECT_EQ(resp.results(1).error().code(), wire::UNKNOWN_TOPIC_OR_PARTITION);
  EXPECT_EQ(resp.results(2).error().code(), wire::UNKNOWN_TOPIC_OR_PARTITION);
  EXPECT_NE(resp.results(2).error().message().find("orders-9"), std::string::npos);
  EXPECT_EQ(resp.results(3).error().code(), wire::INVALID_REQUEST);
  EXPECT_EQ(resp.results(4).error().code(), wire::OFFSET_METADATA_TOO_LARGE);

  for (const std::string& bad : {std::string(), std::string(256, 'g')}) {
    auto refused = raw_commit(c, bad, "", -1, {{"orders", 0, 1, ""}});
    EXPECT_EQ(refused.results(0).error().code(), wire::INVALID_GROUP_ID);
  }
  auto member = raw_commit(c, "mixed", "member-1", 3, {{"orders", 0, 9, ""}});
  EXPECT_EQ(member.results(0).error().code(), wire::UNKNOWN_MEMBER_ID);
  EXPECT_NE(member.results(0).error().message().find("member-1"), std::string::npos);

  // The SDK reports the first refusal with its code; the valid partition still commits.
  auto sdk = consumer("mixed");
  auto status = sdk.commit_sync({{kOrders0, {6, ""}}, {TopicPartition{"nope", 0}, {1, ""}}});
  ASSERT_FALSE(status);
  EXPECT_EQ(client::error_code(status.error()), client::ErrorCode::unknown_topic_or_partition);
  EXPECT_EQ(sdk.committed({kOrders0}).value().at(kOrders0).offset, 6);
  EXPECT_EQ(fetch_once(c, "orders", 0).partition.error().code(), wire::NONE) << "the broker keeps serving";
}

// The broker answers one connection's requests in order: a commit sent on the fetch's
// connection would wait out the parked long poll (20 s here). The consumer commits on
// a connection of its own.
TEST_F(OffsetsE2e, ACommitDoesNotWaitBehindALongPollFetch) {
  consumer::Consumer c({.bootstrap = broker_.address(),
                        .group_id = "g-long-poll",
                        .auto_offset_reset = consumer::OffsetReset::latest,
                        .fetch_max_wait_ms = 20'000});
  c.assign({kOrders0});
  auto first = c.poll(std::chrono::milliseconds(200));  // at the log end: the fetch parks on the broker
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_TRUE(first->empty());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.commit_sync({{kOrders0, OffsetAndMetadata{5, ""}}}));
  // A failure bound at half the parked fetch's wait, not a latency target.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  auto committed = c.committed({kOrders0});
  ASSERT_TRUE(committed) << committed.error().to_string();
  EXPECT_EQ(committed->at(kOrders0).offset, 5);
}

}  // namespace
}  // namespace sluice
