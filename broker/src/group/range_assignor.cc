#include "range_assignor.h"

#include <algorithm>
#include <numeric>

namespace sluice::broker::group {

namespace {

// A static member sorts by its instance id, a dynamic one by its member id; the member
// id breaks ties so the order is total.
bool sorts_before(const AssignorMember& a, const AssignorMember& b) {
  const std::string& key_a = a.instance_id ? *a.instance_id : a.member_id;
  const std::string& key_b = b.instance_id ? *b.instance_id : b.member_id;
  if (key_a != key_b) return key_a < key_b;
  return a.member_id < b.member_id;
}

}  // namespace

TargetAssignment RangeAssignor::assign(const AssignorInput& input) const {
  std::vector<const AssignorMember*> sorted(input.members.size());
  std::transform(input.members.begin(), input.members.end(), sorted.begin(), [](const auto& m) { return &m; });
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return sorts_before(*a, *b); });

  std::map<std::string_view, std::vector<const AssignorMember*>> subscribers;
  for (const AssignorMember* member : sorted) {
    for (const std::string& topic : member->topics) subscribers[topic].push_back(member);
  }

  TargetAssignment target;
  for (const AssignorMember* member : sorted) target[member->member_id];
  for (const auto& [topic, partitions] : input.partitions_per_topic) {
    auto it = subscribers.find(topic);
    if (it == subscribers.end() || partitions <= 0) continue;
    const auto& members = it->second;
    const auto count = static_cast<int32_t>(members.size());
    int32_t next = 0;
    for (int32_t i = 0; i < count && next < partitions; ++i) {
      const int32_t length = partitions / count + (i < partitions % count ? 1 : 0);
      std::vector<int32_t>& range = target[members[i]->member_id][topic];
      range.resize(length);
      std::iota(range.begin(), range.end(), next);
      next += length;
    }
  }
  return target;
}

}  // namespace sluice::broker::group
