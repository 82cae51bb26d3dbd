// The broker on an injected environment: segment age and retention by time follow
// a manual clock, so a test ages data by hours without sleeping; every file goes
// through the injected file system.
#include <gtest/gtest.h>

#include <chrono>

#include "sluice/broker/embedded_broker.h"
#include "sluice/storage/batch_builder.h"
#include "sluice/storage/testing/fault_injection_file_system.h"

#include "../e2e/e2e_helpers.h"

namespace sluice::broker {
namespace {

using sluice::testing::EmbeddedBroker;
using sluice::testing::RawClient;

constexpr int64_t kHourMs = 3'600'000;

Bytes batch_at(int64_t timestamp_ms, int records) {
  storage::BatchBuilder builder;
  for (int i = 0; i < records; ++i) builder.add(timestamp_ms, as_bytes(std::string("k")), as_bytes(std::string("v")));
  return std::move(*builder.build());
}

int64_t offset_of(RawClient& c, const std::string& topic, int64_t which) {
  wire::ListOffsetsRequest req;
  auto* q = req.add_partitions();
  q->set_topic(topic);
  q->set_partition(0);
  q->set_timestamp(which);
  auto resp = c.call<wire::ListOffsetsResponse>(wire::LIST_OFFSETS, req);
  return resp ? resp->results(0).offset() : -100;
}

void produce_to(RawClient& c, const std::string& topic, const Bytes& batch, int acks) {
  auto resp = produce(c, topic, batch, acks);
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->results(0).error().code(), wire::NONE) << resp->results(0).error().message();
}

TEST(BrokerEnvironment, RetentionByTimeRemovesAnAgedSegmentWithoutSleeping) {
  ManualClock clock;
  EmbeddedBroker broker(BrokerConfig{.retention_check_interval_ms = 5}, BrokerEnvironment{.clock = clock});
  RawClient c(broker.bootstrap());
  ASSERT_EQ(create_topic_with(
                c, "aged", {{"segment.ms", std::to_string(kHourMs)}, {"retention.ms", std::to_string(24 * kHourMs)}}),
            wire::NONE);

  auto produce = [&](int64_t timestamp_ms, int records) { produce_to(c, "aged", batch_at(timestamp_ms, records), 1); };
  produce(clock.now().value(), 3);
  clock.advance_ms(2 * kHourMs);  // the active segment is now older than segment.ms: the next append rolls
  produce(clock.now().value(), 2);

  clock.advance_ms(23 * kHourMs);  // the first segment's records are 25 h old; the second's 23 h
  // Retention runs every 5 ms of real time; the state it changes is observable, and
  // the deadline only bounds a failure.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (offset_of(c, "aged", -2) == 0 && std::chrono::steady_clock::now() < deadline) {
  }
  EXPECT_EQ(offset_of(c, "aged", -2), 3) << "the aged segment is gone, the younger one stays";
  EXPECT_EQ(offset_of(c, "aged", -1), 5);
}

TEST(BrokerEnvironment, AcksAllSyncsThroughTheInjectedFileSystem) {
  storage::FaultInjectionFileSystem fs;
  EmbeddedBroker broker(BrokerConfig{}, BrokerEnvironment{.fs = fs});
  RawClient c(broker.bootstrap());
  ASSERT_EQ(create_topic_with(c, "synced", {{"durability", "fsync"}}), wire::NONE);
  uint64_t before = fs.sync_count();
  produce_to(c, "synced", batch_at(1'700'000'000'000, 4), -1);
  EXPECT_GT(fs.sync_count(), before) << "acks=all on durability=fsync waited for a sync the injected file system made";
  ASSERT_EQ(create_topic_with(c, "unsynced", {{"durability", "none"}}), wire::NONE);
  uint64_t after_create = fs.sync_count();  // creating a topic syncs its files and metadata
  produce_to(c, "unsynced", batch_at(1'700'000'000'000, 4), -1);
  EXPECT_EQ(fs.sync_count(), after_create) << "durability=none: acks=all does not sync";
}

}  // namespace
}  // namespace sluice::broker
