// The producer's linger on an injected steady clock: a batch is held until the
// test moves the clock past linger_ms, not for real time.
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "sluice/client/producer.h"

#include "fake_broker.h"
#include "manual_steady_clock.h"

namespace sluice::client {
namespace {

using namespace std::chrono_literals;
using sluice::testing::FakeBroker;
using sluice::testing::FakeLog;
using sluice::testing::ManualSteadyClock;

constexpr int64_t kLingerMs = 60'000;  // longer than the test runs in real time

TEST(ProducerSteadyClock, LingerHoldsTheBatchUntilTheClockPassesLinger) {
  FakeLog log;
  log.add_topic("t", 1);
  FakeBroker broker([&](const FakeBroker::Request& r) { return log.handle(r); });
  ManualSteadyClock clock;
  ProducerConfig c;
  c.bootstrap = broker.bootstrap();
  c.linger_ms = kLingerMs;
  // Requests (InitProducerId among them) must not time out when the test moves the clock by a linger.
  c.request_timeout_ms = 10 * kLingerMs;
  c.delivery_timeout_ms = 20 * kLingerMs;
  auto producer = Producer::create(c, clock);
  ASSERT_TRUE(producer) << producer.error().to_string();
  std::vector<std::future<Result<RecordMetadata>>> reports;
  for (int i = 0; i < 10; ++i) reports.push_back(producer->send({.topic = "t", .value = std::to_string(i)}));

  // Short of linger the sender, woken by the advance, keeps the batch. (A wrong
  // early send would show here or in the batch count below.)
  clock.advance(std::chrono::milliseconds(kLingerMs - 1));
  EXPECT_EQ(log.produce_requests(), 0);
  EXPECT_EQ(reports.front().wait_for(0s), std::future_status::timeout);

  clock.advance(2ms);
  for (auto& f : reports) ASSERT_TRUE(f.get());
  EXPECT_EQ(log.batch_sizes(), std::vector<int32_t>{10});
}

}  // namespace
}  // namespace sluice::client
