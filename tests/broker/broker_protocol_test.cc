// The broker over its real TCP listener, driven with raw frames: the happy path of
// every API, and every kind of bad input, after which the broker must still serve.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <thread>

#include "sluice/broker/embedded_broker.h"
#include "sluice/storage/batch_builder.h"

#include "raw_client.h"

namespace sluice::broker {
namespace {

using sluice::testing::EmbeddedBroker;
using sluice::testing::RawClient;

Bytes make_batch(int count, const std::string& prefix, storage::Compression compression = storage::Compression::none) {
  storage::BatchBuilder builder(storage::BatchOptions{.compression = compression});
  for (int i = 0; i < count; ++i) {
    std::string key = "k" + std::to_string(i), value = prefix + std::to_string(i);
    builder.add(1'700'000'000'000 + i, as_bytes(key), as_bytes(value));
  }
  return std::move(*builder.build());
}

// A fetch of one partition from `offset`.
wire::FetchRequest fetch_request(const std::string& topic, int partition, int64_t offset, int max_wait_ms,
                                 int32_t partition_max_bytes = 1 << 20) {
  wire::FetchRequest fetch;
  fetch.set_max_wait_ms(max_wait_ms);
  auto* fp = fetch.add_partitions();
  fp->set_topic(topic);
  fp->set_partition(partition);
  fp->set_fetch_offset(offset);
  fp->set_partition_max_bytes(partition_max_bytes);
  return fetch;
}

class BrokerProtocol : public ::testing::Test {
 protected:
  explicit BrokerProtocol(BrokerConfig config = {}) : broker_(std::move(config)) {}

  void create_topic(const std::string& name, int partitions, const std::map<std::string, std::string>& configs = {}) {
    RawClient c(broker_.bootstrap());
    wire::CreateTopicsRequest req;
    auto* t = req.add_topics();
    t->set_name(name);
    t->set_partitions(partitions);
    for (auto& [k, v] : configs) (*t->mutable_configs())[k] = v;
    auto resp = c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
    ASSERT_TRUE(resp);
    ASSERT_EQ(resp->results(0).error().code(), wire::NONE) << resp->results(0).error().message();
  }

  wire::ProduceResponse::PartitionResult produce(RawClient& c, const std::string& topic, int partition, Bytes batch,
                                                 int acks = 1) {
    wire::ProduceRequest req;
    req.set_acks(acks);
    auto* p = req.add_partitions();
    p->set_topic(topic);
    p->set_partition(partition);
    p->set_records_size(static_cast<uint32_t>(batch.size()));
    auto resp = c.call<wire::ProduceResponse>(wire::PRODUCE, req, batch);
    EXPECT_TRUE(resp);
    return resp ? resp->results(0) : wire::ProduceResponse::PartitionResult{};
  }

  // Proves the broker still serves: metadata on a fresh connection.
  void expect_serving() {
    RawClient c(broker_.bootstrap());
    ASSERT_TRUE(c.connected());
    auto resp = c.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{});
    ASSERT_TRUE(resp) << "broker stopped answering";
  }

  EmbeddedBroker broker_;
};

TEST_F(BrokerProtocol, ProduceThenFetchReturnsTheSameBatchBytes) {
  create_topic("orders", 2);
  RawClient c(broker_.bootstrap());
  Bytes batch = make_batch(10, "v");
  auto produced = produce(c, "orders", 1, batch);
  ASSERT_EQ(produced.error().code(), wire::NONE) << produced.error().message();
  EXPECT_EQ(produced.base_offset(), 0);
  EXPECT_EQ(produce(c, "orders", 1, make_batch(5, "w")).base_offset(), 10);

  wire::FetchRequest fetch = fetch_request("orders", 1, 0, 0);
  Bytes records;
  auto resp = c.call<wire::FetchResponse>(wire::FETCH, fetch, {}, &records);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->partitions(0).error().code(), wire::NONE);
  EXPECT_EQ(resp->partitions(0).high_watermark(), 15);
  ASSERT_EQ(resp->partitions(0).records_size(), records.size());
  // The first batch comes back byte for byte (base offset 0 was stamped already).
  ASSERT_GE(records.size(), batch.size());
  EXPECT_TRUE(std::equal(batch.begin(), batch.end(), records.begin()));
}

TEST_F(BrokerProtocol, FetchLongPollWakesUpWhenDataArrives) {
  create_topic("events", 1);
  RawClient consumer(broker_.bootstrap());
  wire::FetchRequest fetch = fetch_request("events", 0, 0, 20'000);
  fetch.set_min_bytes(1);
  ASSERT_TRUE(consumer.send_request(wire::FETCH, 7, fetch));
  auto started = std::chrono::steady_clock::now();
  std::thread producer([&] {
    RawClient p(broker_.bootstrap());
    produce(p, "events", 0, make_batch(3, "x"));
  });
  auto reply = consumer.read_reply();
  producer.join();
  ASSERT_TRUE(reply);
  wire::FetchResponse resp;
  ASSERT_TRUE(wire::parse_message(reply->body, resp));
  EXPECT_GT(resp.partitions(0).records_size(), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15))
      << "woke by the append, not the timeout";
}

