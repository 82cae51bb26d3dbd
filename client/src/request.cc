#include "sluice/client/request.h"

#include "sluice/client/client_errors.h"

#include "sluice.pb.h"

namespace sluice::client {

static_assert(static_cast<int>(Api::produce) == wire::PRODUCE);
static_assert(static_cast<int>(Api::fetch) == wire::FETCH);
static_assert(static_cast<int>(Api::list_offsets) == wire::LIST_OFFSETS);
static_assert(static_cast<int>(Api::metadata) == wire::METADATA);
static_assert(static_cast<int>(Api::create_topics) == wire::CREATE_TOPICS);
static_assert(static_cast<int>(Api::delete_topics) == wire::DELETE_TOPICS);
static_assert(static_cast<int>(Api::api_versions) == wire::API_VERSIONS);
static_assert(static_cast<int>(Api::init_producer_id) == wire::INIT_PRODUCER_ID);

std::string_view api_name(Api api) {
  switch (api) {
    case Api::produce: return "Produce";
    case Api::fetch: return "Fetch";
    case Api::list_offsets: return "ListOffsets";
    case Api::metadata: return "Metadata";
    case Api::create_topics: return "CreateTopics";
    case Api::delete_topics: return "DeleteTopics";
    case Api::api_versions: return "ApiVersions";
    case Api::init_producer_id: return "InitProducerId";
  }
  return "Unknown";
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
    return tl::unexpected(
        client_error(Errc::corrupt_data, reason::kProtocolError, "undecodable " + std::string(what) + " body"));
  }
  return {};
}

}  // namespace sluice::client
