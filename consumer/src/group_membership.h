// A subscribed consumer's membership in its group (KIP-848's consumer side): it
// heartbeats from poll(), applies the assignment the coordinator sends by revoking
// first (auto-commit, on_partitions_revoked, positions dropped, the smaller owned set
// reported at once) and then taking the new partitions (on_partitions_assigned; their
// positions come from the committed offsets, else auto_offset_reset). An unknown or
// fenced member loses its partitions (on_partitions_lost) and rejoins with epoch 0;
// so does one whose poll() calls were more than max_poll_interval_ms apart. A static
// member replaced by a newer process with its instance id (FENCED_INSTANCE_ID) loses
// its partitions and does not rejoin: poll() reports it once.
// Heartbeats are due every interval the broker dictates, and at once when a fetch says
// the broker has something for this member (fetch_watch(), heartbeat_requested()).
// Thread-safety: none; owned by the consumer and used from its caller's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sluice/client/network_client.h"
#include "sluice/client/steady_clock.h"
#include "sluice/common/error.h"
#include "sluice/consumer/consumer_config.h"
#include "sluice/consumer/rebalance_listener.h"

#include "offset_commits.h"
#include "subscription_state.h"

namespace sluice::consumer {

struct GroupSubscription {
  std::vector<std::string> topics;
  std::string regex;  // an ECMAScript pattern matching whole topic names; empty: none
};

class GroupMembership {
 public:
  // REQUIRES: every reference outlives this.
  GroupMembership(client::NetworkClient& net, const ConsumerConfig& config, SubscriptionState& subscriptions,
                  OffsetCommits& commits);

  // Joins (or changes the subscription on the next heartbeat, due at once).
  // `listener` may be null; it must outlive the membership.
  void subscribe(GroupSubscription subscription, RebalanceListener* listener, client::SteadyTime now);
  bool active() const { return subscription_.has_value(); }

  // At the start of every poll(): a member that did not poll for max_poll_interval_ms
  // leaves and loses its partitions before it rejoins.
  void on_poll(client::SteadyTime now);
  // Heartbeats if one is due and applies the answer; commits if auto-commit is due.
  // Errors: a failed heartbeat request (retried when the next one is due).
  Status maintain(client::SteadyTime now);
  // When maintain() must run next.
  client::SteadyTime next_deadline() const;
  // The broker said a heartbeat now would change the assignment (a fetch answered
  // heartbeat_now): the next maintain() sends one, unless a failed one waits out its backoff.
  void heartbeat_requested(client::SteadyTime now);
  // The member whose fetches watch the group: set while it holds an epoch and is not
  // backing off a failed heartbeat (a watch would answer at once, again and again).
  std::optional<client::CommitMember> fetch_watch() const;

  // Commits (auto-commit), calls on_partitions_revoked and leaves the group at once
  // (epoch -1, -2 for a static member); the membership is inactive afterwards.
  void leave();

 private:
  Status heartbeat(client::SteadyTime now);
  void reconcile(const std::set<TopicPartition>& target, client::SteadyTime now);
  void lose();
  void commit_owned(const std::vector<TopicPartition>& partitions);
  void send_leave();
  // The membership is inactive afterwards: no subscription, no listener.
  void end_subscription();

  client::NetworkClient& net_;
  const ConsumerConfig& config_;
  SubscriptionState& subscriptions_;
  OffsetCommits& commits_;
  std::optional<GroupSubscription> subscription_;
  RebalanceListener* listener_ = nullptr;

  std::string member_id_;
  int32_t epoch_ = 0;
  bool send_subscription_ = true;  // on join and after subscribe(): the next heartbeat carries it
  bool backing_off_ = false;       // the last heartbeat failed for a passing reason
  std::set<TopicPartition> owned_;
  std::chrono::milliseconds interval_;
  client::SteadyTime next_heartbeat_{};
  client::SteadyTime next_auto_commit_{};
  std::optional<client::SteadyTime> last_poll_;
};

}  // namespace sluice::consumer
