// The SDK against a real broker in the test process: producer, consumer and
// admin client end to end.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "sluice/broker/embedded_broker.h"
#include "sluice/client/admin.h"
#include "sluice/client/client_errors.h"
#include "sluice/client/partitioner.h"
#include "sluice/client/producer.h"
#include "sluice/consumer/consumer.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using client::Admin;
using client::Producer;
using client::ProducerConfig;
using client::ProducerRecord;
using client::RecordMetadata;
using consumer::Consumer;
using consumer::ConsumerConfig;
using consumer::ConsumerRecord;
using consumer::OffsetReset;

class ClientE2E : public ::testing::Test {
 protected:
  Admin admin() { return Admin({.bootstrap = broker_.bootstrap()}); }

  ProducerConfig producer_config() {
    ProducerConfig c;
    c.bootstrap = broker_.bootstrap();
    return c;
  }

  ConsumerConfig consumer_config() {
    ConsumerConfig c;
    c.bootstrap = broker_.bootstrap();
    c.auto_offset_reset = OffsetReset::earliest;
    c.fetch_max_wait_ms = 100;
    return c;
  }

  void create_topic(const std::string& name, int32_t partitions,
                    const std::map<std::string, std::string>& configs = {}) {
    auto s = admin().create_topic(name, partitions, configs);
    ASSERT_TRUE(s) << s.error().to_string();
  }

  // Polls until `count` records arrived or `timeout` passed.
  static std::vector<ConsumerRecord> consume(Consumer& c, size_t count, std::chrono::milliseconds timeout = 20s) {
    std::vector<ConsumerRecord> out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto batch = c.poll(200ms);
      EXPECT_TRUE(batch) << batch.error().to_string();
      if (!batch) break;
      for (auto& r : *batch) out.push_back(std::move(r));
    }
    return out;
  }

  testing::EmbeddedBroker broker_;
};

TEST_F(ClientE2E, TenThousandKeyedRecordsReadBackPerPartitionInOrder) {
  create_topic("orders", 4);
  Producer producer(producer_config());
  constexpr int kRecords = 10'000;
  std::vector<std::future<Result<RecordMetadata>>> reports;
  std::vector<ProducerRecord> sent;
  for (int i = 0; i < kRecords; ++i) {
    ProducerRecord r{.topic = "orders",
                     .key = "customer-" + std::to_string(i % 317),
                     .value = "order-" + std::to_string(i),
                     .headers = {{"seq", std::to_string(i)}, {"nullable", std::nullopt}}};
    sent.push_back(r);
    reports.push_back(producer.send(r));
  }
  producer.flush();

  std::map<int32_t, std::vector<int>> sent_by_partition;  // index into `sent`, in send order
  for (int i = 0; i < kRecords; ++i) {
    auto md = reports[i].get();
    ASSERT_TRUE(md) << md.error().to_string();
    int32_t expected = client::partition_for_key(as_bytes(*sent[i].key), 4);
    ASSERT_EQ(md->partition, expected) << "the key must land where Kafka would put it";
    auto& list = sent_by_partition[md->partition];
    ASSERT_EQ(md->offset, static_cast<int64_t>(list.size())) << "offsets follow send order per partition";
    list.push_back(i);
  }
  EXPECT_EQ(sent_by_partition.size(), 4u);

  Consumer c(consumer_config());
  c.assign({{"orders", 0}, {"orders", 1}, {"orders", 2}, {"orders", 3}});
  auto records = consume(c, kRecords);
  ASSERT_EQ(records.size(), static_cast<size_t>(kRecords));
  std::map<int32_t, size_t> next_index;
  for (const ConsumerRecord& r : records) {
    auto& list = sent_by_partition[r.partition];
    size_t& k = next_index[r.partition];
    ASSERT_LT(k, list.size());
    const ProducerRecord& s = sent[list[k]];
    EXPECT_EQ(r.offset, static_cast<int64_t>(k));
    EXPECT_EQ(r.topic, "orders");
    EXPECT_EQ(r.key, s.key);
    EXPECT_EQ(r.value, s.value);
    EXPECT_EQ(r.headers, s.headers);
    ++k;
  }
  for (int32_t p = 0; p < 4; ++p) {
    auto pos = c.position({"orders", p});
    ASSERT_TRUE(pos);
    EXPECT_EQ(*pos, static_cast<int64_t>(sent_by_partition[p].size()));
  }
}

