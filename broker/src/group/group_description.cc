#include "group_description.h"

namespace sluice::broker::group {

std::string_view group_state_name(GroupState state) {
  switch (state) {
    case GroupState::empty: return "empty";
    case GroupState::assigning: return "assigning";
    case GroupState::reconciling: return "reconciling";
    case GroupState::stable: return "stable";
  }
  return "unknown";
}

std::optional<GroupState> parse_group_state(std::string_view name) {
  for (GroupState state : kGroupStates) {
    if (group_state_name(state) == name) return state;
  }
  return std::nullopt;
}

}  // namespace sluice::broker::group
