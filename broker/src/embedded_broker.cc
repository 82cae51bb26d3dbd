#include "sluice/broker/embedded_broker.h"

#include <filesystem>
#include <random>
#include <stdexcept>

namespace sluice::testing {

EmbeddedBroker::EmbeddedBroker(broker::BrokerConfig config, broker::BrokerEnvironment environment)
    : config_(std::move(config)), environment_(environment) {
  std::random_device rd;
  data_dir_ =
      (std::filesystem::temp_directory_path() / ("sluice-embedded-" + std::to_string(rd()) + std::to_string(rd())))
          .string();
  config_.data_dir = data_dir_;
  config_.listen = "127.0.0.1:0";
  config_.http = "127.0.0.1:0";
  auto started = broker::Broker::start(config_, environment_);
  if (!started) throw std::runtime_error("embedded broker: " + started.error().to_string());
  broker_ = std::move(*started);
  // Keep the same ports across restart() so clients can reconnect.
  config_.listen = broker_->address().to_string();
  config_.http = broker_->http_address().to_string();
}

EmbeddedBroker::~EmbeddedBroker() {
  broker_.reset();
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
}

std::string EmbeddedBroker::bootstrap() const { return broker_->address().to_string(); }
std::string EmbeddedBroker::http_address() const { return config_.http; }

void EmbeddedBroker::restart() {
  broker_.reset();
  auto started = broker::Broker::start(config_, environment_);
  if (!started) throw std::runtime_error("embedded broker restart: " + started.error().to_string());
  broker_ = std::move(*started);
}

}  // namespace sluice::testing
