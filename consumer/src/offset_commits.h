// The consumer's committed offsets: what commit_sync() sends (the positions poll()
// has reached, or offsets the caller gives) and where a partition without a
// position starts (its group's committed offset, if any).
// Thread-safety: none; owned by the consumer and used from its caller's thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/client/group_offsets.h"
#include "sluice/client/network_client.h"
#include "sluice/common/error.h"
#include "sluice/consumer/commit_callback.h"

#include "subscription_state.h"

namespace sluice::consumer {

using client::OffsetAndMetadata;

class CommitQueue;

class OffsetCommits {
 public:
  // REQUIRES: `net` and `subscriptions` outlive this.
  OffsetCommits(client::NetworkClient& net, const SubscriptionState& subscriptions, std::string group_id,
                std::chrono::milliseconds timeout);
  ~OffsetCommits();
  OffsetCommits(const OffsetCommits&) = delete;
  OffsetCommits& operator=(const OffsetCommits&) = delete;

  bool has_group() const { return !group_id_.empty(); }
  // Commits carry this identity from now on (group membership); the default is none.
  void set_member(client::CommitMember member) { member_ = std::move(member); }

  // The first partition's error (naming it) if any failed; the others are committed.
  Status commit(const std::map<TopicPartition, OffsetAndMetadata>& offsets);
  // The same, as `member`, without waiting for queued commits.
  Status commit_as(const client::CommitMember& member,
                   const std::map<TopicPartition, OffsetAndMetadata>& offsets) const;

  // Queues the commit (as the current member); `callback` runs from a later
  // run_callbacks(). Errors reach the callback: no group_id, a refused partition, a failed request.
  void commit_async(std::map<TopicPartition, OffsetAndMetadata> offsets, CommitCallback callback);
  // The positions of every assigned partition that has one.
  std::map<TopicPartition, OffsetAndMetadata> positions() const;
  // Calls the callbacks of completed asynchronous commits, oldest first.
  void run_callbacks();
  // Waits for every queued commit, then calls the callbacks.
  void flush();

  Result<std::map<TopicPartition, OffsetAndMetadata>> committed(const std::vector<TopicPartition>& partitions);

  // The committed offset of each of `partitions` that has one (others are left out).
  Result<std::map<TopicPartition, int64_t>> starting_offsets(const std::vector<TopicPartition>& partitions);

 private:
  Status require_group() const;

  client::NetworkClient& net_;
  const SubscriptionState& subscriptions_;
  const std::string group_id_;
  const std::chrono::milliseconds timeout_;
  client::CommitMember member_;
  std::unique_ptr<CommitQueue> queue_;
};

}  // namespace sluice::consumer
