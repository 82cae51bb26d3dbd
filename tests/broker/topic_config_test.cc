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
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("compaction is not implemented yet"), std::string::npos) << r.error().message;

  const char* help[] = {"sluiced", "--help"};
  auto h = parse_broker_args(2, help);
  ASSERT_TRUE(h.has_value());
  EXPECT_NE(h->help_text.find("--default-retention-ms"), std::string::npos);
  EXPECT_NE(h->help_text.find("604800000"), std::string::npos) << "defaults are listed";
}

}  // namespace
}  // namespace sluice::broker
