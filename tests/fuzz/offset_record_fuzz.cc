// libFuzzer target for the decoder of __consumer_offsets records (broker/src/group/
// offset_record.h, storage/FORMAT.md): any key and value bytes must decode to an
// error or to a record, never crash or hit undefined behaviour. A decoded record
// must encode to bytes that decode to the same record.
//
// Input: record_input.h.

#include "group/offset_record.h"
#include "record_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  using namespace sluice::broker::group;
  using sluice::fuzz::check;
  const auto input = fuzz::split_record_input(data, size);
  if (!input) return 0;
  auto record = decode_offset_record(input->key, input->value);
  if (!record) return 0;
  Bytes k = encode_offset_key(record->key);
  std::optional<Bytes> v;
  if (record->value) v = encode_offset_value(*record->value);
  auto again = decode_offset_record(ByteSpan(k), fuzz::span_of(v));
  check(again.has_value());
  check(again->key == record->key);
  check(again->value.has_value() == record->value.has_value());
  if (record->value) {
    check(again->value->offset == record->value->offset);
    check(again->value->metadata == record->value->metadata);
    check(again->value->commit_timestamp_ms == record->value->commit_timestamp_ms);
  }
  return 0;
}
