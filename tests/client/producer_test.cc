// The producer against a scripted broker: batching, retries and their order,
// flow control, timeouts. The real broker is in client_e2e_test.cc.
#include "sluice/client/producer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sluice/client/client_errors.h"
#include "sluice/client/partitioner.h"
#include "sluice/storage/record_batch.h"

#include "fake_broker.h"

namespace sluice::client {
namespace {

using namespace std::chrono_literals;
using sluice::testing::FakeBroker;
using sluice::testing::FakeLog;
using sluice::testing::Gate;
using Reports = std::vector<std::future<Result<RecordMetadata>>>;

ProducerConfig config_for(const FakeBroker& broker) {
  ProducerConfig c;
  c.bootstrap = broker.bootstrap();
  c.retry_backoff_ms = 10;
  c.retry_backoff_max_ms = 50;
  return c;
}

wire::Error wire_err(wire::ErrorCode code) {
  wire::Error e;
  e.set_code(code);
  e.set_message("injected");
  return e;
}

// A ProduceResponse failing every partition of the request with `code`.
FakeBroker::Reply fail_produce(const FakeBroker::Request& request, wire::ErrorCode code) {
  wire::ProduceRequest req;
  req.ParseFromArray(request.body.data(), static_cast<int>(request.body.size()));
  wire::ProduceResponse resp;
  for (const auto& p : req.partitions()) {
    auto* r = resp.add_results();
    r->set_topic(p.topic());
    r->set_partition(p.partition());
    *r->mutable_error() = wire_err(code);
  }
  return FakeBroker::Reply::with(resp);
}

void expect_log_in_order(const FakeLog& log, const std::string& topic, int32_t partition, int count) {
  auto records = log.records(topic, partition);
  ASSERT_EQ(records.size(), static_cast<size_t>(count)) << "no loss, no duplicates";
  for (int i = 0; i < count; ++i) ASSERT_EQ(*records[i].value, std::to_string(i)) << "at offset " << i;
}

// Sends values "0".."count-1" to partition 0 of "t".
Reports send_in_order(Producer& producer, int count) {
  Reports reports;
  for (int i = 0; i < count; ++i) reports.push_back(producer.send({.topic = "t", .value = std::to_string(i)}));
  return reports;
}

// Flushes, and checks that record i of send_in_order() was acknowledged at
// offset i and stored there exactly once.
void flush_and_expect_delivered(Producer& producer, Reports& reports, const FakeLog& log) {
  producer.flush();
  const int count = static_cast<int>(reports.size());
  for (int i = 0; i < count; ++i) {
    auto md = reports[i].get();
    ASSERT_TRUE(md) << md.error().to_string();
    EXPECT_EQ(md->offset, i);
  }
  expect_log_in_order(log, "t", 0, count);
}

void send_in_order_and_expect_delivered(Producer& producer, const FakeLog& log, int count) {
  Reports reports = send_in_order(producer, count);
  flush_and_expect_delivered(producer, reports, log);
}

TEST(Producer, KeyedRecordsGoWhereKafkaWouldPutThem) {
  FakeLog log;
  log.add_topic("t", 6);
  FakeBroker broker([&](const FakeBroker::Request& r) { return log.handle(r); });
  Producer producer(config_for(broker));
  Reports reports;
  for (int i = 0; i < 100; ++i)
    reports.push_back(producer.send({.topic = "t", .key = "k" + std::to_string(i), .value = "v"}));
  producer.flush();
  for (int i = 0; i < 100; ++i) {
    auto md = reports[i].get();
    ASSERT_TRUE(md) << md.error().to_string();
    EXPECT_EQ(md->partition, partition_for_key(as_bytes("k" + std::to_string(i)), 6));
  }
}

TEST(Producer, LingerCollectsRecordsIntoOneBatch) {
  FakeLog log;
  log.add_topic("t", 1);
  FakeBroker broker([&](const FakeBroker::Request& r) { return log.handle(r); });
  auto c = config_for(broker);
  c.linger_ms = 200;
  Producer producer(c);
  Reports reports;
  for (int i = 0; i < 10; ++i) reports.push_back(producer.send({.topic = "t", .value = std::to_string(i)}));
  auto start = std::chrono::steady_clock::now();
  for (auto& f : reports) ASSERT_TRUE(f.get());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms) << "sent at linger expiry, not at once";
  EXPECT_EQ(log.batch_sizes(), std::vector<int32_t>{10});
  expect_log_in_order(log, "t", 0, 10);
}

TEST(Producer, FullBatchesGoWithoutWaitingForLinger) {
  FakeLog log;
  log.add_topic("t", 1);
  FakeBroker broker([&](const FakeBroker::Request& r) { return log.handle(r); });
  auto c = config_for(broker);
  c.linger_ms = 60'000;
  c.batch_bytes = 2048;
  Producer producer(c);
  Reports reports;
  for (int i = 0; i < 100; ++i) reports.push_back(producer.send({.topic = "t", .value = std::string(100, 'x')}));
  // The first batch filled up long before the linger: it is acknowledged without a flush.
  ASSERT_EQ(reports.front().wait_for(5s), std::future_status::ready);
  ASSERT_TRUE(reports.front().get());
  producer.flush();
  auto sizes = log.batch_sizes();
  EXPECT_GE(sizes.size(), 6u);
  for (size_t i = 0; i + 1 < sizes.size(); ++i) EXPECT_GE(sizes[i], 10) << "batches fill up to ~2 KiB";
}

TEST(Producer, RetriesKeepPartitionOrder) {
  FakeLog log;
  log.add_topic("t", 1);
  std::atomic<int> produces{0};
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() == wire::PRODUCE) {
      int n = ++produces;
      if (n == 3 || n == 4 || n == 9) return fail_produce(r, wire::REQUEST_TIMED_OUT);
      if (n == 6) return FakeBroker::Reply::hang_up();
    }
    return log.handle(r);
  });
  auto c = config_for(broker);
  c.linger_ms = 0;
  c.batch_bytes = 256;
  c.max_request_bytes = 1024;  // a few batches per request: enough requests to hit the failures
  Producer producer(c);
  send_in_order_and_expect_delivered(producer, log, 500);
  EXPECT_GE(broker.connections(), 2);
}

