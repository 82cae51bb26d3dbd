// Request timeouts on an injected steady clock: a request the broker never
// answers fails once the test moves the clock past its timeout, and not before.
#include <gtest/gtest.h>

#include <future>
#include <string>

#include "sluice/client/client_errors.h"
#include "sluice/client/network_client.h"

#include "fake_broker.h"
#include "manual_steady_clock.h"

namespace sluice::client {
namespace {

using namespace std::chrono_literals;
using sluice::testing::FakeBroker;
using sluice::testing::ManualSteadyClock;

// Longer than the test runs in real time: only the manual clock can expire it.
constexpr auto kTimeout = 60s;

std::future<Result<Response>> send_api_versions(NetworkClient& net) {
  auto promise = std::make_shared<std::promise<Result<Response>>>();
  auto future = promise->get_future();
  OutgoingRequest req;
  req.api = Api::api_versions;
  req.timeout = kTimeout;
  req.on_done = [promise](Result<Response> r) { promise->set_value(std::move(r)); };
  net.send(std::move(req));
  return future;
}

// Returns once everything posted to the io thread before it has run (a clock
// advance's wake-up among them): the io thread runs posted work in order.
void drain_io(NetworkClient& net) {
  std::promise<void> ran;
  ASSERT_TRUE(net.post([&ran] { ran.set_value(); }));
  ran.get_future().get();
}

TEST(NetworkClientSteadyClock, UnansweredRequestTimesOutOnceTheClockPassesTheTimeout) {
  std::promise<void> received;
  FakeBroker broker([&received](const FakeBroker::Request&) {
    received.set_value();
    return FakeBroker::Reply::silence();
  });
  ManualSteadyClock clock;
  auto net = NetworkClient::create({.bootstrap = broker.bootstrap(), .client_id = "test", .clock = &clock});
  ASSERT_TRUE(net) << net.error().to_string();
  auto pending = send_api_versions(**net);
  received.get_future().get();

  clock.advance(kTimeout - 1ms);
  drain_io(**net);
  EXPECT_EQ(pending.wait_for(0s), std::future_status::timeout) << "still waiting short of request timeout";

  clock.advance(2ms);
  auto r = pending.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kRequestTimedOut) << r.error().to_string();
}

}  // namespace
}  // namespace sluice::client
