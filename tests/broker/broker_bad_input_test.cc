// Every kind of bad input to the broker's listener, after which it must still serve:
// bad batches, bad requests, oversize and garbage frames, clients that go away.
#include "broker_protocol_fixture.h"

namespace sluice::broker::testing {
namespace {

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

}  // namespace
}  // namespace sluice::broker::testing
