#include "sluice/consumer/consumer.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "sluice/client/client_errors.h"
#include "sluice/client/list_offsets.h"
#include "sluice/client/network_client.h"

#include "fetcher.h"
#include "group_membership.h"
#include "offset_commits.h"
#include "subscription_state.h"

namespace sluice::consumer {

using client::OffsetQuery;
using client::OffsetSpec;
using std::chrono::milliseconds;

// The facade: the subscription says what to read, the fetcher reads it, and
// this resolves positions (ListOffsets) and runs poll()'s loop.
struct Consumer::Impl {
  ConsumerConfig config;
  std::unique_ptr<client::NetworkClient> net;
  // Heartbeats, commits and the leave on a connection of their own, as Kafka's
  // coordinator connection: the broker answers a connection's requests in order,
  // so behind a long-poll fetch they would wait up to fetch_max_wait_ms. Null
  // without a group id.
  std::unique_ptr<client::NetworkClient> group_net;
  const client::SteadyClock& clock;  // poll()'s timeout is measured on it
  SubscriptionState subscriptions;
  Fetcher fetcher;
  OffsetCommits commits;
  GroupMembership membership;
  bool closed = false;

  Impl(ConsumerConfig c, std::unique_ptr<client::NetworkClient> n, std::unique_ptr<client::NetworkClient> g,
       const client::SteadyClock& k)
      : config(std::move(c)),
        net(std::move(n)),
        group_net(std::move(g)),
        clock(k),
        fetcher(*net, config, subscriptions),
        commits(group_client(), subscriptions, config.group_id, milliseconds(config.request_timeout_ms)),
        membership(group_client(), config, subscriptions, commits) {}

  client::NetworkClient& group_client() const { return group_net ? *group_net : *net; }

  // Waits out `deadline` by the clock: nothing can arrive before it.
  void wait_until(client::SteadyTime deadline) const {
    std::mutex mutex;
    std::condition_variable never_notified;
    std::unique_lock lock(mutex);
    clock.wait_until(never_notified, lock, deadline, [] { return false; });
  }

  milliseconds request_timeout() const { return milliseconds(config.request_timeout_ms); }

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
      if (subscriptions.is_assigned(tps[i])) subscriptions.seek(tps[i], r->offset);
    }
    if (!past_end.empty()) return seek_to(past_end, OffsetSpec::latest());
    return {};
  }

  // Gives every partition without a position one: its group's committed offset,
  // else per auto_offset_reset.
  Status resolve_positions() {
    std::vector<TopicPartition> missing = subscriptions.missing_positions();
    if (missing.empty()) return {};
    auto committed = commits.starting_offsets(missing);
    if (!committed) return tl::unexpected(committed.error());
    for (const auto& [tp, offset] : *committed) subscriptions.seek(tp, offset);
    std::erase_if(missing, [&](const TopicPartition& tp) { return committed->contains(tp); });
    if (missing.empty()) return {};
    if (config.auto_offset_reset == OffsetReset::none) {
      return tl::unexpected(client::client_error(
          client::ErrorCode::no_offset,
          missing.front().to_string() + " has no position and auto_offset_reset is none; seek first"));
    }
    return seek_to(missing,
                   config.auto_offset_reset == OffsetReset::earliest ? OffsetSpec::earliest() : OffsetSpec::latest());
  }

  Result<std::vector<ConsumerRecord>> poll(milliseconds timeout) {
    if (closed) return tl::unexpected(client::client_error(client::ErrorCode::closed, "consumer closed"));
    commits.run_callbacks();
    const bool member = membership.active();
    if (!member && subscriptions.empty()) {
      return make_error(Errc::invalid_argument, "poll() with no partitions assigned");
    }
    if (member) membership.on_poll(clock.now());
    const auto deadline = clock.now() + std::max(timeout, milliseconds(0));
    const auto max_records = static_cast<size_t>(config.max_poll_records);
    for (;;) {
      // Waits end at the next heartbeat, so a member heartbeats while poll() waits.
      // A member's fetches also watch its group (even one with nothing to fetch), so a
      // change that concerns it is heard at once, not at the next heartbeat.
      auto wait_deadline = deadline;
      if (member) {
        if (auto s = membership.maintain(clock.now()); !s) return tl::unexpected(s.error());
        wait_deadline = std::min(deadline, membership.next_deadline());
      }
      fetcher.watch_group(member ? membership.fetch_watch() : std::nullopt);
      if (auto s = resolve_positions(); !s) return tl::unexpected(s.error());
      if (fetcher.has_buffered()) {
        auto out = fetcher.drain(max_records);
        fetcher.send_fetches(clock.now());  // prefetch while the caller works
        return out;
      }
      fetcher.send_fetches(clock.now());
      if (!fetcher.in_flight()) {
        // Every partition is paused and no group to watch, or a failed fetch backs off.
        if (auto retry = fetcher.retry_at()) wait_deadline = std::min(wait_deadline, *retry);
        wait_until(wait_deadline);
        if (clock.now() >= deadline) return std::vector<ConsumerRecord>{};
        continue;
      }
      auto completed = fetcher.complete_fetch(clock, wait_deadline);
      if (member && fetcher.take_heartbeat_request()) membership.heartbeat_requested(clock.now());
      if (!completed) return tl::unexpected(completed.error());
      if (!*completed && clock.now() >= deadline) return std::vector<ConsumerRecord>{};
      if (!fetcher.has_buffered() && clock.now() >= deadline) return std::vector<ConsumerRecord>{};
    }
  }
};

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<Consumer> Consumer::create(ConsumerConfig config) {
  return create(std::move(config), client::SystemSteadyClock::instance());
}

