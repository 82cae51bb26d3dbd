// The SDK against the real sluiced process over TCP: 100,000 keyed records over 4
// partitions read back in order with keys, values and headers; the same after a
// clean restart; and after kill -9 during an acks=all stream to a durability=fsync
// topic, every acknowledged record at its acknowledged offset.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "sluice/client/admin.h"
#include "sluice/client/producer.h"
#include "sluice/consumer/consumer.h"

#include "broker_process.h"
#include "e2e_helpers.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using client::ProducerRecord;
using consumer::ConsumerRecord;

using testing::temp_dir;

// Reads until `expected` records arrived, or (expected == 0) until the partitions
// stay quiet for a second.
std::vector<ConsumerRecord> consume_all(const std::string& bootstrap, const std::string& topic, int partitions,
                                        size_t expected) {
  consumer::ConsumerConfig config;
  config.bootstrap = bootstrap;
  config.auto_offset_reset = consumer::OffsetReset::earliest;
  config.fetch_max_wait_ms = 100;
  auto c = consumer::Consumer::create(config);
  EXPECT_TRUE(c.has_value());
  std::vector<client::TopicPartition> tps;
  for (int p = 0; p < partitions; ++p) tps.push_back({topic, p});
  c->assign(tps);
  std::vector<ConsumerRecord> out;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  int quiet_polls = 0;
  while ((expected == 0 || out.size() < expected) && std::chrono::steady_clock::now() < deadline) {
    auto batch = c->poll(200ms);
    EXPECT_TRUE(batch.has_value()) << batch.error().to_string();
    if (!batch) break;
    quiet_polls = batch->empty() ? quiet_polls + 1 : 0;
    if (expected == 0 && quiet_polls >= 5) break;
    for (auto& r : *batch) out.push_back(std::move(r));
  }
  return out;
}

class SdkEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("sluice-sdk-e2e");
    broker_ = std::make_unique<testing::BrokerProcess>(SLUICED_PATH, dir_);
    ASSERT_TRUE(broker_->start());
  }
  void TearDown() override {
    broker_.reset();
    std::filesystem::remove_all(dir_);
    std::filesystem::remove(dir_ + ".log");
  }
  void create_topic(const std::string& name, int partitions, const std::map<std::string, std::string>& configs) {
    auto admin = client::Admin::create({.bootstrap = broker_->address()});
    ASSERT_TRUE(admin.has_value());
    auto s = admin->create_topic(name, partitions, configs);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
  }

  std::string dir_;
  std::unique_ptr<testing::BrokerProcess> broker_;
};

// Checks that `records` hold exactly what was sent: per partition, in send order,
// offsets 0.., keys, values and headers intact.
void expect_same(const std::vector<ConsumerRecord>& records,
                 const std::map<int32_t, std::vector<ProducerRecord>>& sent) {
  std::map<int32_t, size_t> next;
  for (const auto& r : records) {
    auto it = sent.find(r.partition);
    ASSERT_NE(it, sent.end());
    size_t& k = next[r.partition];
    ASSERT_LT(k, it->second.size());
    const ProducerRecord& s = it->second[k];
    ASSERT_EQ(r.offset, static_cast<int64_t>(k));
    ASSERT_EQ(r.key, s.key);
    ASSERT_EQ(r.value, s.value);
    ASSERT_EQ(r.headers, s.headers);
    ++k;
  }
  for (const auto& [p, list] : sent) EXPECT_EQ(next[p], list.size()) << "partition " << p;
}

