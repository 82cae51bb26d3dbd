// The topic table on an injected file system and a manual clock: retention by time
// without sleeping, a metadata write that fails, internal topics, and the versioned
// metadata files.
#include "sluice/broker/topic_table.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sluice/storage/batch_builder.h"

#include "../e2e/broker_process.h"

namespace sluice::broker {
namespace {

namespace fs = std::filesystem;
using sluice::testing::temp_dir;

Bytes batch_at(int64_t timestamp_ms, int records) {
  storage::BatchBuilder builder;
  for (int i = 0; i < records; ++i) builder.add(timestamp_ms, as_bytes(std::string("k")), as_bytes(std::string("v")));
  return std::move(*builder.build());
}

// Appends one batch through the partition service, as a handler does.
AppendedRun append(Partition& partition, Bytes batch) {
  return partition.append(batch, [](Offset) {});
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// The POSIX file system, except that renaming onto a path ending in `fail_suffix`
// fails (while it is set): a metadata write that cannot complete.
class FailingRenameFileSystem final : public storage::FileSystem {
 public:
  std::string fail_suffix;

  Result<std::unique_ptr<storage::File>> open(const std::string& path, storage::OpenMode mode) override {
    return real().open(path, mode);
  }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override { return real().list_dir(dir); }
  bool exists(const std::string& path) override { return real().exists(path); }
  Status create_dirs(const std::string& dir) override { return real().create_dirs(dir); }
  Status remove(const std::string& path) override { return real().remove(path); }
  Status remove_all(const std::string& dir) override { return real().remove_all(dir); }
  Status rename(const std::string& from, const std::string& to) override {
    if (!fail_suffix.empty() && to.ends_with(fail_suffix)) return make_error(Errc::io_error, "injected: rename " + to);
    return real().rename(from, to);
  }
  Status sync_dir(const std::string& dir) override { return real().sync_dir(dir); }

 private:
  static storage::FileSystem& real() { return storage::posix_file_system(); }
};

class TopicTableTest : public ::testing::Test {
 protected:
  ~TopicTableTest() override {
    table_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open_table() {
    table_.reset();
    auto table = TopicTable::open(fs_, clock_, dir_, TopicConfig{});
    ASSERT_TRUE(table) << table.error().to_string();
    table_ = std::move(*table);
  }

  std::string dir_ = temp_dir("sluice-topic-table");
  FailingRenameFileSystem fs_;
  ManualClock clock_;
  std::unique_ptr<TopicTable> table_;
};

TEST_F(TopicTableTest, RetentionByTimeDeletesAnAgedSegmentOnTheManualClock) {
  open_table();
  auto topic = table_->create("aged", 1, {{"retention.ms", "60000"}});
  ASSERT_TRUE(topic) << topic.error().to_string();
  Partition& partition = *(*topic)->partitions[0];
  ASSERT_TRUE(append(partition, batch_at(clock_.now().value(), 3)).status);
  ASSERT_TRUE(partition.log().roll());
  ASSERT_TRUE(append(partition, batch_at(clock_.now().value() + 50'000, 2)).status);

  clock_.advance_ms(59'000);
  EXPECT_EQ(table_->apply_retention(), 0u) << "nothing is older than retention.ms yet";
  EXPECT_EQ(partition.log_start(), Offset(0));

  clock_.advance_ms(2'000);  // the first segment's newest record is now 61 s old
  EXPECT_EQ(table_->apply_retention(), 1u);
  EXPECT_EQ(partition.log_start(), Offset(3));
  EXPECT_EQ(partition.high_watermark(), Offset(5));
  Bytes scratch;
  auto read = partition.read({.start = Offset(3)}, scratch);
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(read->records, 2);
}

TEST_F(TopicTableTest, AFailedMetadataWriteLeavesNothingAndTheTableKeepsWorking) {
  open_table();
  ASSERT_TRUE(table_->create("kept", 1, {}));
  fs_.fail_suffix = "doomed.topic";
  auto failed = table_->create("doomed", 2, {{"retention.ms", "1000"}});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::io_error);
  EXPECT_NE(failed.error().message.find("injected"), std::string::npos) << failed.error().message;
  EXPECT_EQ(table_->find("doomed"), nullptr);
  EXPECT_FALSE(fs::exists(dir_ + "/doomed-0"));
  EXPECT_FALSE(fs::exists(dir_ + "/doomed-1"));
  EXPECT_FALSE(fs::exists(dir_ + "/__topics/doomed.topic"));
  EXPECT_FALSE(fs::exists(dir_ + "/__topics/doomed.topic.tmp"));

  fs_.fail_suffix.clear();
  auto retried = table_->create("doomed", 2, {});
  ASSERT_TRUE(retried) << retried.error().to_string();
  ASSERT_TRUE(append(*(*retried)->partitions[1], batch_at(clock_.now().value(), 4)).status);
  ASSERT_TRUE(table_->close_all());
  open_table();
  ASSERT_NE(table_->find("kept"), nullptr);
  auto reopened = table_->find("doomed");
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->partitions.size(), 2u);
  EXPECT_EQ(reopened->partitions[1]->high_watermark(), Offset(4));
}

TEST_F(TopicTableTest, InternalTopicsAreMadeOnlyByTheBroker) {
  open_table();
  auto refused = table_->create("__consumer_offsets", 1, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, BrokerErrc::invalid_topic);
  EXPECT_NE(refused.error().message.find("reserved"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(table_->ensure_internal_topic("orders", 1, {})) << "not an internal name";

  auto made = table_->ensure_internal_topic("__consumer_offsets", 3, {{"retention.ms", "-1"}});
  ASSERT_TRUE(made) << made.error().to_string();
  EXPECT_EQ((*made)->partitions.size(), 3u);
  auto again = table_->ensure_internal_topic("__consumer_offsets", 5, {});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), made->get()) << "an existing internal topic is returned as it is";
  ASSERT_TRUE(append(*(*made)->partitions[0], batch_at(clock_.now().value(), 2)).status);

  ASSERT_TRUE(table_->create("orders", 1, {}));
  auto names = [](const std::vector<std::shared_ptr<Topic>>& topics) {
    std::vector<std::string> out;
    for (const auto& t : topics) out.push_back(t->name);
    return out;
  };
  EXPECT_EQ(names(table_->list(TopicTable::Internal::exclude)), std::vector<std::string>{"orders"});
  EXPECT_EQ(names(table_->list(TopicTable::Internal::include)),
            (std::vector<std::string>{"__consumer_offsets", "orders"}));
  auto removed = table_->remove("__consumer_offsets");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, BrokerErrc::invalid_topic);

  // It survives a restart with its settings and data, like any topic.
  ASSERT_TRUE(table_->close_all());
  open_table();
  auto reopened = table_->find("__consumer_offsets");
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->settings().config.log.retention_ms, -1);
  EXPECT_EQ(reopened->partitions[0]->high_watermark(), Offset(2));
}

TEST_F(TopicTableTest, MetadataIsWrittenVersionedWithTheCreationTime) {
  open_table();
  ASSERT_TRUE(table_->create("orders", 2, {{"retention.ms", "5000"}}));
  EXPECT_EQ(read_text(dir_ + "/__topics/orders.topic"),
            "version=1\nname=orders\npartitions=2\ncreated_ms=" + std::to_string(clock_.now().value()) +
                "\nconfig.retention.ms=5000\n");
  TimestampMs created = clock_.now();
  clock_.advance_ms(10'000);
  ASSERT_TRUE(table_->close_all());
  open_table();
  auto topic = table_->find("orders");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->created, created);
  EXPECT_EQ(topic->settings().config.log.retention_ms, 5000);
}

TEST_F(TopicTableTest, MetadataWrittenBeforeVersionsStillLoads) {
  write_text(dir_ + "/__topics/legacy.topic", "partitions=2\nretention.ms=5000\n");
  open_table();
  auto topic = table_->find("legacy");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->partitions.size(), 2u);
  EXPECT_EQ(topic->settings().config.log.retention_ms, 5000);
  EXPECT_EQ(topic->settings().overrides, (std::map<std::string, std::string>{{"retention.ms", "5000"}}));
  EXPECT_EQ(topic->created, std::nullopt);
}

TEST_F(TopicTableTest, AMetadataVersionFromTheFutureIsRefusedNamingTheFile) {
  std::string path = dir_ + "/__topics/future.topic";
  write_text(path, "version=2\nname=future\npartitions=1\nshards=4\n");
  auto table = TopicTable::open(fs_, clock_, dir_, TopicConfig{});
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().code, Errc::corrupt_data);
  EXPECT_NE(table.error().message.find(path), std::string::npos) << table.error().message;
  EXPECT_NE(table.error().message.find("version 2"), std::string::npos) << table.error().message;
}

TEST_F(TopicTableTest, MetadataWhoseNameDisagreesWithItsFileIsRefused) {
  write_text(dir_ + "/__topics/a.topic", "version=1\nname=b\npartitions=1\n");
  auto table = TopicTable::open(fs_, clock_, dir_, TopicConfig{});
  ASSERT_FALSE(table);
  EXPECT_NE(table.error().message.find("a.topic"), std::string::npos) << table.error().message;
}

TEST_F(TopicTableTest, AlteredRetentionAppliesToEveryPartitionAndSurvivesARestart) {
  open_table();
  auto topic = table_->create("orders", 2, {{"retention.ms", "-1"}});
  ASSERT_TRUE(topic) << topic.error().to_string();
  for (auto& partition : (*topic)->partitions) {
    ASSERT_TRUE(append(*partition, batch_at(clock_.now().value(), 3)).status);
    ASSERT_TRUE(partition->log().roll());
    ASSERT_TRUE(append(*partition, batch_at(clock_.now().value() + 50'000, 2)).status);
  }
  clock_.advance_ms(61'000);
  EXPECT_EQ(table_->apply_retention(), 0u) << "retention.ms=-1 keeps everything";

  ASSERT_TRUE(table_->alter_config("orders", {{"retention.ms", "60000"}, {"segment.ms", "3600000"}}));
  EXPECT_EQ((*topic)->settings().config.log.retention_ms, 60'000);
  EXPECT_EQ((*topic)->settings().overrides,
            (std::map<std::string, std::string>{{"retention.ms", "60000"}, {"segment.ms", "3600000"}}));
  EXPECT_EQ(table_->apply_retention(), 2u) << "the first segment of each partition is now past retention.ms";
  for (auto& partition : (*topic)->partitions) EXPECT_EQ(partition->log_start(), Offset(3));

  // Removing an override goes back to the broker's default; both are persisted.
  ASSERT_TRUE(table_->alter_config("orders", {{"segment.ms", std::nullopt}}));
  ASSERT_TRUE(table_->close_all());
  open_table();
  auto reopened = table_->find("orders");
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->settings().overrides, (std::map<std::string, std::string>{{"retention.ms", "60000"}}));
  EXPECT_EQ(reopened->settings().config.log.segment_ms, TopicConfig{}.log.segment_ms);
  EXPECT_EQ(reopened->partitions[1]->log().config().retention_ms, 60'000);
}

TEST_F(TopicTableTest, AnAlterThatCannotApplyChangesNothing) {
  open_table();
  ASSERT_TRUE(table_->create("orders", 2, {{"retention.ms", "5000"}}));
  std::string before = read_text(dir_ + "/__topics/orders.topic");

  auto unknown = table_->alter_config("orders", {{"retention.minutes", "5"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, BrokerErrc::invalid_config);
  // durability shapes what is running (the flusher): not changeable while open.
  auto fixed = table_->alter_config("orders", {{"retention.ms", "9000"}, {"durability", "none"}});
  ASSERT_FALSE(fixed);
  EXPECT_EQ(fixed.error().code, BrokerErrc::invalid_config);
  EXPECT_NE(fixed.error().message.find("durability cannot change while topic 'orders' serves"), std::string::npos)
      << fixed.error().message;
  auto missing = table_->alter_config("nope", {{"retention.ms", "1"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, BrokerErrc::unknown_topic_or_partition);

  // A metadata write that fails leaves the running logs as they were.
  fs_.fail_suffix = "orders.topic";
  auto unwritten = table_->alter_config("orders", {{"retention.ms", "9000"}});
  ASSERT_FALSE(unwritten);
  EXPECT_EQ(unwritten.error().code, Errc::io_error);
  fs_.fail_suffix.clear();

  auto topic = table_->find("orders");
  EXPECT_EQ(topic->settings().config.log.retention_ms, 5000);
  for (auto& partition : topic->partitions) EXPECT_EQ(partition->log().config().retention_ms, 5000);
  EXPECT_EQ(read_text(dir_ + "/__topics/orders.topic"), before);
  EXPECT_FALSE(fs::exists(dir_ + "/__topics/orders.topic.tmp"));
}

TEST_F(TopicTableTest, APartitionReadStopsAtItsUpperBound) {
  open_table();
  auto topic = table_->create("bounded", 1, {});
  ASSERT_TRUE(topic) << topic.error().to_string();
  Partition& partition = *(*topic)->partitions[0];
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(append(partition, batch_at(clock_.now().value(), 2)).status);
  Bytes scratch;
  // Offsets [0, 6) in three batches; a bound of 4 returns the first two whole.
  auto bounded = partition.read({.start = Offset(0), .upper_bound = Offset(4)}, scratch);
  ASSERT_TRUE(bounded) << bounded.error().to_string();
  EXPECT_EQ(bounded->records, 4);
  EXPECT_EQ(bounded->next_offset, Offset(4));
  // A bound inside a batch leaves that batch out whole.
  auto inside = partition.read({.start = Offset(0), .upper_bound = Offset(3)}, scratch);
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->records, 2);
  auto at = partition.read({.start = Offset(4), .upper_bound = Offset(4)}, scratch);
  ASSERT_TRUE(at);
  EXPECT_EQ(at->records, 0);
  auto unbounded = partition.read({.start = Offset(0)}, scratch);
  ASSERT_TRUE(unbounded);
  EXPECT_EQ(unbounded->records, 6);
}

}  // namespace
}  // namespace sluice::broker
