#include "http_endpoint.h"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "group_metrics.h"

namespace sluice::broker {
namespace {

constexpr size_t kMaxRequestBytes = 8192;

std::string http_response(int status, const char* reason, const std::string& content_type, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// Group lag reads a batch per lagging partition: off the I/O thread.
asio::awaitable<std::string> render_metrics(BrokerState& state) {
  std::string body;
  co_await run_on(state.storage_pool.get_executor(), [&] {
    body = state.metrics.render(*state.topics) + render_group_metrics(state);
    if (state.cleaner) body += render_log_cleaner_metrics(state.cleaner->stats());
    return Response{};
  });
  co_return body;
}

// The response to the request in `request`; null: it could not be read.
asio::awaitable<std::string> reply_to(BrokerState& state, asio::streambuf* request) {
  if (request == nullptr) co_return http_response(400, "Bad Request", "text/plain", "bad request\n");
  std::istream in(request);
  std::string method, path;
  in >> method >> path;
  if (method != "GET") co_return http_response(405, "Method Not Allowed", "text/plain", "only GET\n");
  if (path == "/metrics")
    co_return http_response(200, "OK", "text/plain; version=0.0.4", co_await render_metrics(state));
  if (path == "/healthz") {
    // 503 while writes would fail (reads are still served): a load balancer or
    // an operator should know before a producer does.
    if (auto problem = state.write_health->problem()) {
      co_return http_response(503, "Service Unavailable", "text/plain", "not writable: " + *problem + "\n");
    }
    co_return http_response(200, "OK", "text/plain", "ok\n");
  }
  co_return http_response(404, "Not Found", "text/plain", "not found: try /metrics or /healthz\n");
}

}  // namespace

asio::awaitable<void> serve_http(BrokerState& state, asio::ip::tcp::socket socket) {
  using namespace asio::experimental::awaitable_operators;
  asio::streambuf buffer(kMaxRequestBytes);
  std::error_code ec, idle_ec;  // one each: the operation that loses the race still completes
  // A client that never completes its request would hold a descriptor forever.
  asio::steady_timer idle(socket.get_executor(), std::chrono::milliseconds(state.config.connections_max_idle_ms));
  auto first =
      co_await (asio::async_read_until(socket, buffer, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec)) ||
                idle.async_wait(asio::redirect_error(asio::use_awaitable, idle_ec)));
  if (first.index() == 1) {
    state.metrics.idle_connection_closed("http");
    co_return;  // the socket closes as it goes out of scope
  }
  std::string reply = co_await reply_to(state, ec ? nullptr : &buffer);
  co_await asio::async_write(socket, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

}  // namespace sluice::broker
