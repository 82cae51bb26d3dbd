// Broker metrics, rendered in the Prometheus text format: bytes and records in and
// out per topic, request counts and latency histograms per API, active connections,
// accept errors, refused and idle-closed connections;
// partition end offsets are read from the logs at scrape time.
//
// The data path takes no lock here: topic traffic is counted in each topic's
// TopicTraffic (partition.h) and read from the topic table at scrape time, and
// request_done() bumps relaxed atomics in its API's slot, one per entry of the API
// registry (proto/include/sluice/proto/api_registry.h) and one for unknown keys. The
// scrape and the rare connection events take mu_.
// Thread-safety: all methods are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

#include "sluice/proto/api_registry.h"

namespace sluice::broker {

class TopicTable;

class Metrics {
 public:
  // How a request ended, as its error counter sees it.
  enum class Outcome : bool { ok, error };

  // `api` is the request's entry in the API registry; null for a key it does not have.
  void request_done(const wire::ApiSpec* api, double seconds, Outcome outcome);
  void connection_opened() { ++active_connections_; }
  void connection_closed() { --active_connections_; }
  void protocol_error() { ++protocol_errors_; }
  // `listener` is "native" or "http".
  void accept_failed(const std::string& listener);
  // `reason` is "max_connections" or "fd_limit".
  void connection_rejected(const std::string& reason);
  void idle_connection_closed(const std::string& listener);
  // One OffsetCommit request handled (every outcome), taking `seconds`.
  void offset_commit_done(double seconds);

  std::string render(const TopicTable& topics) const;

 private:
  // Latency bucket upper bounds in seconds (Prometheus "le").
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  struct ApiStats {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> errors{0};
    std::atomic<uint64_t> sum_ns{0};
    // Per bucket, the requests whose time falls in it (not cumulative: one add per
    // request; the scrape sums them up into Prometheus's cumulative buckets).
    std::array<std::atomic<uint64_t>, kBuckets.size()> buckets{};
  };
  // apis_[i] counts wire::kApis[i]; the last slot, requests of unknown keys.
  static constexpr size_t kApiSlots = std::size(wire::kApis) + 1;
  std::array<ApiStats, kApiSlots> apis_;
  ApiStats offset_commits_;

  static void record(ApiStats& stats, double seconds, Outcome outcome);
  // The _bucket, _sum and _count lines of `name`; `labels` is "" or `key="value",`.
  static void render_histogram(std::ostream& out, std::string_view name, const std::string& labels,
                               const ApiStats& stats);

  mutable std::mutex mu_;
  // Every label value is listed from the start, so each series exists at 0.
  std::map<std::string, uint64_t> accept_errors_{{"http", 0}, {"native", 0}};
  std::map<std::string, uint64_t> connections_rejected_{{"fd_limit", 0}, {"max_connections", 0}};
  std::map<std::string, uint64_t> idle_closed_{{"http", 0}, {"native", 0}};
  std::atomic<int64_t> active_connections_{0};
  std::atomic<uint64_t> protocol_errors_{0};
};

}  // namespace sluice::broker
