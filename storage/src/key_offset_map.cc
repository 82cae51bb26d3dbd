#include "sluice/storage/key_offset_map.h"

#include <xxhash.h>

#include <algorithm>

namespace sluice::storage {

namespace {

struct Hash {
  uint64_t low;
  uint64_t high;
};

Hash hash_of(ByteSpan key) {
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  if (h.low64 == 0 && h.high64 == 0) return {1, 0};  // (0, 0) marks an empty slot
  return {h.low64, h.high64};
}

}  // namespace

KeyOffsetMap::KeyOffsetMap(size_t memory_bytes) : slots_(std::max<size_t>(2, memory_bytes / kEntryBytes)) {
  // At least one slot always stays empty, so every probe ends.
  const auto by_load = static_cast<size_t>(static_cast<double>(slots_.size()) * kMaxLoad);
  max_entries_ = std::clamp<size_t>(by_load, 1, slots_.size() - 1);
}

size_t KeyOffsetMap::find(uint64_t low, uint64_t high) const {
  // Linear probing from the hash's slot; max_entries_ < slots, so an empty slot ends every probe.
  size_t i = static_cast<size_t>(low % slots_.size());
  while (true) {
    const Slot& s = slots_[i];
    if ((s.low == low && s.high == high) || (s.low == 0 && s.high == 0)) return i;
    i = i + 1 == slots_.size() ? 0 : i + 1;
  }
}

bool KeyOffsetMap::put(ByteSpan key, int64_t offset) {
  const Hash h = hash_of(key);
  Slot& slot = slots_[find(h.low, h.high)];
  const bool empty = slot.low == 0 && slot.high == 0;
  if (empty) {
    if (size_ >= max_entries_) return false;
    slot.low = h.low;
    slot.high = h.high;
    ++size_;
  }
  slot.offset = offset;
  return true;
}

std::optional<int64_t> KeyOffsetMap::get(ByteSpan key) const {
  const Hash h = hash_of(key);
  const Slot& slot = slots_[find(h.low, h.high)];
  if (slot.low == 0 && slot.high == 0) return std::nullopt;
  return slot.offset;
}

void KeyOffsetMap::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  size_ = 0;
}

}  // namespace sluice::storage
