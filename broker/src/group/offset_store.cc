#include "offset_store.h"

#include <algorithm>
#include <utility>

#include "sluice/broker/broker_errc.h"
#include "sluice/broker/group_errc.h"
#include "sluice/common/log.h"
#include "sluice/storage/batch_builder.h"

namespace sluice::broker::group {

int32_t offsets_partition_for(std::string_view group, int32_t num_partitions) {
  return InternalLog::partition_for(group, num_partitions);
}

Status validate_group_id(std::string_view group) {
  if (group.empty() || group.size() > kMaxGroupIdLength) {
    return make_error(GroupErrc::invalid_group_id,
                      "group id must be 1-255 characters, not " + std::to_string(group.size()));
  }
  return {};
}

// Compacted, as Kafka's: the latest commit per (group, topic, partition) stays, and
// the tombstones of expired or deleted offsets remove their keys (after
// delete.retention.ms). A topic made by an older broker keeps its policy (delete,
// no retention) until it is recreated.
OffsetStore::OffsetStore(TopicTable& topics, sluice::Clock& clock, OffsetStoreConfig config)
    : topics_(topics),
      clock_(clock),
      config_(config),
      log_(topics, kOffsetsTopic, config.num_partitions,
           {{"durability", "fsync"},
            {"retention.ms", "-1"},
            {"cleanup.policy", "compact"},
            {"segment.bytes", std::to_string(config.segment_bytes)}}) {}

Status OffsetStore::load() {
  if (auto topic = log_.existing()) {
    for (auto& partition : topic->partitions) {
      if (auto s = load_partition(*partition); !s) return s;
    }
  }
  loaded_.store(true, std::memory_order_release);
  return {};
}

Status OffsetStore::load_partition(Partition& partition) {
  const auto id = static_cast<int64_t>(partition.id().value());
  return InternalLog::read_all(
      partition,
      [&](const storage::Record& r) {
        if (r.key && !r.key->empty() && static_cast<uint8_t>((*r.key)[0]) == kGroupMetadataRecord) {
          load_group_record(partition, r);
          return;
        }
        auto record = decode_offset_record(r.key, r.value);
        if (!record) {
          log::warn("group", "offsets_record_skipped",
                    {{"partition", id}, {"offset", r.offset.value()}, {"error", record.error().to_string()}});
          return;
        }
        apply(*record, r.offset.value());
      },
      [&](Offset base, const Error& error) {
        log::warn("group", "offsets_batch_skipped",
                  {{"partition", id}, {"offset", base.value()}, {"error", error.to_string()}});
      });
}

Status OffsetStore::validate(const OffsetCommit& commit) const {
  auto topic = is_internal_topic(commit.topic) ? nullptr : topics_.find(commit.topic);
  if (!topic || commit.partition < 0 || commit.partition >= static_cast<int32_t>(topic->partitions.size())) {
    return make_error(BrokerErrc::unknown_topic_or_partition,
                      "no partition " + commit.topic + "-" + std::to_string(commit.partition));
  }
  if (commit.offset < 0) {
    return make_error(Errc::invalid_argument, "offset " + std::to_string(commit.offset) + " is negative");
  }
  if (commit.metadata.size() > config_.metadata_max_bytes) {
    return make_error(GroupErrc::offset_metadata_too_large, "metadata of " + std::to_string(commit.metadata.size()) +
                                                                " bytes, more than offset.metadata.max.bytes " +
                                                                std::to_string(config_.metadata_max_bytes));
  }
  return {};
}

Status OffsetStore::commit(const std::string& group, std::span<const OffsetCommit> commits) {
  const int64_t now = clock_.now().value();
  std::vector<OffsetRecord> records;
  records.reserve(commits.size());
  for (const OffsetCommit& c : commits) {
    records.push_back({OffsetKey{group, c.topic, c.partition}, CommittedOffset{c.offset, c.metadata, now}});
  }
  bool counted = false;
  auto appended = append(group, records, [&] {
    std::lock_guard lock(mu_);
    ++in_flight_[group];
    counted = true;
    return true;
  });
  if (counted) {
    std::lock_guard lock(mu_);
    if (--in_flight_[group] == 0) in_flight_.erase(group);
  }
  if (!appended) return tl::unexpected(appended.error());
  return {};
}

int64_t OffsetStore::newest_commit_ms(const std::string& group) const {
  int64_t newest = INT64_MIN;
  auto it = groups_.find(group);
  if (it == groups_.end()) return newest;
  for (const auto& [key, entry] : it->second) newest = std::max(newest, entry.committed.commit_timestamp_ms);
  return newest;
}

Result<bool> OffsetStore::append(const std::string& group, std::span<const OffsetRecord> records,
                                 const std::function<bool()>& still_wanted) {
  if (records.empty()) return true;
  if (!loaded()) return make_error(GroupErrc::coordinator_load_in_progress, "offsets are not loaded yet");
  const int64_t now = clock_.now().value();
  storage::BatchBuilder builder;
  std::vector<Bytes> keep;
  keep.reserve(records.size() * 2);
  for (const OffsetRecord& record : records) {
    const Bytes& key = keep.emplace_back(encode_offset_key(record.key));
    std::optional<ByteSpan> value;
    if (record.value) value = keep.emplace_back(encode_offset_value(*record.value));
    builder.add(now, ByteSpan(key), value);
  }
  auto batch = builder.build();
  if (!batch) return tl::unexpected(batch.error());
  auto base = log_.append(
      group,
      [&]() -> Result<std::optional<Bytes>> {
        if (!still_wanted()) return std::optional<Bytes>();
        return std::optional<Bytes>(std::move(*batch));
      },
      /*wait_if_declined=*/false);
  if (!base) return tl::unexpected(base.error());
  if (!*base) return false;
  for (size_t i = 0; i < records.size(); ++i) apply(records[i], (*base)->value() + static_cast<int64_t>(i));
  return true;
}

void OffsetStore::apply(const OffsetRecord& record, int64_t log_offset) {
  std::lock_guard lock(mu_);
  GroupOffsets& offsets = groups_[record.key.group];
  auto key = std::make_pair(record.key.topic, record.key.partition);
  auto it = offsets.find(key);
  if (it != offsets.end() && it->second.log_offset > log_offset) return;
  if (record.value) {
    offsets[key] = Entry{*record.value, log_offset};
  } else if (it != offsets.end()) {
    offsets.erase(it);
  }
  if (offsets.empty()) groups_.erase(record.key.group);
}

std::vector<TopicPartitionOffset> OffsetStore::fetch_all(const std::string& group) const {
  std::vector<TopicPartitionOffset> out;
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return out;
  for (const auto& [key, entry] : it->second) out.push_back({key.first, key.second, entry.committed});
  return out;
}

CommittedOffset OffsetStore::fetch(const std::string& group, const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return {};
  auto entry = it->second.find({topic, partition});
  return entry == it->second.end() ? CommittedOffset{} : entry->second.committed;
}

Result<size_t> OffsetStore::expire() {
  const int64_t cutoff = clock_.now().value() - config_.retention_ms;
  std::map<std::string, std::vector<OffsetRecord>> expired;
  {
    std::lock_guard lock(mu_);
    for (const auto& [group, offsets] : groups_) {
      if (newest_commit_ms(group) >= cutoff) continue;
      auto& tombstones = expired[group];
      for (const auto& [key, entry] : offsets) tombstones.push_back({OffsetKey{group, key.first, key.second}, {}});
    }
  }
  size_t deleted = 0;
  for (const auto& [group, tombstones] : expired) {
    // Checked again under the partition's writer lock: a commit appended since the
    // snapshot (in flight, or applied with a recent timestamp) keeps the group.
    auto appended = append(group, tombstones, [&, &group = group] {
      std::lock_guard lock(mu_);
      return !in_flight_.contains(group) && newest_commit_ms(group) < cutoff;
    });
    if (!appended) return tl::unexpected(appended.error());
    if (!*appended) continue;
    deleted += tombstones.size();
    log::info("group", "offsets_expired", {{"group", group}, {"offsets", static_cast<int64_t>(tombstones.size())}});
  }
  return deleted;
}

std::vector<std::string> OffsetStore::groups() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(groups_.size());
  for (const auto& [group, offsets] : groups_) out.push_back(group);
  return out;
}

