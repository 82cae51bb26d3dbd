// The metadata file of one topic, <data>/__topics/<name>.topic (storage/FORMAT.md,
// "Topic metadata"): text lines of key=value, the version first.
//
//   version=1
//   name=orders
//   partitions=3
//   created_ms=1700000000000
//   config.retention.ms=3600000      one line per setting set explicitly
//
// Version 0 is the format before versions: no version line, "partitions=N" and the
// settings without the "config." prefix. It is still read; files are written as v1.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"

namespace sluice::broker {

inline constexpr int32_t kTopicMetadataVersion = 1;

struct TopicMetadata {
  std::string name;
  int32_t partitions = 0;
  std::map<std::string, std::string> overrides;  // the settings set explicitly, by wire name
  std::optional<TimestampMs> created;            // unknown for a topic written as v0
};

std::string encode_topic_metadata(const TopicMetadata& metadata);

// `path` names the file in errors; `name` is the topic its file name says. A
// version newer than kTopicMetadataVersion, a missing or bad partition count, or a
// name line that is not `name` is corrupt_data naming the file.
Result<TopicMetadata> decode_topic_metadata(const std::string& path, const std::string& name, std::string_view text);

}  // namespace sluice::broker
