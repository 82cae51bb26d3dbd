// libFuzzer target for the consumer's side of a fetch: the record bytes a broker
// sent for one partition, split into whole batches and decoded into
// ConsumerRecords (consumer/src/batch_decoder). A broken or hostile broker must
// get errors, never a crash, a read outside the response, or a record below the
// fetch offset.
//
// Input: 8 bytes of fetch offset, then the record bytes. Each input is decoded
// with and without CRC checks.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "sluice/common/bytes.h"

#include "batch_decoder.h"

namespace {

using namespace sluice;
using namespace sluice::consumer;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Reads every byte a record points at, so ASan sees any view outside its storage.
uint64_t touch(const ConsumerRecord& r) {
  uint64_t sum = static_cast<uint64_t>(r.offset);
  auto add = [&](std::string_view b) {
    for (char c : b) sum += static_cast<uint8_t>(c);
  };
  if (r.key) add(*r.key);
  if (r.value) add(*r.value);
  for (const auto& h : r.headers) {
    add(h.key);
    if (h.value) add(*h.value);
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  int64_t fetch_offset = 0;
  std::memcpy(&fetch_offset, data, sizeof(fetch_offset));
  if (fetch_offset < 0) fetch_offset = -(fetch_offset + 1);
  // The bytes live in their own allocation, owned only by the records, as a
  // fetch response does.
  auto owner = std::make_shared<const Bytes>(reinterpret_cast<const std::byte*>(data + 8),
                                             reinterpret_cast<const std::byte*>(data + size));
  const TopicPartition tp{"fuzz", 0};
  int64_t by_headers = next_offset_after(*owner, fetch_offset);
  check(by_headers >= fetch_offset);
  volatile uint64_t sink = 0;
  for (CheckCrcs check_crcs : {CheckCrcs::yes, CheckCrcs::no}) {
    auto decoded = decode_batches(tp, *owner, fetch_offset, check_crcs, owner);
    if (!decoded) continue;
    check(decoded->next_offset >= fetch_offset);
    // Decoding stops at the first bad batch; the header walk does not look inside.
    check(decoded->next_offset <= by_headers);
    for (const ConsumerRecord& r : decoded->records) {
      check(r.offset >= fetch_offset);
      check(r.offset < decoded->next_offset);
      check(r.storage != nullptr);
      sink = sink + touch(r);
    }
  }
  return 0;
}
