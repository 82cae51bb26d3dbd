#include "sluice/broker/topic_config.h"

#include <charconv>

#include "sluice/broker/broker_errc.h"

namespace sluice::broker {
namespace {

Result<int64_t> parse_int(const std::string& key, const std::string& value, int64_t min, int64_t max = INT64_MAX,
                          std::string_view why_max = {}) {
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return make_error(BrokerErrc::invalid_config, key + ": '" + value + "' is not an integer");
  }
  if (out < min)
    return make_error(BrokerErrc::invalid_config, key + ": " + value + " is below the minimum " + std::to_string(min));
  if (out > max) {
    return make_error(BrokerErrc::invalid_config, key + ": " + value + " is above the maximum " + std::to_string(max) +
                                                      " (" + std::string(why_max) + ")");
  }
  return out;
}

std::string ratio_text(double ratio) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), ratio);
  return ec == std::errc() ? std::string(buf, ptr) : std::to_string(ratio);
}

}  // namespace

Status validate_cleanup_policy(const std::string& value) {
  if (!storage::parse_cleanup_policy(value)) {
    return make_error(BrokerErrc::invalid_config,
                      "cleanup.policy: '" + value + "' is not one of delete, compact, compact,delete");
  }
  return {};
}

std::map<std::string, std::string> TopicConfig::to_map() const {
  return {
      {"retention.ms", std::to_string(log.retention_ms)},
      {"retention.bytes", std::to_string(log.retention_bytes)},
      {"segment.bytes", std::to_string(log.segment_bytes)},
      {"segment.ms", std::to_string(log.segment_ms)},
      {"index.interval.bytes", std::to_string(log.index_interval_bytes)},
      {"max.message.bytes", std::to_string(log.max_batch_bytes)},
      {"cleanup.policy", std::string(storage::cleanup_policy_name(log.cleanup_policy))},
      {"durability", std::string(storage::durability_name(log.durability))},
      {"flush.ms", std::to_string(log.flush_interval_ms)},
      {"delete.retention.ms", std::to_string(log.delete_retention_ms)},
      {"min.compaction.lag.ms", std::to_string(log.min_compaction_lag_ms)},
      {"max.compaction.lag.ms", std::to_string(log.max_compaction_lag_ms)},
      {"min.cleanable.dirty.ratio", ratio_text(log.min_cleanable_dirty_ratio)},
  };
}

Result<TopicConfig> apply_topic_config(const TopicConfig& base, const std::map<std::string, std::string>& overrides) {
  TopicConfig c = base;
  for (const auto& [key, value] : overrides) {
    Result<int64_t> n = 0;
    if (key == "retention.ms") {
      if (!(n = parse_int(key, value, -1))) return tl::unexpected(n.error());
      c.log.retention_ms = *n;
    } else if (key == "retention.bytes") {
      if (!(n = parse_int(key, value, -1))) return tl::unexpected(n.error());
      c.log.retention_bytes = *n;
    } else if (key == "segment.bytes") {
      if (!(n = parse_int(key, value, 1024, static_cast<int64_t>(storage::kMaxSegmentBytes),
                          "segment files are indexed with 32-bit positions")))
        return tl::unexpected(n.error());
      c.log.segment_bytes = static_cast<uint64_t>(*n);
    } else if (key == "segment.ms") {
      if (!(n = parse_int(key, value, 1))) return tl::unexpected(n.error());
      c.log.segment_ms = *n;
    } else if (key == "index.interval.bytes") {
      // Smaller intervals would hold an index entry in memory for every few batches.
      if (!(n = parse_int(key, value, storage::kMinIndexIntervalBytes))) return tl::unexpected(n.error());
      c.log.index_interval_bytes = static_cast<uint32_t>(std::min<int64_t>(*n, INT32_MAX));
    } else if (key == "max.message.bytes") {
      if (!(n = parse_int(key, value, 128))) return tl::unexpected(n.error());
      c.log.max_batch_bytes = static_cast<size_t>(*n);
    } else if (key == "flush.ms") {
      if (!(n = parse_int(key, value, 1))) return tl::unexpected(n.error());
      c.log.flush_interval_ms = *n;
    } else if (key == "durability") {
      auto d = storage::parse_durability(value);
      if (!d)
        return make_error(BrokerErrc::invalid_config,
                          "durability: '" + value + "' is not one of fsync, interval, none");
      c.log.durability = *d;
    } else if (key == "cleanup.policy") {
      if (auto s = validate_cleanup_policy(value); !s) return tl::unexpected(s.error());
      c.log.cleanup_policy = *storage::parse_cleanup_policy(value);
    } else if (key == "delete.retention.ms") {
      if (!(n = parse_int(key, value, 0))) return tl::unexpected(n.error());
      c.log.delete_retention_ms = *n;
    } else if (key == "min.compaction.lag.ms") {
      if (!(n = parse_int(key, value, 0))) return tl::unexpected(n.error());
      c.log.min_compaction_lag_ms = *n;
    } else if (key == "max.compaction.lag.ms") {
      if (!(n = parse_int(key, value, 1))) return tl::unexpected(n.error());
      c.log.max_compaction_lag_ms = *n;
    } else if (key == "min.cleanable.dirty.ratio") {
      double ratio = -1;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), ratio);
      if (ec != std::errc() || ptr != value.data() + value.size() || ratio < 0 || ratio > 1) {
        return make_error(BrokerErrc::invalid_config,
                          "min.cleanable.dirty.ratio: '" + value + "' is not a number from 0 to 1");
      }
      c.log.min_cleanable_dirty_ratio = ratio;
    } else {
      return make_error(BrokerErrc::invalid_config, "unknown topic setting '" + key + "'");
    }
  }
  return c;
}

Status validate_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249)
    return make_error(BrokerErrc::invalid_topic, "topic name must be 1-249 characters");
  if (name == "." || name == "..") return make_error(BrokerErrc::invalid_topic, "topic name cannot be '.' or '..'");
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok)
      return make_error(BrokerErrc::invalid_topic, "topic name '" + name + "' has a character outside [a-zA-Z0-9._-]");
  }
  return {};
}

}  // namespace sluice::broker
