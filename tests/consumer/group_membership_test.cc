// A subscribed consumer's membership against a scripted coordinator: on a
// reassignment it revokes first (commit, on_partitions_revoked, the smaller owned
// set reported) and takes the new partitions after; a fenced member loses its
// partitions and rejoins with epoch 0; close() leaves with epoch -1 at once.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "sluice/client/client_errors.h"
#include "sluice/consumer/consumer.h"

#include "fake_broker.h"
#include "fake_fetch_log.h"
#include "fake_group_coordinator.h"

namespace sluice::consumer {
namespace {

using namespace std::chrono_literals;
using testing::FakeBroker;
using testing::FakeFetchLog;
using testing::FakeGroupCoordinator;
using Partitions = std::vector<TopicPartition>;
using HeartbeatResponse = wire::ConsumerGroupHeartbeatResponse;

const TopicPartition kP0{"t", 0};
const TopicPartition kP1{"t", 1};
const TopicPartition kP2{"t", 2};
constexpr auto kPatience = 10s;  // a failure bound, never the synchronization

// The listener's calls, in order, as "assigned t-0,t-1" and so on.
class RecordingListener : public RebalanceListener {
 public:
  void on_partitions_assigned(const Partitions& p) override { events.push_back("assigned " + names(p)); }
  void on_partitions_revoked(const Partitions& p) override { events.push_back("revoked " + names(p)); }
  void on_partitions_lost(const Partitions& p) override { events.push_back("lost " + names(p)); }
  static std::string names(const Partitions& partitions) {
    std::string out;
    for (const auto& tp : partitions) out += (out.empty() ? "" : ",") + tp.to_string();
    return out;
  }
  std::vector<std::string> events;
};

HeartbeatResponse answer(const std::string& member_id, int32_t epoch, std::optional<Partitions> assignment,
                         int32_t interval_ms = 20) {
  HeartbeatResponse r;
  r.set_member_id(member_id);
  r.set_member_epoch(epoch);
  r.set_heartbeat_interval_ms(interval_ms);
  if (assignment) FakeGroupCoordinator::set_partitions(r.mutable_assignment(), *assignment);
  return r;
}

Partitions owned_by(const wire::ConsumerGroupHeartbeatRequest& req) {
  return FakeGroupCoordinator::partitions_of(req.owned());
}

class GroupMembershipTest : public ::testing::Test {
 protected:
  GroupMembershipTest()
      : coordinator_(log_), broker_([this](const FakeBroker::Request& r) { return coordinator_.handle(r); }) {
    for (const auto& tp : {kP0, kP1, kP2}) {
      log_.add_partition(tp);
      log_.append(tp, 3);
    }
  }

  // A static member (group.instance.id) with a 20 ms heartbeat.
  std::optional<Consumer> subscribed_static(const std::string& instance_id) {
    auto c = Consumer::create({.bootstrap = broker_.bootstrap(),
                               .group_id = "g",
                               .group_instance_id = instance_id,
                               .heartbeat_interval_ms = 20,
                               .auto_offset_reset = OffsetReset::earliest,
                               .fetch_max_wait_ms = 10,
                               .request_timeout_ms = 5000});
    EXPECT_TRUE(c) << c.error().to_string();
    if (!c) return std::nullopt;
    EXPECT_TRUE(c->subscribe(std::vector<std::string>{"t"}, &listener_));
    return std::move(*c);
  }

  Consumer subscribed(int32_t heartbeat_interval_ms = 20) {
    auto c = Consumer::create({.bootstrap = broker_.bootstrap(),
                               .group_id = "g",
                               .heartbeat_interval_ms = heartbeat_interval_ms,
                               .auto_offset_reset = OffsetReset::earliest,
                               .fetch_max_wait_ms = 10,
                               .request_timeout_ms = 5000});
    EXPECT_TRUE(c) << c.error().to_string();
    EXPECT_TRUE(c->subscribe(std::vector<std::string>{"t"}, &listener_));
    return std::move(*c);
  }

  // Polls until `done` holds (or kPatience passed).
  template <typename Done>
  bool poll_until(Consumer& c, Done done) {
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (!done() && std::chrono::steady_clock::now() < give_up) (void)c.poll(10ms);
    return done();
  }

