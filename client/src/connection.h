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

// Standard headers first: asio's config checks libstdc++ macros (aligned_alloc)
// without including anything, so a TU that starts with asio would pick other
// allocation functions than the rest of the program (an ODR mismatch ASan reports).
#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "sluice/client/network_client.h"
#include "sluice/client/request.h"
#include "sluice/client/steady_clock.h"

namespace sluice::client {

struct ConnectionOptions {
  HostPort broker;
  std::string client_id;
  uint32_t max_frame_bytes = 64u << 20;
  // Request deadlines are measured on it. Must outlive the connection.
  const SteadyClock* clock = &SystemSteadyClock::instance();
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
  size_t pending() const { return queued_.size() + unacknowledged_.size() + awaiting_.size(); }
  uint64_t connects() const { return connects_; }
  const HostPort& peer_address() const { return options_.broker; }

 private:
  enum class State { idle, connecting, connected };
  struct Pending {
    uint64_t correlation_id = 0;
    Api api = Api::api_versions;
    bool expect_response = true;
    SteadyTime deadline;
    Bytes prefix;  // length, header and body; moved to the write in progress
    std::vector<ByteSpan> records;
    std::shared_ptr<const void> keepalive;
    ResponseHandler on_done;
  };
  // The bytes of the write in progress; freed when it completes.
  struct WriteStorage {
    std::vector<Bytes> prefixes;
    std::vector<std::shared_ptr<const void>> keepalives;
  };

  Connection(asio::io_context& io, ConnectionOptions options);

  void start_connect();
  void on_connected();
  void write_more();
  void on_written(const std::error_code& ec);
  void read_length();
  void read_frame(uint32_t length);
  void on_read_failed(const std::error_code& ec);
  void on_frame();
  void arm_timer();
  void on_timer();
  // A clock moved by a test: expire what its new time passed.
  void on_clock_advanced();
  void fail_all(const Error& reason, uint64_t timed_out_correlation_id = 0, const Error* timeout_error = nullptr);
  std::string peer() const { return options_.broker.to_string(); }

  ConnectionOptions options_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  SteadyTime timer_deadline_ = SteadyTime::max();  // by options_.clock; max: not armed
  SteadyClock::Subscription advanced_ = 0;
  State state_ = State::idle;
  bool shut_down_ = false;
  Error shutdown_reason_;
  uint64_t generation_ = 0;  // bumped on close; stale completions compare and bail out
  uint64_t next_correlation_id_ = 1;
  uint64_t connects_ = 0;
  // A request is in exactly one of these. Requests that expect a response move
  // to awaiting_ when their write starts (the response may be read before the
  // write's completion runs); the others wait in unacknowledged_ for the write.
  std::deque<Pending> queued_;
  std::deque<Pending> unacknowledged_;
  std::deque<Pending> awaiting_;
  bool write_in_progress_ = false;
  WriteStorage write_storage_;
  std::vector<asio::const_buffer> write_buffers_;
  std::array<std::byte, 4> length_buf_{};
  RawBuffer read_buf_;  // the frame being read; uninitialised until the socket fills it
  // Large response frames (fetches) reuse memory once their records are dropped.
  std::shared_ptr<RawBufferPool> frame_buffers_ = RawBufferPool::create();
};

}  // namespace sluice::client
