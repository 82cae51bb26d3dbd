#include "sluice/broker/topic_config.h"

#include <gtest/gtest.h>

#include "sluice/broker/broker_config.h"

namespace sluice::broker {
namespace {

TEST(TopicConfig, OverridesApplyOnTopOfDefaults) {
  auto c = apply_topic_config({}, {{"retention.ms", "1000"}, {"durability", "none"}, {"segment.bytes", "4096"}});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->log.retention_ms, 1000);
  EXPECT_EQ(c->log.durability, storage::Durability::none);
  EXPECT_EQ(c->log.segment_bytes, 4096u);
  EXPECT_EQ(c->to_map().at("retention.bytes"), "-1");
}

TEST(TopicConfig, BadValuesNameTheSetting) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{{"retention.ms", "soon"},
                                                                            {"segment.bytes", "10"},
                                                                            {"durability", "maybe"},
                                                                            {"cleanup.policy", "shred"},
                                                                            {"no.such", "1"},
                                                                            {"retention.bytes", "-5"},
                                                                            {"max.message.bytes", "12x"}}) {
    auto c = apply_topic_config({}, {{key, value}});
    ASSERT_FALSE(c.has_value()) << key;
    EXPECT_NE(c.error().message.find(key), std::string::npos) << c.error().message;
  }
}

// Settings that would let one partition allocate without bound are refused: a
// 16 GiB segment (its index positions would overflow) and a 64-byte index interval
// (an in-memory index entry every batch: one partition took 393 MB).
TEST(TopicConfig, SettingsThatWouldAllocateWithoutBoundAreRefused) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{{"segment.bytes", "17179869184"},
                                                                            {"index.interval.bytes", "64"}}) {
    auto c = apply_topic_config({}, {{key, value}});
    ASSERT_FALSE(c.has_value()) << key;
    EXPECT_NE(c.error().message.find(key), std::string::npos) << c.error().message;
  }
  EXPECT_TRUE(apply_topic_config({}, {{"segment.bytes", "2147483648"}, {"index.interval.bytes", "256"}}).has_value());
}

TEST(TopicConfig, TopicNamesFollowKafkasRules) {
  EXPECT_TRUE(validate_topic_name("orders.v1_EU-2").has_value());
  EXPECT_FALSE(validate_topic_name("").has_value());
  EXPECT_FALSE(validate_topic_name("..").has_value());
  EXPECT_FALSE(validate_topic_name("a/b").has_value());
  EXPECT_FALSE(validate_topic_name(std::string(250, 'a')).has_value());
}

TEST(BrokerConfig, FlagsOverrideDefaultsAndBadSettingsAreNamed) {
  const char* ok[] = {"sluiced", "--data-dir", "/tmp/x", "--listen", "127.0.0.1:9999", "--default-durability", "none"};
  auto parsed = parse_broker_args(7, ok);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->config.data_dir, "/tmp/x");
  EXPECT_EQ(parsed->config.listen, "127.0.0.1:9999");
  EXPECT_EQ(parsed->config.topic_defaults.log.durability, storage::Durability::none);

  const char* bad_port[] = {"sluiced", "--listen", "127.0.0.1:99999"};
  auto r = parse_broker_args(3, bad_port);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("listen"), std::string::npos);

  const char* unknown[] = {"sluiced", "--no-such-flag", "1"};
  EXPECT_FALSE(parse_broker_args(3, unknown).has_value());

  const char* compact[] = {"sluiced", "--default-cleanup-policy", "compact"};
  r = parse_broker_args(3, compact);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->config.topic_defaults.log.cleanup_policy, storage::CleanupPolicy::compact);
  const char* shred[] = {"sluiced", "--default-cleanup-policy", "shred"};
  r = parse_broker_args(3, shred);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("default-cleanup-policy"), std::string::npos) << r.error().message;
  const char* cleaner[] = {"sluiced", "--log-cleaner-dedupe-buffer-size", "1000"};
  r = parse_broker_args(3, cleaner);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("log-cleaner-dedupe-buffer-size"), std::string::npos) << r.error().message;
  const char* shared[] = {"sluiced", "--log-cleaner-threads", "4", "--log-cleaner-dedupe-buffer-size", "2097152"};
  r = parse_broker_args(5, shared);
  ASSERT_FALSE(r.has_value()) << "4 threads cannot share 2 MiB";
  EXPECT_NE(r.error().message.find("each of the log-cleaner-threads"), std::string::npos) << r.error().message;
  const char* tuned[] = {"sluiced", "--log-cleaner-threads",         "2",    "--log-cleaner-io-max-bytes-per-second",
                         "1e6",     "--offsets-topic-segment-bytes", "16384"};
  r = parse_broker_args(7, tuned);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->config.log_cleaner_threads, 2);
  EXPECT_EQ(r->config.log_cleaner_io_max_bytes_per_second, 1e6);
  EXPECT_EQ(r->config.offsets_topic_segment_bytes, 16384);
  EXPECT_EQ(BrokerConfig{}.log_cleaner_io_max_bytes_per_second, 0) << "no limit, as Kafka's default";
  EXPECT_EQ(BrokerConfig{}.offsets_topic_segment_bytes, 100 << 20) << "Kafka's offsets.topic.segment.bytes";
  const char* txn[] = {"sluiced", "--transaction-state-log-num-partitions", "3", "--transaction-max-timeout-ms",
                       "60000"};
  r = parse_broker_args(5, txn);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->config.transaction_state_log_num_partitions, 3);
  EXPECT_EQ(r->config.transaction_max_timeout_ms, 60'000);
  EXPECT_EQ(BrokerConfig{}.transaction_max_timeout_ms, 900'000) << "Kafka's transaction.max.timeout.ms";
  const char* no_partitions[] = {"sluiced", "--transaction-state-log-num-partitions", "0"};
  EXPECT_FALSE(parse_broker_args(3, no_partitions).has_value());

  const char* limits[] = {"sluiced", "--max-connections", "3", "--connections-max-idle-ms", "250"};
  auto l = parse_broker_args(5, limits);
  ASSERT_TRUE(l.has_value()) << l.error().message;
  EXPECT_EQ(l->config.max_connections, 3);
  EXPECT_EQ(l->config.connections_max_idle_ms, 250);
  EXPECT_EQ(BrokerConfig{}.connections_max_idle_ms, 600'000) << "Kafka's connections.max.idle.ms";
  for (const char* flag : {"--max-connections", "--connections-max-idle-ms"}) {
    const char* zero[] = {"sluiced", flag, "0"};
    r = parse_broker_args(3, zero);
    ASSERT_FALSE(r.has_value()) << flag;
    EXPECT_NE(r.error().message.find(flag), std::string::npos) << r.error().message;
  }
  BrokerConfig in_code;
  in_code.max_connections = 0;
  auto invalid = validate_broker_config(in_code);
  ASSERT_FALSE(invalid.has_value());
  EXPECT_NE(invalid.error().message.find("max-connections"), std::string::npos);

  const char* help[] = {"sluiced", "--help"};
  auto h = parse_broker_args(2, help);
  ASSERT_TRUE(h.has_value());
  EXPECT_NE(h->help_text.find("--default-retention-ms"), std::string::npos);
  EXPECT_NE(h->help_text.find("604800000"), std::string::npos) << "defaults are listed";
}

}  // namespace
}  // namespace sluice::broker
