#include "partition_sets.h"

#include <algorithm>
#include <iterator>

namespace sluice::broker::group {
namespace {

enum class Op { intersect, subtract, unite };

std::vector<int32_t> combine(const std::vector<int32_t>& a, const std::vector<int32_t>& b, Op op) {
  std::vector<int32_t> out;
  auto into = std::back_inserter(out);
  switch (op) {
    case Op::intersect: std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), into); break;
    case Op::subtract: std::set_difference(a.begin(), a.end(), b.begin(), b.end(), into); break;
    case Op::unite: std::set_union(a.begin(), a.end(), b.begin(), b.end(), into); break;
  }
  return out;
}

TopicAssignment apply(const TopicAssignment& a, const TopicAssignment& b, Op op) {
  static const std::vector<int32_t> kNone;
  TopicAssignment out;
  auto add = [&](const std::string& topic) {
    if (out.count(topic)) return;
    const auto in_a = a.find(topic);
    const auto in_b = b.find(topic);
    auto partitions = combine(in_a == a.end() ? kNone : in_a->second, in_b == b.end() ? kNone : in_b->second, op);
    if (!partitions.empty()) out.emplace(topic, std::move(partitions));
  };
  for (const auto& entry : a) add(entry.first);
  if (op == Op::unite) {
    for (const auto& entry : b) add(entry.first);
  }
  return out;
}

}  // namespace

TopicAssignment intersection(const TopicAssignment& a, const TopicAssignment& b) { return apply(a, b, Op::intersect); }
TopicAssignment difference(const TopicAssignment& a, const TopicAssignment& b) { return apply(a, b, Op::subtract); }
TopicAssignment set_union(const TopicAssignment& a, const TopicAssignment& b) { return apply(a, b, Op::unite); }

bool contains(const TopicAssignment& set, const std::string& topic, int32_t partition) {
  const auto it = set.find(topic);
  return it != set.end() && std::binary_search(it->second.begin(), it->second.end(), partition);
}

bool disjoint(const TopicAssignment& a, const TopicAssignment& b) { return intersection(a, b).empty(); }

TopicAssignment normalized(TopicAssignment set) {
  for (auto it = set.begin(); it != set.end();) {
    auto& partitions = it->second;
    std::sort(partitions.begin(), partitions.end());
    partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
    it = partitions.empty() ? set.erase(it) : std::next(it);
  }
  return set;
}

}  // namespace sluice::broker::group