Result<Consumer> Consumer::create(ConsumerConfig config, const client::SteadyClock& clock) {
  if (auto s = validate(config); !s) return tl::unexpected(s.error());
  uint32_t max_frame = static_cast<uint32_t>(std::max<int64_t>(64 << 20, int64_t{config.fetch_max_bytes} + (1 << 20)));
  auto net = client::NetworkClient::create(client::NetworkOptions{
      .bootstrap = config.bootstrap, .client_id = config.client_id, .max_frame_bytes = max_frame, .clock = &clock});
  if (!net) return tl::unexpected(net.error());
  std::unique_ptr<client::NetworkClient> group_net;
  if (!config.group_id.empty()) {
    auto g = client::NetworkClient::create(
        client::NetworkOptions{.bootstrap = config.bootstrap, .client_id = config.client_id, .clock = &clock});
    if (!g) return tl::unexpected(g.error());
    group_net = std::move(*g);
  }
  return Consumer(std::make_unique<Impl>(std::move(config), std::move(*net), std::move(group_net), clock));
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
  impl_->commits.flush();
  impl_->membership.leave();
  impl_->closed = true;
  impl_->net->shutdown();
  if (impl_->group_net) impl_->group_net->shutdown();
  impl_->fetcher.abandon_in_flight();
}

void Consumer::assign(const std::vector<TopicPartition>& partitions) {
  if (impl_->membership.active()) throw std::logic_error("assign() while subscribed: unsubscribe() first");
  impl_->subscriptions.assign(partitions);
}

namespace {
Status check_subscribe(const ConsumerConfig& config, const SubscriptionState& subscriptions, bool subscribed) {
  if (config.group_id.empty()) return make_error(Errc::invalid_argument, "subscribe() needs a group_id");
  if (!subscribed && !subscriptions.empty()) {
    return make_error(Errc::invalid_argument, "subscribe() with partitions assigned by assign(): assign({}) first");
  }
  return {};
}
}  // namespace

Status Consumer::subscribe(const std::vector<std::string>& topics, RebalanceListener* listener) {
  if (auto s = check_subscribe(impl_->config, impl_->subscriptions, impl_->membership.active()); !s) return s;
  if (topics.empty()) return make_error(Errc::invalid_argument, "subscribe() to no topics: unsubscribe() instead");
  impl_->membership.subscribe({topics, ""}, listener, impl_->clock.now());
  return {};
}

Status Consumer::subscribe(const TopicPattern& pattern, RebalanceListener* listener) {
  if (auto s = check_subscribe(impl_->config, impl_->subscriptions, impl_->membership.active()); !s) return s;
  if (pattern.regex.empty()) return make_error(Errc::invalid_argument, "subscribe() to an empty pattern");
  impl_->membership.subscribe({{}, pattern.regex}, listener, impl_->clock.now());
  return {};
}

