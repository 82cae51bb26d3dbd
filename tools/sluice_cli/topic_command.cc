// sluice topic create|list|describe|alter-config|delete.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "sluice/client/admin.h"

#include "cli_common.h"
#include "commands.h"
#include "table.h"

namespace sluice::tools {
namespace {
using client::Admin;

struct TopicOptions {
  std::string name;
  int32_t partitions = 1;
  std::vector<std::string> configs;
  std::vector<std::string> deletes;  // alter-config --delete: overrides removed
  bool internal = false;
};

// A wall time in ms as UTC ISO 8601, to the second; "never" for -1.
std::string utc_time(int64_t ms) {
  if (ms < 0) return "never";
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string percent(double ratio) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", ratio * 100.0);
  return text;
}

Result<Admin> connect(const CliContext& context) {
  return Admin::create({.bootstrap = context.brokers, .client_id = "sluice-cli"});
}

int create(const CliContext& context, const TopicOptions& options) {
  auto configs = parse_config_list(options.configs);
  if (!configs) return fail("--config: " + configs.error().message, kUsage);
  auto admin = connect(context);
  if (!admin) return fail("topic create", admin.error(), context.brokers);
  if (auto s = admin->create_topic(options.name, options.partitions, *configs); !s) {
    return fail("topic create \"" + options.name + "\"", s.error(), context.brokers);
  }
  std::cout << "created topic " << options.name << " with " << options.partitions
            << (options.partitions == 1 ? " partition" : " partitions") << "\n";
  return kOk;
}

int list(const CliContext& context, const TopicOptions& options) {
  auto admin = connect(context);
  if (!admin) return fail("topic list", admin.error(), context.brokers);
  auto names = admin->list_topics(options.internal ? client::InternalTopics::include : client::InternalTopics::exclude);
  if (!names) return fail("topic list", names.error(), context.brokers);
  for (const auto& name : *names) std::cout << name << "\n";
  return kOk;
}

int describe(const CliContext& context, const TopicOptions& options) {
  auto admin = connect(context);
  if (!admin) return fail("topic describe", admin.error(), context.brokers);
  auto description = admin->describe_topic(options.name);
  if (!description) return fail("topic describe \"" + options.name + "\"", description.error(), context.brokers);

  std::cout << "Topic: " << description->name << "\n";
  std::cout << "Partitions: " << description->partitions.size() << "\n";
  // A compacted topic also shows how much is left to clean and when the cleaner last ran.
  const bool compacted = std::any_of(description->partitions.begin(), description->partitions.end(),
                                     [](const client::PartitionInfo& p) { return p.compacts; });
  // Records in a log without gaps; a compacted one holds fewer than its offsets.
  std::vector<std::string> columns{"PARTITION", "START-OFFSET", "END-OFFSET", compacted ? "OFFSETS" : "RECORDS"};
  if (compacted) columns.insert(columns.end(), {"DIRTY", "LAST-CLEAN"});
  Table partitions(columns);
  for (const auto& p : description->partitions) {
    std::vector<std::string> row{std::to_string(p.partition), std::to_string(p.log_start_offset),
                                 std::to_string(p.log_end_offset),
                                 std::to_string(p.log_end_offset - p.log_start_offset)};
    if (compacted) row.insert(row.end(), {percent(p.dirty_ratio), utc_time(p.last_clean_ms)});
    partitions.add_row(row);
  }
  partitions.print(std::cout, "  ");
  std::cout << "Configs:\n";
  for (const auto& [key, value] : description->configs) std::cout << "  " << key << "=" << value << "\n";
  return kOk;
}

int alter_config(const CliContext& context, const TopicOptions& options) {
  auto sets = parse_config_list(options.configs);
  if (!sets) return fail("--set: " + sets.error().message, kUsage);
  std::map<std::string, std::optional<std::string>> changes(sets->begin(), sets->end());
  for (const auto& key : options.deletes) {
    if (changes.contains(key)) return fail("--set and --delete both name " + key, kUsage);
    changes[key] = std::nullopt;
  }
  if (changes.empty()) return fail("nothing to change: give --set key=value or --delete key", kUsage);
  auto admin = connect(context);
  if (!admin) return fail("topic alter-config", admin.error(), context.brokers);
  if (auto s = admin->alter_topic_config(options.name, changes); !s) {
    return fail("topic alter-config \"" + options.name + "\"", s.error(), context.brokers);
  }
  std::cout << "altered topic " << options.name << ": " << changes.size()
            << (changes.size() == 1 ? " setting" : " settings") << "\n";
  return kOk;
}

int remove(const CliContext& context, const TopicOptions& options) {
  auto admin = connect(context);
  if (!admin) return fail("topic delete", admin.error(), context.brokers);
  if (auto s = admin->delete_topic(options.name); !s) {
    return fail("topic delete \"" + options.name + "\"", s.error(), context.brokers);
  }
  std::cout << "deleted topic " << options.name << "\n";
  return kOk;
}

}  // namespace

void add_topic_command(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<TopicOptions>();
  CLI::App* topic = app.add_subcommand("topic", "Create, list, describe, alter and delete topics");
  topic->require_subcommand(1);

  CLI::App* create_cmd = topic->add_subcommand("create", "Create a topic");
  create_cmd->add_option("name", options->name, "Topic name: 1-249 characters of [a-zA-Z0-9._-]")->required();
  create_cmd->add_option("-p,--partitions", options->partitions, "Number of partitions")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  create_cmd
      ->add_option("-c,--config", options->configs,
                   "Topic setting key=value, repeatable: retention.ms, retention.bytes, segment.bytes, "
                   "segment.ms, max.message.bytes, cleanup.policy (delete), "
                   "durability (fsync|interval|none), flush.ms, index.interval.bytes")
      ->allow_extra_args(false);
  create_cmd->callback(
      [&context, options] { context.action = [&context, options] { return create(context, *options); }; });

  CLI::App* list_cmd = topic->add_subcommand("list", "List topic names, one per line");
  list_cmd->add_flag("--internal", options->internal, "Also list the broker's internal topics (names starting '__')");
  list_cmd->callback([&context, options] { context.action = [&context, options] { return list(context, *options); }; });

  CLI::App* describe_cmd =
      topic->add_subcommand("describe", "Show a topic's partitions with their offsets, and its configs");
  describe_cmd->add_option("name", options->name, "Topic name")->required();
  describe_cmd->callback(
      [&context, options] { context.action = [&context, options] { return describe(context, *options); }; });

  CLI::App* alter_cmd = topic->add_subcommand(
      "alter-config", "Change a topic's settings while it serves (all or none apply); see describe for the result");
  alter_cmd->add_option("name", options->name, "Topic name")->required();
  alter_cmd->add_option("--set", options->configs, "Setting key=value, repeatable")->allow_extra_args(false);
  alter_cmd
      ->add_option("--delete", options->deletes,
                   "Remove a setting's override (back to the broker's default), repeatable")
      ->allow_extra_args(false);
  alter_cmd->callback(
      [&context, options] { context.action = [&context, options] { return alter_config(context, *options); }; });

  CLI::App* delete_cmd = topic->add_subcommand("delete", "Delete a topic and all its records");
  delete_cmd->add_option("name", options->name, "Topic name")->required();
  delete_cmd->callback(
      [&context, options] { context.action = [&context, options] { return remove(context, *options); }; });
}

}  // namespace sluice::tools