TEST_F(ClientE2E, AcksZeroOneAndAllAllDeliver) {
  create_topic("acks", 1);
  for (int32_t acks : {client::kAcksNone, client::kAcksLeader, client::kAcksAll}) {
    auto config = producer_config();
    config.acks = acks;
    Producer producer(config);
    std::vector<std::future<Result<RecordMetadata>>> reports;
    for (int i = 0; i < 100; ++i) {
      reports.push_back(
          producer.send({.topic = "acks", .value = "acks" + std::to_string(acks) + "-" + std::to_string(i)}));
    }
    producer.flush();
    for (auto& f : reports) {
      auto md = f.get();
      ASSERT_TRUE(md) << md.error().to_string();
      EXPECT_EQ(md->partition, 0);
      if (acks == 0) {
        EXPECT_EQ(md->offset, -1);
      } else {
        EXPECT_GE(md->offset, 0);
      }
    }
  }
  Consumer c(consumer_config());
  c.assign({{"acks", 0}});
  auto records = consume(c, 300);
  ASSERT_EQ(records.size(), 300u);
  EXPECT_EQ(*records[0].value, "acks0-0");  // acks=0 records arrived too, first
  EXPECT_EQ(*records[299].value, "acks-1-99");
}

TEST_F(ClientE2E, ZstdBatchesRoundTrip) {
  create_topic("zstd", 2);
  auto config = producer_config();
  config.compression = client::CompressionType::zstd;
  config.linger_ms = 20;
  Producer producer(config);
  std::vector<std::future<Result<RecordMetadata>>> reports;
  for (int i = 0; i < 2000; ++i) {
    reports.push_back(
        producer.send({.topic = "zstd", .key = std::to_string(i), .value = std::string(200, 'a' + i % 26)}));
  }
  producer.flush();
  for (auto& f : reports) ASSERT_TRUE(f.get());
  Consumer c(consumer_config());
  c.assign({{"zstd", 0}, {"zstd", 1}});
  auto records = consume(c, 2000);
  ASSERT_EQ(records.size(), 2000u);
  c.close();  // records point into decompressed batches they keep alive themselves
  for (const auto& r : records) {
    int i = std::stoi(std::string(*r.key));
    EXPECT_EQ(*r.value, std::string(200, 'a' + i % 26));
  }
}

TEST_F(ClientE2E, NullKeysStickToAPartitionPerBatch) {
  create_topic("sticky", 8);
  auto config = producer_config();
  config.linger_ms = 1000;
  config.batch_bytes = 1 << 20;
  Producer producer(config);
  std::vector<std::future<Result<RecordMetadata>>> reports;
  for (int i = 0; i < 200; ++i) reports.push_back(producer.send({.topic = "sticky", .value = "v"}));
  producer.flush();
  std::set<int32_t> partitions;
  for (auto& f : reports) {
    auto md = f.get();
    ASSERT_TRUE(md);
    partitions.insert(md->partition);
  }
  EXPECT_EQ(partitions.size(), 1u) << "one batch's worth of null-key records stays on one partition";
}

TEST_F(ClientE2E, SeekToTimestamp) {
  create_topic("times", 1);
  Producer producer(producer_config());
  for (int i = 1; i <= 10; ++i) {
    auto md = producer.send({.topic = "times", .value = std::to_string(i), .timestamp = i * 1000}).get();
    ASSERT_TRUE(md);
    EXPECT_EQ(md->timestamp, i * 1000);
  }
  Consumer c(consumer_config());
  c.assign({{"times", 0}});
  ASSERT_TRUE(c.seek_to_timestamp(4500));
  EXPECT_EQ(*c.position({"times", 0}), 4);
  auto records = consume(c, 6);
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0].timestamp, 5000);
  EXPECT_EQ(*records[0].value, "5");
  // Past every record: the log end.
  ASSERT_TRUE(c.seek_to_timestamp(1'000'000));
  EXPECT_EQ(*c.position({"times", 0}), 10);
  auto admin_client = admin();
  auto listed = admin_client.list_offsets("times", 0, client::OffsetSpec::for_timestamp(2000));
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->offset, 1);
  EXPECT_EQ(listed->timestamp, 2000);
}

