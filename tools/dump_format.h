// Text formatting for sluice-dump: one line per batch, record or index entry, as
// space-separated key=value fields, so the output reads well and greps well:
//
//   batch position=0 base_offset=0 last_offset=9 count=10 ... crc=ok
//     record offset=0 timestamp=1700000000000 key="user-1" value=0x00ff headers={trace="a1"}
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/common/bytes.h"
#include "sluice/storage/record_batch.h"

namespace sluice::tools {

struct BytesFormat {
  size_t max_bytes = 64;  // longer fields are cut; 0 means no limit (--full)
};

// `"text"` as is (inner quotes are not escaped) when the bytes are printable UTF-8
// without control characters, `0x0a1b...` otherwise, `null` for a null field. A
// field longer than max_bytes shows its first max_bytes bytes, then `...(N bytes)`.
std::string format_bytes(std::optional<ByteSpan> bytes, const BytesFormat& format);

std::string_view compression_name(storage::Compression compression);

// The CRC stored in a batch and the CRC-32C of its bytes.
struct CrcCheck {
  uint32_t stored = 0;
  uint32_t computed = 0;
  bool ok() const { return stored == computed; }
};
// REQUIRES: `batch` holds the whole batch (header.total_size() bytes).
CrcCheck check_crc(ByteSpan batch, const storage::BatchHeader& header);

// "batch position=... base_offset=... ... crc=ok" or "... crc=MISMATCH stored=0x... computed=0x...".
std::string format_batch(uint64_t position, const storage::BatchHeader& header, const CrcCheck& crc);

// Whether a record comes from a control batch (transaction markers) or a data one.
enum class BatchKind : bool { data, control };

// "  record offset=... timestamp=... key=... value=... headers={k=v, ...}"; a record
// of a control batch shows its marker type instead of key and value.
std::string format_record(const storage::Record& record, BatchKind kind, const BytesFormat& format);

}  // namespace sluice::tools
