// One client connection: reads frames, dispatches them to the handlers in order,
// writes responses. Requests are pipelined: the client may send many before
// reading; the broker answers them in the order received.
#pragma once

#include <atomic>
#include <memory>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "request_context.h"

namespace sluice::broker {

// Tracks live sessions so shutdown can stop their reads and wait for them.
class SessionRegistry {
 public:
  void add(const std::shared_ptr<asio::ip::tcp::socket>& socket);
  void remove(const std::shared_ptr<asio::ip::tcp::socket>& socket);
  // Stops further reads on every connection; requests in flight still complete.
  void shutdown_reads();
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<asio::ip::tcp::socket>> sockets_;
};

asio::awaitable<void> run_session(BrokerState& state, SessionRegistry& registry,
                                  std::shared_ptr<asio::ip::tcp::socket> socket, const std::atomic<bool>& stopping);

}  // namespace sluice::broker
