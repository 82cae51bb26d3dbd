#include "topic_metadata.h"

#include <charconv>

namespace sluice::broker {
namespace {

constexpr std::string_view kConfigPrefix = "config.";

template <typename Int>
bool parse_int(std::string_view text, Int& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Calls `line(key, value)` for every "key=value" line; lines without '=' are skipped.
template <typename Fn>
void for_each_line(std::string_view text, Fn line) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view l = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    size_t eq = l.find('=');
    if (eq != std::string_view::npos) line(l.substr(0, eq), l.substr(eq + 1));
  }
}

}  // namespace

std::string encode_topic_metadata(const TopicMetadata& metadata) {
  std::string out = "version=" + std::to_string(kTopicMetadataVersion) + "\n";
  out.append("name=").append(metadata.name).append("\n");
  out.append("partitions=").append(std::to_string(metadata.partitions)).append("\n");
  if (metadata.created) out.append("created_ms=").append(std::to_string(metadata.created->value())).append("\n");
  for (const auto& [key, value] : metadata.overrides) {
    out.append(kConfigPrefix).append(key).append("=").append(value).append("\n");
  }
  return out;
}

Result<TopicMetadata> decode_topic_metadata(const std::string& path, const std::string& name, std::string_view text) {
  TopicMetadata metadata;
  metadata.name = name;
  int32_t version = 0;
  if (text.starts_with("version=")) {
    std::string_view line = text.substr(0, text.find('\n')).substr(8);
    if (!parse_int(line, version) || version < 1) {
      return make_error(Errc::corrupt_data, path + ": unreadable topic metadata version '" + std::string(line) + "'");
    }
    if (version > kTopicMetadataVersion) {
      return make_error(Errc::corrupt_data, path + ": topic metadata version " + std::to_string(version) +
                                                " is newer than this broker reads (" +
                                                std::to_string(kTopicMetadataVersion) + ")");
    }
  }
  std::optional<std::string> bad;
  for_each_line(text, [&](std::string_view key, std::string_view value) {
    if (key == "partitions") {
      if (!parse_int(value, metadata.partitions)) metadata.partitions = 0;
    } else if (version == 0) {
      metadata.overrides[std::string(key)] = std::string(value);
    } else if (key.starts_with(kConfigPrefix)) {
      metadata.overrides[std::string(key.substr(kConfigPrefix.size()))] = std::string(value);
    } else if (key == "name") {
      if (value != name) bad = "names topic '" + std::string(value) + "', its file name says '" + name + "'";
    } else if (key == "created_ms") {
      int64_t ms = 0;
      if (!parse_int(value, ms)) bad = "unreadable created_ms '" + std::string(value) + "'";
      metadata.created = TimestampMs(ms);
    } else if (key != "version" && !bad) {
      bad = "unknown key '" + std::string(key) + "' for version " + std::to_string(version);
    }
  });
  if (bad) return make_error(Errc::corrupt_data, path + ": " + *bad);
  if (metadata.partitions <= 0) return make_error(Errc::corrupt_data, path + ": missing or invalid partition count");
  return metadata;
}

}  // namespace sluice::broker
