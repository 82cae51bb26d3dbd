// The group metadata record of __consumer_offsets: every field of a snapshot survives
// encode/decode, a null value is a tombstone, and bytes that are not a valid snapshot
// decode to an error rather than to a group.
#include "group/group_record.h"

#include <gtest/gtest.h>

#include "group/offset_record.h"
#include "internal_state.pb.h"

namespace sluice::broker::group {
namespace {

GroupSnapshot every_field() {
  GroupSnapshot s;
  s.group_id = "orders";
  s.group_epoch = 7;
  s.assignment_epoch = 6;
  s.assignor = "range";
  s.target = {{"m-a", {{"t", {0, 1}}}}, {"m-b", {{"t", {2, 3}}, {"u", {0}}}}};
  s.target_metadata = {{"t", 4}, {"u", 1}};
  MemberSnapshot a;
  a.member_id = "m-a";
  a.instance_id = "instance-a";
  a.client_id = "client-a";
  a.host = "10.0.0.1";
  a.rebalance_timeout_ms = 30'000;
  a.session_timeout_ms = 6'000;
  a.subscribed_topics = {"t", "u"};
  a.member_epoch = 6;
  a.previous_member_epoch = 5;
  a.state = MemberState::unrevoked_partitions;
  a.assigned = {{"t", {0, 1}}};
  a.pending_revocation = {{"t", {2}}};
  a.reported_owned = {{"t", {0, 1, 2}}};
  a.static_left = true;
  MemberSnapshot b;
  b.member_id = "m-b";
  b.client_id = "client-b";
  b.host = "10.0.0.2";
  b.rebalance_timeout_ms = 45'000;
  b.session_timeout_ms = 10'000;
  b.regex = "t|u";
  b.member_epoch = 7;
  b.previous_member_epoch = 6;
  b.state = MemberState::unreleased_partitions;
  b.assigned = {{"t", {3}}, {"u", {0}}};
  b.reported_owned = {{"u", {0}}};
  s.members = {a, b};
  return s;
}

Result<GroupRecord> decode(const std::string& group, const Bytes& value) {
  const Bytes key = encode_group_key(group);
  return decode_group_record(ByteSpan(key), ByteSpan(value));
}

Bytes value_bytes(const state::GroupMetadataValue& message) {
  const std::string body = message.SerializeAsString();
  const auto bytes = as_bytes(body);
  return Bytes(bytes.begin(), bytes.end());
}

TEST(GroupRecord, EveryFieldSurvivesARoundTrip) {
  const GroupSnapshot snapshot = every_field();
  auto record = decode(snapshot.group_id, encode_group_value(snapshot));
  ASSERT_TRUE(record) << record.error().to_string();
  EXPECT_EQ(record->group_id, "orders");
  ASSERT_TRUE(record->snapshot);
  EXPECT_EQ(*record->snapshot, snapshot);
  // Field by field, so a failure names the field (== alone hides which).
  const MemberSnapshot& a = record->snapshot->members.at(0);
  EXPECT_EQ(a.instance_id, "instance-a");
  EXPECT_EQ(a.session_timeout_ms, 6'000);
  EXPECT_EQ(a.state, MemberState::unrevoked_partitions);
  EXPECT_EQ(a.pending_revocation, (TopicAssignment{{"t", {2}}}));
  EXPECT_TRUE(a.static_left);
  const MemberSnapshot& b = record->snapshot->members.at(1);
  EXPECT_FALSE(b.instance_id);
  EXPECT_EQ(b.regex, "t|u");
  EXPECT_EQ(b.state, MemberState::unreleased_partitions);
  EXPECT_EQ(record->snapshot->target_metadata, (TopicPartitions{{"t", 4}, {"u", 1}}));
}

TEST(GroupRecord, AnEmptyGroupRoundTrips) {
  GroupSnapshot snapshot;
  snapshot.group_id = "g";
  snapshot.group_epoch = 3;
  snapshot.assignment_epoch = 3;
  snapshot.assignor = "uniform";
  auto record = decode("g", encode_group_value(snapshot));
  ASSERT_TRUE(record);
  EXPECT_EQ(*record->snapshot, snapshot);
}

TEST(GroupRecord, ANullValueIsATombstone) {
  const Bytes key = encode_group_key("g");
  auto record = decode_group_record(ByteSpan(key), std::nullopt);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->group_id, "g");
  EXPECT_FALSE(record->snapshot);
}

TEST(GroupRecord, OtherRecordTypesAreUnsupportedAndBadKeysCorrupt) {
  const Bytes value = encode_group_value(every_field());
  const Bytes offset_key = encode_offset_key(OffsetKey{"g", "t", 0});
  auto other = decode_group_record(ByteSpan(offset_key), ByteSpan(value));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::unsupported);

  EXPECT_FALSE(decode_group_record(std::nullopt, ByteSpan(value)));
  const Bytes empty;
  EXPECT_FALSE(decode_group_record(ByteSpan(empty), ByteSpan(value)));
  const Bytes garbage_key = {std::byte{kGroupMetadataRecord}, std::byte{0xff}, std::byte{0xff}};
  auto bad_key = decode_group_record(ByteSpan(garbage_key), ByteSpan(value));
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().code, Errc::corrupt_data);
  const Bytes no_group = encode_group_key("");
  EXPECT_FALSE(decode_group_record(ByteSpan(no_group), ByteSpan(value)));
}

TEST(GroupRecord, ValuesThatBreakASnapshotsInvariantsAreCorrupt) {
  const Bytes garbage = {std::byte{0xff}, std::byte{0xff}, std::byte{0x01}};
  auto undecodable = decode("g", garbage);
  ASSERT_FALSE(undecodable);
  EXPECT_EQ(undecodable.error().code, Errc::corrupt_data);

  const auto expect_corrupt = [](const std::function<void(state::GroupMetadataValue&)>& damage, const char* what) {
    state::GroupMetadataValue message;
    message.add_members()->set_member_id("m");
    damage(message);
    auto record = decode("g", value_bytes(message));
    ASSERT_FALSE(record) << what;
    EXPECT_EQ(record.error().code, Errc::corrupt_data) << what;
  };
  expect_corrupt([](auto& m) { m.add_members()->set_member_id("m"); }, "a member id twice");
  expect_corrupt([](auto& m) { m.add_members(); }, "an empty member id");
  expect_corrupt([](auto& m) { m.mutable_members(0)->set_state(static_cast<state::GroupMemberState>(9)); },
                 "an unknown member state");
  expect_corrupt(
      [](auto& m) {
        auto* p = m.mutable_members(0)->add_assigned();
        p->set_topic("t");
        p->add_partitions(-1);
      },
      "a negative partition");
  expect_corrupt(
      [](auto& m) {
        for (int i = 0; i < 2; ++i) m.mutable_members(0)->add_pending_revocation()->set_topic("t");
      },
      "a topic twice in one assignment");
  expect_corrupt(
      [](auto& m) {
        for (int i = 0; i < 2; ++i) m.add_target()->set_member_id("m");
      },
      "a member twice in the target");
  expect_corrupt(
      [](auto& m) {
        auto* t = m.add_target_metadata();
        t->set_topic("t");
        t->set_partitions(-3);
      },
      "a negative partition count");
}

}  // namespace
}  // namespace sluice::broker::group
