// Runs the real `sluice group` commands against an embedded broker: list, describe
// (table and --json), delete, and reset-offsets as a dry run and with --execute, each
// refused while the group has members.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "sluice/broker/embedded_broker.h"
#include "sluice/client/admin.h"
#include "sluice/client/producer.h"
#include "sluice/consumer/consumer.h"

#include "tool_runner.h"

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;

broker::BrokerConfig fast_heartbeats() {
  broker::BrokerConfig config;
  config.group_consumer_heartbeat_interval_ms = 100;  // members learn of changes at once
  return config;
}

class SluiceGroupCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto admin = client::Admin::create({.bootstrap = broker_.bootstrap()});
    ASSERT_TRUE(admin);
    admin_.emplace(std::move(*admin));
    ASSERT_TRUE(admin_->create_topic("orders", 2));
    auto producer = client::Producer::create({.bootstrap = broker_.bootstrap()});
    ASSERT_TRUE(producer);
    // Partition 0: offsets 0-4 created at 1000, 2000, ... 5000 ms; partition 1 stays empty.
    for (int i = 0; i < 5; ++i) {
      producer->send(
          {.topic = "orders", .partition = 0, .value = "o" + std::to_string(i), .timestamp = 1000 * (i + 1)});
    }
    producer->flush();
  }

  ToolRun sluice(std::vector<std::string> args) {
    args.insert(args.begin(), {"--brokers", broker_.bootstrap()});
    return run_tool(SLUICE_CLI_PATH, args);
  }
  void commit(const std::string& group, int64_t offset) {
    auto results = admin_->alter_group_offsets(group, {{{"orders", 0}, offset}});
    ASSERT_TRUE(results);
    ASSERT_TRUE(results->at({"orders", 0}));
  }
  int64_t committed(const std::string& group) {
    auto offsets = admin_->list_consumer_group_offsets(group);
    EXPECT_TRUE(offsets);
    auto it = offsets->find({"orders", 0});
    return it == offsets->end() ? -1 : it->second.offset;
  }

  EmbeddedBroker broker_{fast_heartbeats()};
  std::optional<client::Admin> admin_;
};