  FakeFetchLog log_;
  FakeGroupCoordinator coordinator_;
  FakeBroker broker_;
  RecordingListener listener_;
};

TEST_F(GroupMembershipTest, AReassignmentRevokesAndReportsTheSmallerSetBeforeTakingNewPartitions) {
  // {t-0,t-1}, then t-0 revoked, then (once the member reports {t-1}) t-2 added.
  coordinator_.set_script([this](const wire::ConsumerGroupHeartbeatRequest& req) {
    if (req.member_epoch() == 0) return answer("m1", 1, Partitions{kP0, kP1});
    const Partitions owned = owned_by(req);
    bool fetched_p0 = false;
    for (const auto& fetch : log_.fetches()) {
      for (const auto& ask : fetch) fetched_p0 = fetched_p0 || ask.partition == kP0;
    }
    if (owned == Partitions{kP0, kP1} && fetched_p0) return answer("m1", 2, Partitions{kP1});
    if (owned == Partitions{kP1} || owned == Partitions{kP1, kP2}) return answer("m1", 3, Partitions{kP1, kP2});
    return answer("m1", req.member_epoch(), std::nullopt);
  });
  Consumer c = subscribed();
  ASSERT_TRUE(poll_until(c, [&] { return listener_.events.size() >= 3; }));
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"assigned t-0,t-1", "revoked t-0", "assigned t-2"}));
  EXPECT_EQ(c.assignment(), (Partitions{kP1, kP2}));

  // In the order the broker saw them: t-0's commit, then a heartbeat owning {t-1}
  // alone, and none owning t-0 and t-2 at once.
  bool committed_p0 = false, reported_smaller = false;
  for (const auto& e : coordinator_.events()) {
    if (e.commit && e.commit->offsets.contains(kP0)) {
      EXPECT_FALSE(reported_smaller) << "t-0 committed after the revocation was reported";
      committed_p0 = true;
    }
    if (!e.heartbeat) continue;
    const Partitions owned = owned_by(*e.heartbeat);
    if (owned == Partitions{kP1}) reported_smaller = true;
    EXPECT_NE(owned, (Partitions{kP0, kP1, kP2}));
  }
  EXPECT_TRUE(committed_p0);
  EXPECT_TRUE(reported_smaller);
}

TEST_F(GroupMembershipTest, AFencedMemberLosesItsPartitionsAndRejoinsWithEpochZero) {
  int joins = 0;
  bool fenced = false;
  coordinator_.set_script([&](const wire::ConsumerGroupHeartbeatRequest& req) {
    if (req.member_epoch() == 0) {
      ++joins;
      return answer(joins == 1 ? "m1" : "m2", joins == 1 ? 1 : 5, Partitions{kP0});
    }
    if (!fenced && owned_by(req) == Partitions{kP0}) {
      fenced = true;
      HeartbeatResponse r;
      r.mutable_error()->set_code(wire::FENCED_MEMBER_EPOCH);
      r.mutable_error()->set_message("epoch 1 is fenced");
      return r;
    }
    return answer(req.member_id(), req.member_epoch(), std::nullopt);
  });
  Consumer c = subscribed();
  ASSERT_TRUE(poll_until(c, [&] { return listener_.events.size() >= 3; }));
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"assigned t-0", "lost t-0", "assigned t-0"}));

  // The heartbeat after the fencing is a join: no member id, epoch 0, the subscription again.
  auto heartbeats = coordinator_.heartbeats();
  auto rejoin =
      std::find_if(heartbeats.begin() + 1, heartbeats.end(), [](const auto& h) { return h.member_epoch() == 0; });
  ASSERT_NE(rejoin, heartbeats.end());
  EXPECT_EQ(rejoin->member_id(), "");
  EXPECT_TRUE(owned_by(*rejoin).empty());
  ASSERT_TRUE(rejoin->has_subscribed_topics());
  EXPECT_EQ(rejoin->subscribed_topics().names_size(), 1);
  EXPECT_EQ(rejoin->member_epoch(), 0);
  EXPECT_EQ(c.assignment(), (Partitions{kP0}));
}

TEST_F(GroupMembershipTest, CloseRevokesAndLeavesWithEpochMinusOneAtOnce) {
  coordinator_.set_script([](const wire::ConsumerGroupHeartbeatRequest& req) {
    if (req.member_epoch() == 0) return answer("m1", 1, Partitions{kP0, kP1}, /*interval_ms=*/60'000);
    return answer(req.member_id(), req.member_epoch(), std::nullopt, 60'000);
  });
  Consumer c = subscribed(/*heartbeat_interval_ms=*/60'000);
  ASSERT_TRUE(poll_until(c, [&] { return !listener_.events.empty(); }));
  const size_t before = coordinator_.heartbeats().size();
  c.close();
  // The leave went out from close() itself, not at the next heartbeat a minute later.
  auto heartbeats = coordinator_.heartbeats();
  ASSERT_EQ(heartbeats.size(), before + 1);
  EXPECT_EQ(heartbeats.back().member_id(), "m1");
  EXPECT_EQ(heartbeats.back().member_epoch(), -1);
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"assigned t-0,t-1", "revoked t-0,t-1"}));
}

