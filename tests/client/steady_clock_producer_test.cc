// The producer's linger on an injected steady clock: a batch is held until the
// test moves the clock past linger_ms, not for real time.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include "sluice/client/client_errors.h"
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

TEST(ProducerSteadyClock, AnUnansweredBatchFailsWithDeliveryTimeoutOnceTheClockPassesIt) {
  FakeLog log;
  log.add_topic("t", 1);
  std::promise<void> produce_arrived;
  std::atomic<bool> arrived{false};
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() != wire::PRODUCE) return log.handle(r);
    if (!arrived.exchange(true)) produce_arrived.set_value();
    return FakeBroker::Reply::silence();  // the broker never acknowledges the batch
  });
  ManualSteadyClock clock;
  ProducerConfig c;
  c.bootstrap = broker.bootstrap();
  c.linger_ms = 0;
  c.request_timeout_ms = 600'000;
  c.delivery_timeout_ms = 600'000;
  auto producer = Producer::create(c, clock);
  ASSERT_TRUE(producer) << producer.error().to_string();
  auto report = producer->send({.topic = "t", .value = "v"});
  produce_arrived.get_future().wait();

  clock.advance(std::chrono::milliseconds(599'000));
  EXPECT_EQ(report.wait_for(0s), std::future_status::timeout) << "not before delivery_timeout_ms";

  clock.advance(std::chrono::milliseconds(1'001));
  auto result = report.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::delivery_timeout) << result.error().to_string();
  EXPECT_NE(result.error().message.find("REQUEST_TIMED_OUT"), std::string::npos)
      << "the last error is the request's timeout: " << result.error().message;
}

}  // namespace
}  // namespace sluice::client
