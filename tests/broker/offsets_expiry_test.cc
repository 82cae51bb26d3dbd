// Offsets expiry in a running broker: the periodic check follows the broker's
// clock (BrokerEnvironment), so a test ages commits by days without sleeping.
#include <gtest/gtest.h>

#include <chrono>

#include "sluice/broker/embedded_broker.h"
#include "sluice/client/admin.h"
#include "sluice/client/group_offsets.h"

#include "../e2e/e2e_helpers.h"

namespace sluice::broker {
namespace {

using sluice::testing::EmbeddedBroker;
using sluice::testing::RawClient;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

TEST(OffsetsExpiry, AGroupsOffsetsAreDeletedOnceItsNewestCommitIsOlderThanRetention) {
  ManualClock clock;
  EmbeddedBroker broker(BrokerConfig{.offsets_topic_num_partitions = 2, .offsets_retention_check_interval_ms = 5},
                        BrokerEnvironment{.clock = clock});
  {
    RawClient c(broker.bootstrap());
    create_topic(c, "orders", "fsync");
  }
  auto net = client::NetworkClient::create({broker.bootstrap()});
  ASSERT_TRUE(net);
  const client::TopicPartition tp{"orders", 0};
  for (const char* group : {"stale", "fresh"}) {
    auto committed = client::commit_offsets(**net, group, {{tp, {3, ""}}}, std::chrono::seconds(10));
    ASSERT_TRUE(committed && committed->at(tp));
  }
  clock.advance_ms(6 * kDayMs);
  auto again = client::commit_offsets(**net, "fresh", {{tp, {4, ""}}}, std::chrono::seconds(10));
  ASSERT_TRUE(again && again->at(tp));
  clock.advance_ms(kDayMs + 1);  // "stale" committed 7 days + 1 ms ago, "fresh" 1 day ago

  client::Admin admin({.bootstrap = broker.bootstrap()});
  // The check runs every 5 ms of real time; the deadline only bounds a failure.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!admin.list_consumer_group_offsets("stale").value().empty() && std::chrono::steady_clock::now() < deadline) {
  }
  EXPECT_TRUE(admin.list_consumer_group_offsets("stale").value().empty());
  EXPECT_EQ(admin.list_consumer_group_offsets("fresh").value().at(tp).offset, 4);

  broker.restart();  // the deletion is in the log, not only in memory
  client::Admin after({.bootstrap = broker.bootstrap()});
  EXPECT_TRUE(after.list_consumer_group_offsets("stale").value().empty());
  EXPECT_EQ(after.list_consumer_group_offsets("fresh").value().at(tp).offset, 4);
}

}  // namespace
}  // namespace sluice::broker