TEST_F(ClientE2E, SeekInsideABatchSkipsTheRecordsBeforeIt) {
  create_topic("mid", 1);
  auto config = producer_config();
  config.linger_ms = 50;
  Producer producer(config);
  std::vector<std::future<Result<RecordMetadata>>> reports;
  for (int i = 0; i < 50; ++i) reports.push_back(producer.send({.topic = "mid", .value = std::to_string(i)}));
  producer.flush();
  for (auto& f : reports) ASSERT_TRUE(f.get());
  Consumer c(consumer_config());
  c.assign({{"mid", 0}});
  ASSERT_TRUE(c.seek({"mid", 0}, 17));
  auto records = consume(c, 33);
  ASSERT_EQ(records.size(), 33u);
  EXPECT_EQ(records.front().offset, 17);
  EXPECT_EQ(*records.front().value, "17");
  EXPECT_EQ(records.back().offset, 49);
}

TEST_F(ClientE2E, UnknownTopicIsAClearError) {
  Producer producer(producer_config());
  auto md = producer.send({.topic = "no-such-topic", .value = "x"}).get();
  ASSERT_FALSE(md);
  EXPECT_EQ(md.error().code, client::ErrorCode::unknown_topic_or_partition);
  EXPECT_EQ(client::error_reason(md.error()), "UNKNOWN_TOPIC_OR_PARTITION") << md.error().to_string();

  create_topic("two", 2);
  md = producer.send({.topic = "two", .partition = 5, .value = "x"}).get();
  ASSERT_FALSE(md);
  EXPECT_EQ(md.error().code, client::ErrorCode::unknown_topic_or_partition);

  auto a = admin();
  auto described = a.describe_topic("no-such-topic");
  ASSERT_FALSE(described);
  EXPECT_EQ(described.error().code, client::ErrorCode::unknown_topic_or_partition);
  auto again = a.create_topic("two", 2);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, client::ErrorCode::topic_already_exists);
  auto deleted = a.delete_topic("no-such-topic");
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, client::ErrorCode::unknown_topic_or_partition);

  Consumer c(consumer_config());
  c.assign({{"no-such-topic", 0}});
  auto polled = c.poll(500ms);
  ASSERT_FALSE(polled);
  EXPECT_EQ(polled.error().code, client::ErrorCode::unknown_topic_or_partition) << polled.error().to_string();
}

// A consumer reading a topic that is deleted under it hears of it from poll(),
// on every poll until the topic exists again, instead of waiting in silence.
TEST_F(ClientE2E, ConsumerOfADeletedTopicGetsUnknownTopicFromPoll) {
  create_topic("doomed", 2);
  Producer producer(producer_config());
  ASSERT_TRUE(producer.send({.topic = "doomed", .partition = 1, .value = "before"}).get());
  Consumer c(consumer_config());
  c.assign({{"doomed", 0}, {"doomed", 1}});
  ASSERT_EQ(consume(c, 1).size(), 1u);  // positioned and fetching

  ASSERT_TRUE(admin().delete_topic("doomed"));
  Result<std::vector<ConsumerRecord>> polled = std::vector<ConsumerRecord>{};
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (polled && polled->empty() && std::chrono::steady_clock::now() < deadline) polled = c.poll(200ms);
  ASSERT_FALSE(polled) << "poll() kept returning nothing for a deleted topic";
  EXPECT_EQ(polled.error().code, client::ErrorCode::unknown_topic_or_partition) << polled.error().to_string();
  EXPECT_EQ(client::error_reason(polled.error()), "UNKNOWN_TOPIC_OR_PARTITION") << polled.error().to_string();
  EXPECT_NE(polled.error().message.find("doomed"), std::string::npos) << polled.error().to_string();
  auto again = c.poll(200ms);
  ASSERT_FALSE(again) << "the next poll() reports it again";
  EXPECT_EQ(again.error().code, client::ErrorCode::unknown_topic_or_partition);
}

