// Sequence arithmetic of idempotent producers, shared by the producer (which
// numbers its batches) and the partition log (ProducerStateTable, which checks
// them). Sequences are int32 and wrap from INT32_MAX to 0, as Kafka's.
// Thread-safety: pure functions and constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace sluice::storage {

// How many recent batches a partition log remembers per producer, and so how many
// a producer may have in flight per partition for a retried one to be recognised
// as a duplicate (see producer_state.h for why it is above Kafka's 5).
inline constexpr size_t kProducerBatchesRemembered = 64;

// The sequence of a batch's last record: base + last offset delta, wrapping past INT32_MAX to 0.
// REQUIRES: base_sequence >= 0, last_offset_delta >= 0.
constexpr int32_t last_sequence_of(int32_t base_sequence, int32_t last_offset_delta) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  if (base_sequence > kMax - last_offset_delta) return last_offset_delta - (kMax - base_sequence) - 1;
  return base_sequence + last_offset_delta;
}

// The sequence after `last`.
constexpr int32_t next_sequence(int32_t last) { return last == std::numeric_limits<int32_t>::max() ? 0 : last + 1; }

// The sequence that follows a batch of `record_count` (>= 1) records starting at `base_sequence`.
constexpr int32_t sequence_after(int32_t base_sequence, int32_t record_count) {
  return next_sequence(last_sequence_of(base_sequence, record_count - 1));
}

}  // namespace sluice::storage
