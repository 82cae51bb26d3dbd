#include "sender.h"

#include <algorithm>
#include <map>
#include <utility>

#include "sluice/client/client_errors.h"
#include "sluice/client/wire_error.h"
#include "sluice/common/log.h"

#include "backoff.h"
#include "sluice.pb.h"

namespace sluice::client {

Sender::Sender(SenderConfig config, NetworkClient& net, RecordAccumulator& accumulator, MetadataCache& metadata,
               const SteadyClock& clock)
    : config_(config),
      net_(net),
      accumulator_(accumulator),
      metadata_(metadata),
      clock_(clock),
      timer_(net.io_context()),
      advanced_(clock.on_advance([this] { wakeup(); })) {}

Sender::~Sender() {
  if (advanced_ != 0) clock_.cancel_on_advance(advanced_);
}

void Sender::wakeup() {
  if (wakeup_pending_.exchange(true)) return;
  if (!net_.post([this] {
        wakeup_pending_ = false;
        run();
      })) {
    wakeup_pending_ = false;
  }
}

void Sender::close(const Error& error) {
  closed_ = true;
  close_error_ = error;
  timer_.cancel();
  timer_at_ = SteadyTime::max();
  for (auto& batch : accumulator_.drain_all()) fail(std::move(batch), error);
}

void Sender::arm_timer(SteadyTime when) {
  if (when >= timer_at_) return;  // an earlier wake-up is already set
  timer_at_ = when;
  timer_.expires_at(timer_expiry(clock_, when));
  timer_.async_wait([this, when](const std::error_code& ec) {
    if (ec || when != timer_at_) return;  // cancelled or superseded
    timer_at_ = SteadyTime::max();
    run();
  });
}

size_t Sender::room(const TopicPartition& tp) const {
  constexpr size_t kUnlimited = SIZE_MAX;
  if (!config_.idempotent) return config_.preserve_order && muted_.contains(tp) ? 0 : kUnlimited;
  if (producer_id_ == kNoProducerId || reset_producer_id_) return 0;
  auto it = flows_.find(tp);
  if (it == flows_.end()) return kMaxBatchesInFlight;
  const PartitionFlow& flow = it->second;
  if (flow.recovering && flow.in_flight > 0) return 0;
  return static_cast<size_t>(std::max(0, kMaxBatchesInFlight - flow.in_flight));
}

void Sender::request_producer_id(SteadyTime now) {
  if (producer_id_requested_) return;
  if (now < producer_id_retry_at_) {
    arm_timer(producer_id_retry_at_);
    return;
  }
  producer_id_requested_ = true;
  OutgoingRequest out;
  out.api = Api::init_producer_id;
  out.body = serialize_message(wire::InitProducerIdRequest{});
  out.timeout = config_.request_timeout;
  out.on_done = [this](Result<Response> response) { on_producer_id(std::move(response)); };
  net_.send(std::move(out));
}

void Sender::on_producer_id(Result<Response> response) {
  producer_id_requested_ = false;
  if (closed_) return;
  Status status;
  wire::InitProducerIdResponse body;
  if (!response) {
    status = tl::unexpected(response.error());
  } else if (auto s = parse_body(response->body(), body, "InitProducerIdResponse"); !s) {
    status = s;
  } else if (body.has_error() && body.error().code() != wire::NONE) {
    status = tl::unexpected(wire_error(body.error().code(), body.error().message()));
  }
  if (!status) {
    // Batches wait (up to delivery_timeout_ms) while the id is asked for again.
    ++producer_id_attempts_;
    auto backoff = retry_backoff(producer_id_attempts_, config_.retry_backoff, config_.retry_backoff_max, rng_);
    producer_id_retry_at_ = clock_.now() + backoff;
    log::warn("producer", "init_producer_id_failed",
              {{"attempt", producer_id_attempts_}, {"error", status.error().to_string()}});
  } else {
    producer_id_attempts_ = 0;
    producer_id_ = ProducerId(body.producer_id());
    producer_epoch_ = ProducerEpoch(static_cast<int16_t>(body.producer_epoch()));
    flows_.clear();
    accumulator_.set_producer(producer_id_, producer_epoch_);
    log::info("producer", "producer_id",
              {{"producer_id", producer_id_.value()}, {"epoch", int64_t{producer_epoch_.value()}}});
  }
  run();
}

void Sender::run() {
  if (closed_) return;
  SteadyTime now = clock_.now();
  for (auto& batch : accumulator_.expire(now, config_.delivery_timeout)) {
    std::string why = std::to_string(batch->record_count()) + " record(s) for " + batch->partition().to_string() +
                      " not acknowledged within delivery_timeout_ms " +
                      std::to_string(config_.delivery_timeout.count());
    if (batch->last_error) why += "; last error: " + batch->last_error->to_string();
    fail(std::move(batch), client_error(ErrorCode::delivery_timeout, why));
  }
  if (config_.idempotent) {
    // A gap left by a failed batch: a new producer id, once nothing is in flight.
    if (reset_producer_id_ && in_flight_ == 0) {
      reset_producer_id_ = false;
      producer_id_ = kNoProducerId;
      log::warn("producer", "producer_id_reset", {{"reason", "a batch with a sequence number failed"}});
    }
    if (producer_id_ == kNoProducerId && !reset_producer_id_) request_producer_id(now);
  }
  const PartitionRoom room_for = [this](const TopicPartition& tp) { return room(tp); };
  while (in_flight_ < config_.max_in_flight) {
    auto drained = accumulator_.drain(now, room_for, config_.max_request_bytes);
    if (drained.empty()) break;
    std::vector<BatchPtr> ready;
    for (auto& batch : drained) {
      if (batch->attempts > 0) {
        // A retry: metadata may have learned meanwhile that the partition is gone.
        auto known = metadata_.cached(batch->partition().topic);
        if (known && !*known && error_code(known->error()) == ErrorCode::unknown_topic_or_partition) {
          fail(std::move(batch), known->error());
          continue;
        }
        if (known && *known && batch->partition().partition >= **known) {
          // The error first: the order in which call arguments are evaluated is
          // unspecified, and the moved-from `batch` must not be read.
          Error gone = client_error(ErrorCode::unknown_topic_or_partition,
                                    "partition " + batch->partition().to_string() + " no longer exists");
          fail(std::move(batch), gone);
          continue;
        }
      }
      if (auto s = batch->seal(); !s) {
        fail(std::move(batch), s.error());
        continue;
      }
      ready.push_back(std::move(batch));
    }
    if (!ready.empty()) send_request(std::move(ready));
  }
  if (in_flight_ < config_.max_in_flight) {
    auto next = accumulator_.next_ready_time(now, room_for);
    if (next) arm_timer(std::max(*next, now + std::chrono::milliseconds(1)));
  }
}

void Sender::send_request(std::vector<BatchPtr> batches) {
  wire::ProduceRequest req;
  req.set_acks(config_.acks);
  req.set_timeout_ms(static_cast<int32_t>(config_.request_timeout.count()));
  auto request = std::make_shared<InFlight>();
  OutgoingRequest out;
  // One entry per partition, its batches back to back in drain (queue) order.
  std::vector<TopicPartition> order;
  std::map<TopicPartition, std::vector<BatchPtr>> by_partition;
  for (auto& batch : batches) {
    auto& list = by_partition[batch->partition()];
    if (list.empty()) order.push_back(batch->partition());
    list.push_back(std::move(batch));
  }
  for (const TopicPartition& tp : order) {
    auto* p = req.add_partitions();
    p->set_topic(tp.topic);
    p->set_partition(tp.partition);
    size_t size = 0;
    for (auto& batch : by_partition[tp]) {
      size += batch->bytes().size();
      out.records.emplace_back(batch->bytes());
    }
    p->set_records_size(static_cast<uint32_t>(size));
    if (config_.idempotent) {
      flows_[tp].in_flight += static_cast<int>(by_partition[tp].size());
    } else if (config_.preserve_order) {
      muted_.insert(tp);
    }
    request->partitions.emplace_back(tp, std::move(by_partition[tp]));
  }
  out.api = Api::produce;
  out.body = serialize_message(req);
  out.keepalive = request;
  out.expect_response = config_.acks != 0;
  out.timeout = config_.request_timeout;
  out.on_done = [this, request](Result<Response> response) { on_response(request, std::move(response)); };
  ++in_flight_;
  net_.send(std::move(out));
}

void Sender::on_response(const std::shared_ptr<InFlight>& request, Result<Response> response) {
  --in_flight_;
  auto partitions = std::move(request->partitions);
  if (config_.idempotent) {
    for (auto& [tp, batches] : partitions) {
      PartitionFlow& flow = flows_[tp];
      flow.in_flight -= static_cast<int>(batches.size());
      // Every batch of the partition is back: the requeued ones go out again in order.
      if (flow.in_flight == 0) flow.recovering = false;
    }
  }
  auto each_batch = [&](auto&& action) {
    for (auto& [tp, batches] : partitions) {
      for (auto& batch : batches) action(std::move(batch));
    }
  };
  if (!response) {
    each_batch([&](BatchPtr batch) { retry_or_fail(std::move(batch), response.error()); });
    run();
    return;
  }
  if (config_.acks == 0) {
    each_batch([&](BatchPtr batch) { finish(std::move(batch), -1); });
    run();
    return;
  }
  wire::ProduceResponse body;
  if (auto s = parse_body(response->body(), body, "ProduceResponse"); !s) {
    each_batch([&](BatchPtr batch) { fail(std::move(batch), s.error()); });
    run();
    return;
  }
  std::map<TopicPartition, const wire::ProduceResponse::PartitionResult*> results;
  for (const auto& r : body.results()) results[TopicPartition{r.topic(), r.partition()}] = &r;
  // Appended batches are completed only after the next request is on its way:
  // their callbacks then run while the broker works on it, instead of delaying it.
  // Failures meanwhile (the rest of a partly appended request, expiries in run())
  // concern later batches: they are reported after the appended ones.
  std::vector<std::pair<BatchPtr, int64_t>> appended_batches;
  defer_failures_ = true;
  for (auto& [tp, batches] : partitions) {
    auto it = results.find(tp);
    if (it == results.end()) {
      for (auto& batch : batches) {
        fail(std::move(batch),
             client_error(ErrorCode::protocol_error, "ProduceResponse has no result for " + tp.to_string()));
      }
      continue;
    }
    const auto& r = *it->second;
    bool ok = !r.has_error() || r.error().code() == wire::NONE;
    // The batches appended, each with its base offset; a broker that lists none
    // appended a lone batch at base_offset.
    std::vector<int64_t> bases(r.batch_base_offsets().begin(), r.batch_base_offsets().end());
    if (bases.empty() && ok && batches.size() == 1) bases.push_back(r.base_offset());
    if (ok && bases.size() != batches.size()) {
      for (auto& batch : batches) {
        fail(std::move(batch),
             client_error(ErrorCode::protocol_error, "ProduceResponse for " + tp.to_string() + " lists " +
                                                         std::to_string(bases.size()) + " batch offsets for " +
                                                         std::to_string(batches.size()) + " batches"));
      }
      continue;
    }
    size_t appended = std::min(bases.size(), batches.size());
    if (appended > 0) muted_.erase(tp);
    for (size_t i = 0; i < appended; ++i) {
      const ProducerBatch& b = *batches[i];
      if (b.has_sequence()) flows_[tp].next_expected = storage::sequence_after(b.base_sequence(), b.record_count());
      appended_batches.emplace_back(std::move(batches[i]), bases[i]);
    }
    if (ok) continue;
    Error error = wire_error(r.error().code(), r.error().message());
    if (r.error().code() == wire::UNKNOWN_TOPIC_OR_PARTITION || r.error().code() == wire::NOT_LEADER_OR_FOLLOWER) {
      metadata_.refresh_async(tp.topic);
    }
    for (size_t i = appended; i < batches.size(); ++i) {
      if (r.error().code() == wire::OUT_OF_ORDER_SEQUENCE_NUMBER && batches[i]->has_sequence()) {
        // Retriable while an earlier batch of the partition is being retried: the
        // broker has not seen it yet. If it expects this very batch, the broker
        // and the producer disagree; the batch fails (and the id is reset).
        bool behind_a_retry = flows_[tp].next_expected != batches[i]->base_sequence();
        if (behind_a_retry) {
          retry(std::move(batches[i]), error);
        } else {
          fail(std::move(batches[i]), error);
        }
      } else if (is_retriable_wire_code(r.error().code())) {
        retry_or_fail(std::move(batches[i]), error);
      } else {
        fail(std::move(batches[i]), error);
      }
    }
  }
  run();
  defer_failures_ = false;
  // Not finish(): the partition may be muted again, by the request run() just sent.
  for (auto& [batch, base_offset] : appended_batches) {
    batch->complete(base_offset);
    accumulator_.done(*batch);
  }
  for (auto& [batch, error] : std::exchange(deferred_failures_, {})) {
    batch->fail(error);
    accumulator_.done(*batch);
  }
}

void Sender::retry_or_fail(BatchPtr batch, const Error& error) {
  if (!is_retriable(error)) return fail(std::move(batch), error);
  retry(std::move(batch), error);
}

void Sender::retry(BatchPtr batch, const Error& error) {
  muted_.erase(batch->partition());
  if (closed_ || batch->attempts >= config_.retries) return fail(std::move(batch), error);
  SteadyTime now = clock_.now();
  auto backoff = retry_backoff(batch->attempts + 1, config_.retry_backoff, config_.retry_backoff_max, rng_);
  if (now + backoff >= batch->created() + config_.delivery_timeout) {
    Error timed_out =
        client_error(ErrorCode::delivery_timeout,
                     std::to_string(batch->record_count()) + " record(s) for " + batch->partition().to_string() +
                         " not acknowledged within delivery_timeout_ms " +
                         std::to_string(config_.delivery_timeout.count()) + "; last error: " + error.to_string());
    return fail(std::move(batch), timed_out);
  }
  if (config_.idempotent) flows_[batch->partition()].recovering = true;
  ++batch->attempts;
  batch->retry_at = now + backoff;
  batch->last_error = error;
  log::warn("producer", "batch_retry",
            {{"partition", batch->partition().to_string()},
             {"attempt", batch->attempts},
             {"backoff_ms", static_cast<int64_t>(backoff.count())},
             {"error", error.to_string()}});
  accumulator_.reenqueue(std::move(batch));
}

void Sender::finish(BatchPtr batch, int64_t base_offset) {
  muted_.erase(batch->partition());
  batch->complete(base_offset);
  accumulator_.done(*batch);
}

void Sender::fail(BatchPtr batch, const Error& error) {
  muted_.erase(batch->partition());
  // The broker never gets this sequence now; later batches would be refused.
  if (batch->has_sequence() && !closed_) reset_producer_id_ = true;
  if (defer_failures_) {
    deferred_failures_.emplace_back(std::move(batch), error);
    return;
  }
  batch->fail(error);
  accumulator_.done(*batch);
}

}  // namespace sluice::client
