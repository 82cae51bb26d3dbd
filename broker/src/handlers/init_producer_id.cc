#include "../producer_id_allocator.h"
#include "../request_context.h"
#include "../wire_errors.h"

namespace sluice::broker {

asio::awaitable<Response> handle_init_producer_id(BrokerState& state, Request request) {
  wire::InitProducerIdRequest req;
  if (!wire::parse_message(request.body, req)) co_return Response{nullptr};
  auto body = std::make_unique<wire::InitProducerIdResponse>();
  body->set_producer_id(-1);
  body->set_producer_epoch(-1);
  Response response;
  if (!req.transactional_id().empty()) {
    set_error(body->mutable_error(), wire::UNSUPPORTED_VERSION,
              "transactional producers are not supported yet; leave transactional_id empty");
    response.error = true;
  } else if (auto id = state.producer_ids->allocate(); !id) {
    set_error(body->mutable_error(), id.error());
    response.error = true;
  } else {
    // A new id starts at the first epoch; the wire carries both as integers.
    constexpr ProducerEpoch kFirstEpoch{0};
    body->set_producer_id(id->value());
    body->set_producer_epoch(kFirstEpoch.value());
  }
  response.body = std::move(body);
  co_return response;
}

}  // namespace sluice::broker
