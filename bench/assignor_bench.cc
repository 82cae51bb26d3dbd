// The server-side assignors at the scale issue 16 asks for: 1,000 members and 10,000
// partitions (100 topics x 100 partitions), which must take well under 100 ms.
//
//   assignor_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>

#include "group/range_assignor.h"
#include "group/uniform_assignor.h"

namespace sluice::broker::group {
namespace {

constexpr int kMembers = 1000;
constexpr int kTopics = 100;
constexpr int32_t kPartitionsPerTopic = 100;

std::string topic_name(int t) { return "topic-" + std::to_string(t); }

// Every member subscribes to every topic, or (heterogeneous) member i to the topics
// whose index has the same parity as i, plus topic 0.
AssignorInput group_input(int members, bool heterogeneous) {
  AssignorInput input;
  for (int t = 0; t < kTopics; ++t) input.partitions_per_topic[topic_name(t)] = kPartitionsPerTopic;
  for (int i = 0; i < members; ++i) {
    AssignorMember member{"member-" + std::to_string(i), std::nullopt, {}, {}};
    for (int t = 0; t < kTopics; ++t) {
      if (!heterogeneous || t == 0 || t % 2 == i % 2) member.topics.push_back(topic_name(t));
    }
    std::sort(member.topics.begin(), member.topics.end());
    input.members.push_back(std::move(member));
  }
  return input;
}

void with_previous(AssignorInput& input, const TargetAssignment& previous) {
  for (AssignorMember& member : input.members) {
    auto it = previous.find(member.member_id);
    if (it != previous.end()) member.previous = it->second;
  }
}

void run(benchmark::State& state, const Assignor& assignor, const AssignorInput& input) {
  for (auto _ : state) benchmark::DoNotOptimize(assignor.assign(input));
  state.counters["members"] = static_cast<double>(input.members.size());
}

void BM_UniformFromScratch(benchmark::State& state) {
  run(state, UniformAssignor(), group_input(kMembers, state.range(0) != 0));
}
BENCHMARK(BM_UniformFromScratch)->Arg(0)->Arg(1)->ArgName("heterogeneous")->Unit(benchmark::kMillisecond);

// The steady-state case: the previous assignment is the balanced one and one member joins.
void BM_UniformOneJoins(benchmark::State& state) {
  const bool heterogeneous = state.range(0) != 0;
  const UniformAssignor assignor;
  AssignorInput before = group_input(kMembers - 1, heterogeneous);
  const TargetAssignment previous = assignor.assign(before);
  AssignorInput input = group_input(kMembers, heterogeneous);
  with_previous(input, previous);
  run(state, assignor, input);
}
BENCHMARK(BM_UniformOneJoins)->Arg(0)->Arg(1)->ArgName("heterogeneous")->Unit(benchmark::kMillisecond);

void BM_Range(benchmark::State& state) { run(state, RangeAssignor(), group_input(kMembers, state.range(0) != 0)); }
BENCHMARK(BM_Range)->Arg(0)->Arg(1)->ArgName("heterogeneous")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::broker::group
