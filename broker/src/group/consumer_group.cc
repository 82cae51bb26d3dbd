#include "consumer_group.h"

#include <algorithm>
#include <tuple>

#include "sluice/broker/group_errc.h"

#include "member_reconciler.h"
#include "partition_sets.h"

namespace sluice::broker::group {
namespace {

std::string epoch_message(const Member& member, int32_t received) {
  return "member " + member.member_id + " sent epoch " + std::to_string(received) + ", its epoch is " +
         std::to_string(member.member_epoch);
}

}  // namespace

ConsumerGroup::ConsumerGroup(std::string group_id, GroupConfig config, IdGenerator new_member_id)
    : group_id_(std::move(group_id)), config_(config), new_member_id_(std::move(new_member_id)) {}

Result<HeartbeatResponse> ConsumerGroup::heartbeat(const HeartbeatRequest& request, const TopicPartitions& topics,
                                                   Clock::time_point now) {
  // A heartbeat changes the group's fields and at most one member (a static takeover
  // replaces one by another id): comparing those is comparing snapshot()s.
  const auto member_snapshot = [this](const std::string& id) -> std::optional<MemberSnapshot> {
    const auto it = members_.find(id);
    if (it == members_.end()) return std::nullopt;
    return snapshot_of(it->second);
  };
  const auto group_fields = [this] {
    return std::make_tuple(group_epoch_, assignment_epoch_, assignor_name_, members_.size());
  };
  const auto fields_before = group_fields();
  const std::optional<MemberSnapshot> before = member_snapshot(request.member_id);
  Result<HeartbeatResponse> response = apply_heartbeat(request, topics, now);
  if (response && (group_fields() != fields_before || member_snapshot(response->member_id) != before ||
                   response->member_id != request.member_id)) {
    ++persistent_version_;
  }
  return response;
}

Result<HeartbeatResponse> ConsumerGroup::apply_heartbeat(const HeartbeatRequest& request, const TopicPartitions& topics,
                                                         Clock::time_point now) {
  if (request.session_timeout_ms) {
    const std::chrono::milliseconds timeout(*request.session_timeout_ms);
    if (timeout < config_.min_session_timeout || timeout > config_.max_session_timeout) {
      return make_error(
          GroupErrc::invalid_session_timeout,
          "session timeout " + std::to_string(*request.session_timeout_ms) + " ms is outside the broker's bounds [" +
              std::to_string(config_.min_session_timeout.count()) + ", " +
              std::to_string(config_.max_session_timeout.count()) + "] ms (group.min/max.session.timeout.ms)");
    }
  }
  if (request.member_epoch == kLeaveEpoch || request.member_epoch == kStaticLeaveEpoch) return leave(request, now);
  // Everything that can refuse the request is checked before the group changes.
  if (request.server_assignor && find_assignor(*request.server_assignor) == nullptr) {
    return make_error(Errc::unsupported, "unknown server assignor '" + *request.server_assignor + "'");
  }
  std::optional<std::shared_ptr<const std::regex>> pattern;
  if (request.regex && !request.regex->empty()) {
    Result<std::shared_ptr<const std::regex>> compiled = compile_subscription(*request.regex);
    if (!compiled) return tl::unexpected(compiled.error());
    pattern = std::move(*compiled);
  } else if (request.regex) {
    pattern = nullptr;
  }
  const bool joining = request.member_epoch == kJoinEpoch;
  const size_t members_before = members_.size();
  Result<Member*> found = joining ? join(request, now) : find_current(request);
  if (!found) return tl::unexpected(found.error());
  Member& member = **found;
  const bool joined = members_.size() > members_before;
  const bool resend = joining || request.member_epoch != member.member_epoch;

  if (request.rebalance_timeout_ms) member.rebalance_timeout_ms = *request.rebalance_timeout_ms;
  if (!request.client_id.empty()) member.client_id = request.client_id;
  if (!request.host.empty()) member.host = request.host;
  if (request.owned) member.reported_owned = normalized(*request.owned);
  if (request.session_timeout_ms) member.session_timeout_ms = *request.session_timeout_ms;
  member.session_deadline = now + std::chrono::milliseconds(member.session_timeout_ms);
  const bool resubscribed = update_subscription(member, request, std::move(pattern), topics);
  if (request.server_assignor && *request.server_assignor != assignor_name_) {
    assignor_name_ = *request.server_assignor;
    bump();
  }

  if (joined || resubscribed) bump();
  // A subscribed topic created, deleted or grown since the target was computed.
  if (group_epoch_ == assignment_epoch_ && subscribed_metadata(topics) != target_metadata_) bump();
  if (group_epoch_ > assignment_epoch_) refresh_target(topics);
  reconcile_member(member, now);
  return respond(member, resend);
}

Result<HeartbeatResponse> ConsumerGroup::leave(const HeartbeatRequest& request, Clock::time_point now) {
  const auto it = members_.find(request.member_id);
  if (it == members_.end() || it->second.static_left) {
    return make_error(GroupErrc::unknown_member_id, "unknown member " + request.member_id + " left the group");
  }
  Member& member = it->second;
  if (request.member_epoch == kStaticLeaveEpoch && member.instance_id) {
    member.static_left = true;
    member.session_deadline = now + std::chrono::milliseconds(member.session_timeout_ms);
    return HeartbeatResponse{member.member_id, kStaticLeaveEpoch, config_.heartbeat_interval, std::nullopt};
  }
  remove(request.member_id);
  bump();
  return HeartbeatResponse{request.member_id, kLeaveEpoch, config_.heartbeat_interval, std::nullopt};
}

Result<Member*> ConsumerGroup::join(const HeartbeatRequest& request, Clock::time_point now) {
  if (!request.subscribed_topics && !request.regex) {
    return make_error(Errc::invalid_argument, "a member joining group " + group_id_ + " must send a subscription");
  }
  if (request.instance_id) {
    const auto previous = std::find_if(members_.begin(), members_.end(), [&](const auto& entry) {
      return entry.second.instance_id == request.instance_id;
    });
    if (previous != members_.end()) {
      // The restarted instance takes the old member's epoch and partitions: nothing moves.
      // So does one whose previous process died without leaving (KIP-345: a crashed and
      // restarted process is back before its session ends); the member it replaces is
      // fenced by its instance id (find_current), so a live twin cannot take them back.
      Member member = previous->second;
      release(member);
      members_.erase(previous);
      const std::string old_id = member.member_id;
      member.member_id = request.member_id.empty() ? new_member_id_() : request.member_id;
      member.static_left = false;
      member.last_sent.reset();
      member.reported_owned.clear();
      if (auto share = target_.extract(old_id)) {
        share.key() = member.member_id;
        target_.insert(std::move(share));
      }
      claim(member);
      auto [it, inserted] = members_.emplace(member.member_id, std::move(member));
      return &it->second;
    }
  }
  const std::string id = request.member_id.empty() ? new_member_id_() : request.member_id;
  if (members_.count(id)) {  // a known member rejoining with epoch 0 starts over
    remove(id);
    bump();
  }
  Member member;
  member.member_id = id;
  member.instance_id = request.instance_id;
  member.rebalance_timeout_ms = static_cast<int32_t>(config_.default_rebalance_timeout.count());
  member.session_timeout_ms = static_cast<int32_t>(config_.session_timeout.count());
  member.session_deadline = now + config_.session_timeout;
  auto [it, inserted] = members_.emplace(id, std::move(member));
  return &it->second;
}

Result<Member*> ConsumerGroup::find_current(const HeartbeatRequest& request) {
  const auto it = members_.find(request.member_id);
  if (it == members_.end() || it->second.static_left) {
    const auto holder = std::find_if(members_.begin(), members_.end(), [&](const auto& entry) {
      return request.instance_id && entry.second.instance_id == request.instance_id && !entry.second.static_left;
    });
    if (holder != members_.end()) {
      return make_error(GroupErrc::fenced_instance_id,
                        "member " + request.member_id + " of group " + group_id_ + " was replaced by member " +
                            holder->first + ", which joined with the same instance id " + *request.instance_id);
    }
    return make_error(GroupErrc::unknown_member_id, "unknown member " + request.member_id + " in group " + group_id_);
  }
  Member& member = it->second;
  if (request.member_epoch == member.member_epoch) return &member;
  // The previous epoch is a member whose last response was lost; it may not claim more than it was given.
  const TopicAssignment owned = request.owned ? normalized(*request.owned) : member.reported_owned;
  const bool lost_response = request.member_epoch == member.previous_member_epoch &&
                             difference(owned, set_union(member.assigned, member.pending_revocation)).empty();
  if (request.member_epoch < member.member_epoch && lost_response) return &member;
  return make_error(GroupErrc::fenced_member_epoch, epoch_message(member, request.member_epoch));
}

bool ConsumerGroup::update_subscription(Member& member, const HeartbeatRequest& request,
                                        std::optional<std::shared_ptr<const std::regex>> pattern,
                                        const TopicPartitions& topics) {
  if (request.subscribed_topics) {
    member.subscribed_topics = *request.subscribed_topics;
    std::sort(member.subscribed_topics.begin(), member.subscribed_topics.end());
  }
  if (pattern && *request.regex != member.regex) {
    member.compiled = std::move(*pattern);
    member.regex = *request.regex;
  }
  std::vector<std::string> resolved = resolve_subscription(member.subscribed_topics, member.compiled.get(), topics);
  if (resolved == member.resolved_topics) return false;
  count_subscriptions(member, -1);
  member.resolved_topics = std::move(resolved);
  count_subscriptions(member, +1);
  return true;
}

void ConsumerGroup::count_subscriptions(const Member& member, int delta) {
  for (const std::string& topic : member.resolved_topics) {
    const int count = subscribers_[topic] += delta;
    if (count == 0) subscribers_.erase(topic);
  }
}

TopicPartitions ConsumerGroup::subscribed_metadata(const TopicPartitions& topics) const {
  TopicPartitions subscribed;
  for (const auto& [topic, count] : subscribers_) {
    if (const auto it = topics.find(topic); it != topics.end()) subscribed.insert(*it);
  }
  return subscribed;
}

void ConsumerGroup::refresh_target(const TopicPartitions& topics) {
  AssignorInput input;
  input.partitions_per_topic = subscribed_metadata(topics);
  for (const auto& [id, member] : members_) {
    const auto share = target_.find(id);
    input.members.push_back(
        {id, member.instance_id, member.resolved_topics, share == target_.end() ? TopicAssignment{} : share->second});
  }
  target_ = find_assignor(assignor_name_)->assign(input);
  target_metadata_ = std::move(input.partitions_per_topic);
  assignment_epoch_ = group_epoch_;
  ++due_version_;
}

void ConsumerGroup::reconcile_member(Member& member, Clock::time_point now) {
  if (member.state == MemberState::stable && member.member_epoch == assignment_epoch_) return;  // the common case
  static const TopicAssignment kNothing;
  const auto share = target_.find(member.member_id);
  const ReconcileInput input{share == target_.end() ? kNothing : share->second, assignment_epoch_,
                             [&](const std::string& topic, int32_t partition) {
                               const auto holder = holders_.find({topic, partition});
                               return holder != holders_.end() && holder->second != member.member_id;
                             }};
  const bool was_revoking = member.state == MemberState::unrevoked_partitions;
  const TopicAssignment held_before = set_union(member.assigned, member.pending_revocation);
  release(member);
  member = reconcile(std::move(member), input);
  claim(member);
  if (!difference(held_before, set_union(member.assigned, member.pending_revocation)).empty()) ++due_version_;
  if (member.state != MemberState::unrevoked_partitions) {
    member.revocation_deadline.reset();
  } else if (!was_revoking) {
    member.revocation_deadline = now + std::chrono::milliseconds(member.rebalance_timeout_ms);
  }
}

HeartbeatResponse ConsumerGroup::respond(Member& member, bool resend) {
  HeartbeatResponse response{member.member_id, member.member_epoch, config_.heartbeat_interval, std::nullopt};
  if (resend || member.last_sent != member.assigned) {
    response.assignment = member.assigned;
    member.last_sent = member.assigned;
  }
  return response;
}

Status ConsumerGroup::validate_commit(const std::string& member_id, int32_t member_epoch) const {
  if (member_id.empty() && member_epoch < 0 && members_.empty()) return {};
  const auto it = members_.find(member_id);
  if (it == members_.end()) {
    return make_error(GroupErrc::unknown_member_id, "commit from unknown member '" + member_id + "'");
  }
  if (member_epoch > it->second.member_epoch) {
    return make_error(GroupErrc::fenced_member_epoch, epoch_message(it->second, member_epoch));
  }
  if (member_epoch < it->second.member_epoch) {
    return make_error(GroupErrc::stale_member_epoch, epoch_message(it->second, member_epoch));
  }
  return {};
}

std::optional<Clock::time_point> ConsumerGroup::expire(Clock::time_point now) {
  std::vector<std::string> expired;
  std::optional<Clock::time_point> next;
  for (const auto& [id, member] : members_) {
    const bool revocation_late = member.revocation_deadline && *member.revocation_deadline <= now;
    if (member.session_deadline <= now || revocation_late) {
      expired.push_back(id);
      continue;
    }
    next = next ? std::min(*next, member.session_deadline) : member.session_deadline;
    if (member.revocation_deadline) next = std::min(*next, *member.revocation_deadline);
  }
  for (const std::string& id : expired) remove(id);
  if (!expired.empty()) {
    bump();
    ++persistent_version_;
  }
  return next;
}

bool ConsumerGroup::heartbeat_due(const std::string& member_id, int32_t member_epoch) const {
  const auto it = members_.find(member_id);
  if (it == members_.end() || it->second.static_left) return true;
  const Member& member = it->second;
  if (member_epoch != member.member_epoch || group_epoch_ > assignment_epoch_) return true;
  if (member.state == MemberState::unrevoked_partitions) return false;
  if (member.member_epoch != assignment_epoch_) return true;  // a newer target to move to
  if (member.state == MemberState::stable) return false;
  const auto share = target_.find(member_id);
  if (share == target_.end()) return false;
  for (const auto& [topic, partitions] : difference(share->second, member.assigned)) {
    for (const int32_t partition : partitions) {
      if (!holders_.contains({topic, partition})) return true;
    }
  }
  return false;
}

GroupState ConsumerGroup::state() const {
  if (members_.empty()) return GroupState::empty;
  if (group_epoch_ > assignment_epoch_) return GroupState::assigning;
  const bool converged = std::all_of(members_.begin(), members_.end(), [&](const auto& entry) {
    return entry.second.state == MemberState::stable && entry.second.member_epoch == assignment_epoch_;
  });
  return converged ? GroupState::stable : GroupState::reconciling;
}

void ConsumerGroup::remove(const std::string& member_id) {
  const auto it = members_.find(member_id);
  if (it == members_.end()) return;
  if (!it->second.assigned.empty() || !it->second.pending_revocation.empty()) ++due_version_;
  release(it->second);
  count_subscriptions(it->second, -1);
  members_.erase(it);
  target_.erase(member_id);
}

void ConsumerGroup::release(const Member& member) {
  for (const TopicAssignment* set : {&member.assigned, &member.pending_revocation}) {
    for (const auto& [topic, partitions] : *set) {
      for (const int32_t partition : partitions) holders_.erase({topic, partition});
    }
  }
}

void ConsumerGroup::claim(const Member& member) {
  for (const TopicAssignment* set : {&member.assigned, &member.pending_revocation}) {
    for (const auto& [topic, partitions] : *set) {
      for (const int32_t partition : partitions) holders_[{topic, partition}] = member.member_id;
    }
  }
}

MemberSnapshot ConsumerGroup::snapshot_of(const Member& member) {
  return MemberSnapshot{member.member_id,
                        member.instance_id,
                        member.client_id,
                        member.host,
                        member.rebalance_timeout_ms,
                        member.session_timeout_ms,
                        member.subscribed_topics,
                        member.regex,
                        member.member_epoch,
                        member.previous_member_epoch,
                        member.state,
                        member.assigned,
                        member.pending_revocation,
                        member.reported_owned,
                        member.static_left};
}

GroupSnapshot ConsumerGroup::snapshot() const {
  GroupSnapshot out{group_id_, group_epoch_, assignment_epoch_, assignor_name_, target_, target_metadata_, {}};
  out.members.reserve(members_.size());
  for (const auto& [id, member] : members_) out.members.push_back(snapshot_of(member));
  return out;
}

Result<std::unique_ptr<ConsumerGroup>> ConsumerGroup::restore(const GroupSnapshot& snapshot, GroupConfig config,
                                                              IdGenerator new_member_id, const TopicPartitions& topics,
                                                              Clock::time_point now) {
  if (!snapshot.assignor.empty() && find_assignor(snapshot.assignor) == nullptr) {
    return make_error(Errc::unsupported,
                      "group " + snapshot.group_id + " uses unknown assignor '" + snapshot.assignor + "'");
  }
  auto group = std::make_unique<ConsumerGroup>(snapshot.group_id, config, std::move(new_member_id));
  group->group_epoch_ = snapshot.group_epoch;
  group->assignment_epoch_ = snapshot.assignment_epoch;
  if (!snapshot.assignor.empty()) group->assignor_name_ = snapshot.assignor;
  group->target_ = snapshot.target;
  group->target_metadata_ = snapshot.target_metadata;
  for (const MemberSnapshot& saved : snapshot.members) {
    Member member;
    member.member_id = saved.member_id;
    member.instance_id = saved.instance_id;
    member.client_id = saved.client_id;
    member.host = saved.host;
    member.rebalance_timeout_ms = saved.rebalance_timeout_ms;
    member.session_timeout_ms =
        saved.session_timeout_ms > 0 ? saved.session_timeout_ms : static_cast<int32_t>(config.session_timeout.count());
    member.subscribed_topics = saved.subscribed_topics;
    member.regex = saved.regex;
    if (!member.regex.empty()) {
      auto compiled = compile_subscription(member.regex);
      if (!compiled) return tl::unexpected(compiled.error());
      member.compiled = std::move(*compiled);
    }
    member.resolved_topics = resolve_subscription(member.subscribed_topics, member.compiled.get(), topics);
    member.member_epoch = saved.member_epoch;
    member.previous_member_epoch = saved.previous_member_epoch;
    member.state = saved.state;
    member.assigned = saved.assigned;
    member.pending_revocation = saved.pending_revocation;
    member.reported_owned = saved.reported_owned;
    member.static_left = saved.static_left;
    member.session_deadline = now + std::chrono::milliseconds(member.session_timeout_ms);
    if (member.state == MemberState::unrevoked_partitions) {
      member.revocation_deadline = now + std::chrono::milliseconds(member.rebalance_timeout_ms);
    }
    group->count_subscriptions(member, +1);
    group->claim(member);
    group->members_.emplace(member.member_id, std::move(member));
  }
  return group;
}

}  // namespace sluice::broker::group
