#include "connection.h"

#include <algorithm>

#include <asio/connect.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "sluice/client/client_errors.h"
#include "sluice/client/wire_error.h"
#include "sluice/common/log.h"
#include "sluice/proto/frame.h"
#include "sluice/proto/transfer_all.h"

#include "sluice.pb.h"

namespace sluice::client {

std::shared_ptr<Connection> Connection::create(asio::io_context& io, ConnectionOptions options) {
  auto connection = std::shared_ptr<Connection>(new Connection(io, std::move(options)));
  std::weak_ptr<Connection> weak = connection;
  connection->advanced_ = connection->options_.clock->on_advance([weak, &io] {
    asio::post(io, [weak] {
      if (auto c = weak.lock()) c->on_clock_advanced();
    });
  });
  return connection;
}

Connection::Connection(asio::io_context& io, ConnectionOptions options)
    : options_(std::move(options)), resolver_(io), socket_(io), timer_(io) {}

Connection::~Connection() {
  if (advanced_ != 0) options_.clock->cancel_on_advance(advanced_);
}

void Connection::send(OutgoingRequest request) {
  if (shut_down_) {
    request.on_done(tl::unexpected(shutdown_reason_));
    return;
  }
  Pending p;
  p.correlation_id = next_correlation_id_++;
  p.api = request.api;
  p.expect_response = request.expect_response;
  p.deadline = options_.clock->now() + request.timeout;
  p.records = std::move(request.records);
  p.keepalive = std::move(request.keepalive);
  p.on_done = std::move(request.on_done);

  wire::RequestHeader header;
  header.set_api(static_cast<wire::ApiKey>(request.api));
  header.set_version(api_version(request.api));
  header.set_correlation_id(p.correlation_id);
  header.set_client_id(options_.client_id);
  size_t header_size = header.ByteSizeLong();
  size_t records_size = 0;
  for (ByteSpan r : p.records) records_size += r.size();
  uint64_t length = 4 + header_size + 4 + request.body.size() + records_size;
  if (length + 4 > options_.max_frame_bytes) {
    p.on_done(
        tl::unexpected(client_error(ErrorCode::message_too_large,
                                    std::string(api_name(request.api)) + " request of " + std::to_string(length + 4) +
                                        " bytes exceeds max_frame_bytes " + std::to_string(options_.max_frame_bytes))));
    return;
  }
  p.prefix.resize(4 + 4 + header_size + 4 + request.body.size());
  std::byte* out = p.prefix.data();
  store_be<uint32_t>(out, static_cast<uint32_t>(length));
  store_be<uint32_t>(out + 4, static_cast<uint32_t>(header_size));
  header.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out + 8));
  out += 8 + header_size;
  store_be<uint32_t>(out, static_cast<uint32_t>(request.body.size()));
  if (!request.body.empty()) std::memcpy(out + 4, request.body.data(), request.body.size());

  SteadyTime deadline = p.deadline;
  queued_.push_back(std::move(p));
  if (deadline < timer_deadline_) arm_timer();
  if (state_ == State::idle) {
    start_connect();
  } else if (state_ == State::connected) {
    write_more();
  }
}

void Connection::start_connect() {
  state_ = State::connecting;
  uint64_t gen = generation_;
  auto self = shared_from_this();
  resolver_.async_resolve(
      options_.broker.host, std::to_string(options_.broker.port),
      [this, self, gen](const std::error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
        if (gen != generation_) return;
        if (ec) {
          close(client_error(ErrorCode::disconnected, "cannot resolve " + peer() + ": " + ec.message()));
          return;
        }
        asio::async_connect(
            socket_, results, [this, self, gen](const std::error_code& ec, const asio::ip::tcp::endpoint&) {
              if (gen != generation_) return;
              if (ec) {
                close(client_error(ErrorCode::disconnected, "cannot connect to " + peer() + ": " + ec.message()));
                return;
              }
              on_connected();
            });
      });
}

