// The committed-offsets store on a real TopicTable: commits survive a reopen (the
// store rebuilds from __consumer_offsets), later records win, tombstones delete,
// a record that does not decode is skipped, and offsets expire on the clock; a
// group's deletion and its lag per partition.
#include "group/offset_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "sluice/broker/broker_errc.h"
#include "sluice/broker/group_errc.h"
#include "sluice/storage/batch_builder.h"

#include "../e2e/e2e_helpers.h"
#include "group/group_lag.h"

namespace sluice::broker::group {
namespace {

namespace fs = std::filesystem;
using sluice::testing::temp_dir;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

class OffsetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void TearDown() override {
    close();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open() {
    auto table = TopicTable::open(storage::posix_file_system(), clock_, dir_, TopicConfig{});
    ASSERT_TRUE(table) << table.error().to_string();
    table_ = std::move(*table);
    if (!table_->find("orders")) {
      ASSERT_TRUE(table_->create("orders", 3, {}));
    }
    store_ = std::make_unique<OffsetStore>(*table_, clock_, OffsetStoreConfig{.num_partitions = 4});
    auto loaded = store_->load();
    ASSERT_TRUE(loaded) << loaded.error().to_string();
  }
  void close() {
    store_.reset();
    if (table_) {
      ASSERT_TRUE(table_->close_all());
    }
    table_.reset();
  }
  void reopen() {
    close();
    open();
  }
  void commit(const std::string& group, std::vector<OffsetCommit> commits) {
    auto s = store_->commit(group, commits);
    ASSERT_TRUE(s) << s.error().to_string();
  }

  ManualClock clock_;
  std::string dir_ = temp_dir("sluice-offset-store");
  std::unique_ptr<TopicTable> table_;
  std::unique_ptr<OffsetStore> store_;
};

TEST(OffsetsPartition, IsKafkasAbsOfJavaStringHashCodeModN) {
  EXPECT_EQ(offsets_partition_for("hello", 50), 99162322 % 50);  // "hello".hashCode() == 99162322
  // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Kafka's Utils.abs makes it 0.
  EXPECT_EQ(offsets_partition_for("polygenelubricants", 50), 0);
  EXPECT_EQ(offsets_partition_for("", 50), 0);
  // "é" is one UTF-16 unit 0xE9; a supplementary character is a surrogate pair.
  EXPECT_EQ(offsets_partition_for("\xC3\xA9", 1000), 0xE9 % 1000);
  EXPECT_EQ(offsets_partition_for("\xF0\x9F\x98\x80", 1'000'000), (31 * 0xD83D + 0xDE00) % 1'000'000);
}

TEST(GroupId, MustBeOneTo255Characters) {
  EXPECT_EQ(validate_group_id("").error().code, GroupErrc::invalid_group_id);
  EXPECT_EQ(validate_group_id(std::string(256, 'g')).error().code, GroupErrc::invalid_group_id);
  EXPECT_TRUE(validate_group_id(std::string(255, 'g')));
}

TEST_F(OffsetStoreTest, CommitsAreFetchedBackAndSurviveAReopen) {
  commit("g", {{"orders", 0, 42, "meta"}, {"orders", 2, 7, ""}});
  commit("g", {{"orders", 0, 43, "later"}});
  commit("other", {{"orders", 0, 1, ""}});
  reopen();
  CommittedOffset p0 = store_->fetch("g", "orders", 0);
  EXPECT_EQ(p0.offset, 43);
  EXPECT_EQ(p0.metadata, "later");
  EXPECT_EQ(p0.commit_timestamp_ms, clock_.now().value());
  EXPECT_EQ(store_->fetch("g", "orders", 1).offset, -1);
  auto all = store_->fetch_all("g");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].partition, 2);
  EXPECT_EQ(all[1].committed.offset, 7);
  EXPECT_EQ(store_->fetch("other", "orders", 0).offset, 1);
}

TEST_F(OffsetStoreTest, AGroupsRecordsGoToItsOwnPartition) {
  commit("g", {{"orders", 0, 5, ""}});
  auto topic = table_->find(kOffsetsTopic);
  ASSERT_TRUE(topic);
  ASSERT_EQ(topic->partitions.size(), 4u);
  for (size_t p = 0; p < topic->partitions.size(); ++p) {
    int64_t expected = static_cast<int32_t>(p) == offsets_partition_for("g", 4) ? 1 : 0;
    EXPECT_EQ(topic->partitions[p]->high_watermark().value(), expected) << p;
  }
}

