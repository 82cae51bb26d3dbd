// Consumer group administration over the real sluiced: list and describe live groups
// with their members' assignments, committed offsets with lag in records and seconds,
// delete and alter offsets only when a group has no members, the group series on
// /metrics, and clear errors for bad requests.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/client/producer.h"
#include "sluice/consumer/consumer.h"

#include "../broker/raw_client.h"
#include "broker_process.h"
#include "e2e_helpers.h"

namespace sluice {
namespace {

using client::Admin;
using client::ErrorCode;
using client::TopicPartition;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::BrokerProcess;

constexpr int kPartitions = 4;

int64_t wall_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A subscribed consumer polling on its own thread, so that it heartbeats; commits only when told.
class PollingMember {
 public:
  PollingMember(const std::string& bootstrap, const std::string& group, const std::string& client_id)
      : consumer_({.bootstrap = bootstrap,
                   .client_id = client_id,
                   .group_id = group,
                   .enable_auto_commit = false,
                   .auto_offset_reset = consumer::OffsetReset::earliest}) {
    Status s = consumer_.subscribe(std::vector<std::string>{"events"});
    EXPECT_TRUE(s) << s.error().to_string();
    thread_ = std::thread([this] {
      while (!stop_) (void)consumer_.poll(milliseconds(50));
    });
  }
  ~PollingMember() { close(); }
  void close() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
    consumer_.close();
  }

 private:
  consumer::Consumer consumer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class GroupAdminE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start()) << broker_.log();
    auto admin = Admin::create({.bootstrap = broker_.address()});
    ASSERT_TRUE(admin) << admin.error().to_string();
    admin_.emplace(std::move(*admin));
    ASSERT_TRUE(admin_->create_topic("events", kPartitions));
  }
  void TearDown() override {
    broker_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::remove(dir_ + ".log", ec);
  }

  // Polls the broker until `done` holds for the group's description; 30 s is a failure bound.
  std::optional<client::GroupDescription> wait_for_group(
      const std::string& id, const std::function<bool(const client::GroupDescription&)>& done) {
    std::optional<client::GroupDescription> last;
    const bool reached = eventually(
        [&] {
          auto described = admin_->describe_groups({id});
          if (!described || !described->front()) return false;
          last = *described->front();
          return done(*last);
        },
        seconds(30));
    return reached ? last : std::nullopt;
  }

  // Sends `count` records to partition 0 with CreateTime first_ms, first_ms + 1000, ...
  void produce(int count, int64_t first_ms) {
    auto producer = client::Producer::create({.bootstrap = broker_.address()});
    ASSERT_TRUE(producer) << producer.error().to_string();
    for (int i = 0; i < count; ++i) {
      producer->send(
          {.topic = "events", .partition = 0, .value = "r" + std::to_string(i), .timestamp = first_ms + i * 1000});
    }
    producer->flush();
  }

  std::string metrics() {
    testing::RawClient http(broker_.http_address());
    http.send_bytes(as_bytes(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")));
    return http.read_to_end();
  }

  std::string dir_ = testing::temp_dir("sluice-group-admin-e2e");
  // Members learn of changes on their next heartbeat: 100 ms keeps the tests short.
  BrokerProcess broker_{SLUICED_PATH, dir_, {"--group-consumer-heartbeat-interval-ms", "100"}};
  std::optional<Admin> admin_;
};

TEST_F(GroupAdminE2e, ListAndDescribeShowTwoLiveMembersWithTheirAssignment) {
  PollingMember a(broker_.address(), "g", "client-a");
  PollingMember b(broker_.address(), "g", "client-b");
  auto group = wait_for_group("g", [](const client::GroupDescription& g) {
    return g.state == "stable" && g.members.size() == 2 && g.members[0].assignment.size() == 2 &&
           g.members[1].assignment.size() == 2;
  });
  ASSERT_TRUE(group) << "the group did not settle on two members with two partitions each";
  EXPECT_EQ(group->assignor, "uniform");
  EXPECT_GT(group->group_epoch, 0);
  EXPECT_EQ(group->assignment_epoch, group->group_epoch);
  std::set<std::string> clients;
  std::set<TopicPartition> owned;
  for (const auto& m : group->members) {
    clients.insert(m.client_id);
    EXPECT_EQ(m.host, "127.0.0.1");
    EXPECT_EQ(m.subscribed_topics, std::vector<std::string>{"events"});
    EXPECT_EQ(m.member_epoch, group->assignment_epoch);
    EXPECT_EQ(m.assignment, m.target_assignment);
    EXPECT_FALSE(m.instance_id);
    owned.insert(m.assignment.begin(), m.assignment.end());
  }
  EXPECT_EQ(clients, (std::set<std::string>{"client-a", "client-b"}));
  EXPECT_EQ(owned.size(), static_cast<size_t>(kPartitions)) << "every partition owned by exactly one member";

  auto listed = admin_->list_groups();
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].group_id, "g");
  EXPECT_EQ((*listed)[0].state, "stable");
  EXPECT_EQ((*listed)[0].protocol_type, "consumer");
  EXPECT_EQ((*listed)[0].members, 2);
  auto stable_only = admin_->list_groups({"stable"});
  ASSERT_TRUE(stable_only);
  EXPECT_EQ(stable_only->size(), 1u);
  auto empty_only = admin_->list_groups({"empty"});
  ASSERT_TRUE(empty_only);
  EXPECT_TRUE(empty_only->empty());

  // Partitions owned but not committed: listed with their owner and no lag.
  auto offsets = admin_->describe_group_offsets("g");
  ASSERT_TRUE(offsets) << offsets.error().to_string();
  ASSERT_EQ(offsets->size(), static_cast<size_t>(kPartitions));
  for (const auto& p : *offsets) {
    EXPECT_FALSE(p.committed);
    EXPECT_FALSE(p.lag);
    EXPECT_FALSE(p.lag_seconds);
    EXPECT_TRUE(p.client_id == "client-a" || p.client_id == "client-b") << p.client_id;
    EXPECT_FALSE(p.member_id.empty());
    EXPECT_EQ(p.host, "127.0.0.1");
  }
}

