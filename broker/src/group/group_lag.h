// A group's position and lag per partition (DESIGN §5: lag is the broker's): for each
// partition the group has committed or a member is assigned, the committed offset, the
// log end, the lag in records (log end - committed) and in seconds (now - the timestamp
// of the record at the committed offset: the age of the oldest record the group has not
// committed past; 0 when caught up), and the member that owns it. Shared by
// DescribeGroupOffsets and the /metrics scrape.
// Thread-safety: plain functions over thread-safe stores; they read one batch per
// lagging partition from its log: REQUIRES they run off the I/O thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/broker/partition.h"
#include "sluice/broker/topic_table.h"
#include "sluice/common/error.h"

#include "group_description.h"
#include "offset_store.h"

namespace sluice::broker::group {

struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  Status status;                  // why the offsets below are unknown (a deleted topic, a failed read)
  int64_t committed_offset = -1;  // -1: nothing committed
  int64_t log_end_offset = 0;
  std::optional<int64_t> lag;         // nullopt without a commit (kafka-consumer-groups prints "-")
  std::optional<double> lag_seconds;  // nullopt without a commit
  std::string member_id;              // "": no member owns the partition
  std::string client_id;
  std::string host;
};

// By topic and partition. `description`: the coordinator's snapshot of the group, if it holds it.
std::vector<PartitionLag> group_lag(const std::string& group, const std::optional<GroupDescription>& description,
                                    const OffsetStore& offsets, const TopicTable& topics, int64_t now_ms);

// The timestamp of the first record at or after `offset` (the log start if `offset` is
// below it), reading only the one batch that holds it; nullopt at the log end.
Result<std::optional<int64_t>> record_timestamp_at(const Partition& partition, Offset offset);

}  // namespace sluice::broker::group
