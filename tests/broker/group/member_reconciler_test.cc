// The current-assignment builder on its own: revoke first, then take free partitions, then
// the ones other members release.
#include "group/member_reconciler.h"

#include <gtest/gtest.h>

#include <set>

namespace sluice::broker::group {
namespace {

Member owning(TopicAssignment assigned, int32_t epoch) {
  Member member;
  member.member_id = "a";
  member.member_epoch = epoch;
  member.assigned = assigned;
  member.reported_owned = std::move(assigned);
  return member;
}

TEST(MemberReconcilerTest, RevokesBeforeTakingAnythingAndKeepsItsEpoch) {
  const TopicAssignment target{{"t", {0, 2}}};
  const Member next =
      reconcile(owning({{"t", {0, 1}}}, 1), {target, 2, [](const std::string&, int32_t) { return false; }});
  EXPECT_EQ(next.state, MemberState::unrevoked_partitions);
  EXPECT_EQ(next.member_epoch, 1);
  EXPECT_EQ(next.assigned, (TopicAssignment{{"t", {0}}}));
  EXPECT_EQ(next.pending_revocation, (TopicAssignment{{"t", {1}}}));
  EXPECT_EQ(reconcile(next, {target, 2, [](const std::string&, int32_t) { return false; }}).state,
            MemberState::unrevoked_partitions)
      << "still reports partition 1";
}

TEST(MemberReconcilerTest, AfterRevokingTakesFreePartitionsAndWaitsForHeldOnes) {
  const TopicAssignment target{{"t", {0, 2, 3}}};
  const std::set<int32_t> held{3};
  const auto held_by_other = [&](const std::string&, int32_t p) { return held.count(p) > 0; };
  Member member = reconcile(owning({{"t", {0, 1}}}, 1), {target, 2, held_by_other});
  member.reported_owned = {{"t", {0}}};
  member = reconcile(member, {target, 2, held_by_other});
  EXPECT_EQ(member.state, MemberState::unreleased_partitions);
  EXPECT_EQ(member.member_epoch, 2);
  EXPECT_EQ(member.previous_member_epoch, 1);
  EXPECT_EQ(member.assigned, (TopicAssignment{{"t", {0, 2}}}));
  EXPECT_TRUE(member.pending_revocation.empty());
  member = reconcile(member, {target, 2, [](const std::string&, int32_t) { return false; }});
  EXPECT_EQ(member.state, MemberState::stable);
  EXPECT_EQ(member.assigned, target);
}

}  // namespace
}  // namespace sluice::broker::group