TEST_F(GroupAdminE2e, DescribeOffsetsGivesLagInRecordsAndSecondsAndZeroWhenCaughtUp) {
  const int64_t first_ms = wall_ms() - 100'000;  // record i was created 100 - i seconds ago
  produce(10, first_ms);
  auto altered = admin_->alter_group_offsets("lagging", {{{"events", 0}, 3}, {{"events", 1}, 0}});
  ASSERT_TRUE(altered) << altered.error().to_string();
  for (const auto& [tp, s] : *altered) ASSERT_TRUE(s) << tp.to_string() << ": " << s.error().to_string();

  const int64_t before = wall_ms();
  auto offsets = admin_->describe_group_offsets("lagging");
  const int64_t after = wall_ms();
  ASSERT_TRUE(offsets) << offsets.error().to_string();
  ASSERT_EQ(offsets->size(), 2u);
  const auto& p0 = (*offsets)[0];
  EXPECT_EQ(p0.partition, (TopicPartition{"events", 0}));
  EXPECT_TRUE(p0.status);
  EXPECT_EQ(p0.committed, 3);
  EXPECT_EQ(p0.log_end_offset, 10);
  EXPECT_EQ(p0.lag, 7);
  ASSERT_TRUE(p0.lag_seconds);
  // The record at offset 3 was created at first_ms + 3000.
  EXPECT_GE(*p0.lag_seconds, static_cast<double>(before - (first_ms + 3000)) / 1000.0 - 0.001);
  EXPECT_LE(*p0.lag_seconds, static_cast<double>(after - (first_ms + 3000)) / 1000.0 + 0.001);
  EXPECT_TRUE(p0.member_id.empty());
  const auto& p1 = (*offsets)[1];
  EXPECT_EQ(p1.partition, (TopicPartition{"events", 1}));
  EXPECT_EQ(p1.committed, 0);
  EXPECT_EQ(p1.log_end_offset, 0);
  EXPECT_EQ(p1.lag, 0);
  EXPECT_EQ(p1.lag_seconds, 0.0);

  // Caught up: no lag in records or seconds.
  ASSERT_TRUE(admin_->alter_group_offsets("lagging", {{{"events", 0}, 10}}));
  auto caught_up = admin_->describe_group_offsets("lagging");
  ASSERT_TRUE(caught_up);
  EXPECT_EQ((*caught_up)[0].lag, 0);
  EXPECT_EQ((*caught_up)[0].lag_seconds, 0.0);

  // The group, known only by its offsets, is listed and described as empty.
  auto listed = admin_->list_groups();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].state, "empty");
  auto described = admin_->describe_groups({"lagging"});
  ASSERT_TRUE(described && described->front()) << "an offsets-only group is described";
  EXPECT_EQ(described->front()->state, "empty");
  EXPECT_TRUE(described->front()->members.empty());
}

