// One request and its response on the native protocol, as the network layer
// sees them: the API, the serialised Protobuf body, and raw record batch bytes
// that travel after the body (see proto/sluice.proto for the frame grammar).
// Thread-safety: value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/common/raw_buffer.h"
#include "sluice/proto/api_registry.h"

namespace google::protobuf {
class MessageLite;
}

namespace sluice::client {

// The APIs of the registry (sluice/proto/api_registry.h), with their wire keys.
enum class Api : int32_t {
#define SLUICE_CLIENT_API(id, KEY, Message, key, min_version, max_version) id = (key),
  SLUICE_APIS(SLUICE_CLIENT_API)
#undef SLUICE_CLIENT_API
};
// "Produce"; "Unknown" for a value outside the registry.
std::string_view api_name(Api api);
// The version of `api` this client speaks: the newest in the registry it was built
// with. (Choosing a version by the broker's ApiVersions answer comes with the
// first API that has two versions.)
int32_t api_version(Api api);

// A response frame: the bytes after the length prefix, with the body and
// records located. A request sent without expecting a response (Produce with
// acks=0) completes with an empty Response once its bytes are written.
class Response {
 public:
  Response() = default;
  Response(RawBuffer frame, uint64_t correlation_id, size_t body_offset, size_t body_size, size_t records_offset);

  uint64_t correlation_id() const { return correlation_id_; }
  ByteSpan body() const { return frame_.span().subspan(body_offset_, body_size_); }
  ByteSpan records() const { return frame_.span().subspan(records_offset_); }
  bool empty() const { return frame_.empty(); }

 private:
  RawBuffer frame_;
  uint64_t correlation_id_ = 0;
  size_t body_offset_ = 0;
  size_t body_size_ = 0;
  size_t records_offset_ = 0;
};

// Called exactly once, on the client's io thread.
using ResponseHandler = std::function<void(Result<Response>)>;

struct OutgoingRequest {
  Api api = Api::api_versions;
  Bytes body;                             // the serialised request message
  std::vector<ByteSpan> records;          // written after the body, not copied
  std::shared_ptr<const void> keepalive;  // owns the bytes `records` point into until they are written
  bool expect_response = true;
  std::chrono::milliseconds timeout{30'000};
  ResponseHandler on_done;
};

// Serialises a Protobuf message into bytes.
Bytes serialize_message(const google::protobuf::MessageLite& message);

// Parses a response body; a PROTOCOL_ERROR naming `what` if the bytes are not a valid message.
Status parse_body(ByteSpan body, google::protobuf::MessageLite& message, std::string_view what);

}  // namespace sluice::client
