// The broker: topics on disk, the native protocol listener, and the HTTP
// endpoint for /metrics and /healthz. `sluiced` is a thin main around it, and
// sluice::testing::EmbeddedBroker runs one inside a test process.
//
// Lifecycle: start() opens the data directory and binds both listeners;
// request_stop() (any thread) stops accepting, lets requests in flight finish,
// closes every log cleanly; wait() blocks until that is done.
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <memory>

#include "sluice/broker/broker_config.h"
#include "sluice/common/clock.h"
#include "sluice/common/error.h"
#include "sluice/common/steady_clock.h"
#include "sluice/storage/file_system.h"

namespace sluice::broker {

// What the broker takes from outside rather than from the process, so a test can
// run it on a fault-injecting file system and manual clocks. All must outlive
// the broker. (The data directory's lock is always a real flock.)
struct BrokerEnvironment {
  storage::FileSystem& fs = storage::posix_file_system();
  Clock& clock = SystemClock::instance();                           // record timestamps' age: retention, segment.ms
  const SteadyClock& steady_clock = SystemSteadyClock::instance();  // fetch long polls, idle connections
};

class Broker {
 public:
  static Result<std::unique_ptr<Broker>> start(BrokerConfig config, BrokerEnvironment environment = {});
  ~Broker();  // request_stop() + wait()

  // The bound addresses (the real port when the config asked for port 0).
  HostPort address() const;
  HostPort http_address() const;

  void request_stop();
  // Blocks until stopped; the status of closing the logs.
  Status wait();

  struct Impl;

 private:
  explicit Broker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::broker
