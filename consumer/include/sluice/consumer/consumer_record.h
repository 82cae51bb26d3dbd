// A record as the consumer hands it out. It owns its bytes.
// Thread-safety: plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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
  std::optional<std::string> key;    // binary-safe; nullopt is a null key
  std::optional<std::string> value;  // nullopt is a null value (a tombstone)
  std::vector<Header> headers;
};

}  // namespace sluice::consumer
