// Consumer groups with members as separate processes (tests/e2e/group_member.cc)
// over the real sluiced, while a producer writes keyed records: every partition is
// owned by one member at a time (ownership intervals from the members' assigned /
// revoked lines, on one CLOCK_MONOTONIC, never overlap, and no record is logged
// outside its member's interval); a member killed with -9 loses its partitions to
// the others after the session timeout, every record is processed at least once and
// the duplicates are the killed member's uncommitted tail; a joining member does not
// stop the partitions that stay; a static member restarted within the session
// timeout (after a clean stop or a kill -9) gets its partitions back and nothing else moves; a whole-group restart
// resumes at the committed offsets; two groups on one topic each process everything.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "sluice/client/producer.h"

#include "../broker/raw_client.h"
#include "broker_process.h"
#include "e2e_helpers.h"
#include "member_process.h"

namespace sluice {
namespace {

using client::TopicPartition;
using testing::BrokerProcess;
using testing::MemberEvent;
using testing::MemberProcess;
using testing::monotonic_ns;
using Kind = MemberEvent::Kind;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Offsets = std::set<std::pair<TopicPartition, int64_t>>;

constexpr int kPartitions = 12;
constexpr int kSessionTimeoutMs = 6'000;
constexpr int kHeartbeatIntervalMs = 200;
const std::string kTopic = "orders";
constexpr int64_t kOpen = std::numeric_limits<int64_t>::max();

// Writes keyed records at a steady pace on its own thread and keeps the partition
// and offset of every acknowledged one.
class KeyedProducer {
 public:
  explicit KeyedProducer(const std::string& bootstrap)
      : producer_(client::ProducerConfig{.bootstrap = bootstrap, .linger_ms = 1}) {
    thread_ = std::thread([this] { run(); });
  }
  ~KeyedProducer() { stop(); }

  // Stops sending and waits until every record sent is acknowledged.
  void stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
    producer_.flush();
  }
  Offsets acked() const {
    std::lock_guard lock(mu_);
    return acked_;
  }
  size_t failed() const { return failed_; }

 private:
  void run() {
    for (int i = 0; !stop_; ++i) {
      producer_.send({.topic = kTopic, .key = "key-" + std::to_string(i), .value = "value-" + std::to_string(i)},
                     [this](const Result<client::RecordMetadata>& md) {
                       if (!md) {
                         ++failed_;
                         return;
                       }
                       std::lock_guard lock(mu_);
                       acked_.insert({TopicPartition{md->topic, md->partition}, md->offset});
                     });
      std::this_thread::sleep_for(milliseconds(2));  // the load's pace (~500 records/s), not synchronization
    }
  }

