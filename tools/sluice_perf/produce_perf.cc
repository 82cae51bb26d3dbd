// sluice-perf produce: sends records as fast as the producer takes them, or at
// --rate records/s, and measures throughput and delivery latency.
//
// With --rate, record i is due at start + i/rate, and its latency runs from that
// due time, not from when send() was actually called: when the broker stalls and
// the sender falls behind, the records that queue up behind the stall carry the
// wait in their latency (no coordinated omission). Without --rate a record's
// latency runs from the call of send() (including any wait for buffer memory).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/client/producer.h"

#include "cli_common.h"
#include "perf_report.h"
#include "perf_runs.h"

namespace sluice::tools {
namespace {
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Payload bytes: letters and digits from a xorshift generator, so zstd finds about
// as much to squeeze as in text-like data (about 6 of 8 bits are entropy), never
// the all-zeros best case. Records are windows at different places in the pool.
// A few thousand distinct records are built once and sent in turn, as Kafka's
// producer-perf-test reuses its payloads: the tool measures the producer, not
// the allocation of a fresh string per record.
class PayloadPool {
 public:
  explicit PayloadPool(size_t record_size) : record_size_(record_size) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    pool_.resize(std::max<size_t>(1 << 20, 2 * record_size));
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (char& c : pool_) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = kAlphabet[x % 64];
    }
  }

  std::vector<client::ProducerRecord> records(const std::string& topic) const {
    const size_t count = std::clamp<size_t>(pool_.size() / std::max<size_t>(record_size_, 1), 1, 1024);
    const size_t span = pool_.size() - record_size_ + 1;
    std::vector<client::ProducerRecord> out;
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      out.push_back({.topic = topic, .value = pool_.substr((i * 7919) % span, record_size_)});
    }
    return out;
  }

 private:
  size_t record_size_;
  std::string pool_;
};

// What the delivery callbacks report, from the producer's io thread.
struct Deliveries {
  std::mutex mutex;
  LatencyHistogram latency;
  uint64_t acked = 0;
  uint64_t failed = 0;
  std::optional<Error> first_error;
  std::atomic<bool> any_failed{false};  // read on every send without the mutex

  void on_delivery(const Result<client::RecordMetadata>& result, Clock::time_point due) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - due).count();
    std::lock_guard lock(mutex);
    if (result) {
      ++acked;
      latency.record(static_cast<uint64_t>(std::max<int64_t>(micros, 0)));
    } else {
      if (failed++ == 0) first_error = result.error();
      any_failed.store(true, std::memory_order_release);
    }
  }
};

}  // namespace

Status ensure_topic(const PerfOptions& options) {
  if (!options.create_partitions) return {};
  auto admin = client::Admin::create({.bootstrap = options.brokers, .client_id = "sluice-perf"});
  if (!admin) return tl::unexpected(admin.error());
  auto topic = admin->describe_topic(options.topic);
  if (topic) return {};
  if (topic.error().code != client::ErrorCode::unknown_topic_or_partition) return tl::unexpected(topic.error());
  auto created = admin->create_topic(options.topic, *options.create_partitions);
  if (!created && created.error().code != client::ErrorCode::topic_already_exists) return created;  // lost a race: fine
  return {};
}

int run_produce_perf(const PerfOptions& options) {
  auto compression = parse_compression(options.compression);
  if (!compression) return fail(compression.error().message, kUsage);
  if (auto s = ensure_topic(options); !s)
    return fail("create topic \"" + options.topic + "\"", s.error(), options.brokers);

  client::ProducerConfig config;
  config.bootstrap = options.brokers;
  config.client_id = "sluice-perf";
  config.acks = options.acks;
  config.batch_bytes = options.batch_bytes;
  config.linger_ms = options.linger_ms;
  config.preserve_order = options.preserve_order;
  config.enable_idempotence = options.enable_idempotence;
  config.compression = *compression;
  config.max_block_ms = options.timeout_ms;
  config.request_timeout_ms = options.timeout_ms;
  config.delivery_timeout_ms = options.timeout_ms + options.linger_ms;
  config.max_request_bytes = std::max<size_t>(config.max_request_bytes, options.record_size + 64 * 1024);
  config.buffer_memory = std::max<size_t>(config.buffer_memory, 4 * config.max_request_bytes);
  auto producer = client::Producer::create(config);
  if (!producer) return fail("producer", producer.error(), options.brokers);
  const std::string what = "produce to \"" + options.topic + "\"";
  if (auto n = producer->partition_count(options.topic); !n) return fail(what, n.error(), options.brokers);

  const auto records = PayloadPool(options.record_size).records(options.topic);
  std::vector<std::string> keys;
  for (int64_t k = 0; k < options.keys; ++k) keys.push_back("key-" + std::to_string(k));
  client::ProducerRecord keyed;
  Deliveries deliveries;
  const auto start = Clock::now();
  const auto end =
      options.seconds
          ? start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*options.seconds))
          : Clock::time_point::max();
  const double period_ns = options.rate > 0 ? 1e9 / options.rate : 0;
  auto next_progress = start + 5s;
  uint64_t last_progress_count = 0;
  uint64_t sent = 0;
  for (; !options.records || static_cast<int64_t>(sent) < *options.records; ++sent) {
    auto now = Clock::now();
    Clock::time_point due = now;
    if (period_ns > 0) {
      due = start + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(sent) * period_ns));
      if (due >= end) break;
      if (due > now) std::this_thread::sleep_until(due);
    } else if (now >= end) {
      break;
    }
    if (now >= next_progress) {
      std::lock_guard lock(deliveries.mutex);
      std::cerr << "progress: " << sent << " records sent, " << deliveries.acked << " acknowledged, "
                << (sent - last_progress_count) / 5 << " records/s over the last 5 s\n";
      last_progress_count = sent;
      next_progress += 5s;
    }
    // The first error says it all; do not pile up more.
    if (deliveries.any_failed.load(std::memory_order_acquire)) break;
    const client::ProducerRecord* record = &records[sent % records.size()];
    if (!keys.empty()) {
      keyed = *record;
      keyed.key = keys[sent % keys.size()];
      record = &keyed;
    }
    producer->send(*record,
                   [&deliveries, due](const Result<client::RecordMetadata>& r) { deliveries.on_delivery(r, due); });
  }
  producer->flush();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  producer->close();

  PerfReport report;
  report.mode = "produce";
  report.records = deliveries.acked;
  report.record_size = options.record_size;
  report.payload_bytes = deliveries.acked * options.record_size;
  report.seconds = seconds;
  report.errors = deliveries.failed;
  report.latency = deliveries.latency;
  std::cout << (options.json ? format_json(report) : format_text(report)) << std::flush;

  if (deliveries.first_error) {
    std::cerr << "sluice-perf: " << deliveries.failed << " of " << sent << " records failed\n";
    return fail(what, *deliveries.first_error, options.brokers);
  }
  if (deliveries.acked != sent) {
    return fail(what + ": " + std::to_string(sent) + " records sent but " + std::to_string(deliveries.acked) +
                " acknowledged");
  }
  if (options.records && !options.seconds && static_cast<int64_t>(sent) != *options.records) {
    return fail(what + ": only " + std::to_string(sent) + " of " + std::to_string(*options.records) + " records sent");
  }
  return kOk;
}

}  // namespace sluice::tools
