// Committed offsets, measured on a real broker in this process over TCP:
//   1. commit latency (one client, one partition per commit, sequential,
//      __consumer_offsets with durability=fsync): p50, p99, commits/s;
//   2. start-up time (the rebuild from __consumer_offsets) with G groups x P
//      partitions committed.
//
//   offsets_bench [data_dir] [commits=2000] [groups=10000] [partitions=10]
//
// The data directory (default build/bench-tmp/offsets) must be on a real disk:
// fsync on tmpfs measures nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "sluice/broker/broker.h"
#include "sluice/client/admin.h"
#include "sluice/client/group_offsets.h"
#include "sluice/client/network_client.h"

using namespace sluice;
using Steady = std::chrono::steady_clock;

namespace {

double ms_since(Steady::time_point start) {
  return std::chrono::duration<double, std::milli>(Steady::now() - start).count();
}

std::unique_ptr<broker::Broker> start(const std::string& dir, double* took_ms) {
  broker::BrokerConfig config{.data_dir = dir, .listen = "127.0.0.1:0", .http = "", .log_level = "warn"};
  auto begin = Steady::now();
  auto started = broker::Broker::start(config);
  if (took_ms) *took_ms = ms_since(begin);
  if (!started) {
    std::fprintf(stderr, "broker: %s\n", started.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(*started);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : std::string(SLUICE_BENCH_DEFAULT_DIR) + "/offsets";
  int commits = argc > 2 ? std::stoi(argv[2]) : 2000;
  int groups = argc > 3 ? std::stoi(argv[3]) : 10000;
  int partitions = argc > 4 ? std::stoi(argv[4]) : 10;
  std::filesystem::remove_all(dir);
  std::chrono::seconds timeout(30);

  auto b = start(dir, nullptr);
  std::string bootstrap = b->address().to_string();
  client::Admin admin({.bootstrap = bootstrap});
  if (auto s = admin.create_topic("orders", partitions); !s) {
    std::fprintf(stderr, "create: %s\n", s.error().to_string().c_str());
    return 1;
  }
  auto net = std::move(*client::NetworkClient::create({bootstrap}));

  std::vector<double> latencies;
  auto begin = Steady::now();
  for (int i = 0; i < commits; ++i) {
    auto t = Steady::now();
    auto r = client::commit_offsets(*net, "latency", {{{"orders", 0}, {i, ""}}}, timeout);
    if (!r || !r->begin()->second) return 1;
    latencies.push_back(ms_since(t));
  }
  double total_ms = ms_since(begin);
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies[static_cast<size_t>(p * (latencies.size() - 1))]; };
  std::printf("commit (1 client, 1 partition, fsync): %d commits, p50 %.3f ms, p99 %.3f ms, %.0f commits/s\n", commits,
              pct(0.50), pct(0.99), commits / (total_ms / 1000));

  begin = Steady::now();
  for (int g = 0; g < groups; ++g) {
    std::map<client::TopicPartition, client::OffsetAndMetadata> offsets;
    for (int p = 0; p < partitions; ++p) offsets[{"orders", p}] = {g + p, "m"};
    auto r = client::commit_offsets(*net, "group-" + std::to_string(g), offsets, timeout);
    if (!r) return 1;
  }
  std::printf("filled %d groups x %d partitions in %.0f ms\n", groups, partitions, ms_since(begin));
  net.reset();
  b.reset();

  double took = 0;
  b = start(dir, &took);
  client::Admin check({.bootstrap = b->address().to_string()});
  auto last = check.list_consumer_group_offsets("group-" + std::to_string(groups - 1));
  if (!last || last->size() != static_cast<size_t>(partitions)) {
    std::fprintf(stderr, "rebuild lost offsets\n");
    return 1;
  }
  std::printf("start-up with %d groups x %d partitions committed: %.0f ms\n", groups, partitions, took);
  return 0;
}