TEST_F(ClientE2E, BufferFullFailsAtOnceOrBlocksUntilMemoryFrees) {
  create_topic("full", 1);
  const std::string value(10'000, 'x');
  {
    auto config = producer_config();
    config.buffer_memory = 64 * 1024;
    config.block_on_buffer_full = false;
    config.linger_ms = 60'000;  // nothing is sent by linger: the buffer only fills
    config.batch_bytes = 1 << 20;
    Producer producer(config);
    std::vector<std::future<Result<RecordMetadata>>> reports;
    std::optional<Error> failure;
    for (int i = 0; i < 20 && !failure; ++i) {
      auto start = std::chrono::steady_clock::now();
      auto f = producer.send({.topic = "full", .value = value});
      if (f.wait_for(0ms) == std::future_status::ready) {
        auto r = f.get();
        ASSERT_FALSE(r);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "no waiting when not blocking";
        failure = r.error();
      } else {
        reports.push_back(std::move(f));
      }
    }
    ASSERT_TRUE(failure);
    EXPECT_EQ(client::error_reason(*failure), client::reason::kBufferFull) << failure->to_string();
    producer.flush();  // the accepted ones still go out
    for (auto& f : reports) ASSERT_TRUE(f.get());
  }
  {
    auto config = producer_config();
    config.buffer_memory = 64 * 1024;
    config.block_on_buffer_full = true;
    config.linger_ms = 60'000;
    config.batch_bytes = 1 << 20;
    Producer producer(config);
    // Ten times the buffer: each send waits for memory, which the sender frees by
    // sending batches early while someone is waiting.
    std::vector<std::future<Result<RecordMetadata>>> reports;
    for (int i = 0; i < 64; ++i) reports.push_back(producer.send({.topic = "full", .value = value}));
    producer.flush();
    for (auto& f : reports) {
      auto r = f.get();
      ASSERT_TRUE(r) << r.error().to_string();
    }
  }
}

TEST_F(ClientE2E, RecordLargerThanTheRequestLimitIsRejected) {
  create_topic("big", 1);
  auto config = producer_config();
  config.max_request_bytes = 100'000;
  Producer producer(config);
  auto r = producer.send({.topic = "big", .value = std::string(200'000, 'x')}).get();
  ASSERT_FALSE(r);
  EXPECT_EQ(client::error_reason(r.error()), client::reason::kRecordTooLarge);
}

TEST_F(ClientE2E, AdminDescribesListsAndDeletesTopics) {
  auto a = admin();
  ASSERT_TRUE(a.create_topic("alpha", 3, {{"retention.ms", "3600000"}}));
  ASSERT_TRUE(a.create_topic("beta", 1));
  auto created = a.create_topics({{"gamma", 2, {}}, {"alpha", 1, {}}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->size(), 2u);
  EXPECT_TRUE((*created)[0].status);
  EXPECT_FALSE((*created)[1].status);

  auto names = a.list_topics();
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"alpha", "beta", "gamma"}));

  Producer producer(producer_config());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(producer.send({.topic = "alpha", .partition = 1, .value = "v"}).get());

  auto d = a.describe_topic("alpha");
  ASSERT_TRUE(d) << d.error().to_string();
  ASSERT_EQ(d->partitions.size(), 3u);
  EXPECT_EQ(d->partitions[1].partition, 1);
  EXPECT_EQ(d->partitions[1].log_start_offset, 0);
  EXPECT_EQ(d->partitions[1].log_end_offset, 5);
  EXPECT_EQ(d->partitions[0].log_end_offset, 0);
  EXPECT_EQ(d->configs.at("retention.ms"), "3600000");

  auto earliest = a.list_offsets("alpha", 1, client::OffsetSpec::earliest());
  auto latest = a.list_offsets("alpha", 1, client::OffsetSpec::latest());
  ASSERT_TRUE(earliest);
  ASSERT_TRUE(latest);
  EXPECT_EQ(earliest->offset, 0);
  EXPECT_EQ(latest->offset, 5);
  // Earliest and latest of one partition in one request each get their own answer.
  auto both = a.list_offsets({client::OffsetQuery{{"alpha", 1}, client::OffsetSpec::earliest()},
                              client::OffsetQuery{{"alpha", 1}, client::OffsetSpec::latest()}});
  ASSERT_TRUE(both);
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0]->offset, 0);
  EXPECT_EQ((*both)[1]->offset, 5);
  auto missing = a.list_offsets("alpha", 9, client::OffsetSpec::latest());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, client::ErrorCode::unknown_topic_or_partition);

  ASSERT_TRUE(a.delete_topic("beta"));
  names = a.list_topics();
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"alpha", "gamma"}));
}

