// sluice produce TOPIC: one record per stdin line, acknowledged before exit.
//
// Records are sent asynchronously as lines arrive; the first failure stops the
// reading (later records could only fail the same way or land out of order), the
// records already sent are flushed, and the command exits 1 naming the failure.
#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>

#include "sluice/client/config_properties.h"
#include "sluice/client/producer.h"

#include "cli_common.h"
#include "commands.h"

namespace sluice::tools {
namespace {
using client::Producer;
using client::ProducerRecord;
using client::RecordMetadata;

struct ProduceOptions {
  std::string topic;
  std::optional<std::string> key_separator;
  std::vector<std::string> headers;
  bool null_empty = false;  // -Z: an empty value is sent as null (a tombstone), as kcat's -Z
  std::string acks = "all";
  std::optional<int32_t> partition;
  std::string compression = "none";
  int64_t linger_ms = 5;
  int64_t timeout_ms = 30'000;
  std::vector<std::string> properties;  // -X key=value, by Kafka name
};

// Delivery reports, written by the producer's io thread (or the caller's, for
// errors found before a record is queued).
class DeliveryTally {
 public:
  void on_delivery(const Result<RecordMetadata>& result) {
    if (result) {
      acked_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::lock_guard lock(mutex_);
    if (failed_++ == 0) first_error_ = result.error();
    has_failed_.store(true, std::memory_order_release);
  }
  bool has_failed() const { return has_failed_.load(std::memory_order_acquire); }
  uint64_t acked() const { return acked_.load(std::memory_order_relaxed); }
  uint64_t failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
  }
  Error first_error() const {
    std::lock_guard lock(mutex_);
    return first_error_;
  }

 private:
  std::atomic<uint64_t> acked_{0};
  std::atomic<bool> has_failed_{false};
  mutable std::mutex mutex_;
  uint64_t failed_ = 0;
  Error first_error_;
};

int produce(const CliContext& context, const ProduceOptions& options) {
  auto acks = parse_acks(options.acks);
  if (!acks) return fail(acks.error().message, kUsage);
  auto compression = parse_compression(options.compression);
  if (!compression) return fail(compression.error().message, kUsage);
  if (options.key_separator && options.key_separator->empty()) return fail("--key-separator must not be empty", kUsage);
  std::vector<client::Header> headers;
  for (const auto& item : options.headers) {
    auto kv = parse_key_value(item);
    if (!kv) return fail("--header: " + kv.error().message, kUsage);
    headers.push_back({kv->first, kv->second});
  }

  client::ProducerConfig config;
  config.bootstrap = context.brokers;
  config.client_id = "sluice-cli";
  config.acks = *acks;
  config.compression = *compression;
  config.linger_ms = options.linger_ms;
  config.max_block_ms = options.timeout_ms;
  config.request_timeout_ms = options.timeout_ms;
  config.delivery_timeout_ms = options.timeout_ms + options.linger_ms;
  if (auto s = apply_properties(options.properties, config, &client::set_property); !s) {
    return fail(s.error().message, kUsage);
  }
  auto producer = Producer::create(config);
  if (!producer) return fail("produce", producer.error(), context.brokers);

  const std::string what = "produce to \"" + options.topic + "\"";
  // Looks the topic up first, so a missing one is reported before stdin is read.
  auto partitions = producer->partition_count(options.topic);
  if (!partitions) return fail(what, partitions.error(), context.brokers);
  if (options.partition && *options.partition >= *partitions) {
    return fail(what + ": partition " + std::to_string(*options.partition) + " does not exist (the topic has " +
                std::to_string(*partitions) + ")");
  }

  DeliveryTally tally;
  uint64_t sent = 0;
  uint64_t line_number = 0;
  std::string bad_line;
  std::ios::sync_with_stdio(false);
  for (std::string line; !tally.has_failed() && std::getline(std::cin, line);) {
    ++line_number;
    ProducerRecord record{.topic = options.topic, .partition = options.partition, .headers = headers};
    if (options.key_separator) {
      size_t at = line.find(*options.key_separator);
      if (at == std::string::npos) {
        bad_line = "line " + std::to_string(line_number) + " has no key separator \"" + *options.key_separator + "\"";
        break;
      }
      record.key = line.substr(0, at);
      record.value = line.substr(at + options.key_separator->size());
    } else {
      record.value = std::move(line);
    }
    if (options.null_empty && record.value->empty()) record.value.reset();
    producer->send(record, [&tally](const Result<RecordMetadata>& r) { tally.on_delivery(r); });
    ++sent;
  }
  producer->flush();
  producer->close();

  if (!bad_line.empty()) {
    uint64_t acked = tally.acked();
    return fail(what + ": " + bad_line + "; stopped after " + std::to_string(acked) +
                (acked == 1 ? " record" : " records"));
  }
  if (tally.failed() > 0) {
    std::cerr << "sluice: " << what << ": " << tally.failed() << " of " << sent << " records failed (" << tally.acked()
              << " acknowledged); reading stopped at the first failure\n";
    return fail(what, tally.first_error(), context.brokers);
  }
  if (tally.acked() != sent) {
    return fail(what + ": " + std::to_string(sent - tally.acked()) + " records have no delivery report");
  }
  return kOk;
}

}  // namespace

void add_produce_command(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<ProduceOptions>();
  CLI::App* cmd =
      app.add_subcommand("produce",
                         "Send one record per stdin line to TOPIC. Exits 0 once every record is acknowledged;\n"
                         "on the first failure it stops reading, waits for the records already sent, and exits 1.");
  cmd->add_option("topic", options->topic, "Topic to write to")->required();
  cmd->add_option("-K,--key-separator", options->key_separator,
                  "Split each line at the first SEP into key and value (a line without SEP\n"
                  "is an error); without it records have a null key");
  cmd->add_flag("-Z,--null-empty", options->null_empty,
                "Send an empty value as null: a tombstone, which deletes its key from a compacted topic (kcat's -Z)");
  cmd->add_option("-H,--header", options->headers, "Header k=v added to every record, repeatable (k alone: null value)")
      ->allow_extra_args(false);
  cmd->add_option("-a,--acks", options->acks, "0 (no acknowledgement), 1 (written) or all (durable)")
      ->capture_default_str();
  cmd->add_option("-p,--partition", options->partition,
                  "Write every record to this partition (default: by key hash, sticky for null keys)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--compression", options->compression, "none or zstd")->capture_default_str();
  cmd->add_option("-X,--property", options->properties,
                  "Producer setting by its Kafka name, key=value, repeatable; applied after the other options "
                  "(-X linger.ms=20 -X batch.size=65536)")
      ->allow_extra_args(false);
  cmd->add_option("--linger-ms", options->linger_ms, "Wait up to this long to fill a batch")
      ->check(CLI::Range(int64_t{0}, int64_t{60'000}))
      ->capture_default_str();
  cmd->add_option("--timeout-ms", options->timeout_ms,
                  "Give up on the broker (metadata, each record's acknowledgement) after this long")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}))
      ->capture_default_str();
  cmd->callback([&context, options] { context.action = [&context, options] { return produce(context, *options); }; });
}

}  // namespace sluice::tools
