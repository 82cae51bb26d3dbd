#include "sluice/broker/metrics.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include "sluice/broker/topic_table.h"
#include "sluice/common/clock.h"

namespace sluice::broker {

void Metrics::record(ApiStats& stats, double seconds, Outcome outcome) {
  stats.count.fetch_add(1, std::memory_order_relaxed);
  if (outcome == Outcome::error) stats.errors.fetch_add(1, std::memory_order_relaxed);
  stats.sum_ns.fetch_add(static_cast<uint64_t>(std::max(seconds, 0.0) * 1e9), std::memory_order_relaxed);
  auto bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds);
  if (bucket != kBuckets.end()) {
    stats.buckets[static_cast<size_t>(bucket - kBuckets.begin())].fetch_add(1, std::memory_order_relaxed);
  }
}

void Metrics::request_done(const wire::ApiSpec* api, double seconds, Outcome outcome) {
  record(apis_[api ? static_cast<size_t>(api - wire::kApis) : kApiSlots - 1], seconds, outcome);
}

void Metrics::offset_commit_done(double seconds) { record(offset_commits_, seconds, Outcome::ok); }

void Metrics::render_histogram(std::ostream& out, std::string_view name, const std::string& labels,
                               const ApiStats& stats) {
  // Read the count first: requests finishing meanwhile may raise a bucket past it,
  // never leave the +Inf bucket below a finite one.
  uint64_t count = stats.count.load(std::memory_order_relaxed);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += stats.buckets[i].load(std::memory_order_relaxed);
    out << name << "_bucket{" << labels << "le=\"" << kBuckets[i] << "\"} " << std::min(cumulative, count) << "\n";
  }
  out << name << "_bucket{" << labels << "le=\"+Inf\"} " << count << "\n";
  std::string bare = labels.empty() ? "" : "{" + labels.substr(0, labels.size() - 1) + "}";
  out << name << "_sum" << bare << " " << static_cast<double>(stats.sum_ns.load(std::memory_order_relaxed)) / 1e9
      << "\n";
  out << name << "_count" << bare << " " << count << "\n";
}

void Metrics::accept_failed(const std::string& listener) {
  std::lock_guard lock(mu_);
  ++accept_errors_[listener];
}

void Metrics::connection_rejected(const std::string& reason) {
  std::lock_guard lock(mu_);
  ++connections_rejected_[reason];
}

void Metrics::idle_connection_closed(const std::string& listener) {
  std::lock_guard lock(mu_);
  ++idle_closed_[listener];
}

