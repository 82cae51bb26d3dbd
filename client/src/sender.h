// The producer's io-thread half: drains ready batches from the accumulator into
// ProduceRequests, completes their delivery reports from the responses, and
// retries what failed retriably (see ProducerConfig for the policy).
//
// Flow control: at most max_in_flight produce requests await a response; with
// preserve_order a partition with a batch in flight is muted (not drained)
// until that batch is done or back in its queue for a retry.
// Wake-ups: wakeup() after a record starts or fills a batch; a timer for the
// next linger expiry or retry backoff; every response.
// Thread-safety: wakeup() from any thread; everything else runs on the io thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include <asio/steady_timer.hpp>  // after the standard headers: see connection.h

#include "sluice/client/network_client.h"

#include "metadata_cache.h"
#include "record_accumulator.h"

namespace sluice::client {

struct SenderConfig {
  int32_t acks = -1;
  int32_t max_in_flight = 5;
  bool preserve_order = true;
  int32_t retries = 0;
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds retry_backoff_max{1000};
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds delivery_timeout{120'000};
  size_t max_request_bytes = 1u << 20;
};

class Sender {
 public:
  Sender(SenderConfig config, NetworkClient& net, RecordAccumulator& accumulator, MetadataCache& metadata);

  void wakeup();
  // On the io thread: stops sending, fails every queued batch with `error`;
  // batches in flight fail with it when their requests complete or are closed.
  void close(const Error& error);

  int in_flight() const { return in_flight_; }

 private:
  using BatchPtr = RecordAccumulator::BatchPtr;
  // A produce request's batches, per partition in request order.
  struct InFlight {
    std::vector<std::pair<TopicPartition, std::vector<BatchPtr>>> partitions;
  };

  void run();
  void arm_timer(SteadyTime when);
  void send_request(std::vector<BatchPtr> batches);
  void on_response(const std::shared_ptr<InFlight>& request, Result<Response> response);
  void retry_or_fail(BatchPtr batch, const Error& error);
  void finish(BatchPtr batch, int64_t base_offset);
  void fail(BatchPtr batch, const Error& error);

  SenderConfig config_;
  NetworkClient& net_;
  RecordAccumulator& accumulator_;
  MetadataCache& metadata_;
  asio::steady_timer timer_;
  SteadyTime timer_at_ = SteadyTime::max();
  std::atomic<bool> wakeup_pending_{false};
  std::set<TopicPartition> muted_;
  // While a response's appended batches wait to be completed (on_response sends
  // the next request first), failures are queued here and reported after them,
  // so a partition's delivery reports keep their order.
  bool defer_failures_ = false;
  std::vector<std::pair<BatchPtr, Error>> deferred_failures_;
  int in_flight_ = 0;
  bool closed_ = false;
  Error close_error_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace sluice::client
