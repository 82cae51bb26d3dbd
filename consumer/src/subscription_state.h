// What the consumer reads and from where, in Kafka's words (SubscriptionState):
// the assigned partitions, each one's position, a position epoch, and whether
// it is paused. It knows nothing of the network; the fetcher reads it to decide
// what to fetch and moves positions as records are handed out, the consumer
// changes it through assign, seek, pause and resume.
//
// Positions: position(tp) is the offset of the next record poll() returns for
// tp; nullopt means "reset first" (auto_offset_reset, or a seek).
// Epochs: every partition has a position epoch that changes whenever its
// position is set from outside the fetch flow (assign, seek, reset). A fetch
// remembers the epoch it was sent with; a result whose epoch no longer matches
// is stale and dropped (the caller moved the position while it was in flight).
// Moving the position past returned records (advance_position) keeps the epoch.
// Paused: a paused partition keeps its position and buffered records but is not
// fetched, and poll() returns none of its records until it is resumed.
//
// Group membership will replace the assignment through assign(); commits will
// read the positions.
//
// Thread-safety: none; owned by the consumer and used from its caller's thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "sluice/client/types.h"
#include "sluice/common/error.h"

namespace sluice::consumer {

using client::TopicPartition;

class SubscriptionState {
 public:
  struct PartitionState {
    std::optional<int64_t> position;  // next offset poll() returns; nullopt: reset first
    uint64_t epoch = 0;               // changes on every position set from outside the fetch flow
    bool paused = false;
  };

  // Replaces the assignment. Partitions that stay assigned keep their state;
  // new ones start without a position (and a fresh epoch).
  void assign(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> assignment() const;
  bool empty() const { return partitions_.empty(); }
  bool is_assigned(const TopicPartition& tp) const { return partitions_.contains(tp); }

  // Null when tp is not assigned.
  const PartitionState* find(const TopicPartition& tp) const;
  // The state of tp if it is assigned and its epoch is still `epoch`, else null.
  const PartitionState* current(const TopicPartition& tp, uint64_t epoch) const;

  // Sets (or, with nullopt, clears for a reset) the position and starts a new
  // epoch. REQUIRES: tp is assigned.
  void seek(const TopicPartition& tp, std::optional<int64_t> offset);
  // Moves the position forward as records are returned or skipped; keeps the
  // epoch. Ignored if the epoch moved on or tp has no position.
  void advance_position(const TopicPartition& tp, uint64_t epoch, int64_t offset);

  // Errc::invalid_argument naming the first partition that is not assigned.
  Status require_assigned(const std::vector<TopicPartition>& partitions) const;
  // `partitions`, or every assigned partition when it is empty; an error if one is not assigned.
  Result<std::vector<TopicPartition>> assigned_or_all(const std::vector<TopicPartition>& partitions) const;
  // Assigned partitions without a position, in order.
  std::vector<TopicPartition> missing_positions() const;

  // REQUIRES: every partition is assigned (require_assigned).
  void pause(const std::vector<TopicPartition>& partitions);
  void resume(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> paused() const;
  bool is_paused(const TopicPartition& tp) const;

  // In TopicPartition order; stable while the assignment does not change.
  const std::map<TopicPartition, PartitionState>& partitions() const { return partitions_; }

 private:
  std::map<TopicPartition, PartitionState> partitions_;
  uint64_t next_epoch_ = 1;
};

}  // namespace sluice::consumer
