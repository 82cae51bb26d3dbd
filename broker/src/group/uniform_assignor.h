// The uniform assignor (KIP-848's default): sticky and balanced.
//
// Guarantees, for partitions of topics in partitions_per_topic that at least one member
// subscribes to (other partitions are assigned to no one):
//  - every such partition goes to exactly one member, and that member subscribes to its
//    topic;
//  - a partition keeps its previous owner when that owner still subscribes to the topic,
//    the partition still exists, and balance does not require moving it (when two members
//    claim the same partition, the smaller member id keeps it);
//  - homogeneous subscriptions (every member subscribes to the same topics): every member
//    gets floor(N / M) or ceil(N / M) of the N partitions, and the number of previously
//    owned partitions that change owner is the minimum that balance needs;
//  - heterogeneous subscriptions: no partition could move to another subscriber of its
//    topic and narrow the gap between them, i.e. for each partition of topic t owned by a
//    and each subscriber b of t, count(a) <= count(b) + 1. Movement is small but not proven
//    minimal.
// Deterministic: members are processed in member-id order, whatever the input order.
#pragma once

#include "assignor.h"

namespace sluice::broker::group {

class UniformAssignor final : public Assignor {
 public:
  std::string_view name() const override { return "uniform"; }
  TargetAssignment assign(const AssignorInput& input) const override;
};

}  // namespace sluice::broker::group
