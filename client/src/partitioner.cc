#include "sluice/client/partitioner.h"

namespace sluice::client {

int32_t murmur2(ByteSpan data) {
  // Unsigned arithmetic gives Java's wrapping int multiply; >>> is a logical shift.
  const uint32_t length = static_cast<uint32_t>(data.size());
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  uint32_t h = seed ^ length;
  const size_t length4 = data.size() / 4;
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(data[i])); };
  for (size_t i = 0; i < length4; ++i) {
    const size_t i4 = i * 4;
    uint32_t k = byte(i4) + (byte(i4 + 1) << 8) + (byte(i4 + 2) << 16) + (byte(i4 + 3) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const size_t tail = data.size() & ~size_t{3};
  switch (data.size() % 4) {
    case 3: h ^= byte(tail + 2) << 16; [[fallthrough]];
    case 2: h ^= byte(tail + 1) << 8; [[fallthrough]];
    case 1: h ^= byte(tail); h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(ByteSpan key, int32_t num_partitions) { return to_positive(murmur2(key)) % num_partitions; }

StickyPartitioner::StickyPartitioner(uint64_t seed) : rng_(seed) {}

int32_t StickyPartitioner::pick(int32_t num_partitions, int32_t avoid) {
  if (num_partitions <= 1) return 0;
  if (avoid < 0 || avoid >= num_partitions) {
    return static_cast<int32_t>(std::uniform_int_distribution<int32_t>(0, num_partitions - 1)(rng_));
  }
  // Uniform over the other num_partitions - 1 partitions.
  int32_t p = std::uniform_int_distribution<int32_t>(0, num_partitions - 2)(rng_);
  return p >= avoid ? p + 1 : p;
}

int32_t StickyPartitioner::partition(const std::string& topic, int32_t num_partitions) {
  std::lock_guard lock(mutex_);
  auto it = sticky_.find(topic);
  if (it != sticky_.end() && it->second < num_partitions) return it->second;
  int32_t p = pick(num_partitions, -1);
  sticky_[topic] = p;
  return p;
}

int32_t StickyPartitioner::on_new_batch(const std::string& topic, int32_t num_partitions, int32_t previous) {
  std::lock_guard lock(mutex_);
  auto it = sticky_.find(topic);
  if (it != sticky_.end() && it->second != previous && it->second < num_partitions) return it->second;
  int32_t p = pick(num_partitions, previous);
  sticky_[topic] = p;
  return p;
}

}  // namespace sluice::client
