// Consumer group rebalances, measured on a real broker in this process over TCP,
// with members as consumers on their own threads and a producer writing to every
// partition at a steady rate:
//   (i)  a group of M members takes one more: the longest gap between consecutive
//        records on the partitions that do not move (against the same measure before
//        the join: records arrive every partitions/rate seconds per partition), and
//        the time until the group is stable (every member owns its share);
//   (ii) a member's close(): the time until each of its partitions is consumed again
//        by another member (the longest and the median over its partitions);
//   (iii) a member's death (it stops polling and heartbeating, its connection open):
//        the time from the broker ending its session (seen as the member gone from
//        DescribeGroups, polled every 5 ms) until its partitions are consumed again.
//
//   group_rebalance_bench [members=10] [partitions=110] [heartbeat_ms=5000] [rate=5000] [data_dir]
//
// heartbeat_ms is the broker's group.consumer.heartbeat.interval.ms. Members learn of a
// change that concerns them from their parked fetch (the broker answers it with
// heartbeat_now), not at their next heartbeat; the figures show how far they depend on it.
// Members' session timeout is 6 s (the broker's minimum) so (iii) does not wait 45 s.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sluice/broker/broker.h"
#include "sluice/client/admin.h"
#include "sluice/client/producer.h"
#include "sluice/consumer/consumer.h"

using namespace sluice;
using client::TopicPartition;
using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

const std::string kTopic = "rebalance";

