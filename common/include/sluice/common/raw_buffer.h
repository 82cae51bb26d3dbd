// A fixed-size heap buffer whose bytes start uninitialised. For frames that are
// filled at once from a socket or a file, where zero-filling them first (as
// std::vector::resize does) is a wasted pass over memory.
//
// Large buffers can come from a RawBufferPool and go back to it when destroyed:
// a freshly mapped multi-MiB buffer costs a page fault and a page clear per
// 4 KiB on first touch, more than the copy that fills it.
//
// Thread-safety: RawBuffer is a value type; a pool may be used from any thread,
// and a pooled buffer may be destroyed on any thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "sluice/common/bytes.h"

namespace sluice {

class RawBufferPool;

class RawBuffer {
 public:
  RawBuffer() = default;
  explicit RawBuffer(size_t size)
      : data_(size > 0 ? std::make_unique_for_overwrite<std::byte[]>(size) : nullptr), size_(size), capacity_(size) {}
  RawBuffer(RawBuffer&& other) noexcept { *this = std::move(other); }
  RawBuffer& operator=(RawBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::move(other.data_);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
      pool_ = std::move(other.pool_);
    }
    return *this;
  }
  ~RawBuffer() { release(); }

  std::byte* data() { return data_.get(); }
  const std::byte* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  MutableByteSpan span() { return MutableByteSpan(data_.get(), size_); }
  ByteSpan span() const { return ByteSpan(data_.get(), size_); }

 private:
  friend class RawBufferPool;
  void release();

  std::unique_ptr<std::byte[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
  std::weak_ptr<RawBufferPool> pool_;  // where the memory goes back to, if anywhere
};

class RawBufferPool : public std::enable_shared_from_this<RawBufferPool> {
 public:
  // Buffers below `min_pooled_bytes` are plain allocations (malloc reuses small
  // blocks well); at most `max_free` buffers wait for reuse.
  static std::shared_ptr<RawBufferPool> create(size_t min_pooled_bytes = 64 << 10, size_t max_free = 2) {
    return std::shared_ptr<RawBufferPool>(new RawBufferPool(min_pooled_bytes, max_free));
  }

  RawBuffer acquire(size_t size) {
    if (size < min_pooled_bytes_) return RawBuffer(size);
    RawBuffer buffer;
    {
      std::lock_guard lock(mu_);
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->second >= size) {
          buffer.data_ = std::move(it->first);
          buffer.capacity_ = it->second;
          free_.erase(it);
          break;
        }
      }
    }
    if (!buffer.data_) {
      // Rounded up, so that a buffer fits the next request of about the same size
      // instead of missing it by a few bytes.
      const size_t capacity = (size + min_pooled_bytes_ - 1) / min_pooled_bytes_ * min_pooled_bytes_;
      buffer.data_ = std::make_unique_for_overwrite<std::byte[]>(capacity);
      buffer.capacity_ = capacity;
    }
    buffer.size_ = size;
    buffer.pool_ = weak_from_this();
    return buffer;
  }

 private:
  friend class RawBuffer;
  // At least 1: capacities are rounded up to a multiple of it.
  RawBufferPool(size_t min_pooled_bytes, size_t max_free)
      : min_pooled_bytes_(std::max<size_t>(min_pooled_bytes, 1)), max_free_(max_free) {}

  void give_back(std::unique_ptr<std::byte[]> data, size_t capacity) {
    std::lock_guard lock(mu_);
    if (free_.size() < max_free_) free_.emplace_back(std::move(data), capacity);
  }

  const size_t min_pooled_bytes_;
  const size_t max_free_;
  std::mutex mu_;
  std::vector<std::pair<std::unique_ptr<std::byte[]>, size_t>> free_;  // buffers and their capacities
};

inline void RawBuffer::release() {
  if (data_) {
    if (auto pool = pool_.lock()) pool->give_back(std::move(data_), capacity_);
  }
  data_.reset();
  size_ = 0;
  capacity_ = 0;
  pool_.reset();
}

}  // namespace sluice
