#include "../request_context.h"

namespace sluice::broker {
namespace {

struct ApiRange {
  wire::ApiKey api;
  uint32_t min_version;
  uint32_t max_version;
};

constexpr ApiRange kApis[] = {
    {wire::PRODUCE, 0, 0},       {wire::FETCH, 0, 0},
    {wire::LIST_OFFSETS, 0, 0},  {wire::METADATA, 0, 0},
    {wire::CREATE_TOPICS, 0, 0}, {wire::DELETE_TOPICS, 0, 0},
    {wire::API_VERSIONS, 0, 0},  {wire::INIT_PRODUCER_ID, 0, 0},
};

}  // namespace

bool api_supported(wire::ApiKey api, uint32_t version, wire::ErrorCode& error) {
  for (const ApiRange& r : kApis) {
    if (r.api != api) continue;
    if (version < r.min_version || version > r.max_version) {
      error = wire::UNSUPPORTED_VERSION;
      return false;
    }
    return true;
  }
  error = wire::UNSUPPORTED_API;
  return false;
}

Response handle_api_versions(BrokerState&, Request) {
  auto body = std::make_unique<wire::ApiVersionsResponse>();
  for (const ApiRange& r : kApis) {
    auto* v = body->add_apis();
    v->set_api(r.api);
    v->set_min_version(r.min_version);
    v->set_max_version(r.max_version);
  }
  return Response{std::move(body)};
}

}  // namespace sluice::broker
