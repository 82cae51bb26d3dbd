// Consumer settings. Names and defaults follow Kafka's consumer configs where the
// meaning is the same (fetch.min.bytes -> fetch_min_bytes, ...).
// Thread-safety: plain value type.
#pragma once

#include <cstdint>
#include <string>

#include "sluice/common/error.h"

namespace sluice::consumer {

// Where to start when a partition has no position yet, or its position fell
// outside the log (OFFSET_OUT_OF_RANGE): the log start, the log end, or an error.
enum class OffsetReset { earliest, latest, none };

struct ConsumerConfig {
  std::string bootstrap;  // "host:port" of the broker
  std::string client_id = "sluice-consumer";
  // With a group id, commit_sync() stores offsets for the group and a partition
  // without a position starts at the group's committed offset (auto_offset_reset
  // only when there is none). Empty: no commits.
  std::string group_id;
  // Static membership: a member that comes back with the same id within the session
  // timeout keeps its partitions. Empty: dynamic member.
  std::string group_instance_id;
  // A member silent this long is removed by the broker, which accepts values within its
  // --group-min/max-session-timeout-ms (6 s - 30 min) and refuses others
  // (INVALID_SESSION_TIMEOUT). Sent when the member joins.
  int32_t session_timeout_ms = 45'000;
  // Until the broker's first heartbeat answer, whose interval then wins.
  int32_t heartbeat_interval_ms = 3'000;
  // A subscribed member whose poll() calls are further apart leaves the group (its
  // partitions are lost) and rejoins on the next poll().
  int32_t max_poll_interval_ms = 300'000;
  // Subscribed members only: commits what poll() returned every auto_commit_interval_ms,
  // before partitions are revoked, and on close().
  bool enable_auto_commit = true;
  int32_t auto_commit_interval_ms = 5'000;
  OffsetReset auto_offset_reset = OffsetReset::latest;

  // A fetch waits on the broker until fetch_min_bytes are available or
  // fetch_max_wait_ms passed (long poll).
  int32_t fetch_min_bytes = 1;
  int32_t fetch_max_wait_ms = 500;
  // Per partition and per response. The broker still returns a first batch
  // larger than these, so a big batch never blocks progress.
  int32_t max_partition_fetch_bytes = 1 << 20;
  int32_t fetch_max_bytes = 50 << 20;
  // Records poll() returns at most; the rest stay buffered for the next poll().
  int32_t max_poll_records = 500;
  int64_t request_timeout_ms = 30'000;
  // After a fetch or heartbeat failed for a passing reason (the broker unreachable or
  // restarting, a leader moving), how long before it is sent again (retry.backoff.ms).
  int32_t retry_backoff_ms = 100;
  // Verify each batch's CRC-32C before handing out its records.
  bool check_crcs = true;
};

Status validate(const ConsumerConfig& config);

}  // namespace sluice::consumer
