#include "ownership.h"

#include <algorithm>
#include <string_view>

namespace sluice::broker::group {

Ownership Ownership::from(const AssignorInput& input) {
  Ownership state;
  state.members.reserve(input.members.size());
  for (const AssignorMember& member : input.members) state.members.push_back(&member);
  std::sort(state.members.begin(), state.members.end(),
            [](const auto* a, const auto* b) { return a->member_id < b->member_id; });
  state.counts.assign(state.members.size(), 0);

  std::map<std::string_view, std::vector<int>> subscribers;
  for (int i = 0; i < static_cast<int>(state.members.size()); ++i) {
    for (const std::string& topic : state.members[i]->topics) {
      std::vector<int>& list = subscribers[topic];
      if (list.empty() || list.back() != i) list.push_back(i);
    }
  }
  std::map<std::string_view, size_t> topic_index;
  for (const auto& [topic, partitions] : input.partitions_per_topic) {
    auto it = subscribers.find(topic);
    if (it == subscribers.end() || partitions <= 0) continue;
    topic_index.emplace(topic, state.topics.size());
    state.topics.push_back({&topic, partitions, std::move(it->second), {}, {}});
    state.topics.back().owned.resize(state.topics.back().subscribers.size());
  }

  for (TopicOwnership& topic : state.topics) {
    std::vector<int> owner(topic.partitions, -1);
    for (size_t slot = 0; slot < topic.subscribers.size(); ++slot) {
      const int member = topic.subscribers[slot];
      auto previous = state.members[member]->previous.find(*topic.name);
      if (previous == state.members[member]->previous.end()) continue;
      for (int32_t partition : previous->second) {
        if (partition < 0 || partition >= topic.partitions || owner[partition] != -1) continue;
        owner[partition] = member;
        topic.owned[slot].push_back(partition);
        ++state.counts[member];
      }
    }
    for (int32_t partition = 0; partition < topic.partitions; ++partition) {
      if (owner[partition] == -1) topic.unowned.push_back(partition);
    }
  }
  return state;
}

bool Ownership::homogeneous() const {
  return std::all_of(topics.begin(), topics.end(),
                     [this](const TopicOwnership& topic) { return topic.subscribers.size() == members.size(); });
}

TargetAssignment Ownership::target() const {
  TargetAssignment target;
  for (const AssignorMember* member : members) target[member->member_id];
  for (const TopicOwnership& topic : topics) {
    for (size_t slot = 0; slot < topic.subscribers.size(); ++slot) {
      if (topic.owned[slot].empty()) continue;
      std::vector<int32_t>& partitions = target[members[topic.subscribers[slot]]->member_id][*topic.name];
      partitions = topic.owned[slot];
      std::sort(partitions.begin(), partitions.end());
    }
  }
  return target;
}

}  // namespace sluice::broker::group
