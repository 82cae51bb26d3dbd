#include "sluice/broker/group_errc.h"

#include "../group/offset_store.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {

// A group-level refusal when the request cannot be looked at partition by partition.
Status check_group_request(const BrokerState& state, const std::string& group_id) {
  if (auto s = group::validate_group_id(group_id); !s) return s;
  if (!state.offsets || !state.offsets->loaded()) {
    return make_error(GroupErrc::coordinator_load_in_progress, "the broker is loading committed offsets");
  }
  return {};
}

asio::awaitable<Response> handle_offset_commit(BrokerState& state, Request request) {
  wire::OffsetCommitRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  const SteadyTime started = state.steady_clock->now();
  auto body = std::make_unique<wire::OffsetCommitResponse>();
  Status whole = check_group_request(state, req.group_id());
  if (whole) whole = state.groups->validate_commit(req.group_id(), req.member_id(), req.member_epoch());

  std::vector<group::OffsetCommit> commits;
  std::vector<wire::OffsetCommitResponse::PartitionResult*> committed;
  for (const auto& p : req.partitions()) {
    auto* result = body->add_results();
    result->set_topic(p.topic());
    result->set_partition(p.partition());
    if (!whole) {
      set_error(result->mutable_error(), whole.error());
      continue;
    }
    group::OffsetCommit commit{p.topic(), p.partition(), p.offset(), p.metadata()};
    if (auto s = state.offsets->validate(commit); !s) {
      set_error(result->mutable_error(), s.error());
      continue;
    }
    commits.push_back(std::move(commit));
    committed.push_back(result);
  }
  if (!commits.empty()) {
    Status stored;
    co_await run_on(state.storage_pool.get_executor(), [&] {
      stored = state.offsets->commit(req.group_id(), commits);
      return Response{};
    });
    if (!stored) {
      for (auto* result : committed) set_error(result->mutable_error(), stored.error());
    }
  }
  Response response;
  for (const auto& r : body->results()) {
    if (r.error().code() != wire::NONE) response.error = true;
  }
  response.body = std::move(body);
  state.metrics.offset_commit_done(std::chrono::duration<double>(state.steady_clock->now() - started).count());
  co_return response;
}

}  // namespace sluice::broker
