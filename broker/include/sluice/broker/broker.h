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
#include "sluice/common/error.h"

namespace sluice::broker {

class Broker {
 public:
  static Result<std::unique_ptr<Broker>> start(BrokerConfig config);
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