Result<size_t> OffsetStore::delete_group(const std::string& group) {
  std::vector<OffsetRecord> tombstones;
  for (const TopicPartitionOffset& tp : fetch_all(group)) tombstones.push_back({{group, tp.topic, tp.partition}, {}});
  auto appended = append(group, tombstones, [] { return true; });
  if (!appended) return tl::unexpected(appended.error());
  if (!tombstones.empty()) {
    log::info("group", "offsets_deleted", {{"group", group}, {"offsets", static_cast<int64_t>(tombstones.size())}});
  }
  return tombstones.size();
}

void OffsetStore::load_group_record(const Partition& partition, const storage::Record& r) {
  auto record = decode_group_record(r.key, r.value);
  if (!record) {
    log::warn("group", "group_record_skipped",
              {{"partition", static_cast<int64_t>(partition.id().value())},
               {"offset", r.offset.value()},
               {"error", record.error().to_string()}});
    return;
  }
  std::lock_guard lock(mu_);
  if (record->snapshot) {
    loaded_groups_[record->group_id] = std::move(*record->snapshot);
  } else {
    loaded_groups_.erase(record->group_id);
  }
}

std::map<std::string, GroupSnapshot> OffsetStore::take_loaded_groups() {
  std::lock_guard lock(mu_);
  return std::exchange(loaded_groups_, {});
}

Status OffsetStore::append_group_metadata(const std::string& group,
                                          const std::function<std::optional<Bytes>()>& latest) {
  return append_group_record(group, [&](std::optional<Bytes>& value) {
    value = latest();
    return value.has_value();
  });
}

Status OffsetStore::delete_group_metadata(const std::string& group) {
  return append_group_record(group, [](std::optional<Bytes>& value) {
    value.reset();
    return true;
  });
}

Status OffsetStore::append_group_record(const std::string& group,
                                        const std::function<bool(std::optional<Bytes>& value)>& take) {
  if (!loaded()) return make_error(GroupErrc::coordinator_load_in_progress, "offsets are not loaded yet");
  const Bytes key = encode_group_key(group);
  auto appended = log_.append(group, [&]() -> Result<std::optional<Bytes>> {
    std::optional<Bytes> value;
    if (!take(value)) return std::optional<Bytes>();
    storage::BatchBuilder builder;
    builder.add(clock_.now().value(), ByteSpan(key), value ? std::optional<ByteSpan>(ByteSpan(*value)) : std::nullopt);
    auto batch = builder.build();
    if (!batch) return tl::unexpected(batch.error());
    return std::optional<Bytes>(std::move(*batch));
  });
  if (!appended) return tl::unexpected(appended.error());
  return {};
}

}  // namespace sluice::broker::group
