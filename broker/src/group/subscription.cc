#include "subscription.h"

#include <algorithm>

#include "sluice/broker/group_errc.h"

namespace sluice::broker::group {

Result<std::shared_ptr<const std::regex>> compile_subscription(const std::string& pattern) {
  try {
    return std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return make_error(GroupErrc::invalid_regular_expression,
                      "invalid subscription pattern '" + pattern + "': " + e.what());
  }
}

std::vector<std::string> resolve_subscription(const std::vector<std::string>& names, const std::regex* pattern,
                                              const TopicPartitions& topics) {
  std::vector<std::string> resolved = names;
  if (pattern != nullptr) {
    for (const auto& [topic, partitions] : topics) {
      if (std::regex_match(topic, *pattern)) resolved.push_back(topic);
    }
  }
  std::sort(resolved.begin(), resolved.end());
  resolved.erase(std::unique(resolved.begin(), resolved.end()), resolved.end());
  return resolved;
}

}  // namespace sluice::broker::group
