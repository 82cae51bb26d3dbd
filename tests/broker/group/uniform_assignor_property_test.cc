// Randomized rounds of joins, leaves, subscription changes and partition-count increases,
// each replayable from its seed. After every round: exactly one owner per partition,
// only subscribers own, the balance bound, (homogeneous) movement equal to the minimum
// balance needs, and the same output for shuffled input.
#include <gtest/gtest.h>

#include <random>

#include "assignment_checks.h"
#include "group/range_assignor.h"
#include "group/uniform_assignor.h"

namespace sluice::broker::group {
namespace {

using testing::count;
using testing::member;

const std::vector<std::string> kTopics = {"t0", "t1", "t2", "t3"};

// A group evolving at random; `previous` is fed back from the last target.
class RandomGroup {
 public:
  RandomGroup(uint32_t seed, bool homogeneous) : rng_(seed), homogeneous_(homogeneous) {
    for (const std::string& topic : kTopics) partitions_[topic] = pick(1, 8);
    shared_topics_ = random_topics();
    for (int i = 0; i < 3; ++i) join();
  }

  void step() {
    switch (pick(0, 3)) {
      case 0: join(); break;
      case 1: leave(); break;
      case 2: resubscribe(); break;
      default: partitions_[kTopics[pick(0, kTopics.size() - 1)]] += pick(1, 5); break;
    }
  }

  AssignorInput input(const TargetAssignment& previous) const {
    AssignorInput input;
    input.partitions_per_topic = partitions_;
    for (const auto& [id, topics] : members_) {
      auto it = previous.find(id);
      input.members.push_back(member(id, topics, it == previous.end() ? TopicAssignment{} : it->second));
    }
    return input;
  }

  AssignorInput shuffled(AssignorInput input) {
    std::shuffle(input.members.begin(), input.members.end(), rng_);
    return input;
  }

 private:
  size_t pick(size_t low, size_t high) { return std::uniform_int_distribution<size_t>(low, high)(rng_); }

  std::vector<std::string> random_topics() {
    std::vector<std::string> topics;
    for (const std::string& topic : kTopics) {
      if (pick(0, 1) == 1) topics.push_back(topic);
    }
    if (topics.empty()) topics.push_back(kTopics[pick(0, kTopics.size() - 1)]);
    return topics;
  }

  void join() { members_["m" + std::to_string(next_id_++)] = homogeneous_ ? shared_topics_ : random_topics(); }

  void leave() {
    if (members_.size() <= 1) return;
    members_.erase(std::next(members_.begin(), static_cast<long>(pick(0, members_.size() - 1))));
  }

  void resubscribe() {
    if (homogeneous_) {
      shared_topics_ = random_topics();
      for (auto& [id, topics] : members_) topics = shared_topics_;
    } else {
      std::next(members_.begin(), static_cast<long>(pick(0, members_.size() - 1)))->second = random_topics();
    }
  }

