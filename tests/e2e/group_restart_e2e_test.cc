// Consumer groups across a broker kill -9 over the real sluiced: the members continue
// with their ids, epochs and partitions (no rebalance), their committed offsets are
// intact, and a session timeout below the broker's minimum is refused.
#include <gtest/gtest.h>

#include <set>

#include "../broker/group/raw_member.h"
#include "../broker/raw_client.h"
#include "broker_process.h"
#include "e2e_helpers.h"

namespace sluice {
namespace {

using testing::BrokerProcess;
using testing::RawClient;
using testing::RawMember;

class GroupRestartE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    RawClient c(broker_.address());
    ASSERT_EQ(testing::create_group_topic(c, "events", 4), wire::NONE);
  }
  void TearDown() override {
    broker_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  wire::ErrorCode commit(RawClient& c, const RawMember& m, int64_t offset) {
    wire::OffsetCommitRequest req;
    req.set_group_id(m.group);
    req.set_member_id(m.id);
    req.set_member_epoch(m.epoch);
    for (const auto& [topic, partitions] : m.owned) {
      for (int32_t p : partitions) {
        auto* part = req.add_partitions();
        part->set_topic(topic);
        part->set_partition(p);
        part->set_offset(offset + p);
      }
    }
    auto resp = c.call<wire::OffsetCommitResponse>(wire::OFFSET_COMMIT, req);
    if (!resp) return wire::UNKNOWN_SERVER_ERROR;
    for (const auto& r : resp->results()) {
      if (r.error().code() != wire::NONE) return r.error().code();
    }
    return wire::NONE;
  }

  std::map<int32_t, int64_t> committed(RawClient& c, const std::string& group) {
    wire::OffsetFetchRequest req;
    req.set_group_id(group);
    auto resp = c.call<wire::OffsetFetchResponse>(wire::OFFSET_FETCH, req);
    std::map<int32_t, int64_t> out;
    if (!resp) return out;
    for (const auto& r : resp->results()) out[r.partition()] = r.offset();
    return out;
  }

  std::string dir_ = temp_dir("sluice-group-restart-e2e");
  BrokerProcess broker_{SLUICED_PATH, dir_, {"--group-consumer-heartbeat-interval-ms", "100"}};
};

TEST_F(GroupRestartE2e, TwoMembersKeepTheirPartitionsAndEpochsAcrossKillDashNine) {
  RawClient c(broker_.address());
  RawMember a{.group = "g", .topics = {"events"}};
  RawMember b{.group = "g", .topics = {"events"}};
  for (int round = 0; round < 6 && (a.partitions() != 2 || b.partitions() != 2); ++round) {
    for (RawMember* m : {&a, &b}) {
      auto resp = m->beat(c);
      ASSERT_EQ(resp.error().code(), wire::NONE) << resp.error().message();
    }
  }
  ASSERT_EQ(a.partitions(), 2u);
  ASSERT_EQ(b.partitions(), 2u);
  // One more round: both at the assignment epoch, nothing left to change.
  for (RawMember* m : {&a, &b}) ASSERT_EQ(m->beat(c).error().code(), wire::NONE);
  ASSERT_EQ(a.epoch, b.epoch);
  ASSERT_EQ(commit(c, a, 100), wire::NONE);
  ASSERT_EQ(commit(c, b, 200), wire::NONE);
  const std::map<int32_t, int64_t> before = committed(c, "g");
  ASSERT_EQ(before.size(), 4u);

  const RawMember a_before = a, b_before = b;
  ASSERT_EQ(broker_.stop(SIGKILL), -SIGKILL);
  ASSERT_TRUE(broker_.start(broker_.address()));
  RawClient after(broker_.address());

  for (int round = 0; round < 3; ++round) {
    for (auto [m, was] : {std::pair{&a, &a_before}, std::pair{&b, &b_before}}) {
      auto resp = m->beat(after);
      ASSERT_EQ(resp.error().code(), wire::NONE) << "round " << round << ": " << resp.error().message();
      EXPECT_EQ(resp.member_id(), was->id);
      EXPECT_EQ(resp.member_epoch(), was->epoch) << "no rebalance: the epoch the member had";
      EXPECT_EQ(m->owned, was->owned) << "no partition moves";
    }
  }
  EXPECT_EQ(committed(after, "g"), before);
  // The restored epochs still validate commits.
  EXPECT_EQ(commit(after, a, 300), wire::NONE);
  RawMember stale = a;
  stale.epoch = a.epoch - 1;
  EXPECT_EQ(commit(after, stale, 400), wire::STALE_MEMBER_EPOCH);
}

TEST_F(GroupRestartE2e, AGroupChangedJustBeforeTheKillComesBackAsItWasAnswered) {
  RawClient c(broker_.address());
  RawMember a{.group = "h", .topics = {"events"}};
  ASSERT_EQ(a.beat(c).error().code(), wire::NONE);
  ASSERT_EQ(a.partitions(), 4u);
  // b's join is the last change: answered, so durable.
  RawMember b{.group = "h", .topics = {"events"}};
  ASSERT_EQ(b.beat(c).error().code(), wire::NONE);
  ASSERT_EQ(broker_.stop(SIGKILL), -SIGKILL);
  ASSERT_TRUE(broker_.start(broker_.address()));
  RawClient after(broker_.address());
  // b is known (not UNKNOWN_MEMBER_ID), and the hand-over goes on from where it was.
  for (int round = 0; round < 6 && (a.partitions() != 2 || b.partitions() != 2); ++round) {
    for (RawMember* m : {&a, &b}) {
      auto resp = m->beat(after);
      ASSERT_EQ(resp.error().code(), wire::NONE) << resp.error().message();
    }
  }
  EXPECT_EQ(a.partitions(), 2u);
  EXPECT_EQ(b.partitions(), 2u);
  std::set<int32_t> all;
  for (const RawMember* m : {&a, &b}) all.insert(m->owned.at("events").begin(), m->owned.at("events").end());
  EXPECT_EQ(all.size(), 4u);
}

TEST_F(GroupRestartE2e, ASessionTimeoutBelowTheMinimumIsRefusedNamingTheBounds) {
  RawClient c(broker_.address());
  RawMember m{.group = "g", .topics = {"events"}, .session_timeout_ms = 5'999};
  auto resp = m.beat(c);
  EXPECT_EQ(resp.error().code(), wire::INVALID_SESSION_TIMEOUT);
  EXPECT_NE(resp.error().message().find("[6000, 1800000]"), std::string::npos) << resp.error().message();
  m.session_timeout_ms = 6'000;
  EXPECT_EQ(m.beat(c).error().code(), wire::NONE);
}

}  // namespace
}  // namespace sluice
