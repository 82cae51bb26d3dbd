// Client errors carry the broker's wire code as a value, end to end against a
// real broker: callers and retries decide on error_code(), never on the text.
#include <gtest/gtest.h>

#include <string>

#include "sluice/broker/embedded_broker.h"
#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/client/producer.h"

#include "sluice.pb.h"

namespace sluice {
namespace {

using client::ErrorCode;

class ErrorCodesE2E : public ::testing::Test {
 protected:
  client::Admin admin() { return client::Admin({.bootstrap = broker_.bootstrap()}); }

  client::ProducerConfig producer_config() {
    client::ProducerConfig c;
    c.bootstrap = broker_.bootstrap();
    return c;
  }

  testing::EmbeddedBroker broker_;
};

TEST_F(ErrorCodesE2E, ProduceToAnUnknownTopicCarriesUnknownTopicOrPartition) {
  client::Producer producer(producer_config());
  auto md = producer.send({.topic = "no-such-topic", .value = "x"}).get();
  ASSERT_FALSE(md);
  EXPECT_EQ(client::error_code(md.error()), ErrorCode::unknown_topic_or_partition) << md.error().to_string();
  EXPECT_EQ(md.error().code.value(), wire::UNKNOWN_TOPIC_OR_PARTITION);
}

TEST_F(ErrorCodesE2E, AProduceResponseErrorCarriesItsCode) {
  ASSERT_TRUE(admin().create_topic("tiny", 1, {{"max.message.bytes", "200"}}));
  client::Producer producer(producer_config());
  auto md = producer.send({.topic = "tiny", .value = std::string(1000, 'v')}).get();
  ASSERT_FALSE(md);
  EXPECT_EQ(client::error_code(md.error()), ErrorCode::message_too_large) << md.error().to_string();
  EXPECT_FALSE(client::is_retriable(md.error()));
}

TEST_F(ErrorCodesE2E, AdminErrorsCarryTheirCodes) {
  auto a = admin();
  ASSERT_TRUE(a.create_topic("twice", 1));
  auto again = a.create_topic("twice", 1);
  ASSERT_FALSE(again);
  EXPECT_EQ(client::error_code(again.error()), ErrorCode::topic_already_exists) << again.error().to_string();

  auto deleted = a.delete_topic("no-such-topic");
  ASSERT_FALSE(deleted);
  EXPECT_EQ(client::error_code(deleted.error()), ErrorCode::unknown_topic_or_partition) << deleted.error().to_string();

  auto bad = a.create_topic("bad", 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(client::error_code(bad.error()), ErrorCode::invalid_partitions) << bad.error().to_string();

  auto described = a.describe_topic("no-such-topic");
  ASSERT_FALSE(described);
  EXPECT_EQ(client::error_code(described.error()), ErrorCode::unknown_topic_or_partition)
      << described.error().to_string();
}

}  // namespace
}  // namespace sluice
