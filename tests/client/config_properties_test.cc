// Producer settings by their Kafka names: each name sets its field, values parse
// as the setting's type, and an unknown name is refused naming the known ones.
#include "sluice/client/config_properties.h"

#include <gtest/gtest.h>

#include <functional>

namespace sluice::client {
namespace {

TEST(ProducerProperties, EachKafkaNameSetsItsField) {
  struct Case {
    std::string_view name, value;
    std::function<bool(const ProducerConfig&)> holds;
  };
  const Case cases[] = {
      {"bootstrap.servers", "10.0.0.1:7400", [](auto& c) { return c.bootstrap == "10.0.0.1:7400"; }},
      {"client.id", "billing", [](auto& c) { return c.client_id == "billing"; }},
      {"acks", "0", [](auto& c) { return c.acks == kAcksNone; }},
      {"acks", "1", [](auto& c) { return c.acks == kAcksLeader; }},
      {"compression.type", "zstd", [](auto& c) { return c.compression == CompressionType::zstd; }},
      {"batch.size", "65536", [](auto& c) { return c.batch_bytes == 65536; }},
      {"linger.ms", "20", [](auto& c) { return c.linger_ms == 20; }},
      {"compression.level", "7", [](auto& c) { return c.zstd_level == 7; }},
      {"max.in.flight.requests.per.connection", "3", [](auto& c) { return c.max_in_flight == 3; }},
      {"enable.idempotence", "false", [](auto& c) { return !c.enable_idempotence; }},
      {"preserve.order", "false", [](auto& c) { return !c.preserve_order; }},
      {"buffer.memory", "1048576", [](auto& c) { return c.buffer_memory == 1048576; }},
      {"block.on.buffer.full", "false", [](auto& c) { return !c.block_on_buffer_full; }},
      {"max.block.ms", "10", [](auto& c) { return c.max_block_ms == 10; }},
      {"retries", "4", [](auto& c) { return c.retries == 4; }},
      {"retry.backoff.ms", "7", [](auto& c) { return c.retry_backoff_ms == 7; }},
      {"retry.backoff.max.ms", "70", [](auto& c) { return c.retry_backoff_max_ms == 70; }},
      {"request.timeout.ms", "1500", [](auto& c) { return c.request_timeout_ms == 1500; }},
      {"delivery.timeout.ms", "9000", [](auto& c) { return c.delivery_timeout_ms == 9000; }},
      {"max.request.size", "4096", [](auto& c) { return c.max_request_bytes == 4096; }},
      {"metadata.max.age.ms", "1000", [](auto& c) { return c.metadata_max_age_ms == 1000; }},
  };
  for (const Case& c : cases) {
    ProducerConfig config;
    ASSERT_FALSE(c.holds(config)) << c.name << " already holds by default: the case proves nothing";
    auto s = set_property(config, c.name, c.value);
    ASSERT_TRUE(s) << c.name << ": " << s.error().to_string();
    EXPECT_TRUE(c.holds(config)) << c.name << "=" << c.value;
  }
  // Every name in the table is covered above.
  for (const auto& p : producer_properties()) {
    bool covered = false;
    for (const Case& c : cases) covered = covered || c.name == p.name;
    EXPECT_TRUE(covered) << p.name;
  }
}

TEST(ProducerProperties, AcksAllIsMinusOne) {
  ProducerConfig config;
  ASSERT_TRUE(set_property(config, "acks", "0"));
  ASSERT_TRUE(set_property(config, "acks", "all"));
  EXPECT_EQ(config.acks, kAcksAll);
}

TEST(ProducerProperties, BadValuesAndUnknownNamesAreErrorsNamingTheKey) {
  ProducerConfig config;
  auto not_int = set_property(config, "linger.ms", "5ms");
  ASSERT_FALSE(not_int);
  EXPECT_EQ(not_int.error().code, Errc::invalid_argument);
  EXPECT_EQ(not_int.error().message, "linger.ms: '5ms' is not an integer");
  EXPECT_FALSE(set_property(config, "linger.ms", ""));
  EXPECT_FALSE(set_property(config, "max.in.flight.requests.per.connection", "99999999999"))
      << "out of the field's range";
  EXPECT_FALSE(set_property(config, "buffer.memory", "-1")) << "a size cannot be negative";
  EXPECT_FALSE(set_property(config, "enable.idempotence", "yes"));
  EXPECT_FALSE(set_property(config, "compression.type", "gzip"));
  EXPECT_EQ(config.linger_ms, ProducerConfig{}.linger_ms) << "a failed set leaves the field alone";

  auto unknown = set_property(config, "linger", "5");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown setting 'linger'"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("linger.ms"), std::string::npos) << "the known names are listed";
}

}  // namespace
}  // namespace sluice::client