TEST_F(BrokerProtocol, FetchWithNoDataWaitsMaxWaitThenReturnsEmpty) {
  create_topic("quiet", 1);
  RawClient c(broker_.bootstrap());
  wire::FetchRequest fetch;
  fetch.set_max_wait_ms(200);
  fetch.set_min_bytes(1);
  auto* fp = fetch.add_partitions();
  fp->set_topic("quiet");
  fp->set_partition(0);
  fp->set_fetch_offset(0);
  auto started = std::chrono::steady_clock::now();
  auto resp = c.call<wire::FetchResponse>(wire::FETCH, fetch);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->partitions(0).records_size(), 0u);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(190));
}

TEST_F(BrokerProtocol, PipelinedRequestsAreAnsweredInOrder) {
  create_topic("pipe", 1);
  RawClient c(broker_.bootstrap());
  std::vector<Bytes> batches;
  for (int i = 0; i < 50; ++i) batches.push_back(make_batch(2, "p" + std::to_string(i)));
  for (int i = 0; i < 50; ++i) {
    wire::ProduceRequest req;
    req.set_acks(1);
    auto* p = req.add_partitions();
    p->set_topic("pipe");
    p->set_partition(0);
    p->set_records_size(static_cast<uint32_t>(batches[i].size()));
    ASSERT_TRUE(c.send_request(wire::PRODUCE, 1000 + i, req, batches[i]));
  }
  for (int i = 0; i < 50; ++i) {
    auto reply = c.read_reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->header.correlation_id(), 1000u + i);
    wire::ProduceResponse resp;
    ASSERT_TRUE(wire::parse_message(reply->body, resp));
    EXPECT_EQ(resp.results(0).base_offset(), 2 * i);
  }
}

TEST_F(BrokerProtocol, ListOffsetsEarliestLatestAndByTimestamp) {
  create_topic("times", 1);
  RawClient c(broker_.bootstrap());
  produce(c, "times", 0, make_batch(10, "t"));
  wire::ListOffsetsRequest req;
  for (int64_t ts : {int64_t{-2}, int64_t{-1}, int64_t{1'700'000'000'004}, int64_t{1'800'000'000'000}}) {
    auto* q = req.add_partitions();
    q->set_topic("times");
    q->set_partition(0);
    q->set_timestamp(ts);
  }
  auto resp = c.call<wire::ListOffsetsResponse>(wire::LIST_OFFSETS, req);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->results(0).offset(), 0);
  EXPECT_EQ(resp->results(1).offset(), 10);
  EXPECT_EQ(resp->results(2).offset(), 4);
  EXPECT_EQ(resp->results(2).timestamp(), 1'700'000'000'004);
  EXPECT_EQ(resp->results(3).offset(), -1);
}

TEST_F(BrokerProtocol, CreateTopicErrorsNameTheProblem) {
  RawClient c(broker_.bootstrap());
  create_topic("dup", 1);
  wire::CreateTopicsRequest req;
  auto add = [&](const std::string& name, int partitions, const std::map<std::string, std::string>& configs = {}) {
    auto* t = req.add_topics();
    t->set_name(name);
    t->set_partitions(partitions);
    for (auto& [k, v] : configs) (*t->mutable_configs())[k] = v;
  };
  add("dup", 1);
  add("bad/name", 1);
  add("zero", 0);
  add("cfg", 1, {{"durability", "sometimes"}});
  add("unknown-key", 1, {{"no.such.setting", "1"}});
  auto resp = c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->results(0).error().code(), wire::TOPIC_ALREADY_EXISTS);
  EXPECT_EQ(resp->results(1).error().code(), wire::INVALID_TOPIC);
  EXPECT_EQ(resp->results(2).error().code(), wire::INVALID_PARTITIONS);
  EXPECT_EQ(resp->results(3).error().code(), wire::INVALID_CONFIG);
  EXPECT_NE(resp->results(3).error().message().find("durability"), std::string::npos);
  EXPECT_EQ(resp->results(4).error().code(), wire::INVALID_CONFIG);
  EXPECT_NE(resp->results(4).error().message().find("no.such.setting"), std::string::npos);
}

