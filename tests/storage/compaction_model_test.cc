// Compaction's record-level rule on random logs, against a model: build the key map
// over the log, rewrite every batch keeping only each key's latest record (and its
// tombstone unless tombstones are being dropped), and read the result back. With fixed
// seeds: each key's latest value is there exactly once, nothing else is, every offset
// is one assigned at append and offsets only increase, every batch keeps its offset
// range and producer fields, and cleaning the cleaned log changes nothing.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/batch_filter.h"
#include "sluice/storage/key_offset_map.h"

#include "record_batch_fixtures.h"

namespace sluice::storage {
namespace {

using testing::read_all;
using testing::str;

struct Log {
  std::vector<Bytes> batches;
  std::map<std::string, std::pair<int64_t, std::optional<std::string>>> latest;  // key -> (offset, value)
  int64_t next_offset = 0;
};

Log random_log(std::mt19937& random) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };
  Log log;
  const int keys = 1 + pick(60);
  for (int b = 0, batches = 1 + pick(40); b < batches; ++b) {
    const bool idempotent = pick(2) == 0;
    BatchBuilder builder(BatchOptions{.compression = pick(2) == 0 ? Compression::none : Compression::zstd});
    const int records = 1 + pick(10);
    for (int r = 0; r < records; ++r) {
      const std::string key = "key-" + std::to_string(pick(keys));
      std::optional<std::string> value;
      if (pick(10) != 0) value = "value-" + std::to_string(log.next_offset) + std::string(pick(50), 'x');
      builder.add(1'000 + log.next_offset, as_bytes(key),
                  value ? std::optional<ByteSpan>(as_bytes(*value)) : std::nullopt);
      log.latest[key] = {log.next_offset, value};
      ++log.next_offset;
    }
    if (idempotent) builder.set_producer(1 + pick(3), 0, static_cast<int32_t>(log.next_offset - records));
    Bytes batch = std::move(*builder.build());
    stamp_base_offset(batch, Offset(log.next_offset - records));
    log.batches.push_back(std::move(batch));
  }
  return log;
}

// One pass of the rule; an emptied batch stays only if a producer's state rides on it.
std::vector<Bytes> clean(const std::vector<Bytes>& batches, bool drop_tombstones) {
  KeyOffsetMap map(1 << 20);
  Bytes scratch;
  for (const Bytes& batch : batches) {
    for (const Record& r : read_all(batch, scratch)) EXPECT_TRUE(map.put(*r.key, r.offset.value()));
  }
  std::vector<Bytes> out;
  for (const Bytes& batch : batches) {
    const BatchHeader before = *read_batch_header(batch);
    auto filtered = filter_batch(batch, [&](const Record& r) {
      if (drop_tombstones && !r.value) return false;
      return map.get(*r.key) == r.offset.value();
    });
    EXPECT_TRUE(filtered) << filtered.error().to_string();
    if (!filtered) return out;
    if (filtered->outcome == FilteredBatch::Outcome::unchanged) {
      out.push_back(batch);
      continue;
    }
    auto after = validate_batch(filtered->bytes, {.check_records = true});
    EXPECT_TRUE(after) << after.error().to_string();
    if (!after) return out;
    EXPECT_EQ(after->base_offset, before.base_offset);
    EXPECT_EQ(after->last_offset_delta, before.last_offset_delta);
    EXPECT_EQ(after->producer_id, before.producer_id);
    EXPECT_EQ(after->base_sequence, before.base_sequence);
    const bool producer_state = before.producer_id != batch_format::kNoProducerId;
    if (filtered->outcome == FilteredBatch::Outcome::emptied && !producer_state) continue;
    out.push_back(std::move(filtered->bytes));
  }
  return out;
}

class CompactionModelTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(CompactionModelTest, TheCleanedLogHoldsExactlyEachKeysLatestRecord) {
  std::mt19937 random(GetParam());
  const Log log = random_log(random);
  for (const bool drop_tombstones : {false, true}) {
    const std::vector<Bytes> cleaned = clean(log.batches, drop_tombstones);
    if (HasFailure()) return;
    std::map<std::string, std::pair<int64_t, std::optional<std::string>>> seen;
    int64_t previous = -1;
    Bytes scratch;
    for (const Bytes& batch : cleaned) {
      for (const Record& r : read_all(batch, scratch)) {
        const int64_t offset = r.offset.value();
        EXPECT_GT(offset, previous) << "offsets only increase";
        EXPECT_LT(offset, log.next_offset) << "an offset assigned at append";
        previous = offset;
        const std::string key = str(*r.key);
        EXPECT_FALSE(seen.contains(key)) << key << " twice";
        seen[key] = {offset, r.value ? std::optional<std::string>(str(*r.value)) : std::nullopt};
      }
    }
    std::map<std::string, std::pair<int64_t, std::optional<std::string>>> expected;
    for (const auto& [key, latest] : log.latest) {
      if (drop_tombstones && !latest.second) continue;
      expected[key] = latest;
    }
    EXPECT_EQ(seen, expected) << "drop_tombstones=" << drop_tombstones;
    EXPECT_EQ(clean(cleaned, drop_tombstones), cleaned) << "a second pass changes nothing";
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, CompactionModelTest, ::testing::Range(1u, 41u));

}  // namespace
}  // namespace sluice::storage
