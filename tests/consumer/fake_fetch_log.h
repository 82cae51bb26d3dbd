// The read side of a log for consumer tests, behind a FakeBroker: partitions of
// record batches (built with the storage codec, records "v<offset>"), answering
// ListOffsets (earliest, latest) and Fetch like the broker does: whole batches
// from the one holding the fetch offset, at least one batch, then up to
// partition_max_bytes; OFFSET_OUT_OF_RANGE outside [log start, log end];
// UNKNOWN_TOPIC_OR_PARTITION for a partition it does not have. A fetch with no
// data is answered empty after a short delay (a stand-in for the long poll).
// Tests inject a per-partition error and read back what each fetch asked for.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "sluice/client/types.h"

#include "fake_broker.h"

namespace sluice::testing {

class FakeFetchLog {
 public:
  struct FetchAsk {
    client::TopicPartition partition;
    int64_t offset = 0;
  };

  void add_partition(const client::TopicPartition& tp);
  // Appends one batch of `count` records; returns its base offset.
  int64_t append(const client::TopicPartition& tp, int count);
  // Drops the batches wholly below `offset` and makes it the log start (retention).
  void advance_log_start(const client::TopicPartition& tp, int64_t offset);
  // Every later fetch of tp answers `code` (NONE clears it).
  void fail_fetches(const client::TopicPartition& tp, wire::ErrorCode code);
  // The next fetch that watches a group (FetchRequest.group_member) is answered at once
  // with heartbeat_now, as the broker does when the member's assignment changed.
  void prompt_heartbeat();

  FakeBroker::Reply handle(const FakeBroker::Request& request);

  // The partitions and offsets of every fetch received, in arrival order.
  std::vector<std::vector<FetchAsk>> fetches() const;
  // The group member each fetch watched, in arrival order (unset: none).
  std::vector<wire::FetchRequest::GroupMember> watches() const;

 private:
  struct Batch {
    int64_t base_offset = 0;
    int64_t last_offset = 0;
    Bytes bytes;
  };
  struct Partition {
    int64_t log_start = 0;
    int64_t log_end = 0;
    std::vector<Batch> batches;
    wire::ErrorCode error = wire::NONE;
  };

  FakeBroker::Reply list_offsets(const FakeBroker::Request& request);
  FakeBroker::Reply fetch(const FakeBroker::Request& request);

  mutable std::mutex mutex_;
  std::map<client::TopicPartition, Partition> partitions_;
  std::vector<std::vector<FetchAsk>> fetches_;
  std::vector<wire::FetchRequest::GroupMember> watches_;
  bool prompt_heartbeat_ = false;
};

}  // namespace sluice::testing