  client::Producer producer_;
  mutable std::mutex mu_;
  Offsets acked_;
  std::atomic<size_t> failed_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One member's events, and when it ended if it was killed (its ownership ends there).
struct MemberRun {
  std::string name;
  std::vector<MemberEvent> events;
  int64_t killed_ns = kOpen;
};

struct Interval {
  std::string member;
  int64_t from = 0;
  int64_t to = kOpen;
};

// Per partition, each member's ownership intervals: from an "assigned" to its
// "revoked"/"lost", or to the kill.
std::map<TopicPartition, std::vector<Interval>> ownership(const std::vector<MemberRun>& runs) {
  std::map<TopicPartition, std::vector<Interval>> out;
  for (const MemberRun& run : runs) {
    std::map<TopicPartition, int64_t> since;
    for (const MemberEvent& e : run.events) {
      for (const auto& tp : e.partitions) {
        if (e.kind == Kind::assigned) since[tp] = e.ns;
        if ((e.kind == Kind::revoked || e.kind == Kind::lost) && since.contains(tp)) {
          out[tp].push_back({run.name, since[tp], e.ns});
          since.erase(tp);
        }
      }
    }
    for (const auto& [tp, from] : since) out[tp].push_back({run.name, from, run.killed_ns});
  }
  return out;
}

// No two members' intervals of a partition overlap, and every record a member
// logged lies inside one of its own intervals of that partition.
void expect_exclusive_ownership(const std::vector<MemberRun>& runs) {
  auto intervals = ownership(runs);
  for (auto& [tp, list] : intervals) {
    std::sort(list.begin(), list.end(), [](const Interval& a, const Interval& b) { return a.from < b.from; });
    for (size_t i = 1; i < list.size(); ++i) {
      EXPECT_LE(list[i - 1].to, list[i].from)
          << tp.to_string() << ": " << list[i - 1].member << " still owned it when " << list[i].member << " got it";
    }
  }
  for (const MemberRun& run : runs) {
    for (const MemberEvent& e : run.events) {
      if (e.kind != Kind::record) continue;
      const auto& list = intervals[e.partitions[0]];
      const bool inside = std::any_of(list.begin(), list.end(), [&](const Interval& i) {
        return i.member == run.name && i.from <= e.ns && e.ns <= i.to;
      });
      EXPECT_TRUE(inside) << run.name << " logged " << e.partitions[0].to_string() << "@" << e.offset
                          << " outside its ownership";
    }
  }
}

Offsets records_of(const std::vector<MemberEvent>& events) {
  Offsets out;
  for (const MemberEvent& e : events) {
    if (e.kind == Kind::record) out.insert({e.partitions[0], e.offset});
  }
  return out;
}

// The records logged after the last "committed" line: processed, not committed.
Offsets uncommitted_tail(const std::vector<MemberEvent>& events) {
  Offsets out;
  for (const MemberEvent& e : events) {
    if (e.kind == Kind::committed) out.clear();
    if (e.kind == Kind::record) out.insert({e.partitions[0], e.offset});
  }
  return out;
}

// Per partition, the offset after the last record committed (every record logged
// before a "committed" line is committed).
std::map<TopicPartition, int64_t> committed_positions(const std::vector<MemberRun>& runs) {
  std::map<TopicPartition, int64_t> out;
  for (const MemberRun& run : runs) {
    std::map<TopicPartition, int64_t> pending;
    for (const MemberEvent& e : run.events) {
      if (e.kind == Kind::record) pending[e.partitions[0]] = std::max(pending[e.partitions[0]], e.offset + 1);
      if (e.kind != Kind::committed) continue;
      for (const auto& [tp, next] : pending) out[tp] = std::max(out[tp], next);
      pending.clear();
    }
  }
  return out;
}

class GroupProcessE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(events_dir_);
    ASSERT_TRUE(broker_.start());
    testing::RawClient raw(broker_.address());
    wire::CreateTopicsRequest req;
    auto* t = req.add_topics();
    t->set_name(kTopic);
    t->set_partitions(kPartitions);
    auto resp = raw.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
    ASSERT_TRUE(resp);
    ASSERT_EQ(resp->results(0).error().code(), wire::NONE);
  }
  void TearDown() override {
    members_.clear();
    broker_.stop();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(events_dir_, ec);  // kept for a failure's post-mortem
    std::filesystem::remove_all(dir_, ec);
  }

  // Every member asks for kSessionTimeoutMs (the broker's minimum), as a user would with -X.
  MemberProcess& start_member(const std::string& name, const std::string& group = "g",
                              std::vector<std::string> settings = {}, int process_ms = 0) {
    settings.insert(settings.begin(), "session.timeout.ms=" + std::to_string(kSessionTimeoutMs));
    members_[name] = std::make_unique<MemberProcess>(GROUP_MEMBER_PATH, broker_.address(), group, kTopic,
                                                     events_dir_ + "/" + name, settings, process_ms);
    return *members_[name];
  }
  MemberProcess& member(const std::string& name) { return *members_.at(name); }

