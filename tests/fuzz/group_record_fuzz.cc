// libFuzzer target for the decoder of group metadata records of __consumer_offsets
// (broker/src/group/group_record.h, storage/FORMAT.md): any key and value bytes must
// decode to an error or to a record, never crash or hit undefined behaviour. A decoded
// record must encode to bytes that decode to the same record.
//
// Input: flags:uint8 key_size:uint8 key value. Flag bit 0 set: a null value
// (tombstone); bit 1 set: a null key.

#include <cstddef>
#include <cstdint>

#include "group/group_record.h"

namespace {

using namespace sluice;
using namespace sluice::broker::group;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const size_t key_size = std::min<size_t>(data[1], size - 2);
  ByteSpan rest(reinterpret_cast<const std::byte*>(data + 2), size - 2);
  std::optional<ByteSpan> key = rest.subspan(0, key_size);
  std::optional<ByteSpan> value = rest.subspan(key_size);
  if (flags & 1) value.reset();
  if (flags & 2) key.reset();

  auto record = decode_group_record(key, value);
  if (!record) return 0;
  const Bytes k = encode_group_key(record->group_id);
  std::optional<Bytes> v;
  if (record->snapshot) v = encode_group_value(*record->snapshot);
  auto again = decode_group_record(ByteSpan(k), v ? std::optional<ByteSpan>(ByteSpan(*v)) : std::nullopt);
  check(again.has_value());
  check(again->group_id == record->group_id);
  check(again->snapshot == record->snapshot);
  return 0;
}
