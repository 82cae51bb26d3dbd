// ConsumerGroup::snapshot()/restore(): a group rebuilt from its snapshot (also through
// the record codec) answers every member's next heartbeat as the original does, and
// goes on in step with it; persistent_version() moves exactly when the snapshot does;
// each member's own session timeout, within the broker's bounds, drives its session.
#include <gtest/gtest.h>

#include <deque>

#include "sluice/broker/group_errc.h"

#include "group/consumer_group.h"
#include "group/group_record.h"
#include "group_driver.h"

namespace sluice::broker::group {
namespace {

using testing::at_ms;
using testing::beat;
using testing::Client;

const TopicPartitions kTopics{{"t", 4}, {"u", 2}};

std::unique_ptr<ConsumerGroup> through_codec(const ConsumerGroup& group, Clock::time_point now) {
  auto record =
      decode_group_record(ByteSpan(encode_group_key(group.group_id())), ByteSpan(encode_group_value(group.snapshot())));
  EXPECT_TRUE(record && record->snapshot);
  auto restored = ConsumerGroup::restore(*record->snapshot, GroupConfig{}, testing::counting_ids(), kTopics, now);
  EXPECT_TRUE(restored) << restored.error().to_string();
  return std::move(*restored);
}

// Sends the same heartbeat to both groups and checks both answer the same. The one
// allowed difference: a restored group sends each member's assignment once more, since
// it cannot know whether its last response arrived; it is the assignment the original
// last sent.
void expect_same_answer(ConsumerGroup& original, ConsumerGroup& restored, Client& client, Clock::time_point now,
                        bool first_after_restore) {
  Client copy = client;
  auto a = beat(original, client, kTopics, now, testing::Apply::later);
  auto b = beat(restored, copy, kTopics, now, testing::Apply::later);
  ASSERT_EQ(a.has_value(), b.has_value());
  if (!a) {
    EXPECT_EQ(a.error().code, b.error().code);
    return;
  }
  EXPECT_EQ(a->member_id, b->member_id);
  EXPECT_EQ(a->member_epoch, b->member_epoch);
  EXPECT_EQ(a->heartbeat_interval, b->heartbeat_interval);
  if (a->assignment || !first_after_restore) {
    EXPECT_EQ(a->assignment, b->assignment) << client.member_id;
  } else {
    ASSERT_TRUE(b->assignment);
    EXPECT_EQ(*b->assignment, original.members().at(a->member_id).assigned);
  }
  EXPECT_EQ(original.snapshot(), restored.snapshot());
}

class GroupSnapshotTest : public ::testing::Test {
 protected:
  ConsumerGroup group_{"g", GroupConfig{}, testing::counting_ids()};
  std::deque<Client> clients_;
  int64_t now_ms_ = 0;

  Client& add(std::vector<std::string> topics, std::optional<std::string> instance_id = std::nullopt) {
    Client& client = clients_.emplace_back();
    client.topics = std::move(topics);
    client.instance_id = std::move(instance_id);
    return client;
  }

