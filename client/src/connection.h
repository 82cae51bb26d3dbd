// One TCP connection to a broker with pipelined requests (internal).
//
// Requests are framed and written in the order send() is called; the broker
// answers in that order, so the response at the head of the stream belongs to
// the oldest request still waiting, and its correlation id must match.
// Anything else (a wrong correlation id, a frame over the cap, an undecodable
// header) closes the connection.
//
// Failure model: a connect error, a lost connection or a request that outlives
// its timeout fails every request queued or in flight (the timed-out one with
// REQUEST_TIMED_OUT, the rest with DISCONNECTED) and leaves the connection idle;
// the next send() reconnects.
//
// Thread-safety: confined to the io_context's (single) thread.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "sluice/client/network_client.h"
#include "sluice/client/request.h"

namespace sluice::client {

struct ConnectionOptions {
  HostPort broker;
  std::string client_id;
  uint32_t max_frame_bytes = 64u << 20;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static std::shared_ptr<Connection> create(asio::io_context& io, ConnectionOptions options);
  ~Connection();

  void send(OutgoingRequest request);
  // Fails everything pending with `reason`; the next send() reconnects.
  void close(const Error& reason);
  // close() and fail every later send() with `reason`.
  void shutdown(const Error& reason);

  bool connected() const { return state_ == State::connected; }
  // Requests queued, being written or waiting for a response.
  size_t pending() const { return queued_.size() + writing_.size() + awaiting_.size(); }
  uint64_t connects() const { return connects_; }

 private:
  enum class State { idle, connecting, connected };
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Pending {
    uint64_t correlation_id = 0;
    Api api = Api::api_versions;
    bool expect_response = true;
    SteadyTime deadline;
    Bytes prefix;  // length, header and body
    std::vector<ByteSpan> records;
    std::shared_ptr<const void> keepalive;
    ResponseHandler on_done;
  };

  Connection(asio::io_context& io, ConnectionOptions options);

  void start_connect();
  void on_connected();
  void write_more();
  void on_written(const std::error_code& ec);
  void read_length();
  void read_frame(uint32_t length);
  void on_frame();
  void arm_timer();
  void on_timer();
  void fail_all(const Error& reason, uint64_t timed_out_correlation_id = 0, const Error* timeout_error = nullptr);
  std::string peer() const { return options_.broker.to_string(); }

  asio::io_context& io_;
  ConnectionOptions options_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  SteadyTime timer_deadline_ = SteadyTime::max();
  State state_ = State::idle;
  bool shut_down_ = false;
  Error shutdown_reason_;
  uint64_t generation_ = 0;  // bumped on close; stale completions compare and bail out
  uint64_t next_correlation_id_ = 1;
  uint64_t connects_ = 0;
  std::deque<Pending> queued_;
  std::deque<Pending> writing_;
  std::deque<Pending> awaiting_;
  std::vector<asio::const_buffer> write_buffers_;
  std::array<std::byte, 4> length_buf_{};
  Bytes read_buf_;
};

}  // namespace sluice::client
