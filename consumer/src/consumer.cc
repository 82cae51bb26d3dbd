#include "sluice/consumer/consumer.h"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

#include "sluice/client/client_errors.h"
#include "sluice/client/list_offsets.h"
#include "sluice/client/network_client.h"
#include "sluice/client/wire_error.h"
#include "sluice/common/log.h"

#include "fetch_session.h"

namespace sluice::consumer {

namespace {

using client::OffsetQuery;
using client::OffsetSpec;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct PartitionState {
  std::optional<int64_t> position;  // next offset poll() returns; nullopt: reset first
  int64_t fetch_offset = 0;         // next offset to fetch (past the buffered records)
  // Decoded and not yet returned: buffered[next_buffered..]. A vector that takes
  // over the decoder's, and one reservation for poll()'s result, keep the heap
  // from growing and shrinking on every fetch (with a deque, each poll of 1 MiB
  // re-faulted about 100 pages: 19-55k page faults per 1M records).
  std::vector<ConsumerRecord> buffered;
  size_t next_buffered = 0;

  size_t buffered_count() const { return buffered.size() - next_buffered; }
  void clear_buffered() {
    buffered.clear();
    next_buffered = 0;
  }
  uint64_t epoch = 0;  // changes on every seek; older fetches are dropped
};

}  // namespace

struct Consumer::Impl {
  ConsumerConfig config;
  std::unique_ptr<client::NetworkClient> net;
  std::map<TopicPartition, PartitionState> partitions;
  std::optional<FetchSession> fetch;
  uint64_t next_epoch = 1;
  size_t next_drain = 0;
  bool closed = false;

  milliseconds request_timeout() const { return milliseconds(config.request_timeout_ms); }

  void set_position(PartitionState& s, std::optional<int64_t> offset) {
    s.position = offset;
    s.fetch_offset = offset.value_or(0);
    s.clear_buffered();
    s.epoch = next_epoch++;
  }

  Result<std::vector<TopicPartition>> assigned_or_all(const std::vector<TopicPartition>& tps) const {
    if (tps.empty()) {
      std::vector<TopicPartition> all;
      for (const auto& [tp, s] : partitions) all.push_back(tp);
      return all;
    }
    for (const auto& tp : tps) {
      if (!partitions.contains(tp)) return make_error(Errc::invalid_argument, tp.to_string() + " is not assigned");
    }
    return tps;
  }

  // Looks up `spec` for each partition and moves it there. Timestamp queries
  // without a matching record fall back to the log end.
  Status seek_to(const std::vector<TopicPartition>& tps, OffsetSpec spec) {
    if (tps.empty()) return {};
    std::vector<OffsetQuery> queries;
    queries.reserve(tps.size());
    for (const auto& tp : tps) queries.push_back(OffsetQuery{tp, spec});
    auto listed = client::list_offsets(*net, queries, request_timeout());
    if (!listed) return tl::unexpected(listed.error());
    std::vector<TopicPartition> past_end;
    for (size_t i = 0; i < tps.size(); ++i) {
      const auto& r = (*listed)[i];
      if (!r) return tl::unexpected(r.error());
      if (r->offset < 0) {
        past_end.push_back(tps[i]);
        continue;
      }
      auto it = partitions.find(tps[i]);
      if (it != partitions.end()) set_position(it->second, r->offset);
    }
    if (!past_end.empty()) return seek_to(past_end, OffsetSpec::latest());
    return {};
  }

  // Gives every partition without a position one, per auto_offset_reset.
  Status resolve_positions() {
    std::vector<TopicPartition> missing;
    for (const auto& [tp, s] : partitions) {
      if (!s.position) missing.push_back(tp);
    }
    if (missing.empty()) return {};
    if (config.auto_offset_reset == OffsetReset::none) {
      return tl::unexpected(client::client_error(
          Errc::offset_out_of_range, client::reason::kNoOffset,
          missing.front().to_string() + " has no position and auto_offset_reset is none; seek first"));
    }
    return seek_to(missing,
                   config.auto_offset_reset == OffsetReset::earliest ? OffsetSpec::earliest() : OffsetSpec::latest());
  }

  bool has_buffered() const {
    for (const auto& [tp, s] : partitions) {
      if (s.buffered_count() > 0) return true;
    }
    return false;
  }

  // Fetches every positioned partition with nothing buffered, unless a fetch is in flight.
  void maybe_fetch() {
    if (fetch) return;
    std::vector<FetchTarget> targets;
    for (const auto& [tp, s] : partitions) {
      if (s.position && s.buffered_count() == 0) targets.push_back(FetchTarget{tp, s.fetch_offset, s.epoch});
    }
    if (!targets.empty()) fetch.emplace(*net, config, std::move(targets));
  }

