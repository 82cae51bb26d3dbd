// sluice-perf consume: reads every partition of the topic from the start of the
// log and measures throughput (records and value bytes per second).
#include <chrono>
#include <iostream>
#include <thread>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/consumer/consumer.h"

#include "cli_common.h"
#include "perf_report.h"
#include "perf_runs.h"

namespace sluice::tools {

int run_consume_perf(const PerfOptions& options) {
  using Clock = std::chrono::steady_clock;
  using namespace std::chrono_literals;
  if (auto s = ensure_topic(options); !s)
    return fail("create topic \"" + options.topic + "\"", s.error(), options.brokers);
  const std::string what = "consume from \"" + options.topic + "\"";

  auto admin = client::Admin::create({.bootstrap = options.brokers, .client_id = "sluice-perf"});
  if (!admin) return fail(what, admin.error(), options.brokers);
  auto topic = admin->describe_topic(options.topic);
  if (!topic) return fail(what, topic.error(), options.brokers);

  consumer::ConsumerConfig config;
  config.bootstrap = options.brokers;
  config.client_id = "sluice-perf";
  config.auto_offset_reset = consumer::OffsetReset::earliest;
  config.max_poll_records = 10'000;
  config.fetch_max_wait_ms = 100;
  // max_partition_fetch_bytes stays at its default (1 MiB, as Kafka's): with the next
  // fetch sent while one is decoded, fetches that fit in the cache beat larger ones
  // (1 MiB: 1.6-2.0 GB/s; 8 MiB: 1.3-1.5 GB/s on the machine in bench/RESULTS.md).
  auto consumer = consumer::Consumer::create(config);
  if (!consumer) return fail(what, consumer.error(), options.brokers);
  std::vector<client::TopicPartition> partitions;
  for (const auto& p : topic->partitions) partitions.push_back({options.topic, p.partition});
  consumer->assign(partitions);
  if (auto s = consumer->seek_to_beginning(); !s) return fail(what, s.error(), options.brokers);

  const auto start = Clock::now();
  const auto end =
      options.seconds
          ? start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*options.seconds))
          : Clock::time_point::max();
  const auto idle_timeout = std::chrono::milliseconds(options.timeout_ms);
  auto last_record = start;
  auto next_progress = start + 5s;
  uint64_t count = 0;
  uint64_t bytes = 0;
  uint64_t last_progress_count = 0;
  std::optional<Error> last_error;
  bool timed_out = false;
  while ((!options.records || static_cast<int64_t>(count) < *options.records) && Clock::now() < end) {
    auto records = consumer->poll(100ms);
    auto now = Clock::now();
    if (!records) {
      if (!client::is_retriable(records.error())) return fail(what, records.error(), options.brokers);
      last_error = records.error();
      std::this_thread::sleep_for(50ms);
    } else if (!records->empty()) {
      last_error.reset();
      last_record = now;
      for (const auto& r : *records) {
        if (options.records && static_cast<int64_t>(count) == *options.records) break;
        ++count;
        bytes += r.value ? r.value->size() : 0;
      }
    }
    if (now >= next_progress) {
      std::cerr << "progress: " << count << " records read, " << (count - last_progress_count) / 5
                << " records/s over the last 5 s\n";
      last_progress_count = count;
      next_progress += 5s;
    }
    if (now - last_record >= idle_timeout) {
      timed_out = true;
      break;
    }
  }
  // The clock stops at the last record, not at the idle timeout.
  const double seconds = std::chrono::duration<double>((timed_out ? last_record : Clock::now()) - start).count();
  consumer->close();

  PerfReport report;
  report.mode = "consume";
  report.records = count;
  report.record_size = count > 0 ? bytes / count : options.record_size;
  report.payload_bytes = bytes;
  report.seconds = seconds;
  std::cout << (options.json ? format_json(report) : format_text(report)) << std::flush;

  if (options.records && static_cast<int64_t>(count) < *options.records && !(options.seconds && !timed_out)) {
    if (last_error) return fail(what, *last_error, options.brokers);
    return fail(what + ": read " + std::to_string(count) + " of " + std::to_string(*options.records) +
                " records, then none for " + std::to_string(options.timeout_ms) + " ms");
  }
  return kOk;
}

}  // namespace sluice::tools
