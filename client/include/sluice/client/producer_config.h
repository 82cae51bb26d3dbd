// Producer settings. Names and defaults follow Kafka's producer configs where the
// meaning is the same (batch.size -> batch_bytes, linger.ms -> linger_ms, ...).
// Thread-safety: plain value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "sluice/client/types.h"
#include "sluice/common/error.h"

namespace sluice::client {

inline constexpr int32_t kAcksNone = 0;    // no response; offsets are -1
inline constexpr int32_t kAcksLeader = 1;  // after the broker wrote the batch
inline constexpr int32_t kAcksAll = -1;    // after the batch is durable per the topic's `durability`

struct ProducerConfig {
  std::string bootstrap;  // "host:port" of the broker
  std::string client_id = "sluice-producer";
  int32_t acks = kAcksAll;

  // A partition's batch is sent when it holds batch_bytes (uncompressed), or
  // linger_ms after its first record, whichever comes first. A record bigger than
  // batch_bytes goes alone in its own batch.
  size_t batch_bytes = 16 * 1024;
  int64_t linger_ms = 5;
  CompressionType compression = CompressionType::none;
  int zstd_level = 3;

  // Produce requests awaiting a response on the connection.
  int32_t max_in_flight = 5;
  // Idempotence (Kafka's enable.idempotence, on by default as in Kafka 3): the
  // producer gets a producer id from the broker and numbers each partition's
  // batches, so the broker appends a retried batch only once and never out of
  // order. A partition's batches then pipeline (up to 64 in flight, the window
  // in which the broker recognises a retry) with order kept through retries.
  // Applies with acks 1 or all; with acks 0 it is off (no response to learn from).
  bool enable_idempotence = true;
  // Without idempotence: at most one request per partition in flight (it
  // carries every batch of the partition that is ready, in order), so a retried
  // batch can never be overtaken by a later one. Requests for different
  // partitions still pipeline up to max_in_flight. Set false to pipeline one
  // partition's requests too, at the price of order (and of duplicates) on a
  // retry. With idempotence order holds either way.
  bool preserve_order = true;

  // Bytes of records waiting to be sent or acknowledged. When full, send()
  // blocks up to max_block_ms (block_on_buffer_full) or fails at once with
  // BUFFER_FULL. max_block_ms also bounds the wait for a topic's metadata.
  size_t buffer_memory = 32u << 20;
  bool block_on_buffer_full = true;
  int64_t max_block_ms = 60'000;

  // Retries of a batch after a retriable error (disconnect, REQUEST_TIMED_OUT,
  // STORAGE_ERROR, UNKNOWN_TOPIC_OR_PARTITION while metadata says the topic is
  // there...), waiting retry_backoff_ms * 2^(attempt-1) capped at
  // retry_backoff_max_ms, with +-20% jitter. delivery_timeout_ms bounds the whole
  // life of a batch, from its first record to its acknowledgement.
  int32_t retries = std::numeric_limits<int32_t>::max();
  int64_t retry_backoff_ms = 100;
  int64_t retry_backoff_max_ms = 1'000;
  int64_t request_timeout_ms = 30'000;
  int64_t delivery_timeout_ms = 120'000;

  // Largest produce request (and so largest record).
  size_t max_request_bytes = 1u << 20;
  // Partition counts are refreshed in the background once they are this old.
  int64_t metadata_max_age_ms = 300'000;
};

// Checks ranges and relations (delivery_timeout_ms >= linger_ms + request_timeout_ms, ...).
Status validate(const ProducerConfig& config);

}  // namespace sluice::client
