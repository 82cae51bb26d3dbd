#include "dump_format.h"

#include <algorithm>
#include <cstdio>

#include "sluice/common/crc32c.h"

namespace sluice::tools {
namespace bf = storage::batch_format;

namespace {

// Length of the UTF-8 character at the start of `b`, or 0 when it is not valid
// UTF-8 or is a control character (C0, DEL, C1): those would garble a line.
size_t printable_char_length(ByteSpan b) {
  auto c = static_cast<unsigned char>(b[0]);
  if (c < 0x80) return c >= 0x20 && c < 0x7f ? 1 : 0;
  size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || n > b.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(b[i]) & 0xc0) != 0x80) return 0;
  }
  if (c == 0xc2 && static_cast<unsigned char>(b[1]) < 0xa0) return 0;  // C1 controls
  return n;  // overlong 3/4-byte forms and surrogates pass; harmless for display
}

bool is_printable_text(ByteSpan b) {
  for (size_t i = 0; i < b.size();) {
    size_t n = printable_char_length(b.subspan(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace

std::string format_bytes(std::optional<ByteSpan> bytes, const BytesFormat& format) {
  if (!bytes) return "null";
  size_t shown = format.max_bytes == 0 ? bytes->size() : std::min(bytes->size(), format.max_bytes);
  std::string out;
  if (is_printable_text(*bytes)) {
    // Cut at a character boundary.
    while (shown < bytes->size() && (static_cast<unsigned char>((*bytes)[shown]) & 0xc0) == 0x80) --shown;
    out = "\"" + std::string(as_string_view(bytes->first(shown))) + "\"";
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    out = "0x";
    for (std::byte b : bytes->first(shown)) {
      auto c = static_cast<unsigned char>(b);
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  if (shown < bytes->size()) out += "...(" + std::to_string(bytes->size()) + " bytes)";
  return out;
}

std::string_view compression_name(storage::Compression compression) {
  switch (compression) {
    case storage::Compression::none: return "none";
    case storage::Compression::gzip: return "gzip";
    case storage::Compression::snappy: return "snappy";
    case storage::Compression::lz4: return "lz4";
    case storage::Compression::zstd: return "zstd";
  }
  return "unknown";
}

CrcCheck check_crc(ByteSpan batch, const storage::BatchHeader& header) {
  ByteSpan covered = batch.subspan(bf::kAttributes, header.total_size() - bf::kAttributes);
  return CrcCheck{header.crc, crc32c(covered)};
}

std::string format_batch(uint64_t position, const storage::BatchHeader& h, const CrcCheck& crc) {
  auto compression = compression_name(h.compression());
  std::string codec = compression == "unknown" ? "unknown(" + std::to_string(h.attributes & bf::kCompressionMask) + ")"
                                               : std::string(compression);
  char crc_text[64];
  if (crc.ok()) {
    std::snprintf(crc_text, sizeof(crc_text), "ok");
  } else {
    std::snprintf(crc_text, sizeof(crc_text), "MISMATCH stored=0x%08x computed=0x%08x", crc.stored, crc.computed);
  }
  return "batch position=" + std::to_string(position) + " base_offset=" + std::to_string(h.base_offset.value()) +
         " last_offset=" + std::to_string(h.last_offset().value()) + " count=" + std::to_string(h.record_count) +
         " first_timestamp=" + std::to_string(h.base_timestamp) + " max_timestamp=" + std::to_string(h.max_timestamp) +
         (h.log_append_time() ? " timestamp_type=log_append" : "") + " size=" + std::to_string(h.total_size()) +
         " compression=" + codec + " transactional=" + (h.is_transactional() ? "true" : "false") +
         " control=" + (h.is_control() ? "true" : "false") + " producer_id=" + std::to_string(h.producer_id) +
         " producer_epoch=" + std::to_string(h.producer_epoch) + " base_sequence=" + std::to_string(h.base_sequence) +
         " leader_epoch=" + std::to_string(h.partition_leader_epoch) + " crc=" + crc_text;
}

std::string format_record(const storage::Record& record, BatchKind kind, const BytesFormat& format) {
  std::string out =
      "  record offset=" + std::to_string(record.offset.value()) + " timestamp=" + std::to_string(record.timestamp);
  if (kind == BatchKind::control) {
    auto marker = storage::parse_control_record(record);
    if (marker) {
      out += std::string(" marker=") + (marker->type == storage::ControlType::commit ? "COMMIT" : "ABORT") +
             " coordinator_epoch=" + std::to_string(marker->coordinator_epoch);
      return out;
    }
    out += " marker=UNREADABLE";  // fall through to the raw key and value
  }
  out += " key=" + format_bytes(record.key, format) + " value=" + format_bytes(record.value, format);
  if (!record.headers.empty()) {
    out += " headers={";
    for (size_t i = 0; i < record.headers.size(); ++i) {
      if (i > 0) out += ", ";
      out +=
          format_bytes(as_bytes(record.headers[i].key), format) + "=" + format_bytes(record.headers[i].value, format);
    }
    out += "}";
  }
  return out;
}

}  // namespace sluice::tools
