#include "sluice/client/network_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include "sluice/client/client_errors.h"

#include "fake_broker.h"

namespace sluice::client {
namespace {

using namespace std::chrono_literals;
using sluice::testing::FakeBroker;

// Echo: the response body is the request body, so each caller can check it got its own answer.
FakeBroker::Reply echo(const FakeBroker::Request& r) {
  FakeBroker::Reply reply;
  reply.body = r.body;
  reply.records = r.records;
  return reply;
}

std::unique_ptr<NetworkClient> connect(const std::string& bootstrap, uint32_t max_frame = 64u << 20) {
  auto net = NetworkClient::create({.bootstrap = bootstrap, .client_id = "test", .max_frame_bytes = max_frame});
  EXPECT_TRUE(net) << net.error().to_string();
  return std::move(*net);
}

OutgoingRequest make_request(const std::string& body, std::promise<Result<Response>>& done) {
  auto promise = std::make_shared<std::promise<Result<Response>>>(std::move(done));
  OutgoingRequest req;
  req.api = Api::api_versions;
  req.body.assign(reinterpret_cast<const std::byte*>(body.data()),
                  reinterpret_cast<const std::byte*>(body.data()) + body.size());
  req.on_done = [promise](Result<Response> r) { promise->set_value(std::move(r)); };
  return req;
}

std::future<Result<Response>> send_async(NetworkClient& net, const std::string& body,
                                         std::chrono::milliseconds timeout = 5s, bool expect_response = true,
                                         std::vector<ByteSpan> records = {}) {
  std::promise<Result<Response>> done;
  auto future = done.get_future();
  OutgoingRequest req = make_request(body, done);
  req.records = std::move(records);
  req.timeout = timeout;
  req.expect_response = expect_response;
  net.send(std::move(req));
  return future;
}

std::future<Result<Response>> send_to(NetworkClient& net, const Node& node, const std::string& body,
                                      std::chrono::milliseconds timeout = 5s) {
  std::promise<Result<Response>> done;
  auto future = done.get_future();
  OutgoingRequest req = make_request(body, done);
  req.timeout = timeout;
  net.send(node, std::move(req));
  return future;
}

Node node_at(int32_t id, const FakeBroker& broker) { return Node{NodeId(id), HostPort{"127.0.0.1", broker.port()}}; }

// Answers with its name and the request body, so a test sees which broker served a request.
FakeBroker::Handler named(const std::string& name) {
  return [name](const FakeBroker::Request& r) {
    FakeBroker::Reply reply;
    std::string body = name + ":" + std::string(as_string_view(r.body));
    reply.body.assign(reinterpret_cast<const std::byte*>(body.data()),
                      reinterpret_cast<const std::byte*>(body.data()) + body.size());
    return reply;
  };
}

std::string body_of(const Result<Response>& r) { return std::string(as_string_view(r->body())); }

TEST(ParseBootstrap, AcceptsHostPortAndBracketedV6) {
  auto a = parse_bootstrap("localhost:7400");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 7400);
  auto b = parse_bootstrap("[::1]:9092");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->to_string(), "[::1]:9092");
  for (const char* bad : {"", "host", "host:", ":80", "host:0", "host:65536", "host:12x"}) {
    EXPECT_FALSE(parse_bootstrap(bad)) << bad;
  }
}

TEST(NetworkClient, PipelinedRequestsGetTheirOwnResponsesInOrder) {
  std::vector<uint64_t> correlation_ids;
  FakeBroker broker([&](const FakeBroker::Request& r) {
    correlation_ids.push_back(r.header.correlation_id());
    return echo(r);
  });
  auto net = connect(broker.bootstrap());
  std::vector<std::future<Result<Response>>> futures;
  for (int i = 0; i < 200; ++i) futures.push_back(send_async(*net, "request-" + std::to_string(i)));
  for (int i = 0; i < 200; ++i) {
    auto r = futures[i].get();
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(body_of(r), "request-" + std::to_string(i));
  }
  EXPECT_EQ(broker.connections(), 1);
  ASSERT_EQ(correlation_ids.size(), 200u);
  for (size_t i = 1; i < correlation_ids.size(); ++i) EXPECT_GT(correlation_ids[i], correlation_ids[i - 1]);
}

TEST(NetworkClient, RecordsTravelAfterTheBody) {
  FakeBroker broker(echo);
  auto net = connect(broker.bootstrap());
  std::string a = "batch-one", b = "batch-two";
  auto r = send_async(*net, "body", 5s, true, {as_bytes(a), as_bytes(b)}).get();
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r), "body");
  EXPECT_EQ(as_string_view(r->records()), "batch-onebatch-two");
}

