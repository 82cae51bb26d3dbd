// The broker over its real TCP listener, driven with raw frames: the happy path of
// every API, topics across restarts, idempotent appends.
#include "broker_protocol_fixture.h"

namespace sluice::broker::testing {
namespace {

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
TEST_F(BrokerProtocol, CleanupPolicyTakesKafkasValuesAndRefusesOthers) {
  RawClient c(broker_.bootstrap());
  wire::CreateTopicsRequest req;
  for (auto [name, policy] : {std::pair{"compacted", "compact"},
                              {"compacted-too", "compact,delete"},
                              {"deleted", "delete"},
                              {"shredded", "shred"}}) {
    auto* t = req.add_topics();
    t->set_name(name);
    t->set_partitions(1);
    (*t->mutable_configs())["cleanup.policy"] = policy;
  }
  auto resp = c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
  ASSERT_TRUE(resp);
  for (int i : {0, 1, 2}) EXPECT_EQ(resp->results(i).error().code(), wire::NONE) << resp->results(i).error().message();
  EXPECT_EQ(resp->results(3).error().code(), wire::INVALID_CONFIG);
  EXPECT_NE(resp->results(3).error().message().find("cleanup.policy: 'shred'"), std::string::npos)
      << resp->results(3).error().message();
  wire::MetadataRequest md;
  md.add_topics("shredded");
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

// The transaction coordinator's first job: a transactional id keeps its producer
// id, and each InitProducerId bumps its epoch, which fences the previous
// instance's batches; durable across a restart.
TEST_F(BrokerProtocol, ATransactionalIdKeepsItsProducerIdAndEachInitBumpsTheEpoch) {
  create_topic("txn", 1);
  auto init = [&](const std::string& transactional_id, int32_t timeout_ms = 0) {
    RawClient c(broker_.bootstrap());
    wire::InitProducerIdRequest req;
    req.set_transactional_id(transactional_id);
    req.set_transaction_timeout_ms(timeout_ms);
    auto resp = c.call<wire::InitProducerIdResponse>(wire::INIT_PRODUCER_ID, req);
    EXPECT_TRUE(resp);
    return resp ? *resp : wire::InitProducerIdResponse{};
  };
  const auto first = init("app-1");
  ASSERT_EQ(first.error().code(), wire::NONE) << first.error().message();
  EXPECT_EQ(first.producer_epoch(), 0);
  const auto second = init("app-1", 30'000);
  EXPECT_EQ(second.producer_id(), first.producer_id());
  EXPECT_EQ(second.producer_epoch(), 1);
  const auto other = init("app-2");
  EXPECT_NE(other.producer_id(), first.producer_id());
  EXPECT_EQ(other.producer_epoch(), 0);

  // The new epoch writes; the previous instance's next batch is fenced.
  auto batch = [&](int16_t epoch, int32_t sequence) {
    storage::BatchBuilder builder(
        storage::BatchOptions{.producer_id = first.producer_id(), .producer_epoch = epoch, .base_sequence = sequence});
    builder.add(1'700'000'000'000, std::nullopt, as_bytes(std::string("v")));
    return std::move(*builder.build());
  };
  RawClient c(broker_.bootstrap());
  EXPECT_EQ(produce(c, "txn", 0, batch(1, 0)).error().code(), wire::NONE);
  EXPECT_EQ(produce(c, "txn", 0, batch(0, 1)).error().code(), wire::INVALID_PRODUCER_EPOCH);

  // Bad input: clear errors, nothing changes.
  const auto too_long = init("app-1", 900'001);
  EXPECT_EQ(too_long.error().code(), wire::INVALID_TRANSACTION_TIMEOUT);
  EXPECT_NE(too_long.error().message().find("transaction.max.timeout.ms"), std::string::npos)
      << too_long.error().message();
  EXPECT_EQ(init("app-1", -5).error().code(), wire::INVALID_TRANSACTION_TIMEOUT);
  const auto long_id = init(std::string(256, 'x'));
  EXPECT_EQ(long_id.error().code(), wire::INVALID_REQUEST);
  EXPECT_NE(long_id.error().message().find("1-255 characters"), std::string::npos) << long_id.error().message();

  broker_.restart();
  const auto after = init("app-1");
  EXPECT_EQ(after.producer_id(), first.producer_id()) << "the id's state was loaded from __transaction_state";
  EXPECT_EQ(after.producer_epoch(), 2) << "the refused calls took no epoch";
  EXPECT_EQ(init("app-2").producer_epoch(), 1);
}

}  // namespace
}  // namespace sluice::broker::testing
