#include "../group/offset_store.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {

namespace {
void set_committed(wire::OffsetFetchResponse::PartitionOffset* out, const group::CommittedOffset& committed) {
  out->set_offset(committed.offset);
  out->set_metadata(committed.metadata);
  out->set_commit_timestamp_ms(committed.commit_timestamp_ms);
}
}  // namespace

asio::awaitable<Response> handle_offset_fetch(BrokerState& state, Request request) {
  wire::OffsetFetchRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::OffsetFetchResponse>();
  Response response;
  if (auto s = check_group_request(state, req.group_id()); !s) {
    set_error(body->mutable_error(), s.error());
    response.error = true;
    response.body = std::move(body);
    co_return response;
  }
  if (req.partitions().empty()) {
    for (const group::TopicPartitionOffset& tp : state.offsets->fetch_all(req.group_id())) {
      auto* out = body->add_results();
      out->set_topic(tp.topic);
      out->set_partition(tp.partition);
      set_committed(out, tp.committed);
    }
  }
  for (const auto& p : req.partitions()) {
    auto* out = body->add_results();
    out->set_topic(p.topic());
    out->set_partition(p.partition());
    set_committed(out, state.offsets->fetch(req.group_id(), p.topic(), p.partition()));
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
