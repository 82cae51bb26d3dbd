// A consumer group's committed offsets (OffsetCommit, OffsetFetch), shared by the
// consumer's commits and the admin client. A commit is made outside any group
// membership (Kafka's "simple" consumer: empty member id, epoch -1).
// Thread-safety: plain functions over a thread-safe NetworkClient.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sluice/client/network_client.h"
#include "sluice/client/types.h"
#include "sluice/common/error.h"

namespace sluice::client {

struct OffsetAndMetadata {
  int64_t offset = -1;  // the next offset to consume; -1: nothing committed
  std::string metadata;
  bool operator==(const OffsetAndMetadata&) const = default;
};

// A group member's identity on a commit; the default is a consumer outside the group.
struct CommitMember {
  std::string member_id;
  int32_t member_epoch = -1;
};

// Commits each partition's offset; the outer error is a failed request, the map
// holds each partition's own outcome (one may fail while the others commit).
Result<std::map<TopicPartition, Status>> commit_offsets(NetworkClient& net, const std::string& group,
                                                        const std::map<TopicPartition, OffsetAndMetadata>& offsets,
                                                        std::chrono::milliseconds timeout,
                                                        const CommitMember& member = {});

// The committed offsets of `partitions` (offset -1 where there is none), or with
// no partitions every partition the group has committed.
Result<std::map<TopicPartition, OffsetAndMetadata>> fetch_committed_offsets(
    NetworkClient& net, const std::string& group, const std::vector<TopicPartition>& partitions,
    std::chrono::milliseconds timeout);

}  // namespace sluice::client
