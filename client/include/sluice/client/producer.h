// The producer: asynchronous send of records to topic partitions, batched per
// partition, with retries, delivery reports and bounded memory.
//
//   auto producer = Producer::create({.bootstrap = "127.0.0.1:7400"});
//   auto report = producer->send({.topic = "orders", .key = "o-17", .value = payload});
//   Result<RecordMetadata> md = report.get();  // partition and offset, or why not
//
// Delivery reports: every send() completes exactly once — its callback runs
// once / its future becomes ready once — with the record's partition and offset
// (offset -1 with acks=0) or an error (see client_errors.h for the reasons).
// Errors found before the record is queued (unknown topic, invalid partition,
// record too large, buffer full, closed producer) are reported on the calling
// thread before send() returns; all others on the producer's io thread, in the
// order the partition's records were sent. Callbacks must be quick and must not
// call flush() or close(); a send() from a callback never blocks (it fails with
// BUFFER_FULL instead of waiting for memory).
//
// Thread-safety: send(), flush() and partition_count() may be called from any
// number of threads. close() and destruction from one thread, not a callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/client/producer_config.h"
#include "sluice/client/steady_clock.h"
#include "sluice/client/types.h"
#include "sluice/common/error.h"

namespace sluice::client {

struct ProducerRecord {
  std::string topic;
  std::optional<int32_t> partition;  // unset: by key, or sticky for a null key
  std::optional<std::string> key;    // binary-safe; nullopt is a null key
  std::optional<std::string> value;  // nullopt is a null value (a tombstone)
  std::vector<Header> headers;
  std::optional<int64_t> timestamp;  // ms since the epoch; unset: now
};

struct RecordMetadata {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;     // -1 when acks=0
  int64_t timestamp = -1;  // the record's (create) timestamp
};

using DeliveryCallback = std::function<void(const Result<RecordMetadata>&)>;

class Producer {
 public:
  // Validates the config and starts the io thread; connects on first use.
  static Result<Producer> create(ProducerConfig config);
  // The same, measuring linger, backoff and every timeout on `clock` (which
  // must outlive the producer), so a test can move time instead of sleeping.
  static Result<Producer> create(ProducerConfig config, const SteadyClock& clock);
  // The same, for callers that prefer exceptions at this edge:
  // throws std::invalid_argument on an invalid config.
  explicit Producer(ProducerConfig config);
  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;
  // close() with no time limit beyond delivery_timeout_ms.
  ~Producer();

  // Queues a record. May block up to max_block_ms for buffer memory (when
  // block_on_buffer_full) or the topic's first metadata. The record's bytes are
  // copied into a batch before send() returns, so the caller may reuse `record`.
  std::future<Result<RecordMetadata>> send(const ProducerRecord& record);
  void send(const ProducerRecord& record, DeliveryCallback on_delivery);

  // Sends everything queued so far at once (ignoring linger_ms) and blocks until
  // all of it is acknowledged or failed, callbacks included.
  void flush();

  // Refuses new sends, waits up to `timeout` for queued records (as flush()),
  // then fails whatever is left with CLOSED and stops the io thread. Idempotent.
  void close(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

  // The topic's partition count, from cached metadata or a MetadataRequest.
  Result<int32_t> partition_count(const std::string& topic);

  const ProducerConfig& config() const;

  struct Impl;

 private:
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::client
