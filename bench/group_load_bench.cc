// Consumer groups under load, on a real broker in this process over TCP (issue 16):
//   1. offset commits from M members of one group, each a subscribed Consumer
//      committing its own partition with commit_sync() back to back, to
//      __consumer_offsets with durability=fsync: commits/s, p50, p99 (M = 1 and 100);
//   2. produce and consume throughput on a 10-partition topic while 10 consumers read
//      it: as group members committing every second, against assign-mode consumers
//      that never commit.
//
//   group_load_bench [data_dir] [seconds=5] [members=100]
//
// The data directory (default build/bench-tmp/groups) must be on a real disk: fsync
// on tmpfs measures nothing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sluice/broker/broker.h"
#include "sluice/client/admin.h"
#include "sluice/client/producer.h"
#include "sluice/consumer/consumer.h"

using namespace sluice;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const char* what, const Error& e) {
  std::fprintf(stderr, "%s: %s\n", what, e.to_string().c_str());
  std::exit(1);
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

consumer::ConsumerConfig member_config(const std::string& bootstrap, const std::string& group) {
  return {.bootstrap = bootstrap,
          .group_id = group,
          .enable_auto_commit = false,
          .auto_offset_reset = consumer::OffsetReset::earliest};
}

// std::barrier without its completion function.
class Barrier {
 public:
  explicit Barrier(int parties) : parties_(parties) {}
  void arrive_and_wait() {
    std::unique_lock lock(mu_);
    if (++arrived_ == parties_) cv_.notify_all();
    cv_.wait(lock, [&] { return arrived_ >= parties_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int parties_;
  int arrived_ = 0;
};

struct CommitFigures {
  double commits_per_sec = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double stable_after_s = 0;
};

CommitFigures measure_commits(const std::string& bootstrap, client::Admin& admin, int members,
                              std::chrono::seconds duration) {
  const std::string topic = "commits-" + std::to_string(members);
  if (auto s = admin.create_topic(topic, members); !s) die("create topic", s.error());
  const std::string group = "bench-commit-" + std::to_string(members);
  std::atomic<int> owning{0};
  std::atomic<bool> failed{false};
  Barrier stable(members);
  std::mutex mu;
  std::vector<double> latencies_ms;
  uint64_t commits = 0;
  bool any = false;
  Steady::time_point commit_start;
  Steady::time_point commit_end;
  const auto join_start = Steady::now();
  double stable_after_s = 0;

  std::vector<std::thread> threads;
  threads.reserve(members);
  for (int m = 0; m < members; ++m) {
    threads.emplace_back([&, m] {
      auto c = consumer::Consumer::create(member_config(bootstrap, group));
      if (!c) die("consumer", c.error());
      if (auto s = c->subscribe(std::vector<std::string>{topic}); !s) die("subscribe", s.error());
      // One partition each, then poll until every member has one: only then are
      // all member epochs final and every commit accepted.
      bool counted = false;
      while (owning.load() < members) {
        if (auto r = c->poll(50ms); !r) die("poll", r.error());
        const bool owns_one = c->assignment().size() == 1;
        if (owns_one != counted) owning += owns_one ? 1 : -1;
        counted = owns_one;
      }
      if (m == 0) stable_after_s = std::chrono::duration<double>(Steady::now() - join_start).count();
      stable.arrive_and_wait();
      const client::TopicPartition tp = c->assignment().front();
      std::vector<double> mine;
      const auto start = Steady::now();
      const auto end = start + duration;
      for (int64_t offset = 1; Steady::now() < end; ++offset) {
        const auto t0 = Steady::now();
        if (auto s = c->commit_sync({{tp, client::OffsetAndMetadata{.offset = offset}}}); !s) {
          std::fprintf(stderr, "member %d commit: %s\n", m, s.error().to_string().c_str());
          failed = true;
          break;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
      }
      std::lock_guard lock(mu);
      if (!any || start < commit_start) commit_start = start;
      any = true;
      commit_end = std::max(commit_end, Steady::now());
      commits += mine.size();
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  if (failed) std::exit(1);
  CommitFigures f;
  f.commits_per_sec = static_cast<double>(commits) / std::chrono::duration<double>(commit_end - commit_start).count();
  f.p50_ms = percentile(latencies_ms, 0.50);
  f.p99_ms = percentile(latencies_ms, 0.99);
  f.stable_after_s = stable_after_s;
  return f;
}

struct Throughput {
  double produce_per_sec = 0;
  double consume_per_sec = 0;
};

// A producer writes 1 KiB records round-robin over 10 partitions for `duration` while 10
// consumers read them: group members auto-committing every second, or assign-mode
// consumers with no group. Consumption is timed until the consumers hold every record.
Throughput measure_throughput(const std::string& bootstrap, client::Admin& admin, bool grouped,
                              std::chrono::seconds duration, int round) {
  constexpr int kPartitions = 10;
  const std::string topic = std::string(grouped ? "grouped-" : "assigned-") + std::to_string(round);
  if (auto s = admin.create_topic(topic, kPartitions, {{"durability", "none"}}); !s) die("create topic", s.error());
  std::atomic<int> ready{0};
  std::atomic<int64_t> consumed{0};
  std::atomic<int64_t> produced{-1};        // known once the producer finished
  std::atomic<Steady::rep> last_record{0};  // Steady ticks of the latest record consumed
  std::vector<std::thread> threads;
  threads.reserve(kPartitions);
  for (int m = 0; m < kPartitions; ++m) {
    threads.emplace_back([&, m] {
      auto config = member_config(bootstrap, grouped ? topic + "-group" : "");
      config.enable_auto_commit = grouped;
      config.auto_commit_interval_ms = 1000;
      auto c = consumer::Consumer::create(config);
      if (!c) die("consumer", c.error());
      if (grouped) {
        if (auto s = c->subscribe(std::vector<std::string>{topic}); !s) die("subscribe", s.error());
      } else {
        c->assign({{topic, m}});
      }
      bool counted = false;
      for (;;) {
        auto records = c->poll(50ms);
        if (!records) die("poll", records.error());
        if (!records->empty()) {
          consumed += static_cast<int64_t>(records->size());
          last_record = Steady::now().time_since_epoch().count();
        }
        const bool owns_one = c->assignment().size() == 1;
        if (owns_one != counted) ready += owns_one ? 1 : -1;
        counted = owns_one;
        const int64_t total = produced.load();
        if (total >= 0 && consumed.load() >= total) break;
      }
      c->close();
    });
  }
  while (ready.load() < kPartitions) std::this_thread::sleep_for(10ms);  // bench set-up, not a test
  auto producer =
      client::Producer::create({.bootstrap = bootstrap, .acks = client::kAcksLeader, .batch_bytes = 256 * 1024});
  if (!producer) die("producer", producer.error());
  const std::string value(1024, 'x');
  std::atomic<int64_t> acked{0};
  const auto start = Steady::now();
  const auto end = start + duration;
  int64_t sent = 0;
  for (; Steady::now() < end; ++sent) {
    producer->send({.topic = topic, .partition = static_cast<int32_t>(sent % kPartitions), .value = value},
                   [&acked](const Result<client::RecordMetadata>& r) {
                     if (r) ++acked;
                   });
  }
  producer->flush();
  const double produce_s = std::chrono::duration<double>(Steady::now() - start).count();
  produced = acked.load();
  for (auto& t : threads) t.join();
  Throughput out;
  out.produce_per_sec = static_cast<double>(acked.load()) / produce_s;
  out.consume_per_sec =
      static_cast<double>(consumed.load()) /
      std::chrono::duration<double>(Steady::time_point(Steady::duration(last_record.load())) - start).count();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : std::string(SLUICE_BENCH_DEFAULT_DIR) + "/groups";
  const std::chrono::seconds duration(argc > 2 ? std::stoi(argv[2]) : 5);
  const int many = argc > 3 ? std::stoi(argv[3]) : 100;
  std::filesystem::remove_all(dir);
  broker::BrokerConfig config{.data_dir = dir, .listen = "127.0.0.1:0", .http = "", .log_level = "warn"};
  config.group_consumer_heartbeat_interval_ms = 500;  // joins settle in a few heartbeats
  auto b = broker::Broker::start(config);
  if (!b) die("broker", b.error());
  const std::string bootstrap = (*b)->address().to_string();
  client::Admin admin({.bootstrap = bootstrap});

  std::printf("| members | commits/s | p50 ms | p99 ms | stable after s |\n|---:|---:|---:|---:|---:|\n");
  for (int members : {1, many}) {
    const CommitFigures f = measure_commits(bootstrap, admin, members, duration);
    std::printf("| %d | %.0f | %.2f | %.2f | %.2f |\n", members, f.commits_per_sec, f.p50_ms, f.p99_ms,
                f.stable_after_s);
  }
  std::printf("\n| round | consumers | produce rec/s | consume rec/s |\n|---:|---|---:|---:|\n");
  for (int round = 0; round < 2; ++round) {
    for (bool grouped : {round == 0, round != 0}) {  // interleaved: A B, then B A
      const Throughput t = measure_throughput(bootstrap, admin, grouped, duration, round);
      std::printf("| %d | %s | %.0f | %.0f |\n", round + 1,
                  grouped ? "10 members, commit every 1 s" : "10 assign-mode, no commits", t.produce_per_sec,
                  t.consume_per_sec);
    }
  }
  return 0;
}
