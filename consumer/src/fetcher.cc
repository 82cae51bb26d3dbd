#include "fetcher.h"

#include <algorithm>

#include "sluice/client/client_errors.h"
#include "sluice/common/log.h"

#include "batch_decoder.h"

namespace sluice::consumer {

Fetcher::Fetcher(client::NetworkClient& net, const ConsumerConfig& config, SubscriptionState& subscriptions)
    : net_(net), config_(config), subscriptions_(subscriptions) {}

void Fetcher::restart_at_position(PartitionBuffer& b, const SubscriptionState::PartitionState& s) {
  b.position_epoch = s.epoch;
  b.fetch_epoch = next_fetch_epoch_++;
  b.fetch_offset = s.position.value_or(0);
  b.clear();
}

void Fetcher::sync_with_subscription() {
  const auto& assigned = subscriptions_.partitions();
  // Both maps are ordered by partition: one merge pass.
  auto b = buffers_.begin();
  for (const auto& [tp, s] : assigned) {
    while (b != buffers_.end() && b->first < tp) b = buffers_.erase(b);
    if (b == buffers_.end() || tp < b->first) {
      b = buffers_.emplace_hint(b, tp, PartitionBuffer{});
      restart_at_position(b->second, s);
    } else if (b->second.position_epoch != s.epoch) {
      restart_at_position(b->second, s);
    }
    ++b;
  }
  buffers_.erase(b, buffers_.end());
}

void Fetcher::send_fetches(client::SteadyTime now) {
  if (in_flight_) return;
  if (retry_at_ && now < *retry_at_) return;
  retry_at_.reset();
  sync_with_subscription();
  std::vector<FetchTarget> targets;
  auto b = buffers_.begin();
  for (const auto& [tp, s] : subscriptions_.partitions()) {
    const PartitionBuffer& buffer = (b++)->second;  // same keys, same order after the sync
    if (s.position && !s.paused && buffer.buffered_count() == 0) {
      targets.push_back(FetchTarget{tp, buffer.fetch_offset, buffer.fetch_epoch});
    }
  }
  if (!targets.empty() || member_) in_flight_.emplace(net_, config_, std::move(targets), member_);
}

Fetcher::PartitionBuffer* Fetcher::buffer_for(const FetchTarget& target) {
  auto it = buffers_.find(target.partition);
  if (it == buffers_.end() || it->second.fetch_epoch != target.epoch) return nullptr;
  if (!subscriptions_.current(target.partition, it->second.position_epoch)) return nullptr;
  return &it->second;
}

void Fetcher::advance_fetch_offsets(const std::vector<PartitionFetch>& results) {
  for (const PartitionFetch& f : results) {
    PartitionBuffer* b = buffer_for(f.target);
    if (b && !f.offset_out_of_range && f.bytes) b->fetch_offset = std::max(b->fetch_offset, f.next_offset);
  }
}

std::optional<Error> Fetcher::reportable(const PartitionFetch& f) {
  if (f.offset_out_of_range) {
    log::warn("consumer", "offset_out_of_range",
              {{"partition", f.target.partition.to_string()}, {"offset", f.target.offset}});
    if (config_.auto_offset_reset != OffsetReset::none) {
      subscriptions_.seek(f.target.partition, std::nullopt);  // the consumer resets it before the next fetch
      return std::nullopt;
    }
    return client::client_error(client::ErrorCode::no_offset,
                                "offset " + std::to_string(f.target.offset) + " is out of range for " +
                                    f.target.partition.to_string() + " and auto_offset_reset is none; seek first");
  }
  // A fetch answered UNKNOWN_TOPIC_OR_PARTITION means the assigned
  // partition is not on the broker (deleted, or not created yet): retriable as
  // a code, but swallowed here it would leave the caller waiting in silence.
  const Error& error = f.bytes.error();
  const bool gone = client::error_code(error) == client::ErrorCode::unknown_topic_or_partition;
  if (!client::is_retriable(error) || gone) return error;
  swallowed_retriable_ = true;
  return std::nullopt;
}

Status Fetcher::apply(std::vector<PartitionFetch>& results, const std::shared_ptr<const void>& bytes_owner) {
  std::optional<Error> first_error;
  for (PartitionFetch& f : results) {
    PartitionBuffer* buffer = buffer_for(f.target);
    if (!buffer) continue;
    PartitionBuffer& b = *buffer;
    if (f.offset_out_of_range || !f.bytes) {
      auto error = reportable(f);
      if (!first_error) first_error = std::move(error);
      continue;
    }
    auto decoded = decode_batches(f.target.partition, *f.bytes, f.target.offset,
                                  config_.check_crcs ? CheckCrcs::yes : CheckCrcs::no, bytes_owner);
    int64_t decoded_to = decoded ? decoded->next_offset : f.target.offset;
    if (decoded_to != f.next_offset) {
      // A batch failed its CRC or did not decode: the fetch sent past it is
      // dropped, and the next one starts at the damage, which reports it again.
      b.fetch_offset = decoded_to;
      b.fetch_epoch = next_fetch_epoch_++;
    }
    b.high_watermark = f.high_watermark;
    if (!decoded) {
      if (!first_error) first_error = decoded.error();
      continue;
    }
    if (b.buffered_count() == 0) {
      b.records = std::move(decoded->records);
      b.next = 0;
    } else {
      for (auto& r : decoded->records) b.records.push_back(std::move(r));
    }
    // Only control batches or gaps: the position moves past them.
    if (b.buffered_count() == 0) subscriptions_.advance_position(f.target.partition, b.position_epoch, b.fetch_offset);
  }
  if (first_error && !has_buffered()) return tl::unexpected(*first_error);
  return {};
}

Result<bool> Fetcher::complete_fetch(const client::SteadyClock& clock, client::SteadyTime deadline) {
  if (!in_flight_ || !in_flight_->wait(clock, deadline)) return false;
  std::optional<FetchSession> completed = std::move(in_flight_);  // owns the bytes of `results`
  in_flight_.reset();
  const auto backoff = std::chrono::milliseconds(config_.retry_backoff_ms);
  auto results = completed->take();
  if (!results) {
    if (!client::is_retriable(results.error())) return tl::unexpected(results.error());
    retry_at_ = clock.now() + backoff;
    return false;
  }
  sync_with_subscription();
  advance_fetch_offsets(*results);
  // No prefetch before a heartbeat that may change what to fetch, nor before apply()
  // decided whether a failed partition makes the next fetch wait.
  const bool failed = std::any_of(results->begin(), results->end(),
                                  [](const PartitionFetch& f) { return f.offset_out_of_range || !f.bytes; });
  if (completed->heartbeat_now()) {
    heartbeat_requested_ = true;
  } else if (!failed) {
    send_fetches(clock.now());  // the broker reads the next range while this one is decoded
  }
  swallowed_retriable_ = false;
  if (auto s = apply(*results, completed->response()); !s) return tl::unexpected(s.error());
  if (swallowed_retriable_ && !has_buffered()) retry_at_ = clock.now() + backoff;
  return true;
}

std::optional<int64_t> Fetcher::high_watermark(const TopicPartition& tp) const {
  if (!subscriptions_.is_assigned(tp)) return std::nullopt;
  auto it = buffers_.find(tp);
  return it == buffers_.end() ? std::nullopt : it->second.high_watermark;
}

bool Fetcher::has_buffered() {
  sync_with_subscription();
  for (const auto& [tp, b] : buffers_) {
    if (b.buffered_count() > 0 && !subscriptions_.is_paused(tp)) return true;
  }
  return false;
}

std::vector<ConsumerRecord> Fetcher::drain(size_t max_records) {
  sync_with_subscription();
  std::vector<ConsumerRecord> out;
  std::vector<std::pair<const TopicPartition, PartitionBuffer>*> entries;
  entries.reserve(buffers_.size());
  size_t available = 0;
  for (auto& e : buffers_) {
    if (subscriptions_.is_paused(e.first)) continue;
    entries.push_back(&e);
    available += e.second.buffered_count();
  }
  out.reserve(std::min(max_records, available));
  const size_t n = entries.size();
  for (size_t i = 0; i < n && out.size() < max_records; ++i) {
    auto& [tp, b] = *entries[(next_drain_ + i) % n];
    if (b.buffered_count() == 0) continue;
    while (b.buffered_count() > 0 && out.size() < max_records) out.push_back(std::move(b.records[b.next++]));
    int64_t position = out.back().offset + 1;
    if (b.buffered_count() == 0) {
      b.clear();
      position = b.fetch_offset;  // past control batches and gaps after the last record
    }
    subscriptions_.advance_position(tp, b.position_epoch, position);
  }
  next_drain_ = n == 0 ? 0 : (next_drain_ + 1) % n;
  return out;
}

}  // namespace sluice::consumer