// A restarted static member whose old instance still holds the id, and a coordinator still
// loading: poll() reports neither; the member keeps asking and gets in, with its
// subscription on every try.
TEST_F(GroupMembershipTest, AJoinRefusedForAPassingReasonIsTriedAgainWithoutFailingPoll) {
  int joins = 0;
  coordinator_.set_script([&](const wire::ConsumerGroupHeartbeatRequest& req) {
    if (req.member_epoch() != 0) return answer(req.member_id(), req.member_epoch(), std::nullopt);
    ++joins;
    if (joins <= 2) {
      HeartbeatResponse r;
      r.mutable_error()->set_code(joins == 1 ? wire::UNRELEASED_INSTANCE_ID : wire::COORDINATOR_LOAD_IN_PROGRESS);
      r.mutable_error()->set_message("not yet");
      r.set_heartbeat_interval_ms(20);
      return r;
    }
    return answer("m1", 3, Partitions{kP0});
  });
  std::optional<Consumer> c = subscribed_static("instance-a");
  ASSERT_TRUE(c);
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (listener_.events.empty() && std::chrono::steady_clock::now() < give_up) {
    auto polled = c->poll(10ms);
    ASSERT_TRUE(polled) << polled.error().to_string();
  }
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"assigned t-0"}));
  EXPECT_EQ(joins, 3);
  for (const auto& h : coordinator_.heartbeats()) {
    if (h.member_epoch() == 0) {
      EXPECT_TRUE(h.has_subscribed_topics()) << "every join carries the subscription";
    }
  }
}

// The heartbeat interval is a minute, so only the fetch's heartbeat_now can bring the
// second heartbeat within the test. A member with nothing assigned still sends fetches,
// of no partition, that watch its group.
TEST_F(GroupMembershipTest, AFetchAnsweredHeartbeatNowBringsTheNextHeartbeatAtOnce) {
  coordinator_.set_script([&](const wire::ConsumerGroupHeartbeatRequest& req) {
    if (req.member_epoch() == 0) return answer("m1", 1, Partitions{}, 60'000);
    return answer("m1", 2, Partitions{kP0}, 60'000);
  });
  Consumer c = subscribed(/*heartbeat_interval_ms=*/60'000);
  const auto watching = [&] {
    for (const auto& w : log_.watches()) {
      if (w.member_id() == "m1" && w.member_epoch() == 1 && w.group_id() == "g") return true;
    }
    return false;
  };
  ASSERT_TRUE(poll_until(c, watching));
  for (size_t i = 0; i < log_.fetches().size(); ++i) {
    if (log_.watches()[i].member_id() == "m1") {
      EXPECT_TRUE(log_.fetches()[i].empty()) << "nothing to fetch";
    }
  }
  EXPECT_EQ(coordinator_.heartbeats().size(), 1u);
  log_.prompt_heartbeat();
  ASSERT_TRUE(poll_until(c, [&] { return !listener_.events.empty(); }));
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"assigned t-0"}));
  // The prompted heartbeat, then the one reporting t-0 owned (an assignment change is
  // reported at once), and no more.
  const auto heartbeats = coordinator_.heartbeats();
  ASSERT_EQ(heartbeats.size(), 3u);
  EXPECT_EQ(heartbeats[1].member_epoch(), 1);
  EXPECT_EQ(owned_by(heartbeats[2]), (Partitions{kP0}));
}

// Another process joined with this instance id: the member loses its partitions, poll()
// says why once, and it does not rejoin (which would fence the other in turn).
TEST_F(GroupMembershipTest, AFencedInstanceIdEndsTheMembershipWithoutRejoining) {
  int joins = 0;
  coordinator_.set_script([&](const wire::ConsumerGroupHeartbeatRequest& req) {
    if (req.member_epoch() == 0) {
      ++joins;
      return answer("m1", 1, Partitions{kP0});
    }
    HeartbeatResponse r;
    r.mutable_error()->set_code(wire::FENCED_INSTANCE_ID);
    r.mutable_error()->set_message("replaced by m2");
    return r;
  });
  std::optional<Consumer> c = subscribed_static("instance-a");
  ASSERT_TRUE(c);
  std::optional<Error> failed;
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (!failed && std::chrono::steady_clock::now() < give_up) {
    auto polled = c->poll(10ms);
    if (!polled) failed = polled.error();
  }
  ASSERT_TRUE(failed);
  EXPECT_EQ(client::error_code(*failed), client::ErrorCode::fenced_instance_id) << failed->to_string();
  EXPECT_NE(failed->to_string().find("replaced by m2"), std::string::npos) << failed->to_string();
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"assigned t-0", "lost t-0"}));
  EXPECT_TRUE(c->assignment().empty());
  EXPECT_FALSE(c->poll(10ms)) << "no longer a member, nothing assigned";
  EXPECT_EQ(joins, 1);
}

}  // namespace
}  // namespace sluice::consumer
