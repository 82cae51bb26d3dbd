// The working state both uniform-assignor paths share: per topic, its subscribers and
// what each owns, seeded with the still-valid part of the previous assignment.
#pragma once

#include <cstdint>
#include <vector>

#include "assignment.h"

namespace sluice::broker::group {

struct TopicOwnership {
  const std::string* name;
  int32_t partitions;
  std::vector<int> subscribers;             // member indices, ascending
  std::vector<std::vector<int32_t>> owned;  // parallel to subscribers
  std::vector<int32_t> unowned;             // partitions no subscriber kept, ascending
};

struct Ownership {
  std::vector<const AssignorMember*> members;  // sorted by member id
  std::vector<TopicOwnership> topics;          // subscribed, existing topics, by name
  std::vector<int32_t> counts;                 // partitions owned, per member index

  // Members sorted by id; previous partitions kept where still valid.
  static Ownership from(const AssignorInput& input);

  // True when every member subscribes to every topic in `topics`.
  bool homogeneous() const;

  // The owned partitions as a target assignment (every member listed, lists sorted).
  TargetAssignment target() const;
};

}  // namespace sluice::broker::group
