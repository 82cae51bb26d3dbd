#include "uniform_assignor.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "ownership.h"

namespace sluice::broker::group {

namespace {

// Every member subscribes to every topic, so slot == member index. Quotas are computed
// up front: with N partitions and M members, the N % M members that kept the most get
// ceil(N / M), the rest floor(N / M). A member gives back only what exceeds its quota,
// which is the least movement any balanced assignment allows.
void balance_homogeneous(Ownership& state) {
  const auto members = static_cast<int64_t>(state.members.size());
  int64_t total = 0;
  for (const TopicOwnership& topic : state.topics) total += topic.partitions;
  std::vector<int> by_kept(members);
  std::iota(by_kept.begin(), by_kept.end(), 0);
  std::stable_sort(by_kept.begin(), by_kept.end(), [&](int a, int b) { return state.counts[a] > state.counts[b]; });
  std::vector<int64_t> quota(members, total / members);
  for (int64_t i = 0; i < total % members; ++i) ++quota[by_kept[i]];

  std::vector<std::pair<size_t, int32_t>> pool;  // (topic index, partition)
  for (size_t t = 0; t < state.topics.size(); ++t) {
    for (int32_t partition : state.topics[t].unowned) pool.emplace_back(t, partition);
    state.topics[t].unowned.clear();
  }
  for (int member = 0; member < members; ++member) {
    for (size_t t = state.topics.size(); t-- > 0 && state.counts[member] > quota[member];) {
      std::vector<int32_t>& owned = state.topics[t].owned[member];
      while (!owned.empty() && state.counts[member] > quota[member]) {
        pool.emplace_back(t, owned.back());
        owned.pop_back();
        --state.counts[member];
      }
    }
  }
  size_t next = 0;
  for (int member = 0; member < members; ++member) {
    for (; state.counts[member] < quota[member]; ++state.counts[member]) {
      const auto [t, partition] = pool[next++];
      state.topics[t].owned[member].push_back(partition);
    }
  }
}

// The slot of the least-loaded subscriber of `topic` (lowest member index on ties).
size_t least_loaded(const Ownership& state, const TopicOwnership& topic) {
  size_t best = 0;
  for (size_t slot = 1; slot < topic.subscribers.size(); ++slot) {
    if (state.counts[topic.subscribers[slot]] < state.counts[topic.subscribers[best]]) best = slot;
  }
  return best;
}

// Moves partitions of `topic` from its most-loaded owner to its least-loaded subscriber
// while they differ by two or more. Returns whether anything moved.
bool level_topic(Ownership& state, TopicOwnership& topic) {
  bool moved = false;
  for (;;) {
    const size_t to = least_loaded(state, topic);
    size_t from = topic.subscribers.size();
    for (size_t slot = 0; slot < topic.subscribers.size(); ++slot) {
      if (topic.owned[slot].empty()) continue;
      if (from == topic.subscribers.size() ||
          state.counts[topic.subscribers[slot]] > state.counts[topic.subscribers[from]]) {
        from = slot;
      }
    }
    if (from == topic.subscribers.size() ||
        state.counts[topic.subscribers[from]] - state.counts[topic.subscribers[to]] < 2) {
      return moved;
    }
    topic.owned[to].push_back(topic.owned[from].back());
    topic.owned[from].pop_back();
    --state.counts[topic.subscribers[from]];
    ++state.counts[topic.subscribers[to]];
    moved = true;
  }
}

// Unowned partitions go to the least-loaded subscriber, topics with the fewest
// subscribers first (they have the least choice); then every topic is levelled until a
// whole pass moves nothing. Each move lowers the sum of squared counts, so it ends.
void balance_heterogeneous(Ownership& state) {
  std::vector<size_t> order(state.topics.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return state.topics[a].subscribers.size() < state.topics[b].subscribers.size();
  });
  for (size_t t : order) {
    TopicOwnership& topic = state.topics[t];
    for (int32_t partition : topic.unowned) {
      const size_t slot = least_loaded(state, topic);
      topic.owned[slot].push_back(partition);
      ++state.counts[topic.subscribers[slot]];
    }
    topic.unowned.clear();
  }
  for (bool moved = true; moved;) {
    moved = false;
    for (size_t t : order) moved = level_topic(state, state.topics[t]) || moved;
  }
}

}  // namespace

TargetAssignment UniformAssignor::assign(const AssignorInput& input) const {
  Ownership state = Ownership::from(input);
  if (state.members.empty()) return {};
  if (state.homogeneous()) {
    balance_homogeneous(state);
  } else {
    balance_heterogeneous(state);
  }
  return state.target();
}

}  // namespace sluice::broker::group