TEST_F(ClientE2E, AutoOffsetResetLatestNoneAndOutOfRange) {
  create_topic("reset", 1);
  Producer producer(producer_config());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(producer.send({.topic = "reset", .value = std::to_string(i)}).get());

  auto config = consumer_config();
  config.auto_offset_reset = OffsetReset::latest;
  Consumer latest(config);
  latest.assign({{"reset", 0}});
  EXPECT_EQ(*latest.position({"reset", 0}), 10);
  ASSERT_TRUE(producer.send({.topic = "reset", .value = "10"}).get());
  auto records = consume(latest, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(*records[0].value, "10");

  config.auto_offset_reset = OffsetReset::none;
  Consumer none(config);
  none.assign({{"reset", 0}});
  auto polled = none.poll(100ms);
  ASSERT_FALSE(polled);
  EXPECT_EQ(client::error_reason(polled.error()), client::reason::kNoOffset);
  ASSERT_TRUE(none.seek({"reset", 0}, 1'000'000));
  polled = none.poll(1s);
  ASSERT_FALSE(polled);
  EXPECT_EQ(polled.error().code, client::ErrorCode::no_offset) << polled.error().to_string();

  config.auto_offset_reset = OffsetReset::earliest;
  Consumer earliest(config);
  earliest.assign({{"reset", 0}});
  ASSERT_TRUE(earliest.seek({"reset", 0}, 1'000'000));
  records = consume(earliest, 11);
  ASSERT_EQ(records.size(), 11u);
  EXPECT_EQ(records[0].offset, 0);
}

TEST_F(ClientE2E, ProducerAndConsumerSurviveABrokerRestart) {
  create_topic("restart", 2);
  auto pc = producer_config();
  pc.retry_backoff_ms = 20;
  Producer producer(pc);
  Consumer c(consumer_config());
  c.assign({{"restart", 0}, {"restart", 1}});
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(producer.send({.topic = "restart", .key = std::to_string(i), .value = "a"}).get());
  EXPECT_EQ(consume(c, 100).size(), 100u);

  broker_.restart();

  std::vector<std::future<Result<RecordMetadata>>> reports;
  for (int i = 0; i < 100; ++i)
    reports.push_back(producer.send({.topic = "restart", .key = std::to_string(i), .value = "b"}));
  producer.flush();
  for (auto& f : reports) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().to_string();
  }
  // The consumer's connection died with the restart: the first poll may report
  // it, later ones reconnect.
  std::vector<ConsumerRecord> after;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (after.size() < 100 && std::chrono::steady_clock::now() < deadline) {
    auto polled = c.poll(200ms);
    if (!polled) {
      EXPECT_TRUE(client::is_retriable(polled.error())) << polled.error().to_string();
      continue;
    }
    for (auto& r : *polled) after.push_back(std::move(r));
  }
  ASSERT_EQ(after.size(), 100u);
  for (const auto& r : after) EXPECT_EQ(*r.value, "b");
}

TEST_F(ClientE2E, CallbacksRunOncePerRecordInPartitionOrder) {
  create_topic("callbacks", 1);
  auto config = producer_config();
  config.linger_ms = 2;
  config.batch_bytes = 1024;
  Producer producer(config);
  std::mutex mutex;
  std::vector<int64_t> offsets;
  std::atomic<int> calls{0};
  for (int i = 0; i < 1000; ++i) {
    producer.send({.topic = "callbacks", .value = std::string(100, 'c')}, [&](const Result<RecordMetadata>& r) {
      ASSERT_TRUE(r);
      std::lock_guard lock(mutex);
      offsets.push_back(r->offset);
      ++calls;
    });
  }
  producer.flush();
  EXPECT_EQ(calls.load(), 1000);
  for (size_t i = 0; i < offsets.size(); ++i) EXPECT_EQ(offsets[i], static_cast<int64_t>(i));
}

TEST_F(ClientE2E, CloseFailsNothingThatCouldBeSentAndRefusesLaterSends) {
  create_topic("closing", 1);
  auto config = producer_config();
  config.linger_ms = 10'000;
  Producer producer(config);
  auto pending = producer.send({.topic = "closing", .value = "last"});
  producer.close();
  auto r = pending.get();
  ASSERT_TRUE(r) << "close() sends what is queued first: " << r.error().to_string();
  auto after = producer.send({.topic = "closing", .value = "late"}).get();
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, client::ErrorCode::closed);
}

}  // namespace
}  // namespace sluice