// Compaction does not exist yet: a compacted topic would silently lose its records to
// retention, so the setting is refused rather than accepted and ignored.
TEST_F(BrokerProtocol, CompactCleanupPolicyIsRefusedUntilCompactionExists) {
  RawClient c(broker_.bootstrap());
  wire::CreateTopicsRequest req;
  for (auto [name, policy] :
       {std::pair{"compacted", "compact"}, {"compacted-too", "compact,delete"}, {"deleted", "delete"}}) {
    auto* t = req.add_topics();
    t->set_name(name);
    t->set_partitions(1);
    (*t->mutable_configs())["cleanup.policy"] = policy;
  }
  auto resp = c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
  ASSERT_TRUE(resp);
  for (int i : {0, 1}) {
    EXPECT_EQ(resp->results(i).error().code(), wire::INVALID_CONFIG);
    EXPECT_NE(resp->results(i).error().message().find("compaction is not implemented yet"), std::string::npos)
        << resp->results(i).error().message();
  }
  EXPECT_EQ(resp->results(2).error().code(), wire::NONE) << resp->results(2).error().message();
  wire::MetadataRequest md;
  md.add_topics("compacted-too");
  auto meta = c.call<wire::MetadataResponse>(wire::METADATA, md);
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->topics(0).error().code(), wire::UNKNOWN_TOPIC_OR_PARTITION) << "a refused topic is not created";
}

// A setting an older broker stored but this one refuses (here a 16 GiB segment)
// stops startup with a message naming the topic and its file, not a bare setting.
TEST_F(BrokerProtocol, AStoredTopicSettingNowRefusedIsNamedAtStartup) {
  create_topic("legacy", 1);
  {
    std::ofstream meta(broker_.data_dir() + "/__topics/legacy.topic", std::ios::app);
    meta << "config.segment.bytes=17179869184\n";  // a setting line of the v1 metadata file (FORMAT.md)
  }
  try {
    broker_.restart();
    ADD_FAILURE() << "started with a refused stored setting";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("topic 'legacy'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("legacy.topic"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("segment.bytes"), std::string::npos) << e.what();
  }
  std::filesystem::remove(broker_.data_dir() + "/__topics/legacy.topic");
  broker_.restart();
}

TEST(BrokerStart, CompactAsTheTopicDefaultStopsStartup) {
  BrokerConfig config;
  config.topic_defaults.log.cleanup_policy = storage::CleanupPolicy::compact;
  try {
    EmbeddedBroker broker(config);
    ADD_FAILURE() << "started with cleanup.policy=compact as the default";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("default-cleanup-policy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("compaction is not implemented yet"), std::string::npos) << e.what();
  }
}

// Topic creation and deletion run off the I/O thread: while a 100-partition
// CreateTopics, then its DeleteTopics, is still running (its first partition
// directory made / its metadata file removed, which each comes first), another
// connection's Metadata request is answered.
TEST_F(BrokerProtocol, MetadataIsAnsweredWhileABigCreateOrDeleteRuns) {
  RawClient admin(broker_.bootstrap());
  RawClient other(broker_.bootstrap());
  ASSERT_TRUE(other.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}));
  // The broker's files are the only sign of where it is inside a request.
  auto wait_until = [](const std::function<bool()>& condition) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!condition() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling the data directory for a condition
    }
    return condition();
  };
  const std::string meta_file = broker_.data_dir() + "/__topics/wide.topic";
  auto answered_meanwhile = [&] {
    auto metadata = other.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{});
    return metadata.has_value() && !admin.reply_ready();
  };

  wire::CreateTopicsRequest create;
  create.add_topics()->set_name("wide");
  create.mutable_topics(0)->set_partitions(100);
  (*create.mutable_topics(0)->mutable_configs())["segment.bytes"] = "1048576";
  ASSERT_TRUE(admin.send_request(wire::CREATE_TOPICS, 1, create));
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(broker_.data_dir() + "/wide-0"); }));
  EXPECT_TRUE(answered_meanwhile()) << "Metadata waited for the CreateTopics";
  auto created = admin.read_body<wire::CreateTopicsResponse>(1);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->results(0).error().code(), wire::NONE) << created->results(0).error().message();

  wire::DeleteTopicsRequest del;
  del.add_names("wide");
  ASSERT_TRUE(admin.send_request(wire::DELETE_TOPICS, 2, del));
  ASSERT_TRUE(wait_until([&] { return !std::filesystem::exists(meta_file); }));
  EXPECT_TRUE(answered_meanwhile()) << "Metadata waited for the DeleteTopics";
  auto deleted = admin.read_body<wire::DeleteTopicsResponse>(2);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->results(0).error().code(), wire::NONE) << deleted->results(0).error().message();
}

TEST_F(BrokerProtocol, TopicsSurviveARestartWithTheirSettingsAndData) {
  create_topic("kept", 3, {{"retention.ms", "12345"}, {"durability", "none"}});
  {
    RawClient c(broker_.bootstrap());
    produce(c, "kept", 2, make_batch(4, "k"));
  }
  broker_.restart();
  RawClient c(broker_.bootstrap());
  wire::MetadataRequest req;
  req.add_topics("kept");
  auto resp = c.call<wire::MetadataResponse>(wire::METADATA, req);
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->topics(0).partitions_size(), 3);
  EXPECT_EQ(resp->topics(0).partitions(2).log_end_offset(), 4);
  EXPECT_EQ(resp->topics(0).configs().at("retention.ms"), "12345");
  EXPECT_EQ(resp->topics(0).configs().at("durability"), "none");
}