  std::mt19937 rng_;
  bool homogeneous_;
  int next_id_ = 0;
  std::map<std::string, int32_t> partitions_;
  std::vector<std::string> shared_topics_;
  std::map<std::string, std::vector<std::string>> members_;
};

// Previously owned partitions that are still valid (topic subscribed, partition exists).
std::map<std::string, size_t> kept(const AssignorInput& input) {
  std::map<std::string, size_t> out;
  for (const AssignorMember& m : input.members) {
    size_t n = 0;
    for (const auto& [topic, partitions] : m.previous) {
      if (!std::binary_search(m.topics.begin(), m.topics.end(), topic)) continue;
      const int32_t limit = input.partitions_per_topic.at(topic);
      n += std::count_if(partitions.begin(), partitions.end(), [&](int32_t p) { return p < limit; });
    }
    out[m.member_id] = n;
  }
  return out;
}

// The fewest valid previous partitions any floor/ceil assignment must take away: the
// N % M members that kept the most get ceil, everyone gives back what exceeds its quota.
size_t minimum_movement(const AssignorInput& input, size_t total) {
  std::vector<size_t> counts;
  for (const auto& [id, n] : kept(input)) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  const size_t m = counts.size();
  size_t movement = 0;
  for (size_t i = 0; i < m; ++i) {
    const size_t quota = total / m + (i < total % m ? 1 : 0);
    movement += counts[i] > quota ? counts[i] - quota : 0;
  }
  return movement;
}

void expect_homogeneous_balance(const AssignorInput& input, const TargetAssignment& before,
                                const TargetAssignment& after) {
  size_t total = 0;
  for (const std::string& topic : input.members.front().topics) total += input.partitions_per_topic.at(topic);
  const size_t m = input.members.size();
  for (const auto& [id, assignment] : after) {
    EXPECT_GE(count(assignment), total / m) << id;
    EXPECT_LE(count(assignment), (total + m - 1) / m) << id;
  }
  // moved() also counts partitions that became invalid; those are not movement.
  size_t invalid = 0;
  const auto still_valid = kept(input);
  for (const AssignorMember& m2 : input.members) invalid += count(m2.previous) - still_valid.at(m2.member_id);
  size_t departed = 0;
  for (const auto& [id, assignment] : before) {
    if (!still_valid.count(id)) departed += count(assignment);
  }
  EXPECT_EQ(testing::moved(before, after) - invalid - departed, minimum_movement(input, total));
}

// No partition could move to another subscriber of its topic and narrow their gap.
void expect_heterogeneous_balance(const AssignorInput& input, const TargetAssignment& after) {
  for (const AssignorMember& owner : input.members) {
    for (const auto& [topic, partitions] : after.at(owner.member_id)) {
      for (const AssignorMember& other : input.members) {
        if (!std::binary_search(other.topics.begin(), other.topics.end(), topic)) continue;
        EXPECT_LE(count(after.at(owner.member_id)), count(after.at(other.member_id)) + 1)
            << owner.member_id << " vs " << other.member_id << " on " << topic;
      }
    }
  }
}

void run_uniform(uint32_t seed, bool homogeneous) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  RandomGroup group(seed, homogeneous);
  const UniformAssignor assignor;
  TargetAssignment previous;
  for (int round = 0; round < 200 && !::testing::Test::HasFailure(); ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    group.step();
    const AssignorInput input = group.input(previous);
    const TargetAssignment target = assignor.assign(input);
    testing::expect_valid(input, target);
    EXPECT_EQ(assignor.assign(group.shuffled(input)), target);
    if (homogeneous) {
      expect_homogeneous_balance(input, previous, target);
    } else {
      expect_heterogeneous_balance(input, target);
    }
    previous = target;
  }
}

TEST(UniformAssignorPropertyTest, HomogeneousBalancedAndMovesOnlyWhatBalanceNeeds) {
  for (uint32_t seed = 1; seed <= 10; ++seed) run_uniform(seed, true);
}

TEST(UniformAssignorPropertyTest, HeterogeneousOwnersAreSubscribersAndLevelled) {
  for (uint32_t seed = 1; seed <= 10; ++seed) run_uniform(seed, false);
}

TEST(RangeAssignorPropertyTest, ValidRangesAndDeterministic) {
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomGroup group(seed, false);
    const RangeAssignor assignor;
    for (int round = 0; round < 100; ++round) {
      group.step();
      const AssignorInput input = group.input({});
      const TargetAssignment target = assignor.assign(input);
      testing::expect_valid(input, target);
      EXPECT_EQ(assignor.assign(group.shuffled(input)), target);
      for (const auto& [topic, partitions] : input.partitions_per_topic) {
        size_t low = SIZE_MAX, high = 0;
        for (const AssignorMember& m : input.members) {
          if (!std::binary_search(m.topics.begin(), m.topics.end(), topic)) continue;
          auto it = target.at(m.member_id).find(topic);
          const size_t n = it == target.at(m.member_id).end() ? 0 : it->second.size();
          low = std::min(low, n);
          high = std::max(high, n);
        }
        if (high > 0) {
          EXPECT_LE(high - low, 1u) << topic;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice::broker::group