  void round(testing::Apply apply = testing::Apply::now) {
    now_ms_ += 1000;
    for (Client& client : clients_) ASSERT_TRUE(beat(group_, client, kTopics, at_ms(now_ms_), apply));
  }
};

TEST_F(GroupSnapshotTest, ARestoredStableGroupAnswersEveryMemberAsTheOriginal) {
  add({"t"}, "static-a");
  add({"t", "u"});
  for (int i = 0; i < 4; ++i) round();
  ASSERT_EQ(group_.state(), GroupState::stable);
  auto restored = through_codec(group_, at_ms(now_ms_));
  EXPECT_EQ(restored->state(), GroupState::stable);
  EXPECT_EQ(restored->group_epoch(), group_.group_epoch());
  for (int r = 0; r < 3; ++r) {
    now_ms_ += 1000;
    for (Client& client : clients_) expect_same_answer(group_, *restored, client, at_ms(now_ms_), r == 0);
  }
}

TEST_F(GroupSnapshotTest, ARestoreInTheMiddleOfARevocationFinishesItAsTheOriginal) {
  add({"t"});
  add({"t"});
  for (int i = 0; i < 4; ++i) round();
  Client& third = add({"t"});
  // The first two learn they must give up partitions but keep them for now.
  now_ms_ += 1000;
  ASSERT_TRUE(beat(group_, third, kTopics, at_ms(now_ms_)));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(beat(group_, clients_[i], kTopics, at_ms(now_ms_), testing::Apply::later));
  ASSERT_EQ(group_.state(), GroupState::reconciling);
  auto restored = through_codec(group_, at_ms(now_ms_));
  EXPECT_EQ(restored->state(), GroupState::reconciling);
  for (int r = 0; r < 4; ++r) {
    now_ms_ += 1000;
    for (Client& client : clients_) {
      expect_same_answer(group_, *restored, client, at_ms(now_ms_), r == 0);
      testing::apply(client);
    }
  }
  EXPECT_EQ(restored->state(), GroupState::stable);
  testing::expect_exclusive(*restored);
}

TEST_F(GroupSnapshotTest, ARestoredMembersSessionRestartsAtTheRestore) {
  add({"t"});
  round();
  auto restored = ConsumerGroup::restore(group_.snapshot(), GroupConfig{}, testing::counting_ids(), kTopics,
                                         at_ms(now_ms_ + 100'000));
  ASSERT_TRUE(restored);
  (*restored)->expire(at_ms(now_ms_ + 100'000 + 44'999));
  EXPECT_EQ((*restored)->members().size(), 1u);
  (*restored)->expire(at_ms(now_ms_ + 100'000 + 45'000));
  EXPECT_TRUE((*restored)->members().empty());
}

TEST_F(GroupSnapshotTest, ASnapshotWithAPatternThatNoLongerCompilesIsRefused) {
  GroupSnapshot snapshot;
  snapshot.group_id = "g";
  MemberSnapshot member;
  member.member_id = "m";
  member.regex = "(";
  snapshot.members.push_back(member);
  EXPECT_FALSE(ConsumerGroup::restore(snapshot, GroupConfig{}, testing::counting_ids(), kTopics, at_ms(0)));
}

TEST_F(GroupSnapshotTest, OnlyHeartbeatsAndExpiriesThatChangeTheSnapshotMoveTheVersion) {
  Client& a = add({"t"});
  round();
  round();
  ASSERT_EQ(group_.state(), GroupState::stable);
  uint64_t version = group_.persistent_version();
  GroupSnapshot before = group_.snapshot();
  round();  // steady state
  EXPECT_EQ(group_.persistent_version(), version);
  EXPECT_EQ(group_.snapshot(), before);

  Client& b = add({"t"});
  now_ms_ += 1000;
  ASSERT_TRUE(beat(group_, b, kTopics, at_ms(now_ms_)));
  EXPECT_GT(group_.persistent_version(), version);
  version = group_.persistent_version();
  ASSERT_TRUE(beat(group_, a, kTopics, at_ms(now_ms_)));  // a is told to revoke
  EXPECT_GT(group_.persistent_version(), version);

  version = group_.persistent_version();
  group_.expire(at_ms(now_ms_ + 1));
  EXPECT_EQ(group_.persistent_version(), version);
  group_.expire(at_ms(now_ms_ + 60'000));
  EXPECT_GT(group_.persistent_version(), version);
  EXPECT_TRUE(group_.members().empty());
}

HeartbeatRequest join_with(std::optional<int32_t> session_timeout_ms) {
  HeartbeatRequest join;
  join.subscribed_topics = std::vector<std::string>{"t"};
  join.session_timeout_ms = session_timeout_ms;
  return join;
}

// A member that joins sending `sent` and never heartbeats again: removed exactly at `expected_ms`.
void expect_session_of(const GroupConfig& config, std::optional<int32_t> sent, int32_t expected_ms) {
  ConsumerGroup group("g", config, testing::counting_ids());
  auto response = group.heartbeat(join_with(sent), kTopics, at_ms(0));
  ASSERT_TRUE(response);
  EXPECT_EQ(group.members().at(response->member_id).session_timeout_ms, expected_ms);
  EXPECT_EQ(group.snapshot().members.at(0).session_timeout_ms, expected_ms);
  group.expire(at_ms(expected_ms - 1));
  EXPECT_EQ(group.members().size(), 1u);
  group.expire(at_ms(expected_ms));
  EXPECT_TRUE(group.members().empty());
}

TEST(GroupSessionTimeout, AMembersOwnSessionTimeoutDrivesItsSession) { expect_session_of(GroupConfig{}, 6'000, 6'000); }

TEST(GroupSessionTimeout, AbsentTheGroupsDefaultApplies) {
  GroupConfig config;
  config.session_timeout = std::chrono::milliseconds(20'000);
  expect_session_of(config, std::nullopt, 20'000);
}

TEST(GroupSessionTimeout, OutsideTheBoundsIsRefusedNamingThemAndChangesNothing) {
  GroupConfig config;
  config.min_session_timeout = std::chrono::milliseconds(6'000);
  config.max_session_timeout = std::chrono::milliseconds(60'000);
  ConsumerGroup group("g", config, testing::counting_ids());
  for (const int32_t timeout : {5'999, 60'001, 0, -1}) {
    auto response = group.heartbeat(join_with(timeout), kTopics, at_ms(0));
    ASSERT_FALSE(response) << timeout;
    EXPECT_EQ(response.error().code, GroupErrc::invalid_session_timeout);
    EXPECT_NE(response.error().message.find("[6000, 60000]"), std::string::npos) << response.error().message;
  }
  EXPECT_TRUE(group.members().empty());
  EXPECT_EQ(group.persistent_version(), 0u);
  for (const int32_t timeout : {6'000, 60'000}) EXPECT_TRUE(group.heartbeat(join_with(timeout), kTopics, at_ms(0)));
}

}  // namespace
}  // namespace sluice::broker::group