TEST_F(SluiceGroupCliTest, ListAndDescribeShowTheGroupsPartitionsWithLag) {
  commit("billing", 2);
  auto list = sluice({"group", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(lines_of(list.out), (std::vector<std::string>{"GROUP    STATE  MEMBERS", "billing  empty  0"}));

  auto described = sluice({"group", "describe", "billing"});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  auto lines = lines_of(described.out);
  ASSERT_EQ(lines.size(), 2u) << described.out;
  EXPECT_EQ(lines[0],
            "TOPIC   PARTITION  COMMITTED-OFFSET  LOG-END-OFFSET  LAG  LAG-SECONDS     MEMBER-ID  CLIENT-ID  HOST");
  // The record at offset 2 was created at 3000 ms after the epoch: decades ago.
  EXPECT_TRUE(lines[1].starts_with("orders  0          2                 5               3    ")) << lines[1];
  EXPECT_TRUE(lines[1].ends_with("  -          -          -")) << lines[1];

  auto json = sluice({"group", "describe", "billing", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const std::string prefix =
      R"([{"topic":"orders","partition":0,"committed_offset":2,"log_end_offset":5,"lag":3,"lag_seconds":)";
  ASSERT_TRUE(json.out.starts_with(prefix)) << json.out;
  const double lag_seconds = std::stod(json.out.substr(prefix.size()));
  const double now_seconds = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(lag_seconds, now_seconds - 3.0, 60.0) << json.out;
  EXPECT_TRUE(json.out.ends_with(R"(,"member_id":"","client_id":"","host":""}])"
                                 "\n"))
      << json.out;

  auto unknown = sluice({"group", "describe", "nobody"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("GROUP_ID_NOT_FOUND"), std::string::npos) << unknown.err;
}

TEST_F(SluiceGroupCliTest, ResetOffsetsDryRunChangesNothingAndExecuteChangesThem) {
  commit("billing", 4);
  auto dry = sluice({"group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(lines_of(dry.out),
            (std::vector<std::string>{"GROUP    TOPIC   PARTITION  NEW-OFFSET", "billing  orders  0          0",
                                      "billing  orders  1          0"}));
  EXPECT_NE(dry.err.find("--execute"), std::string::npos) << dry.err;
  EXPECT_EQ(committed("billing"), 4) << "a dry run commits nothing";

  auto shifted = sluice({"group", "reset-offsets", "billing", "--topic", "orders", "--shift-by", "-3", "--execute"});
  ASSERT_EQ(shifted.exit_code, 0) << shifted.err;
  EXPECT_EQ(lines_of(shifted.out)[1], "billing  orders  0          1");
  EXPECT_EQ(committed("billing"), 1);

  auto by_time =
      sluice({"group", "reset-offsets", "billing", "--topic", "orders", "--to-timestamp", "2500", "--execute"});
  ASSERT_EQ(by_time.exit_code, 0) << by_time.err;
  EXPECT_EQ(committed("billing"), 2) << "the first record at or after 2500 ms is offset 2 (3000 ms)";

  auto to_offset = sluice({"group", "reset-offsets", "billing", "--topic", "orders", "--to-offset", "99", "--execute"});
  ASSERT_EQ(to_offset.exit_code, 0) << to_offset.err;
  EXPECT_EQ(committed("billing"), 5) << "clamped to the log end";

  auto latest = sluice({"group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest", "--execute"});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_EQ(committed("billing"), 0);

  auto no_spec = sluice({"group", "reset-offsets", "billing", "--topic", "orders"});
  EXPECT_EQ(no_spec.exit_code, 2) << no_spec.err;
  auto two_specs = sluice({"group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest", "--to-latest"});
  EXPECT_EQ(two_specs.exit_code, 2) << two_specs.err;
  EXPECT_EQ(committed("billing"), 0);
}

TEST_F(SluiceGroupCliTest, ResetAndDeleteAreRefusedWhileMembersConsumeAndDeleteWorksAfter) {
  commit("live", 3);
  auto consumer = consumer::Consumer::create(
      {.bootstrap = broker_.bootstrap(), .client_id = "cli-member", .group_id = "live", .enable_auto_commit = false});
  ASSERT_TRUE(consumer);
  ASSERT_TRUE(consumer->subscribe(std::vector<std::string>{"orders"}));
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    while (!stop) (void)consumer->poll(milliseconds(50));
  });
  // Polls until the member owns both partitions; 30 s is a failure bound.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  ToolRun described;
  while (std::chrono::steady_clock::now() < deadline) {
    described = sluice({"group", "describe", "live"});
    if (described.out.find("cli-member") != std::string::npos && described.out.find("orders  1") != std::string::npos &&
        lines_of(described.out).size() == 3 && described.out.find("-          -          -") == std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));  // polling the broker for a condition
  }
  EXPECT_NE(described.out.find("cli-member  127.0.0.1"), std::string::npos) << described.out;
  auto list = sluice({"group", "list"});
  EXPECT_NE(list.out.find("live   stable  1"), std::string::npos) << list.out;

  auto reset = sluice({"group", "reset-offsets", "live", "--topic", "orders", "--to-earliest", "--execute"});
  EXPECT_EQ(reset.exit_code, 1);
  EXPECT_NE(reset.err.find("active members"), std::string::npos) << reset.err;
  auto deleted = sluice({"group", "delete", "live"});
  EXPECT_EQ(deleted.exit_code, 1);
  EXPECT_NE(deleted.err.find("NON_EMPTY_GROUP"), std::string::npos) << deleted.err;
  EXPECT_EQ(committed("live"), 3);

  stop = true;
  poller.join();
  consumer->close();
  deleted = sluice({"group", "delete", "live"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "deleted group live\n");
  EXPECT_EQ(committed("live"), -1);
  list = sluice({"group", "list"});
  EXPECT_EQ(lines_of(list.out).size(), 1u) << list.out;
}

}  // namespace
}  // namespace sluice::testing