  // Up to max_poll_records buffered records, taking partitions in turn.
  std::vector<ConsumerRecord> drain_buffered() {
    std::vector<ConsumerRecord> out;
    size_t limit = static_cast<size_t>(config.max_poll_records);
    std::vector<std::pair<const TopicPartition, PartitionState>*> entries;
    size_t available = 0;
    for (auto& e : partitions) {
      entries.push_back(&e);
      available += e.second.buffered_count();
    }
    out.reserve(std::min(limit, available));
    size_t n = entries.size();
    for (size_t i = 0; i < n && out.size() < limit; ++i) {
      PartitionState& s = entries[(next_drain + i) % n]->second;
      while (s.buffered_count() > 0 && out.size() < limit) {
        ConsumerRecord& next = s.buffered[s.next_buffered++];
        s.position = next.offset + 1;
        out.push_back(std::move(next));
      }
      if (s.buffered_count() == 0) {
        s.clear_buffered();
        if (s.position) s.position = s.fetch_offset;
      }
    }
    next_drain = n == 0 ? 0 : (next_drain + 1) % n;
    return out;
  }

  // The state a fetch result applies to, or null if the partition was unassigned
  // or sought since the fetch was sent.
  PartitionState* state_for(const FetchTarget& target) {
    auto it = partitions.find(target.partition);
    if (it == partitions.end() || it->second.epoch != target.epoch) return nullptr;
    return &it->second;
  }

  // Moves fetch offsets past the whole batches of a completed fetch, judged by
  // their headers, so the next fetch can be sent while these bytes are decoded.
  void advance_fetch_offsets(const std::vector<PartitionFetch>& results) {
    for (const PartitionFetch& f : results) {
      PartitionState* s = state_for(f.target);
      if (s && !f.offset_out_of_range && f.bytes) s->fetch_offset = std::max(s->fetch_offset, f.next_offset);
    }
  }

  // Decodes a completed fetch into the buffers. An error is returned only if
  // nothing was buffered.
  Status apply_fetch(std::vector<PartitionFetch>& results, const std::shared_ptr<const void>& bytes_owner) {
    std::optional<Error> first_error;
    for (PartitionFetch& f : results) {
      PartitionState* state = state_for(f.target);
      if (!state) continue;
      PartitionState& s = *state;
      if (f.offset_out_of_range) {
        log::warn("consumer", "offset_out_of_range",
                  {{"partition", f.target.partition.to_string()}, {"offset", f.target.offset}});
        if (config.auto_offset_reset == OffsetReset::none) {
          if (!first_error) {
            first_error =
                client::client_error(Errc::offset_out_of_range, client::reason::kNoOffset,
                                     "offset " + std::to_string(f.target.offset) + " is out of range for " +
                                         f.target.partition.to_string() + " and auto_offset_reset is none; seek first");
          }
        } else {
          set_position(s, std::nullopt);  // reset on the next loop
        }
        continue;
      }
      if (!f.bytes) {
        // A fetch answered UNKNOWN_TOPIC_OR_PARTITION (not_found) means the assigned
        // partition is not on the broker (deleted, or not created yet): retriable as
        // a code, but swallowed here it would leave the caller waiting in silence.
        const Error& error = f.bytes.error();
        if (!first_error && (!client::is_retriable(error) || error.code == Errc::not_found)) first_error = error;
        continue;
      }
      auto decoded = decode_batches(f.target.partition, *f.bytes, f.target.offset, config.check_crcs, bytes_owner);
      int64_t decoded_to = decoded ? decoded->next_offset : f.target.offset;
      if (decoded_to != f.next_offset) {
        // A batch failed its CRC or did not decode: the fetch sent past it is
        // dropped, and the next one starts at the damage, which reports it again.
        s.fetch_offset = decoded_to;
        s.epoch = next_epoch++;
      }
      if (!decoded) {
        if (!first_error) first_error = decoded.error();
        continue;
      }
      if (s.buffered_count() == 0) {
        s.buffered = std::move(decoded->records);
        s.next_buffered = 0;
      } else {
        for (auto& r : decoded->records) s.buffered.push_back(std::move(r));
      }
      if (s.buffered_count() == 0) s.position = s.fetch_offset;  // only control batches or gaps
    }
    if (first_error && !has_buffered()) return tl::unexpected(*first_error);
    return {};
  }

