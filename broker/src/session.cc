#include "session.h"

#include <chrono>
#include <deque>
#include <exception>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "sluice/common/log.h"
#include "sluice/common/raw_buffer.h"
#include "sluice/proto/transfer_all.h"

#include "api_dispatch.h"
#include "file_region_sender.h"
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
  return static_cast<size_t>(
      std::count_if(sockets_.begin(), sockets_.end(), [](const auto& w) { return !w.expired(); }));
}

namespace {

// One request from the moment its frame is read until its response is written.
struct InFlight {
  RawBuffer frame;
  wire::ResponseHeader header;
  Response response;
  const wire::ApiSpec* spec = nullptr;  // null: a key the registry does not have
  const char* api = "unknown";          // spec's id: the label in logs and metrics
  std::chrono::steady_clock::time_point started;
  bool done = false;
};

// Shared by the reader and the writer of one connection; both run on the
// connection's (single-threaded) executor, so nothing here needs a lock.
struct Pipeline {
  Pipeline(const asio::any_io_executor& ex, const SteadyClock& clock)
      : idle_since(clock.now()),
        wake_writer(ex, std::chrono::steady_clock::time_point::max()),
        wake_reader(ex, std::chrono::steady_clock::time_point::max()) {}
  std::deque<std::shared_ptr<InFlight>> queue;  // in arrival order
  // Since when the queue has been empty, by BrokerState::steady_clock: the idle timeout counts from here.
  SteadyTime idle_since;
  asio::steady_timer wake_writer;
  asio::steady_timer wake_reader;
  bool frame_started = false;  // the reader has a frame's length and awaits its bytes
  bool idle_closed = false;
  bool reader_finished = false;
  bool write_failed = false;
  bool writer_done = false;
};

// Requests in flight on one connection: enough to keep the group commit fed while
// bounding the memory one client can pin.
constexpr size_t kMaxInFlight = 32;

// Until `deadline` or the timer's cancel(), whichever comes first.
asio::awaitable<void> wait_for(asio::steady_timer& timer, std::chrono::steady_clock::time_point deadline =
                                                              std::chrono::steady_clock::time_point::max()) {
  timer.expires_at(deadline);
  std::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// Until `deadline` by `clock`, or the timer's cancel(): the timer fires at the
// deadline in real time, and a clock moved by a test wakes it through on_advance().
asio::awaitable<void> wait_until(const SteadyClock& clock, asio::steady_timer& timer, SteadyTime deadline) {
  if (!clock.jumps()) {
    co_await wait_for(timer, deadline);
    co_return;
  }
  auto executor = co_await asio::this_coro::executor;
  // A wake-up posted just before the wait ended must not touch the timer of a later wait.
  auto waiting = std::make_shared<bool>(true);
  const SteadyClock::Subscription advanced = clock.on_advance([weak = std::weak_ptr<bool>(waiting), &timer, executor] {
    asio::post(executor, [weak, &timer] {
      if (weak.lock()) timer.cancel();
    });
  });
  co_await wait_for(timer, timer_expiry(clock, deadline));
  if (advanced != 0) clock.cancel_on_advance(advanced);
}

asio::awaitable<void> handle(BrokerState& state, std::shared_ptr<InFlight> request, Pipeline& pipeline,
                             asio::strand<asio::thread_pool::executor_type>& appends, wire::FrameView view,
                             wire::RequestHeader header, ApiHandler handler, const std::string& peer) {
  auto records_offset = static_cast<size_t>(view.records.data() - request->frame.data());
  // `peer` ("address:port") outlives every request: the session waits for them all before it returns.
  Request r{header, view.body, MutableByteSpan(request->frame.data() + records_offset, view.records.size()), appends,
            std::string_view(peer).substr(0, peer.rfind(':'))};
  request->response = co_await handler(state, r);
  if (!request->response.body) {
    set_error(request->header.mutable_error(), wire::INVALID_REQUEST,
              std::string("malformed ") + request->api + " request body");
    request->response.error = true;
    request->response.send = true;
  }
  request->done = true;
  pipeline.wake_writer.cancel();
}

// Writes responses in request order as they complete. Returns once the reader has
// finished and every request it started is done (so no handler outlives `pipeline`).
asio::awaitable<void> write_responses(BrokerState& state, asio::ip::tcp::socket& socket, Pipeline& pipeline) {
  Bytes out;
  while (true) {
    if (!pipeline.queue.empty() && pipeline.queue.front()->done) {
      auto request = std::move(pipeline.queue.front());
      pipeline.queue.pop_front();
      pipeline.wake_reader.cancel();
      if (pipeline.queue.empty()) pipeline.idle_since = state.steady_clock->now();
      state.metrics.request_done(
          request->spec, std::chrono::duration<double>(std::chrono::steady_clock::now() - request->started).count(),
          request->response.error ? Metrics::Outcome::error : Metrics::Outcome::ok);
      if (!request->response.send || pipeline.write_failed) continue;
      wire::ApiVersionsRequest empty;  // an empty message: the body of a failed request
      const auto& body =
          request->response.body ? *request->response.body : static_cast<const google::protobuf::MessageLite&>(empty);
      // Header and body, then the record bytes from the page cache.
      const Response& response = request->response;
      size_t records_size = 0;
      for (const auto& region : response.file_regions) records_size += static_cast<size_t>(region.size);
      wire::build_frame_prefix(request->header, body, records_size, out);
      std::error_code ec;
      co_await asio::async_write(socket, asio::buffer(out), wire::TransferAll(),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && !response.file_regions.empty()) ec = co_await send_file_regions(socket, response.file_regions);
      if (ec) {
        pipeline.write_failed = true;
        std::error_code ignored;
        socket.shutdown(asio::ip::tcp::socket::shutdown_receive, ignored);  // stops the reader
      }
      continue;
    }
    if (pipeline.queue.empty() && pipeline.reader_finished) co_return;
    if (pipeline.queue.empty() && !pipeline.frame_started && !pipeline.idle_closed) {
      // Nothing in flight: the writer is the one to notice the connection went idle.
      auto idle_deadline = pipeline.idle_since + std::chrono::milliseconds(state.config.connections_max_idle_ms);
      if (state.steady_clock->now() < idle_deadline) {
        co_await wait_until(*state.steady_clock, pipeline.wake_writer, idle_deadline);
        continue;
      }
      state.metrics.idle_connection_closed("native");
      std::error_code ignored;
      socket.shutdown(asio::ip::tcp::socket::shutdown_receive, ignored);  // the reader ends; the session closes
      pipeline.idle_closed = true;
    }
    co_await wait_for(pipeline.wake_writer);
  }
}

}  // namespace

asio::awaitable<void> run_session(BrokerState& state, SessionRegistry& registry,
                                  std::shared_ptr<asio::ip::tcp::socket> socket, const std::atomic<bool>& stopping) {
  {
    // sendfile on this socket must never block the I/O thread.
    std::error_code ec;
    socket->native_non_blocking(true, ec);
    if (ec) {
      log::warn("broker", "connection_refused", {{"reason", "cannot make the socket non-blocking: " + ec.message()}});
      co_return;
    }
  }
  registry.add(socket);
  state.metrics.connection_opened();
  std::string peer;
  {
    std::error_code ec;
    auto ep = socket->remote_endpoint(ec);
    if (!ec) peer = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  auto executor = co_await asio::this_coro::executor;
  Pipeline pipeline(executor, *state.steady_clock);
  // Appends of this connection run in request order on one strand of the storage pool.
  auto appends = asio::make_strand(state.storage_pool);
  // Request frames are filled at once from the socket: reusing a few (not zeroing,
  // not faulting in fresh pages per produce request) saves a pass over each.
  auto frames = RawBufferPool::create(64 << 10, 4);
  asio::co_spawn(executor, write_responses(state, *socket, pipeline), [&pipeline](const std::exception_ptr& e) {
    // The writer only ends after every request it owes is done; an exception here
    // (out of memory building a frame) leaves handlers holding `pipeline`: give up.
    if (e) {
      log::error("broker", "response_writer_failed", {});
      std::terminate();
    }
    pipeline.writer_done = true;
    pipeline.wake_reader.cancel();
  });
  std::error_code ec;
  while (!stopping && !pipeline.write_failed) {
    while (pipeline.queue.size() >= kMaxInFlight && !pipeline.write_failed) co_await wait_for(pipeline.wake_reader);
    std::byte length_bytes[wire::kFrameLengthSize];
    co_await asio::async_read(*socket, asio::buffer(length_bytes), wire::TransferAll(),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // closed by the client, or reads shut down for stopping
    uint32_t length = load_be<uint32_t>(length_bytes);
    if (length > state.config.max_frame_bytes) {
      log::warn("broker", "frame_too_large",
                {{"peer", peer},
                 {"bytes", static_cast<int64_t>(length)},
                 {"limit", static_cast<int64_t>(state.config.max_frame_bytes)}});
      state.metrics.protocol_error();
      break;
    }
    pipeline.frame_started = true;
    auto request = std::make_shared<InFlight>();
    request->frame = frames->acquire(length);
    co_await asio::async_read(*socket, asio::buffer(request->frame.data(), request->frame.size()), wire::TransferAll(),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // disconnected mid-request: nothing was applied
    request->started = std::chrono::steady_clock::now();
    auto view = wire::split_frame(request->frame.span());
    wire::RequestHeader header;
    if (!view || !wire::parse_message(view->header, header)) {
      log::warn("broker", "malformed_frame",
                {{"peer", peer}, {"error", view ? std::string("bad request header") : view.error().to_string()}});
      state.metrics.protocol_error();
      break;  // without a header there is no correlation id to answer to
    }
    request->header.set_correlation_id(header.correlation_id());
    const BrokerApi* api = find_broker_api(header.api());
    // The registry's ids are string literals: the label outlives the request.
    request->spec = api ? api->spec : nullptr;
    request->api = api ? api->spec->id.data() : "unknown";
    pipeline.queue.push_back(request);
    pipeline.frame_started = false;
    wire::ErrorCode unsupported = api ? check_version(*api, header.version()) : wire::UNSUPPORTED_API;
    if (unsupported != wire::NONE) {
      set_error(
          request->header.mutable_error(), unsupported,
          "api " + std::to_string(header.api()) + " version " + std::to_string(header.version()) + " is not supported");
      request->response.error = true;
      request->done = true;
      pipeline.wake_writer.cancel();
      continue;
    }
    asio::co_spawn(executor, handle(state, request, pipeline, appends, *view, header, api->handler, peer),
                   [request, &pipeline](const std::exception_ptr& e) {
                     if (!e) return;
                     std::string what = "unknown exception";
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& thrown) {
                       what = thrown.what();
                     } catch (...) {
                     }
                     log::error("broker", "handler_failed", {{"api", request->api}, {"error", what}});
                     // The client learns the request failed instead of reading an empty body as success.
                     set_error(request->header.mutable_error(), wire::UNKNOWN_SERVER_ERROR,
                               std::string(request->api) + " failed in the broker: " + what);
                     request->response.error = true;
                     request->done = true;
                     pipeline.wake_writer.cancel();
                   });
  }
  // Stop reading; let the writer answer what is in flight and finish, then close.
  pipeline.reader_finished = true;
  pipeline.wake_writer.cancel();
  while (!pipeline.writer_done) co_await wait_for(pipeline.wake_reader);
  std::error_code ignored;
  socket->close(ignored);
  registry.remove(socket);
  state.metrics.connection_closed();
}

}  // namespace sluice::broker
