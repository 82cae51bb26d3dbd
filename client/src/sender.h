// The producer's io-thread half: drains ready batches from the accumulator into
// ProduceRequests, completes their delivery reports from the responses, and
// retries what failed retriably (see ProducerConfig for the policy).
//
// Flow control: at most max_in_flight produce requests await a response.
// Without idempotence, preserve_order mutes a partition with a batch in flight
// (not drained) until that batch is done or back in its queue for a retry.
// With idempotence (DESIGN §5) a partition pipelines up to kMaxBatchesInFlight
// batches (several per request): the broker appends them in sequence order
// and refuses a gap. When
// one fails retriably, its partition is muted until every batch it has in
// flight is back (the later ones fail OUT_OF_ORDER_SEQUENCE_NUMBER and are
// requeued behind it, in sequence order); then they are sent again in order,
// and a retry the broker had appended already is answered as a duplicate.
// A batch with a sequence that fails for good leaves a gap the broker would
// never accept: once nothing is in flight, the sender asks for a new producer
// id and the queued batches are numbered again from 0.
// Wake-ups: wakeup() after a record starts or fills a batch; a timer for the
// next linger expiry or retry backoff; every response.
// Thread-safety: wakeup() from any thread; everything else runs on the io thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include <asio/steady_timer.hpp>  // after the standard headers: see connection.h

#include "sluice/client/network_client.h"
#include "sluice/storage/producer_sequence.h"

#include "metadata_cache.h"
#include "record_accumulator.h"

namespace sluice::client {

struct SenderConfig {
  int32_t acks = -1;
  int32_t max_in_flight = 5;
  bool preserve_order = true;
  bool idempotent = false;
  int32_t retries = 0;
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds retry_backoff_max{1000};
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds delivery_timeout{120'000};
  size_t max_request_bytes = 1u << 20;
};

class Sender {
 public:
  // Reads the time from `clock` (which must outlive it); its asio timer is only a
  // wake-up at the next deadline, and an advance of a manual clock wakes it too.
  Sender(SenderConfig config, NetworkClient& net, RecordAccumulator& accumulator, MetadataCache& metadata,
         const SteadyClock& clock = SystemSteadyClock::instance());
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void wakeup();
  // On the io thread: stops sending, fails every queued batch with `error`;
  // batches in flight fail with it when their requests complete or are closed.
  void close(const Error& error);

  int in_flight() const { return in_flight_; }
  // Batches of one partition in flight at once with idempotence: as many as
  // the broker remembers per producer, so it recognises any retry as a duplicate.
  static constexpr int kMaxBatchesInFlight = static_cast<int>(storage::kProducerBatchesRemembered);

 private:
  using BatchPtr = RecordAccumulator::BatchPtr;
  // A produce request's batches, per partition in request order.
  struct InFlight {
    std::vector<std::pair<TopicPartition, std::vector<BatchPtr>>> partitions;
  };

  void run();
  // Batches of `tp` the next drain may take.
  size_t room(const TopicPartition& tp) const;
  // Idempotence: asks for a producer id (InitProducerId) unless one is on its way.
  void request_producer_id(SteadyTime now);
  void on_producer_id(Result<Response> response);
  void arm_timer(SteadyTime when);
  void send_request(std::vector<BatchPtr> batches);
  void on_response(const std::shared_ptr<InFlight>& request, Result<Response> response);
  void retry_or_fail(BatchPtr batch, const Error& error);
  // Requeues a batch whose error is retriable, within the retry and delivery limits.
  void retry(BatchPtr batch, const Error& error);
  void finish(BatchPtr batch, int64_t base_offset);
  void fail(BatchPtr batch, const Error& error);

  SenderConfig config_;
  NetworkClient& net_;
  RecordAccumulator& accumulator_;
  MetadataCache& metadata_;
  const SteadyClock& clock_;
  asio::steady_timer timer_;
  SteadyTime timer_at_ = SteadyTime::max();
  SteadyClock::Subscription advanced_ = 0;
  std::atomic<bool> wakeup_pending_{false};
  std::set<TopicPartition> muted_;
  // Idempotence state.
  struct PartitionFlow {
    int in_flight = 0;           // batches sent and not answered
    bool recovering = false;     // a batch failed retriably: muted until in_flight is 0
    int32_t next_expected = -1;  // sequence after the last acknowledged batch; -1 unknown
  };
  std::map<TopicPartition, PartitionFlow> flows_;
  ProducerId producer_id_ = kNoProducerId;
  ProducerEpoch producer_epoch_ = kNoProducerEpoch;
  bool producer_id_requested_ = false;
  SteadyTime producer_id_retry_at_{};
  int producer_id_attempts_ = 0;
  bool reset_producer_id_ = false;  // a batch with a sequence failed for good
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
