#include "fake_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "sluice/proto/frame.h"
#include "sluice/storage/record_batch.h"

namespace sluice::testing {

namespace {

// Reads exactly n bytes; false on EOF, error or stop.
bool read_exact(int fd, std::byte* out, size_t n, const std::atomic<bool>& stop) {
  size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 50);
    if (stop) return false;
    if (ready <= 0) continue;
    ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

bool write_all(int fd, const Bytes& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t w = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (w <= 0) return false;
    sent += static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

FakeBroker::FakeBroker(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("fake broker: cannot listen");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeBroker::~FakeBroker() {
  stop_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  drop_connections();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(conns_mutex_);
    threads.swap(conn_threads_);
  }
  for (auto& t : threads) t.join();
}

void FakeBroker::drop_connections() {
  std::lock_guard lock(conns_mutex_);
  for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
}

void FakeBroker::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int id = ++accepted_;
    std::lock_guard lock(conns_mutex_);
    conn_fds_.push_back(fd);
    conn_threads_.emplace_back([this, fd, id] { serve(fd, id); });
  }
}

void FakeBroker::serve(int fd, int id) {
  for (;;) {
    std::byte len_buf[4];
    if (!read_exact(fd, len_buf, 4, stop_)) break;
    Bytes frame(load_be<uint32_t>(len_buf));
    if (!read_exact(fd, frame.data(), frame.size(), stop_)) break;
    auto view = wire::split_frame(frame);
    if (!view) break;
    Request request;
    request.connection = id;
    if (!wire::parse_message(view->header, request.header)) break;
    request.body.assign(view->body.begin(), view->body.end());
    request.records.assign(view->records.begin(), view->records.end());
    Reply reply;
    {
      std::lock_guard lock(handler_mutex_);
      reply = handler_(request);
    }
    if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
    if (reply.action == Reply::Action::disconnect) break;
    if (reply.action == Reply::Action::silent) continue;
    wire::ResponseHeader header;
    header.set_correlation_id(reply.correlation_id.value_or(request.header.correlation_id()));
    if (reply.header_error) *header.mutable_error() = *reply.header_error;
    // length | header_size | header | body_size | body | records
    Bytes header_bytes(header.ByteSizeLong());
    header.SerializeToArray(header_bytes.data(), static_cast<int>(header_bytes.size()));
    Bytes out;
    ByteWriter w(out);
    w.put_be<uint32_t>(static_cast<uint32_t>(4 + header_bytes.size() + 4 + reply.body.size() + reply.records.size()));
    w.put_be<uint32_t>(static_cast<uint32_t>(header_bytes.size()));
    w.put_bytes(header_bytes);
    w.put_be<uint32_t>(static_cast<uint32_t>(reply.body.size()));
    w.put_bytes(reply.body);
    w.put_bytes(reply.records);
    if (!write_all(fd, out)) break;
  }
  ::shutdown(fd, SHUT_RDWR);
  std::lock_guard lock(conns_mutex_);
  std::erase(conn_fds_, fd);
  ::close(fd);
}

void Gate::open() {
  {
    std::lock_guard lock(mutex_);
    open_ = true;
  }
  opened_.notify_all();
}

bool Gate::wait(std::chrono::milliseconds limit) const {
  std::unique_lock lock(mutex_);
  return opened_.wait_for(lock, limit, [this] { return open_; });
}

void FakeLog::add_topic(const std::string& name, int32_t partitions) {
  std::lock_guard lock(mutex_);
  topics_[name].resize(static_cast<size_t>(partitions));
}

void FakeLog::remove_topic(const std::string& name) {
  std::lock_guard lock(mutex_);
  topics_.erase(name);
}

std::vector<FakeLog::StoredRecord> FakeLog::records(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mutex_);
  return topics_.at(topic).at(static_cast<size_t>(partition));
}

std::vector<int32_t> FakeLog::batch_sizes() const {
  std::lock_guard lock(mutex_);
  return batch_sizes_;
}

FakeBroker::Reply FakeLog::handle(const FakeBroker::Request& request) {
  switch (request.header.api()) {
    case wire::METADATA: return metadata(request);
    case wire::PRODUCE: return produce(request);
    case wire::INIT_PRODUCER_ID: return init_producer_id();
    default: return FakeBroker::Reply::header_failure(wire::UNSUPPORTED_API, "fake broker");
  }
}

