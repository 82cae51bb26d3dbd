#include "sluice/client/request.h"

#include "sluice/client/client_errors.h"

#include "sluice.pb.h"

namespace sluice::client {

std::string_view api_name(Api api) {
  const wire::ApiSpec* spec = wire::find_api(static_cast<int32_t>(api));
  return spec ? spec->name : "Unknown";
}

int32_t api_version(Api api) {
  const wire::ApiSpec* spec = wire::find_api(static_cast<int32_t>(api));
  return spec ? static_cast<int32_t>(spec->max_version) : 0;
}

Response::Response(RawBuffer frame, uint64_t correlation_id, size_t body_offset, size_t body_size,
                   size_t records_offset)
    : frame_(std::move(frame)),
      correlation_id_(correlation_id),
      body_offset_(body_offset),
      body_size_(body_size),
      records_offset_(records_offset) {}

Bytes serialize_message(const google::protobuf::MessageLite& message) {
  Bytes out(message.ByteSizeLong());
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

Status parse_body(ByteSpan body, google::protobuf::MessageLite& message, std::string_view what) {
  if (!message.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return tl::unexpected(client_error(ErrorCode::protocol_error, "undecodable " + std::string(what) + " body"));
  }
  return {};
}

}  // namespace sluice::client