void Connection::on_connected() {
  std::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  state_ = State::connected;
  ++connects_;
  read_length();
  write_more();
}

void Connection::write_more() {
  if (write_in_progress_ || queued_.empty()) return;
  write_buffers_.clear();
  // Gather every queued frame into one write: pipelined requests share syscalls.
  while (!queued_.empty()) {
    Pending p = std::move(queued_.front());
    queued_.pop_front();
    write_buffers_.emplace_back(p.prefix.data(), p.prefix.size());
    for (ByteSpan r : p.records) {
      if (!r.empty()) write_buffers_.emplace_back(r.data(), r.size());
    }
    write_storage_.prefixes.push_back(std::move(p.prefix));
    if (p.keepalive) write_storage_.keepalives.push_back(std::move(p.keepalive));
    p.records.clear();
    (p.expect_response ? awaiting_ : unacknowledged_).push_back(std::move(p));
  }
  write_in_progress_ = true;
  uint64_t gen = generation_;
  auto self = shared_from_this();
  asio::async_write(socket_, write_buffers_, wire::TransferAll(), [this, self, gen](const std::error_code& ec, size_t) {
    if (gen != generation_) return;
    on_written(ec);
  });
}

void Connection::on_written(const std::error_code& ec) {
  write_in_progress_ = false;
  write_buffers_.clear();
  write_storage_ = WriteStorage();
  if (ec) {
    close(client_error(ErrorCode::disconnected, "write to " + peer() + " failed: " + ec.message()));
    return;
  }
  std::deque<Pending> written;
  written.swap(unacknowledged_);
  write_more();
  for (Pending& p : written) p.on_done(Response());
}

void Connection::read_length() {
  uint64_t gen = generation_;
  auto self = shared_from_this();
  asio::async_read(
      socket_, asio::buffer(length_buf_), wire::TransferAll(), [this, self, gen](const std::error_code& ec, size_t) {
        if (gen != generation_) return;
        if (ec) return on_read_failed(ec);
        uint32_t length = load_be<uint32_t>(length_buf_.data());
        if (length > options_.max_frame_bytes) {
          close(client_error(ErrorCode::protocol_error, "response frame of " + std::to_string(length) + " bytes from " +
                                                            peer() + " exceeds max_frame_bytes " +
                                                            std::to_string(options_.max_frame_bytes)));
          return;
        }
        read_frame(length);
      });
}

void Connection::read_frame(uint32_t length) {
  read_buf_ = frame_buffers_->acquire(length);
  uint64_t gen = generation_;
  auto self = shared_from_this();
  asio::async_read(socket_, asio::buffer(read_buf_.data(), read_buf_.size()), wire::TransferAll(),
                   [this, self, gen](const std::error_code& ec, size_t) {
                     if (gen != generation_) return;
                     if (ec) return on_read_failed(ec);
                     on_frame();
                   });
}

void Connection::on_read_failed(const std::error_code& ec) {
  close(client_error(ErrorCode::disconnected, "connection to " + peer() + " lost: " + ec.message()));
}

void Connection::on_frame() {
  RawBuffer frame = std::move(read_buf_);
  auto protocol_error = [&](const std::string& what) {
    close(client_error(ErrorCode::protocol_error, what + " (from " + peer() + ")"));
  };
  auto view = wire::split_frame(frame.span());
  if (!view) return protocol_error("bad response frame: " + view.error().to_string());
  wire::ResponseHeader header;
  if (!wire::parse_message(view->header, header)) return protocol_error("undecodable response header");
  if (awaiting_.empty()) {
    return protocol_error("response with correlation id " + std::to_string(header.correlation_id()) +
                          " but no request is waiting");
  }
  if (header.correlation_id() != awaiting_.front().correlation_id) {
    return protocol_error("response with correlation id " + std::to_string(header.correlation_id()) + ", expected " +
                          std::to_string(awaiting_.front().correlation_id));
  }
  Pending p = std::move(awaiting_.front());
  awaiting_.pop_front();
  size_t body_offset = static_cast<size_t>(view->body.data() - frame.data());
  size_t body_size = view->body.size();
  size_t records_offset = static_cast<size_t>(view->records.data() - frame.data());
  if (view->records.empty()) records_offset = frame.size();
  uint64_t gen = generation_;
  read_length();
  if (header.has_error() && header.error().code() != wire::NONE) {
    p.on_done(tl::unexpected(wire_error(
        header.error().code(), std::string(api_name(p.api)) + " request failed: " + header.error().message())));
  } else {
    p.on_done(Response(std::move(frame), header.correlation_id(), body_offset, body_size, records_offset));
  }
  if (gen == generation_ && pending() == 0) {
    timer_.cancel();
    timer_deadline_ = SteadyTime::max();
  }
}

