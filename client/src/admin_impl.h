// The admin client's state, shared by its source files (admin.cc, admin_groups.cc).
#pragma once

#include <chrono>
#include <memory>

#include "sluice/client/admin.h"
#include "sluice/client/network_client.h"

namespace sluice::client {

struct Admin::Impl {
  AdminConfig config;
  std::unique_ptr<NetworkClient> net;

  std::chrono::milliseconds timeout() const { return std::chrono::milliseconds(config.request_timeout_ms); }
};

}  // namespace sluice::client
