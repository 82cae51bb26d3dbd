#include "session.h"

#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <array>
#include <chrono>

#include "sluice/common/log.h"
#include "wire_errors.h"

namespace sluice::broker {

void SessionRegistry::add(const std::shared_ptr<asio::ip::tcp::socket>& socket) {
  std::lock_guard lock(mu_);
  std::erase_if(sockets_, [](const auto& w) { return w.expired(); });
  sockets_.push_back(socket);
}

void SessionRegistry::remove(const std::shared_ptr<asio::ip::tcp::socket>& socket) {
  std::lock_guard lock(mu_);
  std::erase_if(sockets_, [&](const auto& w) { return w.expired() || w.lock() == socket; });
}

void SessionRegistry::shutdown_reads() {
  std::lock_guard lock(mu_);
  for (auto& w : sockets_) {
    if (auto s = w.lock()) {
      std::error_code ec;
      s->shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
    }
  }
}

size_t SessionRegistry::size() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(sockets_.begin(), sockets_.end(), [](const auto& w) { return !w.expired(); }));
}

namespace {

const char* api_name(wire::ApiKey api) {
  switch (api) {
    case wire::PRODUCE: return "produce";
    case wire::FETCH: return "fetch";
    case wire::LIST_OFFSETS: return "list_offsets";
    case wire::METADATA: return "metadata";
    case wire::CREATE_TOPICS: return "create_topics";
    case wire::DELETE_TOPICS: return "delete_topics";
    case wire::API_VERSIONS: return "api_versions";
    default: return "unknown";
  }
}

asio::awaitable<Response> dispatch(BrokerState& state, const wire::RequestHeader& header, Request request) {
  switch (header.api()) {
    case wire::PRODUCE: co_return co_await handle_produce(state, request);
    case wire::FETCH: co_return co_await handle_fetch(state, request);
    case wire::LIST_OFFSETS: co_return handle_list_offsets(state, request);
    case wire::METADATA: co_return handle_metadata(state, request);
    case wire::CREATE_TOPICS: co_return handle_create_topics(state, request);
    case wire::DELETE_TOPICS: co_return handle_delete_topics(state, request);
    case wire::API_VERSIONS: co_return handle_api_versions(state, request);
    default: co_return Response{nullptr};
  }
}

}  // namespace

asio::awaitable<void> run_session(BrokerState& state, SessionRegistry& registry,
                                  std::shared_ptr<asio::ip::tcp::socket> socket, const std::atomic<bool>& stopping) {
  registry.add(socket);
  state.metrics.connection_opened();
  std::string peer;
  {
    std::error_code ec;
    auto ep = socket->remote_endpoint(ec);
    if (!ec) peer = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  Bytes frame;
  Bytes out;
  std::error_code ec;
  while (!stopping) {
    std::byte length_bytes[wire::kFrameLengthSize];
    co_await asio::async_read(*socket, asio::buffer(length_bytes), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // closed by the client, or reads shut down for stopping
    uint32_t length = load_be<uint32_t>(length_bytes);
    if (length > state.config.max_frame_bytes) {
      log::warn("broker", "frame_too_large", {{"peer", peer}, {"bytes", static_cast<int64_t>(length)},
                                              {"limit", static_cast<int64_t>(state.config.max_frame_bytes)}});
      state.metrics.protocol_error();
      break;
    }
    frame.resize(length);
    co_await asio::async_read(*socket, asio::buffer(frame.data(), frame.size()), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // disconnected mid-request: nothing was applied
    auto started = std::chrono::steady_clock::now();
    auto view = wire::split_frame(frame);
    wire::RequestHeader header;
    if (!view || !wire::parse_message(view->header, header)) {
      log::warn("broker", "malformed_frame",
                {{"peer", peer}, {"error", view ? std::string("bad request header") : view.error().to_string()}});
      state.metrics.protocol_error();
      break;  // without a header there is no correlation id to answer to
    }
    wire::ResponseHeader response_header;
    response_header.set_correlation_id(header.correlation_id());
    Response response;
    wire::ErrorCode unsupported = wire::NONE;
    if (!api_supported(header.api(), header.version(), unsupported)) {
      set_error(response_header.mutable_error(), unsupported,
                "api " + std::to_string(header.api()) + " version " + std::to_string(header.version()) +
                    " is not supported");
      response.error = true;
    } else {
      auto records_offset = static_cast<size_t>(view->records.data() - frame.data());
      Request request{header, view->body, MutableByteSpan(frame.data() + records_offset, view->records.size())};
      response = co_await dispatch(state, header, request);
      if (!response.body) {
        set_error(response_header.mutable_error(), wire::INVALID_REQUEST,
                  std::string("malformed ") + api_name(header.api()) + " request body");
        response.error = true;
        response.send = true;
      }
    }
    state.metrics.request_done(api_name(header.api()),
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                               response.error);
    if (!response.send) continue;
    wire::ApiVersionsRequest empty;  // an empty message: the body of a failed request
    // Header and body, then the record bytes straight from the response: one gathered write.
    wire::build_frame_prefix(response_header,
                             response.body ? *response.body : static_cast<google::protobuf::MessageLite&>(empty),
                             response.records.size(), out);
    std::array<asio::const_buffer, 2> parts{asio::buffer(out.data(), out.size()),
                                            asio::buffer(response.records.data(), response.records.size())};
    co_await asio::async_write(*socket, parts, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  std::error_code ignored;
  socket->close(ignored);
  registry.remove(socket);
  state.metrics.connection_closed();
}

}  // namespace sluice::broker
