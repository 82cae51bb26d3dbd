#include "sluice/consumer/consumer_properties.h"

namespace sluice::consumer {
namespace {

#define SLUICE_INT_PROPERTY(key, field)                                                               \
  {                                                                                                   \
    key, [](ConsumerConfig& c, std::string_view v) { return client::set_int_field(c.field, key, v); } \
  }

const client::ConfigProperty<ConsumerConfig> kConsumerProperties[] = {
    {"bootstrap.servers", [](ConsumerConfig& c, std::string_view v) -> Status { return c.bootstrap = v, Status{}; }},
    {"client.id", [](ConsumerConfig& c, std::string_view v) -> Status { return c.client_id = v, Status{}; }},
    {"group.id", [](ConsumerConfig& c, std::string_view v) -> Status { return c.group_id = v, Status{}; }},
    {"group.instance.id",
     [](ConsumerConfig& c, std::string_view v) -> Status { return c.group_instance_id = v, Status{}; }},
    SLUICE_INT_PROPERTY("session.timeout.ms", session_timeout_ms),
    SLUICE_INT_PROPERTY("heartbeat.interval.ms", heartbeat_interval_ms),
    SLUICE_INT_PROPERTY("max.poll.interval.ms", max_poll_interval_ms),
    {"enable.auto.commit",
     [](ConsumerConfig& c, std::string_view v) {
       return client::set_bool_field(c.enable_auto_commit, "enable.auto.commit", v);
     }},
    SLUICE_INT_PROPERTY("auto.commit.interval.ms", auto_commit_interval_ms),
    {"auto.offset.reset",
     [](ConsumerConfig& c, std::string_view v) -> Status {
       if (v == "earliest") return c.auto_offset_reset = OffsetReset::earliest, Status{};
       if (v == "latest") return c.auto_offset_reset = OffsetReset::latest, Status{};
       if (v == "none") return c.auto_offset_reset = OffsetReset::none, Status{};
       return make_error(Errc::invalid_argument,
                         "auto.offset.reset: '" + std::string(v) + "' is not earliest, latest or none");
     }},
    SLUICE_INT_PROPERTY("fetch.min.bytes", fetch_min_bytes),
    SLUICE_INT_PROPERTY("fetch.max.wait.ms", fetch_max_wait_ms),
    SLUICE_INT_PROPERTY("max.partition.fetch.bytes", max_partition_fetch_bytes),
    SLUICE_INT_PROPERTY("fetch.max.bytes", fetch_max_bytes),
    SLUICE_INT_PROPERTY("max.poll.records", max_poll_records),
    SLUICE_INT_PROPERTY("request.timeout.ms", request_timeout_ms),
    SLUICE_INT_PROPERTY("retry.backoff.ms", retry_backoff_ms),
    {"check.crcs",
     [](ConsumerConfig& c, std::string_view v) { return client::set_bool_field(c.check_crcs, "check.crcs", v); }},
};

#undef SLUICE_INT_PROPERTY

}  // namespace

std::span<const client::ConfigProperty<ConsumerConfig>> consumer_properties() { return kConsumerProperties; }

Status set_property(ConsumerConfig& config, std::string_view name, std::string_view value) {
  return client::set_property(consumer_properties(), config, name, value);
}

}  // namespace sluice::consumer
