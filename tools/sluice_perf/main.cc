// sluice-perf: load generator and benchmark for a Sluice broker.
//
//   sluice-perf produce --topic bench --records 1000000 --record-size 100 --create-partitions 4
//   sluice-perf consume --topic bench --records 1000000 --json
//
// Exit status: 0 when every record was delivered (produce) or read (consume);
// 1 otherwise or on an error; 2 on bad usage.
#include <string>

#include <CLI/CLI.hpp>

#include "../main_guard.h"
#include "cli_common.h"
#include "perf_options.h"
#include "perf_runs.h"

namespace {
int run(int argc, char** argv) {
  using namespace sluice::tools;
  set_program_name("sluice-perf");
  CLI::App app{
      "sluice-perf: measures a Sluice broker.\n"
      "  produce: sends --records records of --record-size bytes (or for --seconds), optionally paced\n"
      "           at --rate; reports records/s, MB/s (10^6 payload bytes) and delivery latency\n"
      "           percentiles (send() to acknowledgement; with --rate from each record's due time).\n"
      "  consume: reads --records records from the start of every partition; reports records/s, MB/s.\n"
      "Exit status: 0 when the record count matches, 1 otherwise or on error, 2 on bad usage."};
  app.name("sluice-perf");

  PerfOptions options;
  options.brokers = std::string(kDefaultBrokers);
  std::string acks = "all";
  app.add_option("-b,--brokers", options.brokers, "Broker address HOST:PORT")
      ->envname(kBrokersEnv)
      ->capture_default_str();
  app.add_option("mode", options.mode, "produce or consume")->required()->check(CLI::IsMember({"produce", "consume"}));
  app.add_option("-t,--topic", options.topic, "Topic")->required();
  app.add_option("-n,--records", options.records, "Number of records")->check(CLI::PositiveNumber);
  app.add_option("-s,--record-size", options.record_size, "Value size in bytes (produce)")
      ->check(CLI::Range(size_t{0}, size_t{64} << 20))
      ->capture_default_str();
  app.add_option("--seconds", options.seconds, "Run for this long (with --records: whichever ends first)")
      ->check(CLI::PositiveNumber);
  app.add_option("-a,--acks", acks, "0, 1 or all (produce)")->capture_default_str();
  app.add_option("--batch-bytes", options.batch_bytes, "Producer batch size in bytes (produce)")
      ->check(CLI::Range(size_t{1}, size_t{64} << 20))
      ->capture_default_str();
  app.add_option("--idempotence", options.enable_idempotence,
                 "Idempotent producer: a partition's batches pipeline with order kept (produce)")
      ->capture_default_str();
  app.add_option("--preserve-order", options.preserve_order,
                 "Without idempotence: one request per partition in flight (true) or several (false) (produce)")
      ->capture_default_str();
  app.add_option("--linger-ms", options.linger_ms, "Producer linger in ms (produce)")
      ->check(CLI::Range(int64_t{0}, int64_t{60'000}))
      ->capture_default_str();
  app.add_option("--compression", options.compression, "none or zstd (produce)")->capture_default_str();
  app.add_option("--keys", options.keys,
                 "Give record i the key key-<i mod N>, N keys in turn; 0 = no key (produce; a compacted topic "
                 "refuses keyless records)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rate", options.rate, "Target records/s, 0 = unlimited (produce)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--timeout-ms", options.timeout_ms,
                 "Give up on the broker after this long (consume: without a new record)")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}))
      ->capture_default_str();
  app.add_flag("--json", options.json, "Print the result as one JSON line");
  app.add_option("--create-partitions", options.create_partitions, "Create the topic with P partitions if missing")
      ->check(CLI::Range(1, 1 << 20));

  if (auto stop = parse_command_line(app, argc, argv)) return *stop;
  if (!options.records && !options.seconds) return fail("give --records, --seconds or both", kUsage);
  auto parsed_acks = parse_acks(acks);
  if (!parsed_acks) return fail(parsed_acks.error().message, kUsage);
  options.acks = *parsed_acks;
  return options.mode == "produce" ? run_produce_perf(options) : run_consume_perf(options);
}
}  // namespace

int main(int argc, char** argv) {
  return sluice::tools::run_guarded("sluice-perf", [&] { return run(argc, argv); });
}