TEST_F(GroupAdminE2e, DeleteAndAlterAreRefusedWhileMembersExistAndDeleteRemovesOffsetsAfterTheyClose) {
  {
    PollingMember a(broker_.address(), "busy", "client-a");
    ASSERT_TRUE(wait_for_group("busy", [](const client::GroupDescription& g) { return g.state == "stable"; }));
    auto deleted = admin_->delete_groups({"busy"});
    ASSERT_TRUE(deleted) << deleted.error().to_string();
    ASSERT_FALSE(deleted->front().status);
    EXPECT_EQ(deleted->front().status.error().code, ErrorCode::non_empty_group);
    EXPECT_NE(deleted->front().status.error().message.find("members"), std::string::npos);
    auto altered = admin_->alter_group_offsets("busy", {{{"events", 0}, 1}});
    ASSERT_TRUE(altered) << altered.error().to_string();
    ASSERT_FALSE(altered->at({"events", 0}));
    EXPECT_EQ(altered->at({"events", 0}).error().code, ErrorCode::non_empty_group);
    a.close();  // leaves the group at once
  }
  ASSERT_TRUE(wait_for_group("busy", [](const client::GroupDescription& g) { return g.members.empty(); }));
  // Empty now: its offsets may be altered, then the group deleted with them.
  auto altered = admin_->alter_group_offsets("busy", {{{"events", 0}, 0}, {{"events", 2}, 0}});
  ASSERT_TRUE(altered);
  for (const auto& [tp, s] : *altered) ASSERT_TRUE(s) << tp.to_string() << ": " << s.error().to_string();
  ASSERT_EQ(admin_->list_consumer_group_offsets("busy")->size(), 2u);

  auto deleted = admin_->delete_groups({"busy"});
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(deleted->front().status) << deleted->front().status.error().to_string();
  auto offsets = admin_->list_consumer_group_offsets("busy");
  ASSERT_TRUE(offsets);
  EXPECT_TRUE(offsets->empty());
  auto listed = admin_->list_groups();
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  auto described = admin_->describe_groups({"busy"});
  ASSERT_TRUE(described);
  ASSERT_FALSE(described->front());
  EXPECT_EQ(described->front().error().code, ErrorCode::group_id_not_found);

  // The tombstones are durable: a restarted broker does not bring the offsets back.
  broker_.stop();
  ASSERT_TRUE(broker_.start()) << broker_.log();
  auto admin = Admin::create({.bootstrap = broker_.address()});
  ASSERT_TRUE(admin);
  auto after_restart = admin->list_consumer_group_offsets("busy");
  ASSERT_TRUE(after_restart) << after_restart.error().to_string();
  EXPECT_TRUE(after_restart->empty());
  // Nor the group: its metadata record was deleted too.
  auto described_after = admin->describe_groups({"busy"});
  ASSERT_TRUE(described_after);
  ASSERT_FALSE(described_after->front());
  EXPECT_EQ(described_after->front().error().code, ErrorCode::group_id_not_found);
}