void Connection::arm_timer() {
  SteadyTime earliest = SteadyTime::max();
  for (const auto* q : {&queued_, &unacknowledged_, &awaiting_}) {
    for (const Pending& p : *q) earliest = std::min(earliest, p.deadline);
  }
  timer_deadline_ = earliest;
  if (earliest == SteadyTime::max()) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(timer_expiry(*options_.clock, earliest));
  auto self = shared_from_this();
  timer_.async_wait([this, self, earliest](const std::error_code& ec) {
    if (ec || earliest != timer_deadline_) return;  // cancelled or re-armed
    on_timer();
  });
}

void Connection::on_timer() {
  timer_deadline_ = SteadyTime::max();
  SteadyTime now = options_.clock->now();
  const Pending* expired = nullptr;
  for (const auto* q : {&awaiting_, &unacknowledged_, &queued_}) {
    for (const Pending& p : *q) {
      if (p.deadline <= now && (expired == nullptr || p.deadline < expired->deadline)) expired = &p;
    }
  }
  if (expired == nullptr) {
    arm_timer();
    return;
  }
  std::string what = std::string(api_name(expired->api)) + " request " + std::to_string(expired->correlation_id);
  Error timeout = client_error(ErrorCode::request_timed_out,
                               what + " to " + peer() + " got no response in time; connection closed");
  Error others =
      client_error(ErrorCode::disconnected, "connection to " + peer() + " closed because " + what + " timed out");
  fail_all(others, expired->correlation_id, &timeout);
}

void Connection::on_clock_advanced() {
  if (timer_deadline_ != SteadyTime::max() && options_.clock->now() >= timer_deadline_) on_timer();
}

void Connection::close(const Error& reason) { fail_all(reason); }

void Connection::shutdown(const Error& reason) {
  shut_down_ = true;
  shutdown_reason_ = reason;
  fail_all(reason);
}

void Connection::fail_all(const Error& reason, uint64_t timed_out_correlation_id, const Error* timeout_error) {
  ++generation_;
  std::error_code ignored;
  resolver_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  timer_.cancel();
  timer_deadline_ = SteadyTime::max();
  bool was_connected = state_ == State::connected;
  state_ = State::idle;
  std::vector<Pending> failed;
  for (auto* q : {&awaiting_, &unacknowledged_, &queued_}) {
    for (Pending& p : *q) failed.push_back(std::move(p));
    q->clear();
  }
  // An aborted write's completion still runs (with a stale generation) after
  // this; the kernel no longer reads the buffers once the socket is closed.
  write_in_progress_ = false;
  write_buffers_.clear();
  write_storage_ = WriteStorage();
  if (was_connected || !failed.empty()) {
    log::event(
        reason.code == ErrorCode::closed ? log::Level::debug : log::Level::warn, "client", "connection_closed",
        {{"broker", peer()}, {"failed_requests", static_cast<int64_t>(failed.size())}, {"reason", reason.to_string()}});
  }
  for (Pending& p : failed) {
    const Error& e =
        (timeout_error != nullptr && p.correlation_id == timed_out_correlation_id) ? *timeout_error : reason;
    p.on_done(tl::unexpected(e));
  }
}

}  // namespace sluice::client
