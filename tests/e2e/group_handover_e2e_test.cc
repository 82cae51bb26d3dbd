// Partitions change hands without waiting for a heartbeat interval: a member's long-poll
// fetch watches its group, and the broker answers it early (heartbeat_now) once that
// member's heartbeat would change its assignment. The broker here dictates a 30 s
// heartbeat interval, so each handover that completes within the 10 s failure bounds
// was prompted; without the prompts each step would wait up to 30 s.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "sluice/client/admin.h"

#include "broker_process.h"
#include "e2e_helpers.h"
#include "subscribed_member.h"

namespace sluice {
namespace {

using client::Admin;
using testing::BrokerProcess;
using testing::SubscribedMember;
using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

constexpr int kPartitions = 4;
constexpr auto kFailureBound = seconds(10);  // a third of the heartbeat interval

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

class GroupHandoverE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start()) << broker_.log();
    auto admin = Admin::create({.bootstrap = broker_.address()});
    ASSERT_TRUE(admin) << admin.error().to_string();
    admin_.emplace(std::move(*admin));
    ASSERT_TRUE(admin_->create_topic("stream", kPartitions));
    ASSERT_TRUE(admin_->create_topic("single", 1));
  }
  void TearDown() override {
    broker_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Whether the group has `members` members, stable (every member at the assignment epoch).
  bool stable_with(const std::string& group, size_t members) {
    auto described = admin_->describe_groups({group});
    return described && described->front() && described->front()->state == "stable" &&
           described->front()->members.size() == members;
  }

  std::string dir_ = testing::temp_dir("sluice-group-handover-e2e");
  BrokerProcess broker_{SLUICED_PATH, dir_, {"--group-consumer-heartbeat-interval-ms", "30000"}};
  std::optional<Admin> admin_;
};

TEST_F(GroupHandoverE2e, AJoinAndACloseMovePartitionsWithinMillisecondsNotAHeartbeatInterval) {
  SubscribedMember a(broker_.address(), "g", {"stream"});
  ASSERT_TRUE(a.listener().wait_for(kPartitions, kFailureBound));
  // b's join makes a due: a revokes half, which makes b due for them.
  const auto joined_at = Clock::now();
  SubscribedMember b(broker_.address(), "g", {"stream"});
  ASSERT_TRUE(b.listener().wait_for(kPartitions / 2, kFailureBound));
  ASSERT_TRUE(a.listener().wait_for(kPartitions / 2, kFailureBound));
  const double join_s = seconds_since(joined_at);

  const auto closed_at = Clock::now();
  a.close();
  ASSERT_TRUE(b.listener().wait_for(kPartitions, kFailureBound));
  const double close_s = seconds_since(closed_at);
  EXPECT_FALSE(a.read_unowned());
  EXPECT_FALSE(b.read_unowned());
  RecordProperty("join_handover_s", std::to_string(join_s));
  RecordProperty("close_handover_s", std::to_string(close_s));
}

// A member with nothing assigned has no partition to fetch; its fetches still watch the
// group, so it takes a partition the moment the owner leaves.
TEST_F(GroupHandoverE2e, AMemberWithNothingAssignedTakesThePartitionWhenItsOwnerCloses) {
  SubscribedMember a(broker_.address(), "g", {"single"});
  ASSERT_TRUE(a.listener().wait_for(1, kFailureBound));
  SubscribedMember b(broker_.address(), "g", {"single"});
  ASSERT_TRUE(eventually([&] { return stable_with("g", 2); }, kFailureBound));
  ASSERT_EQ(b.listener().owned(), 0);
  ASSERT_EQ(a.listener().owned(), 1);

  a.close();
  EXPECT_TRUE(b.listener().wait_for(1, kFailureBound)) << "b owns " << b.listener().owned();
}

}  // namespace
}  // namespace sluice
