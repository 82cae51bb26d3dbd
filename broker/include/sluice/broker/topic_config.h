// A topic's settings, by Kafka's names where the meaning is the same:
//   retention.ms, retention.bytes, segment.bytes, segment.ms, index.interval.bytes,
//   max.message.bytes, cleanup.policy (delete|compact|compact,delete), delete.retention.ms,
//   min.compaction.lag.ms, max.compaction.lag.ms, min.cleanable.dirty.ratio,
//   durability (fsync|interval|none),
//   flush.ms (the interval for durability=interval).
// Thread-safety: value type.
#pragma once

#include <map>
#include <string>

#include "sluice/common/error.h"
#include "sluice/storage/log_config.h"

namespace sluice::broker {

struct TopicConfig {
  storage::LogConfig log;  // cleanup.policy is log.cleanup_policy

  // Every setting with its current value, by wire name.
  std::map<std::string, std::string> to_map() const;
};

// Applies `overrides` on top of `base`; an unknown key or a bad value is an
// invalid_argument error naming the key and why.
Result<TopicConfig> apply_topic_config(const TopicConfig& base, const std::map<std::string, std::string>& overrides);

// cleanup.policy: "delete", "compact", "compact,delete" or "delete,compact".
Status validate_cleanup_policy(const std::string& value);

// Kafka's rule: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
Status validate_topic_name(const std::string& name);

}  // namespace sluice::broker
