// Group metadata records of __consumer_offsets (storage/FORMAT.md): one consumer
// group's persistent state as one snapshot, independent of ConsumerGroup and of the
// wire messages.
//
//   key   := type:uint8 message     type 2: GroupMetadataKey (internal_state.proto)
//   value := GroupMetadataValue | null (a tombstone: the group is deleted)
//
// What a snapshot leaves out is derived again on restore: resolved topics (from the
// subscription and the topics), liveness deadlines (restarted from `now`), and which
// assignment the member was last sent (it is sent again).
// Thread-safety: plain data and functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"

#include "assignment.h"
#include "member.h"
#include "subscription.h"

namespace sluice::broker::group {

struct MemberSnapshot {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::vector<std::string> subscribed_topics;
  std::string regex;
  int32_t member_epoch = kJoinEpoch;
  int32_t previous_member_epoch = kJoinEpoch;
  MemberState state = MemberState::stable;
  TopicAssignment assigned;
  TopicAssignment pending_revocation;
  TopicAssignment reported_owned;
  bool static_left = false;
  bool operator==(const MemberSnapshot&) const = default;
};

struct GroupSnapshot {
  std::string group_id;
  int32_t group_epoch = 0;
  int32_t assignment_epoch = 0;
  std::string assignor;
  TargetAssignment target;
  TopicPartitions target_metadata;
  std::vector<MemberSnapshot> members;  // by member id, unique
  bool operator==(const GroupSnapshot&) const = default;
};

// A decoded type-2 record: the group, and its snapshot unless it is a tombstone.
struct GroupRecord {
  std::string group_id;
  std::optional<GroupSnapshot> snapshot;
};

Bytes encode_group_key(const std::string& group_id);
Bytes encode_group_value(const GroupSnapshot& snapshot);
// corrupt_data for a key or value that does not decode or breaks a snapshot's
// invariants (an empty or repeated member id, an unknown member state, a negative
// partition, a topic twice in one assignment); unsupported for another record type.
Result<GroupRecord> decode_group_record(std::optional<ByteSpan> key, std::optional<ByteSpan> value);

}  // namespace sluice::broker::group
