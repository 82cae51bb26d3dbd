// Topic metadata: partitions with their offsets, and topic configs, from a
// MetadataRequest. Used by the producer (partition counts), the admin client
// (list and describe) and the consumer.
// Thread-safety: plain functions over a thread-safe NetworkClient.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sluice/client/network_client.h"
#include "sluice/common/error.h"

namespace sluice::client {

struct PartitionInfo {
  int32_t partition = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  // For a compacted partition: the share of its closed bytes not yet cleaned,
  // and when (wall ms) the last clean ended, -1 before the first.
  bool compacts = false;
  double dirty_ratio = 0;
  int64_t last_clean_ms = -1;
};

struct TopicDescription {
  std::string name;
  std::vector<PartitionInfo> partitions;  // ordered by partition
  std::map<std::string, std::string> configs;
};

// One topic's entry: its description, or why the broker could not describe it
// (UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist).
struct TopicMetadata {
  std::string name;
  Result<TopicDescription> description;
};

struct ClusterMetadata {
  HostPort broker;
  std::vector<TopicMetadata> topics;
};

// Whether "every topic" includes the broker's internal ones (named "__...").
enum class InternalTopics { exclude, include };

// Asks for `topics` (empty: every topic). Blocking; REQUIRES: not on the io thread.
Result<ClusterMetadata> fetch_metadata(NetworkClient& net, const std::vector<std::string>& topics,
                                       std::chrono::milliseconds timeout,
                                       InternalTopics internal = InternalTopics::exclude);

// The same, completing on the io thread.
void fetch_metadata_async(NetworkClient& net, const std::vector<std::string>& topics, std::chrono::milliseconds timeout,
                          std::function<void(Result<ClusterMetadata>)> done);

}  // namespace sluice::client
