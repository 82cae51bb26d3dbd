#include <algorithm>

#include "../group/group_coordinator.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {

namespace {

using WireRequest = wire::ConsumerGroupHeartbeatRequest;

group::TopicAssignment from_wire(const WireRequest::Assignment& assignment) {
  group::TopicAssignment out;
  for (const auto& t : assignment.topics()) {
    auto& partitions = out[t.topic()];
    partitions.assign(t.partitions().begin(), t.partitions().end());
    std::sort(partitions.begin(), partitions.end());
    partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  }
  return out;
}

void to_wire(const group::TopicAssignment& assignment, WireRequest::Assignment* out) {
  for (const auto& [topic, partitions] : assignment) {
    auto* t = out->add_topics();
    t->set_topic(topic);
    for (int32_t p : partitions) t->add_partitions(p);
  }
}

group::HeartbeatRequest from_wire(const WireRequest& req, const wire::RequestHeader& header, std::string_view host) {
  group::HeartbeatRequest out;
  out.member_id = req.member_id();
  out.member_epoch = req.member_epoch();
  if (req.has_instance_id()) out.instance_id = req.instance_id();
  if (req.rebalance_timeout_ms() >= 0) out.rebalance_timeout_ms = req.rebalance_timeout_ms();
  out.client_id = header.client_id();
  out.host = host;
  if (req.has_subscribed_topics()) {
    out.subscribed_topics.emplace(req.subscribed_topics().names().begin(), req.subscribed_topics().names().end());
  }
  if (req.has_subscribed_topic_regex()) out.regex = req.subscribed_topic_regex();
  if (req.has_server_assignor()) out.server_assignor = req.server_assignor();
  if (req.has_owned()) out.owned = from_wire(req.owned());
  if (req.has_session_timeout_ms()) out.session_timeout_ms = req.session_timeout_ms();
  return out;
}

}  // namespace

asio::awaitable<Response> handle_consumer_group_heartbeat(BrokerState& state, Request request) {
  WireRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::ConsumerGroupHeartbeatResponse>();
  Response response;
  Result<group::HeartbeatResponse> answer = tl::unexpected(Error{});
  if (auto s = check_group_request(state, req.group_id()); !s) {
    answer = tl::unexpected(s.error());
  } else {
    answer = state.groups->heartbeat(req.group_id(), from_wire(req, request.header, request.client_host));
    // As Kafka's coordinator: a change is answered only once its snapshot is durable.
    if (state.groups->unpersisted(req.group_id())) {
      Status persisted;
      co_await run_on(state.storage_pool.get_executor(), [&] {
        persisted = state.groups->persist(req.group_id());
        return Response{};
      });
      if (!persisted) answer = tl::unexpected(persisted.error());
    }
  }
  if (!answer) {
    set_error(body->mutable_error(), answer.error());
    body->set_member_id(req.member_id());
    body->set_member_epoch(req.member_epoch());
    response.error = true;
  } else {
    body->set_member_id(answer->member_id);
    body->set_member_epoch(answer->member_epoch);
    body->set_heartbeat_interval_ms(static_cast<int32_t>(answer->heartbeat_interval.count()));
    if (answer->assignment) to_wire(*answer->assignment, body->mutable_assignment());
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
