// The broker's bounds of members' session timeouts: Kafka's defaults, set by flag, listed
// by --help, and a minimum above the maximum refused naming the setting.
#include <gtest/gtest.h>

#include "sluice/broker/broker_config.h"

namespace sluice::broker {
namespace {

TEST(GroupSessionConfig, BoundsDefaultToKafkasAndAreSetByFlag) {
  const BrokerConfig defaults;
  EXPECT_EQ(defaults.group_min_session_timeout_ms, 6'000);
  EXPECT_EQ(defaults.group_max_session_timeout_ms, 1'800'000);
  const char* args[] = {"sluiced", "--group-min-session-timeout-ms",      "1000", "--group-max-session-timeout-ms",
                        "9000",    "--group-consumer-session-timeout-ms", "9000"};
  auto parsed = parse_broker_args(7, args);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->config.group_min_session_timeout_ms, 1'000);
  EXPECT_EQ(parsed->config.group_max_session_timeout_ms, 9'000);

  const char* help[] = {"sluiced", "--help"};
  auto helped = parse_broker_args(2, help);
  ASSERT_TRUE(helped);
  EXPECT_NE(helped->help_text.find("group.min.session.timeout.ms"), std::string::npos);
  EXPECT_NE(helped->help_text.find("group.max.session.timeout.ms"), std::string::npos);
}

TEST(GroupSessionConfig, AMinimumAboveTheMaximumIsRefused) {
  const char* args[] = {"sluiced", "--group-min-session-timeout-ms", "9000", "--group-max-session-timeout-ms", "8000"};
  auto refused = parse_broker_args(5, args);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("group-min-session-timeout-ms"), std::string::npos) << refused.error().message;
}

// The session timeout given to members that send none must itself be one the broker accepts.
TEST(GroupSessionConfig, ADefaultSessionTimeoutOutsideTheBoundsIsRefused) {
  const char* args[] = {"sluiced", "--group-max-session-timeout-ms", "30000"};
  auto refused = parse_broker_args(3, args);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("group-consumer-session-timeout-ms: 45000 is outside"), std::string::npos)
      << refused.error().message;
  const char* within[] = {"sluiced", "--group-max-session-timeout-ms", "30000", "--group-consumer-session-timeout-ms",
                          "30000"};
  auto accepted = parse_broker_args(5, within);
  EXPECT_TRUE(accepted) << accepted.error().message;
}

}  // namespace
}  // namespace sluice::broker