// For a produce request carrying several batches of one partition of "t":
// appends only the first batch to `log` and answers with `error` for the rest,
// as the broker does at a bad batch. Other requests: nullopt.
std::optional<FakeBroker::Reply> append_only_the_first_batch(FakeLog& log, const FakeBroker::Request& r,
                                                             wire::ErrorCode error) {
  wire::ProduceRequest req;
  req.ParseFromArray(r.body.data(), static_cast<int>(r.body.size()));
  auto first = storage::validate_batch(r.records);
  bool several = first && req.partitions_size() == 1 && first->total_size() < r.records.size();
  if (!several) return std::nullopt;
  FakeBroker::Request only_first = r;
  only_first.records.resize(first->total_size());
  req.mutable_partitions(0)->set_records_size(static_cast<uint32_t>(first->total_size()));
  only_first.body.resize(req.ByteSizeLong());
  req.SerializeToArray(only_first.body.data(), static_cast<int>(only_first.body.size()));
  log.handle(only_first);
  wire::ProduceResponse resp;
  auto* result = resp.add_results();
  result->set_topic("t");
  result->set_partition(0);
  result->set_base_offset(static_cast<int64_t>(log.records("t", 0).size()) - first->record_count);
  result->add_batch_base_offsets(result->base_offset());
  *result->mutable_error() = wire_err(error);
  return FakeBroker::Reply::with(resp);
}

// For a handler: holds the InitProducerId answer until the test has queued its
// records. No batch of an idempotent producer is sent before it has an id, so
// the first produce request then carries several batches of the partition (as
// many as may be in flight) however the threads are scheduled. Without it, an id
// that arrives before the second batch starts lets every batch go out alone as
// it fills. (Holding the first produce answer would not do: the partition
// pipelines, and the next batch would go out alone behind it.)
void hold_producer_id_until(const Gate& records_queued, const FakeBroker::Request& r) {
  if (r.header.api() == wire::INIT_PRODUCER_ID) records_queued.wait();
}

