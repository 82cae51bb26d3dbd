// Durable consumer groups, measured on a real broker in this process over TCP:
//   1. ConsumerGroupHeartbeat latency (one member, sequential, __consumer_offsets with
//      durability=fsync): a heartbeat that changes the group (its subscription flips,
//      so a snapshot is written and fsynced before the answer) against a steady-state
//      heartbeat that writes nothing; p50, p99;
//   2. start-up time (offsets and groups rebuilt from __consumer_offsets) with G groups
//      of M members, their snapshots written through the OffsetStore beforehand.
//
//   group_bench [data_dir] [heartbeats=1000] [groups=10000] [members=10]
//
// The data directory (default build/bench-tmp/groups) must be on a real disk: fsync on
// tmpfs measures nothing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "sluice/broker/broker.h"
#include "sluice/broker/topic_table.h"

#include "group/consumer_group.h"
#include "group/offset_store.h"
#include "raw_client.h"

using namespace sluice;
using Steady = std::chrono::steady_clock;

namespace {

double ms_since(Steady::time_point start) {
  return std::chrono::duration<double, std::milli>(Steady::now() - start).count();
}

std::unique_ptr<broker::Broker> start(const std::string& dir, double* took_ms) {
  broker::BrokerConfig config{.data_dir = dir, .listen = "127.0.0.1:0", .http = "", .log_level = "warn"};
  const auto begin = Steady::now();
  auto started = broker::Broker::start(config);
  if (took_ms) *took_ms = ms_since(begin);
  if (!started) {
    std::fprintf(stderr, "broker: %s\n", started.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(*started);
}

void print_latencies(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[static_cast<size_t>(p * static_cast<double>(ms.size() - 1))]; };
  std::printf("%s: %zu heartbeats, p50 %.3f ms, p99 %.3f ms\n", what, ms.size(), pct(0.50), pct(0.99));
}

// One member of group "latency" heartbeating `n` times, each changing its subscription
// (`change`) or not; the latency of each.
std::vector<double> heartbeats(testing::RawClient& c, std::string& member_id, int32_t& epoch, int n, bool change) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    wire::ConsumerGroupHeartbeatRequest req;
    req.set_group_id("latency");
    req.set_member_id(member_id);
    req.set_member_epoch(epoch);
    req.set_rebalance_timeout_ms(-1);
    if (epoch == 0 || change) {
      auto* topics = req.mutable_subscribed_topics();
      topics->add_names("orders");
      if (i % 2 == 1) topics->add_names("audit");
    }
    const auto t = Steady::now();
    auto resp = c.call<wire::ConsumerGroupHeartbeatResponse>(wire::CONSUMER_GROUP_HEARTBEAT, req);
    out.push_back(ms_since(t));
    if (!resp || resp->error().code() != wire::NONE) {
      std::fprintf(stderr, "heartbeat failed: %s\n", resp ? resp->error().message().c_str() : "no response");
      std::exit(1);
    }
    member_id = resp->member_id();
    epoch = resp->member_epoch();
  }
  return out;
}

// A converged group of `members` over "orders" (one partition each), as its snapshot.
broker::group::GroupSnapshot converged_group(const std::string& id, int members) {
  using namespace broker::group;
  const TopicPartitions topics{{"orders", members}};
  ConsumerGroup group(id, GroupConfig{}, [n = 0]() mutable { return "member-" + std::to_string(++n); });
  std::vector<std::pair<std::string, int32_t>> ids(static_cast<size_t>(members), {"", kJoinEpoch});
  std::vector<TopicAssignment> owned(static_cast<size_t>(members));
  const auto now = broker::group::Clock::time_point{};
  for (int round = 0; round < 6; ++round) {
    for (size_t m = 0; m < ids.size(); ++m) {
      HeartbeatRequest req;
      req.member_id = ids[m].first;
      req.member_epoch = ids[m].second;
      req.owned = owned[m];
      if (ids[m].second == kJoinEpoch) req.subscribed_topics = std::vector<std::string>{"orders"};
      auto resp = group.heartbeat(req, topics, now);
      if (!resp) std::exit(1);
      ids[m] = std::make_pair(resp->member_id, resp->member_epoch);
      if (resp->assignment) owned[m] = *resp->assignment;
    }
  }
  return group.snapshot();
}

// Writes `groups` snapshots into `dir`'s __consumer_offsets, from 16 threads so their
// fsyncs are shared, as a busy coordinator's would be.
void fill(const std::string& dir, int groups, int members) {
  auto topics =
      broker::TopicTable::open(storage::posix_file_system(), SystemClock::instance(), dir, broker::TopicConfig{});
  if (!topics) std::exit(1);
  broker::group::OffsetStore store(**topics, SystemClock::instance(), broker::group::OffsetStoreConfig{});
  if (!store.load()) std::exit(1);
  std::atomic<int> next{0};
  constexpr int kWriters = 16;
  std::vector<std::thread> writers;
  writers.reserve(kWriters);
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&] {
      for (int g = next++; g < groups; g = next++) {
        const std::string id = "group-" + std::to_string(g);
        const Bytes value = broker::group::encode_group_value(converged_group(id, members));
        if (!store.append_group_metadata(id, [&] { return std::optional<Bytes>(value); })) std::exit(1);
      }
    });
  }
  for (auto& w : writers) w.join();
  (void)(*topics)->close_all();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : std::string(SLUICE_BENCH_DEFAULT_DIR) + "/groups";
  const int n = argc > 2 ? std::stoi(argv[2]) : 1000;
  const int groups = argc > 3 ? std::stoi(argv[3]) : 10000;
  const int members = argc > 4 ? std::stoi(argv[4]) : 10;
  std::filesystem::remove_all(dir);

  {
    auto b = start(dir, nullptr);
    testing::RawClient c(b->address().to_string());
    for (const char* topic : {"orders", "audit"}) {
      wire::CreateTopicsRequest req;
      req.add_topics()->set_name(topic);
      req.mutable_topics(0)->set_partitions(4);
      c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
    }
    std::string member_id;
    int32_t epoch = 0;
    heartbeats(c, member_id, epoch, 10, true);  // warm-up: the topic exists, the member has joined
    print_latencies("heartbeat writing a snapshot (fsync)", heartbeats(c, member_id, epoch, n, true));
    print_latencies("heartbeat changing nothing", heartbeats(c, member_id, epoch, n, false));
  }
  std::filesystem::remove_all(dir);

  auto begin = Steady::now();
  fill(dir, groups, members);
  std::printf("wrote %d groups x %d members in %.0f ms\n", groups, members, ms_since(begin));
  double took = 0;
  auto b = start(dir, &took);
  std::printf("start-up with %d groups x %d members: %.0f ms\n", groups, members, took);
  return 0;
}
