#include "sluice/broker/broker.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <functional>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "sluice/common/log.h"

#include "http_endpoint.h"
#include "session.h"

namespace sluice::broker {

std::shared_ptr<Topic> BrokerState::find_or_create(const std::string& name) {
  if (auto topic = topics->find(name)) return topic;
  if (!config.auto_create_topics || is_internal_topic(name)) return nullptr;
  auto created = topics->create(name, config.default_partitions, {});
  if (created) return *created;
  return topics->find(name);  // another request may have created it first
}

namespace {

// Holds an exclusive flock on <data>/.lock while the broker runs: a second broker on
// the same directory would recover, truncate and mark clean the logs under the first.
// The file holds the holder's pid so the refusal can name it.
class DataDirLock {
 public:
  DataDirLock() = default;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }

  Status acquire(const std::string& data_dir) {
    if (auto s = storage::posix_file_system().create_dirs(data_dir); !s) return s;
    std::string path = data_dir + "/.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return make_error(Errc::io_error, "cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      char holder[32] = {};
      ssize_t n = ::pread(fd_, holder, sizeof(holder) - 1, 0);
      std::string pid(holder, n > 0 ? static_cast<size_t>(n) : 0);
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      ::close(fd_);
      fd_ = -1;
      if (err != EWOULDBLOCK) return make_error(Errc::io_error, "cannot lock " + path + ": " + std::strerror(err));
      return make_error(Errc::io_error, "data directory " + data_dir + " is in use by another broker (pid " +
                                            (pid.empty() ? std::string("unknown") : pid) + " holds " + path + ")");
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      return make_error(Errc::io_error, "cannot write " + path + ": " + std::strerror(errno));
    }
    return {};
  }

 private:
  int fd_ = -1;
};

// Lets one event per 10 s through and counts the others, so a failure that repeats per
// connection is one log line with a count, not a line per failure. I/O thread only.
class LogThrottle {
 public:
  // True if this one should be logged; `suppressed` is then how many were not since the last.
  bool allow(int64_t& suppressed) {
    auto now = std::chrono::steady_clock::now();
    if (now < next_) {
      ++suppressed_;
      return false;
    }
    next_ = now + kInterval;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  static constexpr std::chrono::seconds kInterval{10};
  std::chrono::steady_clock::time_point next_{};
  int64_t suppressed_ = 0;
};

// Out of descriptors or kernel memory, accept fails at once for as long as the
// connection waits in the backlog: retrying without a pause spins a core.
bool is_resource_exhaustion(const std::error_code& ec) {
  // Asio's system category does not map to std::errc conditions: compare errno values.
  if (ec.category() != asio::system_category()) return false;
  return ec.value() == EMFILE || ec.value() == ENFILE || ec.value() == ENOBUFS || ec.value() == ENOMEM;
}

constexpr auto kMinAcceptBackoff = std::chrono::milliseconds(10);
constexpr auto kMaxAcceptBackoff = std::chrono::seconds(1);

// Descriptors kept free of native connections for the HTTP endpoint (so /healthz still
// answers), new segment files and the accept that refuses a connection.
constexpr int kReservedFds = 32;

// The soft RLIMIT_NOFILE: descriptor numbers at or above it cannot be allocated.
int soft_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > INT32_MAX) {
    return INT32_MAX;
  }
  return static_cast<int>(limit.rlim_cur);
}

group::GroupConfig group_config(const BrokerConfig& config) {
  group::GroupConfig out;
  out.session_timeout = std::chrono::milliseconds(config.group_consumer_session_timeout_ms);
  out.heartbeat_interval = std::chrono::milliseconds(config.group_consumer_heartbeat_interval_ms);
  out.min_session_timeout = std::chrono::milliseconds(config.group_min_session_timeout_ms);
  out.max_session_timeout = std::chrono::milliseconds(config.group_max_session_timeout_ms);
  return out;
}

}  // namespace

