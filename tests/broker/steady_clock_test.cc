// The broker's request-path deadlines on an injected steady clock: a fetch long
// poll and the idle timeout end when a test moves the clock, not after real time.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "sluice/broker/embedded_broker.h"

#include "../e2e/e2e_helpers.h"
#include "manual_steady_clock.h"

namespace sluice::broker {
namespace {

using sluice::testing::EmbeddedBroker;
using sluice::testing::ManualSteadyClock;
using sluice::testing::RawClient;

constexpr int kMaxWaitMs = 30'000;

// A fetch of partition 0 of `topic` from offset 0 that waits up to kMaxWaitMs for one byte.
std::optional<wire::FetchResponse> long_poll(RawClient& c, const std::string& topic, Bytes& records) {
  wire::FetchRequest req;
  req.set_max_wait_ms(kMaxWaitMs);
  req.set_min_bytes(1);
  auto* fp = req.add_partitions();
  fp->set_topic(topic);
  fp->set_partition(0);
  fp->set_fetch_offset(0);
  fp->set_partition_max_bytes(1 << 20);
  return c.call<wire::FetchResponse>(wire::FETCH, req, {}, &records);
}

struct LongPoll {
  Bytes records;
  std::future<std::optional<wire::FetchResponse>> response;
};

class BrokerSteadyClock : public ::testing::Test {
 protected:
  ManualSteadyClock clock;
  EmbeddedBroker broker{BrokerConfig{}, BrokerEnvironment{.steady_clock = clock}};
  RawClient admin{broker.bootstrap()};
  RawClient poller{broker.bootstrap()};

  void SetUp() override { ASSERT_EQ(create_topic_with(admin, "polled", {}), wire::NONE); }

  // Waiting on the clock while a poll is parked: each connection's writer for
  // its idle deadline (the poller's stays registered until a response is due),
  // and the fetch. Without the fetch there are at most two.
  static constexpr size_t kParked = 3;

  // Starts a long poll on `poller` and returns once the broker waits on the clock for it.
  void start(LongPoll& poll) {
    poll.response = std::async(std::launch::async, [this, &poll] { return long_poll(poller, "polled", poll.records); });
    ASSERT_TRUE(clock.await_waiters([](size_t waiting, uint64_t) { return waiting == kParked; }));
  }

  uint64_t registrations() const {
    uint64_t out = 0;
    clock.await_waiters([&](size_t, uint64_t made) {
      out = made;
      return true;
    });
    return out;
  }
};

TEST_F(BrokerSteadyClock, EmptyLongPollReturnsOnceTheClockPassesMaxWait) {
  LongPoll poll;
  start(poll);
  // Every waiter re-reads the clock on an advance. Short of max_wait the fetch
  // registers again, as does the admin connection's idle wait; the poller's idle
  // wait, with a request in flight, does not.
  const uint64_t made = registrations();
  clock.advance(std::chrono::milliseconds(kMaxWaitMs - 1));
  ASSERT_TRUE(clock.await_waiters([&](size_t waiting, uint64_t now_made) {
    return waiting == kParked - 1 && now_made >= made + 2;
  })) << "the fetch waits again after an advance short of max_wait";
  EXPECT_EQ(poll.response.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "no response before max_wait by the injected clock";

  clock.advance(std::chrono::milliseconds(2));
  auto response = poll.response.get();  // the receive timeout (10 s real) bounds a failure
  ASSERT_TRUE(response);
  EXPECT_EQ(response->partitions(0).error().code(), wire::NONE);
  EXPECT_EQ(response->partitions(0).records_size(), 0u);
  EXPECT_TRUE(poll.records.empty());
}

TEST_F(BrokerSteadyClock, DataWakesTheLongPollWhileTheClockStandsStill) {
  LongPoll poll;
  start(poll);
  auto produced = produce(admin, "polled", batch_for(1));
  ASSERT_TRUE(produced);
  ASSERT_EQ(produced->results(0).error().code(), wire::NONE);
  auto response = poll.response.get();
  ASSERT_TRUE(response);
  EXPECT_GT(response->partitions(0).records_size(), 0u);
  EXPECT_EQ(poll.records.size(), batch_for(1).size());
}

TEST(BrokerSteadyClockIdle, IdleConnectionClosesOnceTheClockPassesTheIdleTimeout) {
  ManualSteadyClock clock;
  constexpr int64_t kIdleMs = 60'000;
  EmbeddedBroker broker(BrokerConfig{.connections_max_idle_ms = kIdleMs}, BrokerEnvironment{.steady_clock = clock});
  RawClient c(broker.bootstrap());
  ASSERT_EQ(create_topic_with(c, "idle", {}), wire::NONE);  // a request answered: the connection is open
  // After the response, the writer waits for the idle deadline on the clock.
  ASSERT_TRUE(clock.await_waiters([](size_t waiting, uint64_t) { return waiting >= 1; }));
  clock.advance(std::chrono::milliseconds(kIdleMs + 1));
  EXPECT_TRUE(c.closed_by_peer()) << "the broker closed the idle connection (EOF within the receive timeout)";
}

// The clock stands still: only the stop can end the parked poll. A stop that waited for
// it would never return here (it would hold a real broker's stop for max_wait_ms).
TEST_F(BrokerSteadyClock, AStoppingBrokerAnswersAParkedLongPollAtOnce) {
  LongPoll poll;
  start(poll);
  broker.restart();
  auto response = poll.response.get();
  ASSERT_TRUE(response) << "the parked fetch is answered before the connection closes";
  EXPECT_EQ(response->partitions(0).records_size(), 0u);
  EXPECT_EQ(response->partitions(0).error().code(), wire::NONE);
}

}  // namespace
}  // namespace sluice::broker
