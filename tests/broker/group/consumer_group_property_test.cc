// The group state machine under random joins, leaves, crashes, static restarts,
// heartbeats with lagging owned-partition reports and timeouts, with fixed seeds: no
// partition is ever held by two members (nor consumed by two clients), and once
// heartbeats stop changing anything every member is stable and owns exactly its share of
// the target — also when members heartbeat only when heartbeat_due() asks them to.
#include <gtest/gtest.h>

#include <random>

#include "sluice/broker/group_errc.h"

#include "group/consumer_group.h"
#include "group_driver.h"

namespace sluice::broker::group {
namespace {

using testing::at_ms;
using testing::beat;
using testing::Client;

class Simulation {
 public:
  explicit Simulation(uint32_t seed) : random_(seed) {}

  void run_random_steps(int steps) {
    for (int step = 0; step < steps; ++step) {
      const int action = pick(100);
      if (action < 8 && clients_.size() < 6) {
        join();
      } else if (action < 11 && !clients_.empty()) {
        leave(pick(clients_.size()));
      } else if (action < 13 && !clients_.empty()) {
        clients_.erase(clients_.begin() + pick(clients_.size()));  // crashes: its session runs out
      } else if (action < 14 && !clients_.empty()) {
        static_restart(pick(clients_.size()));
      } else if (action < 15) {
        topics_.emplace("t" + std::to_string(topics_.size()), 1 + pick(5));
      } else if (action < 30) {
        now_ms_ += pick(4000);
        expire();
      } else if (!clients_.empty()) {
        Client& client = clients_[pick(clients_.size())];
        if (pick(2) == 0) testing::apply(client);
        heartbeat(client, testing::Apply::later);
      }
      check();
      if (::testing::Test::HasFailure()) return;
    }
  }

  // Every client heartbeats and takes what it is given, once a second, until nothing changes.
  void settle() {
    for (int round = 0; round < 80; ++round) {
      now_ms_ += 1000;
      expire();
      for (size_t i = 0; i < clients_.size(); ++i) heartbeat(clients_[i], testing::Apply::now);
      check();
    }
    expect_converged();
  }

  // No time passes and no heartbeat interval runs out: a client heartbeats only when it
  // must by itself (to join, or to report an assignment it just applied) or when
  // heartbeat_due() says so, as a consumer whose long-poll fetch is answered early. The
  // group still converges, and in a bounded number of heartbeats (heartbeat_due() is
  // never true for a heartbeat that changes nothing, which would spin).
  void settle_on_prompts() {
    const auto own_beat = [&](Client& client) {
      testing::apply(client);
      for (int round = 0; round < 10; ++round) {  // the consumer reports each change at once
        const TopicAssignment reported = client.owned;
        heartbeat(client, testing::Apply::now);
        if (client.owned == reported) return;
      }
    };
    // Crashed members leave only when their sessions end (the coordinator's timer, not a
    // heartbeat): jump past that, the live clients heartbeating once at the new time.
    now_ms_ += 11'000;
    for (Client& client : clients_) {
      if (!client.member_id.empty()) heartbeat(client, testing::Apply::later);
    }
    expire();
    for (Client& client : clients_) {
      if (client.member_id.empty() || client.received) own_beat(client);
    }
    const size_t limit = 20 * (clients_.size() + 1);
    size_t prompted = 0;
    for (bool any = true; any && prompted < limit;) {
      any = false;
      for (Client& client : clients_) {
        if (!client.member_id.empty() && !group_.heartbeat_due(client.member_id, client.epoch)) continue;
        own_beat(client);
        check();
        any = true;
        ++prompted;
      }
    }
    EXPECT_LT(prompted, limit) << "heartbeat_due() kept asking";
    expect_converged();
  }

  void expect_converged() {
    ASSERT_EQ(group_.state(), clients_.empty() ? GroupState::empty : GroupState::stable);
    ASSERT_EQ(group_.members().size(), clients_.size());
    TopicAssignment owned;
    TopicAssignment target;
    for (const Client& client : clients_) {
      const Member& member = group_.members().at(client.member_id);
      EXPECT_EQ(member.state, MemberState::stable);
      EXPECT_EQ(member.member_epoch, group_.assignment_epoch());
      EXPECT_EQ(client.owned, group_.target().at(client.member_id));
      owned = set_union(owned, client.owned);
      target = set_union(target, group_.target().at(client.member_id));
    }
    EXPECT_EQ(owned, target);
    if (!clients_.empty()) {
      EXPECT_EQ(testing::partition_count(owned), total_partitions());
    }
  }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random_); }

