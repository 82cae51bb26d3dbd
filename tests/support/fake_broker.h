// A scriptable broker for client tests: a loopback TCP listener that speaks the
// native framing and hands every request to a handler, which decides the reply:
// a response body, a header-level error, silence, a wrong correlation id, or a
// dropped connection. Each connection is served by its own thread, requests in
// order; handler calls are serialised.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sluice/common/bytes.h"
#include "sluice/proto/api_registry.h"
#include "sluice/storage/producer_state.h"

#include "sluice.pb.h"

namespace sluice::testing {

class FakeBroker {
 public:
  struct Request {
    wire::RequestHeader header;
    Bytes body;
    Bytes records;
    int connection = 0;  // 1 for the first connection accepted, 2 for the next...
  };
  struct Reply {
    enum class Action { respond, silent, disconnect };
    Action action = Action::respond;
    Bytes body;
    Bytes records;
    std::optional<wire::Error> header_error;
    std::optional<uint64_t> correlation_id;  // overrides the request's
    std::chrono::milliseconds delay{0};

    static Reply with(const google::protobuf::MessageLite& body) {
      Reply r;
      r.body.resize(body.ByteSizeLong());
      body.SerializeToArray(r.body.data(), static_cast<int>(r.body.size()));
      return r;
    }
    static Reply silence() { return Reply{Action::silent}; }
    // A header-level error, as the broker answers a request it cannot serve.
    static Reply header_failure(wire::ErrorCode code, const std::string& message) {
      Reply r;
      wire::Error e;
      e.set_code(code);
      e.set_message(message);
      r.header_error = e;
      return r;
    }
    static Reply hang_up() { return Reply{Action::disconnect}; }
  };
  using Handler = std::function<Reply(const Request&)>;

  explicit FakeBroker(Handler handler);
  ~FakeBroker();

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  int connections() const { return accepted_.load(); }
  // Closes every open connection (the listener stays up).
  void drop_connections();

 private:
  void accept_loop();
  void serve(int fd, int id);

  Handler handler_;
  std::mutex handler_mutex_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex conns_mutex_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> conn_threads_;
};

// A handler waits on it to hold its reply until the test opens it: the test
// orders what the client does before the answer by a condition, not by time.
// The wait gives up after `limit` of real time, a failure bound only, so a test
// that fails before open() does not leave its broker (and producer) stuck.
// Thread-safety: every method may be called from any thread.
class Gate {
 public:
  void open();
  // Blocks until open(); false when `limit` passed first.
  bool wait(std::chrono::milliseconds limit = std::chrono::seconds(10)) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable opened_;
  bool open_ = false;
};

// A minimal in-memory log behind Metadata, Produce and InitProducerId: topics
// with partition counts, records appended per partition, idempotent producers'
// batches checked with the broker's own rules (storage::ProducerStateTable).
// Tests wrap its handle() to inject faults.
class FakeLog {
 public:
  struct StoredRecord {
    std::optional<std::string> key;
    std::optional<std::string> value;
  };

  void add_topic(const std::string& name, int32_t partitions);
  void remove_topic(const std::string& name);
  FakeBroker::Reply handle(const FakeBroker::Request& request);
  std::vector<StoredRecord> records(const std::string& topic, int32_t partition) const;
  int produce_requests() const { return produce_requests_.load(); }
  int producer_ids_given() const { return producer_ids_given_.load(); }
  // Batches answered as duplicates of one appended before (not appended again).
  int duplicates() const { return duplicates_.load(); }
  // Record counts of every batch received, in arrival order.
  std::vector<int32_t> batch_sizes() const;

 private:
  FakeBroker::Reply metadata(const FakeBroker::Request& request);
  FakeBroker::Reply produce(const FakeBroker::Request& request);
  FakeBroker::Reply init_producer_id();

  mutable std::mutex mutex_;
  std::map<std::string, std::vector<std::vector<StoredRecord>>> topics_;
  std::map<std::pair<std::string, int32_t>, storage::ProducerStateTable> producer_states_;
  std::atomic<int> producer_ids_given_{0};
  std::atomic<int> duplicates_{0};
  std::vector<int32_t> batch_sizes_;
  std::atomic<int> produce_requests_{0};
};

}  // namespace sluice::testing
