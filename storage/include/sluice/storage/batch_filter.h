// Compaction's rewrite of one stored batch (Kafka's MemoryRecords.filterTo for v2
// batches): keep the records a predicate accepts, drop the rest.
// The rewritten batch keeps its base offset, last offset delta, base and max
// timestamps, attributes, producer id, epoch and base sequence: it spans the same
// offsets, the producer state it carries survives, and a kept record's bytes are
// copied unchanged (their offset and timestamp deltas are from those same bases). Only
// the length, the record count and the CRC change; a zstd batch is compressed again.
// A batch that keeps no record becomes a header with no records (`emptied`): the
// caller keeps it when the batch's producer state must survive (Kafka keeps the last
// batch of an idempotent producer) and drops it otherwise.
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <functional>

#include "sluice/common/bytes.h"
#include "sluice/common/error.h"
#include "sluice/storage/record_batch.h"

namespace sluice::storage {

struct FilteredBatch {
  enum class Outcome { unchanged, rewritten, emptied };
  Outcome outcome = Outcome::unchanged;
  Bytes bytes;          // rewritten and emptied: the new batch; unchanged: empty (use the input)
  int32_t kept = 0;     // records kept
  int32_t dropped = 0;  // records dropped
};

struct FilterOptions {
  size_t max_uncompressed_bytes = 64u << 20;
  int zstd_level = 1;  // for a zstd batch rewritten
  // Holds a compressed batch's records while they are filtered (see ValidationOptions::scratch).
  Bytes* scratch = nullptr;
};

// REQUIRES: `batch` passed validate_batch_crc. Errors: records that do not decode
// (corrupt_data and the like), a codec other than none and zstd, compression failure.
Result<FilteredBatch> filter_batch(ByteSpan batch, const std::function<bool(const Record&)>& keep,
                                   const FilterOptions& options = {});

}  // namespace sluice::storage
