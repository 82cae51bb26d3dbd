#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {

asio::awaitable<Response> handle_metadata(BrokerState& state, Request request) {
  wire::MetadataRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::MetadataResponse>();
  body->set_broker_host(state.address.host);
  body->set_broker_port(state.address.port);
  std::vector<std::pair<std::string, std::shared_ptr<Topic>>> wanted;
  if (req.topics().empty()) {
    auto internal = req.include_internal() ? TopicTable::Internal::include : TopicTable::Internal::exclude;
    for (auto& t : state.topics->list(internal)) wanted.emplace_back(t->name, t);
  } else {
    // A topic named is answered, internal or not (auto-creation never makes an internal one).
    for (const auto& name : req.topics()) wanted.emplace_back(name, state.find_or_create(name));
  }
  bool any_error = false;
  for (const auto& [name, topic] : wanted) {
    auto* tm = body->add_topics();
    tm->set_name(name);
    if (!topic) {
      set_error(tm->mutable_error(),
                Error{BrokerErrc::unknown_topic_or_partition, "topic '" + name + "' does not exist"});
      any_error = true;
      continue;
    }
    for (const auto& [k, v] : topic->settings().config.to_map()) (*tm->mutable_configs())[k] = v;
    for (const auto& p : topic->partitions) {
      auto* pm = tm->add_partitions();
      pm->set_partition(p->id().value());
      pm->set_log_start_offset(p->log_start().value());
      pm->set_log_end_offset(p->log().log_end_offset().value());
      if (p->log().compacts()) {
        const storage::CleanableState state = p->log().cleanable_state();
        pm->set_compacts(true);
        pm->set_dirty_ratio(state.dirty_ratio());
        pm->set_last_clean_ms(state.last_clean_ms);
      }
    }
  }
  Response response{std::move(body)};
  response.error = any_error;
  co_return response;
}

}  // namespace sluice::broker
