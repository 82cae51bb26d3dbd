// libFuzzer target for the decoder of group metadata records of __consumer_offsets
// (broker/src/group/group_record.h, storage/FORMAT.md): any key and value bytes must
// decode to an error or to a record, never crash or hit undefined behaviour. A decoded
// record must encode to bytes that decode to the same record. Input: record_input.h.

#include "group/group_record.h"
#include "record_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::broker::group;
  using sluice::fuzz::check;
  const auto input = sluice::fuzz::split_record_input(data, size);
  if (!input) return 0;
  auto record = decode_group_record(input->key, input->value);
  if (!record) return 0;
  const sluice::Bytes key = encode_group_key(record->group_id);
  std::optional<sluice::Bytes> value;
  if (record->snapshot) value = encode_group_value(*record->snapshot);
  auto again = decode_group_record(sluice::ByteSpan(key), sluice::fuzz::span_of(value));
  check(again.has_value());
  check(again->group_id == record->group_id);
  check(again->snapshot == record->snapshot);
  return 0;
}
