// The byte framing shared by the records of __consumer_offsets (storage/FORMAT.md):
// a key is one type byte and a Protobuf message, a value is the message alone.
// Thread-safety: plain functions.
#pragma once

#include <google/protobuf/message_lite.h>

#include <cstdint>
#include <string>

#include "sluice/common/bytes.h"

namespace sluice::broker::group {

// `message` serialized, after the type byte unless `type` is 0 (a value).
inline Bytes serialize_record_part(uint8_t type, const google::protobuf::MessageLite& message) {
  const std::string body = message.SerializeAsString();
  Bytes out;
  out.reserve(body.size() + 1);
  if (type != 0) out.push_back(static_cast<std::byte>(type));
  const auto bytes = as_bytes(body);
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

inline bool parse_record_part(ByteSpan bytes, google::protobuf::MessageLite& message) {
  return message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace sluice::broker::group