double ms_between(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Waits for a condition by polling it (the bench observes, it never synchronizes members).
template <typename Done>
bool eventually(Done done, std::chrono::seconds bound) {
  const auto give_up = Steady::now() + bound;
  while (!done()) {
    if (Steady::now() > give_up) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// A group member polling on its own thread; keeps when it got a record of each partition.
class Member : public consumer::RebalanceListener {
 public:
  static constexpr int kSessionTimeoutMs = 6'000;

  Member(const std::string& bootstrap, const std::string& name)
      : consumer_({.bootstrap = bootstrap,
                   .client_id = name,
                   .group_id = "bench",
                   .session_timeout_ms = kSessionTimeoutMs,
                   .auto_offset_reset = consumer::OffsetReset::latest}),
        name_(name) {
    (void)consumer_.subscribe(std::vector<std::string>{kTopic}, this);
    thread_ = std::thread([this] { run(); });
  }
  ~Member() override { close(); }

  // Stops polling, then returns when close() was called (it leaves the group).
  Steady::time_point close() {
    stop_polling();
    const auto at = Steady::now();
    consumer_.close();
    return at;
  }
  const std::string& name() const { return name_; }
  // Stops polling without leaving: to the broker, a member that died.
  void stop_polling() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
  }

  void on_partitions_assigned(const std::vector<TopicPartition>& p) override {
    std::lock_guard lock(mu_);
    owned_.insert(p.begin(), p.end());
  }
  void on_partitions_revoked(const std::vector<TopicPartition>& p) override {
    std::lock_guard lock(mu_);
    for (const auto& tp : p) owned_.erase(tp);
  }
  void on_partitions_lost(const std::vector<TopicPartition>& p) override { on_partitions_revoked(p); }

  std::set<TopicPartition> owned() const {
    std::lock_guard lock(mu_);
    return owned_;
  }
  std::map<TopicPartition, std::vector<Steady::time_point>> arrivals() const {
    std::lock_guard lock(mu_);
    return arrivals_;
  }

 private:
  void run() {
    while (!stop_) {
      auto records = consumer_.poll(milliseconds(50));
      if (!records || records->empty()) continue;
      const auto now = Steady::now();
      std::lock_guard lock(mu_);
      for (const auto& r : *records) {
        auto& times = arrivals_[TopicPartition{r.topic, r.partition}];
        if (times.empty() || times.back() != now) times.push_back(now);
      }
    }
  }

  consumer::Consumer consumer_;
  std::string name_;  // its client id
  mutable std::mutex mu_;
  std::set<TopicPartition> owned_;
  std::map<TopicPartition, std::vector<Steady::time_point>> arrivals_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Writes `rate` records/s round-robin over the partitions until destroyed.
class Load {
 public:
  Load(const std::string& bootstrap, int partitions, int rate)
      : producer_(client::ProducerConfig{.bootstrap = bootstrap, .acks = 1, .linger_ms = 1}) {
    thread_ = std::thread([this, partitions, rate] {
      const auto step = std::chrono::nanoseconds(1'000'000'000 / rate);
      auto next = Steady::now();
      for (int i = 0; !stop_; ++i) {
        producer_.send({.topic = kTopic, .partition = i % partitions, .value = "v" + std::to_string(i)},
                       [](const Result<client::RecordMetadata>&) {});
        next += step;
        std::this_thread::sleep_until(next);  // the load's pace
      }
    });
  }
  ~Load() {
    stop_ = true;
    thread_.join();
    producer_.flush();
  }

 private:
  client::Producer producer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool balanced(const std::vector<std::unique_ptr<Member>>& members, int partitions) {
  size_t total = 0;
  const size_t low = partitions / members.size(), high = (partitions + members.size() - 1) / members.size();
  for (const auto& m : members) {
    const size_t n = m->owned().size();
    if (n < low || n > high) return false;
    total += n;
  }
  return total == static_cast<size_t>(partitions);
}

// The longest gap between consecutive arrivals inside [from, to] over `partitions` of `m`.
double longest_gap_ms(const Member& m, const std::set<TopicPartition>& partitions, Steady::time_point from,
                      Steady::time_point to) {
  double longest = 0;
  auto arrivals = m.arrivals();
  for (const auto& tp : partitions) {
    const auto& times = arrivals[tp];
    for (size_t i = 1; i < times.size(); ++i) {
      if (times[i] < from || times[i - 1] > to) continue;
      longest = std::max(longest, ms_between(std::max(times[i - 1], from), std::min(times[i], to)));
    }
  }
  return longest;
}

// Per partition of `moving`, ms from `since` to its first arrival at a member of `group`
// (-1: none), sorted.
std::vector<double> consumed_again(const std::vector<std::unique_ptr<Member>>& group,
                                   const std::set<TopicPartition>& moving, Steady::time_point since) {
  std::vector<double> resumed;
  for (const auto& tp : moving) {
    double first = -1;
    for (const auto& m : group) {
      auto arrivals = m->arrivals();
      for (const auto& t : arrivals[tp]) {
        if (t < since) continue;
        const double ms = ms_between(since, t);
        if (first < 0 || ms < first) first = ms;
        break;
      }
    }
    resumed.push_back(first);
  }
  std::sort(resumed.begin(), resumed.end());
  return resumed;
}

}  // namespace

int main(int argc, char** argv) {
  const int members = argc > 1 ? std::stoi(argv[1]) : 10;
  const int partitions = argc > 2 ? std::stoi(argv[2]) : 110;
  const int heartbeat_ms = argc > 3 ? std::stoi(argv[3]) : 5'000;
  const int rate = argc > 4 ? std::stoi(argv[4]) : 5'000;
  const std::string dir = argc > 5 ? argv[5] : std::string(SLUICE_BENCH_DEFAULT_DIR) + "/rebalance";
  std::filesystem::remove_all(dir);
  const auto bound = std::chrono::seconds(60 + 20 * heartbeat_ms / 1000);

  broker::BrokerConfig config{.data_dir = dir, .listen = "127.0.0.1:0", .http = "", .log_level = "warn"};
  config.group_consumer_heartbeat_interval_ms = heartbeat_ms;
  auto started = broker::Broker::start(config);
  if (!started) {
    std::fprintf(stderr, "broker: %s\n", started.error().to_string().c_str());
    return 1;
  }
  const std::string bootstrap = (*started)->address().to_string();
  if (auto s = client::Admin({.bootstrap = bootstrap}).create_topic(kTopic, partitions); !s) {
    std::fprintf(stderr, "create: %s\n", s.error().to_string().c_str());
    return 1;
  }
  Load load(bootstrap, partitions, rate);
  std::vector<std::unique_ptr<Member>> group;
  group.reserve(members + 1);
  for (int i = 0; i < members; ++i) group.push_back(std::make_unique<Member>(bootstrap, "m" + std::to_string(i)));
  if (!eventually([&] { return balanced(group, partitions); }, bound)) {
    std::fprintf(stderr, "the first %d members never balanced\n", members);
    return 1;
  }

  // (i) one more member.
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a steady baseline to compare with
  std::vector<std::set<TopicPartition>> before;
  before.reserve(group.size());
  for (const auto& m : group) before.push_back(m->owned());
  const auto join = Steady::now();
  group.push_back(std::make_unique<Member>(bootstrap, "m" + std::to_string(members)));
  if (!eventually([&] { return balanced(group, partitions); }, bound)) {
    std::fprintf(stderr, "the group never balanced after the join\n");
    return 1;
  }
  const auto stable = Steady::now();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the kept partitions after the change
  double gap_join = 0, gap_baseline = 0;
  size_t kept = 0;
  for (int i = 0; i < members; ++i) {
    std::set<TopicPartition> still;
    const auto now_owned = group[i]->owned();
    std::set_intersection(before[i].begin(), before[i].end(), now_owned.begin(), now_owned.end(),
                          std::inserter(still, still.end()));
    kept += still.size();
    gap_join = std::max(gap_join, longest_gap_ms(*group[i], still, join, stable + std::chrono::seconds(1)));
    gap_baseline = std::max(gap_baseline, longest_gap_ms(*group[i], still, join - std::chrono::seconds(2), join));
  }
  std::printf(
      "join: %d members + 1, %d partitions, heartbeat %d ms, %d records/s: stable after %.0f ms; longest gap on "
      "the %zu kept partitions %.1f ms during the join (%.1f ms in the 2 s before; a record every %.1f ms per "
      "partition)\n",
      members, partitions, heartbeat_ms, rate, ms_between(join, stable), kept, gap_join, gap_baseline,
      1000.0 * partitions / rate);

  // (ii) a member's close(): when is each of its partitions consumed again by another?
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<Member> leaving = std::move(group[round]);
    group.erase(group.begin() + round);
    const auto moving = leaving->owned();
    const auto closed = leaving->close();
    if (!eventually([&] { return balanced(group, partitions); }, bound)) {
      std::fprintf(stderr, "the group never balanced after a close\n");
      return 1;
    }
    std::this_thread::sleep_for(milliseconds(200));  // records of the moved partitions to arrive
    const std::vector<double> resumed = consumed_again(group, moving, closed);
    std::printf("close: %zu partitions consumed again by the others after %.1f ms (median), %.1f ms (all)\n",
                resumed.size(), resumed.empty() ? 0.0 : resumed[resumed.size() / 2],
                resumed.empty() ? 0.0 : resumed.back());
  }

  // (iii) a member's death: from the end of its session to its partitions consumed again.
  client::Admin admin({.bootstrap = bootstrap});
  std::unique_ptr<Member> dead = std::move(group.front());
  group.erase(group.begin());
  const auto moving = dead->owned();
  const std::string dead_name = dead->name();
  dead->stop_polling();
  const auto listed = [&] {
    auto described = admin.describe_groups({"bench"});
    if (!described || !described->front()) return true;
    const auto& m = described->front()->members;
    return std::any_of(m.begin(), m.end(), [&](const auto& member) { return member.client_id == dead_name; });
  };
  if (!eventually([&] { return !listed(); }, bound)) {
    std::fprintf(stderr, "the stopped member's session never ended\n");
    return 1;
  }
  const auto expired = Steady::now();
  if (!eventually([&] { return balanced(group, partitions); }, bound)) {
    std::fprintf(stderr, "the group never balanced after a death\n");
    return 1;
  }
  std::this_thread::sleep_for(milliseconds(200));
  const std::vector<double> resumed = consumed_again(group, moving, expired);
  std::printf(
      "death: session of %d ms ended; %zu partitions consumed again after %.1f ms (median), %.1f ms (all), from "
      "when DescribeGroups no longer listed the member\n",
      Member::kSessionTimeoutMs, resumed.size(), resumed.empty() ? 0.0 : resumed[resumed.size() / 2],
      resumed.empty() ? 0.0 : resumed.back());
  group.clear();
  return 0;
}
