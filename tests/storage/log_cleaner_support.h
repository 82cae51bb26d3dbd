// What the segment cleaner's tests share: a compacted log's config, keyed
// batches, a read of the whole log by key, random fills and the check that only
// each key's latest record is left.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/partition_log.h"

namespace sluice::storage::cleaner_testing {

inline LogConfig compacted_config() {
  LogConfig config;
  config.segment_bytes = 4096;
  config.index_interval_bytes = 256;
  config.durability = Durability::none;
  config.offset_gaps = OffsetGaps::are_legal;
  config.cleanup_policy = CleanupPolicy::compact;
  return config;
}

struct Entry {
  std::string key;
  std::optional<std::string> value;
  int64_t producer_id = -1;
  int32_t sequence = -1;
};

inline Bytes batch_of(const std::vector<Entry>& entries, int64_t timestamp) {
  BatchBuilder builder;
  for (const Entry& e : entries) {
    builder.add(timestamp, as_bytes(e.key), e.value ? std::optional<ByteSpan>(as_bytes(*e.value)) : std::nullopt);
  }
  if (entries.front().producer_id >= 0) builder.set_producer(entries.front().producer_id, 0, entries.front().sequence);
  return std::move(*builder.build());
}

struct Seen {
  int64_t offset;
  std::optional<std::string> value;
};

// Every record in the log, by key, in offset order; checks offsets only increase.
inline std::multimap<std::string, Seen> read_log(PartitionLog& log, int64_t* count = nullptr) {
  std::multimap<std::string, Seen> out;
  Bytes buf;
  Bytes scratch;
  Offset at = log.log_start_offset();
  int64_t last = -1;
  while (at < log.log_end_offset()) {
    auto r = log.read(at, 1 << 20, buf);
    EXPECT_TRUE(r) << r.error().to_string();
    if (!r || r->bytes == 0) break;
    ByteSpan rest(buf.data(), r->bytes);
    while (!rest.empty()) {
      auto header = read_batch_header(rest);
      EXPECT_TRUE(header);
      if (!header) return out;
      std::vector<Record> records;
      EXPECT_TRUE(decode_records(rest.first(header->total_size()), records, scratch));
      for (const Record& rec : records) {
        EXPECT_GT(rec.offset.value(), last);
        last = rec.offset.value();
        out.emplace(
            std::string(as_string_view(*rec.key)),
            Seen{rec.offset.value(),
                 rec.value ? std::optional<std::string>(std::string(as_string_view(*rec.value))) : std::nullopt});
        if (count) ++*count;
      }
      rest = rest.subspan(header->total_size());
    }
    at = r->next_offset;
  }
  return out;
}

// Appends `batches` batches of 8 records over `keys` keys; returns key -> (offset, value) latest.
inline std::map<std::string, Seen> fill(PartitionLog& log, int batches, int keys, int64_t timestamp,
                                        std::mt19937& random, int tombstone_every = 0) {
  std::map<std::string, Seen> latest;
  for (int b = 0; b < batches; ++b) {
    std::vector<Entry> entries;
    for (int r = 0; r < 8; ++r) {
      const int k = std::uniform_int_distribution<int>(0, keys - 1)(random);
      std::optional<std::string> value = "value-" + std::to_string(b) + "-" + std::to_string(r) + std::string(40, 'x');
      if (tombstone_every > 0 && (b * 8 + r) % tombstone_every == 0) value.reset();
      entries.push_back({"key-" + std::to_string(k), value});
    }
    Bytes batch = batch_of(entries, timestamp);
    auto appended = log.append(batch);
    EXPECT_TRUE(appended) << appended.error().to_string();
    for (int r = 0; r < 8; ++r) latest[entries[r].key] = Seen{appended->base_offset.value() + r, entries[r].value};
  }
  return latest;
}

inline void expect_latest_only(PartitionLog& log, const std::map<std::string, Seen>& latest, bool tombstones_kept) {
  auto seen = read_log(log);
  for (const auto& [key, want] : latest) {
    auto [first, last] = seen.equal_range(key);
    if (!want.value && !tombstones_kept) {
      EXPECT_EQ(first, last) << key << ": its tombstone and older values are gone";
      continue;
    }
    ASSERT_NE(first, last) << key;
    // The latest is there, at its offset; anything else for the key is older.
    auto newest = std::prev(last);
    EXPECT_EQ(newest->second.offset, want.offset) << key;
    EXPECT_EQ(newest->second.value, want.value) << key;
  }
  for (const auto& [key, s] : seen) EXPECT_TRUE(latest.contains(key)) << key;
}

}  // namespace sluice::storage::cleaner_testing
