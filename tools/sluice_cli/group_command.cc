// sluice group list|describe|delete|reset-offsets: consumer groups as
// kafka-consumer-groups shows and changes them.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <type_traits>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"

#include "cli_common.h"
#include "commands.h"
#include "table.h"

namespace sluice::tools {
namespace {
using client::Admin;
using client::TopicPartition;

struct GroupOptions {
  std::string group;
  bool json = false;
  // reset-offsets
  std::string topic;
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<int64_t> to_offset;
  std::optional<int64_t> to_timestamp;
  std::optional<int64_t> shift_by;
  bool execute = false;
};

Result<Admin> connect(const CliContext& context) {
  return Admin::create({.bootstrap = context.brokers, .client_id = "sluice-cli"});
}

std::string or_dash(const std::optional<int64_t>& value) { return value ? std::to_string(*value) : "-"; }
std::string or_dash(const std::optional<double>& value) {
  if (!value) return "-";
  std::ostringstream out;
  out << std::fixed << std::setprecision(3) << *value;
  return out.str();
}
std::string or_dash(const std::string& value) { return value.empty() ? "-" : value; }

int list(const CliContext& context) {
  auto admin = connect(context);
  if (!admin) return fail("group list", admin.error(), context.brokers);
  auto groups = admin->list_groups();
  if (!groups) return fail("group list", groups.error(), context.brokers);
  Table table({"GROUP", "STATE", "MEMBERS"});
  for (const auto& g : *groups) table.add_row({g.group_id, g.state, std::to_string(g.members)});
  table.print(std::cout);
  return kOk;
}

void append_json_field(std::string& out, const char* name, const std::string& value) {
  out += "\"";
  out += name;
  out += "\":\"";
  append_json_string(out, value);
  out += "\"";
}

template <typename T>
void append_json_number(std::string& out, const char* name, const std::optional<T>& value) {
  out += "\"";
  out += name;
  out += "\":";
  if (!value) {
    out += "null";
    return;
  }
  if constexpr (std::is_floating_point_v<T>) {
    out += or_dash(std::optional<double>(*value));  // milliseconds: 3 decimals, never an exponent
  } else {
    out += std::to_string(*value);
  }
}

std::string to_json(const std::vector<client::GroupPartitionOffsets>& partitions) {
  std::string out = "[";
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& p = partitions[i];
    if (i > 0) out += ",";
    out += "{";
    append_json_field(out, "topic", p.partition.topic);
    out += ",";
    append_json_number(out, "partition", std::optional<int32_t>(p.partition.partition));
    out += ",";
    append_json_number(out, "committed_offset", p.committed);
    out += ",";
    append_json_number(out, "log_end_offset", std::optional<int64_t>(p.log_end_offset));
    out += ",";
    append_json_number(out, "lag", p.lag);
    out += ",";
    append_json_number(out, "lag_seconds", p.lag_seconds);
    out += ",";
    append_json_field(out, "member_id", p.member_id);
    out += ",";
    append_json_field(out, "client_id", p.client_id);
    out += ",";
    append_json_field(out, "host", p.host);
    out += "}";
  }
  return out + "]";
}

int describe(const CliContext& context, const GroupOptions& options) {
  const std::string what = "group describe \"" + options.group + "\"";
  auto admin = connect(context);
  if (!admin) return fail(what, admin.error(), context.brokers);
  auto partitions = admin->describe_group_offsets(options.group);
  if (!partitions) return fail(what, partitions.error(), context.brokers);
  if (options.json) {
    std::cout << to_json(*partitions) << "\n";
    return kOk;
  }
  Table table({"TOPIC", "PARTITION", "COMMITTED-OFFSET", "LOG-END-OFFSET", "LAG", "LAG-SECONDS", "MEMBER-ID",
               "CLIENT-ID", "HOST"});
  for (const auto& p : *partitions) {
    table.add_row({p.partition.topic, std::to_string(p.partition.partition), or_dash(p.committed),
                   std::to_string(p.log_end_offset), or_dash(p.lag), or_dash(p.lag_seconds), or_dash(p.member_id),
                   or_dash(p.client_id), or_dash(p.host)});
  }
  table.print(std::cout);
  return kOk;
}

int remove(const CliContext& context, const GroupOptions& options) {
  const std::string what = "group delete \"" + options.group + "\"";
  auto admin = connect(context);
  if (!admin) return fail(what, admin.error(), context.brokers);
  auto results = admin->delete_groups({options.group});
  if (!results) return fail(what, results.error(), context.brokers);
  if (!results->front().status) return fail(what, results->front().status.error(), context.brokers);
  std::cout << "deleted group " << options.group << "\n";
  return kOk;
}

// The new offset of each partition of the topic, clamped to [log start, log end] as
// kafka-consumer-groups does. A partition without a commit shifts from its log end
// (where a consumer with auto.offset.reset=latest would start).
Result<std::map<TopicPartition, int64_t>> new_offsets(Admin& admin, const GroupOptions& options,
                                                      const client::TopicDescription& topic) {
  auto committed = admin.list_consumer_group_offsets(options.group);
  if (!committed) return tl::unexpected(committed.error());
  std::map<TopicPartition, int64_t> out;
  for (const client::PartitionInfo& p : topic.partitions) {
    TopicPartition tp{topic.name, p.partition};
    int64_t offset = p.log_end_offset;
    if (options.to_earliest) offset = p.log_start_offset;
    if (options.to_offset) offset = *options.to_offset;
    if (options.shift_by) {
      auto current = committed->find(tp);
      offset =
          (current != committed->end() && current->second.offset >= 0 ? current->second.offset : p.log_end_offset) +
          *options.shift_by;
    }
    if (options.to_timestamp) {
      auto listed =
          admin.list_offsets(topic.name, p.partition, client::OffsetSpec::for_timestamp(*options.to_timestamp));
      if (!listed) return tl::unexpected(listed.error());
      if (listed->offset >= 0) offset = listed->offset;  // else no record that late: the log end
    }
    out[tp] = std::clamp(offset, p.log_start_offset, p.log_end_offset);
  }
  return out;
}

int reset_offsets(const CliContext& context, const GroupOptions& options) {
  const std::string what = "group reset-offsets \"" + options.group + "\"";
  auto admin = connect(context);
  if (!admin) return fail(what, admin.error(), context.brokers);
  // A group the broker does not know yet has no members: its offsets may be set.
  auto described = admin->describe_groups({options.group});
  if (!described) return fail(what, described.error(), context.brokers);
  const auto& group = described->front();
  if (group && !group->members.empty()) {
    return fail(what + ": the group has " + std::to_string(group->members.size()) +
                " active members; offsets can only be reset when it has none (stop its consumers first)");
  }
  if (!group && group.error().code != client::ErrorCode::group_id_not_found) {
    return fail(what, group.error(), context.brokers);
  }
  auto topic = admin->describe_topic(options.topic);
  if (!topic) return fail(what, topic.error(), context.brokers);
  auto offsets = new_offsets(*admin, options, *topic);
  if (!offsets) return fail(what, offsets.error(), context.brokers);
  Table table({"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"});
  for (const auto& [tp, offset] : *offsets) {
    table.add_row({options.group, tp.topic, std::to_string(tp.partition), std::to_string(offset)});
  }
  if (options.execute) {
    auto results = admin->alter_group_offsets(options.group, *offsets);
    if (!results) return fail(what, results.error(), context.brokers);
    for (const auto& [tp, status] : *results) {
      if (!status) return fail(what + ": " + tp.to_string(), status.error(), context.brokers);
    }
  }
  table.print(std::cout);
  if (!options.execute) std::cerr << "dry run: no offset changed; add --execute to commit these offsets\n";
  return kOk;
}

}  // namespace

