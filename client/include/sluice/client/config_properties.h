// Settings by their Kafka names: set_property(config, "linger.ms", "20") sets
// ProducerConfig::linger_ms, as librdkafka's rd_kafka_conf_set and kcat's -X do,
// so a user can carry a Kafka properties file over. An unknown name, or a value
// that does not parse as the setting's type, is an invalid_argument error naming
// the key; the ranges are checked by validate() when the client is created.
// Thread-safety: plain functions on a caller-owned config.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "sluice/client/producer_config.h"
#include "sluice/common/error.h"

namespace sluice::client {

// One settable name: `set` parses `value` into its field of Config.
template <typename Config>
struct ConfigProperty {
  std::string_view name;
  Status (*set)(Config& config, std::string_view value);
};

// The parsers the property tables share. `name` is for the error message.
Result<int64_t> parse_int_property(std::string_view name, std::string_view value);
Result<bool> parse_bool_property(std::string_view name, std::string_view value);

// `field` = value parsed as an integer in T's range, or = true/false.
template <typename T>
Status set_int_field(T& field, std::string_view name, std::string_view value) {
  auto n = parse_int_property(name, value);
  if (!n) return tl::unexpected(n.error());
  if (!std::in_range<T>(*n)) {
    return make_error(Errc::invalid_argument, std::string(name) + ": " + std::string(value) + " is out of range");
  }
  field = static_cast<T>(*n);
  return {};
}
Status set_bool_field(bool& field, std::string_view name, std::string_view value);

// Finds `name` in `table` and sets it; "unknown setting" (with the known names)
// for a name not in the table.
template <typename Config>
Status set_property(std::span<const ConfigProperty<Config>> table, Config& config, std::string_view name,
                    std::string_view value) {
  for (const ConfigProperty<Config>& p : table) {
    if (p.name == name) return p.set(config, value);
  }
  std::string known;
  for (const ConfigProperty<Config>& p : table) known += (known.empty() ? "" : ", ") + std::string(p.name);
  return make_error(Errc::invalid_argument, "unknown setting '" + std::string(name) + "' (known: " + known + ")");
}

// The producer's names: Kafka's (batch.size, linger.ms, acks, compression.type,
// enable.idempotence, max.in.flight.requests.per.connection, buffer.memory,
// max.block.ms, retries, retry.backoff.ms, retry.backoff.max.ms,
// request.timeout.ms, delivery.timeout.ms, max.request.size,
// metadata.max.age.ms, client.id, bootstrap.servers), and Sluice's own
// (compression.level, preserve.order, block.on.buffer.full).
Status set_property(ProducerConfig& config, std::string_view name, std::string_view value);
std::span<const ConfigProperty<ProducerConfig>> producer_properties();

}  // namespace sluice::client
