// KIP-848's current-assignment builder: moves one member one step towards its share of
// the target assignment without ever letting two members hold the same partition.
// Revocation comes first: a member losing partitions keeps owned ∩ target at its current
// epoch until it reports the lost ones gone; only then does its epoch jump to the
// assignment epoch, with the target partitions no other member still holds. The rest
// follow on later calls, once their previous owners released them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "member.h"

namespace sluice::broker::group {

struct ReconcileInput {
  const TopicAssignment& target;  // the member's share of the target assignment
  int32_t assignment_epoch;       // the epoch `target` was computed at
  // True while a member other than this one has the partition assigned or pending revocation.
  std::function<bool(const std::string& topic, int32_t partition)> held_by_other;
};

// The member's next state; `member.reported_owned` is what it last said it owns.
// Touches only epochs, state, assigned and pending_revocation.
Member reconcile(Member member, const ReconcileInput& input);

}  // namespace sluice::broker::group