std::string Metrics::render(const TopicTable& table) const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  out << "# HELP sluice_active_connections Open client connections.\n# TYPE sluice_active_connections gauge\n"
      << "sluice_active_connections " << active_connections_.load() << "\n";
  out << "# HELP sluice_protocol_errors_total Connections closed for malformed frames.\n"
      << "# TYPE sluice_protocol_errors_total counter\nsluice_protocol_errors_total " << protocol_errors_.load()
      << "\n";
  struct LabeledCounter {
    const char* name;
    const char* help;
    const char* label;
    const std::map<std::string, uint64_t>& values;
  };
  for (const LabeledCounter& c :
       {LabeledCounter{"sluice_accept_errors_total", "Failed accepts, by listener.", "listener", accept_errors_},
        LabeledCounter{"sluice_connections_rejected_total", "Native connections closed right after accept, by reason.",
                       "reason", connections_rejected_},
        LabeledCounter{"sluice_idle_connections_closed_total", "Connections closed for being idle, by listener.",
                       "listener", idle_closed_}}) {
    out << "# HELP " << c.name << " " << c.help << "\n# TYPE " << c.name << " counter\n";
    for (const auto& [value, count] : c.values)
      out << c.name << "{" << c.label << "=\"" << value << "\"} " << count << "\n";
  }
  auto topics = table.list();
  struct Counter {
    const char* name;
    const char* help;
    std::atomic<uint64_t> TopicTraffic::*field;
  };
  for (const Counter& c :
       {Counter{"sluice_topic_bytes_in_total", "Record batch bytes appended.", &TopicTraffic::bytes_in},
        Counter{"sluice_topic_records_in_total", "Records appended.", &TopicTraffic::records_in},
        Counter{"sluice_topic_bytes_out_total", "Record batch bytes fetched.", &TopicTraffic::bytes_out},
        Counter{"sluice_topic_records_out_total", "Records fetched.", &TopicTraffic::records_out}}) {
    out << "# HELP " << c.name << " " << c.help << "\n# TYPE " << c.name << " counter\n";
    for (const auto& topic : topics) {
      out << c.name << "{topic=\"" << topic->name << "\"} " << (topic->traffic.*c.field).load(std::memory_order_relaxed)
          << "\n";
    }
  }
  // By name, as Prometheus clients list them.
  struct Labelled {
    std::string_view name;
    const ApiStats* stats;
  };
  std::vector<Labelled> apis;  // the APIs that have had a request
  for (size_t i = 0; i < kApiSlots; ++i) {
    if (apis_[i].count.load(std::memory_order_relaxed) == 0) continue;
    apis.push_back({i + 1 < kApiSlots ? wire::kApis[i].id : std::string_view("unknown"), &apis_[i]});
  }
  std::sort(apis.begin(), apis.end(), [](const Labelled& a, const Labelled& b) { return a.name < b.name; });
  out << "# HELP sluice_requests_total Requests handled, by API.\n# TYPE sluice_requests_total counter\n";
  for (const auto& [name, s] : apis) out << "sluice_requests_total{api=\"" << name << "\"} " << s->count << "\n";
  out << "# HELP sluice_request_errors_total Requests answered with an error, by API.\n"
      << "# TYPE sluice_request_errors_total counter\n";
  for (const auto& [name, s] : apis) {
    out << "sluice_request_errors_total{api=\"" << name << "\"} " << s->errors << "\n";
  }
  out << "# HELP sluice_request_latency_seconds Request handling time, by API.\n"
      << "# TYPE sluice_request_latency_seconds histogram\n";
  for (const auto& [name, s] : apis) {
    render_histogram(out, "sluice_request_latency_seconds", "api=\"" + std::string(name) + "\",", *s);
  }
  out << "# HELP sluice_offset_commits_total OffsetCommit requests handled.\n"
      << "# TYPE sluice_offset_commits_total counter\nsluice_offset_commits_total "
      << offset_commits_.count.load(std::memory_order_relaxed) << "\n";
  out << "# HELP sluice_offset_commit_latency_seconds OffsetCommit handling time, durability wait included.\n"
      << "# TYPE sluice_offset_commit_latency_seconds histogram\n";
  render_histogram(out, "sluice_offset_commit_latency_seconds", "", offset_commits_);
  out << "# HELP sluice_partition_log_end_offset Next offset to be assigned.\n"
      << "# TYPE sluice_partition_log_end_offset gauge\n";
  std::ostringstream start;
  start << "# HELP sluice_partition_log_start_offset First offset still stored.\n"
        << "# TYPE sluice_partition_log_start_offset gauge\n";
  std::ostringstream damaged;
  damaged << "# HELP sluice_partition_damaged_offsets Offsets recovery found damaged and set aside in the "
             "partition's quarantine folder; reads of them fail with CORRUPT_MESSAGE.\n"
          << "# TYPE sluice_partition_damaged_offsets gauge\n";
  std::ostringstream quarantined;
  quarantined << "# HELP sluice_partition_quarantined_segments Segment files the last recovery set aside.\n"
              << "# TYPE sluice_partition_quarantined_segments gauge\n";
  std::ostringstream dirty;
  dirty << "# HELP sluice_partition_dirty_ratio A compacted partition's closed bytes not yet cleaned, over all its "
           "closed bytes.\n"
        << "# TYPE sluice_partition_dirty_ratio gauge\n";
  std::ostringstream since_clean;
  since_clean << "# HELP sluice_partition_seconds_since_last_clean Time since the log cleaner last cleaned a "
                 "compacted partition (absent before its first clean).\n"
              << "# TYPE sluice_partition_seconds_since_last_clean gauge\n";
  const int64_t now_ms = SystemClock::instance().now().value();
  for (const auto& topic : topics) {
    for (const auto& p : topic->partitions) {
      std::string labels = "{topic=\"" + topic->name + "\",partition=\"" + std::to_string(p->id().value()) + "\"} ";
      out << "sluice_partition_log_end_offset" << labels << p->log().log_end_offset().value() << "\n";
      start << "sluice_partition_log_start_offset" << labels << p->log().log_start_offset().value() << "\n";
      int64_t missing = 0;
      for (const storage::DamagedRange& range : p->log().damaged_ranges()) missing += range.end - range.first;
      damaged << "sluice_partition_damaged_offsets" << labels << missing << "\n";
      quarantined << "sluice_partition_quarantined_segments" << labels << p->log().recovery().segments_quarantined
                  << "\n";
      if (p->log().compacts()) {
        const storage::CleanableState state = p->log().cleanable_state();
        dirty << "sluice_partition_dirty_ratio" << labels << state.dirty_ratio() << "\n";
        if (state.last_clean_ms >= 0) {
          since_clean << "sluice_partition_seconds_since_last_clean" << labels
                      << static_cast<double>(std::max<int64_t>(0, now_ms - state.last_clean_ms)) / 1000.0 << "\n";
        }
      }
    }
  }
  out << start.str() << damaged.str() << quarantined.str() << dirty.str() << since_clean.str();
  return out.str();
}

}  // namespace sluice::broker
