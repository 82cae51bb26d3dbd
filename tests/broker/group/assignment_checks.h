// Builders and invariant checks shared by the assignor tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "group/assignment.h"

namespace sluice::broker::group::testing {

using Partition = std::pair<std::string, int32_t>;

inline AssignorMember member(std::string id, std::vector<std::string> topics, TopicAssignment previous = {},
                             std::optional<std::string> instance_id = std::nullopt) {
  std::sort(topics.begin(), topics.end());
  return {std::move(id), std::move(instance_id), std::move(topics), std::move(previous)};
}

inline size_t count(const TopicAssignment& assignment) {
  size_t total = 0;
  for (const auto& [topic, partitions] : assignment) total += partitions.size();
  return total;
}

inline std::set<Partition> partitions_of(const TopicAssignment& assignment) {
  std::set<Partition> out;
  for (const auto& [topic, partitions] : assignment) {
    for (int32_t p : partitions) out.emplace(topic, p);
  }
  return out;
}

// Partitions owned in `before` that have another owner (or none) in `after`.
inline size_t moved(const TargetAssignment& before, const TargetAssignment& after) {
  size_t total = 0;
  for (const auto& [id, assignment] : before) {
    auto it = after.find(id);
    const std::set<Partition> now = it == after.end() ? std::set<Partition>{} : partitions_of(it->second);
    for (const Partition& p : partitions_of(assignment)) total += now.count(p) == 0 ? 1 : 0;
  }
  return total;
}

// Every partition of a subscribed topic has exactly one owner, the owner subscribes to
// its topic, no partition of an unsubscribed topic is assigned, lists are sorted, and
// every member has an entry.
inline void expect_valid(const AssignorInput& input, const TargetAssignment& target) {
  std::map<std::string, std::set<std::string>> subscribers;
  for (const AssignorMember& m : input.members) {
    EXPECT_TRUE(target.count(m.member_id)) << m.member_id;
    for (const std::string& topic : m.topics) subscribers[topic].insert(m.member_id);
  }
  EXPECT_EQ(target.size(), input.members.size());
  std::map<Partition, int> owners;
  for (const auto& [id, assignment] : target) {
    for (const auto& [topic, partitions] : assignment) {
      EXPECT_FALSE(partitions.empty()) << id << " " << topic;
      EXPECT_TRUE(std::is_sorted(partitions.begin(), partitions.end()));
      EXPECT_TRUE(subscribers[topic].count(id)) << id << " owns " << topic << " without subscribing";
      for (int32_t p : partitions) ++owners[{topic, p}];
    }
  }
  for (const auto& [topic, partitions] : input.partitions_per_topic) {
    const bool subscribed = !subscribers[topic].empty();
    for (int32_t p = 0; p < partitions; ++p) {
      auto it = owners.find({topic, p});
      EXPECT_EQ(it == owners.end() ? 0 : it->second, subscribed ? 1 : 0) << topic << "-" << p;
      if (it != owners.end()) owners.erase(it);
    }
  }
  EXPECT_TRUE(owners.empty()) << "partitions that do not exist were assigned";
}

}  // namespace sluice::broker::group::testing
