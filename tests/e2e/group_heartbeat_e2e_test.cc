// ConsumerGroupHeartbeat over the real sluiced with a raw client: members join and
// share a topic's partitions with revocation before reassignment, unknown members and
// stale epochs get their errors, commits are checked against the members' epochs, and
// a member that leaves hands its partitions over at once.
#include <gtest/gtest.h>

#include <set>

#include "../broker/raw_client.h"
#include "broker_process.h"
#include "e2e_helpers.h"

namespace sluice {
namespace {

using testing::BrokerProcess;
using testing::RawClient;
using Heartbeat = wire::ConsumerGroupHeartbeatRequest;
using Owned = std::map<std::string, std::vector<int32_t>>;

Owned assignment_of(const wire::ConsumerGroupHeartbeatResponse& resp) {
  Owned out;
  for (const auto& t : resp.assignment().topics()) out[t.topic()].assign(t.partitions().begin(), t.partitions().end());
  return out;
}

size_t count(const Owned& owned) {
  size_t n = 0;
  for (const auto& [topic, partitions] : owned) n += partitions.size();
  return n;
}

class GroupHeartbeatE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    RawClient c(broker_.address());
    wire::CreateTopicsRequest req;
    auto* t = req.add_topics();
    t->set_name("events");
    t->set_partitions(4);
    auto resp = c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
    ASSERT_TRUE(resp);
    ASSERT_EQ(resp->results(0).error().code(), wire::NONE);
    client_.emplace(broker_.address());
  }
  void TearDown() override {
    broker_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  wire::ConsumerGroupHeartbeatResponse heartbeat(const std::string& member, int32_t epoch,
                                                 const std::optional<Owned>& owned, bool subscribe = false) {
    Heartbeat req;
    req.set_group_id("g");
    req.set_member_id(member);
    req.set_member_epoch(epoch);
    req.set_rebalance_timeout_ms(-1);
    if (subscribe) req.mutable_subscribed_topics()->add_names("events");
    if (owned) {
      auto* out = req.mutable_owned();
      for (const auto& [topic, partitions] : *owned) {
        auto* tp = out->add_topics();
        tp->set_topic(topic);
        for (int32_t p : partitions) tp->add_partitions(p);
      }
    }
    auto resp = client_->call<wire::ConsumerGroupHeartbeatResponse>(wire::CONSUMER_GROUP_HEARTBEAT, req);
    EXPECT_TRUE(resp);
    return resp.value_or(wire::ConsumerGroupHeartbeatResponse{});
  }

  wire::ErrorCode commit(const std::string& member, int32_t epoch) {
    wire::OffsetCommitRequest req;
    req.set_group_id("g");
    req.set_member_id(member);
    req.set_member_epoch(epoch);
    auto* p = req.add_partitions();
    p->set_topic("events");
    p->set_partition(0);
    p->set_offset(0);
    auto resp = client_->call<wire::OffsetCommitResponse>(wire::OFFSET_COMMIT, req);
    return resp ? resp->results(0).error().code() : wire::UNKNOWN_SERVER_ERROR;
  }

  std::string dir_ = temp_dir("sluice-group-e2e");
  BrokerProcess broker_{SLUICED_PATH,
                        dir_,
                        {"--group-consumer-session-timeout-ms", "3000", "--group-min-session-timeout-ms", "3000",
                         "--group-consumer-heartbeat-interval-ms", "100"}};
  std::optional<RawClient> client_;
};

TEST_F(GroupHeartbeatE2e, TwoMembersShareThePartitionsAfterTheFirstRevokesAndALeaverHandsThemOver) {
  auto a = heartbeat("", 0, Owned{}, true);
  ASSERT_EQ(a.error().code(), wire::NONE) << a.error().message();
  ASSERT_FALSE(a.member_id().empty());
  EXPECT_GT(a.heartbeat_interval_ms(), 0);
  Owned a_owned = assignment_of(a);
  ASSERT_EQ(count(a_owned), 4u);

  auto b = heartbeat("", 0, Owned{}, true);
  ASSERT_EQ(b.error().code(), wire::NONE) << b.error().message();
  ASSERT_NE(b.member_id(), a.member_id());
  // Nobody gets a partition its previous owner has not reported revoked.
  EXPECT_EQ(count(assignment_of(b)), 0u);

  auto a2 = heartbeat(a.member_id(), a.member_epoch(), a_owned);
  ASSERT_EQ(a2.error().code(), wire::NONE) << a2.error().message();
  a_owned = assignment_of(a2);
  ASSERT_EQ(count(a_owned), 2u);
  auto a3 = heartbeat(a.member_id(), a2.member_epoch(), a_owned);
  ASSERT_EQ(a3.error().code(), wire::NONE);

  auto b2 = heartbeat(b.member_id(), b.member_epoch(), Owned{});
  ASSERT_EQ(b2.error().code(), wire::NONE) << b2.error().message();
  Owned b_owned = assignment_of(b2);
  ASSERT_EQ(count(b_owned), 2u);
  std::set<int32_t> all(a_owned["events"].begin(), a_owned["events"].end());
  all.insert(b_owned["events"].begin(), b_owned["events"].end());
  EXPECT_EQ(all, (std::set<int32_t>{0, 1, 2, 3}));

  // Commits: the member at its epoch; an older epoch is stale; a stranger unknown.
  EXPECT_EQ(commit(b.member_id(), b2.member_epoch()), wire::NONE);
  EXPECT_EQ(commit(b.member_id(), b2.member_epoch() - 1), wire::STALE_MEMBER_EPOCH);
  EXPECT_EQ(commit("stranger", 1), wire::UNKNOWN_MEMBER_ID);

  auto left = heartbeat(a.member_id(), -1, std::nullopt);
  ASSERT_EQ(left.error().code(), wire::NONE) << left.error().message();
  EXPECT_EQ(left.member_epoch(), -1);
  auto b3 = heartbeat(b.member_id(), b2.member_epoch(), b_owned);
  ASSERT_EQ(b3.error().code(), wire::NONE) << b3.error().message();
  EXPECT_EQ(count(assignment_of(b3)), 4u);
}

TEST_F(GroupHeartbeatE2e, AnUnknownMemberAndAStaleEpochGetTheirErrors) {
  auto unknown = heartbeat("nobody", 3, Owned{});
  EXPECT_EQ(unknown.error().code(), wire::UNKNOWN_MEMBER_ID);
  EXPECT_NE(unknown.error().message().find("nobody"), std::string::npos) << unknown.error().message();

  auto a = heartbeat("", 0, Owned{}, true);
  ASSERT_EQ(a.error().code(), wire::NONE);
  auto stale = heartbeat(a.member_id(), a.member_epoch() + 5, Owned{});
  EXPECT_EQ(stale.error().code(), wire::FENCED_MEMBER_EPOCH) << stale.error().message();
  EXPECT_FALSE(stale.error().message().empty());

  auto no_subscription = heartbeat("", 0, Owned{});
  EXPECT_EQ(no_subscription.error().code(), wire::INVALID_REQUEST) << no_subscription.error().message();
}

TEST_F(GroupHeartbeatE2e, APatternThatIsNotARegularExpressionIsRefusedAndTheGroupKeepsServing) {
  Heartbeat req;
  req.set_group_id("g");
  req.set_member_epoch(0);
  req.set_rebalance_timeout_ms(-1);
  req.set_subscribed_topic_regex("events-([");
  auto refused = client_->call<wire::ConsumerGroupHeartbeatResponse>(wire::CONSUMER_GROUP_HEARTBEAT, req);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error().code(), wire::INVALID_REGULAR_EXPRESSION) << refused->error().message();
  EXPECT_NE(refused->error().message().find("events-(["), std::string::npos) << refused->error().message();

