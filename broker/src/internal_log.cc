#include "internal_log.h"

#include "sluice/storage/batch_cursor.h"

namespace sluice::broker {
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

InternalLog::InternalLog(TopicTable& topics, std::string name, int32_t num_partitions,
                         std::map<std::string, std::string> configs)
    : topics_(topics), name_(std::move(name)), num_partitions_(num_partitions), configs_(std::move(configs)) {}

int32_t InternalLog::partition_for(std::string_view key, int32_t num_partitions) {
  int32_t h = java_string_hash(key);
  int32_t positive = h == INT32_MIN ? 0 : (h < 0 ? -h : h);  // Kafka's Utils.abs
  return positive % num_partitions;
}

void InternalLog::adopt(std::shared_ptr<Topic> topic) {
  writers_.clear();
  for (size_t i = 0; i < topic->partitions.size(); ++i) writers_.push_back(std::make_unique<std::mutex>());
  topic_ = std::move(topic);
}

std::shared_ptr<Topic> InternalLog::existing() {
  std::lock_guard lock(mu_);
  if (!topic_) {
    if (auto topic = topics_.find(name_)) adopt(std::move(topic));
  }
  return topic_;
}

Result<std::shared_ptr<Topic>> InternalLog::topic() {
  std::lock_guard lock(mu_);
  if (topic_) return topic_;
  auto topic = topics_.ensure_internal_topic(name_, num_partitions_, configs_);
  if (!topic) return tl::unexpected(topic.error());
  adopt(std::move(*topic));
  return topic_;
}

Status InternalLog::read_all(Partition& partition, const std::function<void(const storage::Record&)>& each,
                             const std::function<void(Offset, const Error&)>& skipped) {
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
        skipped(cursor.header().base_offset, s.error());
      }
      for (const storage::Record& r : records) each(r);
      records.clear();
      cursor.advance();
    }
    if (read->next_offset <= next) break;
    next = read->next_offset;
  }
  return {};
}

Result<std::optional<Offset>> InternalLog::append(std::string_view key,
                                                  const std::function<Result<std::optional<Bytes>>()>& make,
                                                  bool wait_if_declined) {
  auto topic = this->topic();
  if (!topic) return tl::unexpected(topic.error());
  const auto index = static_cast<size_t>(partition_for(key, static_cast<int32_t>((*topic)->partitions.size())));
  Partition& partition = *(*topic)->partitions[index];
  std::optional<Offset> base;
  Offset durable_to;
  {
    std::lock_guard writer(*writers_[index]);
    auto batch = make();
    if (!batch) return tl::unexpected(batch.error());
    if (*batch) {
      AppendedRun run = partition.append(MutableByteSpan(**batch), [&base](Offset b) { base = b; });
      if (!run.status) return tl::unexpected(run.status.error());
      durable_to = *run.next_offset;
    } else {
      if (!wait_if_declined) return std::optional<Offset>();
      durable_to = partition.high_watermark();
    }
  }
  if (partition.syncs_before_ack(Acks::all)) {
    if (auto s = partition.wait_durable(durable_to); !s) return tl::unexpected(s.error());
  }
  return base;
}

}  // namespace sluice::broker
