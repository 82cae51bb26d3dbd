// Internal topics and the broker's own files over the real listener: a client can
// read an internal topic but not create, delete or produce to it, and sees it in
// Metadata only when it asks; producer-ids written before versions still load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sluice/broker/broker.h"
#include "sluice/broker/topic_table.h"
#include "sluice/client/admin.h"
#include "sluice/storage/batch_builder.h"

#include "../e2e/e2e_helpers.h"

namespace sluice::broker {
namespace {

namespace fs = std::filesystem;
using sluice::testing::RawClient;
using sluice::testing::temp_dir;

constexpr const char* kInternal = "__sluice_test_state";

Bytes make_batch(int records) {
  storage::BatchBuilder builder;
  for (int i = 0; i < records; ++i)
    builder.add(1'700'000'000'000 + i, as_bytes(std::string("k")), as_bytes(std::string("v")));
  return std::move(*builder.build());
}

class InternalTopics : public ::testing::Test {
 protected:
  void SetUp() override {
    // The broker's own code makes an internal topic through the table and writes
    // through the partition service, as a coordinator will.
    {
      auto table = TopicTable::open(storage::posix_file_system(), SystemClock::instance(), dir_, TopicConfig{});
      ASSERT_TRUE(table) << table.error().to_string();
      auto topic = (*table)->ensure_internal_topic(kInternal, 1, {});
      ASSERT_TRUE(topic) << topic.error().to_string();
      Bytes batch = make_batch(3);
      ASSERT_TRUE((*topic)->partitions[0]->append(batch, [](Offset) {}).status);
      ASSERT_TRUE((*table)->close_all());
    }
    start({.auto_create_topics = true});
  }
  void TearDown() override {
    broker_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void start(BrokerConfig config) {
    config.data_dir = dir_;
    config.listen = "127.0.0.1:0";
    config.http = "";  // the default port is fixed: a parallel test (or suite) may hold it
    auto started = Broker::start(config);
    ASSERT_TRUE(started) << started.error().to_string();
    broker_ = std::move(*started);
  }
  std::string bootstrap() const { return broker_->address().to_string(); }

  std::vector<std::string> listed(bool include_internal) {
    RawClient c(bootstrap());
    wire::MetadataRequest req;
    req.set_include_internal(include_internal);
    auto resp = c.call<wire::MetadataResponse>(wire::METADATA, req);
    EXPECT_TRUE(resp);
    std::vector<std::string> names;
    if (resp) {
      for (const auto& t : resp->topics()) names.push_back(t.name());
    }
    return names;
  }

  int64_t latest(const std::string& topic) {
    RawClient c(bootstrap());
    wire::ListOffsetsRequest req;
    auto* q = req.add_partitions();
    q->set_topic(topic);
    q->set_partition(0);
    q->set_timestamp(-1);
    auto resp = c.call<wire::ListOffsetsResponse>(wire::LIST_OFFSETS, req);
    EXPECT_TRUE(resp);
    return resp ? resp->results(0).offset() : -2;
  }

  std::string dir_ = temp_dir("sluice-internal-topics");
  std::unique_ptr<Broker> broker_;
};

TEST_F(InternalTopics, MetadataListsThemOnlyWhenAsked) {
  RawClient c(bootstrap());
  ASSERT_EQ(create_topic_with(c, "orders", {}), wire::NONE);
  EXPECT_EQ(listed(false), std::vector<std::string>{"orders"});
  EXPECT_EQ(listed(true), (std::vector<std::string>{kInternal, "orders"}));
}

TEST_F(InternalTopics, TheAdminClientListsThemOnlyWhenAsked) {
  RawClient c(bootstrap());
  ASSERT_EQ(create_topic_with(c, "orders", {}), wire::NONE);
  auto admin = client::Admin::create({.bootstrap = bootstrap()});
  ASSERT_TRUE(admin) << admin.error().to_string();
  auto user_topics = admin->list_topics();
  ASSERT_TRUE(user_topics) << user_topics.error().to_string();
  EXPECT_EQ(*user_topics, std::vector<std::string>{"orders"});
  auto every_topic = admin->list_topics(client::InternalTopics::include);
  ASSERT_TRUE(every_topic) << every_topic.error().to_string();
  EXPECT_EQ(*every_topic, (std::vector<std::string>{kInternal, "orders"}));
}

TEST_F(InternalTopics, AClientCanReadOneButNotWriteCreateOrDeleteIt) {
  RawClient c(bootstrap());
  wire::FetchRequest fetch;
  auto* fp = fetch.add_partitions();
  fp->set_topic(kInternal);
  fp->set_partition(0);
  fp->set_fetch_offset(0);
  fp->set_partition_max_bytes(1 << 20);
  Bytes records;
  auto fetched = c.call<wire::FetchResponse>(wire::FETCH, fetch, {}, &records);
  ASSERT_TRUE(fetched);
  EXPECT_EQ(fetched->partitions(0).error().code(), wire::NONE) << fetched->partitions(0).error().message();
  EXPECT_EQ(fetched->partitions(0).high_watermark(), 3);
  EXPECT_EQ(records.size(), make_batch(3).size());

  auto produced = produce(c, kInternal, make_batch(2), -1);
  ASSERT_TRUE(produced);
  EXPECT_EQ(produced->results(0).error().code(), wire::INVALID_TOPIC);
  EXPECT_NE(produced->results(0).error().message().find("reserved"), std::string::npos);
  EXPECT_EQ(latest(kInternal), 3) << "nothing was appended";

  EXPECT_EQ(create_topic_with(c, "__mine", {}), wire::INVALID_TOPIC);

  wire::DeleteTopicsRequest remove;
  remove.add_names(kInternal);
  auto removed = c.call<wire::DeleteTopicsResponse>(wire::DELETE_TOPICS, remove);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->results(0).error().code(), wire::INVALID_TOPIC);
  EXPECT_EQ(listed(true), std::vector<std::string>{kInternal});
}

TEST_F(InternalTopics, AutoCreationNeverMakesAnInternalName) {
  RawClient c(bootstrap());
  wire::MetadataRequest named;
  named.add_topics("__auto");
  named.add_topics("auto");
  auto resp = c.call<wire::MetadataResponse>(wire::METADATA, named);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->topics(0).error().code(), wire::UNKNOWN_TOPIC_OR_PARTITION);
  EXPECT_EQ(resp->topics(1).error().code(), wire::NONE) << "auto-creation is on";
  EXPECT_EQ(listed(true), (std::vector<std::string>{kInternal, "auto"}));
}

class ProducerIdsFile : public ::testing::Test {
 protected:
  ~ProducerIdsFile() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Result<std::unique_ptr<Broker>> start() {
    BrokerConfig config;
    config.data_dir = dir_;
    config.listen = "127.0.0.1:0";
    config.http = "";  // the default port is fixed: a parallel test (or suite) may hold it
    return Broker::start(config);
  }
  void write_ids(const std::string& text) {
    fs::create_directories(dir_);
    std::ofstream(dir_ + "/producer-ids") << text;
  }
  std::string read_ids() {
    std::ifstream in(dir_ + "/producer-ids");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_ = temp_dir("sluice-producer-ids");
};

TEST_F(ProducerIdsFile, TheFormatBeforeVersionsStillLoadsAndIsRewrittenVersioned) {
  write_ids("41000\n");
  auto broker = start();
  ASSERT_TRUE(broker) << broker.error().to_string();
  RawClient c((*broker)->address().to_string());
  auto id = c.call<wire::InitProducerIdResponse>(wire::INIT_PRODUCER_ID, wire::InitProducerIdRequest{});
  ASSERT_TRUE(id);
  EXPECT_EQ(id->producer_id(), 41000);
  EXPECT_EQ(read_ids(), "version=1\nnext=42000\n");
  broker->reset();

  auto restarted = start();
  ASSERT_TRUE(restarted) << restarted.error().to_string();
  RawClient again((*restarted)->address().to_string());
  auto next = again.call<wire::InitProducerIdResponse>(wire::INIT_PRODUCER_ID, wire::InitProducerIdRequest{});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->producer_id(), 42000) << "ids of the reserved block are never handed out twice";
}

TEST_F(ProducerIdsFile, AVersionFromTheFutureStopsStartupNamingTheFile) {
  write_ids("version=2\nnext=7\nepoch=3\n");
  auto broker = start();
  ASSERT_FALSE(broker);
  EXPECT_NE(broker.error().message.find(dir_ + "/producer-ids"), std::string::npos) << broker.error().message;
  EXPECT_NE(broker.error().message.find("version 2"), std::string::npos) << broker.error().message;
}

}  // namespace
}  // namespace sluice::broker
