#include "sluice/storage/producer_state.h"

#include <limits>
#include <string>

#include "sluice/common/crc32c.h"

namespace sluice::storage {

Result<std::optional<ProducerBatchInfo>> ProducerStateTable::check(const BatchHeader& header) const {
  if (header.producer_id < 0) return std::nullopt;
  auto it = producers_.find(ProducerId(header.producer_id));
  if (it == producers_.end()) return std::nullopt;
  const Entry& entry = it->second;
  const ProducerEpoch epoch(header.producer_epoch);
  const std::string who =
      "producer " + std::to_string(header.producer_id) + " epoch " + std::to_string(header.producer_epoch);
  if (epoch < entry.epoch) {
    return make_error(StorageErrc::producer_fenced,
                      who + " is older than the current epoch " + std::to_string(entry.epoch.value()));
  }
  if (header.is_control()) return std::nullopt;  // a marker has no sequence
  if (epoch > entry.epoch) {
    if (header.base_sequence == 0) return std::nullopt;
    return make_error(StorageErrc::out_of_order_sequence,
                      who + " starts a new epoch at sequence " + std::to_string(header.base_sequence) + ", not 0");
  }
  const int32_t last = last_sequence_of(header.base_sequence, header.last_offset_delta);
  for (const ProducerBatchInfo& b : entry.recent) {
    if (b.first_sequence == header.base_sequence && b.last_sequence == last) return b;
  }
  const int32_t expected = next_sequence(entry.newest().last_sequence);
  if (header.base_sequence != expected) {
    return make_error(
        StorageErrc::out_of_order_sequence,
        who + ": batch at sequence " + std::to_string(header.base_sequence) + ", expected " + std::to_string(expected));
  }
  return std::nullopt;
}

void ProducerStateTable::record(const BatchHeader& header, int64_t now_ms) {
  if (header.producer_id < 0) return;
  const ProducerId id(header.producer_id);
  if (header.is_control()) {
    // A marker closes the producer's open transaction, if it has one.
    auto it = producers_.find(id);
    if (it == producers_.end()) return;
    it->second.last_append_ms = std::max(it->second.last_append_ms, now_ms);
    if (it->second.transaction_start) {
      open_transactions_.erase(*it->second.transaction_start);
      it->second.transaction_start.reset();
    }
    return;
  }
  Entry& entry = producers_[id];
  if (header.is_transactional() && !entry.transaction_start) open_transaction(id, entry, header.base_offset);
  const ProducerEpoch epoch(header.producer_epoch);
  entry.last_append_ms = std::max(entry.last_append_ms, now_ms);
  if (!entry.recent.empty() && epoch != entry.epoch) {
    entry.recent.clear();
    entry.oldest = 0;
  }
  entry.epoch = epoch;
  entry.push(ProducerBatchInfo{header.base_sequence, last_sequence_of(header.base_sequence, header.last_offset_delta),
                               header.base_offset, header.last_offset(), header.max_timestamp});
}

size_t ProducerStateTable::expire(int64_t cutoff_ms) {
  return std::erase_if(
      producers_, [&](const auto& p) { return p.second.last_append_ms <= cutoff_ms && !p.second.transaction_start; });
}

void ProducerStateTable::open_transaction(ProducerId id, Entry& entry, Offset first_offset) {
  entry.transaction_start = first_offset;
  open_transactions_.emplace(first_offset, id);
}

std::optional<Offset> ProducerStateTable::first_unstable_offset() const {
  if (open_transactions_.empty()) return std::nullopt;
  return open_transactions_.begin()->first;
}

std::vector<ProducerStateTable::OpenTransaction> ProducerStateTable::open_transactions() const {
  std::vector<OpenTransaction> out;
  out.reserve(open_transactions_.size());
  for (const auto& [first, id] : open_transactions_) out.push_back({id, first});
  return out;
}

namespace {

constexpr uint32_t kSnapshotMagic = 0x534c5053;  // "SLPS"
// 1: producers and their recent batches; 2: also each open transaction's first
// offset (-1: none). Version 1 files still load (no transaction open).
constexpr int16_t kSnapshotVersion = 2;

}  // namespace

Bytes ProducerStateTable::encode(Offset log_end) const {
  Bytes out;
  ByteWriter w(out);
  w.put_be<uint32_t>(kSnapshotMagic);
  w.put_be<int16_t>(kSnapshotVersion);
  w.put_be<int64_t>(log_end.value());
  w.put_be<int32_t>(static_cast<int32_t>(producers_.size()));
  for (const auto& [id, entry] : producers_) {
    w.put_be<int64_t>(id.value());
    w.put_be<int16_t>(entry.epoch.value());
    w.put_be<int64_t>(entry.last_append_ms);
    w.put_be<int64_t>(entry.transaction_start ? entry.transaction_start->value() : -1);
    w.put_be<int8_t>(static_cast<int8_t>(entry.recent.size()));
    // Oldest first, so decoding replays them in order.
    for (size_t i = 0; i < entry.recent.size(); ++i) {
      const ProducerBatchInfo& b = entry.at(i);
      w.put_be<int32_t>(b.first_sequence);
      w.put_be<int32_t>(b.last_sequence);
      w.put_be<int64_t>(b.first_offset.value());
      w.put_be<int64_t>(b.last_offset.value());
      w.put_be<int64_t>(b.max_timestamp);
    }
  }
  w.put_be<uint32_t>(crc32c(out));
  return out;
}

Result<Offset> ProducerStateTable::decode(ByteSpan bytes) {
  auto damaged = [](const std::string& why) {
    return make_error(Errc::corrupt_data, "producer state snapshot: " + why);
  };
  if (bytes.size() < 4) return damaged("shorter than its checksum");
  ByteSpan body = bytes.first(bytes.size() - 4);
  if (load_be<uint32_t>(bytes.data() + body.size()) != crc32c(body)) return damaged("checksum mismatch");
  ByteReader r(body);
  auto magic = r.get_be<uint32_t>();
  auto version = r.get_be<int16_t>();
  auto log_end = r.get_be<int64_t>();
  auto count = r.get_be<int32_t>();
  if (!magic || *magic != kSnapshotMagic) return damaged("not a snapshot file");
  if (!version || *version < 1 || *version > kSnapshotVersion) return damaged("unknown version");
  if (!log_end || !count || *count < 0) return damaged("truncated header");
  std::unordered_map<ProducerId, Entry> producers;
  std::map<Offset, ProducerId> open;
  for (int32_t p = 0; p < *count; ++p) {
    auto id = r.get_be<int64_t>();
    auto epoch = r.get_be<int16_t>();
    auto last_append = r.get_be<int64_t>();
    std::optional<int64_t> transaction_start = int64_t{-1};
    if (*version >= 2) transaction_start = r.get_be<int64_t>();
    auto batches = r.get_be<int8_t>();
    if (!id || !epoch || !last_append || !transaction_start || !batches || *batches < 1 ||
        static_cast<size_t>(*batches) > kRecentBatches) {
      return damaged("truncated or bad producer entry");
    }
    Entry& entry = producers[ProducerId(*id)];
    entry.epoch = ProducerEpoch(*epoch);
    entry.last_append_ms = *last_append;
    if (*transaction_start >= 0) {
      if (!open.emplace(Offset(*transaction_start), ProducerId(*id)).second) {
        return damaged("two open transactions start at one offset");
      }
      entry.transaction_start = Offset(*transaction_start);
    }
    for (int8_t i = 0; i < *batches; ++i) {
      auto first_seq = r.get_be<int32_t>();
      auto last_seq = r.get_be<int32_t>();
      auto first_offset = r.get_be<int64_t>();
      auto last_offset = r.get_be<int64_t>();
      auto max_timestamp = r.get_be<int64_t>();
      if (!max_timestamp) return damaged("truncated batch entry");
      entry.push(ProducerBatchInfo{*first_seq, *last_seq, Offset(*first_offset), Offset(*last_offset), *max_timestamp});
    }
  }
  if (r.remaining() != 0) return damaged("trailing bytes");
  producers_ = std::move(producers);
  open_transactions_ = std::move(open);
  return Offset(*log_end);
}

std::unordered_map<int64_t, int64_t> ProducerStateTable::newest_batches() const {
  std::unordered_map<int64_t, int64_t> out;
  out.reserve(producers_.size());
  for (const auto& [id, entry] : producers_) out.emplace(id.value(), entry.newest().last_offset.value());
  return out;
}

}  // namespace sluice::storage
