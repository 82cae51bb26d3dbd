// Compaction against the real sluiced over TCP: a compacted topic written with
// 1,000 keys x 100 values is read back, once the broker's cleaner has run, as
// (about) one record per key: each key's latest value at the offset its producer
// was given, in offset order, the same after a restart; a keyless record is refused.
// A delete topic altered to compact is cleaned while it serves; an idempotent
// producer and a reader from the start keep working while the cleaner swaps
// segments under them; __consumer_offsets stays bounded under a commit loop; a
// corrupt segment stops the cleaning of its log only.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>

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

// A whole-value counter of the broker's /metrics, or -1 when absent.
int64_t metric(const std::string& http_address, const std::string& name) {
  const std::string text = testing::http_get(http_address, "/metrics");
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\\n" + name + " ([0-9]+)"))) return -1;
  return std::stoll(m[1]);
}

// Checks one read of a table whose values are "<seq>:..." per key: offsets only
// increase and each key's sequence numbers only increase (no duplicate, no reorder).
// Returns key -> the last sequence seen.
std::map<std::string, int> check_ordered(const std::vector<std::pair<std::string, Latest>>& records) {
  std::map<std::string, int> last;
  int64_t previous = -1;
  for (const auto& [key, r] : records) {
    EXPECT_GT(r.offset, previous) << key;
    previous = r.offset;
    if (key == "<null>") continue;  // written before the topic compacted
    const int seq = std::stoi(r.value.substr(0, r.value.find(':')));
    auto [it, fresh] = last.emplace(key, seq);
    if (!fresh) {
      EXPECT_GT(seq, it->second) << key << " at offset " << r.offset;
      it->second = seq;
    }
  }
  return last;
}

// Waits until partition 0 of `topic` reports a finished clean.
bool wait_for_clean(client::Admin& admin, const std::string& topic, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto d = admin.describe_topic(topic);
    if (d && !d->partitions.empty() && d->partitions[0].last_clean_ms >= 0) return true;
    std::this_thread::sleep_for(20ms);  // polling the broker's state: no event to wait on over the wire
  }
  return false;
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
  // Two cleaner threads, so two logs can be cleaned at once.
  testing::BrokerProcess broker_{SLUICED_PATH, dir_, {"--log-cleaner-backoff-ms", "50", "--log-cleaner-threads", "2"}};
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

TEST_F(CompactionE2e, ADeleteTopicAlteredToCompactIsCleanedWhileItServes) {
  auto admin = client::Admin::create({.bootstrap = broker_.address()});
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->create_topic("events", 1, {{"segment.bytes", "16384"}, {"durability", "none"}}));
  constexpr int kKeys = 200;
  std::map<std::string, Latest> latest;
  {
    auto producer = client::Producer::create({.bootstrap = broker_.address()});
    ASSERT_TRUE(producer);
    for (int round = 0; round < 10; ++round) {
      std::vector<std::pair<std::string, std::future<Result<client::RecordMetadata>>>> pending;
      for (int k = 0; k < kKeys; ++k) {
        std::string key = "key-" + std::to_string(k);
        std::string value = std::to_string(round) + ":" + std::string(40, 'v');
        pending.emplace_back(key, producer->send(ProducerRecord{.topic = "events", .key = key, .value = value}));
        latest[key].value = value;
      }
      for (auto& [key, future] : pending) {
        auto md = future.get();
        ASSERT_TRUE(md) << md.error().to_string();
        latest[key].offset = md->offset;
      }
    }
    // Keyless records are fine while the topic deletes.
    ASSERT_TRUE(producer->send(ProducerRecord{.topic = "events", .value = "no key"}).get());
  }
  auto before = admin->describe_topic("events");
  ASSERT_TRUE(before);
  EXPECT_FALSE(before->partitions[0].compacts);

  ASSERT_TRUE(admin->alter_topic_config("events", {{"cleanup.policy", "compact"}}));
  ASSERT_TRUE(wait_for_clean(*admin, "events", 30s)) << broker_.log();
  auto after = admin->describe_topic("events");
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->partitions[0].compacts);
  EXPECT_LT(after->partitions[0].dirty_ratio, 0.5);

  auto check = [&](const std::vector<std::pair<std::string, Latest>>& records) {
    std::map<std::string, Latest> newest;
    for (const auto& [key, r] : records) newest[key] = r;
    for (const auto& [key, want] : latest) {
      EXPECT_EQ(newest[key].offset, want.offset) << key;
      EXPECT_EQ(newest[key].value, want.value) << key;
    }
    check_ordered(records);
  };
  auto seen = read_topic(broker_.address(), "events");
  // 2,001 records were written; the active segment (16 KiB) holds under 300 of them.
  EXPECT_LT(seen.size(), 600u);
  check(seen);
  {
    auto producer = client::Producer::create({.bootstrap = broker_.address()});
    ASSERT_TRUE(producer);
    auto keyless = producer->send(ProducerRecord{.topic = "events", .value = "no key"}).get();
    ASSERT_FALSE(keyless);
    EXPECT_EQ(client::error_code(keyless.error()), client::ErrorCode::invalid_record) << keyless.error().to_string();
  }
  const std::string metrics = testing::http_get(broker_.http_address(), "/metrics");
  EXPECT_NE(metrics.find("sluice_partition_dirty_ratio{topic=\"events\",partition=\"0\"} "), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("sluice_partition_seconds_since_last_clean{topic=\"events\",partition=\"0\"} "),
            std::string::npos)
      << metrics;

  // Restarted (the topic now opens compacted): the cleaner's gaps read as before.
  broker_.stop();
  ASSERT_TRUE(broker_.start()) << broker_.log();
  check(read_topic(broker_.address(), "events"));
}