// With order preserved, one request carries every ready batch of a partition.
// When the broker appends only the first of them and fails the rest (as it does
// at a bad batch), the first is delivered with its offsets and the others are
// retried behind it: no loss, no duplicate, no reordering.
TEST(Producer, APartlyAppendedRequestDeliversTheAppendedBatchesAndRetriesTheRest) {
  FakeLog log;
  log.add_topic("t", 1);
  std::atomic<int> multi_batch_requests{0};
  Gate records_queued;
  FakeBroker broker([&](const FakeBroker::Request& r) {
    hold_producer_id_until(records_queued, r);
    if (r.header.api() != wire::PRODUCE || multi_batch_requests.load() > 0) return log.handle(r);
    auto reply = append_only_the_first_batch(log, r, wire::REQUEST_TIMED_OUT);
    if (!reply) return log.handle(r);
    ++multi_batch_requests;
    return *reply;
  });
  auto c = config_for(broker);
  c.linger_ms = 200;
  c.batch_bytes = 256;  // small batches: several pile up while the producer id is held
  Producer producer(c);
  Reports reports = send_in_order(producer, 300);
  records_queued.open();
  flush_and_expect_delivered(producer, reports, log);
  EXPECT_GE(multi_batch_requests.load(), 1) << "some request carried several batches of the partition";
}

// Delivery reports of one partition run in record order, also when a request is
// only partly appended and the rest fails for good: the appended batch's reports
// (deferred until the next request is sent) come before the failed batch's.
TEST(Producer, DeliveryReportsKeepRecordOrderWhenARequestIsPartlyAppended) {
  FakeLog log;
  log.add_topic("t", 1);
  std::atomic<bool> failed_once{false};
  Gate records_queued;
  FakeBroker broker([&](const FakeBroker::Request& r) {
    hold_producer_id_until(records_queued, r);
    if (r.header.api() != wire::PRODUCE || failed_once.load()) return log.handle(r);
    auto reply = append_only_the_first_batch(log, r, wire::CORRUPT_MESSAGE);  // not retriable
    if (!reply) return log.handle(r);
    failed_once = true;
    return *reply;
  });
  auto c = config_for(broker);
  c.linger_ms = 200;
  c.batch_bytes = 256;  // small batches: several pile up while the producer id is held
  Producer producer(c);
  std::mutex mu;
  std::vector<int> order;  // record index, in the order reports arrived
  std::vector<bool> ok(300);
  for (int i = 0; i < 300; ++i) {
    producer.send({.topic = "t", .value = std::to_string(i)}, [&, i](const Result<RecordMetadata>& r) {
      std::lock_guard lock(mu);
      order.push_back(i);
      ok[static_cast<size_t>(i)] = r.has_value();
    });
  }
  records_queued.open();
  producer.flush();
  std::lock_guard lock(mu);
  ASSERT_EQ(order.size(), 300u);
  EXPECT_TRUE(failed_once.load()) << "some request carried several batches of the partition";
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << "reports out of record order";
  EXPECT_TRUE(std::find(ok.begin(), ok.end(), false) != ok.end()) << "the failed batches were reported as failed";
}

TEST(Producer, PipelinesAcrossPartitionsUpToMaxInFlight) {
  FakeLog log;
  log.add_topic("t", 8);
  FakeBroker broker([&](const FakeBroker::Request& r) {
    auto reply = log.handle(r);
    if (r.header.api() == wire::PRODUCE) reply.delay = 20ms;  // the broker is slow: requests pile up
    return reply;
  });
  auto c = config_for(broker);
  c.linger_ms = 0;
  c.max_in_flight = 3;
  Producer producer(c);
  Reports reports;
  for (int i = 0; i < 400; ++i) {
    reports.push_back(producer.send({.topic = "t", .partition = i % 8, .value = std::to_string(i / 8)}));
  }
  producer.flush();
  for (auto& f : reports) ASSERT_TRUE(f.get());
  for (int p = 0; p < 8; ++p) expect_log_in_order(log, "t", p, 50);
}

// A broker that loses responses after appending (the 4th produce request), and
// fails another request without appending it (the 9th), while a slow broker
// lets several requests of the one partition pile up in flight.
struct LossyBroker {
  explicit LossyBroker(FakeLog& log)
      : broker([this, &log](const FakeBroker::Request& r) {
          if (r.header.api() != wire::PRODUCE) return log.handle(r);
          int n = ++produces;
          if (n == 9) return fail_produce(r, wire::REQUEST_TIMED_OUT);
          auto reply = log.handle(r);
          if (n == 4) return FakeBroker::Reply::hang_up();  // appended, but the response is lost
          reply.delay = 2ms;
          return reply;
        }) {}
  std::atomic<int> produces{0};
  FakeBroker broker;
};

ProducerConfig pipelining_config(const FakeBroker& broker) {
  auto c = config_for(broker);
  c.linger_ms = 0;
  c.batch_bytes = 256;
  c.max_request_bytes = 1024;  // a few batches per request: many requests for the partition
  return c;
}