void Consumer::unsubscribe() { impl_->membership.leave(); }

std::vector<TopicPartition> Consumer::assignment() const { return impl_->subscriptions.assignment(); }

Status Consumer::seek(const TopicPartition& tp, int64_t offset) {
  if (auto s = impl_->subscriptions.require_assigned({tp}); !s) return s;
  if (offset < 0) return make_error(Errc::invalid_argument, "seek to a negative offset " + std::to_string(offset));
  impl_->subscriptions.seek(tp, offset);
  return {};
}

Status Consumer::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  auto tps = impl_->subscriptions.assigned_or_all(partitions);
  if (!tps) return tl::unexpected(tps.error());
  return impl_->seek_to(*tps, OffsetSpec::earliest());
}

Status Consumer::seek_to_end(const std::vector<TopicPartition>& partitions) {
  auto tps = impl_->subscriptions.assigned_or_all(partitions);
  if (!tps) return tl::unexpected(tps.error());
  return impl_->seek_to(*tps, OffsetSpec::latest());
}

Status Consumer::seek_to_timestamp(int64_t timestamp_ms, const std::vector<TopicPartition>& partitions) {
  if (timestamp_ms < 0) return make_error(Errc::invalid_argument, "timestamp must be >= 0");
  auto tps = impl_->subscriptions.assigned_or_all(partitions);
  if (!tps) return tl::unexpected(tps.error());
  return impl_->seek_to(*tps, OffsetSpec::for_timestamp(timestamp_ms));
}

Result<int64_t> Consumer::position(const TopicPartition& tp) {
  const auto* state = impl_->subscriptions.find(tp);
  if (!state) return make_error(Errc::invalid_argument, tp.to_string() + " is not assigned");
  if (!state->position) {
    if (auto s = impl_->resolve_positions(); !s) return tl::unexpected(s.error());
  }
  return *impl_->subscriptions.find(tp)->position;
}

Status Consumer::pause(const std::vector<TopicPartition>& partitions) {
  if (auto s = impl_->subscriptions.require_assigned(partitions); !s) return s;
  impl_->subscriptions.pause(partitions);
  return {};
}

Status Consumer::resume(const std::vector<TopicPartition>& partitions) {
  if (auto s = impl_->subscriptions.require_assigned(partitions); !s) return s;
  impl_->subscriptions.resume(partitions);
  return {};
}

std::vector<TopicPartition> Consumer::paused() const { return impl_->subscriptions.paused(); }

Result<std::vector<ConsumerRecord>> Consumer::poll(milliseconds timeout) { return impl_->poll(timeout); }

Status Consumer::commit_sync() { return commit_sync(impl_->commits.positions()); }

Status Consumer::commit_sync(const std::map<TopicPartition, client::OffsetAndMetadata>& offsets) {
  Status status = impl_->commits.commit(offsets);
  impl_->commits.run_callbacks();  // the queued commits completed before this one
  return status;
}

void Consumer::commit_async(CommitCallback callback) {
  impl_->commits.commit_async(impl_->commits.positions(), std::move(callback));
}

void Consumer::commit_async(const std::map<TopicPartition, client::OffsetAndMetadata>& offsets,
                            CommitCallback callback) {
  impl_->commits.commit_async(offsets, std::move(callback));
}

std::optional<int64_t> Consumer::lag(const TopicPartition& tp) const {
  const auto* state = impl_->subscriptions.find(tp);
  if (!state || !state->position) return std::nullopt;
  auto high_watermark = impl_->fetcher.high_watermark(tp);
  if (!high_watermark) return std::nullopt;
  return std::max<int64_t>(0, *high_watermark - *state->position);
}

Result<std::map<TopicPartition, client::OffsetAndMetadata>> Consumer::committed(
    const std::vector<TopicPartition>& partitions) {
  return impl_->commits.committed(partitions);
}

const ConsumerConfig& Consumer::config() const { return impl_->config; }

}  // namespace sluice::consumer
