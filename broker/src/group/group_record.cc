#include "group_record.h"

#include <algorithm>
#include <set>

#include "internal_state.pb.h"
#include "offset_record.h"
#include "record_bytes.h"

namespace sluice::broker::group {
namespace {

using PartitionsList = google::protobuf::RepeatedPtrField<state::GroupTopicPartitions>;

void to_message(const TopicAssignment& assignment, PartitionsList* out) {
  for (const auto& [topic, partitions] : assignment) {
    auto* entry = out->Add();
    entry->set_topic(topic);
    entry->mutable_partitions()->Add(partitions.begin(), partitions.end());
  }
}

Result<TopicAssignment> from_message(const PartitionsList& list) {
  TopicAssignment out;
  for (const auto& entry : list) {
    std::vector<int32_t> partitions(entry.partitions().begin(), entry.partitions().end());
    std::sort(partitions.begin(), partitions.end());
    partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
    if (!partitions.empty() && partitions.front() < 0) {
      return make_error(Errc::corrupt_data, "negative partition of topic " + entry.topic());
    }
    if (!out.emplace(entry.topic(), std::move(partitions)).second) {
      return make_error(Errc::corrupt_data, "topic " + entry.topic() + " twice in one assignment");
    }
  }
  return out;
}

state::GroupMemberState to_message(MemberState state) {
  switch (state) {
    case MemberState::stable: return state::MEMBER_STABLE;
    case MemberState::unrevoked_partitions: return state::MEMBER_UNREVOKED_PARTITIONS;
    case MemberState::unreleased_partitions: return state::MEMBER_UNRELEASED_PARTITIONS;
  }
  return state::MEMBER_STABLE;
}

Result<MemberState> from_message(state::GroupMemberState state) {
  switch (state) {
    case state::MEMBER_STABLE: return MemberState::stable;
    case state::MEMBER_UNREVOKED_PARTITIONS: return MemberState::unrevoked_partitions;
    case state::MEMBER_UNRELEASED_PARTITIONS: return MemberState::unreleased_partitions;
    default: break;
  }
  return make_error(Errc::corrupt_data, "unknown member state " + std::to_string(static_cast<int>(state)));
}

void to_message(const MemberSnapshot& member, state::GroupMemberValue& out) {
  out.set_member_id(member.member_id);
  if (member.instance_id) out.set_instance_id(*member.instance_id);
  out.set_client_id(member.client_id);
  out.set_host(member.host);
  out.set_rebalance_timeout_ms(member.rebalance_timeout_ms);
  out.set_session_timeout_ms(member.session_timeout_ms);
  out.mutable_subscribed_topics()->Add(member.subscribed_topics.begin(), member.subscribed_topics.end());
  out.set_regex(member.regex);
  out.set_member_epoch(member.member_epoch);
  out.set_previous_member_epoch(member.previous_member_epoch);
  out.set_state(to_message(member.state));
  to_message(member.assigned, out.mutable_assigned());
  to_message(member.pending_revocation, out.mutable_pending_revocation());
  to_message(member.reported_owned, out.mutable_reported_owned());
  out.set_static_left(member.static_left);
}

Result<MemberSnapshot> from_message(const state::GroupMemberValue& in) {
  if (in.member_id().empty()) return make_error(Errc::corrupt_data, "group member without an id");
  MemberSnapshot member;
  member.member_id = in.member_id();
  if (in.has_instance_id()) member.instance_id = in.instance_id();
  member.client_id = in.client_id();
  member.host = in.host();
  member.rebalance_timeout_ms = in.rebalance_timeout_ms();
  member.session_timeout_ms = in.session_timeout_ms();
  member.subscribed_topics.assign(in.subscribed_topics().begin(), in.subscribed_topics().end());
  std::sort(member.subscribed_topics.begin(), member.subscribed_topics.end());
  member.regex = in.regex();
  member.member_epoch = in.member_epoch();
  member.previous_member_epoch = in.previous_member_epoch();
  auto state = from_message(in.state());
  if (!state) return tl::unexpected(state.error());
  member.state = *state;
  auto assigned = from_message(in.assigned());
  auto pending = from_message(in.pending_revocation());
  auto owned = from_message(in.reported_owned());
  for (const auto* set : {&assigned, &pending, &owned}) {
    if (!*set) return tl::unexpected(set->error());
  }
  member.assigned = std::move(*assigned);
  member.pending_revocation = std::move(*pending);
  member.reported_owned = std::move(*owned);
  member.static_left = in.static_left();
  return member;
}

Result<GroupSnapshot> from_message(std::string group_id, const state::GroupMetadataValue& in) {
  GroupSnapshot snapshot;
  snapshot.group_id = std::move(group_id);
  snapshot.group_epoch = in.group_epoch();
  snapshot.assignment_epoch = in.assignment_epoch();
  snapshot.assignor = in.assignor();
  for (const auto& share : in.target()) {
    auto partitions = from_message(share.partitions());
    if (!partitions) return tl::unexpected(partitions.error());
    if (!snapshot.target.emplace(share.member_id(), std::move(*partitions)).second) {
      return make_error(Errc::corrupt_data, "member " + share.member_id() + " twice in the target assignment");
    }
  }
  for (const auto& topic : in.target_metadata()) {
    if (topic.partitions() < 0 || !snapshot.target_metadata.emplace(topic.topic(), topic.partitions()).second) {
      return make_error(Errc::corrupt_data, "bad partition count of topic " + topic.topic());
    }
  }
  std::set<std::string> ids;
  for (const auto& m : in.members()) {
    auto member = from_message(m);
    if (!member) return tl::unexpected(member.error());
    if (!ids.insert(member->member_id).second) {
      return make_error(Errc::corrupt_data, "member " + member->member_id + " twice in group " + snapshot.group_id);
    }
    snapshot.members.push_back(std::move(*member));
  }
  std::sort(snapshot.members.begin(), snapshot.members.end(),
            [](const MemberSnapshot& a, const MemberSnapshot& b) { return a.member_id < b.member_id; });
  return snapshot;
}

}  // namespace

Bytes encode_group_key(const std::string& group_id) {
  state::GroupMetadataKey message;
  message.set_group(group_id);
  return serialize_record_part(kGroupMetadataRecord, message);
}

Bytes encode_group_value(const GroupSnapshot& snapshot) {
  state::GroupMetadataValue message;
  message.set_group_epoch(snapshot.group_epoch);
  message.set_assignment_epoch(snapshot.assignment_epoch);
  message.set_assignor(snapshot.assignor);
  for (const auto& [member_id, partitions] : snapshot.target) {
    auto* share = message.add_target();
    share->set_member_id(member_id);
    to_message(partitions, share->mutable_partitions());
  }
  for (const auto& [topic, count] : snapshot.target_metadata) {
    auto* entry = message.add_target_metadata();
    entry->set_topic(topic);
    entry->set_partitions(count);
  }
  for (const MemberSnapshot& member : snapshot.members) to_message(member, *message.add_members());
  return serialize_record_part(0, message);
}

Result<GroupRecord> decode_group_record(std::optional<ByteSpan> key, std::optional<ByteSpan> value) {
  if (!key || key->empty()) return make_error(Errc::corrupt_data, "record without a key");
  const auto type = static_cast<uint8_t>((*key)[0]);
  if (type != kGroupMetadataRecord) {
    return make_error(Errc::unsupported, "record type " + std::to_string(type) + " is not group metadata");
  }
  state::GroupMetadataKey k;
  if (!parse_record_part(key->subspan(1), k))
    return make_error(Errc::corrupt_data, "group metadata key does not decode");
  if (k.group().empty()) return make_error(Errc::corrupt_data, "group metadata key without a group");
  GroupRecord record{k.group(), std::nullopt};
  if (!value) return record;
  state::GroupMetadataValue v;
  if (!parse_record_part(*value, v)) return make_error(Errc::corrupt_data, "group metadata value does not decode");
  auto snapshot = from_message(record.group_id, v);
  if (!snapshot) return tl::unexpected(snapshot.error());
  record.snapshot = std::move(*snapshot);
  return record;
}

}  // namespace sluice::broker::group
