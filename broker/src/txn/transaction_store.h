// The transaction coordinator's state (KIP-98): transactional id -> producer id,
// epoch and transaction timeout, kept as Kafka keeps it, as records of the
// internal compacted topic __transaction_state (durability fsync, one record per
// change, the latest per id wins), all of it in memory after load().
//
// InitProducerId with a transactional id: the first call gives the id a new
// producer id at epoch 0; every later call bumps the epoch, which fences the
// previous instance of the producer (its batches at the older epoch are refused as
// PRODUCER_FENCED wherever the new epoch has written); past the last epoch the id
// gets a new producer id at epoch 0, as Kafka does. The new state is durable
// before the call returns, so a restarted broker never hands out an epoch twice.
// (Transactions themselves, AddPartitionsToTxn to EndTxn, build on this.)
//
// Thread-safety: every method is thread-safe; load() and init_producer_id() block
// on storage: REQUIRES they run off the I/O thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "sluice/common/clock.h"
#include "sluice/common/error.h"
#include "sluice/common/strong_int.h"

#include "../internal_log.h"

namespace sluice::broker {

class ProducerIdAllocator;

inline constexpr const char* kTransactionStateTopic = "__transaction_state";
inline constexpr size_t kMaxTransactionalIdLength = 255;

struct TransactionStoreConfig {
  int32_t num_partitions = 50;        // transaction.state.log.num.partitions
  int64_t segment_bytes = 100 << 20;  // transaction.state.log.segment.bytes
  int32_t max_timeout_ms = 900'000;   // transaction.max.timeout.ms
};

struct TransactionMetadata {
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{0};
  int32_t timeout_ms = 0;
  int64_t last_update_ms = 0;
};

struct ProducerIdAndEpoch {
  ProducerId id{-1};
  ProducerEpoch epoch{0};
};

class TransactionStore {
 public:
  // REQUIRES: `topics`, `producer_ids` and `clock` outlive the store.
  TransactionStore(TopicTable& topics, ProducerIdAllocator& producer_ids, sluice::Clock& clock,
                   TransactionStoreConfig config);

  // Reads __transaction_state, if it exists, into memory. A record that does not
  // decode is skipped with a warning naming its partition and offset.
  Status load();

  // invalid_argument for an id of 0 or more than 255 characters;
  // invalid_transaction_timeout for a timeout not in (0, max_timeout_ms].
  Result<ProducerIdAndEpoch> init_producer_id(const std::string& transactional_id, int32_t timeout_ms);

  std::optional<TransactionMetadata> find(const std::string& transactional_id) const;

 private:
  void apply(const std::string& transactional_id, std::optional<TransactionMetadata> metadata);

  ProducerIdAllocator& producer_ids_;
  sluice::Clock& clock_;
  const TransactionStoreConfig config_;
  InternalLog log_;
  mutable std::mutex mu_;
  std::map<std::string, TransactionMetadata> transactions_;  // under mu_
};

}  // namespace sluice::broker
