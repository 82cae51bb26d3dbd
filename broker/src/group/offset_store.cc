#include "offset_store.h"

#include <algorithm>
#include <utility>

#include "sluice/broker/broker_errc.h"
#include "sluice/broker/group_errc.h"
#include "sluice/common/log.h"
#include "sluice/storage/batch_builder.h"
#include "sluice/storage/batch_cursor.h"

namespace sluice::broker::group {
namespace {

// Java's String.hashCode over the UTF-16 code units of the UTF-8 `text` (a byte
// that is not valid UTF-8 counts as one unit of its own value).
int32_t java_string_hash(std::string_view text) {
  uint32_t h = 0;
  auto unit = [&h](uint32_t u) { h = 31 * h + u; };
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<uint8_t>(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > text.size()) {
      unit(c);
      ++i;
      continue;
    }
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(text[i + k]) & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 + (cp >> 10));
      unit(0xDC00 + (cp & 0x3FF));
    } else {
      unit(cp);
    }
    i += len;
  }
  return static_cast<int32_t>(h);
}

}  // namespace

int32_t offsets_partition_for(std::string_view group, int32_t num_partitions) {
  int32_t h = java_string_hash(group);
  int32_t positive = h == INT32_MIN ? 0 : (h < 0 ? -h : h);  // Kafka's Utils.abs
  return positive % num_partitions;
}

Status validate_group_id(std::string_view group) {
  if (group.empty() || group.size() > kMaxGroupIdLength) {
    return make_error(GroupErrc::invalid_group_id,
                      "group id must be 1-255 characters, not " + std::to_string(group.size()));
  }
  return {};
}

OffsetStore::OffsetStore(TopicTable& topics, sluice::Clock& clock, OffsetStoreConfig config)
    : topics_(topics), clock_(clock), config_(config) {}

Status OffsetStore::load() {
  if (auto topic = topics_.find(kOffsetsTopic)) {
    std::lock_guard lock(topic_mu_);
    topic_ = topic;
    writers_.clear();
    for (size_t i = 0; i < topic_->partitions.size(); ++i) writers_.push_back(std::make_unique<std::mutex>());
    for (auto& partition : topic_->partitions) {
      if (auto s = load_partition(*partition); !s) return s;
    }
  }
  loaded_.store(true, std::memory_order_release);
  return {};
}

Result<std::shared_ptr<Topic>> OffsetStore::offsets_topic() {
  std::lock_guard lock(topic_mu_);
  if (topic_) return topic_;
  // Compacted, as Kafka's: the latest commit per (group, topic, partition) stays, and
  // the tombstones of expired or deleted offsets remove their keys (after
  // delete.retention.ms). A topic made by an older broker keeps its policy (delete,
  // no retention) until it is recreated.
  auto topic = topics_.ensure_internal_topic(kOffsetsTopic, config_.num_partitions,
                                             {{"durability", "fsync"},
                                              {"retention.ms", "-1"},
                                              {"cleanup.policy", "compact"},
                                              {"segment.bytes", std::to_string(config_.segment_bytes)}});
  if (!topic) return tl::unexpected(topic.error());
  writers_.clear();
  for (size_t i = 0; i < (*topic)->partitions.size(); ++i) writers_.push_back(std::make_unique<std::mutex>());
  topic_ = *topic;
  return topic_;
}

Status OffsetStore::load_partition(Partition& partition) {
  Bytes scratch;
  std::vector<storage::Record> records;
  Bytes decompressed;
  Offset next = partition.log_start();
  while (next < partition.high_watermark()) {
    auto read =
        partition.read(PartitionReadOptions{.start = next, .mode = storage::PartitionLog::ReadMode::copy}, scratch);
    if (!read) return tl::unexpected(read.error());
    if (read->bytes == 0) break;
    storage::BatchCursor cursor(ByteSpan(scratch.data(), read->bytes));
    while (cursor.frame() == storage::BatchFrame::whole) {
      if (auto s = storage::decode_records(cursor.batch(), records, decompressed); !s) {
        log::warn("group", "offsets_batch_skipped",
                  {{"partition", static_cast<int64_t>(partition.id().value())},
                   {"offset", cursor.header().base_offset.value()},
                   {"error", s.error().to_string()}});
      }
      for (const storage::Record& r : records) {
        if (r.key && !r.key->empty() && static_cast<uint8_t>((*r.key)[0]) == kGroupMetadataRecord) {
          load_group_record(partition, r);
          continue;
        }
        auto record = decode_offset_record(r.key, r.value);
        if (!record) {
          log::warn("group", "offsets_record_skipped",
                    {{"partition", static_cast<int64_t>(partition.id().value())},
                     {"offset", r.offset.value()},
                     {"error", record.error().to_string()}});
          continue;
        }
        apply(*record, r.offset.value());
      }
      records.clear();
      cursor.advance();
    }
    if (read->next_offset <= next) break;
    next = read->next_offset;
  }
  return {};
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
  auto topic = offsets_topic();
  if (!topic) return tl::unexpected(topic.error());
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
  auto index = static_cast<size_t>(offsets_partition_for(group, static_cast<int32_t>((*topic)->partitions.size())));
  Partition& partition = *(*topic)->partitions[index];
  std::optional<Offset> base;
  AppendedRun run;
  {
    std::lock_guard writer(*writers_[index]);
    if (!still_wanted()) return false;
    run = partition.append(MutableByteSpan(*batch), [&base](Offset b) { base = b; });
  }
  if (!run.status) return tl::unexpected(run.status.error());
  if (partition.syncs_before_ack(Acks::all)) {
    if (auto s = partition.wait_durable(*run.next_offset); !s) return tl::unexpected(s.error());
  }
  for (size_t i = 0; i < records.size(); ++i) apply(records[i], base->value() + static_cast<int64_t>(i));
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
  auto topic = offsets_topic();
  if (!topic) return tl::unexpected(topic.error());
  const auto index =
      static_cast<size_t>(offsets_partition_for(group, static_cast<int32_t>((*topic)->partitions.size())));
  Partition& partition = *(*topic)->partitions[index];
  const Bytes key = encode_group_key(group);
  Offset durable_to;
  {
    std::lock_guard writer(*writers_[index]);
    std::optional<Bytes> value;
    if (take(value)) {
      storage::BatchBuilder builder;
      builder.add(clock_.now().value(), ByteSpan(key),
                  value ? std::optional<ByteSpan>(ByteSpan(*value)) : std::optional<ByteSpan>());
      auto batch = builder.build();
      if (!batch) return tl::unexpected(batch.error());
      AppendedRun run = partition.append(MutableByteSpan(*batch), [](Offset) {});
      if (!run.status) return tl::unexpected(run.status.error());
      durable_to = *run.next_offset;
    } else {
      durable_to = partition.high_watermark();
    }
  }
  if (!partition.syncs_before_ack(Acks::all)) return {};
  return partition.wait_durable(durable_to);
}

}  // namespace sluice::broker::group
