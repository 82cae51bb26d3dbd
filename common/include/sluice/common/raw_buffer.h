// A fixed-size heap buffer whose bytes start uninitialised. For frames that are
// filled at once from a socket or a file, where zero-filling them first (as
// std::vector::resize does) is a wasted pass over memory.
// Thread-safety: none; a value type.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "sluice/common/bytes.h"

namespace sluice {

class RawBuffer {
 public:
  RawBuffer() = default;
  explicit RawBuffer(size_t size)
      : data_(size > 0 ? std::make_unique_for_overwrite<std::byte[]>(size) : nullptr), size_(size) {}
  RawBuffer(RawBuffer&& other) noexcept : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}
  RawBuffer& operator=(RawBuffer&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  std::byte* data() { return data_.get(); }
  const std::byte* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  MutableByteSpan span() { return MutableByteSpan(data_.get(), size_); }
  ByteSpan span() const { return ByteSpan(data_.get(), size_); }

 private:
  std::unique_ptr<std::byte[]> data_;
  size_t size_ = 0;
};

}  // namespace sluice