TEST_F(SdkEndToEnd, HundredThousandKeyedRecordsSurviveACleanRestartInOrder) {
  create_topic("orders", 4, {{"durability", "none"}});
  constexpr int kRecords = 100'000;
  std::map<int32_t, std::vector<ProducerRecord>> sent;
  {
    client::ProducerConfig config;
    config.bootstrap = broker_->address();
    config.acks = 1;
    auto producer = client::Producer::create(config);
    ASSERT_TRUE(producer.has_value());
    std::vector<std::pair<ProducerRecord, std::future<Result<client::RecordMetadata>>>> pending;
    pending.reserve(kRecords);
    for (int i = 0; i < kRecords; ++i) {
      ProducerRecord r{.topic = "orders",
                       .key = "customer-" + std::to_string(i % 977),
                       .value = "order-" + std::to_string(i) + std::string(i % 50, '.'),
                       .headers = {{"seq", std::to_string(i)}, {"source", "e2e"}}};
      auto f = producer->send(r);
      pending.emplace_back(std::move(r), std::move(f));
    }
    producer->flush();
    for (auto& [record, future] : pending) {
      auto md = future.get();
      ASSERT_TRUE(md.has_value()) << md.error().to_string();
      auto& list = sent[md->partition];
      ASSERT_EQ(md->offset, static_cast<int64_t>(list.size()));
      list.push_back(std::move(record));
    }
  }
  ASSERT_EQ(sent.size(), 4u);
  auto before = consume_all(broker_->address(), "orders", 4, kRecords);
  ASSERT_EQ(before.size(), static_cast<size_t>(kRecords));
  expect_same(before, sent);

  ASSERT_EQ(broker_->stop(SIGTERM), 0);
  ASSERT_TRUE(broker_->start(broker_->address()));
  auto after = consume_all(broker_->address(), "orders", 4, kRecords);
  ASSERT_EQ(after.size(), static_cast<size_t>(kRecords));
  expect_same(after, sent);
}

TEST_F(SdkEndToEnd, KillDashNineKeepsEveryAcknowledgedFsyncRecordAtItsOffset) {
  create_topic("payments", 2, {{"durability", "fsync"}});
  std::mutex mu;
  std::map<std::pair<int32_t, int64_t>, std::string> acked;  // (partition, offset) -> value
  std::atomic<bool> stop{false};
  std::thread producing([&] {
    client::ProducerConfig config;
    config.bootstrap = broker_->address();
    config.acks = -1;
    config.retries = 0;
    config.delivery_timeout_ms = 5000;
    config.request_timeout_ms = 2000;
    auto producer = client::Producer::create(config);
    if (!producer) return;
    for (int i = 0; !stop; ++i) {
      std::string value = "payment-" + std::to_string(i);
      producer->send({.topic = "payments", .key = "k" + std::to_string(i % 13), .value = value},
                     [&, value](const Result<client::RecordMetadata>& md) {
                       if (!md) return;
                       std::lock_guard lock(mu);
                       acked[{md->partition, md->offset}] = value;
                     });
      if (i % 64 == 0) std::this_thread::yield();
    }
    producer->close(2000ms);
  });
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (acked.size() >= 2000) break;
    }
    std::this_thread::sleep_for(5ms);  // polling a counter the callbacks raise
  }
  ASSERT_EQ(broker_->stop(SIGKILL), -SIGKILL);
  stop = true;
  producing.join();
  std::map<std::pair<int32_t, int64_t>, std::string> snapshot;
  {
    std::lock_guard lock(mu);
    snapshot = acked;
  }
  ASSERT_GE(snapshot.size(), 2000u);

  ASSERT_TRUE(broker_->start(broker_->address()));
  auto records = consume_all(broker_->address(), "payments", 2, 0);  // everything stored, acked or not
  std::map<std::pair<int32_t, int64_t>, std::string> stored;
  for (const auto& r : records) stored[{r.partition, r.offset}] = r.value.value_or("");
  for (const auto& [at, value] : snapshot) {
    auto it = stored.find(at);
    ASSERT_NE(it, stored.end()) << "acknowledged record at partition " << at.first << " offset " << at.second
                                << " lost";
    ASSERT_EQ(it->second, value);
  }
}

}  // namespace
}  // namespace sluice
