#include "sluice/client/config_properties.h"

#include <charconv>

namespace sluice::client {
namespace {

Status bad_value(std::string_view name, std::string_view value, std::string_view expected) {
  return make_error(Errc::invalid_argument,
                    std::string(name) + ": '" + std::string(value) + "' is not " + std::string(expected));
}

// One table row per name; the lambdas are captureless so they convert to the
// row's function pointer.
#define SLUICE_INT_PROPERTY(key, field)                                                       \
  {                                                                                           \
    key, [](ProducerConfig& c, std::string_view v) { return set_int_field(c.field, key, v); } \
  }
#define SLUICE_BOOL_PROPERTY(key, field)                                                       \
  {                                                                                            \
    key, [](ProducerConfig& c, std::string_view v) { return set_bool_field(c.field, key, v); } \
  }

const ConfigProperty<ProducerConfig> kProducerProperties[] = {
    {"bootstrap.servers", [](ProducerConfig& c, std::string_view v) -> Status { return c.bootstrap = v, Status{}; }},
    {"client.id", [](ProducerConfig& c, std::string_view v) -> Status { return c.client_id = v, Status{}; }},
    {"acks",
     [](ProducerConfig& c, std::string_view v) -> Status {
       if (v == "all") return c.acks = kAcksAll, Status{};
       return set_int_field(c.acks, "acks", v);
     }},
    {"compression.type",
     [](ProducerConfig& c, std::string_view v) -> Status {
       if (v == "none") return c.compression = CompressionType::none, Status{};
       if (v == "zstd") return c.compression = CompressionType::zstd, Status{};
       return bad_value("compression.type", v, "none or zstd (the codecs Sluice supports)");
     }},
    SLUICE_INT_PROPERTY("batch.size", batch_bytes),
    SLUICE_INT_PROPERTY("linger.ms", linger_ms),
    SLUICE_INT_PROPERTY("compression.level", zstd_level),
    SLUICE_INT_PROPERTY("max.in.flight.requests.per.connection", max_in_flight),
    SLUICE_BOOL_PROPERTY("enable.idempotence", enable_idempotence),
    SLUICE_BOOL_PROPERTY("preserve.order", preserve_order),
    SLUICE_INT_PROPERTY("buffer.memory", buffer_memory),
    SLUICE_BOOL_PROPERTY("block.on.buffer.full", block_on_buffer_full),
    SLUICE_INT_PROPERTY("max.block.ms", max_block_ms),
    SLUICE_INT_PROPERTY("retries", retries),
    SLUICE_INT_PROPERTY("retry.backoff.ms", retry_backoff_ms),
    SLUICE_INT_PROPERTY("retry.backoff.max.ms", retry_backoff_max_ms),
    SLUICE_INT_PROPERTY("request.timeout.ms", request_timeout_ms),
    SLUICE_INT_PROPERTY("delivery.timeout.ms", delivery_timeout_ms),
    SLUICE_INT_PROPERTY("max.request.size", max_request_bytes),
    SLUICE_INT_PROPERTY("metadata.max.age.ms", metadata_max_age_ms),
};

#undef SLUICE_INT_PROPERTY
#undef SLUICE_BOOL_PROPERTY

}  // namespace

Result<int64_t> parse_int_property(std::string_view name, std::string_view value) {
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || ptr != value.data() + value.size() || value.empty()) {
    return tl::unexpected(bad_value(name, value, "an integer").error());
  }
  return out;
}

Status set_bool_field(bool& field, std::string_view name, std::string_view value) {
  auto b = parse_bool_property(name, value);
  if (!b) return tl::unexpected(b.error());
  field = *b;
  return {};
}

Result<bool> parse_bool_property(std::string_view name, std::string_view value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return tl::unexpected(bad_value(name, value, "true or false").error());
}

std::span<const ConfigProperty<ProducerConfig>> producer_properties() { return kProducerProperties; }

Status set_property(ProducerConfig& config, std::string_view name, std::string_view value) {
  return set_property(producer_properties(), config, name, value);
}

}  // namespace sluice::client
