// The durability promise, end to end: the real sluiced process, kill -9 while a
// producer streams acks=all batches to a durability=fsync topic; after a restart
// every acknowledged batch is there, at the offset it was acknowledged with.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <thread>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/record_batch.h"

#include "../broker/raw_client.h"
#include "broker_process.h"

namespace sluice {
namespace {

using testing::BrokerProcess;
using testing::RawClient;

using testing::temp_dir;

Bytes batch_for(int n) {
  storage::BatchBuilder builder;
  for (int i = 0; i < 4; ++i) {
    std::string key = "key-" + std::to_string(n), value = "batch-" + std::to_string(n) + "-record-" + std::to_string(i);
    builder.add(1'700'000'000'000 + n, as_bytes(key), as_bytes(value));
  }
  return std::move(*builder.build());
}

void create_topic(RawClient& c, const std::string& name, const std::string& durability) {
  wire::CreateTopicsRequest req;
  auto* t = req.add_topics();
  t->set_name(name);
  t->set_partitions(1);
  (*t->mutable_configs())["durability"] = durability;
  auto resp = c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->results(0).error().code(), wire::NONE);
}

// Fetches the whole partition; returns batch base offset -> first record value.
std::map<int64_t, std::string> read_all(RawClient& c, const std::string& topic) {
  std::map<int64_t, std::string> out;
  int64_t offset = 0;
  while (true) {
    wire::FetchRequest fetch;
    fetch.set_max_wait_ms(0);
    auto* fp = fetch.add_partitions();
    fp->set_topic(topic);
    fp->set_partition(0);
    fp->set_fetch_offset(offset);
    fp->set_partition_max_bytes(1 << 20);
    Bytes records;
    auto resp = c.call<wire::FetchResponse>(wire::FETCH, fetch, {}, &records);
    EXPECT_TRUE(resp);
    if (!resp || records.empty()) break;
    ByteSpan rest(records);
    while (!rest.empty()) {
      auto h = storage::validate_batch(rest);
      EXPECT_TRUE(h.has_value());
      if (!h) return out;
      std::vector<storage::Record> recs;
      Bytes scratch;
      EXPECT_TRUE(storage::decode_records(rest.first(h->total_size()), recs, scratch).has_value());
      out[h->base_offset.value()] = std::string(as_string_view(*recs[0].value));
      offset = h->next_offset().value();
      rest = rest.subspan(h->total_size());
    }
  }
  return out;
}

TEST(Durability, AcknowledgedFsyncRecordsSurviveKillDashNine) {
  std::string dir = temp_dir("sluice-kill9");
  BrokerProcess broker(SLUICED_PATH, dir);
  ASSERT_TRUE(broker.start());
  {
    RawClient admin(broker.address());
    create_topic(admin, "durable", "fsync");
  }
  std::map<int64_t, std::string> acked;  // base offset -> first value
  std::atomic<int> acked_count{0};
  std::thread producer([&] {
    RawClient c(broker.address());
    for (int n = 0; n < 100000; ++n) {
      Bytes batch = batch_for(n);
      wire::ProduceRequest req;
      req.set_acks(-1);
      auto* p = req.add_partitions();
      p->set_topic("durable");
      p->set_partition(0);
      p->set_records_size(static_cast<uint32_t>(batch.size()));
      auto resp = c.call<wire::ProduceResponse>(wire::PRODUCE, req, batch);
      if (!resp) return;  // the broker died under us
      if (resp->results(0).error().code() != wire::NONE) return;
      acked[resp->results(0).base_offset()] = "batch-" + std::to_string(n) + "-record-0";
      ++acked_count;
    }
  });
  // Let acknowledgements accumulate, then kill without warning.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (acked_count < 300 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(broker.stop(SIGKILL), -SIGKILL);
  producer.join();
  ASSERT_GE(acked.size(), 300u);

  ASSERT_TRUE(broker.start(broker.address()));
  RawClient c(broker.address());
  auto stored = read_all(c, "durable");
  for (const auto& [offset, value] : acked) {
    auto it = stored.find(offset);
    ASSERT_NE(it, stored.end()) << "acknowledged batch at offset " << offset << " lost";
    EXPECT_EQ(it->second, value);
  }
  EXPECT_EQ(broker.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".log");
}

TEST(Durability, SigtermClosesCleanlySoTheNextStartNeedsNoRecovery) {
  std::string dir = temp_dir("sluice-sigterm");
  BrokerProcess broker(SLUICED_PATH, dir);
  ASSERT_TRUE(broker.start());
  {
    RawClient c(broker.address());
    create_topic(c, "clean", "none");
    for (int n = 0; n < 20; ++n) {
      Bytes batch = batch_for(n);
      wire::ProduceRequest req;
      req.set_acks(1);
      auto* p = req.add_partitions();
      p->set_topic("clean");
      p->set_partition(0);
      p->set_records_size(static_cast<uint32_t>(batch.size()));
      ASSERT_TRUE(c.call<wire::ProduceResponse>(wire::PRODUCE, req, batch));
    }
  }
  EXPECT_EQ(broker.stop(SIGTERM), 0);
  EXPECT_TRUE(std::filesystem::exists(dir + "/clean-0/clean-shutdown"));
  EXPECT_NE(broker.log().find("broker stopped clean=true"), std::string::npos) << broker.log();
  ASSERT_TRUE(broker.start());
  RawClient c(broker.address());
  EXPECT_EQ(read_all(c, "clean").size(), 20u);
  EXPECT_EQ(broker.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".log");
}

// Fills a topic with about 10 MB and leaves a client with a 4 KiB receive window
// holding a fetch of all of it, unread: the broker cannot finish that response,
// so a graceful stop cannot finish either. Returns the client (keep it open).
std::unique_ptr<RawClient> stall_shutdown(const BrokerProcess& broker, const std::string& topic) {
  {
    RawClient c(broker.address());
    create_topic(c, topic, "none");
    for (int n = 0; n < 40; ++n) {
      storage::BatchBuilder builder;
      std::string value(60'000, static_cast<char>('a' + n % 26));
      for (int i = 0; i < 4; ++i) builder.add(1'700'000'000'000 + n, std::nullopt, as_bytes(value));
      Bytes batch = std::move(*builder.build());
      wire::ProduceRequest req;
      req.set_acks(1);
      auto* p = req.add_partitions();
      p->set_topic(topic);
      p->set_partition(0);
      p->set_records_size(static_cast<uint32_t>(batch.size()));
      auto resp = c.call<wire::ProduceResponse>(wire::PRODUCE, req, batch);
      EXPECT_TRUE(resp && resp->results(0).error().code() == wire::NONE);
    }
  }
  auto stuck = std::make_unique<RawClient>(broker.address(), 4096);
  wire::FetchRequest fetch;
  auto* fp = fetch.add_partitions();
  fp->set_topic(topic);
  fp->set_partition(0);
  fp->set_partition_max_bytes(16 << 20);
  EXPECT_TRUE(stuck->send_request(wire::FETCH, 1, fetch));
  // The response has started (and cannot finish): only its length is read.
  EXPECT_GT(stuck->read_length_only(), 9'000'000u);
  return stuck;
}

TEST(Durability, ShutdownTimeoutForcesTheExitAndTheNextStartRecovers) {
  std::string dir = temp_dir("sluice-stall");
  BrokerProcess broker(SLUICED_PATH, dir, {"--shutdown-timeout-ms", "1000"});
  ASSERT_TRUE(broker.start());
  auto stuck = stall_shutdown(broker, "stalled");
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(broker.stop(SIGTERM), 1) << broker.log();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  EXPECT_NE(broker.log().find("forced_exit reason=\"shutdown timeout\""), std::string::npos) << broker.log();
  EXPECT_FALSE(std::filesystem::exists(dir + "/stalled-0/clean-shutdown"));
  stuck.reset();
  ASSERT_TRUE(broker.start());
  RawClient c(broker.address());
  EXPECT_EQ(read_all(c, "stalled").size(), 40u) << "every acknowledged batch is back after recovery";
  EXPECT_EQ(broker.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".log");
}

TEST(Durability, SecondSignalForcesTheExit) {
  std::string dir = temp_dir("sluice-second");
  BrokerProcess broker(SLUICED_PATH, dir, {"--shutdown-timeout-ms", "600000"});
  ASSERT_TRUE(broker.start());
  auto stuck = stall_shutdown(broker, "stalled");
  broker.signal(SIGTERM);
  ASSERT_TRUE(broker.wait_for_log("broker stopping", std::chrono::seconds(20))) << broker.log();
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(broker.stop(SIGINT), 130) << broker.log();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  EXPECT_NE(broker.log().find("forced_exit reason=\"second signal\""), std::string::npos) << broker.log();
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".log");
}

TEST(Durability, InvalidSettingStopsStartupWithAMessage) {
  std::string dir = temp_dir("sluice-badcfg");
  BrokerProcess broker(SLUICED_PATH, dir, {"--default-durability", "sometimes"});
  EXPECT_FALSE(broker.start());
  EXPECT_NE(broker.log().find("default-durability"), std::string::npos) << broker.log();
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".log");
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(BrokerConfigFile, TomlSettingsApplyAndUnknownKeysStopStartup) {
  std::string dir = temp_dir("sluice-toml");
  std::filesystem::create_directories(dir);
  std::string config = dir + "/sluiced.toml";
  {
    std::ofstream f(config);
    f << "# topic defaults for this test\n"
      << "default-retention-ms = 12345\n"
      << "default-durability = \"none\"\n";
  }
  testing::BrokerProcess broker(SLUICED_PATH, dir + "/data", {"--config", config});
  ASSERT_TRUE(broker.start()) << broker.log();
  {
    RawClient c(broker.address());
    wire::CreateTopicsRequest req;
    auto* t = req.add_topics();
    t->set_name("configured");
    t->set_partitions(1);
    ASSERT_TRUE(c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req));
    wire::MetadataRequest md;
    md.add_topics("configured");
    auto resp = c.call<wire::MetadataResponse>(wire::METADATA, md);
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->topics(0).configs().at("retention.ms"), "12345");
    EXPECT_EQ(resp->topics(0).configs().at("durability"), "none");
  }
  EXPECT_EQ(broker.stop(SIGTERM), 0);

  {
    std::ofstream f(config);
    f << "no-such-setting = 1\n";
  }
  testing::BrokerProcess bad(SLUICED_PATH, dir + "/data", {"--config", config});
  EXPECT_FALSE(bad.start());
  EXPECT_NE(bad.log().find("no-such-setting"), std::string::npos) << bad.log();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