  auto a = heartbeat("", 0, Owned{}, true);
  ASSERT_EQ(a.error().code(), wire::NONE) << a.error().message();
  EXPECT_EQ(count(assignment_of(a)), 4u) << "the refused join left nothing behind";
}

TEST_F(GroupHeartbeatE2e, AMemberSilentForTheSessionTimeoutLosesItsPartitionsToTheOther) {
  // a's session starts when the broker takes its join, before the answer (which waits
  // for the group's snapshot to be durable): time it from before the request.
  const auto joined = std::chrono::steady_clock::now();
  auto a = heartbeat("", 0, Owned{}, true);
  ASSERT_EQ(count(assignment_of(a)), 4u);
  auto b = heartbeat("", 0, Owned{}, true);
  ASSERT_EQ(b.error().code(), wire::NONE);
  EXPECT_EQ(b.heartbeat_interval_ms(), 100);
  // a never heartbeats again and never revokes: only its session's end frees the partitions.
  int32_t epoch = b.member_epoch();
  size_t got = 0;
  while (got < 4 && std::chrono::steady_clock::now() - joined < std::chrono::seconds(10)) {
    auto next = heartbeat(b.member_id(), epoch, std::nullopt);
    ASSERT_EQ(next.error().code(), wire::NONE) << next.error().message();
    epoch = next.member_epoch();
    if (next.has_assignment()) got = count(assignment_of(next));
  }
  EXPECT_EQ(got, 4u);
  EXPECT_GE(std::chrono::steady_clock::now() - joined, std::chrono::milliseconds(2500));
  EXPECT_EQ(heartbeat(a.member_id(), a.member_epoch(), Owned{}).error().code(), wire::UNKNOWN_MEMBER_ID);
}

TEST_F(GroupHeartbeatE2e, TheTimerEndsASessionWithNoOtherHeartbeat) {
  const auto joined = std::chrono::steady_clock::now();  // before the broker takes the join
  auto a = heartbeat("", 0, Owned{}, true);
  ASSERT_EQ(a.error().code(), wire::NONE);
  // Commits do not run expiry: only the coordinator's timer can remove a.
  wire::ErrorCode code = wire::NONE;
  while (code == wire::NONE && std::chrono::steady_clock::now() - joined < std::chrono::seconds(10)) {
    code = commit(a.member_id(), a.member_epoch());
  }
  EXPECT_EQ(code, wire::UNKNOWN_MEMBER_ID);
  EXPECT_GE(std::chrono::steady_clock::now() - joined, std::chrono::milliseconds(2500));
}

TEST_F(GroupHeartbeatE2e, ACommitOutsideAnyGroupStillWorks) { EXPECT_EQ(commit("", -1), wire::NONE); }

}  // namespace
}  // namespace sluice
