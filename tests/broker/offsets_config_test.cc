// The committed-offsets settings: Kafka's defaults, set by flag or in the TOML file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sluice/broker/broker_config.h"

#include "../e2e/e2e_helpers.h"

namespace sluice::broker {
namespace {

TEST(OffsetsConfig, DefaultsAreKafkas) {
  BrokerConfig c;
  EXPECT_EQ(c.offsets_topic_num_partitions, 50);
  EXPECT_EQ(c.offsets_retention_minutes, 7 * 24 * 60);
  EXPECT_EQ(c.offsets_retention_check_interval_ms, 600'000);
  EXPECT_EQ(c.offset_metadata_max_bytes, 4096);
}

TEST(OffsetsConfig, TheConfigFileSetsThemAndBadValuesAreNamed) {
  std::string path = sluice::testing::temp_dir("sluice-offsets-config") + ".toml";
  {
    std::ofstream out(path);
    out << "offsets-topic-num-partitions = 3\noffsets-retention-minutes = 60\noffset-metadata-max-bytes = 16\n";
  }
  const char* args[] = {"sluiced", "--config", path.c_str()};
  auto parsed = parse_broker_args(3, args);
  std::filesystem::remove(path);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->config.offsets_topic_num_partitions, 3);
  EXPECT_EQ(parsed->config.offsets_retention_minutes, 60);
  EXPECT_EQ(parsed->config.offset_metadata_max_bytes, 16);

  const char* zero[] = {"sluiced", "--offsets-topic-num-partitions", "0"};
  auto refused = parse_broker_args(3, zero);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("offsets-topic-num-partitions"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace sluice::broker