TEST_F(OffsetStoreTest, ValidationRefusesUnknownPartitionsNegativeOffsetsAndLargeMetadata) {
  EXPECT_EQ(store_->validate({"nope", 0, 1, ""}).error().code, BrokerErrc::unknown_topic_or_partition);
  EXPECT_EQ(store_->validate({"orders", 3, 1, ""}).error().code, BrokerErrc::unknown_topic_or_partition);
  EXPECT_EQ(store_->validate({kOffsetsTopic, 0, 1, ""}).error().code, BrokerErrc::unknown_topic_or_partition);
  EXPECT_EQ(store_->validate({"orders", 0, -1, ""}).error().code, Errc::invalid_argument);
  EXPECT_EQ(store_->validate({"orders", 0, 1, std::string(4097, 'm')}).error().code,
            GroupErrc::offset_metadata_too_large);
  EXPECT_TRUE(store_->validate({"orders", 0, 0, std::string(4096, 'm')}));
}

TEST_F(OffsetStoreTest, ARecordThatDoesNotDecodeIsSkippedOnRebuild) {
  commit("g", {{"orders", 0, 10, ""}});
  auto topic = table_->find(kOffsetsTopic);
  Partition& partition = *topic->partitions[static_cast<size_t>(offsets_partition_for("g", 4))];
  storage::BatchBuilder builder;
  Bytes garbage_key = {std::byte{kOffsetCommitRecord}, std::byte{0xFF}, std::byte{0xFF}};
  builder.add(0, ByteSpan(garbage_key), as_bytes(std::string("x")));
  Bytes unknown_type = {std::byte{7}};
  builder.add(0, ByteSpan(unknown_type), as_bytes(std::string("x")));
  Bytes batch = std::move(*builder.build());
  ASSERT_TRUE(partition.append(batch, [](Offset) {}).status);
  // The topic is compacted: a keyless record cannot even be written.
  storage::BatchBuilder keyless;
  keyless.add(0, std::nullopt, as_bytes(std::string("x")));
  Bytes refused = std::move(*keyless.build());
  auto run = partition.append(refused, [](Offset) {});
  ASSERT_FALSE(run.status);
  EXPECT_EQ(run.status.error().code, storage::StorageErrc::invalid_record);
  commit("g", {{"orders", 1, 11, ""}});
  reopen();
  EXPECT_EQ(store_->fetch("g", "orders", 0).offset, 10);
  EXPECT_EQ(store_->fetch("g", "orders", 1).offset, 11);
}

TEST_F(OffsetStoreTest, OffsetsOfAGroupExpireWhenItsNewestCommitIsOlderThanRetention) {
  commit("old", {{"orders", 0, 1, ""}, {"orders", 1, 2, ""}});
  commit("recent", {{"orders", 0, 3, ""}});
  clock_.advance_ms(6 * kDayMs);
  commit("recent", {{"orders", 1, 4, ""}});  // its newest commit keeps the older one too
  clock_.advance_ms(kDayMs + 1);
  auto expired = store_->expire();
  ASSERT_TRUE(expired) << expired.error().to_string();
  EXPECT_EQ(*expired, 2u);
  EXPECT_TRUE(store_->fetch_all("old").empty());
  EXPECT_EQ(store_->fetch_all("recent").size(), 2u);
  reopen();  // the tombstones are in the log
  EXPECT_TRUE(store_->fetch_all("old").empty());
  EXPECT_EQ(store_->fetch("recent", "orders", 0).offset, 3);
  clock_.advance_ms(7 * kDayMs);
  ASSERT_TRUE(store_->expire());
  EXPECT_TRUE(store_->fetch_all("recent").empty());
}

// Admin additions: the groups with offsets, a group's deletion by tombstones, and the
// lag per partition computed from the offsets and the log.
class GroupLagTest : public OffsetStoreTest {
 protected:
  // Appends one batch of `count` records to orders-`partition`, created at first_ms, first_ms + 1000, ...
  void append(int32_t partition, int count, int64_t first_ms) {
    storage::BatchBuilder builder;
    for (int i = 0; i < count; ++i) builder.add(first_ms + i * 1000, std::nullopt, as_bytes(std::string("v")));
    auto batch = builder.build();
    ASSERT_TRUE(batch);
    auto run = table_->find("orders")->partitions[static_cast<size_t>(partition)]->append(MutableByteSpan(*batch),
                                                                                          [](Offset) {});
    ASSERT_TRUE(run.status) << run.status.error().to_string();
  }
};

