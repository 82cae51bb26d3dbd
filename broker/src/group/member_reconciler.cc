#include "member_reconciler.h"

#include "partition_sets.h"

namespace sluice::broker::group {
namespace {

Member next_assignment(Member member, const ReconcileInput& input) {
  const TopicAssignment kept = intersection(member.assigned, input.target);
  TopicAssignment revoking = difference(member.assigned, input.target);
  if (!revoking.empty()) {
    member.assigned = kept;
    member.pending_revocation = std::move(revoking);
    member.state = MemberState::unrevoked_partitions;
    return member;
  }
  TopicAssignment granted = kept;
  bool unreleased = false;
  for (const auto& [topic, partitions] : difference(input.target, kept)) {
    for (const int32_t partition : partitions) {
      if (input.held_by_other(topic, partition)) {
        unreleased = true;
        continue;
      }
      granted = set_union(granted, TopicAssignment{{topic, {partition}}});
    }
  }
  if (member.member_epoch != input.assignment_epoch) {
    member.previous_member_epoch = member.member_epoch;
    member.member_epoch = input.assignment_epoch;
  }
  member.assigned = std::move(granted);
  member.pending_revocation.clear();
  member.state = unreleased ? MemberState::unreleased_partitions : MemberState::stable;
  return member;
}

}  // namespace

Member reconcile(Member member, const ReconcileInput& input) {
  switch (member.state) {
    case MemberState::unrevoked_partitions:
      if (!disjoint(member.reported_owned, member.pending_revocation)) return member;
      return next_assignment(std::move(member), input);
    case MemberState::unreleased_partitions:
    case MemberState::stable:
      if (member.state == MemberState::stable && member.member_epoch == input.assignment_epoch) return member;
      return next_assignment(std::move(member), input);
  }
  return member;
}

}  // namespace sluice::broker::group
