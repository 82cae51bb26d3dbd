#include "sluice/broker/metrics.h"

#include <sstream>

#include "sluice/broker/topic_table.h"

namespace sluice::broker {

void Metrics::request_done(const std::string& api, double seconds, bool error) {
  std::lock_guard lock(mu_);
  ApiStats& s = apis_[api];
  ++s.count;
  if (error) ++s.errors;
  s.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++s.buckets[i];
  }
}

void Metrics::topic_in(const std::string& topic, uint64_t bytes, uint64_t records) {
  std::lock_guard lock(mu_);
  auto& t = topics_[topic];
  t.bytes_in += bytes;
  t.records_in += records;
}

void Metrics::topic_out(const std::string& topic, uint64_t bytes, uint64_t records) {
  std::lock_guard lock(mu_);
  auto& t = topics_[topic];
  t.bytes_out += bytes;
  t.records_out += records;
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
  struct Counter {
    const char* name;
    const char* help;
    uint64_t TopicStats::*field;
  };
  for (const Counter& c :
       {Counter{"sluice_topic_bytes_in_total", "Record batch bytes appended.", &TopicStats::bytes_in},
        Counter{"sluice_topic_records_in_total", "Records appended.", &TopicStats::records_in},
        Counter{"sluice_topic_bytes_out_total", "Record batch bytes fetched.", &TopicStats::bytes_out},
        Counter{"sluice_topic_records_out_total", "Records fetched.", &TopicStats::records_out}}) {
    out << "# HELP " << c.name << " " << c.help << "\n# TYPE " << c.name << " counter\n";
    for (const auto& [topic, stats] : topics_)
      out << c.name << "{topic=\"" << topic << "\"} " << stats.*c.field << "\n";
  }
  out << "# HELP sluice_requests_total Requests handled, by API.\n# TYPE sluice_requests_total counter\n";
  for (const auto& [api, s] : apis_) out << "sluice_requests_total{api=\"" << api << "\"} " << s.count << "\n";
  out << "# HELP sluice_request_errors_total Requests answered with an error, by API.\n"
      << "# TYPE sluice_request_errors_total counter\n";
  for (const auto& [api, s] : apis_) out << "sluice_request_errors_total{api=\"" << api << "\"} " << s.errors << "\n";
  out << "# HELP sluice_request_latency_seconds Request handling time, by API.\n"
      << "# TYPE sluice_request_latency_seconds histogram\n";
  for (const auto& [api, s] : apis_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out << "sluice_request_latency_seconds_bucket{api=\"" << api << "\",le=\"" << kBuckets[i] << "\"} "
          << s.buckets[i] << "\n";
    }
    out << "sluice_request_latency_seconds_bucket{api=\"" << api << "\",le=\"+Inf\"} " << s.count << "\n";
    out << "sluice_request_latency_seconds_sum{api=\"" << api << "\"} " << s.sum << "\n";
    out << "sluice_request_latency_seconds_count{api=\"" << api << "\"} " << s.count << "\n";
  }
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
  for (const auto& topic : table.list()) {
    for (const auto& p : topic->partitions) {
      std::string labels = "{topic=\"" + topic->name + "\",partition=\"" + std::to_string(p->id()) + "\"} ";
      out << "sluice_partition_log_end_offset" << labels << p->log().log_end_offset().value() << "\n";
      start << "sluice_partition_log_start_offset" << labels << p->log().log_start_offset().value() << "\n";
      int64_t missing = 0;
      for (const storage::DamagedRange& range : p->log().damaged_ranges()) missing += range.end - range.first;
      damaged << "sluice_partition_damaged_offsets" << labels << missing << "\n";
      quarantined << "sluice_partition_quarantined_segments" << labels << p->log().recovery().segments_quarantined
                  << "\n";
    }
  }
  out << start.str() << damaged.str() << quarantined.str();
  return out.str();
}

}  // namespace sluice::broker
