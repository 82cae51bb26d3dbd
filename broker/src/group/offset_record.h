// The records of __consumer_offsets (storage/FORMAT.md): what a committed offset
// is on disk, independent of the wire messages.
//
//   key   := type:uint8 message     type 1: OffsetCommitKey (internal_state.proto)
//   value := OffsetCommitValue | null (a tombstone: the offset is deleted)
//
// Type 2 is group metadata (group_record.h).
// Thread-safety: plain functions.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"

namespace sluice::broker::group {

inline constexpr uint8_t kOffsetCommitRecord = 1;
inline constexpr uint8_t kGroupMetadataRecord = 2;  // group_record.h

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const OffsetKey&) const = default;
};

struct CommittedOffset {
  int64_t offset = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = -1;
};

// A decoded record: the key, and the value unless it is a tombstone.
struct OffsetRecord {
  OffsetKey key;
  std::optional<CommittedOffset> value;
};

Bytes encode_offset_key(const OffsetKey& key);
Bytes encode_offset_value(const CommittedOffset& value);
// corrupt_data for a key or value that does not decode, unsupported for a record
// type other than an offset commit (group metadata, or a type of a newer broker).
Result<OffsetRecord> decode_offset_record(std::optional<ByteSpan> key, std::optional<ByteSpan> value);

}  // namespace sluice::broker::group
