#include "sluice/storage/producer_state.h"

#include <limits>
#include <string>

namespace sluice::storage {

int32_t last_sequence_of(int32_t base_sequence, int32_t last_offset_delta) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  if (base_sequence > kMax - last_offset_delta) return last_offset_delta - (kMax - base_sequence) - 1;
  return base_sequence + last_offset_delta;
}

namespace {

int32_t next_sequence(int32_t last) { return last == std::numeric_limits<int32_t>::max() ? 0 : last + 1; }

}  // namespace

Result<std::optional<ProducerBatchInfo>> ProducerStateTable::check(const BatchHeader& header) const {
  if (header.producer_id < 0) return std::nullopt;
  auto it = producers_.find(header.producer_id);
  if (it == producers_.end()) return std::nullopt;
  const Entry& entry = it->second;
  const std::string who = "producer " + std::to_string(header.producer_id) + " epoch " +
                          std::to_string(header.producer_epoch);
  if (header.producer_epoch < entry.epoch) {
    return make_error(Errc::producer_fenced, who + " is older than the current epoch " + std::to_string(entry.epoch));
  }
  if (header.producer_epoch > entry.epoch) {
    if (header.base_sequence == 0) return std::nullopt;
    return make_error(Errc::out_of_order_sequence,
                      who + " starts a new epoch at sequence " + std::to_string(header.base_sequence) + ", not 0");
  }
  const int32_t last = last_sequence_of(header.base_sequence, header.last_offset_delta);
  for (size_t i = 0; i < entry.count; ++i) {
    const ProducerBatchInfo& b = entry.recent[i];
    if (b.first_sequence == header.base_sequence && b.last_sequence == last) return b;
  }
  const int32_t expected = next_sequence(entry.newest().last_sequence);
  if (header.base_sequence != expected) {
    return make_error(Errc::out_of_order_sequence, who + ": batch at sequence " +
                                                       std::to_string(header.base_sequence) + ", expected " +
                                                       std::to_string(expected));
  }
  return std::nullopt;
}

void ProducerStateTable::record(const BatchHeader& header) {
  if (header.producer_id < 0 || header.is_control()) return;
  Entry& entry = producers_[header.producer_id];
  if (entry.count > 0 && header.producer_epoch != entry.epoch) {
    entry.count = 0;
    entry.next = 0;
  }
  entry.epoch = header.producer_epoch;
  entry.recent[entry.next] = ProducerBatchInfo{header.base_sequence,
                                               last_sequence_of(header.base_sequence, header.last_offset_delta),
                                               header.base_offset, header.last_offset(), header.max_timestamp};
  entry.next = (entry.next + 1) % kRecentBatches;
  if (entry.count < kRecentBatches) ++entry.count;
}

}  // namespace sluice::storage