TEST_F(GroupAdminE2e, MetricsShowLagMembersStatesRebalancesAndCommits) {
  const int64_t first_ms = wall_ms() - 50'000;
  produce(4, first_ms);
  ASSERT_TRUE(admin_->alter_group_offsets("offline", {{{"events", 0}, 1}}));
  ASSERT_TRUE(admin_->alter_group_offsets("offline", {{{"events", 0}, 1}}));
  PollingMember a(broker_.address(), "live", "client-a");
  ASSERT_TRUE(wait_for_group("live", [](const client::GroupDescription& g) { return g.state == "stable"; }));

  const int64_t before = wall_ms();
  const std::string text = metrics();
  const int64_t after = wall_ms();
  EXPECT_NE(text.find("sluice_consumer_group_lag_records{group=\"offline\",topic=\"events\",partition=\"0\"} 3\n"),
            std::string::npos)
      << text;
  const std::string seconds_series =
      "sluice_consumer_group_lag_seconds{group=\"offline\",topic=\"events\",partition=\"0\"} ";
  auto at = text.find(seconds_series);
  ASSERT_NE(at, std::string::npos) << text;
  const double lag_seconds = std::stod(text.substr(at + seconds_series.size()));
  EXPECT_GE(lag_seconds, static_cast<double>(before - (first_ms + 1000)) / 1000.0 - 0.001);
  EXPECT_LE(lag_seconds, static_cast<double>(after - (first_ms + 1000)) / 1000.0 + 0.001);
  EXPECT_NE(text.find("sluice_consumer_groups{state=\"empty\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_consumer_groups{state=\"stable\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_consumer_groups{state=\"assigning\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_consumer_group_members{group=\"live\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_consumer_group_members{group=\"offline\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_consumer_group_rebalances_total{group=\"live\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_consumer_group_rebalances_total{group=\"offline\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_offset_commits_total 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_offset_commit_latency_seconds_count 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_offset_commit_latency_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos) << text;
}

TEST_F(GroupAdminE2e, BadInputGetsClearErrors) {
  auto unknown = admin_->describe_groups({"nobody", ""});
  ASSERT_TRUE(unknown) << unknown.error().to_string();
  ASSERT_EQ(unknown->size(), 2u);
  ASSERT_FALSE((*unknown)[0]);
  EXPECT_EQ((*unknown)[0].error().code, ErrorCode::group_id_not_found);
  EXPECT_NE((*unknown)[0].error().message.find("nobody"), std::string::npos) << (*unknown)[0].error().message;
  ASSERT_FALSE((*unknown)[1]);
  EXPECT_EQ((*unknown)[1].error().code, ErrorCode::invalid_group_id);

  auto none = admin_->describe_groups({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  auto offsets = admin_->describe_group_offsets("nobody");
  ASSERT_FALSE(offsets);
  EXPECT_EQ(offsets.error().code, ErrorCode::group_id_not_found);
  auto too_long = admin_->describe_group_offsets(std::string(256, 'g'));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, ErrorCode::invalid_group_id);

  auto deleted = admin_->delete_groups({"nobody", ""});
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->size(), 2u);
  EXPECT_EQ((*deleted)[0].status.error().code, ErrorCode::group_id_not_found);
  EXPECT_EQ((*deleted)[1].status.error().code, ErrorCode::invalid_group_id);

  auto bad_state = admin_->list_groups({"sleeping"});
  ASSERT_FALSE(bad_state);
  EXPECT_EQ(bad_state.error().code, ErrorCode::invalid_request);
  EXPECT_NE(bad_state.error().message.find("sleeping"), std::string::npos);

  // The coordinator keeps serving.
  auto listed = admin_->list_groups();
  ASSERT_TRUE(listed) << listed.error().to_string();
}

}  // namespace
}  // namespace sluice
