#include <optional>

#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {
namespace {

Response alter_configs(BrokerState& state, Request request) {
  wire::AlterConfigsRequest req;
  if (!wire::parse_message(request.body, req)) return Response{nullptr};
  auto body = std::make_unique<wire::AlterConfigsResponse>();
  bool any_error = false;
  for (const auto& resource : req.resources()) {
    std::map<std::string, std::optional<std::string>> changes;
    for (const auto& change : resource.changes()) {
      changes[change.name()] = change.has_value() ? std::optional<std::string>(change.value()) : std::nullopt;
    }
    Status status;
    if (is_internal_topic(resource.topic())) {
      status = tl::unexpected(internal_topic_refused(resource.topic()));
    } else {
      status = state.topics->alter_config(resource.topic(), changes);
    }
    any_error |= add_topic_result(*body, resource.topic(), status);
  }
  Response response{std::move(body)};
  response.error = any_error;
  return response;
}

}  // namespace

// Writes topic metadata files: on the admin strand, as creates and deletes.
asio::awaitable<Response> handle_alter_configs(BrokerState& state, Request request) {
  co_return co_await run_on(state.admin, [&] { return alter_configs(state, request); });
}

}  // namespace sluice::broker
