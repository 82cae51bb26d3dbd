// Big-endian fixed-width integers and zig-zag varints (Kafka's encoding), with a
// bounds-checked reader and an appending writer. Every decode checks bounds and
// reports failure instead of reading past the end.
// Thread-safety: ByteReader and ByteWriter are not shared between threads.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sluice {

using Bytes = std::vector<std::byte>;
using ByteSpan = std::span<const std::byte>;
using MutableByteSpan = std::span<std::byte>;

inline ByteSpan as_bytes(std::string_view s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }
inline std::string_view as_string_view(ByteSpan b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

namespace detail {
template <typename U>
constexpr U byteswap(U v) {
  if constexpr (sizeof(U) == 2) return static_cast<U>(__builtin_bswap16(v));
  if constexpr (sizeof(U) == 4) return static_cast<U>(__builtin_bswap32(v));
  if constexpr (sizeof(U) == 8) return static_cast<U>(__builtin_bswap64(v));
  return v;
}
}  // namespace detail

template <typename T>
T load_be(const std::byte* p) {
  static_assert(std::is_integral_v<T>);
  std::make_unsigned_t<T> v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) v = detail::byteswap(v);
  return static_cast<T>(v);
}

template <typename T>
void store_be(std::byte* p, T value) {
  static_assert(std::is_integral_v<T>);
  auto v = static_cast<std::make_unsigned_t<T>>(value);
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) v = detail::byteswap(v);
  std::memcpy(p, &v, sizeof(v));
}

constexpr uint64_t zigzag_encode(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
constexpr int64_t zigzag_decode(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Encoded size of an unsigned LEB128 varint.
constexpr size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
constexpr size_t varint_size(int64_t v) { return uvarint_size(zigzag_encode(v)); }
constexpr size_t kMaxVarintSize = 10;

// Writes v as an unsigned LEB128 varint at `out`, which has room for
// uvarint_size(v) bytes; returns the byte after it.
inline std::byte* encode_uvarint(std::byte* out, uint64_t v) {
  while (v >= 0x80) {
    *out++ = static_cast<std::byte>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<std::byte>(v);
  return out;
}
inline std::byte* encode_varint(std::byte* out, int64_t v) { return encode_uvarint(out, zigzag_encode(v)); }

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}

  template <typename T>
  void put_be(T value) {
    size_t at = out_.size();
    out_.resize(at + sizeof(T));
    store_be<T>(out_.data() + at, value);
  }
  // Encoded on the stack and appended at once: a push_back per byte reloads the
  // vector's end after every std::byte store (which may alias it).
  void put_uvarint(uint64_t v) {
    std::byte buf[kMaxVarintSize];
    out_.insert(out_.end(), buf, encode_uvarint(buf, v));
  }
  void put_varint(int64_t v) { put_uvarint(zigzag_encode(v)); }
  void put_bytes(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
  size_t size() const { return out_.size(); }

 private:
  Bytes& out_;
};

class ByteReader {
 public:
  explicit ByteReader(ByteSpan data) : data_(data) {}

  template <typename T>
  std::optional<T> get_be() {
    if (remaining() < sizeof(T)) return std::nullopt;
    T v = load_be<T>(data_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }
  // At most 10 bytes; a longer or truncated varint fails.
  std::optional<uint64_t> get_uvarint() {
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= data_.size()) return std::nullopt;
      auto b = static_cast<uint8_t>(data_[pos_++]);
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return result;
    }
    return std::nullopt;
  }
  std::optional<int64_t> get_varint() {
    auto v = get_uvarint();
    if (!v) return std::nullopt;
    return zigzag_decode(*v);
  }
  // A varint that must fit in int32 (Kafka's "varint" as opposed to "varlong").
  std::optional<int32_t> get_varint32() {
    auto v = get_varint();
    if (!v || *v < INT32_MIN || *v > INT32_MAX) return std::nullopt;
    return static_cast<int32_t>(*v);
  }
  std::optional<ByteSpan> get_bytes(size_t n) {
    if (remaining() < n) return std::nullopt;
    ByteSpan out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }

 private:
  ByteSpan data_;
  size_t pos_ = 0;
};

}  // namespace sluice
