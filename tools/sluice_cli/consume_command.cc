// sluice consume TOPIC: prints records to stdout, one per line, until
// --max-records were printed or no record came for --timeout-ms. With --group G it
// reads as a member of G (the group assigns the partitions) and commits exactly
// what it printed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/consumer/consumer.h"
#include "sluice/consumer/consumer_properties.h"

#include "cli_common.h"
#include "commands.h"
#include "record_format.h"

namespace sluice::tools {
namespace {
using namespace std::chrono_literals;
using client::TopicPartition;
using consumer::Consumer;

// Exit code when the idle timeout came before --max-records records did.
constexpr int kTimedOut = 3;

struct ConsumeOptions {
  std::string topic;
  bool from_beginning = false;
  std::optional<int64_t> offset;
  std::optional<int64_t> timestamp;
  std::optional<int32_t> partition;
  std::optional<int64_t> max_records;
  int64_t timeout_ms = 5'000;
  std::string format = "%v";
  std::vector<std::string> properties;  // -X key=value, by Kafka name
  std::string group;
};

// The offsets after the last record printed per partition: what a member commits.
using Printed = std::map<TopicPartition, client::OffsetAndMetadata>;

// The partitions to read, with each one's start position pinned now (so records
// produced after the command started are never skipped).
Status position_partitions(Consumer& consumer, const ConsumeOptions& options, const client::TopicDescription& topic) {
  std::vector<TopicPartition> assigned;
  for (const auto& p : topic.partitions) {
    if (!options.partition || p.partition == *options.partition) assigned.push_back({options.topic, p.partition});
  }
  consumer.assign(assigned);
  if (options.offset) {
    for (const auto& p : topic.partitions) {
      if (options.partition && p.partition != *options.partition) continue;
      // Clamp into the log, where a fetch can start.
      int64_t offset = std::clamp(*options.offset, p.log_start_offset, p.log_end_offset);
      if (auto s = consumer.seek({options.topic, p.partition}, offset); !s) return s;
    }
    return {};
  }
  if (options.timestamp) return consumer.seek_to_timestamp(*options.timestamp);
  if (options.from_beginning) return consumer.seek_to_beginning();
  return consumer.seek_to_end();
}

int consume(const CliContext& context, const ConsumeOptions& options) {
  auto format = RecordFormat::parse(options.format);
  if (!format) return fail(format.error().message, kUsage);
  const std::string what = "consume from \"" + options.topic + "\"";

  auto admin = client::Admin::create({.bootstrap = context.brokers, .client_id = "sluice-cli"});
  if (!admin) return fail(what, admin.error(), context.brokers);
  auto topic = admin->describe_topic(options.topic);
  if (!topic) return fail(what, topic.error(), context.brokers);
  if (options.partition && *options.partition >= static_cast<int32_t>(topic->partitions.size())) {
    return fail(what + ": partition " + std::to_string(*options.partition) + " does not exist (the topic has " +
                std::to_string(topic->partitions.size()) + ")");
  }

  consumer::ConsumerConfig config;
  config.bootstrap = context.brokers;
  config.client_id = "sluice-cli";
  // Used when a position falls out of the log (retention deleted it meanwhile).
  bool explicit_start = options.from_beginning || options.offset || options.timestamp;
  config.auto_offset_reset = explicit_start ? consumer::OffsetReset::earliest : consumer::OffsetReset::latest;
  if (options.max_records) config.max_poll_records = static_cast<int32_t>(std::min<int64_t>(*options.max_records, 500));
  if (!options.group.empty()) {
    config.group_id = options.group;
    config.enable_auto_commit = false;  // commits what was printed, not what poll() returned
    config.auto_offset_reset = options.from_beginning ? consumer::OffsetReset::earliest : consumer::OffsetReset::latest;
  }
  if (auto s = apply_properties(options.properties, config, &consumer::set_property); !s) {
    return fail(s.error().message, kUsage);
  }
  auto consumer = Consumer::create(config);
  if (!consumer) return fail(what, consumer.error(), context.brokers);
  if (options.group.empty()) {
    if (auto s = position_partitions(*consumer, options, *topic); !s) return fail(what, s.error(), context.brokers);
  } else if (auto s = consumer->subscribe(std::vector<std::string>{options.topic}); !s) {
    return fail(what, s.error(), context.brokers);
  }

  using Clock = std::chrono::steady_clock;
  const auto idle_timeout = std::chrono::milliseconds(options.timeout_ms);
  const bool forever = options.timeout_ms == 0;
  auto last_progress = Clock::now();
  std::optional<Error> last_error;  // a transient poll error not yet followed by records
  int64_t count = 0;
  std::string out;
  while (!options.max_records || count < *options.max_records) {
    auto records = consumer->poll(200ms);
    if (!records) {
      // The topic was described when the command started: UNKNOWN_TOPIC_OR_PARTITION
      // now means it was deleted, and waiting for it would print nothing, forever.
      const Error& error = records.error();
      const bool deleted = client::error_code(error) == client::ErrorCode::unknown_topic_or_partition;
      if (!client::is_retriable(error) || deleted) return fail(what, error, context.brokers);
      last_error = records.error();
      std::this_thread::sleep_for(100ms);  // the broker is away; do not spin
    } else if (!records->empty()) {
      last_error.reset();
      last_progress = Clock::now();
      out.clear();
      Printed printed;
      for (const auto& record : *records) {
        if (options.max_records && count == *options.max_records) break;
        format->append(out, record);
        printed[{record.topic, record.partition}] = {record.offset + 1, ""};
        ++count;
      }
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
      if (!options.group.empty()) {
        if (auto s = consumer->commit_sync(printed); !s) return fail(what + ": commit", s.error(), context.brokers);
      }
    }
    if (!forever && Clock::now() - last_progress >= idle_timeout) {
      if (last_error) return fail(what, *last_error, context.brokers);
      if (options.max_records) {
        return fail(what + ": timed out after " + std::to_string(options.timeout_ms) + " ms without records, with " +
                        std::to_string(count) + " of " + std::to_string(*options.max_records) + " records",
                    kTimedOut);
      }
      break;
    }
  }
  std::cerr << "consumed " << count << (count == 1 ? " record" : " records") << "\n";
  return kOk;
}

}  // namespace

void add_consume_command(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<ConsumeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "consume",
      "Print records of TOPIC to stdout, one per line, from all its partitions (or --partition).\n"
      "Starts at the end of the log unless --from-beginning, --offset or --timestamp says otherwise.\n"
      "Stops after --max-records records, or after --timeout-ms without a new record.\n"
      "Exit status: 0 done; 1 error; 2 bad usage; 3 timed out before --max-records records arrived.");
  cmd->add_option("topic", options->topic, "Topic to read")->required();
  auto* beginning = cmd->add_flag("--from-beginning", options->from_beginning, "Start at the start of the log");
  auto* offset = cmd->add_option("--offset", options->offset,
                                 "Start at this offset in every partition read (clamped into the log)")
                     ->check(CLI::NonNegativeNumber);
  auto* timestamp = cmd->add_option("--timestamp", options->timestamp,
                                    "Start at the first record with a timestamp >= MS (ms since the epoch)")
                        ->check(CLI::NonNegativeNumber);
  beginning->excludes(offset, timestamp);
  offset->excludes(timestamp);
  auto* partition =
      cmd->add_option("-p,--partition", options->partition, "Read only this partition")->check(CLI::NonNegativeNumber);
  auto* group = cmd->add_option("-g,--group", options->group,
                                "Read as a member of this consumer group (it assigns the partitions; a partition\n"
                                "starts at the group's committed offset, else at the end or --from-beginning)\n"
                                "and commit what was printed");
  group->excludes(offset, timestamp, partition);
  cmd->add_option("-X,--property", options->properties,
                  "Consumer setting by its Kafka name, key=value, repeatable; applied after the other options "
                  "(-X fetch.max.wait.ms=100)")
      ->allow_extra_args(false);
  cmd->add_option("-n,--max-records", options->max_records, "Stop after N records")->check(CLI::PositiveNumber);
  cmd->add_option("--timeout-ms", options->timeout_ms, "Stop after this long without a new record; 0 waits forever")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("-f,--format", options->format,
                  "How to print a record: \"json\" (one object per line: topic, partition, offset,\n"
                  "timestamp, key, value, headers), or a template with\n"
                  "  %k key  %v value  %p partition  %o offset  %t timestamp (ms)  %T topic\n"
                  "  %h headers as k1=v1,k2=v2  %% percent;  \\n \\t \\r \\\\ escapes\n"
                  "A null key or value prints as null. Example: --format '%p:%o %k=%v'")
      ->capture_default_str();
  cmd->callback([&context, options] { context.action = [&context, options] { return consume(context, *options); }; });
}

}  // namespace sluice::tools
