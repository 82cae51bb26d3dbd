// A member's subscription resolved against the broker's topics: the names it sent plus
// the existing topics its pattern matches, so a topic created later joins the set on the
// member's next heartbeat.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "sluice/common/error.h"

namespace sluice::broker::group {

// Topic name -> partition count: the broker's topics as the caller sees them now.
using TopicPartitions = std::map<std::string, int32_t>;

// An ECMAScript pattern that must match a whole topic name; an error names the pattern.
Result<std::shared_ptr<const std::regex>> compile_subscription(const std::string& pattern);

// Sorted, without duplicates. A name that is not (yet) a topic stays in the set: the
// assignor skips it, and it counts once it exists.
std::vector<std::string> resolve_subscription(const std::vector<std::string>& names, const std::regex* pattern,
                                              const TopicPartitions& topics);

}  // namespace sluice::broker::group