  size_t total_partitions() const {
    size_t total = 0;
    for (const auto& [topic, partitions] : topics_) total += static_cast<size_t>(partitions);
    return total;
  }

  // Subscribes by pattern, so topics created during the run join its subscription; every
  // other client is a static member.
  Client fresh_client() {
    Client client;
    client.regex = "t.*";
    client.rebalance_timeout_ms = 8'000;
    if (++clients_made_ % 2 == 0) client.instance_id = "instance-" + std::to_string(clients_made_);
    return client;
  }

  // The process stops with -2, or crashes, and a new one with the same instance id joins.
  void static_restart(size_t index) {
    Client& old = clients_[index];
    if (!old.instance_id || old.member_id.empty()) return;
    if (pick(2) == 0) {
      old.epoch = kStaticLeaveEpoch;
      EXPECT_TRUE(beat(group_, old, topics_, at_ms(now_ms_)));
    }
    Client restarted = fresh_client();
    restarted.instance_id = old.instance_id;
    old = restarted;
    heartbeat(old, testing::Apply::later);
  }

  void join() {
    clients_.push_back(fresh_client());
    heartbeat(clients_.back(), testing::Apply::later);
  }

  void leave(size_t index) {
    if (!clients_[index].member_id.empty()) {
      clients_[index].epoch = kLeaveEpoch;
      EXPECT_TRUE(beat(group_, clients_[index], topics_, at_ms(now_ms_)));
    }
    clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(index));
  }

  void heartbeat(Client& client, testing::Apply apply) {
    const auto response = beat(group_, client, topics_, at_ms(now_ms_), apply);
    if (response) return;
    // Fenced or expired: the client drops what it had and joins again as a new member.
    EXPECT_TRUE(response.error().code == GroupErrc::unknown_member_id ||
                response.error().code == GroupErrc::fenced_member_epoch)
        << response.error().to_string();
    client = fresh_client();
  }

  void expire() {
    group_.expire(at_ms(now_ms_));
    for (Client& client : clients_) {
      if (!client.member_id.empty() && !group_.members().count(client.member_id)) {
        client = fresh_client();
      }
    }
  }

  void check() {
    testing::expect_exclusive(group_);
    std::vector<const Client*> live;
    for (const Client& client : clients_) {
      if (client.member_id.empty()) continue;
      live.push_back(&client);
      const Member& member = group_.members().at(client.member_id);
      EXPECT_EQ(difference(client.owned, set_union(member.assigned, member.pending_revocation)), TopicAssignment{})
          << client.member_id << " consumes a partition the coordinator does not count as its";
    }
    testing::expect_exclusive(live);
  }

  std::mt19937 random_;
  // Timeouts short next to the steps' pace, so sessions and revocations run out during the run.
  ConsumerGroup group_{"g", GroupConfig{std::chrono::seconds(10), std::chrono::seconds(1), std::chrono::seconds(8)},
                       testing::counting_ids()};
  int clients_made_ = 0;
  TopicPartitions topics_{{"t0", 12}};
  std::vector<Client> clients_;
  int64_t now_ms_ = 0;
};

class ConsumerGroupPropertyTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(ConsumerGroupPropertyTest, NoPartitionIsHeldTwiceAndTheGroupConverges) {
  Simulation simulation(GetParam());
  for (int phase = 0; phase < 3 && !HasFailure(); ++phase) {
    simulation.run_random_steps(300);
    if (!HasFailure()) simulation.settle();
  }
}

TEST_P(ConsumerGroupPropertyTest, ConvergesOnHeartbeatDuePromptsAlone) {
  Simulation simulation(GetParam());
  for (int phase = 0; phase < 3 && !HasFailure(); ++phase) {
    simulation.run_random_steps(300);
    if (!HasFailure()) simulation.settle_on_prompts();
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, ConsumerGroupPropertyTest, ::testing::Range(1u, 31u));

}  // namespace
}  // namespace sluice::broker::group
