// ListOffsets: a partition's earliest offset (log start), latest offset (log
// end: the offset the next record will get), or the first offset whose record
// timestamp is at or after a given time.
// Thread-safety: plain functions over a thread-safe NetworkClient.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "sluice/client/network_client.h"
#include "sluice/client/types.h"
#include "sluice/common/error.h"

namespace sluice::client {

struct OffsetSpec {
  enum class Kind { earliest, latest, timestamp };
  Kind kind = Kind::latest;
  int64_t timestamp_ms = 0;  // for Kind::timestamp

  static OffsetSpec earliest() { return {Kind::earliest, 0}; }
  static OffsetSpec latest() { return {Kind::latest, 0}; }
  static OffsetSpec for_timestamp(int64_t ms) { return {Kind::timestamp, ms}; }
};

struct OffsetQuery {
  TopicPartition partition;
  OffsetSpec spec;
};

struct ListedOffset {
  TopicPartition partition;
  // -1 when asked for a timestamp later than every record's.
  int64_t offset = -1;
  // The record's timestamp for a timestamp query, else -1.
  int64_t timestamp = -1;
};

// One result per query, in query order. The outer error is a failed request;
// an inner one is a partition-level error (e.g. UNKNOWN_TOPIC_OR_PARTITION).
// Blocking; REQUIRES: not on the io thread.
Result<std::vector<Result<ListedOffset>>> list_offsets(NetworkClient& net, const std::vector<OffsetQuery>& queries,
                                                       std::chrono::milliseconds timeout);

}  // namespace sluice::client