  // Waits until the named members own `each` partitions apiece; false after `bound`.
  bool wait_balanced(const std::vector<std::string>& names, size_t each, milliseconds bound = seconds(30)) {
    return eventually(
        [&] {
          return std::all_of(names.begin(), names.end(),
                             [&](const auto& n) { return member(n).owned().size() == each; });
        },
        bound);
  }
  // Waits until the members together logged every record in `expected`.
  bool wait_processed(const std::vector<std::string>& names, const Offsets& expected,
                      milliseconds bound = seconds(30)) {
    return eventually(
        [&] {
          Offsets seen;
          for (const auto& n : names) {
            for (const auto& r : records_of(member(n).events())) seen.insert(r);
          }
          return std::includes(seen.begin(), seen.end(), expected.begin(), expected.end());
        },
        bound);
  }
  // Waits until each named member logged a `kind` line after `after_ns`.
  bool wait_logged(const std::vector<std::string>& names, int64_t after_ns, Kind kind = Kind::record,
                   milliseconds bound = seconds(20)) {
    return eventually(
        [&] {
          return std::all_of(names.begin(), names.end(), [&](const auto& n) {
            auto events = member(n).events();
            return std::any_of(events.begin(), events.end(),
                               [&](const MemberEvent& e) { return e.kind == kind && e.ns > after_ns; });
          });
        },
        bound);
  }

  enum class StaticStop { leave, kill };
  void restart_static_member(StaticStop how);

  std::string dir_ = testing::temp_dir("sluice-group-process-e2e");
  std::string events_dir_ = dir_ + "-events";
  BrokerProcess broker_{SLUICED_PATH,
                        dir_,
                        {"--group-consumer-session-timeout-ms", std::to_string(kSessionTimeoutMs),
                         "--group-consumer-heartbeat-interval-ms", std::to_string(kHeartbeatIntervalMs)}};
  std::map<std::string, std::unique_ptr<MemberProcess>> members_;
};

TEST_F(GroupProcessE2e, EachPartitionHasOneOwnerAndAKilledMembersPartitionsMoveAfterTheSessionTimeout) {
  KeyedProducer producer(broker_.address());
  start_member("a");
  start_member("b");
  // Slow work on bigger polls: a kill lands between processing and commit, with many records.
  start_member("c", "g", {"fetch.min.bytes=4096"}, /*process_ms=*/300);
  ASSERT_TRUE(wait_balanced({"a", "b", "c"}, kPartitions / 3));
  ASSERT_TRUE(wait_logged({"a", "b", "c"}, monotonic_ns()));

  // c is killed while processing records it has not committed.
  ASSERT_TRUE(eventually(
      [&] {
        auto events = member("c").events();
        return !events.empty() && events.back().kind == Kind::record;
      },
      seconds(20)));
  const std::set<TopicPartition> orphaned = member("c").owned();
  const int64_t killed_ns = member("c").kill_now();
  ASSERT_TRUE(wait_balanced({"a", "b"}, kPartitions / 2, milliseconds(kSessionTimeoutMs) + seconds(20)));
  ASSERT_TRUE(wait_logged({"a", "b"}, monotonic_ns()));
  producer.stop();
  ASSERT_EQ(producer.failed(), 0u);
  const Offsets produced = producer.acked();
  std::vector<MemberRun> runs = {{"c", member("c").events(), killed_ns}};
  // Every record produced is processed at least once, by the survivors or by c before it died.
  ASSERT_TRUE(eventually(
      [&] {
        Offsets seen = records_of(runs[0].events);
        for (const char* n : {"a", "b"}) {
          for (const auto& r : records_of(member(n).events())) seen.insert(r);
        }
        return std::includes(seen.begin(), seen.end(), produced.begin(), produced.end());
      },
      seconds(30)));
  EXPECT_EQ(member("a").stop(), 0);
  EXPECT_EQ(member("b").stop(), 0);
  runs.push_back({"a", member("a").events()});
  runs.push_back({"b", member("b").events()});
  expect_exclusive_ownership(runs);

  // c's partitions went to a and b only once c's session expired (c's last heartbeat
  // was at most one interval before the kill).
  int64_t first_takeover = kOpen;
  for (size_t i = 1; i < runs.size(); ++i) {
    for (const MemberEvent& e : runs[i].events) {
      if (e.kind != Kind::assigned || e.ns < killed_ns) continue;
      for (const auto& tp : e.partitions) {
        if (orphaned.contains(tp)) first_takeover = std::min(first_takeover, e.ns);
      }
    }
  }
  ASSERT_NE(first_takeover, kOpen);
  EXPECT_GE(first_takeover - killed_ns, int64_t{kSessionTimeoutMs - 2 * kHeartbeatIntervalMs} * 1'000'000);

  // Duplicates are records processed twice; each must be one c processed and did not commit.
  std::map<std::pair<TopicPartition, int64_t>, int> times;
  for (const MemberRun& run : runs) {
    for (const MemberEvent& e : run.events) {
      if (e.kind == Kind::record) ++times[{e.partitions[0], e.offset}];
    }
  }
  const Offsets tail = uncommitted_tail(runs[0].events);
  size_t duplicates = 0;
  for (const auto& [record, n] : times) {
    if (n == 1) continue;
    duplicates += n - 1;
    EXPECT_TRUE(tail.contains(record)) << record.first.to_string() << "@" << record.second
                                       << " processed twice but c had committed it";
  }
  EXPECT_LE(duplicates, tail.size());
  // Killed before it committed them, c's tail was processed again from its last commit.
  EXPECT_FALSE(tail.empty());
  EXPECT_EQ(duplicates, tail.size());
  std::cout << "produced " << produced.size() << " records, c's uncommitted tail " << tail.size() << ", duplicates "
            << duplicates << ", takeover " << (first_takeover - killed_ns) / 1'000'000 << " ms after the kill\n";
}

