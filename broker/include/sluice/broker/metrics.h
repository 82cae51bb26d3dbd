// Broker metrics, rendered in the Prometheus text format: bytes and records in and
// out per topic, request counts and latency histograms per API, active connections,
// accept errors, refused and idle-closed connections;
// partition end offsets are read from the logs at scrape time.
// Thread-safety: all methods are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace sluice::broker {

class TopicTable;

class Metrics {
 public:
  void request_done(const std::string& api, double seconds, bool error);
  void topic_in(const std::string& topic, uint64_t bytes, uint64_t records);
  void topic_out(const std::string& topic, uint64_t bytes, uint64_t records);
  void connection_opened() { ++active_connections_; }
  void connection_closed() { --active_connections_; }
  void protocol_error() { ++protocol_errors_; }
  // `listener` is "native" or "http".
  void accept_failed(const std::string& listener);
  // `reason` is "max_connections" or "fd_limit".
  void connection_rejected(const std::string& reason);
  void idle_connection_closed(const std::string& listener);

  std::string render(const TopicTable& topics) const;

 private:
  // Latency bucket upper bounds in seconds (Prometheus "le").
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  struct ApiStats {
    uint64_t count = 0;
    uint64_t errors = 0;
    double sum = 0;
    std::array<uint64_t, kBuckets.size()> buckets{};
  };
  struct TopicStats {
    uint64_t bytes_in = 0, records_in = 0, bytes_out = 0, records_out = 0;
  };

  mutable std::mutex mu_;
  std::map<std::string, ApiStats> apis_;
  std::map<std::string, TopicStats> topics_;
  // Every label value is listed from the start, so each series exists at 0.
  std::map<std::string, uint64_t> accept_errors_{{"http", 0}, {"native", 0}};
  std::map<std::string, uint64_t> connections_rejected_{{"fd_limit", 0}, {"max_connections", 0}};
  std::map<std::string, uint64_t> idle_closed_{{"http", 0}, {"native", 0}};
  std::atomic<int64_t> active_connections_{0};
  std::atomic<uint64_t> protocol_errors_{0};
};

}  // namespace sluice::broker