TEST(NetworkClient, BlockingRequest) {
  FakeBroker broker(echo);
  auto net = connect(broker.bootstrap());
  std::string body = "hello";
  auto r = net->request(Api::metadata,
                        Bytes(reinterpret_cast<const std::byte*>(body.data()),
                              reinterpret_cast<const std::byte*>(body.data()) + body.size()),
                        5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r), "hello");
}

TEST(NetworkClient, HeaderErrorFailsTheRequestWithTheWireCode) {
  FakeBroker broker([](const FakeBroker::Request&) {
    return FakeBroker::Reply::header_failure(wire::UNSUPPORTED_VERSION, "version 0 only");
  });
  auto net = connect(broker.bootstrap());
  auto r = send_async(*net, "x").get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unsupported_version);
  EXPECT_EQ(error_reason(r.error()), "UNSUPPORTED_VERSION");
}

TEST(NetworkClient, DisconnectFailsEveryPendingRequestAndTheNextOneReconnects) {
  std::atomic<int> seen{0};
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.connection == 1 && ++seen == 3) {
      auto hang_up = FakeBroker::Reply::hang_up();
      hang_up.delay = 200ms;  // every request is on the wire by then
      return hang_up;
    }
    if (r.connection == 1 && seen > 3) return FakeBroker::Reply::silence();
    return echo(r);
  });
  auto net = connect(broker.bootstrap());
  std::vector<std::future<Result<Response>>> futures;
  for (int i = 0; i < 10; ++i) futures.push_back(send_async(*net, std::to_string(i)));
  int ok = 0, disconnected = 0;
  for (auto& f : futures) {
    auto r = f.get();
    if (r) {
      ++ok;
    } else {
      EXPECT_EQ(error_reason(r.error()), reason::kDisconnected) << r.error().to_string();
      EXPECT_TRUE(is_retriable(r.error()));
      ++disconnected;
    }
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(disconnected, 8);
  auto again = send_async(*net, "again").get();
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(body_of(again), "again");
  EXPECT_EQ(broker.connections(), 2);
}

TEST(NetworkClient, ConnectionRefusedIsADisconnect) {
  uint16_t port;
  {
    FakeBroker gone(echo);
    port = gone.port();
  }
  auto net = connect("127.0.0.1:" + std::to_string(port));
  auto r = send_async(*net, "x").get();
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kDisconnected);
  EXPECT_NE(r.error().message.find("cannot connect"), std::string::npos) << r.error().message;
}

TEST(NetworkClient, ATimedOutRequestClosesTheConnection) {
  FakeBroker broker([](const FakeBroker::Request& r) {
    if (r.connection == 1) return FakeBroker::Reply::silence();
    return echo(r);
  });
  auto net = connect(broker.bootstrap());
  auto start = std::chrono::steady_clock::now();
  auto slow = send_async(*net, "slow", 200ms);
  auto other = send_async(*net, "other", 10s);
  auto r = slow.get();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kRequestTimedOut);
  auto o = other.get();
  ASSERT_FALSE(o);
  EXPECT_EQ(error_reason(o.error()), reason::kDisconnected);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "the other request fails with the connection";
  auto again = send_async(*net, "again").get();
  ASSERT_TRUE(again);
}

TEST(NetworkClient, OversizedResponseFrameIsAProtocolError) {
  FakeBroker broker([](const FakeBroker::Request& r) {
    FakeBroker::Reply reply = echo(r);
    reply.records.resize(4096);
    return reply;
  });
  auto net = connect(broker.bootstrap(), 2048);
  auto r = send_async(*net, "x").get();
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kProtocolError);
  EXPECT_NE(r.error().message.find("exceeds max_frame_bytes"), std::string::npos);
}

TEST(NetworkClient, OversizedRequestFailsBeforeItIsSent) {
  FakeBroker broker(echo);
  auto net = connect(broker.bootstrap(), 2048);
  auto r = send_async(*net, std::string(4096, 'x')).get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::message_too_large);
  EXPECT_EQ(broker.connections(), 0);
}

TEST(NetworkClient, WrongCorrelationIdIsAProtocolError) {
  FakeBroker broker([](const FakeBroker::Request& r) {
    FakeBroker::Reply reply = echo(r);
    reply.correlation_id = r.header.correlation_id() + 100;
    return reply;
  });
  auto net = connect(broker.bootstrap());
  auto r = send_async(*net, "x").get();
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kProtocolError);
}

TEST(NetworkClient, FireAndForgetCompletesOnWriteAndKeepsTheStreamAligned) {
  FakeBroker broker([](const FakeBroker::Request& r) {
    if (as_string_view(r.body) == "no-reply") return FakeBroker::Reply::silence();
    return echo(r);
  });
  auto net = connect(broker.bootstrap());
  auto a = send_async(*net, "no-reply", 5s, /*expect_response=*/false);
  auto b = send_async(*net, "reply");
  auto ra = a.get();
  ASSERT_TRUE(ra);
  EXPECT_TRUE(ra->empty());
  auto rb = b.get();
  ASSERT_TRUE(rb);
  EXPECT_EQ(body_of(rb), "reply");
}