TEST_F(CompactionE2e, AnIdempotentProducerAndAReaderFromTheStartKeepWorkingWhileTheTopicIsCleaned) {
  auto admin = client::Admin::create({.bootstrap = broker_.address()});
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->create_topic(
      "live", 1, {{"cleanup.policy", "compact"}, {"segment.bytes", "8192"}, {"min.cleanable.dirty.ratio", "0.01"}}));
  constexpr int kKeys = 50;
  constexpr int kRecords = 20'000;
  const int64_t passes_before = metric(broker_.http_address(), "sluice_log_cleaner_passes_total");
  std::atomic<bool> done{false};
  std::vector<std::string> errors;
  std::thread writer([&] {
    auto producer = client::Producer::create({.bootstrap = broker_.address()});
    if (!producer) {
      errors.push_back(producer.error().to_string());
      done = true;
      return;
    }
    std::vector<std::future<Result<client::RecordMetadata>>> pending;
    for (int i = 0; i < kRecords; ++i) {
      const int seq = i / kKeys;
      std::string key = "key-" + std::to_string(i % kKeys);
      pending.push_back(producer->send(
          ProducerRecord{.topic = "live", .key = key, .value = std::to_string(seq) + ":" + std::string(60, 'x')}));
      if (pending.size() == 500) {
        for (auto& f : pending) {
          if (auto md = f.get(); !md) errors.push_back(md.error().to_string());
        }
        pending.clear();
      }
    }
    for (auto& f : pending) {
      if (auto md = f.get(); !md) errors.push_back(md.error().to_string());
    }
    done = true;
  });
  // Reads from the start while the producer writes and the cleaner swaps segments:
  // every read is ordered, whatever it catches of the cleaning.
  int reads = 0;
  while (!done) {
    check_ordered(read_topic(broker_.address(), "live"));
    ++reads;
  }
  writer.join();
  EXPECT_TRUE(errors.empty()) << errors.size() << " sends failed, the first: " << errors.front();
  EXPECT_GT(reads, 0);
  EXPECT_GT(metric(broker_.http_address(), "sluice_log_cleaner_passes_total"), passes_before)
      << "the cleaner did not run while the producer wrote";
  // Everything acknowledged is there once: each key's last value is the last one sent.
  auto last = check_ordered(read_topic(broker_.address(), "live"));
  ASSERT_EQ(last.size(), static_cast<size_t>(kKeys));
  for (const auto& [key, seq] : last) EXPECT_EQ(seq, kRecords / kKeys - 1) << key;
  EXPECT_EQ(metric(broker_.http_address(), "sluice_log_cleaner_uncleanable_logs"), 0);
}

// The bytes of the .log files of one partition directory.
uint64_t log_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") total += entry.file_size();
  }
  return total;
}