TEST_F(GroupProcessE2e, AFourthMemberJoiningDoesNotStopThePartitionsThatStay) {
  KeyedProducer producer(broker_.address());
  for (const char* name : {"a", "b", "c"}) start_member(name);
  ASSERT_TRUE(wait_balanced({"a", "b", "c"}, kPartitions / 3));
  // The window starts once every member committed after the balance (a fresh broker's
  // first commits are slow) and covers at least 500 ms of steady consumption before the join.
  ASSERT_TRUE(wait_logged({"a", "b", "c"}, monotonic_ns(), Kind::committed));
  const int64_t window_ns = monotonic_ns();
  ASSERT_TRUE(wait_logged({"a", "b", "c"}, window_ns + 500'000'000));
  std::map<std::string, std::set<TopicPartition>> before;
  for (const char* n : {"a", "b", "c"}) before[n] = member(n).owned();

  const int64_t join_ns = monotonic_ns();
  start_member("d");
  ASSERT_TRUE(wait_balanced({"a", "b", "c", "d"}, kPartitions / 4));
  const int64_t stable_ns = monotonic_ns();
  ASSERT_TRUE(wait_logged({"a", "b", "c", "d"}, stable_ns));
  producer.stop();
  for (const char* n : {"a", "b", "c", "d"}) EXPECT_EQ(member(n).stop(), 0);

  std::vector<MemberRun> runs;
  for (const char* n : {"a", "b", "c", "d"}) runs.push_back({n, member(n).events()});
  expect_exclusive_ownership(runs);
  // For each partition a member kept through the join, the longest gap between its
  // consecutive records from before the join to after the group was stable.
  int64_t longest_ns = 0;
  size_t kept = 0;
  for (size_t m = 0; m < 3; ++m) {
    std::set<TopicPartition> still = before[runs[m].name];
    std::map<TopicPartition, int64_t> last;
    std::map<TopicPartition, int64_t> gap;
    for (const MemberEvent& e : runs[m].events) {
      if (e.kind == Kind::revoked && e.ns < stable_ns) {
        for (const auto& tp : e.partitions) still.erase(tp);
      }
      if (e.kind != Kind::record || e.ns < window_ns || e.ns > stable_ns + 1'000'000'000) continue;
      const TopicPartition& tp = e.partitions[0];
      if (last.contains(tp)) gap[tp] = std::max(gap[tp], e.ns - last[tp]);
      last[tp] = e.ns;
    }
    for (const auto& tp : still) {
      ++kept;
      longest_ns = std::max(longest_ns, gap[tp]);
    }
  }
  EXPECT_EQ(kept, 9u);  // sticky: three partitions move to d, nine stay
  // A normal poll interval: a fetch waits at most fetch.max.wait.ms (500 ms) for data.
  EXPECT_LE(longest_ns, int64_t{500} * 1'000'000);
  std::cout << "longest gap on a kept partition: " << longest_ns / 1'000 << " us; the group was stable "
            << (stable_ns - join_ns) / 1'000'000 << " ms after the fourth member started\n";
}

// A static member's process ends, cleanly (it leaves with epoch -2: its partitions wait
// for it) or by kill -9 (the coordinator still counts it live), and a new process with
// the same instance id joins within the session timeout: it gets the same partitions
// and nobody else sees a change.
void GroupProcessE2e::restart_static_member(StaticStop how) {
  KeyedProducer producer(broker_.address());
  for (const char* name : {"a", "b", "c"}) start_member(name, "g", {std::string("group.instance.id=") + name});
  ASSERT_TRUE(wait_balanced({"a", "b", "c"}, kPartitions / 3));
  ASSERT_TRUE(wait_logged({"a", "b", "c"}, monotonic_ns()));
  const std::set<TopicPartition> b_owned = member("b").owned();

  const int64_t restart_ns = monotonic_ns();
  int64_t b_killed_ns = kOpen;
  if (how == StaticStop::leave) {
    EXPECT_EQ(member("b").stop(), 0);
  } else {
    b_killed_ns = member("b").kill_now();
  }
  start_member("b2", "g", {"group.instance.id=b"});
  ASSERT_TRUE(wait_balanced({"b2"}, kPartitions / 3, milliseconds(kSessionTimeoutMs)));
  const int64_t back_ns = monotonic_ns();
  EXPECT_LT(back_ns - restart_ns, int64_t{kSessionTimeoutMs} * 1'000'000);
  EXPECT_EQ(member("b2").owned(), b_owned);
  ASSERT_TRUE(wait_logged({"a", "b2", "c"}, back_ns));
  producer.stop();
  for (const char* n : {"a", "b2", "c"}) EXPECT_EQ(member(n).stop(), 0);

  // The others saw no change from the first assignment until they closed.
  for (const char* n : {"a", "c"}) {
    for (const MemberEvent& e : member(n).events()) {
      const bool change = e.kind == Kind::assigned || e.kind == Kind::revoked || e.kind == Kind::lost;
      const bool closing = e.kind == Kind::revoked && e.ns > back_ns;
      if (change && e.ns > restart_ns && !closing) ADD_FAILURE() << n << " saw a partition move at the restart";
    }
  }
  std::vector<MemberRun> runs;
  runs.push_back({"b", member("b").events(), b_killed_ns});
  for (const char* n : {"a", "b2", "c"}) runs.push_back({n, member(n).events()});
  expect_exclusive_ownership(runs);
}

TEST_F(GroupProcessE2e, AStaticMemberRestartedWithinTheSessionTimeoutGetsItsPartitionsBackAndNothingMoves) {
  restart_static_member(StaticStop::leave);
}

TEST_F(GroupProcessE2e, AStaticMemberKilledAndRestartedWithinTheSessionTimeoutGetsItsPartitionsBackAndNothingMoves) {
  restart_static_member(StaticStop::kill);
}

TEST_F(GroupProcessE2e, AWholeGroupRestartResumesAtTheCommittedOffsets) {
  KeyedProducer producer(broker_.address());
  for (const char* name : {"a", "b", "c"}) start_member(name);
  ASSERT_TRUE(wait_balanced({"a", "b", "c"}, kPartitions / 3));
  ASSERT_TRUE(wait_logged({"a", "b", "c"}, monotonic_ns()));
  for (const char* n : {"a", "b", "c"}) EXPECT_EQ(member(n).stop(), 0);
  std::vector<MemberRun> first;
  for (const char* n : {"a", "b", "c"}) first.push_back({n, member(n).events()});
  const auto committed = committed_positions(first);

  for (const char* name : {"a2", "b2", "c2"}) start_member(name);
  ASSERT_TRUE(wait_balanced({"a2", "b2", "c2"}, kPartitions / 3));
  // Every partition read again by the new members (a quick rebalance can otherwise end
  // the test before a partition saw a record after the restart).
  ASSERT_TRUE(eventually(
      [&] {
        std::set<TopicPartition> read;
        for (const char* n : {"a2", "b2", "c2"}) {
          for (const MemberEvent& e : member(n).events()) {
            if (e.kind == Kind::record) read.insert(e.partitions[0]);
          }
        }
        return read.size() == static_cast<size_t>(kPartitions);
      },
      seconds(20)));
  producer.stop();
  const Offsets produced = producer.acked();
  ASSERT_TRUE(wait_processed({"a", "b", "c", "a2", "b2", "c2"}, produced));
  for (const char* n : {"a2", "b2", "c2"}) EXPECT_EQ(member(n).stop(), 0);

  // Each partition's first record after the restart is the one after the last
  // committed (clean stops commit what they processed: no duplicates, nothing skipped).
  std::vector<MemberRun> second;
  for (const char* n : {"a2", "b2", "c2"}) second.push_back({n, member(n).events()});
  std::map<TopicPartition, std::pair<int64_t, int64_t>> resumed;  // the earliest record: (ns, offset)
  for (const MemberRun& run : second) {
    for (const MemberEvent& e : run.events) {
      if (e.kind != Kind::record) continue;
      auto [it, inserted] = resumed.try_emplace(e.partitions[0], e.ns, e.offset);
      if (!inserted && e.ns < it->second.first) it->second = {e.ns, e.offset};
    }
  }
  EXPECT_EQ(resumed.size(), static_cast<size_t>(kPartitions));
  for (const auto& [tp, first_record] : resumed) {
    EXPECT_EQ(first_record.second, committed.contains(tp) ? committed.at(tp) : 0) << tp.to_string();
  }
  std::vector<MemberRun> all = first;
  all.insert(all.end(), second.begin(), second.end());
  expect_exclusive_ownership(all);
}

TEST_F(GroupProcessE2e, TwoGroupsOnOneTopicEachProcessEveryRecord) {
  KeyedProducer producer(broker_.address());
  for (const char* name : {"g1a", "g1b"}) start_member(name, "g1");
  start_member("g2a", "g2");
  ASSERT_TRUE(wait_balanced({"g1a", "g1b"}, kPartitions / 2));
  ASSERT_TRUE(wait_balanced({"g2a"}, kPartitions));
  ASSERT_TRUE(wait_logged({"g1a", "g1b", "g2a"}, monotonic_ns()));
  producer.stop();
  ASSERT_EQ(producer.failed(), 0u);
  const Offsets produced = producer.acked();
  ASSERT_TRUE(wait_processed({"g1a", "g1b"}, produced));
  ASSERT_TRUE(wait_processed({"g2a"}, produced));
  for (const char* n : {"g1a", "g1b", "g2a"}) EXPECT_EQ(member(n).stop(), 0);
  // Within g1 the two members share the partitions; g2 is not affected by g1.
  expect_exclusive_ownership({{"g1a", member("g1a").events()}, {"g1b", member("g1b").events()}});
  expect_exclusive_ownership({{"g2a", member("g2a").events()}});
}

}  // namespace
}  // namespace sluice
