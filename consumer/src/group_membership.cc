#include "group_membership.h"

#include <algorithm>
#include <iterator>

#include "sluice/client/client_errors.h"
#include "sluice/client/wire_error.h"
#include "sluice/common/log.h"

#include "sluice.pb.h"

namespace sluice::consumer {

namespace {

using std::chrono::milliseconds;
using WireRequest = wire::ConsumerGroupHeartbeatRequest;

std::vector<TopicPartition> minus(const std::set<TopicPartition>& a, const std::set<TopicPartition>& b) {
  std::vector<TopicPartition> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

void add_owned(const std::set<TopicPartition>& owned, WireRequest::Assignment* out) {
  WireRequest::TopicPartitions* topic = nullptr;
  for (const auto& tp : owned) {
    if (!topic || topic->topic() != tp.topic) {
      topic = out->add_topics();
      topic->set_topic(tp.topic);
    }
    topic->add_partitions(tp.partition);
  }
}

}  // namespace

GroupMembership::GroupMembership(client::NetworkClient& net, const ConsumerConfig& config,
                                 SubscriptionState& subscriptions, OffsetCommits& commits)
    : net_(net),
      config_(config),
      subscriptions_(subscriptions),
      commits_(commits),
      interval_(config.heartbeat_interval_ms) {}

void GroupMembership::subscribe(GroupSubscription subscription, RebalanceListener* listener, client::SteadyTime now) {
  subscription_ = std::move(subscription);
  listener_ = listener;
  send_subscription_ = true;
  next_heartbeat_ = now;
  next_auto_commit_ = now + milliseconds(config_.auto_commit_interval_ms);
}

void GroupMembership::on_poll(client::SteadyTime now) {
  if (last_poll_ && now - *last_poll_ > milliseconds(config_.max_poll_interval_ms) && epoch_ > 0) {
    send_leave();
    lose();
  }
  last_poll_ = now;
}

client::SteadyTime GroupMembership::next_deadline() const {
  return config_.enable_auto_commit ? std::min(next_heartbeat_, next_auto_commit_) : next_heartbeat_;
}

void GroupMembership::heartbeat_requested(client::SteadyTime now) {
  if (active() && epoch_ > 0 && !backing_off_) next_heartbeat_ = std::min(next_heartbeat_, now);
}

std::optional<client::CommitMember> GroupMembership::fetch_watch() const {
  if (!active() || epoch_ <= 0 || backing_off_) return std::nullopt;
  return client::CommitMember{member_id_, epoch_};
}

Status GroupMembership::maintain(client::SteadyTime now) {
  if (!active()) return {};
  if (config_.enable_auto_commit && now >= next_auto_commit_) {
    next_auto_commit_ = now + milliseconds(config_.auto_commit_interval_ms);
    commit_owned({owned_.begin(), owned_.end()});
  }
  // A heartbeat that changed the assignment is followed at once by one reporting it.
  for (int round = 0; round < 3 && now >= next_heartbeat_; ++round) {
    if (auto s = heartbeat(now); !s) return s;
  }
  return {};
}

Status GroupMembership::heartbeat(client::SteadyTime now) {
  WireRequest req;
  req.set_group_id(config_.group_id);
  req.set_member_id(member_id_);
  req.set_member_epoch(epoch_);
  if (!config_.group_instance_id.empty()) req.set_instance_id(config_.group_instance_id);
  req.set_rebalance_timeout_ms(send_subscription_ ? config_.max_poll_interval_ms : -1);
  if (send_subscription_) {
    auto* topics = req.mutable_subscribed_topics();
    for (const auto& t : subscription_->topics) topics->add_names(t);
    req.set_subscribed_topic_regex(subscription_->regex);
    req.set_session_timeout_ms(config_.session_timeout_ms);
  }
  add_owned(owned_, req.mutable_owned());
  next_heartbeat_ = now + interval_;
  auto response = net_.request(client::Api::consumer_group_heartbeat, client::serialize_message(req),
                               milliseconds(config_.request_timeout_ms));
  // A broker restarting or unreachable for a while: the member keeps what it owns and
  // tries again soon (Kafka's retry.backoff.ms); its session on the broker decides.
  backing_off_ = false;
  if (!response && client::is_retriable(response.error())) {
    backing_off_ = true;
    next_heartbeat_ = now + milliseconds(config_.retry_backoff_ms);
    return {};
  }
  if (!response) return tl::unexpected(response.error());
  wire::ConsumerGroupHeartbeatResponse body;
  if (auto s = client::parse_body(response->body(), body, "ConsumerGroupHeartbeatResponse"); !s) return s;
  const auto code = body.error().code();
  if (code == wire::FENCED_INSTANCE_ID) {
    // Another process joined with this instance id and holds its partitions now. Rejoining
    // would take them back and fence that one in turn: the membership ends here, as Kafka's
    // FencedInstanceIdException; the application decides (usually a duplicate deployment).
    lose();
    end_subscription();
    return tl::unexpected(client::wire_error(code, body.error().message()));
  }
  if (code == wire::UNKNOWN_MEMBER_ID || code == wire::FENCED_MEMBER_EPOCH) {
    lose();
    next_heartbeat_ = now;
    return {};
  }
  if (client::is_retriable(static_cast<client::ErrorCode>(code))) {
    backing_off_ = true;
    next_heartbeat_ = now + milliseconds(config_.retry_backoff_ms);
    return {};
  }
  if (code == wire::UNRELEASED_INSTANCE_ID) {
    // A restarted static member whose previous instance died without leaving: it gets
    // in once that instance's session ends (KIP-848). Asked again every interval.
    log::warn(
        "consumer", "instance_id_in_use",
        {{"group", config_.group_id}, {"instance_id", config_.group_instance_id}, {"error", body.error().message()}});
    next_heartbeat_ = now + interval_;
    return {};
  }
  if (code != wire::NONE) return tl::unexpected(client::wire_error(code, body.error().message()));
  send_subscription_ = false;
  member_id_ = body.member_id();
  epoch_ = body.member_epoch();
  if (body.heartbeat_interval_ms() > 0) {
    interval_ = milliseconds(body.heartbeat_interval_ms());
    next_heartbeat_ = now + interval_;
  }
  commits_.set_member({member_id_, epoch_});
  if (body.has_assignment()) {
    std::set<TopicPartition> target;
    for (const auto& t : body.assignment().topics()) {
      for (int32_t p : t.partitions()) target.insert(TopicPartition{t.topic(), p});
    }
    reconcile(target, now);
  }
  return {};
}

void GroupMembership::reconcile(const std::set<TopicPartition>& target, client::SteadyTime now) {
  const std::vector<TopicPartition> revoked = minus(owned_, target);
  const std::vector<TopicPartition> added = minus(target, owned_);
  if (!revoked.empty()) {
    commit_owned(revoked);
    if (listener_) listener_->on_partitions_revoked(revoked);
    for (const auto& tp : revoked) owned_.erase(tp);
    subscriptions_.assign({owned_.begin(), owned_.end()});
  }
  if (!added.empty()) {
    owned_.insert(added.begin(), added.end());
    subscriptions_.assign({owned_.begin(), owned_.end()});
    if (listener_) listener_->on_partitions_assigned(added);
  }
  if (!revoked.empty() || !added.empty()) next_heartbeat_ = now;  // report what is owned now
}

void GroupMembership::lose() {
  std::vector<TopicPartition> lost(owned_.begin(), owned_.end());
  owned_.clear();
  subscriptions_.assign({});
  member_id_.clear();
  epoch_ = 0;
  send_subscription_ = true;
  commits_.set_member({});
  if (listener_ && !lost.empty()) listener_->on_partitions_lost(lost);
}

void GroupMembership::commit_owned(const std::vector<TopicPartition>& partitions) {
  if (!config_.enable_auto_commit || epoch_ <= 0) return;
  std::map<TopicPartition, OffsetAndMetadata> offsets;
  for (const auto& tp : partitions) {
    const auto* state = subscriptions_.find(tp);
    if (state && state->position) offsets[tp] = OffsetAndMetadata{*state->position, ""};
  }
  // Best effort, as Kafka's auto-commit: a failed commit is retried by the next one,
  // and a revoked partition's new owner then starts at the previous commit.
  (void)commits_.commit(offsets);
}

void GroupMembership::send_leave() {
  WireRequest req;
  req.set_group_id(config_.group_id);
  req.set_member_id(member_id_);
  req.set_member_epoch(config_.group_instance_id.empty() ? -1 : -2);
  (void)net_.request(client::Api::consumer_group_heartbeat, client::serialize_message(req),
                     milliseconds(config_.request_timeout_ms));
}

void GroupMembership::leave() {
  if (!active()) return;
  if (epoch_ > 0) {
    std::vector<TopicPartition> owned(owned_.begin(), owned_.end());
    commit_owned(owned);
    if (listener_ && !owned.empty()) listener_->on_partitions_revoked(owned);
    send_leave();
  }
  owned_.clear();
  subscriptions_.assign({});
  member_id_.clear();
  epoch_ = 0;
  commits_.set_member({});
  end_subscription();
}

void GroupMembership::end_subscription() {
  subscription_.reset();
  listener_ = nullptr;
  last_poll_.reset();
}

}  // namespace sluice::consumer
