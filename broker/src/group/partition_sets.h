// Set operations on TopicAssignment (topic -> sorted, duplicate-free partitions), the
// representation every group file shares. Results keep that form and drop empty topics.
#pragma once

#include <cstdint>
#include <string>

#include "assignment.h"

namespace sluice::broker::group {

TopicAssignment intersection(const TopicAssignment& a, const TopicAssignment& b);
TopicAssignment difference(const TopicAssignment& a, const TopicAssignment& b);
TopicAssignment set_union(const TopicAssignment& a, const TopicAssignment& b);
bool contains(const TopicAssignment& set, const std::string& topic, int32_t partition);
bool disjoint(const TopicAssignment& a, const TopicAssignment& b);
// Sorts each list, removes duplicates and empty topics: owned-partition reports arrive in any order.
TopicAssignment normalized(TopicAssignment set);

}  // namespace sluice::broker::group
