// Topic settings changed while the topic serves, against the real sluiced: through the
// SDK's Admin (AlterConfigs) and `sluice topic describe`'s source, DescribeTopic; all of a
// request's changes apply or none; a refusal names the setting; the change survives a
// restart.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"

#include "broker_process.h"

namespace sluice {
namespace {

using client::Admin;
using client::ErrorCode;

class AlterConfigsE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start()) << broker_.log();
    connect();
    ASSERT_TRUE(admin_->create_topic("orders", 2, {{"retention.ms", "5000"}}));
  }
  void TearDown() override {
    broker_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void connect() {
    auto admin = Admin::create({.bootstrap = broker_.address()});
    ASSERT_TRUE(admin) << admin.error().to_string();
    admin_.emplace(std::move(*admin));
  }
  std::map<std::string, std::string> configs() {
    auto described = admin_->describe_topic("orders");
    EXPECT_TRUE(described) << described.error().to_string();
    return described ? described->configs : std::map<std::string, std::string>{};
  }

  std::string dir_ = testing::temp_dir("sluice-alter-configs-e2e");
  testing::BrokerProcess broker_{SLUICED_PATH, dir_};
  std::optional<Admin> admin_;
};

TEST_F(AlterConfigsE2e, SetAndRemovedSettingsShowInDescribeAndSurviveARestart) {
  const std::string default_segment_ms = configs().at("segment.ms");
  ASSERT_TRUE(admin_->alter_topic_config("orders", {{"retention.ms", "60000"}, {"segment.ms", "3600000"}}));
  EXPECT_EQ(configs().at("retention.ms"), "60000");
  EXPECT_EQ(configs().at("segment.ms"), "3600000");
  ASSERT_TRUE(admin_->alter_topic_config("orders", {{"segment.ms", std::nullopt}}));
  EXPECT_EQ(configs().at("segment.ms"), default_segment_ms) << "back to the broker's default";

  const std::string address = broker_.address();
  broker_.stop();
  ASSERT_TRUE(broker_.start(address)) << broker_.log();
  connect();
  EXPECT_EQ(configs().at("retention.ms"), "60000");
  EXPECT_EQ(configs().at("segment.ms"), default_segment_ms);
}

TEST_F(AlterConfigsE2e, ARefusedChangeNamesItsSettingAndChangesNothing) {
  const auto before = configs();
  struct Case {
    std::map<std::string, std::optional<std::string>> changes;
    std::string named;
  };
  for (const Case& c : {Case{{{"retention.ms", "9000"}, {"retention.minutes", "5"}}, "retention.minutes"},
                        Case{{{"retention.ms", "9000"}, {"segment.bytes", "lots"}}, "segment.bytes"},
                        Case{{{"retention.ms", "9000"}, {"durability", "none"}}, "durability cannot change"},
                        Case{{{"min.cleanable.dirty.ratio", "2"}}, "min.cleanable.dirty.ratio"}}) {
    auto refused = admin_->alter_topic_config("orders", c.changes);
    ASSERT_FALSE(refused) << c.named;
    EXPECT_EQ(client::error_code(refused.error()), ErrorCode::invalid_config) << refused.error().to_string();
    EXPECT_NE(refused.error().to_string().find(c.named), std::string::npos) << refused.error().to_string();
    EXPECT_EQ(configs(), before) << "nothing applied for " << c.named;
  }
  auto missing = admin_->alter_topic_config("nope", {{"retention.ms", "1"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(client::error_code(missing.error()), ErrorCode::unknown_topic_or_partition);
  auto internal = admin_->alter_topic_config("__consumer_offsets", {{"retention.ms", "1"}});
  ASSERT_FALSE(internal);
  EXPECT_EQ(client::error_code(internal.error()), ErrorCode::invalid_topic) << internal.error().to_string();
}

}  // namespace
}  // namespace sluice
