// The broker's half of the API registry (sluice/proto/api_registry.h): for each
// wire key, the API's spec and its handler, in a table indexed by key, so that a
// request finds its handler without a search.
// Thread-safety: constants only.
#pragma once

#include <cstdint>

#include "request_context.h"

namespace sluice::broker {

using ApiHandler = asio::awaitable<Response> (*)(BrokerState& state, Request request);

struct BrokerApi {
  const wire::ApiSpec* spec = nullptr;  // null: no API has this key
  ApiHandler handler = nullptr;
};

// The API with this key, or null if the registry has none.
const BrokerApi* find_broker_api(int32_t key);

// NONE if the broker serves `version` of `api`, else UNSUPPORTED_VERSION.
inline wire::ErrorCode check_version(const BrokerApi& api, uint32_t version) {
  return version < api.spec->min_version || version > api.spec->max_version ? wire::UNSUPPORTED_VERSION : wire::NONE;
}

}  // namespace sluice::broker
