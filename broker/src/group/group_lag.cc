#include "group_lag.h"

#include <algorithm>
#include <map>
#include <utility>

#include "sluice/broker/broker_errc.h"
#include "sluice/storage/batch_cursor.h"
#include "sluice/storage/record_batch.h"

namespace sluice::broker::group {

Result<std::optional<int64_t>> record_timestamp_at(const Partition& partition, Offset offset) {
  const Offset start = std::max(offset, partition.log_start());
  if (start >= partition.high_watermark()) return std::nullopt;
  thread_local Bytes scratch;
  // max_bytes 1: the one batch holding `start`, whole (KIP-74), and nothing after it.
  auto read = partition.read(
      PartitionReadOptions{.start = start, .max_bytes = 1, .mode = storage::PartitionLog::ReadMode::copy}, scratch);
  if (!read) return tl::unexpected(read.error());
  storage::BatchCursor cursor(ByteSpan(scratch.data(), read->bytes));
  if (cursor.frame() != storage::BatchFrame::whole) return std::nullopt;
  std::vector<storage::Record> records;
  Bytes decompressed;
  if (auto s = storage::decode_records(cursor.batch(), records, decompressed); !s) return tl::unexpected(s.error());
  for (const storage::Record& record : records) {
    if (record.offset >= start) return record.timestamp;
  }
  return std::nullopt;
}

namespace {

PartitionLag lag_of(const std::string& topic_name, int32_t partition, const CommittedOffset& committed,
                    const TopicTable& topics, int64_t now_ms) {
  PartitionLag out;
  out.topic = topic_name;
  out.partition = partition;
  out.committed_offset = committed.offset;
  auto topic = topics.find(topic_name);
  if (!topic || partition < 0 || partition >= static_cast<int32_t>(topic->partitions.size())) {
    out.status = make_error(BrokerErrc::unknown_topic_or_partition,
                            "no partition " + topic_name + "-" + std::to_string(partition));
    return out;
  }
  const Partition& p = *topic->partitions[static_cast<size_t>(partition)];
  out.log_end_offset = p.high_watermark().value();
  if (committed.offset < 0) return out;
  out.lag = std::max<int64_t>(out.log_end_offset - committed.offset, 0);
  out.lag_seconds = 0.0;
  if (*out.lag == 0) return out;
  auto timestamp = record_timestamp_at(p, Offset(committed.offset));
  if (!timestamp) {
    out.status = tl::unexpected(timestamp.error());
  } else if (*timestamp) {
    out.lag_seconds = static_cast<double>(std::max<int64_t>(now_ms - **timestamp, 0)) / 1000.0;
  }
  return out;
}

}  // namespace

std::vector<PartitionLag> group_lag(const std::string& group, const std::optional<GroupDescription>& description,
                                    const OffsetStore& offsets, const TopicTable& topics, int64_t now_ms) {
  std::map<std::pair<std::string, int32_t>, CommittedOffset> committed;
  for (TopicPartitionOffset& tp : offsets.fetch_all(group)) {
    committed[{tp.topic, tp.partition}] = std::move(tp.committed);
  }
  std::map<std::pair<std::string, int32_t>, const MemberDescription*> owners;
  if (description) {
    for (const MemberDescription& member : description->members) {
      for (const auto& [topic, partitions] : member.assigned) {
        for (int32_t p : partitions) {
          owners[{topic, p}] = &member;
          committed.try_emplace({topic, p});
        }
      }
    }
  }
  std::vector<PartitionLag> out;
  out.reserve(committed.size());
  for (const auto& [key, offset] : committed) {
    PartitionLag& lag = out.emplace_back(lag_of(key.first, key.second, offset, topics, now_ms));
    if (auto owner = owners.find(key); owner != owners.end()) {
      lag.member_id = owner->second->member_id;
      lag.client_id = owner->second->client_id;
      lag.host = owner->second->host;
    }
  }
  return out;
}

}  // namespace sluice::broker::group
