// The range assignor: contiguous ranges, the extra partitions to the first members,
// co-partitioned topics, and static members ordered by instance id.
#include "group/range_assignor.h"

#include <gtest/gtest.h>

#include "assignment_checks.h"

namespace sluice::broker::group {
namespace {

using testing::member;

TEST(RangeAssignorTest, ContiguousRangesWithTheRemainderToTheFirstMembers) {
  AssignorInput input{{member("c", {"t"}), member("a", {"t"}), member("b", {"t"})}, {{"t", 8}}};
  const TargetAssignment target = RangeAssignor().assign(input);
  testing::expect_valid(input, target);
  EXPECT_EQ(target.at("a"), (TopicAssignment{{"t", {0, 1, 2}}}));
  EXPECT_EQ(target.at("b"), (TopicAssignment{{"t", {3, 4, 5}}}));
  EXPECT_EQ(target.at("c"), (TopicAssignment{{"t", {6, 7}}}));
}

TEST(RangeAssignorTest, TopicsWithTheSamePartitionCountAreCoPartitioned) {
  AssignorInput input{{member("a", {"orders", "payments", "x"}), member("b", {"orders", "payments", "x"})},
                      {{"orders", 5}, {"payments", 5}, {"x", 2}}};
  const TargetAssignment target = RangeAssignor().assign(input);
  testing::expect_valid(input, target);
  for (const char* id : {"a", "b"}) EXPECT_EQ(target.at(id).at("orders"), target.at(id).at("payments")) << id;
  EXPECT_EQ(target.at("a").at("orders"), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(target.at("b").at("x"), (std::vector<int32_t>{1}));
}

TEST(RangeAssignorTest, StaticMemberKeepsItsRangeAcrossARestart) {
  AssignorInput before{{member("z-1", {"t"}, {}, "i1"), member("a-2", {"t"}, {}, "i2")}, {{"t", 4}}};
  AssignorInput after{{member("m-9", {"t"}, {}, "i1"), member("a-2", {"t"}, {}, "i2")}, {{"t", 4}}};
  EXPECT_EQ(RangeAssignor().assign(before).at("z-1"), (TopicAssignment{{"t", {0, 1}}}));
  EXPECT_EQ(RangeAssignor().assign(after).at("m-9"), (TopicAssignment{{"t", {0, 1}}}));
}

TEST(RangeAssignorTest, OnlySubscribersGetATopicsPartitions) {
  AssignorInput input{{member("a", {"t1"}), member("b", {"t1", "t2"}), member("c", {})}, {{"t1", 3}, {"t2", 3}}};
  const TargetAssignment target = RangeAssignor().assign(input);
  testing::expect_valid(input, target);
  EXPECT_EQ(target.at("b").at("t2"), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_TRUE(target.at("c").empty());
}

TEST(RangeAssignorTest, MoreMembersThanPartitionsLeavesTheLastOnesEmpty) {
  AssignorInput input{{member("a", {"t"}), member("b", {"t"}), member("c", {"t"})}, {{"t", 2}}};
  const TargetAssignment target = RangeAssignor().assign(input);
  testing::expect_valid(input, target);
  EXPECT_TRUE(target.at("c").empty());
}

}  // namespace
}  // namespace sluice::broker::group
