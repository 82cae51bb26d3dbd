// The broker on a manual clock: segment age and retention by time follow the
// injected clock, so a test ages data by hours without sleeping.
#include <gtest/gtest.h>

#include <chrono>

#include "sluice/broker/embedded_broker.h"
#include "sluice/storage/batch_builder.h"

#include "raw_client.h"

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

TEST(BrokerOnAManualClock, RetentionByTimeRemovesAnAgedSegmentWithoutSleeping) {
  ManualClock clock;
  EmbeddedBroker broker(BrokerConfig{.retention_check_interval_ms = 5}, BrokerEnvironment{.clock = clock});
  RawClient c(broker.bootstrap());
  wire::CreateTopicsRequest create;
  auto* t = create.add_topics();
  t->set_name("aged");
  t->set_partitions(1);
  (*t->mutable_configs())["segment.ms"] = std::to_string(kHourMs);
  (*t->mutable_configs())["retention.ms"] = std::to_string(24 * kHourMs);
  ASSERT_EQ(c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, create)->results(0).error().code(), wire::NONE);

  auto produce = [&](int64_t timestamp_ms, int records) {
    Bytes batch = batch_at(timestamp_ms, records);
    wire::ProduceRequest req;
    req.set_acks(1);
    auto* p = req.add_partitions();
    p->set_topic("aged");
    p->set_partition(0);
    p->set_records_size(static_cast<uint32_t>(batch.size()));
    auto resp = c.call<wire::ProduceResponse>(wire::PRODUCE, req, batch);
    ASSERT_TRUE(resp);
    ASSERT_EQ(resp->results(0).error().code(), wire::NONE) << resp->results(0).error().message();
  };
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

}  // namespace
}  // namespace sluice::broker
