// The uniform assignor on small exact cases: balance, stickiness when members join and
// leave, heterogeneous subscriptions, and what a previous assignment may no longer hold.
#include "group/uniform_assignor.h"

#include <gtest/gtest.h>

#include "assignment_checks.h"
#include "group/assignor.h"

namespace sluice::broker::group {
namespace {

using testing::count;
using testing::member;
using testing::partitions_of;

TargetAssignment three_members_twelve_partitions() {
  AssignorInput input{{member("a", {"t"}), member("b", {"t"}), member("c", {"t"})}, {{"t", 12}}};
  return UniformAssignor().assign(input);
}

TEST(UniformAssignorTest, ThreeMembersTwelvePartitionsGetFourEach) {
  AssignorInput input{{member("a", {"t"}), member("b", {"t"}), member("c", {"t"})}, {{"t", 12}}};
  const TargetAssignment target = UniformAssignor().assign(input);
  testing::expect_valid(input, target);
  for (const auto& [id, assignment] : target) EXPECT_EQ(count(assignment), 4u) << id;
}

TEST(UniformAssignorTest, FourthMemberJoinsAndOnlyThreePartitionsMove) {
  const TargetAssignment before = three_members_twelve_partitions();
  AssignorInput input{{member("a", {"t"}, before.at("a")), member("b", {"t"}, before.at("b")),
                       member("c", {"t"}, before.at("c")), member("d", {"t"})},
                      {{"t", 12}}};
  const TargetAssignment after = UniformAssignor().assign(input);
  testing::expect_valid(input, after);
  EXPECT_EQ(testing::moved(before, after), 3u);
  EXPECT_EQ(count(after.at("d")), 3u);
  for (const char* id : {"a", "b", "c"}) {
    EXPECT_EQ(count(after.at(id)), 3u) << id;
    for (const auto& p : partitions_of(after.at(id))) EXPECT_TRUE(partitions_of(before.at(id)).count(p)) << id;
  }
}

TEST(UniformAssignorTest, LeavingMemberGivesOnlyItsOwnPartitions) {
  const TargetAssignment before = three_members_twelve_partitions();
  AssignorInput input{{member("c", {"t"}, before.at("c")), member("a", {"t"}, before.at("a"))}, {{"t", 12}}};
  const TargetAssignment after = UniformAssignor().assign(input);
  testing::expect_valid(input, after);
  for (const char* id : {"a", "c"}) {
    EXPECT_EQ(count(after.at(id)), 6u) << id;
    for (const auto& p : partitions_of(before.at(id))) EXPECT_TRUE(partitions_of(after.at(id)).count(p)) << id;
  }
}

TEST(UniformAssignorTest, HeterogeneousSubscriptionsBalanceWithinWhatEachMayOwn) {
  // b may own only t2's partitions, so a takes all of t1 and b all of t2.
  AssignorInput input{{member("a", {"t1", "t2"}), member("b", {"t2"})}, {{"t1", 3}, {"t2", 3}}};
  const TargetAssignment target = UniformAssignor().assign(input);
  testing::expect_valid(input, target);
  EXPECT_EQ(target.at("a"), (TopicAssignment{{"t1", {0, 1, 2}}}));
  EXPECT_EQ(target.at("b"), (TopicAssignment{{"t2", {0, 1, 2}}}));
}

TEST(UniformAssignorTest, HeterogeneousMemberTakesFromTheOnlyOwnerItCanShareWith) {
  // a owned everything; c joins for t2 only: it takes half of t2 and nothing of t1.
  AssignorInput input{{member("a", {"t1", "t2"}, {{"t1", {0, 1}}, {"t2", {0, 1, 2, 3}}}), member("c", {"t2"})},
                      {{"t1", 2}, {"t2", 4}}};
  const TargetAssignment target = UniformAssignor().assign(input);
  testing::expect_valid(input, target);
  EXPECT_EQ(count(target.at("a")), 3u);
  EXPECT_EQ(count(target.at("c")), 3u);
  EXPECT_EQ(target.at("a").at("t1"), (std::vector<int32_t>{0, 1}));
}

TEST(UniformAssignorTest, DropsUnsubscribedTopicsAndPartitionsThatNoLongerExist) {
  AssignorInput input{
      {member("a", {"t"}, {{"t", {0, 1, 5, 7}}, {"gone", {0}}, {"other", {0}}}), member("b", {"other"})},
      {{"t", 4}, {"other", 1}}};
  const TargetAssignment target = UniformAssignor().assign(input);
  testing::expect_valid(input, target);
  EXPECT_EQ(target.at("a"), (TopicAssignment{{"t", {0, 1, 2, 3}}}));
  EXPECT_EQ(target.at("b"), (TopicAssignment{{"other", {0}}}));
}

TEST(UniformAssignorTest, TwoClaimsOnOnePartitionGoToTheSmallerMemberId) {
  AssignorInput input{{member("b", {"t"}, {{"t", {0}}}), member("a", {"t"}, {{"t", {0}}})}, {{"t", 2}}};
  const TargetAssignment target = UniformAssignor().assign(input);
  EXPECT_EQ(target.at("a"), (TopicAssignment{{"t", {0}}}));
  EXPECT_EQ(target.at("b"), (TopicAssignment{{"t", {1}}}));
}

TEST(UniformAssignorTest, TopicsNobodySubscribesToStayUnassigned) {
  AssignorInput input{{member("a", {"t"}), member("idle", {})}, {{"t", 2}, {"unread", 5}}};
  const TargetAssignment target = UniformAssignor().assign(input);
  testing::expect_valid(input, target);
  EXPECT_TRUE(target.at("idle").empty());
}

TEST(UniformAssignorTest, MoreMembersThanPartitionsLeavesTheRestEmpty) {
  AssignorInput input{{member("a", {"t"}), member("b", {"t"}), member("c", {"t"}, {{"t", {1}}})}, {{"t", 2}}};
  const TargetAssignment target = UniformAssignor().assign(input);
  testing::expect_valid(input, target);
  EXPECT_EQ(target.at("c"), (TopicAssignment{{"t", {1}}}));
  EXPECT_EQ(count(target.at("a")) + count(target.at("b")), 1u);
}

TEST(AssignorRegistryTest, FindsUniformAndRangeByName) {
  ASSERT_NE(find_assignor("uniform"), nullptr);
  ASSERT_NE(find_assignor("range"), nullptr);
  EXPECT_EQ(find_assignor("uniform")->name(), "uniform");
  EXPECT_EQ(find_assignor("range")->name(), "range");
  EXPECT_EQ(find_assignor(kDefaultAssignor), find_assignor("uniform"));
  EXPECT_EQ(find_assignor("roundrobin"), nullptr);
}

}  // namespace
}  // namespace sluice::broker::group
