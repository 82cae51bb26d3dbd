// The storage engine's error codes: batches that fail validation, reads and
// writes the log refuses, and producer-state checks. They live with the batch
// codec (sluice_batch) because the codec raises most of them and the client,
// which links only the codec, must recognise them.
// Thread-safety: plain values; the category is an immutable singleton.
#pragma once

#include <string_view>
#include <system_error>

#include "sluice/common/error.h"

namespace sluice::storage {

enum class StorageErrc {
  crc_mismatch = 1,  // a batch's stored CRC-32C differs from the computed one
  wrong_magic,       // a record batch whose magic byte is not 2
  record_count_mismatch,
  offset_delta_not_monotonic,
  batch_too_large,
  compression_error,
  unsupported_compression,  // a batch compressed with a codec other than none and zstd
  invalid_record,           // a well-formed batch that a client may not write
  offset_out_of_range,
  not_batch_boundary,     // an offset that does not start a batch where one is required
  out_of_order_sequence,  // an idempotent producer's batch that would leave a gap in its sequence
  producer_fenced,        // a batch from an older epoch of a producer id
};

}  // namespace sluice::storage

template <>
struct std::is_error_code_enum<sluice::storage::StorageErrc> : std::true_type {};

namespace sluice::storage {

std::string_view storage_errc_name(StorageErrc code);
const std::error_category& storage_category();
inline std::error_code make_error_code(StorageErrc code) { return {static_cast<int>(code), storage_category()}; }

}  // namespace sluice::storage
