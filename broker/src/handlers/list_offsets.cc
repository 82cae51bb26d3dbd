#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {
namespace {
constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
}  // namespace

asio::awaitable<Response> handle_list_offsets(BrokerState& state, Request request) {
  wire::ListOffsetsRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::ListOffsetsResponse>();
  bool any_error = false;
  for (const auto& q : req.partitions()) {
    auto* r = body->add_results();
    r->set_topic(q.topic());
    r->set_partition(q.partition());
    r->set_offset(-1);
    r->set_timestamp(-1);
    auto topic = state.topics->find(q.topic());
    if (!topic || q.partition() < 0 || q.partition() >= static_cast<int32_t>(topic->partitions.size())) {
      set_error(r->mutable_error(), Error{BrokerErrc::unknown_topic_or_partition,
                                          "no partition " + q.topic() + "-" + std::to_string(q.partition())});
      any_error = true;
      continue;
    }
    Partition& partition = *topic->partitions[static_cast<size_t>(q.partition())];
    if (q.timestamp() == kLatest) {
      r->set_offset(partition.high_watermark().value());
    } else if (q.timestamp() == kEarliest) {
      r->set_offset(partition.log_start().value());
    } else if (q.timestamp() < 0) {
      set_error(r->mutable_error(), wire::INVALID_REQUEST, "timestamp must be -1, -2 or >= 0");
      any_error = true;
    } else {
      auto hit = partition.log().offset_for_timestamp(q.timestamp());
      if (!hit) {
        set_error(r->mutable_error(), hit.error());
        any_error = true;
      } else if (*hit) {
        r->set_offset((*hit)->offset.value());
        r->set_timestamp((*hit)->timestamp);
      }
    }
  }
  Response response{std::move(body)};
  response.error = any_error;
  co_return response;
}

}  // namespace sluice::broker