TEST_F(BrokerProtocol, DeletedTopicIsGoneAndCanBeRecreatedEmpty) {
  create_topic("gone", 1);
  RawClient c(broker_.bootstrap());
  produce(c, "gone", 0, make_batch(4, "g"));
  wire::DeleteTopicsRequest del;
  del.add_names("gone");
  del.add_names("never-existed");
  auto resp = c.call<wire::DeleteTopicsResponse>(wire::DELETE_TOPICS, del);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->results(0).error().code(), wire::NONE);
  EXPECT_EQ(resp->results(1).error().code(), wire::UNKNOWN_TOPIC_OR_PARTITION);
  EXPECT_EQ(produce(c, "gone", 0, make_batch(1, "x")).error().code(), wire::UNKNOWN_TOPIC_OR_PARTITION);
  create_topic("gone", 1);
  EXPECT_EQ(produce(c, "gone", 0, make_batch(1, "x")).base_offset(), 0);
}

// An idempotent producer over the wire: ids from InitProducerId that never repeat
// across a restart, a resent batch answered with its first offsets, a gap
// refused; and the partition's producer state rebuilt from the log on restart.
TEST_F(BrokerProtocol, IdempotentProducerBatchesAreAppendedOnceAndInSequence) {
  create_topic("idem", 1);
  auto init_producer_id = [&] {
    RawClient c(broker_.bootstrap());
    auto resp = c.call<wire::InitProducerIdResponse>(wire::INIT_PRODUCER_ID, wire::InitProducerIdRequest{});
    EXPECT_TRUE(resp);
    EXPECT_EQ(resp ? resp->error().code() : wire::UNKNOWN_SERVER_ERROR, wire::NONE);
    return resp ? resp->producer_id() : -1;
  };
  const int64_t id = init_producer_id();
  ASSERT_GE(id, 0);
  EXPECT_NE(init_producer_id(), id);
  auto batch = [&](int32_t sequence) {
    storage::BatchBuilder builder(
        storage::BatchOptions{.producer_id = id, .producer_epoch = 0, .base_sequence = sequence});
    for (int i = 0; i < 4; ++i)
      builder.add(1'700'000'000'000 + i, std::nullopt, as_bytes(std::to_string(sequence + i)));
    return std::move(*builder.build());
  };
  RawClient c(broker_.bootstrap());
  EXPECT_EQ(produce(c, "idem", 0, batch(0)).base_offset(), 0);
  EXPECT_EQ(produce(c, "idem", 0, batch(4)).base_offset(), 4);
  auto resent = produce(c, "idem", 0, batch(4));
  EXPECT_EQ(resent.error().code(), wire::NONE) << resent.error().message();
  EXPECT_EQ(resent.base_offset(), 4) << "a duplicate gets the offsets of the first write";
  auto gap = produce(c, "idem", 0, batch(12));
  EXPECT_EQ(gap.error().code(), wire::OUT_OF_ORDER_SEQUENCE_NUMBER);
  EXPECT_NE(gap.error().message().find("expected 8"), std::string::npos) << gap.error().message();

  broker_.restart();
  RawClient after(broker_.bootstrap());
  EXPECT_EQ(produce(after, "idem", 0, batch(4)).base_offset(), 4) << "still a duplicate after a restart";
  EXPECT_EQ(produce(after, "idem", 0, batch(8)).base_offset(), 8);
  EXPECT_GT(init_producer_id(), id + 1) << "ids handed out before the restart are not handed out again";
}

// ---- bad input ----

TEST_F(BrokerProtocol, ProduceToMissingTopicOrPartitionIsAnError) {
  create_topic("small", 2);
  RawClient c(broker_.bootstrap());
  EXPECT_EQ(produce(c, "nope", 0, make_batch(1, "x")).error().code(), wire::UNKNOWN_TOPIC_OR_PARTITION);
  EXPECT_EQ(produce(c, "small", 2, make_batch(1, "x")).error().code(), wire::UNKNOWN_TOPIC_OR_PARTITION);
  EXPECT_EQ(produce(c, "small", -1, make_batch(1, "x")).error().code(), wire::UNKNOWN_TOPIC_OR_PARTITION);
  EXPECT_EQ(produce(c, "small", 1, make_batch(1, "x")).error().code(), wire::NONE) << "same connection still works";
}

