// The consumer's settings by their Kafka names (see client/config_properties.h):
// bootstrap.servers, client.id, auto.offset.reset (earliest|latest|none),
// fetch.min.bytes, fetch.max.wait.ms, max.partition.fetch.bytes,
// fetch.max.bytes, max.poll.records, request.timeout.ms, check.crcs.
// Thread-safety: plain functions on a caller-owned config.
#pragma once

#include <span>
#include <string_view>

#include "sluice/client/config_properties.h"
#include "sluice/consumer/consumer_config.h"

namespace sluice::consumer {

Status set_property(ConsumerConfig& config, std::string_view name, std::string_view value);
std::span<const client::ConfigProperty<ConsumerConfig>> consumer_properties();

}  // namespace sluice::consumer