FakeBroker::Reply FakeLog::metadata(const FakeBroker::Request& request) {
  wire::MetadataRequest req;
  req.ParseFromArray(request.body.data(), static_cast<int>(request.body.size()));
  wire::MetadataResponse resp;
  resp.set_broker_host("127.0.0.1");
  std::lock_guard lock(mutex_);
  for (const auto& name : req.topics()) {
    auto* t = resp.add_topics();
    t->set_name(name);
    auto it = topics_.find(name);
    if (it == topics_.end()) {
      t->mutable_error()->set_code(wire::UNKNOWN_TOPIC_OR_PARTITION);
      t->mutable_error()->set_message("topic \"" + name + "\" does not exist");
      continue;
    }
    for (size_t p = 0; p < it->second.size(); ++p) {
      auto* pm = t->add_partitions();
      pm->set_partition(static_cast<int32_t>(p));
      pm->set_log_end_offset(static_cast<int64_t>(it->second[p].size()));
    }
  }
  return FakeBroker::Reply::with(resp);
}

FakeBroker::Reply FakeLog::init_producer_id() {
  wire::InitProducerIdResponse resp;
  resp.set_producer_id(1000 + ++producer_ids_given_);
  resp.set_producer_epoch(0);
  return FakeBroker::Reply::with(resp);
}

FakeBroker::Reply FakeLog::produce(const FakeBroker::Request& request) {
  ++produce_requests_;
  wire::ProduceRequest req;
  req.ParseFromArray(request.body.data(), static_cast<int>(request.body.size()));
  wire::ProduceResponse resp;
  ByteSpan rest(request.records);
  std::lock_guard lock(mutex_);
  for (const auto& pd : req.partitions()) {
    auto* r = resp.add_results();
    r->set_topic(pd.topic());
    r->set_partition(pd.partition());
    ByteSpan batches = rest.first(pd.records_size());
    rest = rest.subspan(pd.records_size());
    auto it = topics_.find(pd.topic());
    if (it == topics_.end() || pd.partition() >= static_cast<int32_t>(it->second.size())) {
      r->mutable_error()->set_code(wire::UNKNOWN_TOPIC_OR_PARTITION);
      r->mutable_error()->set_message("no partition " + pd.topic() + "-" + std::to_string(pd.partition()));
      continue;
    }
    auto& log = it->second[static_cast<size_t>(pd.partition())];
    // Like the broker: every batch in order, stopping at the first bad one.
    while (!batches.empty()) {
      auto valid = storage::validate_batch(batches);
      if (!valid) {
        r->mutable_error()->set_code(wire::CORRUPT_MESSAGE);
        r->mutable_error()->set_message(valid.error().to_string());
        break;
      }
      ByteSpan batch = batches.first(valid->total_size());
      auto& producers = producer_states_[{pd.topic(), pd.partition()}];
      auto duplicate = producers.check(*valid);
      if (!duplicate) {
        r->mutable_error()->set_code(duplicate.error().code == storage::StorageErrc::producer_fenced
                                         ? wire::INVALID_PRODUCER_EPOCH
                                         : wire::OUT_OF_ORDER_SEQUENCE_NUMBER);
        r->mutable_error()->set_message(duplicate.error().message);
        break;
      }
      const int64_t base = *duplicate ? (*duplicate)->first_offset.value() : static_cast<int64_t>(log.size());
      batches = batches.subspan(batch.size());
      if (r->batch_base_offsets_size() == 0) r->set_base_offset(base);
      r->add_batch_base_offsets(base);
      if (*duplicate) {
        ++duplicates_;
        continue;
      }
      storage::BatchHeader appended = *valid;
      appended.base_offset = Offset(base);
      producers.record(appended, 0);
      std::vector<storage::Record> decoded;
      Bytes scratch;
      (void)storage::decode_records(batch, decoded, scratch);
      batch_sizes_.push_back(static_cast<int32_t>(decoded.size()));
      for (const auto& rec : decoded) {
        StoredRecord s;
        if (rec.key) s.key = std::string(as_string_view(*rec.key));
        if (rec.value) s.value = std::string(as_string_view(*rec.value));
        log.push_back(std::move(s));
      }
    }
  }
  if (req.acks() == 0) return FakeBroker::Reply::silence();
  return FakeBroker::Reply::with(resp);
}

}  // namespace sluice::testing
