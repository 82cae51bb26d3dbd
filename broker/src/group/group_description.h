// What the admin APIs and /metrics see of a group: a copy of the coordinator's state
// taken under its lock, so a describe never holds the lock while it encodes or reads logs.
// Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "assignment.h"
#include "consumer_group.h"

namespace sluice::broker::group {

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string host;
  std::vector<std::string> subscribed_topics;
  std::string regex;  // "": none
  int32_t member_epoch = 0;
  TopicAssignment assigned;  // what the member may consume now
  TopicAssignment target;    // its share of the target assignment
};

struct GroupDescription {
  std::string group_id;
  GroupState state = GroupState::empty;
  int32_t group_epoch = 0;
  int32_t assignment_epoch = 0;
  std::string assignor;
  std::vector<MemberDescription> members;  // by member id
  uint64_t rebalances = 0;                 // assignment epoch bumps since the coordinator created the group
};

// "empty", "assigning", "reconciling", "stable".
std::string_view group_state_name(GroupState state);
// The state named so, or nullopt.
std::optional<GroupState> parse_group_state(std::string_view name);

inline constexpr GroupState kGroupStates[] = {GroupState::empty, GroupState::assigning, GroupState::reconciling,
                                              GroupState::stable};

}  // namespace sluice::broker::group
