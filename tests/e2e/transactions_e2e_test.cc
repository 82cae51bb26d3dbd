// The transaction coordinator against the real sluiced over TCP: the epoch a
// transactional id was given survives kill -9 of the broker, so a restarted broker
// never hands the same (producer id, epoch) to two instances.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../broker/raw_client.h"
#include "broker_process.h"

namespace sluice {
namespace {

wire::InitProducerIdResponse init_producer_id(const std::string& address, const std::string& transactional_id) {
  testing::RawClient c(address);
  wire::InitProducerIdRequest req;
  req.set_transactional_id(transactional_id);
  auto resp = c.call<wire::InitProducerIdResponse>(wire::INIT_PRODUCER_ID, req);
  EXPECT_TRUE(resp);
  return resp ? *resp : wire::InitProducerIdResponse{};
}

TEST(TransactionsE2e, ATransactionalIdsEpochSurvivesKillNine) {
  const std::string dir = testing::temp_dir("sluice-txn-e2e");
  testing::BrokerProcess broker{SLUICED_PATH, dir, {"--transaction-state-log-num-partitions", "3"}};
  ASSERT_TRUE(broker.start()) << broker.log();
  int64_t producer_id = -1;
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto resp = init_producer_id(broker.address(), "orders-relay");
    ASSERT_EQ(resp.error().code(), wire::NONE) << resp.error().message();
    if (producer_id < 0) producer_id = resp.producer_id();
    EXPECT_EQ(resp.producer_id(), producer_id);
    EXPECT_EQ(resp.producer_epoch(), epoch);
  }
  broker.kill_now();  // SIGKILL: only what was fsynced is there
  ASSERT_TRUE(broker.start()) << broker.log();
  auto after = init_producer_id(broker.address(), "orders-relay");
  ASSERT_EQ(after.error().code(), wire::NONE) << after.error().message();
  EXPECT_EQ(after.producer_id(), producer_id);
  EXPECT_EQ(after.producer_epoch(), 3) << "every acknowledged epoch was durable";
  EXPECT_TRUE(std::filesystem::exists(dir + "/__transaction_state-2")) << "3 partitions, as configured";
  broker.stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace sluice
