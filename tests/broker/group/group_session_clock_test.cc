// Session timeouts on the broker's injected steady clock: a member that joined with its
// own session.timeout.ms and went silent is removed when the clock passes it, not a
// millisecond before, its partitions go to the member still heartbeating, and the
// removal is durable (a restarted broker does not know the member).
#include <gtest/gtest.h>

#include <chrono>

#include "sluice/broker/embedded_broker.h"

#include "../../support/manual_steady_clock.h"
#include "raw_member.h"

namespace sluice::broker {
namespace {

using sluice::testing::EmbeddedBroker;
using sluice::testing::ManualSteadyClock;
using sluice::testing::RawClient;
using sluice::testing::RawMember;
using std::chrono::milliseconds;

TEST(GroupSessionClock, ASilentMemberIsRemovedExactlyAtItsOwnSessionTimeout) {
  ManualSteadyClock clock;
  BrokerConfig config;
  config.offsets_topic_num_partitions = 1;  // 50 partitions cost seconds of start-up and shutdown
  EmbeddedBroker broker{config, BrokerEnvironment{.steady_clock = clock}};
  RawClient c(broker.bootstrap());
  ASSERT_EQ(testing::create_group_topic(c, "t", 4), wire::NONE);

  RawMember silent{.group = "g", .topics = {"t"}, .session_timeout_ms = 6'000};
  ASSERT_EQ(silent.beat(c).error().code(), wire::NONE);
  ASSERT_EQ(silent.partitions(), 4u);
  RawMember live{.group = "g", .topics = {"t"}};  // the broker's default session, 45 s
  ASSERT_EQ(live.beat(c).error().code(), wire::NONE);

  clock.advance(milliseconds(5'999));
  for (int i = 0; i < 2; ++i) ASSERT_EQ(live.beat(c).error().code(), wire::NONE);
  EXPECT_EQ(live.partitions(), 0u) << "the silent member still holds them";

  clock.advance(milliseconds(1));
  // The expiry runs on the broker's timer; by the second heartbeat it has run.
  for (int i = 0; i < 2; ++i) ASSERT_EQ(live.beat(c).error().code(), wire::NONE);
  EXPECT_EQ(live.partitions(), 4u);
  EXPECT_EQ(silent.beat(c).error().code(), wire::UNKNOWN_MEMBER_ID);

  broker.restart();
  RawClient after(broker.bootstrap());
  EXPECT_EQ(silent.beat(after).error().code(), wire::UNKNOWN_MEMBER_ID) << "the removal was persisted";
  const int32_t epoch = live.epoch;
  ASSERT_EQ(live.beat(after).error().code(), wire::NONE);
  EXPECT_EQ(live.epoch, epoch);
  EXPECT_EQ(live.partitions(), 4u);
}

}  // namespace
}  // namespace sluice::broker
