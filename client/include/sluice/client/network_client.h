// The network side of one client object (a producer, a consumer or an admin
// client): a background io thread and pipelined connections to brokers.
// send() without a node goes to the bootstrap address ("any node": one broker
// today); send(node, ...) goes to that broker node, such as a coordinator a
// FindCoordinator answer names, over a connection of its own that is opened on
// the first request to it and kept for the next ones (one per node id; a node id
// seen again at another address closes the old connection, failing what was in
// flight on it with DISCONNECTED, and opens one to the new address).
// On each connection, requests go out in the order they are sent and their
// responses come back in that order; there is no order between connections.
// A lost connection fails every request in flight on it with DISCONNECTED; the
// next request to it reconnects.
//
// Thread-safety: send(), request(), post() and shutdown() may be called from any
// thread. Response handlers and posted functions run on the io thread; a handler
// may send further requests but must not block on request().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sluice/client/request.h"
#include "sluice/client/steady_clock.h"
#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"

namespace asio {
class io_context;
}

namespace sluice::client {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const;
  bool operator==(const HostPort&) const = default;
};

// "host:port" or "[v6-address]:port", port 1-65535.
Result<HostPort> parse_bootstrap(std::string_view text);

// A broker's id in the cluster, as metadata and FindCoordinator name it.
using NodeId = StrongInt<struct NodeIdTag, int32_t>;

// A broker node to address directly.
struct Node {
  NodeId id;
  HostPort address;
};

struct NetworkOptions {
  std::string bootstrap;  // "host:port"
  std::string client_id;
  // Largest frame this client sends or accepts; a bigger response closes the connection.
  uint32_t max_frame_bytes = 64u << 20;
  // Request timeouts are measured on it. Must outlive the client.
  const SteadyClock* clock = &SystemSteadyClock::instance();
};

class NetworkClient {
 public:
  // Validates the options and starts the io thread. Does not connect yet.
  static Result<std::unique_ptr<NetworkClient>> create(NetworkOptions options);
  // shutdown().
  ~NetworkClient();
  NetworkClient(const NetworkClient&) = delete;
  NetworkClient& operator=(const NetworkClient&) = delete;

  // Queues a request; `request.on_done` runs on the io thread. After shutdown()
  // it runs at once, on the caller's thread, with a CLOSED error.
  void send(OutgoingRequest request);
  // The same, to `node` (see the top of this file).
  void send(const Node& node, OutgoingRequest request);

  // Sends and waits for the response. REQUIRES: not called on the io thread.
  Result<Response> request(Api api, Bytes body, std::chrono::milliseconds timeout);
  Result<Response> request(const Node& node, Api api, Bytes body, std::chrono::milliseconds timeout);

  // Runs `fn` on the io thread; false (and `fn` dropped) after shutdown().
  bool post(std::function<void()> fn);
  bool on_io_thread() const;
  // For timers of the owning client. Lives as long as this object.
  asio::io_context& io_context();

  // Fails every request in flight (on every connection) with CLOSED, stops and joins the io thread.
  // Idempotent. REQUIRES: not called on the io thread.
  void shutdown();

  // The bootstrap address.
  const HostPort& broker() const;
  const std::string& client_id() const;

 private:
  struct Impl;
  explicit NetworkClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::client
