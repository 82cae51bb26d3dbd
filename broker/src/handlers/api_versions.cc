#include "../request_context.h"

namespace sluice::broker {

// Every API of the registry with the versions this broker serves.
asio::awaitable<Response> handle_api_versions(BrokerState&, Request) {
  auto body = std::make_unique<wire::ApiVersionsResponse>();
  for (const wire::ApiSpec& spec : wire::kApis) {
    auto* v = body->add_apis();
    v->set_api(spec.key);
    v->set_min_version(spec.min_version);
    v->set_max_version(spec.max_version);
  }
  co_return Response{std::move(body)};
}

}  // namespace sluice::broker
