// What a subscribed consumer tells the application when its partitions change
// (Kafka's ConsumerRebalanceListener). Every call comes from inside poll() (or
// close()/unsubscribe()), on the caller's thread, so a callback may commit or seek.
//   revoked: about to stop reading these; positions are still there (commit now);
//   assigned: now reading these, from the committed offset or auto_offset_reset;
//   lost:     the group took them away already (fenced, unknown member, max poll
//             interval): another member may be reading them, so do not commit.
#pragma once

#include <vector>

#include "sluice/client/types.h"

namespace sluice::consumer {

class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  virtual void on_partitions_revoked(const std::vector<client::TopicPartition>& /*partitions*/) {}
  virtual void on_partitions_assigned(const std::vector<client::TopicPartition>& /*partitions*/) {}
  virtual void on_partitions_lost(const std::vector<client::TopicPartition>& /*partitions*/) {}
};

}  // namespace sluice::consumer
