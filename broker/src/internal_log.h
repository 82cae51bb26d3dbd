// One internal topic a broker component keeps its state in, as Kafka keeps group
// offsets in __consumer_offsets and transactions in __transaction_state: created
// on first use with the component's settings, read whole at load, and appended to
// one key's partition at a time. Records of one key all go to one partition
// (partition_for), so they stay in order; appends to a partition are serialized
// here, and the durability wait runs outside that lock so concurrent appends
// share one fdatasync.
// Thread-safety: every method is thread-safe; read_all() and append() block on
// storage: REQUIRES they run off the I/O thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/broker/topic_table.h"
#include "sluice/common/error.h"
#include "sluice/storage/record_batch.h"

namespace sluice::broker {

class InternalLog {
 public:
  // REQUIRES: `topics` outlives the log. `configs` are the topic's settings when
  // this log creates it (a topic that exists keeps its own).
  InternalLog(TopicTable& topics, std::string name, int32_t num_partitions, std::map<std::string, std::string> configs);

  // Kafka's choice of partition for a key: abs(Java String.hashCode(key)) % n.
  static int32_t partition_for(std::string_view key, int32_t num_partitions);

  const std::string& name() const { return name_; }
  // The topic if it exists already (nothing is created); null otherwise.
  std::shared_ptr<Topic> existing();
  // The topic, created on first use.
  Result<std::shared_ptr<Topic>> topic();

  // Calls `each` with every record of `partition`, from its log start to its high
  // watermark. A batch that does not decode is reported to `skipped` (its base
  // offset and why) and the read goes on.
  static Status read_all(Partition& partition, const std::function<void(const storage::Record&)>& each,
                         const std::function<void(Offset, const Error&)>& skipped);

  // With the writer lock of `key`'s partition (partition_for over the topic's
  // partitions, which may differ from num_partitions in a topic made earlier) held, `make` returns the batch to append
  // (nullopt: nothing). Then, unless `make` declined and `wait_if_declined` is
  // false, waits until everything appended to the partition so far is durable.
  // Returns the batch's base offset, or nullopt when nothing was appended.
  Result<std::optional<Offset>> append(std::string_view key, const std::function<Result<std::optional<Bytes>>()>& make,
                                       bool wait_if_declined = true);

 private:
  void adopt(std::shared_ptr<Topic> topic);  // REQUIRES: mu_ held

  TopicTable& topics_;
  const std::string name_;
  const int32_t num_partitions_;
  const std::map<std::string, std::string> configs_;
  std::mutex mu_;
  std::shared_ptr<Topic> topic_;                      // under mu_; null until the topic exists
  std::vector<std::unique_ptr<std::mutex>> writers_;  // one per partition; set with topic_
};

}  // namespace sluice::broker