void add_group_command(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<GroupOptions>();
  CLI::App* group = app.add_subcommand("group", "List, describe, delete consumer groups and reset their offsets");
  group->require_subcommand(1);

  CLI::App* list_cmd = group->add_subcommand("list", "List consumer groups with their state and member count");
  list_cmd->callback([&context] { context.action = [&context] { return list(context); }; });

  CLI::App* describe_cmd = group->add_subcommand(
      "describe",
      "Show each partition the group has committed or owns: committed offset, log end offset, lag in records\n"
      "and in seconds (age of the oldest record not committed past; 0 when caught up; '-' without a commit),\n"
      "and the owning member");
  describe_cmd->add_option("group", options->group, "Group id")->required();
  describe_cmd->add_flag("--json", options->json,
                         "Print a JSON array of {topic, partition, committed_offset, log_end_offset, lag, "
                         "lag_seconds, member_id, client_id, host}; null where the table shows '-'");
  describe_cmd->callback(
      [&context, options] { context.action = [&context, options] { return describe(context, *options); }; });

  CLI::App* delete_cmd =
      group->add_subcommand("delete", "Delete a group that has no members, with its committed offsets");
  delete_cmd->add_option("group", options->group, "Group id")->required();
  delete_cmd->callback(
      [&context, options] { context.action = [&context, options] { return remove(context, *options); }; });

  CLI::App* reset_cmd = group->add_subcommand(
      "reset-offsets",
      "Print the offsets the group would get on every partition of the topic; commit them with --execute.\n"
      "The group must have no members. Offsets are clamped to each partition's [log start, log end].");
  reset_cmd->add_option("group", options->group, "Group id")->required();
  reset_cmd->add_option("--topic", options->topic, "Topic whose partitions are reset")->required();
  auto* earliest = reset_cmd->add_flag("--to-earliest", options->to_earliest, "To the log start offset");
  auto* latest = reset_cmd->add_flag("--to-latest", options->to_latest, "To the log end offset");
  auto* to_offset =
      reset_cmd->add_option("--to-offset", options->to_offset, "To offset N")->check(CLI::NonNegativeNumber);
  auto* to_timestamp = reset_cmd
                           ->add_option("--to-timestamp", options->to_timestamp,
                                        "To the first record at or after MS (ms since "
                                        "the epoch; the log end if none)")
                           ->check(CLI::NonNegativeNumber);
  auto* shift_by = reset_cmd->add_option("--shift-by", options->shift_by,
                                         "By N (may be negative) from the committed offset (the log end without one)");
  std::vector<CLI::Option*> specs{earliest, latest, to_offset, to_timestamp, shift_by};
  for (CLI::Option* a : specs) {
    for (CLI::Option* b : specs) {
      if (a != b) a->excludes(b);
    }
  }
  reset_cmd->add_flag("--execute", options->execute, "Commit the new offsets (without it: a dry run)");
  reset_cmd->callback([&context, options, specs] {
    const bool chosen = std::any_of(specs.begin(), specs.end(), [](CLI::Option* o) { return o->count() > 0; });
    if (!chosen) {
      throw CLI::RequiredError("one of --to-earliest, --to-latest, --to-offset, --to-timestamp, --shift-by");
    }
    context.action = [&context, options] { return reset_offsets(context, *options); };
  });
}

}  // namespace sluice::tools