TEST_F(BrokerProtocol, BatchWithBadCrcIsRejectedAndNothingIsStored) {
  create_topic("crc", 1);
  RawClient c(broker_.bootstrap());
  Bytes batch = make_batch(5, "c");
  batch[batch.size() - 3] ^= std::byte{1};
  auto result = produce(c, "crc", 0, batch);
  EXPECT_EQ(result.error().code(), wire::CORRUPT_MESSAGE);
  EXPECT_NE(result.error().message().find("crc"), std::string::npos);
  EXPECT_EQ(produce(c, "crc", 0, make_batch(1, "ok")).base_offset(), 0) << "the bad batch took no offsets";
}

// Each batch a consumer could not read, or that claims what only the broker may
// write, is refused with its own code and a reason, takes no offsets, and leaves
// the partition accepting the next good batch.
TEST_F(BrokerProtocol, ProduceRefusesBatchesAConsumerCouldNotRead) {
  create_topic("strict", 1);
  RawClient c(broker_.bootstrap());
  ASSERT_EQ(produce(c, "strict", 0, make_batch(2, "ok")).base_offset(), 0);
  auto edited = [](Bytes batch, const std::function<void(Bytes&)>& edit) {
    edit(batch);
    storage::seal_crc(batch);
    return batch;
  };
  namespace bf = storage::batch_format;
  const Bytes zstd = make_batch(3, "z", storage::Compression::zstd);
  storage::BatchBuilder transactional(
      storage::BatchOptions{.producer_id = 987'654, .producer_epoch = 0, .base_sequence = 0, .transactional = true});
  transactional.add(1'700'000'000'000, std::nullopt, as_bytes(std::string("t")));
  struct Case {
    const char* what;
    Bytes batch;
    wire::ErrorCode code;
    const char* reason;  // in the error message
  };
  std::vector<Case> cases;
  cases.push_back({"zstd flag, garbage payload, valid crc",
                   edited(zstd, [](Bytes& b) { std::fill(b.begin() + bf::kRecords, b.end(), std::byte{0x5A}); }),
                   wire::CORRUPT_MESSAGE, "zstd"});
  cases.push_back({"gzip",
                   edited(make_batch(2, "g"),
                          [](Bytes& b) {
                            store_be<int16_t>(b.data() + bf::kAttributes,
                                              static_cast<int16_t>(storage::Compression::gzip));
                          }),
                   wire::UNSUPPORTED_COMPRESSION_TYPE, "only none and zstd"});
  cases.push_back({"control batch", storage::make_control_batch(storage::ControlType::commit, 5, 0, 0, 1),
                   wire::INVALID_RECORD, "control"});
  cases.push_back(
      {"transactional, invented producer id", std::move(*transactional.build()), wire::INVALID_RECORD, "transaction"});
  cases.push_back(
      {"no records", std::move(*storage::BatchBuilder().build()), wire::INVALID_RECORD, "at least one record"});
  cases.push_back({"compressed, last offset delta 2^31-1",
                   edited(zstd,
                          [](Bytes& b) {
                            store_be<int32_t>(b.data() + bf::kLastOffsetDelta, std::numeric_limits<int32_t>::max());
                          }),
                   wire::INVALID_RECORD, "last offset delta 2147483647"});
  cases.push_back({"compressed, more records declared than held",
                   edited(zstd,
                          [](Bytes& b) {
                            store_be<int32_t>(b.data() + bf::kRecordCount, 4);
                            store_be<int32_t>(b.data() + bf::kLastOffsetDelta, 3);
                          }),
                   wire::CORRUPT_MESSAGE, "found 3"});
  int64_t next = 2;
  for (auto& [what, batch, code, reason] : cases) {
    SCOPED_TRACE(what);
    auto refused = produce(c, "strict", 0, batch);
    EXPECT_EQ(refused.error().code(), code) << refused.error().message();
    EXPECT_NE(refused.error().message().find(reason), std::string::npos) << refused.error().message();
    EXPECT_EQ(refused.base_offset(), -1);
    EXPECT_EQ(produce(c, "strict", 0, make_batch(1, "after")).base_offset(), next) << "the refused batch took offsets";
    ++next;
  }
  // Everything stored reads back: fetch from the start returns the good batches only.
  Bytes records;
  auto fetched = c.call<wire::FetchResponse>(wire::FETCH, fetch_request("strict", 0, 0, 0), {}, &records);
  ASSERT_TRUE(fetched);
  EXPECT_EQ(fetched->partitions(0).high_watermark(), next);
  int64_t offset = 0;
  for (ByteSpan rest = records; !rest.empty();) {
    auto header = storage::validate_batch(rest);
    ASSERT_TRUE(header) << header.error().to_string();
    EXPECT_EQ(header->base_offset.value(), offset);
    offset = header->next_offset().value();
    rest = rest.subspan(header->total_size());
  }
  EXPECT_EQ(offset, next);
}

TEST_F(BrokerProtocol, BatchOverMaxMessageBytesIsRejected) {
  create_topic("tiny", 1, {{"max.message.bytes", "200"}});
  RawClient c(broker_.bootstrap());
  EXPECT_EQ(produce(c, "tiny", 0, make_batch(50, "big")).error().code(), wire::MESSAGE_TOO_LARGE);
}

TEST_F(BrokerProtocol, InvalidAcksIsRejected) {
  create_topic("acks", 1);
  RawClient c(broker_.bootstrap());
  EXPECT_EQ(produce(c, "acks", 0, make_batch(1, "a"), 7).error().code(), wire::INVALID_REQUIRED_ACKS);
}

TEST_F(BrokerProtocol, UnknownApiAndVersionGetAnErrorResponseAndTheConnectionStaysOpen) {
  RawClient c(broker_.bootstrap());
  ASSERT_TRUE(c.send_request(static_cast<wire::ApiKey>(99), 5, wire::MetadataRequest{}));
  auto reply = c.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.correlation_id(), 5u);
  EXPECT_EQ(reply->header.error().code(), wire::UNSUPPORTED_API);
  ASSERT_TRUE(c.send_request(wire::METADATA, 6, wire::MetadataRequest{}, {}, 42));
  reply = c.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.error().code(), wire::UNSUPPORTED_VERSION);
  EXPECT_TRUE(c.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}));
}

