// A broker inside the test process, for users' own tests: an ephemeral loopback
// port and a temporary data directory that is removed afterwards.
//
//   sluice::testing::EmbeddedBroker broker;            // started
//   Producer producer({.bootstrap = broker.bootstrap()});
//
// Thread-safety: construct and destroy on one thread; bootstrap() from any.
#pragma once

#include <memory>
#include <string>

#include "sluice/broker/broker.h"

namespace sluice::testing {

class EmbeddedBroker {
 public:
  // Starts a broker with `config` except data_dir, listen and http, which it picks,
  // on `environment` (which must outlive this object; restart() uses it again).
  // Throws std::runtime_error if the broker cannot start (a test edge).
  explicit EmbeddedBroker(broker::BrokerConfig config = {}, broker::BrokerEnvironment environment = {});
  ~EmbeddedBroker();

  std::string bootstrap() const;  // "127.0.0.1:<port>"
  std::string http_address() const;
  const std::string& data_dir() const { return data_dir_; }

  // Stops the broker cleanly and starts it again on the same data and port.
  void restart();

 private:
  broker::BrokerConfig config_;
  broker::BrokerEnvironment environment_;
  std::string data_dir_;
  std::unique_ptr<broker::Broker> broker_;
};

}  // namespace sluice::testing
