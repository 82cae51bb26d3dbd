// sluice offsets TOPIC: each partition's earliest and latest offsets, or the
// first offset at or after a timestamp.
#include <iostream>
#include <memory>

#include "sluice/client/admin.h"

#include "cli_common.h"
#include "commands.h"
#include "table.h"

namespace sluice::tools {
namespace {
using client::OffsetQuery;
using client::OffsetSpec;

struct OffsetsOptions {
  std::string topic;
  std::optional<int32_t> partition;
  std::optional<int64_t> timestamp;
};

int offsets(const CliContext& context, const OffsetsOptions& options) {
  const std::string what = "offsets of \"" + options.topic + "\"";
  auto admin = client::Admin::create({.bootstrap = context.brokers, .client_id = "sluice-cli"});
  if (!admin) return fail(what, admin.error(), context.brokers);
  auto topic = admin->describe_topic(options.topic);
  if (!topic) return fail(what, topic.error(), context.brokers);

  std::vector<int32_t> partitions;
  for (const auto& p : topic->partitions) {
    if (!options.partition || p.partition == *options.partition) partitions.push_back(p.partition);
  }
  if (options.partition && partitions.empty()) {
    return fail(what + ": partition " + std::to_string(*options.partition) + " does not exist (the topic has " +
                std::to_string(topic->partitions.size()) + ")");
  }

  // One request per kind of lookup (earliest, latest or a timestamp) for every partition.
  auto lookup = [&](OffsetSpec spec) -> Result<std::vector<client::ListedOffset>> {
    std::vector<OffsetQuery> queries;
    queries.reserve(partitions.size());
    for (int32_t p : partitions) queries.push_back({{options.topic, p}, spec});
    auto listed = admin->list_offsets(queries);
    if (!listed) return tl::unexpected(listed.error());
    std::vector<client::ListedOffset> out;
    for (auto& r : *listed) {
      if (!r) return tl::unexpected(r.error());
      out.push_back(std::move(*r));
    }
    return out;
  };

  if (options.timestamp) {
    auto listed = lookup(OffsetSpec::for_timestamp(*options.timestamp));
    if (!listed) return fail(what, listed.error(), context.brokers);
    // OFFSET -1: no record at or after the timestamp (the next one will be).
    Table table({"PARTITION", "OFFSET", "TIMESTAMP"});
    for (const auto& r : *listed) {
      table.add_row({std::to_string(r.partition.partition), std::to_string(r.offset), std::to_string(r.timestamp)});
    }
    table.print(std::cout);
    return kOk;
  }
  auto earliest = lookup(OffsetSpec::earliest());
  if (!earliest) return fail(what, earliest.error(), context.brokers);
  auto latest = lookup(OffsetSpec::latest());
  if (!latest) return fail(what, latest.error(), context.brokers);
  Table table({"PARTITION", "EARLIEST", "LATEST"});
  for (size_t i = 0; i < partitions.size(); ++i) {
    table.add_row(
        {std::to_string(partitions[i]), std::to_string((*earliest)[i].offset), std::to_string((*latest)[i].offset)});
  }
  table.print(std::cout);
  return kOk;
}

}  // namespace

void add_offsets_command(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<OffsetsOptions>();
  CLI::App* cmd =
      app.add_subcommand("offsets",
                         "Show each partition's earliest offset (log start) and latest offset (log end: the next\n"
                         "record's offset), or with --timestamp the first offset whose record timestamp is >= MS\n"
                         "(-1 when there is none).");
  cmd->add_option("topic", options->topic, "Topic")->required();
  cmd->add_option("-p,--partition", options->partition, "Only this partition")->check(CLI::NonNegativeNumber);
  cmd->add_option("--timestamp", options->timestamp, "Look up the offset for this time (ms since the epoch)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&context, options] { context.action = [&context, options] { return offsets(context, *options); }; });
}

}  // namespace sluice::tools
