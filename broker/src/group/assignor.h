// A server-side assignor: a pure function from the group's members, subscriptions and
// previous target assignment to the next target assignment. Implementations are
// deterministic (the same input, in any member order, gives the same output) and
// stateless, so one instance serves every group.
// Thread-safety: assign() is const and touches no shared state; call it from any thread.
#pragma once

#include <string_view>

#include "assignment.h"

namespace sluice::broker::group {

class Assignor {
 public:
  virtual ~Assignor() = default;
  virtual std::string_view name() const = 0;
  virtual TargetAssignment assign(const AssignorInput& input) const = 0;
};

// The name groups use when they ask for none ("uniform", as Kafka's group.remote.assignor).
inline constexpr std::string_view kDefaultAssignor = "uniform";

// The assignor called `name` ("uniform", "range"), or nullptr for an unknown name.
// The returned object lives for the whole program.
const Assignor* find_assignor(std::string_view name);

}  // namespace sluice::broker::group
