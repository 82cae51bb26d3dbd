// libFuzzer target for the producer-state snapshot decoder (the `producer-state`
// file a clean close writes, storage/FORMAT.md): any bytes must decode to an error
// or to a state that works, never crash or hit undefined behaviour.
//
// Each input is tried twice: as it is, and with its trailing CRC recomputed, so
// that mutations reach the parser instead of stopping at the checksum. A decoded
// state must encode to bytes that decode to the same log end and the same answers.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sluice/common/crc32c.h"
#include "sluice/storage/producer_state.h"

namespace {

using namespace sluice;
using namespace sluice::storage;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The table's answers for a few batches of producers 0..3, as a comparable list.
std::vector<int64_t> answers(const ProducerStateTable& table) {
  std::vector<int64_t> out;
  for (int64_t id = 0; id < 4; ++id) {
    for (int32_t sequence : {0, 1, 5, 64}) {
      BatchHeader h;
      h.producer_id = id;
      h.producer_epoch = 0;
      h.base_sequence = sequence;
      h.last_offset_delta = 4;
      auto r = table.check(h);
      if (!r) {
        out.push_back(-1 - static_cast<int64_t>(r.error().code.value()));
      } else {
        out.push_back(r->has_value() ? (*r)->first_offset.value() : -100);
      }
    }
  }
  return out;
}

void run(ByteSpan bytes) {
  ProducerStateTable table;
  auto log_end = table.decode(bytes);
  if (!log_end) return;
  ProducerStateTable again;
  auto round_trip = again.decode(table.encode(*log_end));
  check(round_trip.has_value() && *round_trip == *log_end);
  check(again.producer_count() == table.producer_count());
  check(answers(again) == answers(table));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(reinterpret_cast<const std::byte*>(data), size);
  run(input);
  if (size >= 4) {
    std::vector<std::byte> fixed(input.begin(), input.end());
    store_be<uint32_t>(fixed.data() + size - 4, crc32c(ByteSpan(fixed).first(size - 4)));
    run(fixed);
  }
  return 0;
}