struct Broker::Impl {
  // Declared first so it is released last, after the logs are closed.
  DataDirLock data_dir_lock;
  BrokerState state;
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor{io};
  asio::ip::tcp::acceptor http_acceptor{io};
  SessionRegistry sessions;
  std::atomic<bool> stopping{false};
  std::atomic<int> running_sessions{0};
  std::thread io_thread;

  // The coordinator's timer belongs to `io`, which is destroyed before `state`.
  ~Impl() { state.groups.reset(); }

  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  Status close_status;

  void log_exception(const std::exception_ptr& e, const char* what) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("broker", "task_failed", {{"task", what}, {"error", ex.what()}});
    }
  }

  LogThrottle accept_error_log;
  LogThrottle rejected_log;
  int open_files_limit = INT32_MAX;

  // Accepts on `acceptor` until stopping and hands each socket to `serve`. Resource
  // exhaustion pauses this listener (10 ms doubling to 1 s, reset by a success); the
  // connections already open keep being served meanwhile.
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, const char* listener,
                                    std::function<void(asio::ip::tcp::socket)> serve) {
    asio::steady_timer pause(io);
    auto backoff = std::chrono::steady_clock::duration(kMinAcceptBackoff);
    while (!stopping) {
      std::error_code ec;
      asio::ip::tcp::socket socket(io);
      co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (stopping) break;
      if (!ec) {
        backoff = kMinAcceptBackoff;
        serve(std::move(socket));
        continue;
      }
      state.metrics.accept_failed(listener);
      bool exhausted = is_resource_exhaustion(ec);
      if (int64_t suppressed = 0; accept_error_log.allow(suppressed)) {
        log::warn("broker", "accept_failed",
                  {{"listener", listener},
                   {"error", ec.message()},
                   {"pause_ms", exhausted ? static_cast<int64_t>(backoff / std::chrono::milliseconds(1)) : 0},
                   {"suppressed", suppressed}});
      }
      if (!exhausted) continue;
      pause.expires_after(backoff);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      backoff = std::min<std::chrono::steady_clock::duration>(backoff * 2, kMaxAcceptBackoff);
    }
  }

  // Why a new native connection must be closed at once, or null to serve it.
  const char* refusal(asio::ip::tcp::socket& socket) const {
    if (running_sessions >= state.config.max_connections) return "max_connections";
    // Descriptors are allocated lowest first: this number means all below it are in use.
    if (socket.native_handle() >= open_files_limit - kReservedFds) return "fd_limit";
    return nullptr;
  }

  void serve_native(asio::ip::tcp::socket accepted) {
    if (const char* reason = refusal(accepted)) {
      state.metrics.connection_rejected(reason);
      if (int64_t suppressed = 0; rejected_log.allow(suppressed)) {
        log::warn("broker", "connection_rejected",
                  {{"reason", reason},
                   {"connections", static_cast<int64_t>(running_sessions)},
                   {"max_connections", static_cast<int64_t>(state.config.max_connections)},
                   {"open_files_limit", static_cast<int64_t>(open_files_limit)},
                   {"suppressed", suppressed}});
      }
      std::error_code ec;
      accepted.close(ec);
      return;
    }
    std::error_code ec;
    auto socket = std::make_shared<asio::ip::tcp::socket>(std::move(accepted));
    socket->set_option(asio::ip::tcp::no_delay(true), ec);
    ++running_sessions;
    asio::co_spawn(io, run_session(state, sessions, socket, stopping), [this](const std::exception_ptr& e) {
      log_exception(e, "session");
      if (--running_sessions == 0 && stopping) finish_stop();
    });
  }

  void serve_http_connection(asio::ip::tcp::socket socket) {
    asio::co_spawn(io, serve_http(state, std::move(socket)),
                   [this](const std::exception_ptr& e) { log_exception(e, "http"); });
  }

  // Offsets expire on the environment's clock, checked on a steady timer.
  asio::awaitable<void> offsets_expiry_loop() {
    asio::steady_timer timer(io);
    while (!stopping) {
      timer.expires_after(std::chrono::milliseconds(state.config.offsets_retention_check_interval_ms));
      std::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping) break;
      co_await run_on(state.storage_pool.get_executor(), [this] {
        if (auto expired = state.offsets->expire(); !expired) {
          log::error("group", "offsets_expiry_failed", {{"error", expired.error().to_string()}});
        }
        return Response{};
      });
    }
  }

  asio::awaitable<void> retention_loop() {
    asio::steady_timer timer(io);
    while (!stopping) {
      timer.expires_after(std::chrono::milliseconds(state.config.retention_check_interval_ms));
      std::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping) break;
      state.topics->apply_retention();
    }
  }

  // On the I/O thread: stop accepting, stop reading new requests; sessions finish
  // the request they are in and exit; the last one out closes the logs.
  void begin_stop() {
    if (stopping.exchange(true)) return;
    log::info("broker", "stopping", {{"connections", static_cast<int64_t>(sessions.size())}});
    std::error_code ec;
    acceptor.close(ec);
    http_acceptor.close(ec);
    sessions.shutdown_reads();
    state.stopping = true;
    for (const auto& topic : state.topics->list(TopicTable::Internal::include)) {
      for (const auto& partition : topic->partitions) partition->wake_waiters();
    }
    if (state.groups) state.groups->wake_all();  // fetches that watch a group and read no partition
    if (running_sessions == 0) finish_stop();
  }

  void finish_stop() {
    // Close logs off the I/O thread's stack frame but on it, after in-flight work.
    asio::post(io, [this] {
      if (state.cleaner) state.cleaner->stop();
      Status s = state.topics->close_all();
      state.storage_pool.join();
      if (!s) log::error("broker", "close_failed", {{"error", s.error().to_string()}});
      log::info("broker", "stopped", {{"clean", s.has_value() ? "true" : "false"}});
      io.stop();
      std::lock_guard lock(done_mu);
      close_status = s;
      done = true;
      done_cv.notify_all();
    });
  }
};

