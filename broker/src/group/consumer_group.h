// One consumer group's coordinator state machine (KIP-848): membership, group and
// assignment epochs, the target assignment, per-member reconciliation and liveness.
// Pure: no I/O, no wire types, no clock reads — every call takes `now` (Clock, see
// member.h) and the broker's topics, so the native heartbeat handler and a future
// classic JoinGroup/SyncGroup listener drive the same groups.
// Thread-safety: none; the coordinator serializes calls per group.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/common/error.h"

#include "assignor.h"
#include "group_record.h"
#include "member.h"
#include "subscription.h"

namespace sluice::broker::group {

struct GroupConfig {
  std::chrono::milliseconds session_timeout{45'000};             // as Kafka's group.consumer.session.timeout.ms
  std::chrono::milliseconds heartbeat_interval{5'000};           // dictated to members
  std::chrono::milliseconds default_rebalance_timeout{300'000};  // when a joining member sends none
  // Bounds of a member's own session timeout (group.min/max.session.timeout.ms).
  std::chrono::milliseconds min_session_timeout{6'000};
  std::chrono::milliseconds max_session_timeout{1'800'000};
};

enum class GroupState { empty, assigning, reconciling, stable };

struct HeartbeatRequest {
  std::string member_id;  // "" to join
  int32_t member_epoch = kJoinEpoch;
  std::optional<std::string> instance_id;
  std::optional<int32_t> rebalance_timeout_ms;  // nullopt: unchanged
  std::string client_id;
  std::string host;
  std::optional<std::vector<std::string>> subscribed_topics;  // nullopt: unchanged
  std::optional<std::string> regex;                           // nullopt: unchanged; "": none
  std::optional<TopicAssignment> owned;                       // nullopt: unchanged since the last report
  std::optional<std::string> server_assignor;                 // nullopt: the group's
  std::optional<int32_t> session_timeout_ms;                  // nullopt: unchanged (on join: the group's)
};

struct HeartbeatResponse {
  std::string member_id;
  int32_t member_epoch = kJoinEpoch;
  std::chrono::milliseconds heartbeat_interval{0};
  std::optional<TopicAssignment> assignment;  // what to own now; nullopt: as in the last response
};

class ConsumerGroup {
 public:
  using IdGenerator = std::function<std::string()>;

  ConsumerGroup(std::string group_id, GroupConfig config, IdGenerator new_member_id);

  // Errors: GroupErrc::unknown_member_id, GroupErrc::fenced_member_epoch, Errc::invalid_argument
  // (a join without subscription), GroupErrc::invalid_regular_expression, GroupErrc::fenced_instance_id (a
  // member a newer member with its instance id replaced), Errc::unsupported (unknown assignor),
  // GroupErrc::invalid_session_timeout.
  Result<HeartbeatResponse> heartbeat(const HeartbeatRequest& request, const TopicPartitions& topics,
                                      Clock::time_point now);

  // Whether an offset commit from this member at this epoch is accepted. An empty group also
  // accepts member id "" with a negative epoch (admin tools, classic simple consumers).
  Status validate_commit(const std::string& member_id, int32_t member_epoch) const;

  // Whether a heartbeat from this member (which last heard `member_epoch`) would hand it
  // something or move the group on: the member is unknown or its epoch is not the group's
  // view of it, a new target is to be computed, it has not moved to the newest target, or it
  // waits for a partition nobody holds any more. False for a member told to revoke: its
  // report of the revocation, sent without prompting, is what moves it on.
  bool heartbeat_due(const std::string& member_id, int32_t member_epoch) const;
  // Grows whenever heartbeat_due() may have turned true for some member: a new group epoch,
  // a new target, a partition released. Long polls of members re-check on a change.
  uint64_t due_version() const { return due_version_; }

  // Removes members whose session ended and members still holding revoked partitions past their
  // rebalance timeout. Returns the earliest deadline left, for the caller's one timer.
  std::optional<Clock::time_point> expire(Clock::time_point now);

  const std::string& group_id() const { return group_id_; }
  GroupState state() const;
  int32_t group_epoch() const { return group_epoch_; }
  int32_t assignment_epoch() const { return assignment_epoch_; }
  const std::string& assignor_name() const { return assignor_name_; }
  const TargetAssignment& target() const { return target_; }
  const std::map<std::string, Member>& members() const { return members_; }

  // The group's persistent state (group_record.h): what a restart must keep.
  GroupSnapshot snapshot() const;
  // A group as snapshot() left it, against the broker's topics now: each member's session
  // (and a revocation in progress) restarts at `now`, its next response carries its
  // assignment again. Errc::invalid_argument for a member pattern that does not compile.
  static Result<std::unique_ptr<ConsumerGroup>> restore(const GroupSnapshot& snapshot, GroupConfig config,
                                                        IdGenerator new_member_id, const TopicPartitions& topics,
                                                        Clock::time_point now);
  // Grows whenever heartbeat() or expire() changes what snapshot() returns.
  uint64_t persistent_version() const { return persistent_version_; }

 private:
  using Partition = std::pair<std::string, int32_t>;

  Result<HeartbeatResponse> apply_heartbeat(const HeartbeatRequest& request, const TopicPartitions& topics,
                                            Clock::time_point now);
  static MemberSnapshot snapshot_of(const Member& member);
  Result<Member*> join(const HeartbeatRequest& request, Clock::time_point now);
  Result<Member*> find_current(const HeartbeatRequest& request);
  Result<HeartbeatResponse> leave(const HeartbeatRequest& request, Clock::time_point now);
  // Whether the member's resolved topics changed. `pattern`: the request's regex compiled
  // (nullptr for ""), nullopt when the request left it unchanged.
  bool update_subscription(Member& member, const HeartbeatRequest& request,
                           std::optional<std::shared_ptr<const std::regex>> pattern, const TopicPartitions& topics);
  void refresh_target(const TopicPartitions& topics);
  void reconcile_member(Member& member, Clock::time_point now);
  HeartbeatResponse respond(Member& member, bool resend);
  void remove(const std::string& member_id);
  void bump() {
    ++group_epoch_;
    ++due_version_;
  }
  void count_subscriptions(const Member& member, int delta);
  void release(const Member& member);
  void claim(const Member& member);
  TopicPartitions subscribed_metadata(const TopicPartitions& topics) const;

  std::string group_id_;
  GroupConfig config_;
  IdGenerator new_member_id_;
  int32_t group_epoch_ = 0;
  int32_t assignment_epoch_ = 0;
  std::string assignor_name_{kDefaultAssignor};
  TargetAssignment target_;
  TopicPartitions target_metadata_;  // the subscribed topics' partition counts `target_` was computed with
  std::map<std::string, Member> members_;
  std::map<std::string, int> subscribers_;    // topic -> members whose resolved topics include it
  std::map<Partition, std::string> holders_;  // partition -> the member with it assigned or pending revocation
  uint64_t persistent_version_ = 0;
  uint64_t due_version_ = 0;
};

}  // namespace sluice::broker::group
