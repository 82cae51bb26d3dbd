// The input layout of the __consumer_offsets record fuzzers: flags:uint8 key_size:uint8
// key value. Flag bit 0 set: a null value (tombstone); bit 1 set: a null key.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "sluice/common/bytes.h"

namespace sluice::fuzz {

// Calls __builtin_trap() (a finding) unless `ok`.
inline void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct RecordInput {
  std::optional<ByteSpan> key;
  std::optional<ByteSpan> value;
};

// nullopt for an input too short to hold the two header bytes.
inline std::optional<RecordInput> split_record_input(const uint8_t* data, size_t size) {
  if (size < 2) return std::nullopt;
  const uint8_t flags = data[0];
  const size_t key_size = std::min<size_t>(data[1], size - 2);
  ByteSpan rest(reinterpret_cast<const std::byte*>(data + 2), size - 2);
  RecordInput input{rest.subspan(0, key_size), rest.subspan(key_size)};
  if (flags & 1) input.value.reset();
  if (flags & 2) input.key.reset();
  return input;
}

// `bytes` as an optional span: nullopt stays nullopt.
inline std::optional<ByteSpan> span_of(const std::optional<Bytes>& bytes) {
  return bytes ? std::optional<ByteSpan>(ByteSpan(*bytes)) : std::nullopt;
}

}  // namespace sluice::fuzz