TEST_F(BrokerProtocol, UndecodableBodyGetsInvalidRequest) {
  RawClient c(broker_.bootstrap());
  wire::RequestHeader header;
  header.set_api(wire::CREATE_TOPICS);
  header.set_correlation_id(9);
  std::string h = header.SerializeAsString();
  Bytes frame;
  ByteWriter w(frame);
  std::string body = "\xff\xff\xff\xff\xff";  // not a valid protobuf
  w.put_be<uint32_t>(static_cast<uint32_t>(4 + h.size() + 4 + body.size()));
  w.put_be<uint32_t>(static_cast<uint32_t>(h.size()));
  w.put_bytes(as_bytes(h));
  w.put_be<uint32_t>(static_cast<uint32_t>(body.size()));
  w.put_bytes(as_bytes(body));
  ASSERT_TRUE(c.send_bytes(frame));
  auto reply = c.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.correlation_id(), 9u);
  EXPECT_EQ(reply->header.error().code(), wire::INVALID_REQUEST);
}

TEST_F(BrokerProtocol, RecordsSizeBeyondTheFrameIsInvalidRequest) {
  create_topic("lies", 1);
  RawClient c(broker_.bootstrap());
  Bytes batch = make_batch(2, "l");
  wire::ProduceRequest req;
  req.set_acks(1);
  auto* p = req.add_partitions();
  p->set_topic("lies");
  p->set_partition(0);
  p->set_records_size(static_cast<uint32_t>(batch.size() + 100));
  ASSERT_TRUE(c.send_request(wire::PRODUCE, 3, req, batch));
  auto reply = c.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.error().code(), wire::INVALID_REQUEST);
}

TEST_F(BrokerProtocol, OversizeFrameClosesTheConnectionOnly) {
  RawClient c(broker_.bootstrap());
  std::byte length[4];
  store_be<uint32_t>(length, 1u << 30);
  ASSERT_TRUE(c.send_bytes(ByteSpan(length, 4)));
  EXPECT_TRUE(c.closed_by_peer());
  expect_serving();
}

TEST_F(BrokerProtocol, GarbageBytesCloseTheConnectionOnly) {
  RawClient other(broker_.bootstrap());
  RawClient c(broker_.bootstrap());
  std::string garbage = std::string("\x00\x00\x00\x10", 4) + "this is not sluice";
  ASSERT_TRUE(c.send_bytes(as_bytes(garbage)));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(other.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}))
      << "other clients unaffected";
}

TEST_F(BrokerProtocol, ClientDisconnectingMidFrameLosesNothingElse) {
  create_topic("half", 1);
  {
    RawClient c(broker_.bootstrap());
    Bytes batch = make_batch(3, "h");
    wire::ProduceRequest req;
    req.set_acks(1);
    auto* p = req.add_partitions();
    p->set_topic("half");
    p->set_partition(0);
    p->set_records_size(static_cast<uint32_t>(batch.size()));
    wire::RequestHeader header;
    header.set_api(wire::PRODUCE);
    header.set_correlation_id(1);
    Bytes frame;
    wire::build_frame(header, req, {ByteSpan(batch)}, frame);
    ASSERT_TRUE(c.send_bytes(ByteSpan(frame).first(frame.size() - 10)));  // truncated frame, then gone
  }
  RawClient c(broker_.bootstrap());
  EXPECT_EQ(produce(c, "half", 0, make_batch(1, "ok")).base_offset(), 0) << "the half request was not applied";
}

