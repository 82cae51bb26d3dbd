// Choosing a partition for a record.
//
// Keyed records: Kafka's default partitioner, bit for bit — murmur2 of the key
// bytes (Utils.murmur2, seed 0x9747b28c), made non-negative by clearing the sign
// bit, modulo the partition count. A key lands on the same partition as it would
// with a Kafka producer.
//
// Records without a key: sticky partitioning (KIP-480). All of them go to one
// partition until the producer starts a new batch for it (the batch filled up or
// was sent), then to another partition picked at random, so small batches do not
// get spread thin across partitions.
// Thread-safety: the functions are pure; StickyPartitioner is thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

#include "sluice/common/bytes.h"

namespace sluice::client {

// Kafka's org.apache.kafka.common.utils.Utils.murmur2.
int32_t murmur2(ByteSpan data);

// Kafka's Utils.toPositive: clears the sign bit (not abs(); abs(INT_MIN) overflows).
constexpr int32_t to_positive(int32_t v) { return v & 0x7fffffff; }

// toPositive(murmur2(key)) % num_partitions. REQUIRES: num_partitions > 0.
int32_t partition_for_key(ByteSpan key, int32_t num_partitions);

class StickyPartitioner {
 public:
  explicit StickyPartitioner(uint64_t seed = std::random_device{}());

  // The topic's current sticky partition (chosen at random the first time).
  // REQUIRES: num_partitions > 0.
  int32_t partition(const std::string& topic, int32_t num_partitions);

  // Called when a record for `previous` would start a new batch: moves the
  // topic to a different partition (when there is more than one) and returns
  // it. If another thread already moved on from `previous`, keeps that choice.
  int32_t on_new_batch(const std::string& topic, int32_t num_partitions, int32_t previous);

 private:
  int32_t pick(int32_t num_partitions, int32_t avoid);

  std::mutex mutex_;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, int32_t> sticky_;
};

}  // namespace sluice::client
