// Consumer settings by their Kafka names: each name sets its field; bad values
// and unknown names are refused naming the key.
#include "sluice/consumer/consumer_properties.h"

#include <gtest/gtest.h>

#include <functional>

namespace sluice::consumer {
namespace {

TEST(ConsumerProperties, EachKafkaNameSetsItsField) {
  struct Case {
    std::string_view name, value;
    std::function<bool(const ConsumerConfig&)> holds;
  };
  const Case cases[] = {
      {"bootstrap.servers", "10.0.0.1:7400", [](auto& c) { return c.bootstrap == "10.0.0.1:7400"; }},
      {"client.id", "reports", [](auto& c) { return c.client_id == "reports"; }},
      {"auto.offset.reset", "earliest", [](auto& c) { return c.auto_offset_reset == OffsetReset::earliest; }},
      {"auto.offset.reset", "none", [](auto& c) { return c.auto_offset_reset == OffsetReset::none; }},
      {"fetch.min.bytes", "1024", [](auto& c) { return c.fetch_min_bytes == 1024; }},
      {"fetch.max.wait.ms", "100", [](auto& c) { return c.fetch_max_wait_ms == 100; }},
      {"max.partition.fetch.bytes", "65536", [](auto& c) { return c.max_partition_fetch_bytes == 65536; }},
      {"fetch.max.bytes", "1048576", [](auto& c) { return c.fetch_max_bytes == 1048576; }},
      {"max.poll.records", "10", [](auto& c) { return c.max_poll_records == 10; }},
      {"request.timeout.ms", "2000", [](auto& c) { return c.request_timeout_ms == 2000; }},
      {"retry.backoff.ms", "250", [](auto& c) { return c.retry_backoff_ms == 250; }},
      {"check.crcs", "false", [](auto& c) { return !c.check_crcs; }},
      {"group.id", "billing", [](auto& c) { return c.group_id == "billing"; }},
      {"group.instance.id", "host-1", [](auto& c) { return c.group_instance_id == "host-1"; }},
      {"session.timeout.ms", "6000", [](auto& c) { return c.session_timeout_ms == 6000; }},
      {"heartbeat.interval.ms", "500", [](auto& c) { return c.heartbeat_interval_ms == 500; }},
      {"max.poll.interval.ms", "60000", [](auto& c) { return c.max_poll_interval_ms == 60000; }},
      {"enable.auto.commit", "false", [](auto& c) { return !c.enable_auto_commit; }},
      {"auto.commit.interval.ms", "100", [](auto& c) { return c.auto_commit_interval_ms == 100; }},
  };
  for (const Case& c : cases) {
    ConsumerConfig config;
    ASSERT_FALSE(c.holds(config)) << c.name << " already holds by default: the case proves nothing";
    auto s = set_property(config, c.name, c.value);
    ASSERT_TRUE(s) << c.name << ": " << s.error().to_string();
    EXPECT_TRUE(c.holds(config)) << c.name << "=" << c.value;
  }
  for (const auto& p : consumer_properties()) {
    bool covered = false;
    for (const Case& c : cases) covered = covered || c.name == p.name;
    EXPECT_TRUE(covered) << p.name;
  }
}

TEST(ConsumerProperties, BadValuesAndUnknownNamesAreErrorsNamingTheKey) {
  ConsumerConfig config;
  auto reset = set_property(config, "auto.offset.reset", "smallest");
  ASSERT_FALSE(reset);
  EXPECT_NE(reset.error().message.find("auto.offset.reset: 'smallest'"), std::string::npos);
  EXPECT_FALSE(set_property(config, "fetch.min.bytes", "99999999999")) << "out of int32 range";
  EXPECT_FALSE(set_property(config, "check.crcs", "1"));
  auto unknown = set_property(config, "group.instance", "a");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown setting 'group.instance'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::consumer
