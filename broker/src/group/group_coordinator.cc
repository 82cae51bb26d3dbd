#include "group_coordinator.h"

#include <random>

#include <asio/post.hpp>

#include "sluice/broker/group_errc.h"
#include "sluice/common/log.h"

#include "commit_membership.h"

namespace sluice::broker::group {

namespace {

// Random 128-bit ids in hex, as Kafka's Uuid member ids: unique without coordination.
std::string random_member_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = engine();
    for (int i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kHex[bits & 0xF];
  }
  return id;
}

TopicPartitions client_topics(const TopicTable& table) {
  TopicPartitions topics;
  for (const auto& topic : table.list(TopicTable::Internal::exclude)) {
    topics[topic->name] = static_cast<int32_t>(topic->partitions.size());
  }
  return topics;
}

// non_empty_group, saying what `action` needs, unless the group has no members.
Status require_empty(const ConsumerGroup& group, const std::string& action) {
  if (group.members().empty()) return {};
  return make_error(GroupErrc::non_empty_group, "group " + group.group_id() + " has " +
                                                    std::to_string(group.members().size()) + " members: " + action +
                                                    " only when it has none");
}

GroupDescription snapshot(const ConsumerGroup& group, uint64_t rebalances) {
  GroupDescription out{
      group.group_id(), group.state(), group.group_epoch(), group.assignment_epoch(), group.assignor_name(), {},
      rebalances};
  for (const auto& [id, member] : group.members()) {
    auto target = group.target().find(id);
    out.members.push_back({member.member_id, member.instance_id, member.client_id, member.host,
                           member.subscribed_topics, member.regex, member.member_epoch, member.assigned,
                           target == group.target().end() ? TopicAssignment{} : target->second});
  }
  return out;
}

}  // namespace

GroupCoordinator::GroupCoordinator(const asio::any_io_executor& executor, const TopicTable& topics,
                                   const SteadyClock& clock, GroupConfig config)
    : executor_(executor), topics_(topics), clock_(clock), config_(config), timer_(executor) {}

// No lock: nothing else runs by now. The timer's destructor cancels its wait (the
// handler sees operation_aborted and does nothing); the clock subscription must go.
GroupCoordinator::~GroupCoordinator() { unwatch_clock(); }

void GroupCoordinator::unwatch_clock() {
  if (advance_ != 0) clock_.cancel_on_advance(advance_);
  advance_ = 0;
}

Result<HeartbeatResponse> GroupCoordinator::heartbeat(const std::string& group_id, const HeartbeatRequest& request) {
  const TopicPartitions topics = client_topics(topics_);
  std::lock_guard lock(mu_);
  auto& group = groups_[group_id];
  if (!group) group = std::make_unique<ConsumerGroup>(group_id, config_, random_member_id);
  const int32_t assignment_epoch = group->assignment_epoch();
  const uint64_t due_version = group->due_version();
  auto response = group->heartbeat(request, topics, clock_.now());
  if (group->assignment_epoch() != assignment_epoch) ++rebalances_[group_id];
  schedule(group->expire(clock_.now()));
  wake_if_due(*group, due_version);
  return response;
}

bool GroupCoordinator::heartbeat_due(const std::string& group_id, const std::string& member_id,
                                     int32_t member_epoch) const {
  std::lock_guard lock(mu_);
  const auto it = groups_.find(group_id);
  return it == groups_.end() || it->second->heartbeat_due(member_id, member_epoch);
}

uint64_t GroupCoordinator::watch(const std::string& group_id, std::function<void()> wake) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_watch_++;
  watches_[group_id].emplace(id, std::move(wake));
  return id;
}

void GroupCoordinator::unwatch(const std::string& group_id, uint64_t id) {
  std::lock_guard lock(mu_);
  const auto it = watches_.find(group_id);
  if (it == watches_.end()) return;
  it->second.erase(id);
  if (it->second.empty()) watches_.erase(it);
}

void GroupCoordinator::wake_all() {
  std::lock_guard lock(mu_);
  for (const auto& [group_id, watches] : watches_) {
    for (const auto& [id, wake] : watches) wake();
  }
}

void GroupCoordinator::wake_if_due(const ConsumerGroup& group, uint64_t before) {
  if (group.due_version() == before) return;
  const auto it = watches_.find(group.group_id());
  if (it == watches_.end()) return;
  for (const auto& [id, wake] : it->second) wake();
}

