#include "sluice/client/network_client.h"

#include <charconv>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "sluice/client/client_errors.h"
#include "sluice/common/log.h"

#include "connection.h"

namespace sluice::client {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<HostPort> parse_bootstrap(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(Errc::invalid_argument,
                      "bootstrap \"" + std::string(text) + "\" is not host:port (" + std::string(why) + ")");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return bad("empty host");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return bad("port must be 1-65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

struct NetworkClient::Impl {
  NetworkOptions options;
  HostPort broker;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::shared_ptr<Connection> connection;  // to the bootstrap address
  // Connections to addressed nodes, opened on first use. Touched on the io thread only.
  std::unordered_map<NodeId, std::shared_ptr<Connection>> nodes;
  std::thread thread;
  std::thread::id thread_id;
  std::mutex mutex;  // guards shut_down against concurrent post()
  bool shut_down = false;

  Error closed_error() const { return client_error(ErrorCode::closed, "client " + options.client_id + " is closed"); }

  std::shared_ptr<Connection> make_connection(const HostPort& address) {
    return Connection::create(io,
                              ConnectionOptions{address, options.client_id, options.max_frame_bytes, options.clock});
  }

  // REQUIRES: on the io thread, before shutdown's post ran.
  Connection& connection_to(const Node& node) {
    auto& conn = nodes[node.id];
    if (conn && conn->peer_address() != node.address) {
      conn->shutdown(client_error(ErrorCode::disconnected,
                                  "node " + std::to_string(node.id.value()) + " moved to " + node.address.to_string()));
      conn.reset();
    }
    if (!conn) conn = make_connection(node.address);
    return *conn;
  }

  // Posts `deliver` to the io thread, or fails `request` with CLOSED after shutdown().
  template <typename Deliver>
  void post_request(OutgoingRequest request, Deliver deliver) {
    std::unique_lock lock(mutex);
    if (shut_down) {
      lock.unlock();
      request.on_done(tl::unexpected(closed_error()));
      return;
    }
    auto shared = std::make_shared<OutgoingRequest>(std::move(request));
    asio::post(io, [deliver = std::move(deliver), shared] { deliver(std::move(*shared)); });
  }
};

NetworkClient::NetworkClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<NetworkClient>> NetworkClient::create(NetworkOptions options) {
  auto broker = parse_bootstrap(options.bootstrap);
  if (!broker) return tl::unexpected(broker.error());
  if (options.max_frame_bytes < 1024) {
    return make_error(Errc::invalid_argument, "max_frame_bytes must be at least 1024");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->broker = *broker;
  impl->connection = impl->make_connection(impl->broker);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    for (;;) {
      try {
        raw->io.run();
        return;
      } catch (const std::exception& e) {
        // A handler threw: log it and keep the io thread alive.
        log::error("client", "io_handler_threw", {{"what", std::string(e.what())}});
      }
    }
  });
  impl->thread_id = impl->thread.get_id();
  return std::unique_ptr<NetworkClient>(new NetworkClient(std::move(impl)));
}

NetworkClient::~NetworkClient() { shutdown(); }

bool NetworkClient::post(std::function<void()> fn) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->shut_down) return false;
  asio::post(impl_->io, std::move(fn));
  return true;
}

void NetworkClient::send(OutgoingRequest request) {
  impl_->post_request(std::move(request), [conn = impl_->connection](OutgoingRequest r) { conn->send(std::move(r)); });
}

void NetworkClient::send(const Node& node, OutgoingRequest request) {
  impl_->post_request(std::move(request),
                      [impl = impl_.get(), node](OutgoingRequest r) { impl->connection_to(node).send(std::move(r)); });
}

namespace {

// Sends through `send` and waits for the response on the caller's thread.
template <typename Send>
Result<Response> blocking_request(const NetworkClient& net, Api api, Bytes body, std::chrono::milliseconds timeout,
                                  Send send) {
  if (net.on_io_thread()) {
    return make_error(Errc::invalid_argument, "a blocking request cannot be made from the client's io thread");
  }
  auto promise = std::make_shared<std::promise<Result<Response>>>();
  auto future = promise->get_future();
  OutgoingRequest req;
  req.api = api;
  req.body = std::move(body);
  req.timeout = timeout;
  req.on_done = [promise](Result<Response> r) { promise->set_value(std::move(r)); };
  send(std::move(req));
  return future.get();
}

}  // namespace

Result<Response> NetworkClient::request(Api api, Bytes body, std::chrono::milliseconds timeout) {
  return blocking_request(*this, api, std::move(body), timeout, [this](OutgoingRequest r) { send(std::move(r)); });
}

Result<Response> NetworkClient::request(const Node& node, Api api, Bytes body, std::chrono::milliseconds timeout) {
  return blocking_request(*this, api, std::move(body), timeout,
                          [this, &node](OutgoingRequest r) { send(node, std::move(r)); });
}

bool NetworkClient::on_io_thread() const { return std::this_thread::get_id() == impl_->thread_id; }

asio::io_context& NetworkClient::io_context() { return impl_->io; }

void NetworkClient::shutdown() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
    // Runs after everything posted before it (posts are FIFO on one thread).
    asio::post(impl_->io, [impl = impl_.get()] {
      impl->connection->shutdown(impl->closed_error());
      for (auto& [id, conn] : impl->nodes) conn->shutdown(impl->closed_error());
      impl->io.stop();
    });
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

const HostPort& NetworkClient::broker() const { return impl_->broker; }
const std::string& NetworkClient::client_id() const { return impl_->options.client_id; }

}  // namespace sluice::client
