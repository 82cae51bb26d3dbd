// Errors are values on the data path: an error code plus a human-readable message.
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace sluice {

// Internal error codes. Wire codes are a separate enum, mapped at the protocol
// edge in one switch (broker/src/wire_errors.cc); each code means one thing, so
// that it maps to the one wire code that means it. A new kind of failure a client
// must tell apart (an unknown group member) gets its own code, never a reused one.
enum class Errc {
  ok = 0,
  invalid_argument,
  corrupt_data,  // bytes failed a structural or checksum check
  crc_mismatch,  // a batch's stored CRC-32C differs from the computed one
  wrong_magic,   // a record batch whose magic byte is not 2
  truncated,     // a length points past the end of the available bytes
  record_count_mismatch,
  offset_delta_not_monotonic,
  batch_too_large,
  compression_error,
  unsupported,  // a feature the format allows but Sluice does not implement
  offset_out_of_range,
  not_batch_boundary,  // an offset that does not start a batch where one is required
  io_error,
  no_space,   // the file system is full (ENOSPC, EDQUOT): writes fail, reads go on
  not_found,  // a file or directory that does not exist (ENOENT)
  already_exists,
  closed,                      // a log (or other resource) that was closed: its topic deleted, or the broker stopping
  out_of_order_sequence,       // an idempotent producer's batch that would leave a gap in its sequence
  producer_fenced,             // a batch from an older epoch of a producer id
  unsupported_compression,     // a batch compressed with a codec other than none and zstd
  invalid_record,              // a well-formed batch that a client may not write
  unknown_topic_or_partition,  // a topic or partition the broker does not have
};

std::string_view errc_name(Errc code);

struct Error {
  Errc code = Errc::ok;
  std::string message;
  // A module's own code where it is finer than `code`; 0 where the module has
  // none. The client keeps its client::ErrorCode here (client_errors.h): the
  // wire code the broker sent, or the code of a client-side failure.
  int32_t module_code = 0;

  // "crc_mismatch: batch at offset 17: stored 0x... computed 0x..."
  std::string to_string() const;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> make_error(Errc code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace sluice