TEST(NetworkClient, ShutdownFailsPendingRequestsAndLaterSends) {
  std::promise<void> received;
  FakeBroker broker([&](const FakeBroker::Request&) {
    received.set_value();
    return FakeBroker::Reply::silence();
  });
  auto net = connect(broker.bootstrap());
  auto pending = send_async(*net, "x", 60s);
  received.get_future().wait();  // in flight, not merely queued
  net->shutdown();
  auto r = pending.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::closed);
  auto late = send_async(*net, "y").get();
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::closed);
}

TEST(NetworkClient, RequestsToANodeGoToThatNodeOverOneConnectionOpenedOnFirstUse) {
  FakeBroker bootstrap(named("bootstrap"));
  FakeBroker one(named("one"));
  FakeBroker two(named("two"));
  auto net = connect(bootstrap.bootstrap());
  EXPECT_EQ(one.connections(), 0);
  std::vector<std::future<Result<Response>>> to_one, to_two;
  for (int i = 0; i < 3; ++i) {
    to_one.push_back(send_to(*net, node_at(1, one), std::to_string(i)));
    to_two.push_back(send_to(*net, node_at(2, two), std::to_string(i)));
  }
  auto any = send_async(*net, "any").get();
  for (int i = 0; i < 3; ++i) {
    auto a = to_one[i].get();
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(body_of(a), "one:" + std::to_string(i));  // in order per node
    auto b = to_two[i].get();
    ASSERT_TRUE(b) << b.error().to_string();
    EXPECT_EQ(body_of(b), "two:" + std::to_string(i));
  }
  ASSERT_TRUE(any);
  EXPECT_EQ(body_of(any), "bootstrap:any");
  EXPECT_EQ(one.connections(), 1);
  EXPECT_EQ(two.connections(), 1);
  EXPECT_EQ(bootstrap.connections(), 1);
}

TEST(NetworkClient, ABlockingRequestCanNameANode) {
  FakeBroker bootstrap(named("bootstrap"));
  FakeBroker one(named("one"));
  auto net = connect(bootstrap.bootstrap());
  auto r = net->request(node_at(7, one), Api::api_versions, Bytes{std::byte{'x'}}, 5s);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(body_of(r), "one:x");
  EXPECT_EQ(bootstrap.connections(), 0);
}

TEST(NetworkClient, ANodeSeenAtAnotherAddressIsReachedThere) {
  FakeBroker bootstrap(named("bootstrap"));
  FakeBroker old_home(named("old"));
  FakeBroker new_home(named("new"));
  auto net = connect(bootstrap.bootstrap());
  EXPECT_EQ(body_of(send_to(*net, node_at(1, old_home), "a").get()), "old:a");
  EXPECT_EQ(body_of(send_to(*net, node_at(1, new_home), "b").get()), "new:b");
  EXPECT_EQ(body_of(send_to(*net, node_at(1, new_home), "c").get()), "new:c");
  EXPECT_EQ(new_home.connections(), 1);
}

TEST(NetworkClient, ALostNodeConnectionFailsItsRequestsAndTheNextOneReconnects) {
  std::promise<void> received;
  FakeBroker bootstrap(named("bootstrap"));
  FakeBroker one([&](const FakeBroker::Request& r) {
    if (as_string_view(r.body) == "hang") {
      received.set_value();
      return FakeBroker::Reply::silence();
    }
    return named("one")(r);
  });
  auto net = connect(bootstrap.bootstrap());
  auto hanging = send_to(*net, node_at(1, one), "hang", 60s);
  auto on_bootstrap = send_async(*net, "still-here");
  received.get_future().wait();
  one.drop_connections();
  auto r = hanging.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(error_reason(r.error()), reason::kDisconnected);
  EXPECT_EQ(body_of(on_bootstrap.get()), "bootstrap:still-here");  // other connections are not affected
  EXPECT_EQ(body_of(send_to(*net, node_at(1, one), "again").get()), "one:again");
  EXPECT_EQ(one.connections(), 2);
}

TEST(NetworkClient, ShutdownFailsRequestsToNodesAndLaterSendsToThem) {
  std::promise<void> received;
  FakeBroker bootstrap(named("bootstrap"));
  FakeBroker one([&](const FakeBroker::Request&) {
    received.set_value();
    return FakeBroker::Reply::silence();
  });
  auto net = connect(bootstrap.bootstrap());
  auto pending = send_to(*net, node_at(1, one), "x", 60s);
  received.get_future().wait();
  net->shutdown();
  auto r = pending.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::closed);
  auto late = send_to(*net, node_at(1, one), "y").get();
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::closed);
}

}  // namespace
}  // namespace sluice::client
