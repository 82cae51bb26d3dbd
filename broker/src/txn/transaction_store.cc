#include "transaction_store.h"

#include <limits>

#include "sluice/broker/broker_errc.h"
#include "sluice/common/log.h"
#include "sluice/storage/batch_builder.h"

#include "../group/record_bytes.h"
#include "../producer_id_allocator.h"
#include "internal_state.pb.h"

namespace sluice::broker {
namespace {

constexpr uint8_t kTransactionMetadataRecord = 3;

Bytes encode_key(const std::string& transactional_id) {
  state::TransactionMetadataKey key;
  key.set_transactional_id(transactional_id);
  return group::serialize_record_part(kTransactionMetadataRecord, key);
}

Bytes encode_value(const TransactionMetadata& metadata) {
  state::TransactionMetadataValue value;
  value.set_producer_id(metadata.producer_id.value());
  value.set_producer_epoch(metadata.producer_epoch.value());
  value.set_timeout_ms(metadata.timeout_ms);
  value.set_state(state::TXN_EMPTY);
  value.set_last_update_ms(metadata.last_update_ms);
  return group::serialize_record_part(0, value);
}

}  // namespace

TransactionStore::TransactionStore(TopicTable& topics, ProducerIdAllocator& producer_ids, sluice::Clock& clock,
                                   TransactionStoreConfig config)
    : producer_ids_(producer_ids),
      clock_(clock),
      config_(config),
      log_(topics, kTransactionStateTopic, config.num_partitions,
           {{"durability", "fsync"},
            {"retention.ms", "-1"},
            {"cleanup.policy", "compact"},
            {"segment.bytes", std::to_string(config.segment_bytes)}}) {}

Status TransactionStore::load() {
  auto topic = log_.existing();
  if (!topic) return {};
  for (auto& partition : topic->partitions) {
    const auto id = static_cast<int64_t>(partition->id().value());
    auto skipped = [&](int64_t offset, const std::string& why) {
      log::warn("txn", "transaction_record_skipped", {{"partition", id}, {"offset", offset}, {"error", why}});
    };
    auto s = InternalLog::read_all(
        *partition,
        [&](const storage::Record& r) {
          state::TransactionMetadataKey key;
          if (!r.key || r.key->empty() || static_cast<uint8_t>((*r.key)[0]) != kTransactionMetadataRecord ||
              !group::parse_record_part(r.key->subspan(1), key)) {
            skipped(r.offset.value(), "not a transaction metadata key");
            return;
          }
          if (!r.value) {
            apply(key.transactional_id(), std::nullopt);
            return;
          }
          state::TransactionMetadataValue value;
          if (!group::parse_record_part(*r.value, value) || value.producer_id() < 0 || value.producer_epoch() < 0 ||
              value.producer_epoch() > std::numeric_limits<int16_t>::max()) {
            skipped(r.offset.value(), "a transaction metadata value that does not decode");
            return;
          }
          apply(key.transactional_id(), TransactionMetadata{ProducerId(value.producer_id()),
                                                            ProducerEpoch(static_cast<int16_t>(value.producer_epoch())),
                                                            value.timeout_ms(), value.last_update_ms()});
        },
        [&](Offset base, const Error& error) { skipped(base.value(), error.to_string()); });
    if (!s) return s;
  }
  return {};
}

void TransactionStore::apply(const std::string& transactional_id, std::optional<TransactionMetadata> metadata) {
  std::lock_guard lock(mu_);
  if (metadata) {
    transactions_[transactional_id] = *metadata;
  } else {
    transactions_.erase(transactional_id);
  }
}

Result<ProducerIdAndEpoch> TransactionStore::init_producer_id(const std::string& transactional_id, int32_t timeout_ms) {
  if (transactional_id.empty() || transactional_id.size() > kMaxTransactionalIdLength) {
    return make_error(Errc::invalid_argument,
                      "transactional id must be 1-255 characters, not " + std::to_string(transactional_id.size()));
  }
  if (timeout_ms <= 0 || timeout_ms > config_.max_timeout_ms) {
    return make_error(BrokerErrc::invalid_transaction_timeout,
                      "transaction timeout " + std::to_string(timeout_ms) + " ms is not in (0, " +
                          std::to_string(config_.max_timeout_ms) + "] (transaction.max.timeout.ms)");
  }
  const Bytes key = encode_key(transactional_id);
  TransactionMetadata next;
  // Under the id's partition lock: two calls for one id take epochs one after the
  // other, each from the state the previous one wrote.
  auto appended = log_.append(transactional_id, [&]() -> Result<std::optional<Bytes>> {
    std::optional<TransactionMetadata> current = find(transactional_id);
    if (current && current->producer_epoch.value() < std::numeric_limits<int16_t>::max() - 1) {
      next.producer_id = current->producer_id;
      next.producer_epoch = ProducerEpoch(static_cast<int16_t>(current->producer_epoch.value() + 1));
    } else {
      auto id = producer_ids_.allocate();
      if (!id) return tl::unexpected(id.error());
      next.producer_id = *id;
      next.producer_epoch = ProducerEpoch(0);
    }
    next.timeout_ms = timeout_ms;
    next.last_update_ms = clock_.now().value();
    const Bytes value = encode_value(next);
    storage::BatchBuilder builder;
    builder.add(next.last_update_ms, ByteSpan(key), ByteSpan(value));
    auto batch = builder.build();
    if (!batch) return tl::unexpected(batch.error());
    apply(transactional_id, next);  // later calls under this lock see it; durable before we answer
    return std::optional<Bytes>(std::move(*batch));
  });
  if (!appended) return tl::unexpected(appended.error());
  log::info("txn", "producer_id_initialized",
            {{"transactional_id", transactional_id},
             {"producer_id", next.producer_id.value()},
             {"producer_epoch", static_cast<int64_t>(next.producer_epoch.value())}});
  return ProducerIdAndEpoch{next.producer_id, next.producer_epoch};
}

std::optional<TransactionMetadata> TransactionStore::find(const std::string& transactional_id) const {
  std::lock_guard lock(mu_);
  auto it = transactions_.find(transactional_id);
  if (it == transactions_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sluice::broker
