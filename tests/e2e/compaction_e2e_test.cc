// Compaction against the real sluiced over TCP: a compacted topic written with
// 1,000 keys x 100 values is read back, once the broker's cleaner has run, as
// (about) one record per key: each key's latest value at the offset its producer
// was given, in offset order, the same after a restart; a keyless record is refused.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/client/producer.h"
#include "sluice/consumer/consumer.h"

#include "../broker/raw_client.h"
#include "broker_process.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using client::ProducerRecord;

struct Latest {
  int64_t offset = -1;
  std::string value;
};

// Everything in partition 0 of `topic`, key -> (offset, value) of each record read,
// in the order read. Reads until a poll brings nothing after the log end was reached.
std::vector<std::pair<std::string, Latest>> read_topic(const std::string& bootstrap, const std::string& topic) {
  consumer::ConsumerConfig config;
  config.bootstrap = bootstrap;
  config.auto_offset_reset = consumer::OffsetReset::earliest;
  config.fetch_max_wait_ms = 50;
  auto c = consumer::Consumer::create(config);
  EXPECT_TRUE(c.has_value());
  c->assign({{topic, 0}});
  std::vector<std::pair<std::string, Latest>> out;
  int quiet = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (quiet < 3 && std::chrono::steady_clock::now() < deadline) {
    auto batch = c->poll(100ms);
    EXPECT_TRUE(batch.has_value()) << batch.error().to_string();
    if (!batch) break;
    quiet = batch->empty() ? quiet + 1 : 0;
    for (auto& r : *batch) {
      out.push_back({std::string(r.key.value_or("<null>")), Latest{r.offset, std::string(r.value.value_or(""))}});
    }
  }
  return out;
}

class CompactionE2e : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(broker_.start()) << broker_.log(); }
  void TearDown() override {
    broker_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_ = testing::temp_dir("sluice-compaction-e2e");
  testing::BrokerProcess broker_{SLUICED_PATH, dir_, {"--log-cleaner-backoff-ms", "50"}};
};

TEST_F(CompactionE2e, ThousandKeysOverwrittenAHundredTimesReadBackAsTheLatestValues) {
  auto admin = client::Admin::create({.bootstrap = broker_.address()});
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->create_topic("table", 1,
                                  {{"cleanup.policy", "compact"}, {"segment.bytes", "65536"}, {"durability", "none"}}));
  constexpr int kKeys = 1000;
  constexpr int kRounds = 100;
  std::map<std::string, Latest> latest;
  {
    client::ProducerConfig config;
    config.bootstrap = broker_.address();
    auto producer = client::Producer::create(config);
    ASSERT_TRUE(producer);
    std::vector<std::pair<std::string, std::future<Result<client::RecordMetadata>>>> pending;
    for (int round = 0; round < kRounds; ++round) {
      for (int k = 0; k < kKeys; ++k) {
        std::string key = "key-" + std::to_string(k);
        std::string value = "value-" + std::to_string(round) + "-" + std::string(20, 'x');
        pending.emplace_back(key, producer->send(ProducerRecord{.topic = "table", .key = key, .value = value}));
        if (round == kRounds - 1) latest[key].value = value;
      }
    }
    producer->flush();
    for (auto& [key, future] : pending) {
      auto md = future.get();
      ASSERT_TRUE(md) << md.error().to_string();
      latest[key].offset = std::max(latest[key].offset, md->offset);
    }
    // A keyless record has no place in a table.
    auto keyless = producer->send(ProducerRecord{.topic = "table", .value = "no key"}).get();
    ASSERT_FALSE(keyless);
    EXPECT_EQ(client::error_code(keyless.error()), client::ErrorCode::invalid_record) << keyless.error().to_string();
    EXPECT_NE(keyless.error().to_string().find("no key"), std::string::npos) << keyless.error().to_string();
  }
  // The cleaner runs every 50 ms; what it cannot clean is the active segment (at
  // most 64 KiB, under 1,500 of these records).
  std::vector<std::pair<std::string, Latest>> seen;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  do {
    seen = read_topic(broker_.address(), "table");
  } while (seen.size() > kKeys + 1500 && std::chrono::steady_clock::now() < deadline);
  ASSERT_LE(seen.size(), kKeys + 1500u) << "the cleaner did not run";

  auto check = [&](const std::vector<std::pair<std::string, Latest>>& records) {
    std::map<std::string, Latest> newest;
    int64_t previous = -1;
    for (const auto& [key, r] : records) {
      EXPECT_GT(r.offset, previous);
      previous = r.offset;
      newest[key] = r;
    }
    ASSERT_EQ(newest.size(), static_cast<size_t>(kKeys));
    for (const auto& [key, want] : latest) {
      EXPECT_EQ(newest[key].offset, want.offset) << key;
      EXPECT_EQ(newest[key].value, want.value) << key;
    }
  };
  check(seen);
  const std::string metrics = testing::http_get(broker_.http_address(), "/metrics");
  EXPECT_EQ(metrics.find("sluice_log_cleaner_passes_total 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_log_cleaner_passes_total "), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_log_cleaner_uncleanable_logs 0\n"), std::string::npos) << metrics;

  broker_.stop();
  ASSERT_TRUE(broker_.start()) << broker_.log();
  check(read_topic(broker_.address(), "table"));
}

}  // namespace
}  // namespace sluice
