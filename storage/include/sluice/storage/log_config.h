// Per-log settings (a topic's settings, applied to each of its partitions).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::storage {

// When an appended batch is on stable storage.
enum class Durability {
  fsync,     // fdatasync before acknowledging; concurrent appends share one sync (group commit)
  interval,  // fdatasync every flush_interval_ms; an acknowledged batch may be lost on power loss
  none,      // the OS writes back when it likes
};

std::string_view durability_name(Durability d);

// Whether a log may skip offsets. A compacted log does (the cleaner drops batches,
// so a segment can end below its successor's base); in any other log a skipped
// offset is lost data, and recovery and reads report it as damage. Offsets never
// go back in either.
enum class OffsetGaps : bool { are_damage, are_legal };
std::optional<Durability> parse_durability(std::string_view name);

// Kafka's cleanup.policy: what removes old records. A compacting log must be
// opened with OffsetGaps::are_legal.
enum class CleanupPolicy : uint8_t {
  delete_segments,     // "delete": retention removes whole segments by age or size
  compact,             // "compact": keep the latest record per key
  compact_and_delete,  // "compact,delete" (or "delete,compact")
};

std::string_view cleanup_policy_name(CleanupPolicy policy);
std::optional<CleanupPolicy> parse_cleanup_policy(std::string_view name);

// Index positions are 32-bit (as Kafka's), so a segment stays below 4 GiB; Kafka's
// segment.bytes is an int too.
inline constexpr uint64_t kMaxSegmentBytes = uint64_t{1} << 31;
// Every segment keeps its index in memory, one entry (24 bytes with the time
// index) per index_interval_bytes of data: at 256, under 10 % of the data.
inline constexpr uint32_t kMinIndexIntervalBytes = 256;

// Which fields a log takes at runtime (PartitionLog::set_config) is said there.
struct LogConfig {
  uint64_t segment_bytes = 1ull << 30;          // roll when the next batch would pass this
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;  // roll a non-empty segment this old
  uint32_t index_interval_bytes = 4096;
  size_t max_batch_bytes = 1 << 20;  // Kafka's message.max.bytes, plus some headroom
  Durability durability = Durability::fsync;
  OffsetGaps offset_gaps = OffsetGaps::are_damage;  // are_legal once cleanup.policy=compact exists
  CleanupPolicy cleanup_policy = CleanupPolicy::delete_segments;
  int64_t flush_interval_ms = 1000;               // for Durability::interval
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // -1: keep forever
  int64_t retention_bytes = -1;                   // -1: no size limit
  // An idempotent producer idle this long is forgotten (Kafka's producer.id.expiration.ms).
  int64_t producer_id_expiration_ms = 24LL * 3600 * 1000;
  // Compaction (cleanup.policy compact), Kafka's names and defaults:
  int64_t delete_retention_ms = 24LL * 3600 * 1000;  // a tombstone stays this long after it is cleaned
  int64_t min_compaction_lag_ms = 0;                 // a segment whose newest record is younger is not cleaned
  int64_t max_compaction_lag_ms = INT64_MAX;         // dirty data older than this is cleaned whatever the ratio
  double min_cleanable_dirty_ratio = 0.5;            // dirty bytes / cleanable bytes before a log is cleaned
};

inline bool compacts(CleanupPolicy policy) { return policy != CleanupPolicy::delete_segments; }

}  // namespace sluice::storage
