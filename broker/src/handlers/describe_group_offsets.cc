#include "sluice/broker/group_errc.h"

#include "../group/group_coordinator.h"
#include "../group/group_lag.h"
#include "../group/offset_store.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {

asio::awaitable<Response> handle_describe_group_offsets(BrokerState& state, Request request) {
  wire::DescribeGroupOffsetsRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::DescribeGroupOffsetsResponse>();
  Response response;
  Status whole = check_group_request(state, req.group_id());
  std::optional<group::GroupDescription> described;
  if (whole) described = state.groups->describe(req.group_id());
  if (whole && !described && state.offsets->fetch_all(req.group_id()).empty()) {
    whole = make_error(GroupErrc::group_id_not_found, "group " + req.group_id() + " does not exist");
  }
  if (!whole) {
    set_error(body->mutable_error(), whole.error());
    response.error = true;
    response.body = std::move(body);
    co_return response;
  }
  std::vector<group::PartitionLag> lags;
  co_await run_on(state.storage_pool.get_executor(), [&] {
    lags = group::group_lag(req.group_id(), described, *state.offsets, *state.topics,
                            state.offsets->clock().now().value());
    return Response{};
  });
  for (const group::PartitionLag& lag : lags) {
    auto* out = body->add_partitions();
    out->set_topic(lag.topic);
    out->set_partition(lag.partition);
    if (!lag.status) set_error(out->mutable_error(), lag.status.error());
    out->set_committed_offset(lag.committed_offset);
    out->set_log_end_offset(lag.log_end_offset);
    out->set_lag(lag.lag.value_or(-1));
    out->set_lag_seconds(lag.lag_seconds.value_or(-1.0));
    out->set_member_id(lag.member_id);
    out->set_client_id(lag.client_id);
    out->set_host(lag.host);
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
