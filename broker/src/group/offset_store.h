// Committed offsets of consumer groups, kept where Kafka keeps them: as records of
// the internal topic __consumer_offsets (offset_record.h), written through the
// broker's Partition service, with the latest offset of every key in memory.
//
// A group's records all go to one partition of the topic, chosen by a stable hash
// of the group id (partition_for), so they stay in commit order. Appends to one
// partition are serialized here; the durability wait runs outside that lock so
// concurrent commits share one fdatasync. A commit returns only once durable.
//
// Thread-safety: every method is thread-safe. load(), commit() and expire() block
// on storage: REQUIRES they run off the I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sluice/broker/topic_table.h"
#include "sluice/common/clock.h"
#include "sluice/common/error.h"
#include "sluice/storage/record_batch.h"

#include "../internal_log.h"
#include "group_record.h"
#include "offset_record.h"

namespace sluice::broker::group {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";
inline constexpr size_t kMaxGroupIdLength = 255;

struct OffsetStoreConfig {
  int32_t num_partitions = 50;                    // offsets.topic.num.partitions
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // offsets.retention.minutes
  size_t metadata_max_bytes = 4096;               // offset.metadata.max.bytes
  int64_t segment_bytes = 100 << 20;              // offsets.topic.segment.bytes
};

// One partition's commit in a request.
struct OffsetCommit {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string metadata;
};

struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  CommittedOffset committed;
};

// Kafka's choice of partition for a group (InternalLog::partition_for).
int32_t offsets_partition_for(std::string_view group, int32_t num_partitions);

// invalid_group_id unless 1-255 characters.
Status validate_group_id(std::string_view group);

class OffsetStore {
 public:
  // REQUIRES: `topics` and `clock` outlive the store.
  OffsetStore(TopicTable& topics, sluice::Clock& clock, OffsetStoreConfig config);

  // Loads the latest offset of every key from __consumer_offsets, if it exists
  // (tombstones delete; the topic is created by the first commit). A record that
  // does not decode is skipped with a warning naming its partition and offset.
  Status load();
  bool loaded() const { return loaded_.load(std::memory_order_acquire); }

  // unknown_topic_or_partition, invalid_argument (a negative offset) or
  // offset_metadata_too_large: why this one commit cannot be stored.
  Status validate(const OffsetCommit& commit) const;
  // Appends `commits` (each valid) of `group` as one batch and waits until it is durable.
  Status commit(const std::string& group, std::span<const OffsetCommit> commits);

  // The group's committed offsets, by topic and partition.
  std::vector<TopicPartitionOffset> fetch_all(const std::string& group) const;
  // Offset -1 when nothing is committed.
  CommittedOffset fetch(const std::string& group, const std::string& topic, int32_t partition) const;

  // Deletes, with tombstones, every offset of each group whose newest commit is
  // older than the retention on the clock. Returns how many offsets were deleted.
  Result<size_t> expire();

  const OffsetStoreConfig& config() const { return config_; }

  // Every group with at least one committed offset, sorted.
  std::vector<std::string> groups() const;
  // Deletes every committed offset of `group` with tombstones and waits until they are
  // durable. Returns how many offsets were deleted (0: the group had none).
  Result<size_t> delete_group(const std::string& group);
  // The wall clock commit timestamps are taken on (lag in seconds is measured on it too).
  sluice::Clock& clock() const { return clock_; }
  // The latest snapshot of every group that load() found (group_record.h), handed over
  // once: the store keeps no group state of its own.
  std::map<std::string, GroupSnapshot> take_loaded_groups();
  // Appends the group's metadata record whose value `latest` returns, called under the
  // partition's writer lock so records of one group are appended in the order their
  // values were taken; nullopt appends nothing. Either way returns once everything
  // appended to that partition so far is durable. Blocks on storage.
  Status append_group_metadata(const std::string& group, const std::function<std::optional<Bytes>()>& latest);
  // Appends the tombstone of the group's metadata record (the group is deleted) and
  // waits until it is durable. Blocks on storage.
  Status delete_group_metadata(const std::string& group);

 private:
  struct Entry {
    CommittedOffset committed;
    int64_t log_offset = -1;  // of the record that set it: a later record wins, whatever order waits finish in
  };
  using GroupOffsets = std::map<std::pair<std::string, int32_t>, Entry>;

  // Appends one batch of records (value null: tombstone) to the group's partition,
  // then waits for durability. `still_wanted` runs under the partition's writer
  // lock just before the append; false: nothing is appended and this returns false.
  Result<bool> append(const std::string& group, std::span<const OffsetRecord> records,
                      const std::function<bool()>& still_wanted);
  // The group's newest commit timestamp (INT64_MIN without offsets). REQUIRES: mu_ held.
  int64_t newest_commit_ms(const std::string& group) const;
  void apply(const OffsetRecord& record, int64_t log_offset);
  // Under the group's partition writer lock: `take` sets the value to append (nullopt: a
  // tombstone) and returns false to append nothing. Then waits for durability.
  Status append_group_record(const std::string& group, const std::function<bool(std::optional<Bytes>& value)>& take);
  Status load_partition(Partition& partition);
  void load_group_record(const Partition& partition, const storage::Record& record);

  TopicTable& topics_;
  sluice::Clock& clock_;
  const OffsetStoreConfig config_;
  InternalLog log_;  // __consumer_offsets, created with config_.num_partitions by the first append
  std::atomic<bool> loaded_{false};
  mutable std::mutex mu_;
  std::map<std::string, GroupOffsets> groups_;  // under mu_
  // Commits appended or about to be, not yet applied, per group: expiry leaves
  // those groups alone. Under mu_, raised under the partition's writer lock.
  std::map<std::string, int> in_flight_;
  std::map<std::string, GroupSnapshot> loaded_groups_;  // filled by load(), under mu_
};

}  // namespace sluice::broker::group
