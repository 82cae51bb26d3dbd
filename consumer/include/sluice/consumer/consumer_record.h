// A record as the consumer hands it out. Its key and value are views into the
// fetched bytes (no copy per record), kept alive by `storage`: copying a record
// is cheap, and a record held longer keeps the memory of its fetch (up to
// max_partition_fetch_bytes) alive. Copy the key or value into a std::string to
// keep just that.
// Thread-safety: plain value type; `storage` is immutable and shared.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/client/types.h"

namespace sluice::consumer {

using client::Header;
using client::TopicPartition;

enum class TimestampType { create_time, log_append_time };

struct ConsumerRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = 0;  // ms since the epoch
  TimestampType timestamp_type = TimestampType::create_time;
  std::optional<std::string_view> key;    // binary-safe; nullopt is a null key
  std::optional<std::string_view> value;  // nullopt is a null value (a tombstone)
  std::vector<Header> headers;
  std::shared_ptr<const void> storage;  // owns the bytes `key` and `value` point into
};

}  // namespace sluice::consumer
