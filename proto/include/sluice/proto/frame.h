// Framing of the native protocol (see proto/sluice.proto for the grammar):
// splitting a frame into header, body and records with bounds checks, and
// building one. Protobuf parsing of header and body is left to the caller.
// Thread-safety: plain functions and value types.
#pragma once

#include <google/protobuf/message_lite.h>

#include <cstdint>
#include <string>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/proto/api_registry.h"

namespace sluice::wire {

inline constexpr size_t kFrameLengthSize = 4;
inline constexpr uint32_t kDefaultMaxFrameBytes = 64u << 20;

// The parts of one frame, pointing into the caller's buffer.
struct FrameView {
  ByteSpan header;
  ByteSpan body;
  ByteSpan records;
};

// Splits the bytes after the length prefix. Errors on sizes that overrun the frame.
Result<FrameView> split_frame(ByteSpan frame);

// Serialises header and body and appends `records` (one or more spans) into `out`,
// length prefix included. `out` is overwritten.
void build_frame(const google::protobuf::MessageLite& header, const google::protobuf::MessageLite& body,
                 std::initializer_list<ByteSpan> records, Bytes& out);

// Writes only the length prefix, header and body of a frame whose `records_size`
// record bytes the caller sends right after (scatter-gather, without copying them).
void build_frame_prefix(const google::protobuf::MessageLite& header, const google::protobuf::MessageLite& body,
                        size_t records_size, Bytes& out);

// Parses a protobuf message from a span; false if the bytes are not a valid message.
bool parse_message(ByteSpan bytes, google::protobuf::MessageLite& message);

}  // namespace sluice::wire
