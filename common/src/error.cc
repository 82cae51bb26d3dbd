#include "sluice/common/error.h"

namespace sluice {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::corrupt_data: return "corrupt_data";
    case Errc::crc_mismatch: return "crc_mismatch";
    case Errc::wrong_magic: return "wrong_magic";
    case Errc::truncated: return "truncated";
    case Errc::record_count_mismatch: return "record_count_mismatch";
    case Errc::offset_delta_not_monotonic: return "offset_delta_not_monotonic";
    case Errc::batch_too_large: return "batch_too_large";
    case Errc::compression_error: return "compression_error";
    case Errc::unsupported: return "unsupported";
    case Errc::offset_out_of_range: return "offset_out_of_range";
    case Errc::not_batch_boundary: return "not_batch_boundary";
    case Errc::io_error: return "io_error";
    case Errc::no_space: return "no_space";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::closed: return "closed";
    case Errc::out_of_order_sequence: return "out_of_order_sequence";
    case Errc::producer_fenced: return "producer_fenced";
    case Errc::unsupported_compression: return "unsupported_compression";
    case Errc::invalid_record: return "invalid_record";
    case Errc::unknown_topic_or_partition: return "unknown_topic_or_partition";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out(errc_name(code));
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

}  // namespace sluice
