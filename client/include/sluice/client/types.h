// Value types shared by the producer, the consumer and the admin client.
// Thread-safety: plain value types.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace sluice::client {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  auto operator<=>(const TopicPartition&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads it
  std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

// A record header. Keys are text, values are bytes (std::string is binary-safe)
// and may be null.
struct Header {
  std::string key;
  std::optional<std::string> value;

  bool operator==(const Header&) const = default;
};

enum class CompressionType { none, zstd };

}  // namespace sluice::client

template <>
struct std::hash<sluice::client::TopicPartition> {
  size_t operator()(const sluice::client::TopicPartition& tp) const noexcept {
    return std::hash<std::string>{}(tp.topic) * 31 + std::hash<int32_t>{}(tp.partition);
  }
};
