// The values a server-side assignor reads and writes (KIP-848's target assignment).
// Plain data: no I/O, no clock, no wire types, so the group coordinator and a future
// Kafka-protocol listener fill them from their own state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::broker::group {

// Topic -> partitions, each list sorted ascending, no duplicates.
using TopicAssignment = std::map<std::string, std::vector<int32_t>>;

struct AssignorMember {
  std::string member_id;                   // unique within the group
  std::optional<std::string> instance_id;  // static membership (group.instance.id)
  std::vector<std::string> topics;         // subscribed topics, resolved against metadata
  TopicAssignment previous;                // this member's share of the previous target assignment
};

struct AssignorInput {
  std::vector<AssignorMember> members;                  // any order: assignors do not depend on it
  std::map<std::string, int32_t> partitions_per_topic;  // existing topics only
};

// Member id -> its partitions. Every input member has an entry, possibly empty; a
// member's TopicAssignment holds only topics with at least one partition.
using TargetAssignment = std::map<std::string, TopicAssignment>;

}  // namespace sluice::broker::group