// With idempotence a partition's batches pipeline, and a lost response or a
// failed request in the middle neither duplicates nor reorders records: the
// broker answers the retried batches it already has as duplicates and refuses
// the ones behind a gap until the gap is filled.
TEST(Producer, IdempotentPipelinedBatchesSurviveLostResponsesWithoutDuplicatesOrReordering) {
  FakeLog log;
  log.add_topic("t", 1);
  LossyBroker lossy(log);
  Producer producer(pipelining_config(lossy.broker));
  send_in_order_and_expect_delivered(producer, log, 500);
  EXPECT_GE(lossy.produces.load(), 10) << "the faults were reached";
  EXPECT_GE(log.duplicates(), 1) << "a retry of an appended batch was answered as a duplicate";
  EXPECT_EQ(log.producer_ids_given(), 1);
}

// The same faults without idempotence, the pipelining only allowed by giving
// up order: the lost response's batches are stored twice. (This is what the
// test above guards against.)
TEST(Producer, WithoutIdempotenceALostResponseStoresBatchesTwice) {
  FakeLog log;
  log.add_topic("t", 1);
  LossyBroker lossy(log);
  auto c = pipelining_config(lossy.broker);
  c.enable_idempotence = false;
  c.preserve_order = false;
  Producer producer(c);
  Reports reports;
  for (int i = 0; i < 500; ++i) reports.push_back(producer.send({.topic = "t", .value = std::to_string(i)}));
  producer.flush();
  for (auto& f : reports) ASSERT_TRUE(f.get());
  EXPECT_GT(log.records("t", 0).size(), 500u);
  EXPECT_EQ(log.producer_ids_given(), 0);
}

// A batch that fails for good leaves a gap in its partition's sequence that the
// broker would refuse forever. The producer takes a new producer id, numbers the
// waiting batches again, and later records are delivered.
TEST(Producer, ABatchThatFailsForGoodMakesTheProducerTakeANewId) {
  FakeLog log;
  log.add_topic("t", 1);
  std::atomic<int> produces{0};
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() == wire::PRODUCE && ++produces == 2) return fail_produce(r, wire::INVALID_REQUEST);
    return log.handle(r);
  });
  auto c = config_for(broker);
  c.linger_ms = 0;
  Producer producer(c);
  ASSERT_TRUE(producer.send({.topic = "t", .value = "0"}).get());
  ASSERT_FALSE(producer.send({.topic = "t", .value = "lost"}).get());
  Reports reports;
  for (int i = 1; i < 50; ++i) reports.push_back(producer.send({.topic = "t", .value = std::to_string(i)}));
  producer.flush();
  for (auto& f : reports) {
    auto md = f.get();
    ASSERT_TRUE(md) << md.error().to_string();
  }
  expect_log_in_order(log, "t", 0, 50);
  EXPECT_EQ(log.producer_ids_given(), 2);
}

TEST(Producer, NonRetriableErrorsFailAtOnce) {
  FakeLog log;
  log.add_topic("t", 1);
  std::atomic<int> produces{0};
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() == wire::PRODUCE) {
      ++produces;
      return fail_produce(r, wire::INVALID_REQUEST);
    }
    return log.handle(r);
  });
  Producer producer(config_for(broker));
  auto md = producer.send({.topic = "t", .value = "x"}).get();
  ASSERT_FALSE(md);
  EXPECT_EQ(md.error().code, ErrorCode::invalid_request);
  EXPECT_EQ(error_reason(md.error()), "INVALID_REQUEST");
  EXPECT_EQ(produces.load(), 1);
}

TEST(Producer, RetriesRunOut) {
  FakeLog log;
  log.add_topic("t", 1);
  std::atomic<int> produces{0};
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() == wire::PRODUCE) {
      ++produces;
      return fail_produce(r, wire::STORAGE_ERROR);
    }
    return log.handle(r);
  });
  auto c = config_for(broker);
  c.retries = 3;
  Producer producer(c);
  auto md = producer.send({.topic = "t", .value = "x"}).get();
  ASSERT_FALSE(md);
  EXPECT_EQ(error_reason(md.error()), "STORAGE_ERROR");
  EXPECT_EQ(produces.load(), 4) << "the first attempt and three retries";
}