TEST_F(GroupLagTest, TimestampIsTheRecordsAtTheOffsetNotItsBatchs) {
  append(0, 4, 10'000);  // offsets 0-3
  append(0, 2, 50'000);  // offsets 4-5
  const Partition& p = *table_->find("orders")->partitions[0];
  EXPECT_EQ(record_timestamp_at(p, Offset(0)).value(), 10'000);
  EXPECT_EQ(record_timestamp_at(p, Offset(2)).value(), 12'000);
  EXPECT_EQ(record_timestamp_at(p, Offset(5)).value(), 51'000);
  EXPECT_EQ(record_timestamp_at(p, Offset(6)).value(), std::nullopt) << "the log end has no record";
}

TEST_F(GroupLagTest, LagInRecordsAndSecondsPerCommittedOrOwnedPartition) {
  append(0, 10, 100'000);  // record i created at 100 + i s
  commit("g", {{"orders", 0, 3, ""}, {"orders", 1, 0, ""}});
  GroupDescription described{.group_id = "g"};
  described.members.push_back(
      {.member_id = "m1", .client_id = "c1", .host = "10.0.0.1", .assigned = {{"orders", {2}}}});

  auto lags = group_lag("g", described, *store_, *table_, 200'000);
  ASSERT_EQ(lags.size(), 3u);
  EXPECT_EQ(lags[0].partition, 0);
  EXPECT_EQ(lags[0].committed_offset, 3);
  EXPECT_EQ(lags[0].log_end_offset, 10);
  EXPECT_EQ(lags[0].lag, 7);
  EXPECT_EQ(lags[0].lag_seconds, 97.0) << "now 200 s - the record at offset 3, created at 103 s";
  EXPECT_EQ(lags[1].partition, 1);
  EXPECT_EQ(lags[1].lag, 0);
  EXPECT_EQ(lags[1].lag_seconds, 0.0) << "caught up on an empty partition";
  EXPECT_EQ(lags[2].partition, 2);
  EXPECT_EQ(lags[2].committed_offset, -1);
  EXPECT_EQ(lags[2].lag, std::nullopt) << "owned, nothing committed: no lag, as kafka-consumer-groups' '-'";
  EXPECT_EQ(lags[2].lag_seconds, std::nullopt);
  EXPECT_EQ(lags[2].member_id, "m1");
  EXPECT_EQ(lags[2].client_id, "c1");
  EXPECT_EQ(lags[2].host, "10.0.0.1");

  commit("g", {{"orders", 0, 10, ""}});
  lags = group_lag("g", std::nullopt, *store_, *table_, 200'000);
  EXPECT_EQ(lags[0].lag, 0);
  EXPECT_EQ(lags[0].lag_seconds, 0.0);
}

TEST_F(GroupLagTest, APartitionThatNoLongerExistsHasAnError) {
  commit("g", {{"orders", 2, 0, ""}});
  ASSERT_TRUE(table_->remove("orders"));
  auto lags = group_lag("g", std::nullopt, *store_, *table_, 0);
  ASSERT_EQ(lags.size(), 1u);
  ASSERT_FALSE(lags[0].status);
  EXPECT_EQ(lags[0].status.error().code, BrokerErrc::unknown_topic_or_partition);
}

TEST_F(GroupLagTest, DeleteGroupTombstonesEveryOffsetDurably) {
  commit("a", {{"orders", 0, 1, ""}, {"orders", 1, 2, ""}});
  commit("b", {{"orders", 0, 5, ""}});
  EXPECT_EQ(store_->groups(), (std::vector<std::string>{"a", "b"}));
  auto deleted = store_->delete_group("a");
  ASSERT_TRUE(deleted) << deleted.error().to_string();
  EXPECT_EQ(*deleted, 2u);
  EXPECT_TRUE(store_->fetch_all("a").empty());
  EXPECT_EQ(store_->delete_group("nobody").value(), 0u);
  reopen();
  EXPECT_EQ(store_->groups(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(store_->fetch("b", "orders", 0).offset, 5);
}

}  // namespace
}  // namespace sluice::broker::group