// Fetched bytes go out from the segment files (sendfile); a fetch that spans
// several segments returns every batch, in order, byte for byte.
TEST_F(BrokerProtocol, FetchAcrossManySegmentsReturnsEveryBatchInOrder) {
  create_topic("rolled", 1, {{"segment.bytes", "4096"}});
  RawClient c(broker_.bootstrap());
  Bytes produced;
  for (int i = 0; i < 40; ++i) {
    Bytes batch = make_batch(5, "value-" + std::to_string(i) + "-" + std::string(100, 'x'));
    auto r = produce(c, "rolled", 0, batch);
    ASSERT_EQ(r.error().code(), wire::NONE) << r.error().message();
    ASSERT_EQ(r.base_offset(), i * 5);
    storage::stamp_base_offset(batch, Offset(i * 5));
    produced.insert(produced.end(), batch.begin(), batch.end());
  }
  wire::FetchRequest fetch = fetch_request("rolled", 0, 0, 0);
  Bytes records;
  auto resp = c.call<wire::FetchResponse>(wire::FETCH, fetch, {}, &records);
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->partitions(0).error().code(), wire::NONE);
  EXPECT_EQ(records, produced);
}

// A consumer that goes away while a large response is being sent (the broker's
// write fails with EPIPE and, in this process, would raise SIGPIPE) costs nothing
// but its own connection.
TEST_F(BrokerProtocol, ClientClosingDuringALargeFetchLosesNothingElse) {
  create_topic("large", 1);
  {
    RawClient c(broker_.bootstrap());
    for (int i = 0; i < 16; ++i) {
      auto r = produce(c, "large", 0, make_batch(4, std::string(60'000, static_cast<char>('a' + i))));
      ASSERT_EQ(r.error().code(), wire::NONE) << r.error().message();
    }
  }
  wire::FetchRequest fetch = fetch_request("large", 0, 0, 0, 16 << 20);
  for (int i = 0; i < 20; ++i) {
    RawClient gone(broker_.bootstrap());
    ASSERT_TRUE(gone.send_request(wire::FETCH, 1, fetch));
    gone.close();  // about 4 MB are on their way to a closed socket
  }
  expect_serving();
  RawClient c(broker_.bootstrap());
  Bytes records;
  auto resp = c.call<wire::FetchResponse>(wire::FETCH, fetch, {}, &records);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->partitions(0).records_size(), records.size());
  EXPECT_GT(records.size(), 3'000'000u);
}

TEST_F(BrokerProtocol, MetricsAndHealthzAreServedOverHttp) {
  create_topic("metered", 1);
  create_topic("quiet", 1);
  {
    RawClient c(broker_.bootstrap());
    produce(c, "metered", 0, make_batch(7, "m"));
    produce(c, "metered", 0, make_batch(2, "n"));
    ASSERT_TRUE(c.call<wire::FetchResponse>(wire::FETCH, fetch_request("metered", 0, 0, 0)));
  }
  auto get = [&](const std::string& path) { return sluice::testing::http_get(broker_.http_address(), path); };
  std::string health = get("/healthz");
  EXPECT_NE(health.find("200 OK"), std::string::npos);
  std::string metrics = get("/metrics");
  EXPECT_NE(metrics.find("sluice_topic_records_in_total{topic=\"metered\"} 9"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_topic_records_out_total{topic=\"metered\"} 9"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_topic_records_in_total{topic=\"quiet\"} 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_partition_log_end_offset{topic=\"metered\",partition=\"0\"} 9"), std::string::npos);
  EXPECT_NE(metrics.find("sluice_requests_total{api=\"produce\"} 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_request_latency_seconds_bucket{api=\"produce\",le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(metrics.find("sluice_request_latency_seconds_count{api=\"produce\"} 2\n"), std::string::npos);
  EXPECT_NE(metrics.find("sluice_request_latency_seconds_bucket{api=\"produce\",le=\"1\"} 2\n"), std::string::npos)
      << "buckets are cumulative: both produces took under a second";
  EXPECT_NE(metrics.find("sluice_active_connections"), std::string::npos);
}

int64_t metric(const EmbeddedBroker& broker, const std::string& series) {
  return sluice::testing::scrape_metric(broker.http_address(), series);
}

TEST(DataDirLock, SecondBrokerInTheSameProcessIsRefusedAndTheFirstKeepsServing) {
  EmbeddedBroker first;
  BrokerConfig config;
  config.data_dir = first.data_dir();
  config.listen = "127.0.0.1:0";
  config.http = "";
  auto second = Broker::start(config);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("is in use by another broker (pid " + std::to_string(getpid()) + " holds"),
            std::string::npos)
      << second.error().message;
  RawClient c(first.bootstrap());
  EXPECT_TRUE(c.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}));
}

class ConnectionLimits : public BrokerProtocol {
 protected:
  static constexpr int kMaxConnections = 2;
  static constexpr int64_t kIdleMs = 200;
  static BrokerConfig limits() {
    BrokerConfig config;
    config.max_connections = kMaxConnections;
    config.connections_max_idle_ms = kIdleMs;
    return config;
  }
  ConnectionLimits() : BrokerProtocol(limits()) {}

  static bool answers(RawClient& c) {
    return c.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}).has_value();
  }
};