TEST(Producer, DeliveryTimeoutBoundsABatchsLife) {
  FakeLog log;
  log.add_topic("t", 1);
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() == wire::PRODUCE) return FakeBroker::Reply::silence();
    return log.handle(r);
  });
  auto c = config_for(broker);
  c.request_timeout_ms = 150;
  c.delivery_timeout_ms = 400;
  Producer producer(c);
  auto start = std::chrono::steady_clock::now();
  auto md = producer.send({.topic = "t", .value = "x"}).get();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(md);
  EXPECT_EQ(error_reason(md.error()), reason::kDeliveryTimeout) << md.error().to_string();
  EXPECT_NE(md.error().message.find("REQUEST_TIMED_OUT"), std::string::npos) << "names the last error";
  EXPECT_LT(took, 2s);
}

TEST(Producer, TopicDeletedWhileRetryingFailsWithUnknownTopic) {
  FakeLog log;
  log.add_topic("t", 1);
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() == wire::PRODUCE) log.remove_topic("t");  // gone before the write
    return log.handle(r);
  });
  Producer producer(config_for(broker));
  auto md = producer.send({.topic = "t", .value = "x"}).get();
  ASSERT_FALSE(md);
  EXPECT_EQ(md.error().code, ErrorCode::unknown_topic_or_partition);
  EXPECT_EQ(error_reason(md.error()), "UNKNOWN_TOPIC_OR_PARTITION");
}

TEST(Producer, AcksZeroGetsNoResponseAndReportsOffsetMinusOne) {
  FakeLog log;
  log.add_topic("t", 1);
  FakeBroker broker([&](const FakeBroker::Request& r) { return log.handle(r); });  // silent for acks=0
  auto c = config_for(broker);
  c.acks = 0;
  Producer producer(c);
  Reports reports;
  for (int i = 0; i < 50; ++i) reports.push_back(producer.send({.topic = "t", .value = std::to_string(i)}));
  producer.flush();
  for (auto& f : reports) {
    auto md = f.get();
    ASSERT_TRUE(md);
    EXPECT_EQ(md->offset, -1);
  }
  // Written, though nobody said so: wait for the fake broker to catch up.
  for (int i = 0; i < 1000 && log.records("t", 0).size() < 50; ++i) std::this_thread::sleep_for(10ms);
  expect_log_in_order(log, "t", 0, 50);
}

TEST(Producer, BlockedSendGivesUpAfterMaxBlock) {
  FakeLog log;
  log.add_topic("t", 1);
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api() == wire::PRODUCE) return FakeBroker::Reply::silence();  // memory never comes back
    return log.handle(r);
  });
  auto c = config_for(broker);
  c.buffer_memory = 8 * 1024;
  c.max_block_ms = 200;
  Producer producer(c);
  Reports reports;
  reports.push_back(producer.send({.topic = "t", .value = std::string(6000, 'x')}));
  auto start = std::chrono::steady_clock::now();
  auto md = producer.send({.topic = "t", .value = std::string(6000, 'y')}).get();
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(md);
  EXPECT_EQ(error_reason(md.error()), reason::kBufferFull);
  EXPECT_GE(waited, 180ms);
  EXPECT_LT(waited, 2s);
  producer.close(0ms);
  auto first = reports[0].get();
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::closed);
}

TEST(Producer, InvalidConfigIsRejected) {
  ProducerConfig c;
  c.bootstrap = "nowhere";
  EXPECT_FALSE(Producer::create(c));
  c.bootstrap = "127.0.0.1:1";
  c.acks = 2;
  EXPECT_FALSE(Producer::create(c));
  c.acks = -1;
  c.delivery_timeout_ms = 10;
  auto r = Producer::create(c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("delivery_timeout_ms"), std::string::npos);
  EXPECT_THROW(Producer{c}, std::invalid_argument);
}

TEST(Producer, ASendFromACallbackNeverBlocks) {
  FakeLog log;
  log.add_topic("t", 1);
  FakeBroker broker([&](const FakeBroker::Request& r) { return log.handle(r); });
  auto c = config_for(broker);
  Producer producer(c);
  std::promise<Result<RecordMetadata>> inner;
  producer.send({.topic = "t", .value = "outer"}, [&](const Result<RecordMetadata>& r) {
    ASSERT_TRUE(r);
    producer.send({.topic = "t", .value = "inner"}, [&](const Result<RecordMetadata>& r2) { inner.set_value(r2); });
  });
  auto r = inner.get_future().get();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->offset, 1);
}

}  // namespace
}  // namespace sluice::client
