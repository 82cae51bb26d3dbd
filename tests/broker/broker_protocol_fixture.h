// The fixture of the broker's protocol tests: a real broker on a loopback port,
// driven with raw frames through RawClient, with small request builders.
#pragma once

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

namespace sluice::broker::testing {

using sluice::testing::EmbeddedBroker;
using sluice::testing::RawClient;

inline Bytes make_batch(int count, const std::string& prefix,
                        storage::Compression compression = storage::Compression::none) {
  storage::BatchBuilder builder(storage::BatchOptions{.compression = compression});
  for (int i = 0; i < count; ++i) {
    std::string key = "k" + std::to_string(i), value = prefix + std::to_string(i);
    builder.add(1'700'000'000'000 + i, as_bytes(key), as_bytes(value));
  }
  return std::move(*builder.build());
}

// A fetch of one partition from `offset`.
inline wire::FetchRequest fetch_request(const std::string& topic, int partition, int64_t offset, int max_wait_ms,
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

}  // namespace sluice::broker::testing
