// A sparse, sorted, fixed-capacity index held in memory: the offset index
// (relative offset -> file position) and the time index (max timestamp of the
// batches before an entry -> relative offset) of one segment.
//
// Thread-safety: one writer appends or truncates; readers search concurrently
// without locks. Entries (and the chunk that holds them) are written before the
// count that covers them is published (release), and a chunk never moves, so a
// reader that loads the count (acquire) sees complete entries.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <optional>

#include "sluice/common/bytes.h"

namespace sluice::storage {

// Entry of `.index`: 8 bytes on disk, relative offset then position, both uint32 big-endian.
struct OffsetIndexEntry {
  uint32_t relative_offset = 0;
  uint32_t position = 0;

  static constexpr size_t kDiskSize = 8;
  uint32_t key() const { return relative_offset; }
  void encode(std::byte* p) const {
    store_be<uint32_t>(p, relative_offset);
    store_be<uint32_t>(p + 4, position);
  }
  static OffsetIndexEntry decode(const std::byte* p) { return {load_be<uint32_t>(p), load_be<uint32_t>(p + 4)}; }
};

// Entry of `.timeindex`: 12 bytes on disk, timestamp int64 then relative offset uint32.
// `timestamp` is the largest timestamp of every batch before `relative_offset` in
// the segment, so a search for T may start at the last entry with timestamp < T.
struct TimeIndexEntry {
  int64_t timestamp = 0;
  uint32_t relative_offset = 0;

  static constexpr size_t kDiskSize = 12;
  int64_t key() const { return timestamp; }
  void encode(std::byte* p) const {
    store_be<int64_t>(p, timestamp);
    store_be<uint32_t>(p + 8, relative_offset);
  }
  static TimeIndexEntry decode(const std::byte* p) { return {load_be<int64_t>(p), load_be<uint32_t>(p + 8)}; }
};

// Memory follows the entries written, not the capacity: entries live in chunks
// of doubling size (64, 128, 256, ... entries), allocated as the index grows and
// never moved, so an idle segment costs a few hundred bytes whatever its settings.
template <typename Entry>
class SparseIndex {
 public:
  using Key = decltype(std::declval<Entry>().key());

  // `capacity` bounds the entries; none is allocated until the first append.
  explicit SparseIndex(size_t capacity) : capacity_(capacity) {}

  // Writer only. Keys must not decrease; a full index drops the entry (it only gets sparser).
  void append(Entry e) {
    size_t n = count_.load(std::memory_order_relaxed);
    if (n == capacity_ || (n > 0 && e.key() < at(n - 1).key())) return;
    Slot slot = slot_of(n);
    if (!chunks_[slot.chunk]) chunks_[slot.chunk] = std::make_unique<Entry[]>(kFirstChunk << slot.chunk);
    chunks_[slot.chunk][slot.index] = e;
    count_.store(n + 1, std::memory_order_release);
  }

  // Writer only. Keeps the entries for which keep(entry) holds (a prefix).
  template <typename Pred>
  void truncate_while_not(Pred keep) {
    size_t n = count_.load(std::memory_order_relaxed);
    while (n > 0 && !keep(at(n - 1))) --n;
    count_.store(n, std::memory_order_release);
  }

  void clear() { count_.store(0, std::memory_order_release); }

  // The last entry whose key is <= key (floor), if any.
  std::optional<Entry> floor(Key key) const {
    size_t n = partition_point(size(), [&](const Entry& e) { return e.key() <= key; });
    if (n == 0) return std::nullopt;
    return at(n - 1);
  }

  // The last entry whose key is < key, if any.
  std::optional<Entry> lower(Key key) const {
    size_t n = partition_point(size(), [&](const Entry& e) { return e.key() < key; });
    if (n == 0) return std::nullopt;
    return at(n - 1);
  }

  size_t size() const { return count_.load(std::memory_order_acquire); }
  size_t capacity() const { return capacity_; }
  // REQUIRES: i < size().
  const Entry& at(size_t i) const {
    Slot slot = slot_of(i);
    return chunks_[slot.chunk][slot.index];
  }
  // Bytes held for entries (allocated chunks).
  size_t memory_bytes() const {
    size_t total = 0;
    for (size_t k = 0; k < kMaxChunks; ++k) {
      if (chunks_[k]) total += (kFirstChunk << k) * sizeof(Entry);
    }
    return total;
  }

  Bytes serialize() const {
    size_t n = size();
    Bytes out(n * Entry::kDiskSize);
    for (size_t i = 0; i < n; ++i) at(i).encode(out.data() + i * Entry::kDiskSize);
    return out;
  }

  // Parses a file; nullopt if its size is not a whole number of entries or keys
  // decrease. `valid` is asked about each entry (e.g. "position inside the segment").
  template <typename Valid>
  static std::optional<SparseIndex> parse(ByteSpan bytes, size_t capacity, Valid valid) {
    if (bytes.size() % Entry::kDiskSize != 0) return std::nullopt;
    size_t n = bytes.size() / Entry::kDiskSize;
    SparseIndex index(std::max(capacity, n));
    for (size_t i = 0; i < n; ++i) {
      Entry e = Entry::decode(bytes.data() + i * Entry::kDiskSize);
      if (!valid(e) || (i > 0 && e.key() < index.at(i - 1).key())) return std::nullopt;
      index.append(e);
    }
    return index;
  }

  SparseIndex(SparseIndex&& o) noexcept
      : capacity_(o.capacity_), chunks_(std::move(o.chunks_)), count_(o.count_.load()) {}
  // Only before readers can see the index (segment open).
  SparseIndex& operator=(SparseIndex&& o) noexcept {
    capacity_ = o.capacity_;
    chunks_ = std::move(o.chunks_);
    count_.store(o.count_.load());
    return *this;
  }

 private:
  static constexpr size_t kFirstChunk = 64;  // chunk k holds kFirstChunk << k entries
  static constexpr size_t kMaxChunks = 40;   // far more entries than a uint32 position can index
  struct Slot {
    size_t chunk;
    size_t index;
  };
  // Entry i is number i + 64 counted from the start of chunk 0, whose first entry is
  // number 64: chunk k starts at number 64 << k.
  static Slot slot_of(size_t i) {
    size_t number = i + kFirstChunk;
    size_t chunk = static_cast<size_t>(std::bit_width(number)) - std::bit_width(kFirstChunk);
    return Slot{chunk, number - (kFirstChunk << chunk)};
  }
  // The number of leading entries among the first n for which pred holds (pred
  // is true on a prefix): binary search.
  template <typename Pred>
  size_t partition_point(size_t n, Pred pred) const {
    size_t lo = 0, hi = n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (pred(at(mid))) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  size_t capacity_;
  std::array<std::unique_ptr<Entry[]>, kMaxChunks> chunks_;
  std::atomic<size_t> count_{0};
};

using OffsetIndex = SparseIndex<OffsetIndexEntry>;
using TimeIndex = SparseIndex<TimeIndexEntry>;

}  // namespace sluice::storage
