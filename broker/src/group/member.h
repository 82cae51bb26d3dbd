// One member of a consumer group as the coordinator sees it (KIP-848's ConsumerGroupMember).
// Plain data; the group owns every Member and is the only writer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "assignment.h"

namespace sluice::broker::group {

// Every group call takes `now` from this clock; the state machine never reads a clock itself.
using Clock = std::chrono::steady_clock;

// Epochs a member sends that are not epochs: join, leave, leave keeping the assignment.
inline constexpr int32_t kJoinEpoch = 0;
inline constexpr int32_t kLeaveEpoch = -1;
inline constexpr int32_t kStaticLeaveEpoch = -2;

enum class MemberState {
  stable,                 // owns exactly its share of the target at the assignment epoch
  unrevoked_partitions,   // must report `pending_revocation` gone before it gets anything new
  unreleased_partitions,  // at the assignment epoch, waiting for partitions others still hold
};

struct Member {
  std::string member_id;
  std::optional<std::string> instance_id;  // static membership
  std::string client_id;
  std::string host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;              // drives session_deadline
  std::vector<std::string> subscribed_topics;  // sorted; names as the member sent them
  std::string regex;                           // empty: no pattern
  std::shared_ptr<const std::regex> compiled;  // `regex`, compiled once when it changes
  std::vector<std::string> resolved_topics;    // names ∪ regex matches among existing topics, sorted

  int32_t member_epoch = kJoinEpoch;
  int32_t previous_member_epoch = kJoinEpoch;
  MemberState state = MemberState::stable;
  TopicAssignment assigned;            // what the member may consume now
  TopicAssignment pending_revocation;  // still consumed by the member; nobody else may get these
  TopicAssignment reported_owned;      // the member's last owned-partitions report

  Clock::time_point session_deadline;
  std::optional<Clock::time_point> revocation_deadline;  // set while unrevoked_partitions
  std::optional<TopicAssignment> last_sent;              // the assignment in the last response
  // Its instance left with -2: kept, epoch and partitions unchanged, until its session ends
  // or a member with the same instance id takes it over.
  bool static_left = false;
};

}  // namespace sluice::broker::group
