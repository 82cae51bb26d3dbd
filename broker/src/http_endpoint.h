// A minimal HTTP/1.1 endpoint: GET /metrics (Prometheus text) and GET /healthz.
// One request per connection; anything else gets 404 or 400. A connection that sends
// no complete request within connections.max.idle.ms is closed without a reply.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "request_context.h"

namespace sluice::broker {

asio::awaitable<void> serve_http(BrokerState& state, asio::ip::tcp::socket socket);

}  // namespace sluice::broker
