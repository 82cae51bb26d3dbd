// The cleaner's key -> latest offset map for the dirty section of a compacted log
// (Kafka's SkimpyOffsetMap): a fixed-size open-addressing table of 128-bit key hashes
// (XXH3) and offsets, sized once from a memory budget (log.cleaner.dedupe.buffer.size)
// and filled to at most 90 % of its slots, so a full map says so instead of growing.
// Keys are never stored: two keys whose 128-bit hashes collide would share a slot
// (about 2^-64 for a billion keys, as with Kafka's MD5).
// An entry is 24 bytes (16 of hash, 8 of offset), as Kafka's.
// Thread-safety: none; one cleaner pass owns a map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "sluice/common/bytes.h"

namespace sluice::storage {

class KeyOffsetMap {
 public:
  static constexpr size_t kEntryBytes = 24;
  static constexpr double kMaxLoad = 0.9;

  // Slots for as many entries as fit in `memory_bytes` (at least two).
  explicit KeyOffsetMap(size_t memory_bytes);

  // Records `offset` as the key's latest (offsets only grow within a pass). False,
  // with nothing changed, when the key is new and the map holds its most entries.
  bool put(ByteSpan key, int64_t offset);
  std::optional<int64_t> get(ByteSpan key) const;

  size_t size() const { return size_; }
  // Entries the map takes before put() of a new key fails.
  size_t max_entries() const { return max_entries_; }
  size_t memory_bytes() const { return slots_.size() * kEntryBytes; }
  void clear();

 private:
  struct Slot {
    uint64_t low = 0;
    uint64_t high = 0;  // low == high == 0: empty (a key hashing to zero is stored as 1)
    int64_t offset = -1;
  };
  static_assert(sizeof(Slot) == kEntryBytes);

  // The slot holding `key`'s hash, or the empty slot where it would go.
  size_t find(uint64_t low, uint64_t high) const;

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t max_entries_ = 0;
};

}  // namespace sluice::storage
