// The broker's consumer groups: one ConsumerGroup per group id, created by its first
// heartbeat, every call serialized by one mutex, and one timer set to the earliest
// deadline any group's expire() returned (measured on the broker's steady clock).
// Once restore() ran, membership is durable: a change to a group's persistent state
// is written as a snapshot record to __consumer_offsets (persist()) before the
// heartbeat that made it is answered, and start-up rebuilds the groups from them.
// Thread-safety: every public call is safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include "sluice/broker/topic_table.h"
#include "sluice/common/error.h"
#include "sluice/common/steady_clock.h"

#include "consumer_group.h"
#include "group_description.h"
#include "offset_store.h"

namespace sluice::broker::group {

class GroupCoordinator {
 public:
  GroupCoordinator(const asio::any_io_executor& executor, const TopicTable& topics, const SteadyClock& clock,
                   GroupConfig config);
  // REQUIRES: the executor stopped (the broker destroys it after its io_context ran out).
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // ConsumerGroup::heartbeat against the TopicTable's client topics as they are now.
  Result<HeartbeatResponse> heartbeat(const std::string& group_id, const HeartbeatRequest& request);

  // ConsumerGroup::heartbeat_due; true for a group the coordinator does not hold.
  bool heartbeat_due(const std::string& group_id, const std::string& member_id, int32_t member_epoch) const;
  // Calls `wake` whenever heartbeat_due() may have turned true for a member of the group,
  // until unwatch(id): how a member's long-poll fetch learns that it should heartbeat now
  // rather than at its next interval. `wake` runs under the coordinator's lock: it must
  // only post. Returns the watch's id.
  uint64_t watch(const std::string& group_id, std::function<void()> wake);
  void unwatch(const std::string& group_id, uint64_t id);
  // Calls every watch's `wake` once (the broker is stopping).
  void wake_all();

  // An unknown group accepts only a consumer outside any group (member id "", epoch -1).
  Status validate_commit(const std::string& group_id, const std::string& member_id, int32_t member_epoch) const;

  // A snapshot of every group the coordinator holds, by group id.
  std::vector<GroupDescription> describe_all() const;
  // A snapshot of the group, or nullopt if the coordinator does not hold it.
  std::optional<GroupDescription> describe(const std::string& group_id) const;
  // Forgets a group that has no members: true if it held the group, false if it did not;
  // GroupErrc::non_empty_group (the group unchanged) if it has members.
  Result<bool> forget_empty(const std::string& group_id);
  // Rebuilds every group `store` loaded, each member's session restarting now, and from
  // then on writes snapshots through `store`; expiries are persisted by jobs posted to
  // `storage`. REQUIRES: before the first heartbeat; `store` outlives the coordinator.
  void restore(OffsetStore& store, const asio::any_io_executor& storage);
  // Whether the group's state changed since its last durable snapshot (false before restore()).
  bool unpersisted(const std::string& group_id) const;
  // Makes the group's current state durable: appends its snapshot unless that was
  // appended already, then waits for durability. Blocks on storage: REQUIRES off the I/O thread.
  Status persist(const std::string& group_id);

 private:
  void expire_now();
  // REQUIRES: mu_ held. Wakes the group's watches if its due_version moved past `before`.
  void wake_if_due(const ConsumerGroup& group, uint64_t before);
  // REQUIRES: mu_ held. Sets the timer if `deadline` is earlier than the one it waits for.
  void schedule(std::optional<Clock::time_point> deadline);
  void arm(Clock::time_point deadline);
  void unwatch_clock();

  asio::any_io_executor executor_;
  const TopicTable& topics_;
  const SteadyClock& clock_;
  GroupConfig config_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<ConsumerGroup>> groups_;
  std::map<std::string, uint64_t> rebalances_;  // per group: heartbeats that moved its assignment epoch
  std::map<std::string, std::map<uint64_t, std::function<void()>>> watches_;  // by group id, then watch id
  uint64_t next_watch_ = 1;
  asio::steady_timer timer_;
  std::optional<Clock::time_point> armed_;  // the deadline timer_ waits for
  SteadyClock::Subscription advance_ = 0;   // while armed_

  // Versions (ConsumerGroup::persistent_version) of each group's snapshot appended and made durable.
  struct Persisted {
    uint64_t appended = 0;
    uint64_t durable = 0;
  };
  void persist_later(const std::string& group_id);
  OffsetStore* store_ = nullptr;  // set by restore(); null: nothing is persisted
  std::optional<asio::any_io_executor> storage_;
  std::map<std::string, Persisted> persisted_;  // under mu_
};

}  // namespace sluice::broker::group
