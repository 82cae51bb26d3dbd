#include "sluice/broker/group_errc.h"

#include "../group/group_coordinator.h"
#include "../group/offset_store.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {
namespace {

// Forgets the group if it has no members, then deletes its metadata and committed offsets.
// REQUIRES: off the I/O thread (waits for the tombstones to be durable).
Status delete_group(BrokerState& state, const std::string& id) {
  if (auto s = check_group_request(state, id); !s) return s;
  auto known = state.groups->forget_empty(id);
  if (!known) return tl::unexpected(known.error());
  // Else the group's last snapshot would bring it back, empty, at the next start.
  if (*known) {
    if (auto s = state.offsets->delete_group_metadata(id); !s) return s;
  }
  auto deleted = state.offsets->delete_group(id);
  if (!deleted) return tl::unexpected(deleted.error());
  if (!*known && *deleted == 0) return make_error(GroupErrc::group_id_not_found, "group " + id + " does not exist");
  return {};
}

}  // namespace

asio::awaitable<Response> handle_delete_groups(BrokerState& state, Request request) {
  wire::DeleteGroupsRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::DeleteGroupsResponse>();
  std::vector<Status> results;
  co_await run_on(state.storage_pool.get_executor(), [&] {
    for (const std::string& id : req.group_ids()) results.push_back(delete_group(state, id));
    return Response{};
  });
  Response response;
  for (int i = 0; i < req.group_ids_size(); ++i) {
    auto* out = body->add_results();
    out->set_group_id(req.group_ids(i));
    if (!results[static_cast<size_t>(i)]) {
      set_error(out->mutable_error(), results[static_cast<size_t>(i)].error());
      response.error = true;
    }
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