Broker::Broker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Broker::~Broker() {
  request_stop();
  (void)wait();
}

Result<std::unique_ptr<Broker>> Broker::start(BrokerConfig config, BrokerEnvironment environment) {
  if (auto s = validate_broker_config(config); !s) return tl::unexpected(s.error());
  auto impl = std::make_unique<Impl>();
  if (auto s = impl->data_dir_lock.acquire(config.data_dir); !s) return tl::unexpected(s.error());
  impl->state.config = config;
  impl->state.steady_clock = &environment.steady_clock;
  impl->state.write_health = std::make_unique<WriteHealth>(config.data_dir);
  impl->open_files_limit = soft_open_files_limit();
  auto topics = TopicTable::open(environment.fs, environment.clock, config.data_dir, config.topic_defaults);
  if (!topics) return tl::unexpected(topics.error());
  impl->state.topics = std::move(*topics);
  auto producer_ids = ProducerIdAllocator::open(environment.fs, config.data_dir);
  if (!producer_ids) return tl::unexpected(producer_ids.error());
  impl->state.producer_ids = std::move(*producer_ids);
  // Loaded before the listener opens, so no group request sees a half-loaded store.
  impl->state.offsets = std::make_unique<group::OffsetStore>(
      *impl->state.topics, environment.clock,
      group::OffsetStoreConfig{config.offsets_topic_num_partitions, config.offsets_retention_minutes * 60'000,
                               static_cast<size_t>(config.offset_metadata_max_bytes),
                               config.offsets_topic_segment_bytes});
  if (auto s = impl->state.offsets->load(); !s) return tl::unexpected(s.error());
  impl->state.transactions = std::make_unique<TransactionStore>(
      *impl->state.topics, *impl->state.producer_ids, environment.clock,
      TransactionStoreConfig{config.transaction_state_log_num_partitions, config.transaction_state_log_segment_bytes,
                             config.transaction_max_timeout_ms});
  if (auto s = impl->state.transactions->load(); !s) return tl::unexpected(s.error());
  impl->state.groups = std::make_unique<group::GroupCoordinator>(impl->io.get_executor(), *impl->state.topics,
                                                                 environment.steady_clock, group_config(config));
  impl->state.groups->restore(*impl->state.offsets, impl->state.storage_pool.get_executor());

  auto bind = [&](asio::ip::tcp::acceptor& acceptor, const std::string& where, const char* name) -> Status {
    auto hp = parse_host_port(where);
    if (!hp) return make_error(Errc::invalid_argument, std::string(name) + ": " + hp.error().message);
    std::error_code ec;
    auto address = asio::ip::make_address(hp->host == "localhost" ? "127.0.0.1" : hp->host, ec);
    if (ec) return make_error(Errc::invalid_argument, std::string(name) + ": '" + hp->host + "' is not an IP address");
    asio::ip::tcp::endpoint endpoint(address, hp->port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error(Errc::io_error, std::string(name) + ": cannot listen on " + where + ": " + ec.message());
    return {};
  };
  if (auto s = bind(impl->acceptor, config.listen, "listen"); !s) return tl::unexpected(s.error());
  if (!config.http.empty()) {
    if (auto s = bind(impl->http_acceptor, config.http, "http"); !s) return tl::unexpected(s.error());
  }
  auto ep = impl->acceptor.local_endpoint();
  impl->state.address = HostPort{ep.address().to_string(), ep.port()};

  Impl* raw = impl.get();
  auto on_error = [raw](const char* what) {
    return [raw, what](const std::exception_ptr& e) { raw->log_exception(e, what); };
  };
  asio::co_spawn(raw->io,
                 raw->accept_loop(raw->acceptor, "native",
                                  [raw](asio::ip::tcp::socket socket) { raw->serve_native(std::move(socket)); }),
                 on_error("accept"));
  if (!config.http.empty()) {
    asio::co_spawn(
        raw->io,
        raw->accept_loop(raw->http_acceptor, "http",
                         [raw](asio::ip::tcp::socket socket) { raw->serve_http_connection(std::move(socket)); }),
        on_error("http"));
  }
  asio::co_spawn(raw->io, raw->retention_loop(), on_error("retention"));
  raw->state.cleaner = std::make_unique<LogCleaner>(
      *raw->state.topics, environment.clock,
      LogCleanerSettings{config.log_cleaner_backoff_ms, static_cast<size_t>(config.log_cleaner_dedupe_buffer_size),
                         config.log_cleaner_io_max_bytes_per_second, config.log_cleaner_threads});
  raw->state.cleaner->start();
  asio::co_spawn(raw->io, raw->offsets_expiry_loop(), on_error("offsets_expiry"));
  raw->io_thread = std::thread([raw] {
    // sendfile to a socket the client closed raises SIGPIPE for this thread; a
    // broker embedded in someone's process must not be killed by it (sluiced
    // ignores it process-wide). The write still fails with EPIPE.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    auto guard = asio::make_work_guard(raw->io);
    raw->io.run();
  });
  log::info(
      "broker", "started",
      {{"listen", raw->state.address.to_string()},
       {"http", config.http.empty() ? std::string("off")
                                    : std::string(raw->http_acceptor.local_endpoint().address().to_string() + ":" +
                                                  std::to_string(raw->http_acceptor.local_endpoint().port()))},
       {"data_dir", config.data_dir},
       {"topics", static_cast<int64_t>(raw->state.topics->list().size())}});
  return std::unique_ptr<Broker>(new Broker(std::move(impl)));
}

HostPort Broker::address() const { return impl_->state.address; }

HostPort Broker::http_address() const {
  std::error_code ec;
  auto ep = impl_->http_acceptor.local_endpoint(ec);
  if (ec) return {};
  return HostPort{ep.address().to_string(), ep.port()};
}

void Broker::request_stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->begin_stop(); });
}

Status Broker::wait() {
  {
    std::unique_lock lock(impl_->done_mu);
    impl_->done_cv.wait(lock, [&] { return impl_->done; });
  }
  if (impl_->io_thread.joinable()) impl_->io_thread.join();
  return impl_->close_status;
}

}  // namespace sluice::broker
