// The group state machine on exact cases: joining and converging, a member joining or leaving
// without disturbing kept partitions, session and rebalance timeouts, static membership,
// epoch fencing, commit validation and pattern subscriptions.
#include "group/consumer_group.h"

#include <gtest/gtest.h>

#include <deque>

#include "sluice/broker/group_errc.h"

#include "group_driver.h"

namespace sluice::broker::group {
namespace {

using testing::at_ms;
using testing::beat;
using testing::Client;
using testing::partition_count;

const TopicPartitions kTopics{{"t", 12}};

class ConsumerGroupTest : public ::testing::Test {
 protected:
  ConsumerGroup group_{"g", GroupConfig{}, testing::counting_ids()};
  int64_t now_ms_ = 0;
  std::deque<Client> clients_;  // references stay valid as clients join

  Client& add(std::optional<std::string> instance_id = std::nullopt) {
    clients_.push_back(Client{});
    clients_.back().topics = {"t"};
    clients_.back().instance_id = std::move(instance_id);
    return clients_.back();
  }

  std::vector<const Client*> all() const {
    std::vector<const Client*> out;
    for (const Client& c : clients_) out.push_back(&c);
    return out;
  }

  // Every client heartbeats once per round, 1 s apart, until the group is stable; checks
  // exclusivity after every heartbeat and calls `each` after every round.
  void converge(const std::function<void()>& each = [] {}) {
    for (int round = 0; round < 10 && (round == 0 || group_.state() != GroupState::stable); ++round) {
      now_ms_ += 1000;
      for (Client& client : clients_) {
        ASSERT_TRUE(beat(group_, client, kTopics, at_ms(now_ms_))) << client.member_id;
        testing::expect_exclusive(group_);
        testing::expect_exclusive(all());
      }
      each();
    }
    ASSERT_EQ(group_.state(), GroupState::stable);
  }
};

TEST_F(ConsumerGroupTest, ThreeMembersOnTwelvePartitionsConvergeToFourEach) {
  for (int i = 0; i < 3; ++i) add();
  converge();
  TopicAssignment all_owned;
  for (const Client& client : clients_) {
    EXPECT_EQ(partition_count(client.owned), 4u) << client.member_id;
    EXPECT_EQ(client.epoch, group_.group_epoch());
    all_owned = set_union(all_owned, client.owned);
  }
  EXPECT_EQ(partition_count(all_owned), 12u);
  EXPECT_EQ(group_.group_epoch(), 3);
}

TEST_F(ConsumerGroupTest, FourthMemberJoinsAndKeptPartitionsNeverLeaveTheirOwners) {
  for (int i = 0; i < 3; ++i) add();
  converge();
  std::vector<TopicAssignment> before;
  for (const Client& client : clients_) before.push_back(client.owned);
  std::vector<std::vector<TopicAssignment>> history(3);
  add();
  converge([&] {
    for (size_t i = 0; i < 3; ++i) history[i].push_back(clients_[i].owned);
  });
  EXPECT_EQ(partition_count(clients_[3].owned), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const TopicAssignment kept = intersection(before[i], clients_[i].owned);
    EXPECT_EQ(kept, clients_[i].owned) << "a member gained a partition while losing one";
    EXPECT_EQ(partition_count(kept), 3u);
    for (const TopicAssignment& step : history[i]) EXPECT_EQ(intersection(kept, step), kept) << i;
  }
}

TEST_F(ConsumerGroupTest, LeavingMemberIsRemovedAndItsPartitionsMove) {
  for (int i = 0; i < 3; ++i) add();
  converge();
  Client leaving = clients_.back();
  clients_.pop_back();
  leaving.epoch = kLeaveEpoch;
  const int32_t epoch = group_.group_epoch();
  const auto response = beat(group_, leaving, kTopics, at_ms(now_ms_));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->member_epoch, kLeaveEpoch);
  EXPECT_EQ(group_.group_epoch(), epoch + 1);
  converge();
  for (const Client& client : clients_) EXPECT_EQ(partition_count(client.owned), 6u);
}

TEST_F(ConsumerGroupTest, SilentMemberExpiresAfterTheSessionTimeout) {
  for (int i = 0; i < 3; ++i) add();
  converge();
  const std::string silent = clients_.back().member_id;
  clients_.pop_back();
  const int64_t last_beat = now_ms_;
  for (int i = 0; i < 9; ++i) {
    now_ms_ += 5000;
    for (Client& client : clients_) ASSERT_TRUE(beat(group_, client, kTopics, at_ms(now_ms_)));
    group_.expire(at_ms(now_ms_));
    EXPECT_EQ(group_.members().count(silent) == 1, now_ms_ < last_beat + 45'000) << now_ms_;
  }
  converge();
  for (const Client& client : clients_) EXPECT_EQ(partition_count(client.owned), 6u);
}

TEST_F(ConsumerGroupTest, ExpireReturnsTheEarliestDeadline) {
  EXPECT_EQ(group_.expire(at_ms(0)), std::nullopt);
  Client& a = add();
  ASSERT_TRUE(beat(group_, a, kTopics, at_ms(1000)));
  EXPECT_EQ(group_.expire(at_ms(2000)), at_ms(46'000));
}

TEST_F(ConsumerGroupTest, MemberThatNeverRevokesIsFencedAfterItsRebalanceTimeout) {
  Client& a = add();
  a.rebalance_timeout_ms = 10'000;
  converge();
  ASSERT_EQ(partition_count(a.owned), 12u);
  Client& b = add();
  const std::string stubborn = clients_[0].member_id;
  for (int second = 1; second <= 12; ++second) {
    now_ms_ += 1000;
    // a keeps reporting all twelve partitions: it never revokes.
    ASSERT_TRUE(beat(group_, clients_[0], kTopics, at_ms(now_ms_), testing::Apply::later));
    ASSERT_TRUE(beat(group_, b, kTopics, at_ms(now_ms_)));
    EXPECT_EQ(partition_count(b.owned), 0u) << "b got a partition a still holds";
    group_.expire(at_ms(now_ms_));
    if (!group_.members().count(stubborn)) break;
  }
  EXPECT_EQ(group_.members().count(stubborn), 0u);
  clients_.erase(clients_.begin());
  converge();
  EXPECT_EQ(partition_count(clients_[0].owned), 12u);
}

TEST_F(ConsumerGroupTest, StaticMemberRestartWithinTheSessionTimeoutMovesNothing) {
  for (const char* instance : {"a", "b", "c"}) add(instance);
  converge();
  const TargetAssignment target = group_.target();
  const int32_t epoch = group_.group_epoch();
  Client& b = clients_[1];
  const std::string b_id = b.member_id;
  const TopicAssignment b_owned = b.owned;
  const int32_t b_epoch = b.epoch;
  b.epoch = kStaticLeaveEpoch;
  ASSERT_TRUE(beat(group_, b, kTopics, at_ms(now_ms_)));
  EXPECT_EQ(group_.group_epoch(), epoch);

  Client restarted;
  restarted.instance_id = "b";
  restarted.topics = {"t"};
  now_ms_ += 20'000;
  const auto response = beat(group_, restarted, kTopics, at_ms(now_ms_));
  ASSERT_TRUE(response);
  EXPECT_NE(restarted.member_id, b_id);
  EXPECT_EQ(restarted.owned, b_owned);
  EXPECT_EQ(restarted.epoch, b_epoch);
  EXPECT_EQ(group_.group_epoch(), epoch);
  clients_[1] = restarted;
  converge();
  EXPECT_EQ(group_.group_epoch(), epoch);
  EXPECT_EQ(group_.target().at(restarted.member_id), target.at(b_id));
}

TEST_F(ConsumerGroupTest, StaticMemberThatDoesNotReturnExpires) {
  add("a");
  add("b");
  converge();
  Client& b = clients_[1];
  b.epoch = kStaticLeaveEpoch;
  ASSERT_TRUE(beat(group_, b, kTopics, at_ms(now_ms_)));
  group_.expire(at_ms(now_ms_ + 44'000));
  EXPECT_EQ(group_.members().count(b.member_id), 1u);
  group_.expire(at_ms(now_ms_ + 45'000));
  EXPECT_EQ(group_.members().count(b.member_id), 0u);
}

// A static member whose process died without leaving (kill -9) and came back: the new
// process takes the old member's partitions at once, nothing moves, and the old member id
// is fenced by its instance id, so a live twin cannot take them back.
TEST_F(ConsumerGroupTest, RestartedInstanceTakesOverALiveHolderAndTheOldIsFencedByInstanceId) {
  for (const char* instance : {"a", "b"}) add(instance);
  converge();
  const int32_t epoch = group_.group_epoch();
  Client& old = clients_[0];
  Client restarted;
  restarted.instance_id = "a";
  restarted.topics = {"t"};
  now_ms_ += 1000;
  ASSERT_TRUE(beat(group_, restarted, kTopics, at_ms(now_ms_)));
  EXPECT_NE(restarted.member_id, old.member_id);
  EXPECT_EQ(restarted.owned, old.owned);
  EXPECT_EQ(restarted.epoch, old.epoch);
  EXPECT_EQ(group_.group_epoch(), epoch) << "no rebalance";
  EXPECT_EQ(group_.members().count(old.member_id), 0u);

  const auto fenced = beat(group_, old, kTopics, at_ms(now_ms_));
  ASSERT_FALSE(fenced);
  EXPECT_EQ(fenced.error().code, GroupErrc::fenced_instance_id);
  EXPECT_NE(fenced.error().message.find(restarted.member_id), std::string::npos) << fenced.error().message;
  EXPECT_FALSE(group_.validate_commit(old.member_id, old.epoch)) << "the replaced member's commits are refused";
  EXPECT_EQ(group_.group_epoch(), epoch);
}

TEST_F(ConsumerGroupTest, UnknownMemberAndWrongEpochsAreRefused) {
  Client& a = add();
  converge();
  Client stranger{"nobody", 1};
  auto response = beat(group_, stranger, kTopics, at_ms(now_ms_));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, GroupErrc::unknown_member_id);

  Client ahead = a;
  ahead.epoch = a.epoch + 1;
  response = beat(group_, ahead, kTopics, at_ms(now_ms_));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, GroupErrc::fenced_member_epoch);
}

TEST_F(ConsumerGroupTest, PreviousEpochIsToleratedAndOlderOnesAreFenced) {
  Client& a = add();
  converge();
  Client lagging = a;
  for (int i = 0; i < 2; ++i) {
    add();
    converge();
  }
  ASSERT_GT(group_.members().at(a.member_id).previous_member_epoch, 1);
  const Member& member = group_.members().at(a.member_id);
  lagging.epoch = member.previous_member_epoch;
  lagging.owned = member.assigned;
  const auto response = beat(group_, lagging, kTopics, at_ms(now_ms_));
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_TRUE(response->assignment.has_value()) << "a member that lost a response gets its assignment again";
  lagging.epoch = member.previous_member_epoch - 1;
  EXPECT_EQ(beat(group_, lagging, kTopics, at_ms(now_ms_)).error().code, GroupErrc::fenced_member_epoch);
}

TEST_F(ConsumerGroupTest, CommitValidation) {
  EXPECT_TRUE(group_.validate_commit("", -1)) << "an empty group takes simple commits";
  Client& a = add();
  converge();
  EXPECT_TRUE(group_.validate_commit(a.member_id, a.epoch));
  EXPECT_EQ(group_.validate_commit(a.member_id, a.epoch - 1).error().code, GroupErrc::stale_member_epoch);
  EXPECT_EQ(group_.validate_commit(a.member_id, a.epoch + 1).error().code, GroupErrc::fenced_member_epoch);
  EXPECT_EQ(group_.validate_commit("nobody", 1).error().code, GroupErrc::unknown_member_id);
  EXPECT_EQ(group_.validate_commit("", -1).error().code, GroupErrc::unknown_member_id);
}

TEST_F(ConsumerGroupTest, PatternPicksUpATopicCreatedLater) {
  Client& a = add();
  a.topics.clear();
  a.regex = "orders\\..*";
  TopicPartitions topics{{"orders.eu", 2}, {"payments", 3}};
  ASSERT_TRUE(beat(group_, a, topics, at_ms(0)));
  EXPECT_EQ(a.owned, (TopicAssignment{{"orders.eu", {0, 1}}}));
  const int32_t epoch = group_.group_epoch();
  topics.emplace("orders.us", 1);
  ASSERT_TRUE(beat(group_, a, topics, at_ms(1000)));
  EXPECT_EQ(group_.group_epoch(), epoch + 1);
  EXPECT_EQ(a.owned, (TopicAssignment{{"orders.eu", {0, 1}}, {"orders.us", {0}}}));
  EXPECT_EQ(group_.state(), GroupState::stable);
}

TEST_F(ConsumerGroupTest, BadPatternIsAnInvalidRegularExpression) {
  Client& a = add();
  a.regex = "orders(";
  const auto response = beat(group_, a, kTopics, at_ms(0));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, GroupErrc::invalid_regular_expression);
  EXPECT_NE(response.error().message.find("orders("), std::string::npos);
  EXPECT_TRUE(group_.members().empty()) << "a refused join leaves no member behind";
  EXPECT_EQ(group_.group_epoch(), 0);
}

TEST_F(ConsumerGroupTest, MemberChoosesTheServerAssignor) {
  HeartbeatRequest request;
  request.subscribed_topics = std::vector<std::string>{"t"};
  request.server_assignor = "sticky-ish";
  const auto refused = group_.heartbeat(request, kTopics, at_ms(0));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::unsupported);
  EXPECT_TRUE(group_.members().empty());
  request.server_assignor = "range";
  ASSERT_TRUE(group_.heartbeat(request, kTopics, at_ms(0)));
  EXPECT_EQ(group_.assignor_name(), "range");
}

TEST_F(ConsumerGroupTest, UnchangedAssignmentIsNotResent) {
  Client& a = add();
  converge();
  const auto response = beat(group_, a, kTopics, at_ms(now_ms_ + 1));
  ASSERT_TRUE(response);
  EXPECT_FALSE(response->assignment.has_value());
}

// heartbeat_due() is what answers a member's long-poll fetch early: exactly the members
// whose heartbeat would move something, at each step of a join and a leave.
TEST_F(ConsumerGroupTest, HeartbeatDueNamesTheMembersWhoseHeartbeatWouldMoveTheGroup) {
  Client& a = add();
  Client& b = add();
  converge();
  EXPECT_FALSE(group_.heartbeat_due(a.member_id, a.epoch));
  EXPECT_FALSE(group_.heartbeat_due(b.member_id, b.epoch));
  EXPECT_TRUE(group_.heartbeat_due("nobody", 1));
  EXPECT_TRUE(group_.heartbeat_due(a.member_id, a.epoch - 1)) << "a member whose epoch is behind";

  // c joins: it gets nothing yet (a and b hold everything), a and b are behind the new target.
  uint64_t version = group_.due_version();
  Client& c = add();
  ASSERT_TRUE(beat(group_, c, kTopics, at_ms(now_ms_)));
  EXPECT_GT(group_.due_version(), version);
  EXPECT_TRUE(group_.heartbeat_due(a.member_id, a.epoch));
  EXPECT_TRUE(group_.heartbeat_due(b.member_id, b.epoch));
  EXPECT_FALSE(group_.heartbeat_due(c.member_id, c.epoch)) << "what it waits for is still held";

  // a is told to revoke: not due while it revokes; its report releases partitions c waits for.
  ASSERT_TRUE(beat(group_, a, kTopics, at_ms(now_ms_), testing::Apply::later));
  EXPECT_FALSE(group_.heartbeat_due(a.member_id, a.epoch));
  version = group_.due_version();
  testing::apply(a);
  ASSERT_TRUE(beat(group_, a, kTopics, at_ms(now_ms_)));
  EXPECT_GT(group_.due_version(), version) << "a released partitions";
  EXPECT_TRUE(group_.heartbeat_due(c.member_id, c.epoch));
  ASSERT_TRUE(beat(group_, c, kTopics, at_ms(now_ms_)));
  EXPECT_FALSE(group_.heartbeat_due(c.member_id, c.epoch));
  EXPECT_GT(partition_count(c.owned), 0u);

  // b leaves: the others are due (a new target is to be computed) until one heartbeats.
  converge();
  version = group_.due_version();
  Client leaving = b;
  leaving.epoch = kLeaveEpoch;
  ASSERT_TRUE(beat(group_, leaving, kTopics, at_ms(now_ms_)));
  EXPECT_GT(group_.due_version(), version);
  EXPECT_TRUE(group_.heartbeat_due(a.member_id, a.epoch));
  EXPECT_TRUE(group_.heartbeat_due(c.member_id, c.epoch));
}

// A member's own heartbeat that changes nothing for others leaves due_version alone, so
// parked fetches are not woken by every heartbeat of the group.
TEST_F(ConsumerGroupTest, AHeartbeatThatChangesNothingDoesNotWakeTheGroup) {
  Client& a = add();
  add();
  converge();
  const uint64_t version = group_.due_version();
  ASSERT_TRUE(beat(group_, a, kTopics, at_ms(now_ms_ + 1)));
  EXPECT_EQ(group_.due_version(), version);
}

}  // namespace
}  // namespace sluice::broker::group
