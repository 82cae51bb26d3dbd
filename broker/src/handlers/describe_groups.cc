#include "sluice/broker/group_errc.h"

#include "../group/group_coordinator.h"
#include "../group/group_description.h"
#include "../group/offset_store.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {
namespace {

void to_wire(const group::TopicAssignment& assignment, wire::ConsumerGroupHeartbeatRequest::Assignment* out) {
  for (const auto& [topic, partitions] : assignment) {
    auto* t = out->add_topics();
    t->set_topic(topic);
    for (int32_t p : partitions) t->add_partitions(p);
  }
}

void describe(const group::GroupDescription& g, wire::DescribeGroupsResponse::DescribedGroup* out) {
  out->set_state(std::string(group::group_state_name(g.state)));
  out->set_group_epoch(g.group_epoch);
  out->set_assignment_epoch(g.assignment_epoch);
  out->set_assignor(g.assignor);
  for (const group::MemberDescription& m : g.members) {
    auto* member = out->add_members();
    member->set_member_id(m.member_id);
    if (m.instance_id) member->set_instance_id(*m.instance_id);
    member->set_client_id(m.client_id);
    member->set_host(m.host);
    for (const std::string& topic : m.subscribed_topics) member->add_subscribed_topic_names(topic);
    member->set_subscribed_topic_regex(m.regex);
    member->set_member_epoch(m.member_epoch);
    to_wire(m.assigned, member->mutable_assignment());
    to_wire(m.target, member->mutable_target_assignment());
  }
}

}  // namespace

// A group the coordinator does not hold but that has committed offsets is described
// as empty, with the default assignor, as after a broker restart.
asio::awaitable<Response> handle_describe_groups(BrokerState& state, Request request) {
  wire::DescribeGroupsRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::DescribeGroupsResponse>();
  Response response;
  for (const std::string& id : req.group_ids()) {
    auto* out = body->add_groups();
    out->set_group_id(id);
    if (auto s = check_group_request(state, id); !s) {
      set_error(out->mutable_error(), s.error());
      response.error = true;
      continue;
    }
    auto described = state.groups->describe(id);
    if (!described && !state.offsets->fetch_all(id).empty()) described = group::GroupDescription{.group_id = id};
    if (!described) {
      set_error(out->mutable_error(), wire::GROUP_ID_NOT_FOUND, "group " + id + " does not exist");
      response.error = true;
      continue;
    }
    if (described->assignor.empty()) described->assignor = group::kDefaultAssignor;
    describe(*described, out);
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
