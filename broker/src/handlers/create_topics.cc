#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {
namespace {

Response create_topics(BrokerState& state, Request request) {
  wire::CreateTopicsRequest req;
  if (!wire::parse_message(request.body, req)) return Response{nullptr};
  auto body = std::make_unique<wire::CreateTopicsResponse>();
  bool any_error = false;
  for (const auto& t : req.topics()) {
    std::map<std::string, std::string> overrides(t.configs().begin(), t.configs().end());
    Status status;
    if (auto s = validate_topic_name(t.name()); !s) {
      status = s;
    } else if (is_internal_topic(t.name())) {
      status = tl::unexpected(internal_topic_refused(t.name()));
    } else if (t.partitions() <= 0) {
      status = make_error(BrokerErrc::invalid_partitions,
                          "partitions must be at least 1, got " + std::to_string(t.partitions()));
    } else if (auto c = apply_topic_config(state.config.topic_defaults, overrides); !c) {
      status = tl::unexpected(c.error());
    } else if (auto created = state.topics->create(t.name(), t.partitions(), overrides); !created) {
      status = tl::unexpected(created.error());
    }
    any_error |= add_topic_result(*body, t.name(), status);
  }
  Response response{std::move(body)};
  response.error = any_error;
  return response;
}

Response delete_topics(BrokerState& state, Request request) {
  wire::DeleteTopicsRequest req;
  if (!wire::parse_message(request.body, req)) return Response{nullptr};
  auto body = std::make_unique<wire::DeleteTopicsResponse>();
  bool any_error = false;
  for (const auto& name : req.names()) {
    const Status status =
        is_internal_topic(name) ? tl::unexpected(internal_topic_refused(name)) : state.topics->remove(name);
    any_error |= add_topic_result(*body, name, status);
  }
  Response response{std::move(body)};
  response.error = any_error;
  return response;
}

}  // namespace

// File system work that can take seconds for many partitions: on the admin
// strand, never on the I/O thread, one at a time.
asio::awaitable<Response> handle_create_topics(BrokerState& state, Request request) {
  co_return co_await run_on(state.admin, [&] { return create_topics(state, request); });
}

asio::awaitable<Response> handle_delete_topics(BrokerState& state, Request request) {
  co_return co_await run_on(state.admin, [&] { return delete_topics(state, request); });
}

}  // namespace sluice::broker
