#include <map>

#include "../group/group_coordinator.h"
#include "../group/group_description.h"
#include "../group/offset_store.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {

asio::awaitable<Response> handle_list_groups(BrokerState& state, Request request) {
  wire::ListGroupsRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::ListGroupsResponse>();
  Response response;
  std::vector<group::GroupState> wanted;
  for (const std::string& name : req.states_filter()) {
    auto parsed = group::parse_group_state(name);
    if (!parsed) {
      set_error(body->mutable_error(), wire::INVALID_REQUEST,
                "unknown group state '" + name + "': empty, assigning, reconciling or stable");
      response.error = true;
      response.body = std::move(body);
      co_return response;
    }
    wanted.push_back(*parsed);
  }
  // A group known only by its committed offsets (no member since the broker started) is empty.
  std::map<std::string, std::pair<group::GroupState, int32_t>> groups;
  for (const std::string& id : state.offsets->groups()) groups[id] = {group::GroupState::empty, 0};
  for (const group::GroupDescription& g : state.groups->describe_all()) {
    groups[g.group_id] = {g.state, static_cast<int32_t>(g.members.size())};
  }
  for (const auto& [id, listed] : groups) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), listed.first) == wanted.end()) continue;
    auto* out = body->add_groups();
    out->set_group_id(id);
    out->set_state(std::string(group::group_state_name(listed.first)));
    out->set_protocol_type("consumer");
    out->set_members(listed.second);
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
