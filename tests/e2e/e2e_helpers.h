// Helpers shared by the end-to-end tests: temporary directories, batches, and the
// few requests they make with a RawClient.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/record_batch.h"

#include "../broker/raw_client.h"
#include "broker_process.h"

namespace sluice {

using testing::temp_dir;

// Polls what has no notification to wait on (another process's files or state, the
// broker's answers) until `done`; false after `bound`, which is a failure bound only.
template <typename Done>
bool eventually(Done done, std::chrono::milliseconds bound) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling for a condition
  }
  return true;
}

inline Bytes batch_for(int n) {
  storage::BatchBuilder builder;
  for (int i = 0; i < 4; ++i) {
    std::string key = "key-" + std::to_string(n), value = "batch-" + std::to_string(n) + "-record-" + std::to_string(i);
    builder.add(1'700'000'000'000 + n, as_bytes(key), as_bytes(value));
  }
  return std::move(*builder.build());
}

// Creates a one-partition topic; returns the result's error code.
inline wire::ErrorCode create_topic_with(testing::RawClient& c, const std::string& name,
                                         const std::map<std::string, std::string>& configs) {
  wire::CreateTopicsRequest req;
  auto* t = req.add_topics();
  t->set_name(name);
  t->set_partitions(1);
  for (const auto& [k, v] : configs) (*t->mutable_configs())[k] = v;
  auto resp = c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
  return resp ? resp->results(0).error().code() : wire::UNKNOWN_SERVER_ERROR;
}

inline void create_topic(testing::RawClient& c, const std::string& name, const std::string& durability) {
  ASSERT_EQ(create_topic_with(c, name, {{"durability", durability}}), wire::NONE);
}

struct Fetched {
  wire::FetchResponse::PartitionData partition;
  Bytes records;
};

// One fetch of partition 0 from `offset`, without waiting, up to 1 MiB.
inline Fetched fetch_once(testing::RawClient& c, const std::string& topic, int64_t offset) {
  wire::FetchRequest req;
  req.set_max_wait_ms(0);
  auto* fp = req.add_partitions();
  fp->set_topic(topic);
  fp->set_partition(0);
  fp->set_fetch_offset(offset);
  fp->set_partition_max_bytes(1 << 20);
  Fetched out;
  auto resp = c.call<wire::FetchResponse>(wire::FETCH, req, {}, &out.records);
  EXPECT_TRUE(resp);
  if (resp) out.partition = resp->partitions(0);
  return out;
}

// Fetches the whole partition; returns batch base offset -> first record value.
inline std::map<int64_t, std::string> read_all(testing::RawClient& c, const std::string& topic) {
  std::map<int64_t, std::string> out;
  int64_t offset = 0;
  while (true) {
    Fetched f = fetch_once(c, topic, offset);
    if (f.records.empty()) break;
    ByteSpan rest(f.records);
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

// One batch to partition 0 of `topic`; nullopt if the broker did not answer.
inline std::optional<wire::ProduceResponse> produce(testing::RawClient& c, const std::string& topic, const Bytes& batch,
                                                    int acks = 1) {
  wire::ProduceRequest req;
  req.set_acks(acks);
  auto* p = req.add_partitions();
  p->set_topic(topic);
  p->set_partition(0);
  p->set_records_size(static_cast<uint32_t>(batch.size()));
  return c.call<wire::ProduceResponse>(wire::PRODUCE, req, batch);
}

}  // namespace sluice
