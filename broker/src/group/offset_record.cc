#include "offset_record.h"

#include "internal_state.pb.h"
#include "record_bytes.h"

namespace sluice::broker::group {

Bytes encode_offset_key(const OffsetKey& key) {
  state::OffsetCommitKey message;
  message.set_group(key.group);
  message.set_topic(key.topic);
  message.set_partition(key.partition);
  return serialize_record_part(kOffsetCommitRecord, message);
}

Bytes encode_offset_value(const CommittedOffset& value) {
  state::OffsetCommitValue message;
  message.set_offset(value.offset);
  message.set_metadata(value.metadata);
  message.set_commit_timestamp_ms(value.commit_timestamp_ms);
  return serialize_record_part(0, message);
}

Result<OffsetRecord> decode_offset_record(std::optional<ByteSpan> key, std::optional<ByteSpan> value) {
  if (!key || key->empty()) return make_error(Errc::corrupt_data, "record without a key");
  auto type = static_cast<uint8_t>((*key)[0]);
  if (type != kOffsetCommitRecord) {
    return make_error(Errc::unsupported, "record type " + std::to_string(type) + " is not an offset commit");
  }
  state::OffsetCommitKey k;
  if (!parse_record_part(key->subspan(1), k))
    return make_error(Errc::corrupt_data, "offset commit key does not decode");
  OffsetRecord record{OffsetKey{k.group(), k.topic(), k.partition()}, std::nullopt};
  if (record.key.group.empty()) return make_error(Errc::corrupt_data, "offset commit key without a group");
  if (value) {
    state::OffsetCommitValue v;
    if (!parse_record_part(*value, v)) return make_error(Errc::corrupt_data, "offset commit value does not decode");
    record.value = CommittedOffset{v.offset(), v.metadata(), v.commit_timestamp_ms()};
  }
  return record;
}

}  // namespace sluice::broker::group
