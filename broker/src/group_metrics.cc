#include "group_metrics.h"

#include <iomanip>
#include <map>
#include <sstream>

#include "group/group_description.h"
#include "group/group_lag.h"

namespace sluice::broker {
namespace {

void header(std::ostream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

// A label value as Prometheus's text format escapes it (group ids may hold any character).
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string render_group_metrics(const BrokerState& state) {
  if (!state.groups || !state.offsets) return {};
  // Groups known only by committed offsets are empty, with no member and no rebalance yet.
  std::map<std::string, std::optional<group::GroupDescription>> groups;
  for (const std::string& id : state.offsets->groups()) groups[id];
  for (group::GroupDescription& g : state.groups->describe_all()) groups[g.group_id] = std::move(g);

  std::ostringstream out;
  std::map<group::GroupState, int> by_state;
  for (group::GroupState s : group::kGroupStates) by_state[s] = 0;
  for (const auto& [id, g] : groups) ++by_state[g ? g->state : group::GroupState::empty];
  header(out, "sluice_consumer_groups", "gauge", "Consumer groups, by state.");
  for (const auto& [s, n] : by_state) {
    out << "sluice_consumer_groups{state=\"" << group::group_state_name(s) << "\"} " << n << "\n";
  }
  header(out, "sluice_consumer_group_members", "gauge", "Members of each consumer group.");
  for (const auto& [id, g] : groups) {
    out << "sluice_consumer_group_members{group=\"" << label(id) << "\"} " << (g ? g->members.size() : 0) << "\n";
  }
  header(out, "sluice_consumer_group_rebalances_total", "counter",
         "Assignment epoch bumps of each consumer group since the broker started.");
  for (const auto& [id, g] : groups) {
    out << "sluice_consumer_group_rebalances_total{group=\"" << label(id) << "\"} " << (g ? g->rebalances : 0) << "\n";
  }
  std::ostringstream seconds;
  seconds << std::fixed << std::setprecision(3);  // milliseconds, never an exponent
  header(out, "sluice_consumer_group_lag_records", "gauge",
         "Log end offset minus the group's committed offset, per partition with a commit.");
  header(seconds, "sluice_consumer_group_lag_seconds", "gauge",
         "Age of the oldest record the group has not committed past (0 when caught up), per partition with a commit.");
  const int64_t now_ms = state.offsets->clock().now().value();
  for (const auto& [id, g] : groups) {
    for (const group::PartitionLag& lag : group::group_lag(id, g, *state.offsets, *state.topics, now_ms)) {
      if (!lag.lag) continue;
      std::string labels = "{group=\"" + label(id) + "\",topic=\"" + lag.topic + "\",partition=\"" +
                           std::to_string(lag.partition) + "\"} ";
      out << "sluice_consumer_group_lag_records" << labels << *lag.lag << "\n";
      if (lag.lag_seconds) seconds << "sluice_consumer_group_lag_seconds" << labels << *lag.lag_seconds << "\n";
    }
  }
  out << seconds.str();
  return out.str();
}

}  // namespace sluice::broker
