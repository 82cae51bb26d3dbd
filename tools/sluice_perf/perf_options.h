// sluice-perf's settings, one struct for both modes.
// Thread-safety: plain value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::tools {

struct PerfOptions {
  std::string brokers;
  std::string mode;  // "produce" or "consume"
  std::string topic;
  // The run ends after `records` records or `seconds` seconds, whichever comes
  // first; at least one is set.
  std::optional<int64_t> records;
  std::optional<double> seconds;
  size_t record_size = 100;
  // produce only
  int32_t acks = -1;
  size_t batch_bytes = 16 * 1024;
  int64_t linger_ms = 5;
  bool preserve_order = true;      // without idempotence, false: several batches per partition in flight
  bool enable_idempotence = true;  // several batches per partition in flight, order kept
  std::string compression = "none";
  double rate = 0;   // records/s; 0: as fast as the producer takes them
  int64_t keys = 0;  // > 0: record i has the key "key-<i mod keys>" (a compacted topic needs keys)
  // Both: give up on the broker after this long (consume: without a record).
  int64_t timeout_ms = 30'000;
  bool json = false;
  std::optional<int32_t> create_partitions;
};

}  // namespace sluice::tools
