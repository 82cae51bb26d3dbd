// Kafka's range assignor, computed on the server. Per topic, the subscribers are sorted
// by instance id when they have one, else by member id (a static member that restarts
// under a new member id keeps its range), and get contiguous ranges: with N partitions
// and M subscribers each gets N / M, the first N % M one more. Topics with the same
// partition count and the same subscribers are therefore co-partitioned: a member gets
// the same partition numbers of each. The previous assignment is not consulted.
#pragma once

#include "assignor.h"

namespace sluice::broker::group {

class RangeAssignor final : public Assignor {
 public:
  std::string_view name() const override { return "range"; }
  TargetAssignment assign(const AssignorInput& input) const override;
};

}  // namespace sluice::broker::group
