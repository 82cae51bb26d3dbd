#include "sluice/storage/storage_errc.h"

namespace sluice::storage {

std::string_view storage_errc_name(StorageErrc code) {
  switch (code) {
    case StorageErrc::crc_mismatch: return "crc_mismatch";
    case StorageErrc::wrong_magic: return "wrong_magic";
    case StorageErrc::record_count_mismatch: return "record_count_mismatch";
    case StorageErrc::offset_delta_not_monotonic: return "offset_delta_not_monotonic";
    case StorageErrc::batch_too_large: return "batch_too_large";
    case StorageErrc::compression_error: return "compression_error";
    case StorageErrc::unsupported_compression: return "unsupported_compression";
    case StorageErrc::invalid_record: return "invalid_record";
    case StorageErrc::offset_out_of_range: return "offset_out_of_range";
    case StorageErrc::not_batch_boundary: return "not_batch_boundary";
    case StorageErrc::out_of_order_sequence: return "out_of_order_sequence";
    case StorageErrc::producer_fenced: return "producer_fenced";
  }
  return "unknown";
}

const std::error_category& storage_category() {
  static const NamedErrorCategory kCategory(
      "storage", [](int value) { return storage_errc_name(static_cast<StorageErrc>(value)); });
  return kCategory;
}

}  // namespace sluice::storage
