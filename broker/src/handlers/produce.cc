#include "../append_with_acks.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {

asio::awaitable<Response> handle_produce(BrokerState& state, Request request) {
  wire::ProduceRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::ProduceResponse>();
  Response response;
  response.send = req.acks() != 0;
  std::optional<Acks> acks = parse_acks(req.acks());

  struct Pending {
    wire::ProduceResponse::PartitionResult* result;
    std::shared_ptr<Topic> topic;  // keeps a topic deleted meanwhile alive until the append is done
  };
  std::vector<PartitionWrite> writes;
  std::vector<Pending> pending;
  writes.reserve(static_cast<size_t>(req.partitions_size()));
  pending.reserve(static_cast<size_t>(req.partitions_size()));
  size_t position = 0;
  for (const auto& pd : req.partitions()) {
    auto* result = body->add_results();
    result->set_topic(pd.topic());
    result->set_partition(pd.partition());
    result->set_base_offset(-1);
    if (pd.records_size() > request.records.size() - position) {
      // The body promises more record bytes than the frame carries: the request is malformed.
      co_return Response{nullptr};
    }
    MutableByteSpan records = request.records.subspan(position, pd.records_size());
    position += pd.records_size();
    if (!acks) {
      set_error(result->mutable_error(), wire::INVALID_REQUIRED_ACKS, "acks must be 0, 1 or -1 (all)");
      continue;
    }
    if (is_internal_topic(pd.topic())) {
      set_error(result->mutable_error(), internal_topic_refused(pd.topic()));
      continue;
    }
    auto topic = state.find_or_create(pd.topic());
    if (!topic || pd.partition() < 0 || pd.partition() >= static_cast<int32_t>(topic->partitions.size())) {
      set_error(result->mutable_error(), Error{BrokerErrc::unknown_topic_or_partition,
                                               "no partition " + pd.topic() + "-" + std::to_string(pd.partition())});
      continue;
    }
    if (records.empty()) {
      set_error(result->mutable_error(), wire::CORRUPT_MESSAGE, "no record batch for " + pd.topic());
      continue;
    }
    writes.push_back({topic->partitions[static_cast<size_t>(pd.partition())].get(),
                      records,
                      [result](Offset base) { result->add_batch_base_offsets(base.value()); },
                      {}});
    pending.push_back({result, std::move(topic)});
  }
  if (position != request.records.size()) co_return Response{nullptr};  // trailing bytes nobody claimed

  if (!writes.empty()) {
    AppendContext context{request.appends, state.storage_pool.get_executor(), *state.write_health};
    co_await append_with_acks(context, writes, *acks);
    for (size_t i = 0; i < writes.size(); ++i) {
      const AppendedRun& run = writes[i].result;
      auto* result = pending[i].result;
      if (run.first_base) result->set_base_offset(run.first_base->value());
      if (run.status) {
        result->set_log_start_offset(writes[i].partition->log_start().value());
      } else {
        set_error(result->mutable_error(), run.status.error());
      }
    }
  }
  for (const auto& r : body->results()) {
    if (r.error().code() != wire::NONE) response.error = true;
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
