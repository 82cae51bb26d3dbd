#include "api_dispatch.h"

#include <array>
#include <type_traits>

#include "sluice/proto/api_messages.h"

namespace sluice::broker {
namespace {

// Binding each API of the list to handle_<id> makes a missing handler a link
// error; naming its messages makes a missing one in sluice.proto a compile error.
constexpr std::array<BrokerApi, wire::kApiKeyLimit> kBrokerApis = [] {
  std::array<BrokerApi, wire::kApiKeyLimit> table{};
  for (const wire::ApiSpec& spec : wire::kApis) table[static_cast<size_t>(spec.key)].spec = &spec;
#define SLUICE_BIND_HANDLER(id, KEY, Message, key, min_version, max_version) \
  static_assert(std::is_class_v<wire::ApiMessages<wire::KEY>::Request> &&    \
                std::is_class_v<wire::ApiMessages<wire::KEY>::Response>);    \
  table[static_cast<size_t>(wire::KEY)].handler = &handle_##id;
  SLUICE_APIS(SLUICE_BIND_HANDLER)
#undef SLUICE_BIND_HANDLER
  return table;
}();

}  // namespace

const BrokerApi* find_broker_api(int32_t key) {
  if (key < 0 || key >= wire::kApiKeyLimit) return nullptr;
  const BrokerApi& api = kBrokerApis[static_cast<size_t>(key)];
  return api.spec ? &api : nullptr;
}

}  // namespace sluice::broker
