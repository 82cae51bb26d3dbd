// What the admin client reports about consumer groups: listings, descriptions with
// members and assignments, and per-partition offsets with lag (Admin::list_groups,
// describe_groups, describe_group_offsets).
// Thread-safety: value types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sluice/client/types.h"
#include "sluice/common/error.h"

namespace sluice::client {

struct GroupListing {
  std::string group_id;
  std::string state;  // "empty", "assigning", "reconciling", "stable"
  std::string protocol_type;
  int32_t members = 0;
};

struct GroupMemberDescription {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string host;
  std::vector<std::string> subscribed_topics;
  std::string subscribed_topic_regex;  // "": none
  int32_t member_epoch = 0;
  std::vector<TopicPartition> assignment;         // what it may consume now, sorted
  std::vector<TopicPartition> target_assignment;  // its share of the target, sorted
};

struct GroupDescription {
  std::string group_id;
  std::string state;
  int32_t group_epoch = 0;
  int32_t assignment_epoch = 0;
  std::string assignor;
  std::vector<GroupMemberDescription> members;
};

// A per-group outcome of a batch call.
struct GroupStatus {
  std::string group_id;
  Status status;
};

struct GroupPartitionOffsets {
  TopicPartition partition;
  Status status;                     // why the broker could not read the partition (a deleted topic)
  std::optional<int64_t> committed;  // nullopt: nothing committed (kafka-consumer-groups prints "-")
  int64_t log_end_offset = 0;
  std::optional<int64_t> lag;         // records: log end - committed; nullopt without a commit
  std::optional<double> lag_seconds;  // now - timestamp of the record at the committed offset; 0 caught up
  std::string member_id;              // "": no member owns the partition
  std::string client_id;
  std::string host;
};

}  // namespace sluice::client
