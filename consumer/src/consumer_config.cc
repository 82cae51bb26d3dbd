#include "sluice/consumer/consumer_config.h"

#include "sluice/client/network_client.h"

namespace sluice::consumer {

Status validate(const ConsumerConfig& c) {
  auto bad = [](const std::string& what) { return tl::unexpected(Error{Errc::invalid_argument, what}); };
  if (auto b = client::parse_bootstrap(c.bootstrap); !b) return tl::unexpected(b.error());
  if (c.fetch_min_bytes < 0) return bad("fetch_min_bytes must be >= 0");
  if (c.fetch_max_wait_ms < 0) return bad("fetch_max_wait_ms must be >= 0");
  if (c.max_partition_fetch_bytes <= 0) return bad("max_partition_fetch_bytes must be positive");
  if (c.fetch_max_bytes <= 0) return bad("fetch_max_bytes must be positive");
  if (c.max_poll_records <= 0) return bad("max_poll_records must be positive");
  if (c.group_id.size() > 255) return bad("group_id must be at most 255 characters");
  if (c.session_timeout_ms <= 0) return bad("session_timeout_ms must be positive");
  if (c.heartbeat_interval_ms <= 0) return bad("heartbeat_interval_ms must be positive");
  if (c.max_poll_interval_ms <= 0) return bad("max_poll_interval_ms must be positive");
  if (c.auto_commit_interval_ms <= 0) return bad("auto_commit_interval_ms must be positive");
  if (c.request_timeout_ms <= 0) return bad("request_timeout_ms must be positive");
  if (c.retry_backoff_ms < 0) return bad("retry_backoff_ms must be >= 0");
  return {};
}

}  // namespace sluice::consumer