void GroupCoordinator::restore(OffsetStore& store, const asio::any_io_executor& storage) {
  const TopicPartitions topics = client_topics(topics_);
  std::lock_guard lock(mu_);
  store_ = &store;
  storage_ = storage;
  const Clock::time_point now = clock_.now();
  for (auto& [id, snapshot] : store.take_loaded_groups()) {
    auto group = ConsumerGroup::restore(snapshot, config_, random_member_id, topics, now);
    if (!group) {
      log::warn("group", "group_not_restored", {{"group", id}, {"error", group.error().to_string()}});
      continue;
    }
    const uint64_t version = (*group)->persistent_version();
    persisted_[id] = Persisted{version, version};
    schedule((*group)->expire(now));
    groups_[id] = std::move(*group);
  }
}

bool GroupCoordinator::unpersisted(const std::string& group_id) const {
  std::lock_guard lock(mu_);
  if (store_ == nullptr) return false;
  const auto it = groups_.find(group_id);
  if (it == groups_.end()) return false;
  const auto done = persisted_.find(group_id);
  return it->second->persistent_version() != (done == persisted_.end() ? 0 : done->second.durable);
}

Status GroupCoordinator::persist(const std::string& group_id) {
  if (store_ == nullptr) return {};
  uint64_t version = 0;
  Status appended = store_->append_group_metadata(group_id, [&]() -> std::optional<Bytes> {
    std::lock_guard lock(mu_);
    const auto it = groups_.find(group_id);
    if (it == groups_.end()) return std::nullopt;
    version = it->second->persistent_version();
    Persisted& done = persisted_[group_id];
    if (done.appended == version) return std::nullopt;
    done.appended = version;
    return encode_group_value(it->second->snapshot());
  });
  std::lock_guard lock(mu_);
  Persisted& done = persisted_[group_id];
  if (!appended) {
    done.appended = done.durable;  // the next heartbeat of the group appends again
    return appended;
  }
  if (done.appended == version) done.durable = version;
  return {};
}

void GroupCoordinator::persist_later(const std::string& group_id) {
  if (!storage_) return;
  asio::post(*storage_, [this, group_id] {
    if (auto s = persist(group_id); !s) {
      log::error("group", "group_persist_failed", {{"group", group_id}, {"error", s.error().to_string()}});
    }
  });
}

Status GroupCoordinator::validate_commit(const std::string& group_id, const std::string& member_id,
                                         int32_t member_epoch) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return check_commit_member(group_id, member_id, member_epoch);
  // A commit from outside the group (an admin's alter offsets) while members consume.
  if (member_id.empty() && member_epoch < 0) {
    if (auto s = require_empty(*it->second, "offsets can be altered"); !s) return s;
  }
  return it->second->validate_commit(member_id, member_epoch);
}

std::vector<GroupDescription> GroupCoordinator::describe_all() const {
  std::lock_guard lock(mu_);
  std::vector<GroupDescription> out;
  out.reserve(groups_.size());
  for (const auto& [id, group] : groups_) {
    auto counted = rebalances_.find(id);
    out.push_back(snapshot(*group, counted == rebalances_.end() ? 0 : counted->second));
  }
  return out;
}

std::optional<GroupDescription> GroupCoordinator::describe(const std::string& group_id) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return std::nullopt;
  auto counted = rebalances_.find(group_id);
  return snapshot(*it->second, counted == rebalances_.end() ? 0 : counted->second);
}

Result<bool> GroupCoordinator::forget_empty(const std::string& group_id) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return false;
  if (auto s = require_empty(*it->second, "it can be deleted"); !s) return tl::unexpected(s.error());
  groups_.erase(it);
  rebalances_.erase(group_id);
  persisted_.erase(group_id);
  return true;
}

void GroupCoordinator::expire_now() {
  std::lock_guard lock(mu_);
  const Clock::time_point now = clock_.now();
  std::optional<Clock::time_point> earliest;
  for (auto& [id, group] : groups_) {
    const uint64_t version = group->persistent_version();
    const uint64_t due_version = group->due_version();
    auto next = group->expire(now);
    if (next && (!earliest || *next < *earliest)) earliest = next;
    if (group->persistent_version() != version) persist_later(id);
    wake_if_due(*group, due_version);
  }
  armed_.reset();
  if (earliest) {
    arm(*earliest);
  } else {
    unwatch_clock();
  }
}

void GroupCoordinator::schedule(std::optional<Clock::time_point> deadline) {
  if (!deadline || (armed_ && *armed_ <= *deadline)) return;
  arm(*deadline);
}

void GroupCoordinator::arm(Clock::time_point deadline) {
  armed_ = deadline;
  // Only while a deadline is armed: a clock moved by other means (tests) wakes the
  // timer so it re-reads now(). The callback only posts, so it never needs mu_.
  if (advance_ == 0) advance_ = clock_.on_advance([this] { asio::post(executor_, [this] { expire_now(); }); });
  // asio timers are not thread-safe: the timer is only touched under mu_.
  timer_.expires_at(timer_expiry(clock_, deadline));
  timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) expire_now();
  });
}

}  // namespace sluice::broker::group