TEST(CompactionOffsetsE2e, ConsumerOffsetsStayBoundedWhileAGroupCommitsInALoop) {
  const std::string dir = testing::temp_dir("sluice-offsets-compaction-e2e");
  testing::BrokerProcess broker{
      SLUICED_PATH,
      dir,
      {"--log-cleaner-backoff-ms", "50", "--offsets-topic-num-partitions", "1", "--offsets-topic-segment-bytes",
       "16384", "--log-cleaner-io-max-bytes-per-second", "20000000"}};
  ASSERT_TRUE(broker.start()) << broker.log();
  auto admin = client::Admin::create({.bootstrap = broker.address()});
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->create_topic("orders", 1));
  consumer::ConsumerConfig config;
  config.bootstrap = broker.address();
  config.group_id = "committer";
  auto c = consumer::Consumer::create(config);
  ASSERT_TRUE(c);
  c->assign({{"orders", 0}});
  const std::string metadata(200, 'm');
  constexpr int kCommits = 1500;
  uint64_t peak = 0;
  for (int i = 1; i <= kCommits; ++i) {
    const std::map<client::TopicPartition, client::OffsetAndMetadata> commit{
        {client::TopicPartition{"orders", 0}, client::OffsetAndMetadata{i, metadata}}};
    ASSERT_TRUE(c->commit_sync(commit));
    if (i % 100 == 0) peak = std::max(peak, log_bytes(dir + "/__consumer_offsets-0"));
  }
  // 1,500 commits of ~300 bytes are ~450 KB written; what stays is the active
  // segment, the cleaned one and whatever closed since the last pass.
  const uint64_t written = static_cast<uint64_t>(kCommits) * (metadata.size() + 60);
  EXPECT_GT(metric(broker.http_address(), "sluice_log_cleaner_passes_total"), 0);
  EXPECT_LT(peak, written / 4) << "peak " << peak << " of " << written << " bytes written";
  c->close();
  broker.stop();
  ASSERT_TRUE(broker.start()) << broker.log();
  config.bootstrap = broker.address();
  auto reopened = consumer::Consumer::create(config);
  ASSERT_TRUE(reopened);
  auto committed = reopened->committed({{"orders", 0}});
  ASSERT_TRUE(committed) << committed.error().to_string();
  ASSERT_TRUE(committed->contains({"orders", 0}));
  EXPECT_EQ(committed->at({"orders", 0}).offset, kCommits) << "the latest commit survives cleaning and a restart";
  broker.stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(CompactionCorruptionE2e, ACorruptSegmentStopsTheCleaningOfItsLogOnly) {
  const std::string dir = testing::temp_dir("sluice-corrupt-compaction-e2e");
  const std::vector<std::string> topics{"broken", "healthy"};
  {
    // A cleaner that never runs: both topics keep every record until the restart.
    testing::BrokerProcess broker{SLUICED_PATH, dir, {"--log-cleaner-backoff-ms", "3600000"}};
    ASSERT_TRUE(broker.start()) << broker.log();
    auto admin = client::Admin::create({.bootstrap = broker.address()});
    ASSERT_TRUE(admin);
    auto producer = client::Producer::create({.bootstrap = broker.address()});
    ASSERT_TRUE(producer);
    for (const auto& topic : topics) {
      ASSERT_TRUE(admin->create_topic(topic, 1, {{"cleanup.policy", "compact"}, {"segment.bytes", "8192"}}));
      std::vector<std::future<Result<client::RecordMetadata>>> pending;
      for (int i = 0; i < 600; ++i) {
        pending.push_back(producer->send(ProducerRecord{.topic = topic,
                                                        .key = "key-" + std::to_string(i % 20),
                                                        .value = std::to_string(i) + std::string(50, 'x')}));
      }
      for (auto& f : pending) ASSERT_TRUE(f.get());
    }
    broker.stop();
  }
  // One byte of a record in the first (closed) segment of "broken": its batch's CRC no longer holds.
  {
    const std::string segment = dir + "/broken-0/00000000000000000000.log";
    ASSERT_GT(std::filesystem::file_size(segment), 200u);
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  testing::BrokerProcess broker{SLUICED_PATH, dir, {"--log-cleaner-backoff-ms", "50"}};
  ASSERT_TRUE(broker.start()) << broker.log();
  ASSERT_TRUE(broker.wait_for_log("log_cleaning_failed", 30s)) << broker.log();
  EXPECT_NE(broker.log().find("topic=broken"), std::string::npos) << broker.log();
  auto admin = client::Admin::create({.bootstrap = broker.address()});
  ASSERT_TRUE(admin);
  ASSERT_TRUE(wait_for_clean(*admin, "healthy", 30s)) << "the other log is still cleaned";
  EXPECT_EQ(metric(broker.http_address(), "sluice_log_cleaner_uncleanable_logs"), 1);
  auto broken = admin->describe_topic("broken");
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->partitions[0].last_clean_ms, -1);
  // The broker keeps serving the broken topic: a new record is written and read back.
  auto producer = client::Producer::create({.bootstrap = broker.address()});
  ASSERT_TRUE(producer);
  auto md = producer->send(ProducerRecord{.topic = "broken", .key = "key-0", .value = "after"}).get();
  ASSERT_TRUE(md) << md.error().to_string();
  consumer::ConsumerConfig config;
  config.bootstrap = broker.address();
  auto c = consumer::Consumer::create(config);
  ASSERT_TRUE(c);
  c->assign({{"broken", 0}});
  ASSERT_TRUE(c->seek({"broken", 0}, md->offset));
  std::optional<std::string> value;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!value && std::chrono::steady_clock::now() < deadline) {
    auto batch = c->poll(100ms);
    ASSERT_TRUE(batch) << batch.error().to_string();
    for (auto& r : *batch) value = std::string(r.value.value_or(""));
  }
  EXPECT_EQ(value, "after");
  broker.stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace sluice
