#include "sluice/client/producer_config.h"

#include "sluice/client/network_client.h"

namespace sluice::client {

Status validate(const ProducerConfig& c) {
  auto bad = [](const std::string& what) { return tl::unexpected(Error{Errc::invalid_argument, what}); };
  if (auto b = parse_bootstrap(c.bootstrap); !b) return tl::unexpected(b.error());
  if (c.acks != kAcksNone && c.acks != kAcksLeader && c.acks != kAcksAll) {
    return bad("acks must be 0, 1 or -1 (all), got " + std::to_string(c.acks));
  }
  if (c.batch_bytes == 0) return bad("batch_bytes must be positive");
  if (c.linger_ms < 0) return bad("linger_ms must be >= 0");
  if (c.zstd_level < -7 || c.zstd_level > 22) return bad("zstd_level must be in [-7, 22]");
  if (c.max_in_flight < 1) return bad("max_in_flight must be >= 1");
  if (c.buffer_memory == 0) return bad("buffer_memory must be positive");
  if (c.max_block_ms < 0) return bad("max_block_ms must be >= 0");
  if (c.retries < 0) return bad("retries must be >= 0");
  if (c.retry_backoff_ms < 0 || c.retry_backoff_max_ms < 0) return bad("retry backoffs must be >= 0");
  if (c.request_timeout_ms <= 0) return bad("request_timeout_ms must be positive");
  if (c.request_timeout_ms > std::numeric_limits<int32_t>::max()) return bad("request_timeout_ms must fit in int32");
  if (c.delivery_timeout_ms < c.linger_ms + c.request_timeout_ms) {
    return bad("delivery_timeout_ms (" + std::to_string(c.delivery_timeout_ms) +
               ") must be >= linger_ms + request_timeout_ms (" + std::to_string(c.linger_ms + c.request_timeout_ms) +
               ")");
  }
  if (c.max_request_bytes < 1024) return bad("max_request_bytes must be >= 1024");
  if (c.metadata_max_age_ms <= 0) return bad("metadata_max_age_ms must be positive");
  return {};
}

}  // namespace sluice::client