TEST_F(ConnectionLimits, ConnectionAboveMaxConnectionsIsClosedAndTheEarlierOnesStillWork) {
  RawClient a(broker_.bootstrap()), b(broker_.bootstrap());
  ASSERT_TRUE(answers(a));  // answered, so accepted and counted before the next connects
  ASSERT_TRUE(answers(b));
  RawClient over(broker_.bootstrap());
  ASSERT_TRUE(over.connected());  // the kernel completes the handshake; the broker closes it
  EXPECT_TRUE(over.closed_by_peer());
  EXPECT_TRUE(answers(a));
  EXPECT_TRUE(answers(b));
  EXPECT_EQ(metric(broker_, "sluice_connections_rejected_total{reason=\"max_connections\"}"), 1);

  // A client leaving frees its slot (once its session has ended).
  a.close();
  bool served = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       !served && std::chrono::steady_clock::now() < deadline;) {
    RawClient next(broker_.bootstrap());
    served = answers(next);
  }
  EXPECT_TRUE(served);
}

TEST_F(ConnectionLimits, IdleConnectionsAreClosedByTheBrokerAndBusyOnesAreNot) {
  RawClient idle(broker_.bootstrap());
  ASSERT_TRUE(answers(idle));
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.closed_by_peer()) << "an idle connection is closed (EOF) within the receive timeout";
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(kIdleMs / 2));

  // Requests every quarter of the idle timeout, for four times the timeout.
  RawClient busy(broker_.bootstrap());
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(answers(busy)) << "request " << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(kIdleMs / 4));  // the client's pace, not a synchronization
  }
  // A request in flight for longer than the timeout (a long poll) is not idleness.
  create_topic("quiet", 1);
  wire::FetchRequest poll = fetch_request("quiet", 0, 0, static_cast<int>(kIdleMs * 3));
  poll.set_min_bytes(1);
  auto polled = busy.call<wire::FetchResponse>(wire::FETCH, poll);
  ASSERT_TRUE(polled) << "closed during a long poll";
  EXPECT_EQ(polled->partitions(0).records_size(), 0u);
  EXPECT_TRUE(answers(busy));
  busy.close();  // closed by the client, before it would idle out

  RawClient http(broker_.http_address());  // connects and never sends a request
  EXPECT_TRUE(http.closed_by_peer());
  EXPECT_EQ(metric(broker_, "sluice_idle_connections_closed_total{listener=\"native\"}"), 1);
  EXPECT_EQ(metric(broker_, "sluice_idle_connections_closed_total{listener=\"http\"}"), 1);
}

// User plus system CPU time of this process.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Out of descriptors, accept fails at once while the connection waits in the backlog:
// the accept loop must pause instead of spinning, and keep serving what it has.
TEST_F(BrokerProtocol, OutOfDescriptorsTheAcceptLoopPausesAndKeepsServing) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check opens a pipe to probe memory; with every descriptor in use that
  // fails and it reports a false "invalid vptr" (strace: pipe2 = EMFILE right before it).
  GTEST_SKIP() << "needs every descriptor in use, which the sanitizers' vptr check cannot run with";
#endif
  RawClient existing(broker_.bootstrap());
  ASSERT_TRUE(existing.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}));
  // Sockets made while descriptors are left; connected once none are.
  std::vector<int> waiting;
  for (int i = 0; i < 4; ++i) waiting.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  int lowest_free = ::dup(0);  // every descriptor below it is in use
  ::close(lowest_free);
  rlimit exhausted{static_cast<rlim_t>(lowest_free), saved.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &exhausted), 0);
  auto host_port = parse_host_port(broker_.bootstrap());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(host_port->port);
  inet_pton(AF_INET, host_port->host.c_str(), &addr.sin_addr);
  for (int fd : waiting) EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

  double cpu_before = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the measurement window, not a synchronization
  double cpu_used = process_cpu_seconds() - cpu_before;
  bool served = existing.call<wire::MetadataResponse>(wire::METADATA, wire::MetadataRequest{}).has_value();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_LT(cpu_used, 0.2) << "a spinning accept loop uses a whole core";
  EXPECT_TRUE(served) << "the connection it has is still served";
  for (int fd : waiting) ::close(fd);

  EXPECT_GT(metric(broker_, "sluice_accept_errors_total{listener=\"native\"}"), 0);
  expect_serving();  // accepting again once descriptors are back
}

}  // namespace
}  // namespace sluice::broker
