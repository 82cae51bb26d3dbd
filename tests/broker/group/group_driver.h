// A simulated consumer for the group state machine tests: it heartbeats what it owns and
// takes the assignment it is given, at once or (to model a slow revocation) later.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "group/consumer_group.h"
#include "group/partition_sets.h"

namespace sluice::broker::group::testing {

inline Clock::time_point at_ms(int64_t ms) { return Clock::time_point{} + std::chrono::milliseconds(ms); }

inline ConsumerGroup::IdGenerator counting_ids() {
  return [next = 0]() mutable { return "member-" + std::to_string(++next); };
}

struct Client {
  std::string member_id;
  int32_t epoch = kJoinEpoch;
  std::optional<std::string> instance_id;
  std::vector<std::string> topics;
  std::optional<std::string> regex;
  int32_t rebalance_timeout_ms = 30'000;
  TopicAssignment owned;                    // what it consumes now
  std::optional<TopicAssignment> received;  // given, not yet taken
};

// Sends one heartbeat. Apply::now takes any new assignment before returning; Apply::later
// keeps it in `received` until apply() (the member is still revoking).
enum class Apply { now, later };

inline Result<HeartbeatResponse> beat(ConsumerGroup& group, Client& client, const TopicPartitions& topics,
                                      Clock::time_point now, Apply apply = Apply::now) {
  HeartbeatRequest request;
  request.member_id = client.member_id;
  request.member_epoch = client.epoch;
  request.instance_id = client.instance_id;
  request.rebalance_timeout_ms = client.rebalance_timeout_ms;
  request.owned = client.owned;
  if (client.epoch == kJoinEpoch) {
    request.subscribed_topics = client.topics;
    request.regex = client.regex;
  }
  Result<HeartbeatResponse> response = group.heartbeat(request, topics, now);
  if (!response) return response;
  client.member_id = response->member_id;
  client.epoch = response->member_epoch;
  if (response->assignment) client.received = response->assignment;
  if (apply == Apply::now && client.received) {
    client.owned = *client.received;
    client.received.reset();
  }
  return response;
}

inline void apply(Client& client) {
  if (!client.received) return;
  client.owned = *client.received;
  client.received.reset();
}

inline size_t partition_count(const TopicAssignment& assignment) {
  size_t total = 0;
  for (const auto& [topic, partitions] : assignment) total += partitions.size();
  return total;
}

// No partition in two members' assigned ∪ pending_revocation, on the coordinator's side.
inline void expect_exclusive(const ConsumerGroup& group) {
  std::map<std::pair<std::string, int32_t>, std::string> holder;
  for (const auto& [id, member] : group.members()) {
    for (const auto& [topic, partitions] : set_union(member.assigned, member.pending_revocation)) {
      for (const int32_t p : partitions) {
        const auto [it, fresh] = holder.emplace(std::make_pair(topic, p), id);
        EXPECT_TRUE(fresh) << topic << "-" << p << " held by " << it->second << " and " << id;
      }
    }
  }
}

// No partition consumed by two clients at once.
inline void expect_exclusive(const std::vector<const Client*>& clients) {
  TopicAssignment seen;
  for (const Client* client : clients) {
    EXPECT_TRUE(disjoint(seen, client->owned)) << client->member_id << " consumes a partition another consumes";
    seen = set_union(seen, client->owned);
  }
}

}  // namespace sluice::broker::group::testing
