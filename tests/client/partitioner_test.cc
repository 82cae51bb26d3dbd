#include "sluice/client/partitioner.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sluice::client {
namespace {

TEST(StickyPartitioner, SticksToOnePartitionUntilANewBatch) {
  StickyPartitioner sticky(42);
  int32_t p = sticky.partition("t", 8);
  ASSERT_GE(p, 0);
  ASSERT_LT(p, 8);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sticky.partition("t", 8), p);
}

TEST(StickyPartitioner, NewBatchMovesToADifferentPartition) {
  StickyPartitioner sticky(7);
  int32_t p = sticky.partition("t", 4);
  for (int i = 0; i < 200; ++i) {
    int32_t next = sticky.on_new_batch("t", 4, p);
    EXPECT_NE(next, p);
    EXPECT_GE(next, 0);
    EXPECT_LT(next, 4);
    EXPECT_EQ(sticky.partition("t", 4), next);
    p = next;
  }
}

TEST(StickyPartitioner, EveryPartitionGetsItsTurn) {
  StickyPartitioner sticky(1);
  std::set<int32_t> seen;
  int32_t p = sticky.partition("t", 5);
  seen.insert(p);
  for (int i = 0; i < 200; ++i) seen.insert(p = sticky.on_new_batch("t", 5, p));
  EXPECT_EQ(seen.size(), 5u);
}

TEST(StickyPartitioner, SecondCallerForTheSameFullBatchKeepsTheFirstChoice) {
  // Two threads both see partition p's batch fill up; only the first moves the topic.
  StickyPartitioner sticky(3);
  int32_t p = sticky.partition("t", 6);
  int32_t first = sticky.on_new_batch("t", 6, p);
  int32_t second = sticky.on_new_batch("t", 6, p);
  EXPECT_EQ(first, second);
}

TEST(StickyPartitioner, SinglePartitionStaysAtZero) {
  StickyPartitioner sticky(5);
  EXPECT_EQ(sticky.partition("t", 1), 0);
  EXPECT_EQ(sticky.on_new_batch("t", 1, 0), 0);
}

TEST(StickyPartitioner, TopicsAreIndependentAndPartitionCountShrinkIsHandled) {
  StickyPartitioner sticky(9);
  int32_t a = sticky.partition("a", 100);
  int32_t b = sticky.partition("b", 100);
  sticky.on_new_batch("a", 100, a);
  EXPECT_EQ(sticky.partition("b", 100), b);
  // The cached choice is re-drawn if it no longer exists.
  EXPECT_LT(sticky.partition("b", 1), 1);
}

}  // namespace
}  // namespace sluice::client