  Result<std::vector<ConsumerRecord>> poll(milliseconds timeout) {
    if (closed) return tl::unexpected(client::client_error(Errc::closed, client::reason::kClosed, "consumer closed"));
    if (partitions.empty()) return make_error(Errc::invalid_argument, "poll() with no partitions assigned");
    auto deadline = Clock::now() + std::max(timeout, milliseconds(0));
    for (;;) {
      if (auto s = resolve_positions(); !s) return tl::unexpected(s.error());
      if (has_buffered()) {
        auto out = drain_buffered();
        maybe_fetch();  // prefetch while the caller works
        return out;
      }
      maybe_fetch();
      if (!fetch) return std::vector<ConsumerRecord>{};
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (!fetch->wait(left)) return std::vector<ConsumerRecord>{};
      std::optional<FetchSession> completed = std::move(fetch);  // owns the bytes of `results`
      fetch.reset();
      auto results = completed->take();
      if (!results) return tl::unexpected(results.error());
      advance_fetch_offsets(*results);
      maybe_fetch();  // the broker reads the next range while this one is decoded
      if (auto s = apply_fetch(*results, completed->response()); !s) return tl::unexpected(s.error());
      if (!has_buffered() && Clock::now() >= deadline) return std::vector<ConsumerRecord>{};
    }
  }
};

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<Consumer> Consumer::create(ConsumerConfig config) {
  if (auto s = validate(config); !s) return tl::unexpected(s.error());
  uint32_t max_frame = static_cast<uint32_t>(std::max<int64_t>(64 << 20, int64_t{config.fetch_max_bytes} + (1 << 20)));
  auto net = client::NetworkClient::create(client::NetworkOptions{config.bootstrap, config.client_id, max_frame});
  if (!net) return tl::unexpected(net.error());
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->net = std::move(*net);
  return Consumer(std::move(impl));
}

Consumer::Consumer(ConsumerConfig config) {
  auto c = create(std::move(config));
  if (!c) throw std::invalid_argument("invalid consumer config: " + c.error().to_string());
  impl_ = std::move(c->impl_);
}

Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Consumer::~Consumer() { close(); }

void Consumer::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  impl_->net->shutdown();
  impl_->fetch.reset();
}

void Consumer::assign(const std::vector<TopicPartition>& partitions) {
  std::map<TopicPartition, PartitionState> next;
  for (const auto& tp : partitions) {
    auto it = impl_->partitions.find(tp);
    if (it != impl_->partitions.end()) {
      next.emplace(tp, std::move(it->second));
    } else {
      PartitionState s;
      s.epoch = impl_->next_epoch++;
      next.emplace(tp, std::move(s));
    }
  }
  impl_->partitions = std::move(next);
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, s] : impl_->partitions) out.push_back(tp);
  return out;
}

Status Consumer::seek(const TopicPartition& tp, int64_t offset) {
  auto it = impl_->partitions.find(tp);
  if (it == impl_->partitions.end()) return make_error(Errc::invalid_argument, tp.to_string() + " is not assigned");
  if (offset < 0) return make_error(Errc::invalid_argument, "seek to a negative offset " + std::to_string(offset));
  impl_->set_position(it->second, offset);
  return {};
}

Status Consumer::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  auto tps = impl_->assigned_or_all(partitions);
  if (!tps) return tl::unexpected(tps.error());
  return impl_->seek_to(*tps, OffsetSpec::earliest());
}

Status Consumer::seek_to_end(const std::vector<TopicPartition>& partitions) {
  auto tps = impl_->assigned_or_all(partitions);
  if (!tps) return tl::unexpected(tps.error());
  return impl_->seek_to(*tps, OffsetSpec::latest());
}

Status Consumer::seek_to_timestamp(int64_t timestamp_ms, const std::vector<TopicPartition>& partitions) {
  if (timestamp_ms < 0) return make_error(Errc::invalid_argument, "timestamp must be >= 0");
  auto tps = impl_->assigned_or_all(partitions);
  if (!tps) return tl::unexpected(tps.error());
  return impl_->seek_to(*tps, OffsetSpec::for_timestamp(timestamp_ms));
}

Result<int64_t> Consumer::position(const TopicPartition& tp) {
  auto it = impl_->partitions.find(tp);
  if (it == impl_->partitions.end()) return make_error(Errc::invalid_argument, tp.to_string() + " is not assigned");
  if (!it->second.position) {
    if (auto s = impl_->resolve_positions(); !s) return tl::unexpected(s.error());
  }
  return *impl_->partitions.at(tp).position;
}

Result<std::vector<ConsumerRecord>> Consumer::poll(milliseconds timeout) { return impl_->poll(timeout); }

const ConsumerConfig& Consumer::config() const { return impl_->config; }

}  // namespace sluice::consumer
