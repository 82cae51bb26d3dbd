// The outcome of a sluice-perf run and its two renderings: a human summary and
// one JSON line (keys records_per_sec, mb_per_sec, p50, p99, p999, max,
// records, record_size, seconds; latencies in ms; MB = 10^6 bytes of payload).
// Thread-safety: plain value type and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "latency_histogram.h"

namespace sluice::tools {

struct PerfReport {
  std::string mode;
  uint64_t records = 0;        // delivered (produce) or read (consume)
  uint64_t payload_bytes = 0;  // of values
  uint64_t record_size = 0;
  double seconds = 0;
  uint64_t errors = 0;
  std::optional<LatencyHistogram> latency;  // produce: send() to delivery callback

  double records_per_sec() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
  double mb_per_sec() const { return seconds > 0 ? static_cast<double>(payload_bytes) / 1e6 / seconds : 0; }
};

std::string format_text(const PerfReport& report);
std::string format_json(const PerfReport& report);

}  // namespace sluice::tools
