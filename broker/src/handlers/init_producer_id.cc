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
    // The transaction coordinator: the id's producer id at its next epoch, durable
    // (an fsync) before the answer, so off the I/O thread.
    constexpr int32_t kDefaultTransactionTimeoutMs = 60'000;
    const int32_t timeout_ms =
        req.transaction_timeout_ms() == 0 ? kDefaultTransactionTimeoutMs : req.transaction_timeout_ms();
    Result<ProducerIdAndEpoch> initialized = ProducerIdAndEpoch{};
    co_await run_on(state.storage_pool.get_executor(), [&] {
      initialized = state.transactions->init_producer_id(req.transactional_id(), timeout_ms);
      return Response{};
    });
    if (!initialized) {
      set_error(body->mutable_error(), initialized.error());
      response.error = true;
    } else {
      body->set_producer_id(initialized->id.value());
      body->set_producer_epoch(initialized->epoch.value());
    }
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
