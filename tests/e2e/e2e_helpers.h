// Helpers shared by the end-to-end tests: temporary directories, batches, and the
// few requests they make with a RawClient.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "sluice/storage/batch_builder.h"
#include "sluice/storage/record_batch.h"

#include "../broker/raw_client.h"
#include "broker_process.h"

namespace sluice {

using testing::temp_dir;

inline Bytes batch_for(int n) {
  storage::BatchBuilder builder;
  for (int i = 0; i < 4; ++i) {
    std::string key = "key-" + std::to_string(n), value = "batch-" + std::to_string(n) + "-record-" + std::to_string(i);
    builder.add(1'700'000'000'000 + n, as_bytes(key), as_bytes(value));
  }
  return std::move(*builder.build());
}

inline void create_topic(testing::RawClient& c, const std::string& name, const std::string& durability) {
  wire::CreateTopicsRequest req;
  auto* t = req.add_topics();
  t->set_name(name);
  t->set_partitions(1);
  (*t->mutable_configs())["durability"] = durability;
  auto resp = c.call<wire::CreateTopicsResponse>(wire::CREATE_TOPICS, req);
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->results(0).error().code(), wire::NONE);
}

// Fetches the whole partition; returns batch base offset -> first record value.
inline std::map<int64_t, std::string> read_all(testing::RawClient& c, const std::string& topic) {
  std::map<int64_t, std::string> out;
  int64_t offset = 0;
  while (true) {
    wire::FetchRequest fetch;
    fetch.set_max_wait_ms(0);
    auto* fp = fetch.add_partitions();
    fp->set_topic(topic);
    fp->set_partition(0);
    fp->set_fetch_offset(offset);
    fp->set_partition_max_bytes(1 << 20);
    Bytes records;
    auto resp = c.call<wire::FetchResponse>(wire::FETCH, fetch, {}, &records);
    EXPECT_TRUE(resp);
    if (!resp || records.empty()) break;
    ByteSpan rest(records);
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
