// The broker's resource limits: one broker per data directory, connection caps,
// idle timeouts, and running out of file descriptors.
#include "broker_protocol_fixture.h"

namespace sluice::broker::testing {
namespace {

int64_t metric(const EmbeddedBroker& broker, const std::string& series) {
  return sluice::testing::scrape_metric(broker.http_address(), series);
}

TEST(DataDirLock, SecondBrokerInTheSameProcessIsRefusedAndTheFirstKeepsServing) {
  EmbeddedBroker first;
  BrokerConfig config;
  config.data_dir = first.data_dir();
  config.listen = "127.0.0.1:0";
  config.http = "";
  auto second = Broker::start(config);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("is in use by another broker (pid " + std::to_string(getpid()) + " holds"),
            std::string::npos)
      << second.error().message;
  RawClient c(first.bootstrap());
  EXPECT_TRUE(c.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}));
}

class ConnectionLimits : public BrokerProtocol {
 protected:
  static constexpr int kMaxConnections = 2;
  static constexpr int64_t kIdleMs = 200;
  static BrokerConfig limits() {
    BrokerConfig config;
    config.max_connections = kMaxConnections;
    config.connections_max_idle_ms = kIdleMs;
    return config;
  }
  ConnectionLimits() : BrokerProtocol(limits()) {}

  static bool answers(RawClient& c) {
    return c.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}).has_value();
  }
};

TEST_F(ConnectionLimits, ConnectionAboveMaxConnectionsIsClosedAndTheEarlierOnesStillWork) {
  RawClient a(broker_.bootstrap()), b(broker_.bootstrap());
  ASSERT_TRUE(answers(a));  // answered, so accepted and counted before the next connects
  ASSERT_TRUE(answers(b));
  RawClient over(broker_.bootstrap());
  ASSERT_TRUE(over.connected());  // the kernel completes the handshake; the broker closes it
  EXPECT_TRUE(over.closed_by_peer());
  EXPECT_TRUE(answers(a));
  EXPECT_TRUE(answers(b));
  EXPECT_EQ(metric(broker_, "sluice_connections_rejected_total{reason=\"max_connections\"}"), 1);

  // A client leaving frees its slot (once its session has ended).
  a.close();
  bool served = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       !served && std::chrono::steady_clock::now() < deadline;) {
    RawClient next(broker_.bootstrap());
    served = answers(next);
  }
  EXPECT_TRUE(served);
}

TEST_F(ConnectionLimits, IdleConnectionsAreClosedByTheBrokerAndBusyOnesAreNot) {
  RawClient idle(broker_.bootstrap());
  ASSERT_TRUE(answers(idle));
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.closed_by_peer()) << "an idle connection is closed (EOF) within the receive timeout";
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(kIdleMs / 2));

  // Requests every quarter of the idle timeout, for four times the timeout.
  RawClient busy(broker_.bootstrap());
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(answers(busy)) << "request " << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(kIdleMs / 4));  // the client's pace, not a synchronization
  }
  // A request in flight for longer than the timeout (a long poll) is not idleness.
  create_topic("quiet", 1);
  wire::FetchRequest poll = fetch_request("quiet", 0, 0, static_cast<int>(kIdleMs * 3));
  poll.set_min_bytes(1);
  auto polled = busy.call<wire::FetchResponse>(wire::FETCH, poll);
  ASSERT_TRUE(polled) << "closed during a long poll";
  EXPECT_EQ(polled->partitions(0).records_size(), 0u);
  EXPECT_TRUE(answers(busy));
  busy.close();  // closed by the client, before it would idle out

  RawClient http(broker_.http_address());  // connects and never sends a request
  EXPECT_TRUE(http.closed_by_peer());
  EXPECT_EQ(metric(broker_, "sluice_idle_connections_closed_total{listener=\"native\"}"), 1);
  EXPECT_EQ(metric(broker_, "sluice_idle_connections_closed_total{listener=\"http\"}"), 1);
}

// User plus system CPU time of this process.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Out of descriptors, accept fails at once while the connection waits in the backlog:
// the accept loop must pause instead of spinning, and keep serving what it has.
TEST_F(BrokerProtocol, OutOfDescriptorsTheAcceptLoopPausesAndKeepsServing) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check opens a pipe to probe memory; with every descriptor in use that
  // fails and it reports a false "invalid vptr" (strace: pipe2 = EMFILE right before it).
  GTEST_SKIP() << "needs every descriptor in use, which the sanitizers' vptr check cannot run with";
#endif
  RawClient existing(broker_.bootstrap());
  ASSERT_TRUE(existing.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}));
  // Sockets made while descriptors are left; connected once none are.
  std::vector<int> waiting;
  for (int i = 0; i < 4; ++i) waiting.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  int lowest_free = ::dup(0);  // every descriptor below it is in use
  ::close(lowest_free);
  rlimit exhausted{static_cast<rlim_t>(lowest_free), saved.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &exhausted), 0);
  auto host_port = parse_host_port(broker_.bootstrap());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(host_port->port);
  inet_pton(AF_INET, host_port->host.c_str(), &addr.sin_addr);
  for (int fd : waiting) EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

  double cpu_before = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the measurement window, not a synchronization
  double cpu_used = process_cpu_seconds() - cpu_before;
  bool served = existing.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}).has_value();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_LT(cpu_used, 0.2) << "a spinning accept loop uses a whole core";
  EXPECT_TRUE(served) << "the connection it has is still served";
  for (int fd : waiting) ::close(fd);

  EXPECT_GT(metric(broker_, "sluice_accept_errors_total{listener=\"native\"}"), 0);
  expect_serving();  // accepting again once descriptors are back
}

}  // namespace
}  // namespace sluice::broker::testing
