// A sparse, sorted, fixed-capacity index held in memory: the offset index
// (relative offset -> file position) and the time index (max timestamp of the
// batches before an entry -> relative offset) of one segment.
//
// Thread-safety: one writer appends or truncates; readers search concurrently
// without locks. Entries are written before the count that covers them is
// published (release), and the storage never moves, so a reader that loads the
// count (acquire) sees complete entries.
#pragma once

#include <algorithm>
#include <atomic>
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

template <typename Entry>
class SparseIndex {
 public:
  using Key = decltype(std::declval<Entry>().key());

  explicit SparseIndex(size_t capacity) : capacity_(capacity), entries_(std::make_unique<Entry[]>(capacity)) {}

  // Writer only. Keys must not decrease; a full index drops the entry (it only gets sparser).
  void append(Entry e) {
    size_t n = count_.load(std::memory_order_relaxed);
    if (n == capacity_ || (n > 0 && e.key() < entries_[n - 1].key())) return;
    entries_[n] = e;
    count_.store(n + 1, std::memory_order_release);
  }

  // Writer only. Keeps the entries for which keep(entry) holds (a prefix).
  template <typename Pred>
  void truncate_while_not(Pred keep) {
    size_t n = count_.load(std::memory_order_relaxed);
    while (n > 0 && !keep(entries_[n - 1])) --n;
    count_.store(n, std::memory_order_release);
  }

  void clear() { count_.store(0, std::memory_order_release); }

  // The last entry whose key is <= key (floor), if any.
  std::optional<Entry> floor(Key key) const {
    size_t n = count_.load(std::memory_order_acquire);
    const Entry* begin = entries_.get();
    const Entry* it = std::upper_bound(begin, begin + n, key, [](Key k, const Entry& e) { return k < e.key(); });
    if (it == begin) return std::nullopt;
    return *(it - 1);
  }

  // The last entry whose key is < key, if any.
  std::optional<Entry> lower(Key key) const {
    size_t n = count_.load(std::memory_order_acquire);
    const Entry* begin = entries_.get();
    const Entry* it = std::lower_bound(begin, begin + n, key, [](const Entry& e, Key k) { return e.key() < k; });
    if (it == begin) return std::nullopt;
    return *(it - 1);
  }

  size_t size() const { return count_.load(std::memory_order_acquire); }
  size_t capacity() const { return capacity_; }
  const Entry& at(size_t i) const { return entries_[i]; }

  Bytes serialize() const {
    size_t n = size();
    Bytes out(n * Entry::kDiskSize);
    for (size_t i = 0; i < n; ++i) entries_[i].encode(out.data() + i * Entry::kDiskSize);
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
      if (!valid(e) || (i > 0 && e.key() < index.entries_[i - 1].key())) return std::nullopt;
      index.entries_[i] = e;
    }
    index.count_.store(n, std::memory_order_release);
    return index;
  }

  SparseIndex(SparseIndex&& o) noexcept
      : capacity_(o.capacity_), entries_(std::move(o.entries_)), count_(o.count_.load()) {}
  // Only before readers can see the index (segment open).
  SparseIndex& operator=(SparseIndex&& o) noexcept {
    capacity_ = o.capacity_;
    entries_ = std::move(o.entries_);
    count_.store(o.count_.load());
    return *this;
  }

 private:
  size_t capacity_;
  std::unique_ptr<Entry[]> entries_;
  std::atomic<size_t> count_{0};
};

using OffsetIndex = SparseIndex<OffsetIndexEntry>;
using TimeIndex = SparseIndex<TimeIndexEntry>;

}  // namespace sluice::storage
